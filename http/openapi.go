package http

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
)

// The OpenAPI document is kept as one JSON file per part of the API (openapi/core.json, and one
// per feature), merged here: paths, components and tags from every part. A path or component
// named in two parts is a mistake that stops start-up. openapi_test.go checks the merged
// document against the route table.
//
//go:embed openapi/*.json
var openAPIParts embed.FS

var openAPIDocument = mustMergeOpenAPI(openAPIParts)

// OpenAPIDocument returns the served OpenAPI 3.1 document.
func OpenAPIDocument() []byte { return openAPIDocument }

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(openAPIDocument)
}

func mustMergeOpenAPI(fsys fs.FS) []byte {
	b, err := mergeOpenAPI(fsys)
	if err != nil {
		panic("openapi: " + err.Error())
	}
	return b
}

// mergeOpenAPI starts from core.json and adds every other part, in name order.
func mergeOpenAPI(fsys fs.FS) ([]byte, error) {
	names, err := fs.Glob(fsys, "openapi/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var doc map[string]any
	for _, name := range append([]string{"openapi/core.json"}, names...) {
		if name == "openapi/core.json" && doc != nil {
			continue
		}
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var part map[string]any
		if err := json.Unmarshal(raw, &part); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if doc == nil {
			doc = part
			continue
		}
		for key, v := range part {
			switch key {
			case "paths":
				if err := mergePaths(doc, v, name); err != nil {
					return nil, err
				}
			case "components":
				comps, _ := v.(map[string]any)
				if doc["components"] == nil {
					doc["components"] = map[string]any{}
				}
				for kind, entries := range comps {
					if err := mergeMap(doc["components"].(map[string]any), kind, entries, name+" components"); err != nil {
						return nil, err
					}
				}
			case "tags":
				tags, _ := doc["tags"].([]any)
				more, _ := v.([]any)
				doc["tags"] = append(tags, more...)
			default:
				return nil, fmt.Errorf("%s: a part may only add paths, components and tags, not %q", name, key)
			}
		}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	return append(b, '\n'), err
}

func mergeMap(into map[string]any, key string, v any, from string) error {
	add, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: %s must be an object", from, key)
	}
	dst, _ := into[key].(map[string]any)
	if dst == nil {
		dst = map[string]any{}
		into[key] = dst
	}
	for k, val := range add {
		if _, dup := dst[k]; dup {
			return fmt.Errorf("%s: %s %q is already described by another part", from, key, k)
		}
		dst[k] = val
	}
	return nil
}

// mergePaths adds a part's path items, merging the operations of a path that both describe.
func mergePaths(doc map[string]any, v any, from string) error {
	add, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: paths must be an object", from)
	}
	dst, _ := doc["paths"].(map[string]any)
	if dst == nil {
		dst = map[string]any{}
		doc["paths"] = dst
	}
	for path, item := range add {
		cur, exists := dst[path]
		if !exists {
			dst[path] = item
			continue
		}
		curItem, ok1 := cur.(map[string]any)
		newItem, ok2 := item.(map[string]any)
		if !ok1 || !ok2 {
			return fmt.Errorf("%s: path %q must be an object", from, path)
		}
		for op, val := range newItem {
			if _, dup := curItem[op]; dup {
				return fmt.Errorf("%s: %s of path %q is already described by another part", from, op, path)
			}
			curItem[op] = val
		}
	}
	return nil
}
