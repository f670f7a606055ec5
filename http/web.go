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

// webTypes fixes the Content-Type of every kind of file the web app ships. Go's own table lacks
// some (.webmanifest, .woff2) and otherwise depends on the machine's /etc/mime.types; with
// "X-Content-Type-Options: nosniff" a wrong type stops the browser from using the file.
var webTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".webmanifest": "application/manifest+json",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".ico":         "image/x-icon",
	".webp":        "image/webp",
	".woff2":       "font/woff2",
	".woff":        "font/woff",
	".txt":         "text/plain; charset=utf-8",
}

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
	if st, err := fs.Stat(s.web, name); err != nil || st.IsDir() || strings.HasPrefix(path.Base(name), ".") {
		if path.Ext(name) != "" && name != "index.html" {
			http.NotFound(w, r) // a missing asset is a 404, not the app
			return
		}
		name = "index.html"
	}
	switch {
	case strings.HasPrefix(name, "assets/"):
		// Hashed names: a new build has new names, so these never change.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	default:
		// index.html, sw.js, the manifest and icons keep their names across builds: revalidate
		// (a long-cached sw.js would pin an old app).
		w.Header().Set("Cache-Control", "no-cache")
	}
	if t, ok := webTypes[path.Ext(name)]; ok {
		w.Header().Set("Content-Type", t)
	}
	http.ServeFileFS(w, r, s.web, name)
}
