package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestDebugAddrIsLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:6060", ":6060", "192.0.2.1:6060", "wardline.example.nhs.uk:6060", "6060"} {
		m := NewMain(io.Discard, io.Discard)
		err := m.ParseFlags([]string{"--debug-addr", addr})
		if err == nil || !strings.Contains(err.Error(), "--debug-addr") {
			t.Errorf("--debug-addr %s: got %v, want it refused", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:6060", "localhost:6060", "[::1]:6060"} {
		m := NewMain(io.Discard, io.Discard)
		if err := m.ParseFlags([]string{"--debug-addr", addr}); err != nil {
			t.Errorf("--debug-addr %s: %v", addr, err)
		}
	}
}

// The profiles are served on the debug address only, never on the public listener.
func TestDebugAddrServesProfiles(t *testing.T) {
	ts := MustRunServer(t, func(m *Main) { m.Config.DebugAddr = "127.0.0.1:0" })
	get := func(url string) string {
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	const profile = "goroutine profile:"
	if got := get(ts.DebugURL + "/debug/pprof/goroutine?debug=1"); !strings.Contains(got, profile) {
		t.Fatalf("debug address answered %.200q", got)
	}
	if got := get(ts.URL + "/debug/pprof/goroutine?debug=1"); strings.Contains(got, profile) {
		t.Fatal("the public listener serves the profiles")
	}
	off := MustRunServer(t)
	if off.DebugURL != "" {
		t.Fatalf("profiles served at %s without --debug-addr", off.DebugURL)
	}
}
