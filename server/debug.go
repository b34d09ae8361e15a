package server

import (
	"net/http"
	"net/http/pprof"
)

// DebugHandler returns the profiler, net/http/pprof, on a mux of its own:
// serve it on a listener apart from the public one (--debug-addr), never
// on the public router.
func DebugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
