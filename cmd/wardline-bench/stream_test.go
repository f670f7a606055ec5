package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The load generator's stream client against the server's WebSocket library, over plain TCP and
// real TLS: the handshake and its token, messages of each length encoding, a fragmented message,
// a ping answered while reading, a message from the client, and the server's close with its code.
func TestStreamConnAgainstCoderWebsocket(t *testing.T) {
	mid := bytes.Repeat([]byte("m"), 300)      // 16-bit length
	big := bytes.Repeat([]byte("b"), 70_000)   // 64-bit length
	frag := bytes.Repeat([]byte("f"), 100_000) // written in two frames
	fromClient := make(chan string, 4)
	pinged := make(chan error, 1)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" || r.URL.Query().Get("receipts") != "batched" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := r.Context()
		go func() { // a reader, so that the pong and the close handshake are seen
			for {
				_, data, err := c.Read(ctx)
				if err != nil {
					return
				}
				fromClient <- string(data)
			}
		}()
		for _, m := range [][]byte{[]byte(`{"type":"hello"}`), mid, big} {
			if c.Write(ctx, websocket.MessageText, m) != nil {
				return
			}
		}
		wr, err := c.Writer(ctx, websocket.MessageText)
		if err != nil {
			return
		}
		wr.Write(frag[:50_000])
		wr.Write(frag[50_000:])
		wr.Close()
		<-time.After(50 * time.Millisecond) // the client has written by now
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		pinged <- c.Ping(pctx)
		cancel()
		c.Close(4000, "bye")
	})
	for _, tc := range []struct {
		name string
		srv  *httptest.Server
	}{
		{"tcp", httptest.NewServer(handler)},
		{"tls", httptest.NewTLSServer(handler)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer tc.srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := dialStream(ctx, tc.srv.URL+"/events?receipts=batched", "wrong", true); err == nil ||
				!strings.Contains(err.Error(), "HTTP 401") {
				t.Fatalf("a refused token: %v, want the 401", err)
			}
			if tc.name == "tls" {
				if _, err := dialStream(ctx, tc.srv.URL+"/events?receipts=batched", "tok", false); err == nil {
					t.Fatal("an untrusted certificate was accepted without --insecure")
				}
			}
			s, err := dialStream(ctx, tc.srv.URL+"/events?receipts=batched", "tok", true)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for i, want := range [][]byte{[]byte(`{"type":"hello"}`), mid, big, frag} {
				got, err := s.read()
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("message %d: %d bytes, want %d", i, len(got), len(want))
				}
			}
			if err := s.write([]byte(`{"type":"resume"}`)); err != nil {
				t.Fatal(err)
			}
			if got := <-fromClient; got != `{"type":"resume"}` {
				t.Fatalf("the server read %q", got)
			}
			_, err = s.read() // answers the ping, then meets the close
			if code := closeStatus(err); code != 4000 {
				t.Fatalf("read after the close: %v (status %d), want status 4000", err, code)
			}
			if err := <-pinged; err != nil {
				t.Fatalf("the server's ping was not answered: %v", err)
			}
		})
	}
}

// A dial whose context ends during the handshake fails instead of hanging.
func TestStreamDialHonoursContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers the upgrade
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := dialStream(ctx, srv.URL, "tok", false); err == nil {
		t.Fatal("dialled a server that never answered")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the dial took %v", d)
	}
}
