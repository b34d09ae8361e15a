package server

import "github.com/labstack/echo/v4"

func (s *Server) routeStyle(e *echo.Echo, mw ...echo.MiddlewareFunc) {}
