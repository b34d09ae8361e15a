// Package server maps HTTP and the live WebSocket channel to onemap's
// domain calls and back: routes, middleware, handlers, the live channel's
// hub, and the one place where errors become HTTP statuses and JSON bodies.
// It holds no domain rules: the analyses and the tile encoder come
// ready-built through the small interfaces it declares (Analyses, Tiles),
// which cmd/onemap builds and handler tests fake. No package but the
// command imports it.
package server
