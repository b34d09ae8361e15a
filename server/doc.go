// Package server maps HTTP and the live WebSocket channel to onemap's
// domain calls and back: routes, middleware, handlers, the feed that turns
// the live state's events into the live channel's, and the one place where
// errors become HTTP statuses and JSON bodies. It holds no domain rules and
// builds no service: the analyses and the tile encoder come ready-built
// through the small interfaces it declares (Analyses, Tiles), and the live
// channel's hub comes made; cmd/onemap builds them and handler tests fake
// them. No package but the
// command imports it.
package server
