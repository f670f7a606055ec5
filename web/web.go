// Package web holds the Wardline web app, built by Vite into dist/ and embedded in the binary.
//
// A checkout built without Node.js has only dist/.keep, so the server can tell whether the app
// is there and, when it is not, serve a page saying how to build it.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Assets returns the built app (index.html at its root, hashed files under assets/) and whether
// it has been built at all, that is whether dist/index.html exists.
func Assets() (fs.FS, bool) {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, false
	}
	if _, err := fs.Stat(sub, "index.html"); err != nil {
		return sub, false
	}
	return sub, true
}
