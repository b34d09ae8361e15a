package server

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/onemap/onemap/mapstyle"
)

func (s *Server) routeStyle(e *echo.Echo, gz echo.MiddlewareFunc) {
	e.GET("/style.json", s.handleStyle, gz)
	e.GET("/fonts/:fontstack/:range", s.handleGlyphs)
	for _, name := range []string{"sprite", "sprite@2x"} {
		e.GET("/"+name+".json", s.handleSprite)
		e.GET("/"+name+".png", s.handleSprite)
	}
}

// handleStyle answers /style.json[?lang=en][&theme=dark]: the MapLibre
// style of the one map, its labels in a language, light or dark.
func (s *Server) handleStyle(c echo.Context) error {
	lang := c.QueryParam("lang")
	switch lang {
	case "":
		lang = "zh"
	case "zh", "en":
	default:
		return errorf(CodeBadRequest, "lang must be zh or en")
	}
	theme := c.QueryParam("theme")
	switch theme {
	case "":
		theme = mapstyle.ThemeLight
	case mapstyle.ThemeLight, mapstyle.ThemeDark:
	default:
		return errorf(CodeBadRequest, "theme must be light or dark")
	}
	m := s.store.Meta()
	b, err := mapstyle.Style(s.cat, mapstyle.StyleOptions{
		BaseURL: s.baseURL(c), Center: m.Center, Zoom: m.Zoom, Bounds: m.Bounds, Lang: lang, Theme: theme,
	})
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.JSONBlob(http.StatusOK, b)
}

// handleGlyphs answers /fonts/{fontstack}/{start}-{end}.pbf.
func (s *Server) handleGlyphs(c echo.Context) error {
	r, ok := strings.CutSuffix(c.Param("range"), ".pbf")
	startS, endS, ok2 := strings.Cut(r, "-")
	start, err1 := strconv.Atoi(startS)
	end, err2 := strconv.Atoi(endS)
	if !ok || !ok2 || err1 != nil || err2 != nil || end != start+255 {
		return errorf(CodeBadPath, "glyph ranges are /fonts/{fontstack}/{start}-{start+255}.pbf")
	}
	b, err := mapstyle.Glyphs(c.Param("fontstack"), start)
	if errors.Is(err, mapstyle.ErrUnknownFont) {
		return errorf(CodeUnknownFont, err.Error())
	}
	if err != nil {
		return errorf(CodeBadPath, err.Error())
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=86400")
	return c.Blob(http.StatusOK, "application/x-protobuf", b)
}

// handleSprite answers /sprite.json, /sprite.png and their @2x forms.
func (s *Server) handleSprite(c echo.Context) error {
	name := strings.TrimPrefix(c.Path(), "/")
	base, ext, _ := strings.Cut(name, ".")
	ratio := 1
	if base == "sprite@2x" {
		ratio = 2
	}
	index, png, err := mapstyle.Sprite(ratio)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	if ext == "json" {
		return c.JSONBlob(http.StatusOK, index)
	}
	return c.Blob(http.StatusOK, "image/png", png)
}
