package mockserver

import "github.com/labstack/echo/v4"

// AddTestRoute mounts a route on the server's Echo, for tests that need a
// handler misbehaving (a panic) behind the server's own middleware.
func (s *Server) AddTestRoute(method, path string, h func() error) {
	s.echo.Add(method, path, func(echo.Context) error { return h() })
}

// OpenConns is the number of connections the server holds open.
func (s *Server) OpenConns() int { return s.conns.open() }
