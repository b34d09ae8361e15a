package server

import (
	"log/slog"
	"net/http"
	"time"
)

// Defaults of the HTTP server's limits: a client that sends its request or
// reads its answer slower than these is cut, so that slow clients cannot
// hold connections and file descriptors.
const (
	// DefaultReadHeaderTimeout bounds the reading of a request's headers.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds the reading of a whole request, body too.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds a request from its headers to the end of
	// its answer; /ws clears it once upgraded.
	DefaultWriteTimeout = 60 * time.Second
	// DefaultIdleTimeout bounds a kept-alive connection between requests.
	DefaultIdleTimeout = 120 * time.Second
	// DefaultIngestTimeout bounds a batch of readings, its body and its
	// storing: 16 MiB over a slow link takes longer than other requests.
	DefaultIngestTimeout = 60 * time.Second
)

// HTTPServer returns an http.Server for the handler with the options'
// timeouts; serve it on a listener that bounds the connections.
func (s *Server) HTTPServer() *http.Server {
	o := s.opt
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: min(DefaultReadHeaderTimeout, o.ReadTimeout),
		ReadTimeout:       o.ReadTimeout,
		WriteTimeout:      o.WriteTimeout,
		IdleTimeout:       o.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// extendDeadlines gives a request that may take long (a batch of readings)
// its own read and write deadlines, past the server's. Recorders in tests,
// which have no deadlines, are let be.
func extendDeadlines(w http.ResponseWriter, read, write time.Duration) {
	rc := http.NewResponseController(w)
	now := time.Now()
	rc.SetReadDeadline(now.Add(read))
	rc.SetWriteDeadline(now.Add(write))
}

// clearDeadlines lifts the server's deadlines from a connection that lives
// on (the live channel), which keeps its own.
func clearDeadlines(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Time{})
}
