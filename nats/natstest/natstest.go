// Package natstest gives tests NATS: the shared server named by WARDLINE_TEST_NATS, or a private
// in-process server on a port of its own for tests that stop and restart it (never the shared one,
// which other engineers' tests use at the same time).
package natstest

import (
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// EnvURL is the variable that names the shared test server.
const EnvURL = "WARDLINE_TEST_NATS"

// ServerURL returns the shared test server's URL, or skips the test with a clear message when
// none is configured; under WARDLINE_TEST_REQUIRE_ALL=1 (CI) it fails instead.
func ServerURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("WARDLINE_TEST_REQUIRE_ALL") == "1" {
			tb.Fatalf("%s is not set and WARDLINE_TEST_REQUIRE_ALL=1: set it to a NATS URL, e.g. nats://127.0.0.1:4222", EnvURL)
		}
		tb.Skipf("NATS tests skipped: set %s to a NATS URL (e.g. nats://127.0.0.1:4222)", EnvURL)
	}
	return u
}

// Server is a private NATS server in this process, on a fixed loopback port so that clients
// reconnect to it after a restart.
type Server struct {
	tb   testing.TB
	port int
	mu   sync.Mutex
	srv  *server.Server
}

// Start runs a private server on a free loopback port; it stops when the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &Server{tb: tb, port: port}
	s.start()
	tb.Cleanup(s.Stop)
	return s
}

// URL is the server's client URL.
func (s *Server) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.port) }

func (s *Server) start() {
	s.tb.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: s.port, NoLog: true, NoSigs: true})
	if err != nil {
		s.tb.Fatalf("nats server: %v", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		s.tb.Fatalf("nats server on port %d did not start", s.port)
	}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
}

// Stop shuts the server down (clients see it gone).
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
	}
}

// Restart stops the server, waits down for the given time, and starts it again on the same port.
func (s *Server) Restart(down time.Duration) {
	s.Stop()
	time.Sleep(down)
	s.start()
}
