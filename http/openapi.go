package http

import (
	_ "embed"
	"net/http"
)

// openAPIDocument describes every route; openapi_test.go checks it against the route table.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the served OpenAPI 3.1 document.
func OpenAPIDocument() []byte { return openAPIDocument }

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(openAPIDocument)
}
