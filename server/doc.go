// Package server maps HTTP to onemap's domain calls and back: routes,
// middleware, handlers and the one place where errors become HTTP statuses
// and JSON bodies. No other package imports it.
package server
