package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/onemap/onemap/tiles"
)

// handleTile answers /tiles/{layers}/{z}/{x}/{y}.mvt with one layer or a
// composite of several.
func (s *Server) handleTile(c echo.Context) error {
	y := c.Param("y")
	if !strings.HasSuffix(y, ".mvt") {
		return errorf(CodeBadPath, "a tile's path ends in .mvt")
	}
	t, err := tiles.ParseTile(c.Param("z"), c.Param("x"), y)
	if err != nil {
		return err
	}
	names, err := parseLayers(s.cat, c.Param("layers"))
	if err != nil {
		return err
	}
	// The cache key holds each layer's version, so a changed layer misses.
	var key strings.Builder
	for i, n := range names {
		l, err := s.cat.Layer(n)
		if err != nil {
			return err
		}
		if i > 0 {
			key.WriteByte(',')
		}
		key.WriteString(l.ID)
		key.WriteByte('@')
		key.WriteString(strconv.FormatUint(s.enc.Version(l.ID), 10))
	}
	key.WriteByte('/')
	key.WriteString(t.String())

	entry, ok := s.cache.Get(key.String())
	c.Set(keyTileCached, ok)
	if !ok {
		// Many clients ask for the same new tile at once (a big screen
		// and its neighbours after a restart): encode it once.
		v, err, _ := s.encoding.Do(key.String(), func() (any, error) {
			// Not the first asker's context: its leaving must not fail
			// the others waiting for the same tile.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), s.opt.RequestTimeout)
			defer cancel()
			data, err := s.enc.Encode(ctx, names, t)
			if err != nil {
				return nil, err
			}
			e, err := tiles.NewEntry(data)
			if err != nil {
				return nil, err
			}
			s.cache.Put(key.String(), e)
			return e, nil
		})
		if err != nil {
			return err
		}
		entry = v.(*tiles.Entry)
	}

	h := c.Response().Header()
	h.Set("Cache-Control", "public, max-age=60")
	h.Set("ETag", entry.ETag)
	h.Add("Vary", "Accept-Encoding")
	if match := c.Request().Header.Get("If-None-Match"); match != "" && strings.Contains(match, entry.ETag) {
		return c.NoContent(http.StatusNotModified)
	}
	if entry.Data == nil {
		return c.NoContent(http.StatusNoContent)
	}
	const mvtType = "application/vnd.mapbox-vector-tile"
	if strings.Contains(c.Request().Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		return c.Blob(http.StatusOK, mvtType, entry.Gzip())
	}
	return c.Blob(http.StatusOK, mvtType, entry.Data)
}

// handleTileJSON answers /tiles/{layer}.json.
func (s *Server) handleTileJSON(c echo.Context) error {
	name, ok := strings.CutSuffix(c.Param("file"), ".json")
	if !ok {
		return errorf(CodeBadPath, "TileJSON is at /tiles/{layer}.json")
	}
	l, err := s.cat.Layer(name)
	if err != nil {
		return err
	}
	m := s.store.Meta()
	tj := tiles.NewTileJSON(l, s.baseURL(c), strconv.FormatUint(s.enc.Version(l.ID), 10), m.Bounds, m.Center, m.Zoom)
	return c.JSON(http.StatusOK, tj)
}

// catalogLayer is one layer as /catalog lists it.
type catalogLayer struct {
	ID       string `json:"id"`
	Title    any    `json:"title"`
	Group    string `json:"group"`
	Geometry string `json:"geometry"`
	MinZoom  int    `json:"minzoom"`
	MaxZoom  int    `json:"maxzoom"`
	TileJSON string `json:"tilejson"`
	Tiles    string `json:"tiles"`
	Count    int    `json:"count"`
	// CRS is the CRS of the layer's coordinates as the store keeps and
	// serves them; onemap load transforms other CRSs on the way in.
	CRS string `json:"crs"`
	// Bounds is the box of the layer's features, [minLon, minLat, maxLon,
	// maxLat]; absent when the layer has none.
	Bounds *[4]float64    `json:"bounds,omitempty"`
	Fields []catalogField `json:"fields"`
	Style  any            `json:"style"`
}

type catalogField struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Title    any    `json:"title"`
	Required bool   `json:"required"`
	Unit     string `json:"unit,omitempty"`
	// Values are the allowed values of an enumeration, in order;
	// ValueTitles names each in Chinese and English.
	Values      []string `json:"values,omitempty"`
	ValueTitles any      `json:"value_titles,omitempty"`
	Personal    bool     `json:"personal,omitempty"`
	Mask        string   `json:"mask,omitempty"`
}

// handleCatalog answers /catalog: the city, the legend groups and every layer.
func (s *Server) handleCatalog(c echo.Context) error {
	base := s.baseURL(c)
	out := struct {
		City   any            `json:"city"`
		Groups any            `json:"groups"`
		Layers []catalogLayer `json:"layers"`
	}{City: s.store.Meta(), Groups: s.cat.Groups()}
	for _, l := range s.cat.Layers() {
		n, err := s.store.Count(c.Request().Context(), l.ID)
		if err != nil {
			return err
		}
		cl := catalogLayer{
			ID: l.ID, Title: l.Title, Group: l.Group, Geometry: string(l.Geometry),
			MinZoom: l.MinZoom, MaxZoom: l.MaxZoom, Count: n, Style: l.Style, CRS: "EPSG:4326",
			TileJSON: base + "/tiles/" + l.ID + ".json",
			Tiles:    base + "/tiles/" + l.ID + "/{z}/{x}/{y}.mvt",
		}
		b, ok, err := s.store.Bounds(c.Request().Context(), l.ID)
		if err != nil {
			return err
		}
		if ok {
			cl.Bounds = &[4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}
		}
		for _, f := range l.Fields {
			cf := catalogField{Name: f.Name, Type: string(f.Type), Title: f.Title, Required: f.Required, Unit: f.Unit,
				Values: f.Values, Personal: f.Personal, Mask: string(f.Mask)}
			if len(f.ValueTitles) > 0 {
				cf.ValueTitles = f.ValueTitles
			}
			cl.Fields = append(cl.Fields, cf)
		}
		out.Layers = append(out.Layers, cl)
	}
	return c.JSON(http.StatusOK, out)
}
