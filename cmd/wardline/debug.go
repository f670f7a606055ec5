package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// startDebug serves Go's runtime profiles on --debug-addr (validated to be loopback). It uses a
// mux of its own: importing net/http/pprof registers on http.DefaultServeMux, which nothing else
// here serves, and nothing of this reaches the public listener.
func (m *Main) startDebug() error {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", m.Config.DebugAddr)
	if err != nil {
		return fmt.Errorf("--debug-addr: %w", err)
	}
	m.debugHTTP = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = m.debugHTTP.Serve(ln) }()
	m.DebugURL = "http://" + ln.Addr().String()
	m.Log.Info("serving runtime profiles", "url", m.DebugURL+"/debug/pprof/")
	return nil
}
