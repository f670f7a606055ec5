package http

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"
)

// The web app's files must reach the browser with the right type (the server sends nosniff, so a
// wrong one makes the browser refuse the file) and the right caching: hashed assets forever,
// everything whose name stays the same across builds revalidated every time.
func TestWebServesAppFiles(t *testing.T) {
	s := &Server{web: fstest.MapFS{
		"index.html":            {Data: []byte("<!doctype html><title>app</title>")},
		"sw.js":                 {Data: []byte("self.addEventListener('fetch', () => {});")},
		"manifest.webmanifest":  {Data: []byte(`{"name":"Wardline"}`)},
		"icons/icon.svg":        {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
		"icons/icon-192.png":    {Data: []byte("\x89PNG\r\n\x1a\n")},
		"assets/index-abc.js":   {Data: []byte("console.log(1)")},
		"assets/index-abc.css":  {Data: []byte("body{}")},
		"assets/font-abc.woff2": {Data: []byte("wOF2")},
		".keep":                 {Data: []byte{}},
	}}
	const noCache, immutable = "no-cache", "public, max-age=31536000, immutable"
	cases := []struct {
		path   string
		status int
		ctype  string
		cache  string
	}{
		{"/", 200, "text/html; charset=utf-8", noCache},
		{"/conversations/0190e0a4-1234", 200, "text/html; charset=utf-8", noCache}, // an app route
		{"/sw.js", 200, "text/javascript; charset=utf-8", noCache},
		{"/manifest.webmanifest", 200, "application/manifest+json", noCache},
		{"/icons/icon.svg", 200, "image/svg+xml", noCache},
		{"/icons/icon-192.png", 200, "image/png", noCache},
		{"/assets/index-abc.js", 200, "text/javascript; charset=utf-8", immutable},
		{"/assets/index-abc.css", 200, "text/css; charset=utf-8", immutable},
		{"/assets/font-abc.woff2", 200, "font/woff2", immutable},
		{"/assets/gone-123.js", 404, "", ""}, // a missing asset is not the app
		{"/.keep", 404, "", ""},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			s.handleWeb(rec, httptest.NewRequest(http.MethodGet, c.path, nil))
			if rec.Code != c.status {
				t.Fatalf("status: got %d, want %d", rec.Code, c.status)
			}
			if c.status != http.StatusOK {
				return
			}
			if got := rec.Header().Get("Content-Type"); got != c.ctype {
				t.Errorf("Content-Type: got %q, want %q", got, c.ctype)
			}
			if got := rec.Header().Get("Cache-Control"); got != c.cache {
				t.Errorf("Cache-Control: got %q, want %q", got, c.cache)
			}
		})
	}
}
