package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// The senders' own HTTP client against net/http's server, over TCP and real TLS: the request as
// the API expects it, the answer's status, one connection kept for many sends, and a fresh one
// after the server says it will close.
func TestPosterAgainstNetHTTP(t *testing.T) {
	var conns atomic.Int64
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Method != "POST" || r.URL.Path != "/api/v1/conversations/c1/messages" ||
			r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Content-Type") != "application/json":
			http.Error(w, "bad request line or headers", http.StatusBadRequest)
		case string(body) == `{"close":true}`:
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusConflict)
		case string(body) != `{"n":1}`:
			http.Error(w, "bad body", http.StatusBadRequest)
		default:
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"message":{"seq":1}}`)
		}
	})
	for _, tc := range []struct {
		name string
		srv  *httptest.Server
	}{
		{"tcp", httptest.NewUnstartedServer(handler)},
		{"tls", httptest.NewUnstartedServer(handler)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conns.Store(0)
			tc.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			if tc.name == "tls" {
				tc.srv.StartTLS()
			} else {
				tc.srv.Start()
			}
			defer tc.srv.Close()
			ctx := context.Background()
			p := newPoster(true)
			const path = "/api/v1/conversations/c1/messages"
			for i := range 5 {
				status, err := p.send(ctx, tc.srv.URL, path, "tok", []byte(`{"n":1}`))
				if err != nil || status != 201 {
					t.Fatalf("send %d: %d %v", i, status, err)
				}
			}
			if n := conns.Load(); n != 1 {
				t.Fatalf("%d connections for 5 sends, want 1 kept alive", n)
			}
			if status, err := p.send(ctx, tc.srv.URL, path, "other", []byte(`{"n":1}`)); err != nil || status != 400 {
				t.Fatalf("a wrong token's send: %d %v, want the server's 400", status, err)
			}
			if status, err := p.send(ctx, tc.srv.URL, path, "tok", []byte(`{"close":true}`)); err != nil || status != 409 {
				t.Fatalf("send answered with Connection: close: %d %v", status, err)
			}
			if status, err := p.send(ctx, tc.srv.URL, path, "tok", []byte(`{"n":1}`)); err != nil || status != 201 {
				t.Fatalf("send after the close: %d %v", status, err)
			}
			if n := conns.Load(); n != 2 {
				t.Fatalf("%d connections, want a second after the server closed the first", n)
			}
		})
	}
}

// A send the server never answers ends when the run's context does, and the next send works.
func TestPosterEndsWithTheContext(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer hang" {
			<-hang
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	defer close(hang) // before Close, which waits for the handler
	p := newPoster(false)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := p.send(ctx, srv.URL, "/x", "hang", []byte("{}")); err == nil {
		t.Fatal("a send that was never answered returned no error")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the send outlived its context by %v", d)
	}
	if status, err := p.send(context.Background(), srv.URL, "/x", "tok", []byte("{}")); err != nil || status != 201 {
		t.Fatalf("the next send: %d %v", status, err)
	}
}
