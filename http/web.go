package http

import (
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// placeholderPage is served when the binary was built without the web app (go build on a clean
// checkout, without Node.js).
const placeholderPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Wardline</title></head>
<body><main><h1>Wardline is running</h1>
<p>This binary was built without the web app. Build it with <code>make build</code> (needs Node.js),
or use the API at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p></main></body></html>
`

// handleWeb serves the built web app: files as they are (hashed assets cached for a year), and
// index.html for any other path so that the app's own routes work on reload.
func (s *Server) handleWeb(w http.ResponseWriter, r *http.Request) {
	if s.web == nil {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write([]byte(placeholderPage))
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	if st, err := fs.Stat(s.web, name); err != nil || st.IsDir() {
		if path.Ext(name) != "" && name != "index.html" {
			http.NotFound(w, r) // a missing asset is a 404, not the app
			return
		}
		name = "index.html"
	}
	switch {
	case strings.HasPrefix(name, "assets/"):
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	default:
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeFileFS(w, r, s.web, name)
}
