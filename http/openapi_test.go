package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"wardline"
	"wardline/app"
	"wardline/inmem"
	"wardline/keyring"
	"wardline/sqlite"
)

// The served OpenAPI document must describe exactly the route table: these tests fail when a route
// is added, removed or changed without the document following.

// openAPIHTTPMethods are the operation keys of an OpenAPI path item.
var openAPIHTTPMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// openAPITestServer builds a Server on real, throwaway dependencies.
func openAPITestServer(tb testing.TB) *Server {
	tb.Helper()
	dir := tb.TempDir()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "wardline.db"))
	if err != nil {
		tb.Fatal(err)
	}
	master, err := keyring.CreateMasterKeyFile(filepath.Join(dir, "master.key"))
	if err != nil {
		tb.Fatal(err)
	}
	bus := inmem.NewBus()
	keys := keyring.New(master, store, wardline.SystemClock{})
	log := slog.New(slog.DiscardHandler)
	a := app.New(store, bus, keys, wardline.SystemClock{}, log, app.DefaultConfig)
	s := NewServer(a, store, bus, log, Options{})
	tb.Cleanup(func() {
		s.Close()
		a.Close()
		_ = bus.Close()
		_ = store.Close()
	})
	return s
}

// openAPIDoc parses the embedded document.
func openAPIDoc(tb testing.TB) map[string]any {
	tb.Helper()
	var doc map[string]any
	if err := json.Unmarshal(OpenAPIDocument(), &doc); err != nil {
		tb.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	return doc
}

// openAPIOperation is one operation of the document, with what its path item adds.
type openAPIOperation struct {
	method, path string // method upper-case, as in the route table
	op           map[string]any
	pathParams   []any // the path item's parameters
}

func (o openAPIOperation) String() string { return o.method + " " + o.path }

func openAPIOperations(tb testing.TB, doc map[string]any) []openAPIOperation {
	tb.Helper()
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		tb.Fatal("the document has no paths object")
	}
	var ops []openAPIOperation
	for path, v := range paths {
		item, ok := v.(map[string]any)
		if !ok {
			tb.Fatalf("path %s: not an object", path)
		}
		shared, _ := item["parameters"].([]any)
		for _, m := range openAPIHTTPMethods {
			if raw, ok := item[m]; ok {
				op, ok := raw.(map[string]any)
				if !ok {
					tb.Fatalf("%s %s: not an object", strings.ToUpper(m), path)
				}
				ops = append(ops, openAPIOperation{method: strings.ToUpper(m), path: path, op: op, pathParams: shared})
			}
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].String() < ops[j].String() })
	return ops
}

// openAPIRoutePath turns a net/http pattern path into an OpenAPI path template: "{name...}"
// becomes "{name}" and a trailing "{$}" goes.
func openAPIRoutePath(p string) string {
	p = strings.TrimSuffix(p, "{$}")
	return strings.ReplaceAll(p, "...}", "}")
}

// openAPIResolve follows a local "$ref" (JSON pointer into doc) until it reaches a value that is
// not a reference.
func openAPIResolve(doc map[string]any, v any) (any, error) {
	for range 32 {
		m, ok := v.(map[string]any)
		if !ok {
			return v, nil
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return v, nil
		}
		target, err := openAPIPointer(doc, ref)
		if err != nil {
			return nil, err
		}
		v = target
	}
	return nil, fmt.Errorf("reference cycle")
}

func openAPIPointer(doc map[string]any, ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("%q is not a local reference (#/...)", ref)
	}
	var cur any = doc
	for _, tok := range strings.Split(rest, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("%q: no %q", ref, tok)
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("%q: no index %q", ref, tok)
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("%q: cannot descend into %q", ref, tok)
		}
	}
	return cur, nil
}

// openAPIWalk calls fn for every object in v, with its JSON pointer.
func openAPIWalk(v any, at string, fn func(at string, m map[string]any)) {
	switch c := v.(type) {
	case map[string]any:
		fn(at, c)
		for k, e := range c {
			openAPIWalk(e, at+"/"+strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1"), fn)
		}
	case []any:
		for i, e := range c {
			openAPIWalk(e, at+"/"+strconv.Itoa(i), fn)
		}
	}
}

// openAPIDuplicateKeys reports object keys that occur twice in one object, which encoding/json
// would silently collapse.
func openAPIDuplicateKeys(data []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var dups []string
	var value func(at string) error
	value = func(at string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				k := kt.(string)
				if seen[k] {
					dups = append(dups, at+"/"+k)
				}
				seen[k] = true
				if err := value(at + "/" + k); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if err := value(at + "/" + strconv.Itoa(i)); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		}
		return nil
	}
	if err := value("#"); err != nil {
		return nil, err
	}
	return dups, nil
}

func TestOpenAPIDocument(t *testing.T) {
	t.Run("JSON", func(t *testing.T) {
		doc := openAPIDoc(t)
		v, _ := doc["openapi"].(string)
		if !strings.HasPrefix(v, "3.1.") {
			t.Errorf("openapi = %q, want 3.1.x", v)
		}
		info, _ := doc["info"].(map[string]any)
		if info["title"] == nil || info["version"] == nil {
			t.Errorf("info needs a title and a version, got %v", info)
		}
	})

	t.Run("NoDuplicateKeys", func(t *testing.T) {
		dups, err := openAPIDuplicateKeys(OpenAPIDocument())
		if err != nil {
			t.Fatal(err)
		}
		if len(dups) > 0 {
			t.Errorf("keys given twice in one object (all but the last are ignored): %v", dups)
		}
	})

	t.Run("Formatted", func(t *testing.T) {
		var compact, want bytes.Buffer
		if err := json.Compact(&compact, OpenAPIDocument()); err != nil {
			t.Fatal(err)
		}
		if err := json.Indent(&want, compact.Bytes(), "", "  "); err != nil {
			t.Fatal(err)
		}
		want.WriteByte('\n')
		if !bytes.Equal(OpenAPIDocument(), want.Bytes()) {
			t.Error("openapi.json is not pretty-printed with 2-space indentation and a final newline " +
				"(e.g. `jq --indent 2 . http/openapi.json`)")
		}
	})
}

func TestOpenAPIRoutes(t *testing.T) {
	s := openAPITestServer(t)
	doc := openAPIDoc(t)

	inTable := map[string]bool{}
	for _, rt := range s.Routes() {
		inTable[rt.Method+" "+openAPIRoutePath(rt.Path)] = true
	}
	inDoc := map[string]bool{}
	for _, o := range openAPIOperations(t, doc) {
		inDoc[o.String()] = true
	}
	var undocumented, unserved []string
	for k := range inTable {
		if !inDoc[k] {
			undocumented = append(undocumented, k)
		}
	}
	for k := range inDoc {
		if !inTable[k] {
			unserved = append(unserved, k)
		}
	}
	sort.Strings(undocumented)
	sort.Strings(unserved)
	if len(undocumented) > 0 || len(unserved) > 0 {
		t.Errorf("openapi.json and the route table differ:\n  in the route table, missing from openapi.json:\n    %s\n  in openapi.json, not in the route table:\n    %s",
			openAPIList(undocumented), openAPIList(unserved))
	}
	if len(inTable) != len(s.Routes()) {
		t.Errorf("the route table has %d routes but %d distinct method+path pairs", len(s.Routes()), len(inTable))
	}
}

func openAPIList(l []string) string {
	if len(l) == 0 {
		return "(none)"
	}
	return strings.Join(l, "\n    ")
}

func TestOpenAPIRefs(t *testing.T) {
	doc := openAPIDoc(t)
	used := map[string]bool{}
	openAPIWalk(doc, "#", func(at string, m map[string]any) {
		raw, ok := m["$ref"]
		if !ok {
			return
		}
		ref, ok := raw.(string)
		if !ok {
			// A property named "$ref" inside "properties" would be a schema, not a reference.
			t.Errorf("%s: $ref is %T, want a string", at, raw)
			return
		}
		if _, err := openAPIPointer(doc, ref); err != nil {
			t.Errorf("%s: unresolved $ref: %v", at, err)
		}
		used[ref] = true
	})

	// A component that nothing refers to is usually a leftover of a change.
	comps, _ := doc["components"].(map[string]any)
	for kind, v := range comps {
		if kind == "securitySchemes" {
			continue // referred to by name from security requirements
		}
		group, _ := v.(map[string]any)
		for name := range group {
			ref := "#/components/" + kind + "/" + name
			if !used[ref] {
				t.Errorf("%s is never referred to", ref)
			}
		}
	}

	// Security requirements name defined schemes.
	schemes, _ := comps["securitySchemes"].(map[string]any)
	for _, want := range []string{"bearerAuth", "cookieAuth"} {
		if _, ok := schemes[want]; !ok {
			t.Errorf("components.securitySchemes has no %s", want)
		}
	}
	if c, _ := schemes["cookieAuth"].(map[string]any); c["in"] != "cookie" || c["name"] != sessionCookie {
		t.Errorf("cookieAuth = %v, want an apiKey in cookie %s", c, sessionCookie)
	}
	check := func(where string, v any) {
		reqs, _ := v.([]any)
		for _, r := range reqs {
			for name := range r.(map[string]any) {
				if _, ok := schemes[name]; !ok {
					t.Errorf("%s: security names undefined scheme %q", where, name)
				}
			}
		}
	}
	check("document", doc["security"])
	for _, o := range openAPIOperations(t, doc) {
		check(o.String(), o.op["security"])
	}
}

func TestOpenAPIOperations(t *testing.T) {
	s := openAPITestServer(t)
	doc := openAPIDoc(t)
	auth := map[string]bool{}
	for _, rt := range s.Routes() {
		auth[rt.Method+" "+openAPIRoutePath(rt.Path)] = rt.Auth
	}
	ids := map[string]string{}
	for _, o := range openAPIOperations(t, doc) {
		t.Run(o.String(), func(t *testing.T) {
			id, _ := o.op["operationId"].(string)
			if id == "" {
				t.Error("no operationId")
			} else if other, dup := ids[id]; dup {
				t.Errorf("operationId %q is also used by %s", id, other)
			} else {
				ids[id] = o.String()
			}
			if sum, _ := o.op["summary"].(string); sum == "" {
				t.Error("no summary")
			}

			responses, _ := o.op["responses"].(map[string]any)
			if len(responses) == 0 {
				t.Fatal("no responses")
			}
			success := false
			for status, raw := range responses {
				code, err := strconv.Atoi(status)
				if err != nil || code < 100 || code > 599 {
					t.Errorf("response %q is not an HTTP status", status)
					continue
				}
				// A WebSocket upgrade's success is 101 Switching Protocols.
				if code/100 == 2 || code == http.StatusSwitchingProtocols {
					success = true
				}
				r, err := openAPIResolve(doc, raw)
				if err != nil {
					t.Errorf("response %s: %v", status, err)
					continue
				}
				rm, _ := r.(map[string]any)
				if d, _ := rm["description"].(string); d == "" {
					t.Errorf("response %s has no description", status)
				}
				if http.StatusText(code) == "" {
					t.Errorf("response %s is not a known HTTP status", status)
				}
				// The API's errors are JSON in the Error schema.
				if code >= 400 && code != http.StatusServiceUnavailable {
					content, _ := rm["content"].(map[string]any)
					if mt, ok := content["application/json"].(map[string]any); ok {
						sch, _ := mt["schema"].(map[string]any)
						if ref, _ := sch["$ref"].(string); ref != "#/components/schemas/Error" && !openAPIExtendsError(doc, ref) {
							t.Errorf("response %s: application/json schema is %v, want the Error schema", status, mt["schema"])
						}
					} else if o.path != "/api/v1/events" {
						t.Errorf("response %s: no application/json Error body", status)
					}
				}
			}
			if !success {
				t.Error("no 2xx response")
			}

			security := doc["security"]
			if sec, ok := o.op["security"]; ok {
				security = sec
			}
			secured := len(security.([]any)) > 0
			if auth[o.String()] && !secured {
				t.Error("the route requires sign-in but the operation's security is empty")
			}
			if secured || auth[o.String()] {
				if _, ok := responses["401"]; !ok {
					t.Error("the route requires sign-in but documents no 401")
				}
			}
			// Cookie-authenticated changes need the CSRF header: say so where it applies.
			if auth[o.String()] && o.method != http.MethodGet && o.method != http.MethodHead {
				if !slices.ContainsFunc(openAPIParams(t, doc, o), func(p map[string]any) bool {
					return p["in"] == "header" && p["name"] == csrfHeader
				}) {
					t.Errorf("a state-changing signed-in operation must declare the %s header parameter", csrfHeader)
				}
				if _, ok := responses["403"]; !ok {
					t.Error("a state-changing signed-in operation must document 403 (missing CSRF header)")
				}
			}

			if rb, ok := o.op["requestBody"]; ok {
				openAPICheckRequestBody(t, doc, rb)
			}
		})
	}
}

// openAPIParams returns an operation's parameters, the path item's included, references resolved.
func openAPIParams(tb testing.TB, doc map[string]any, o openAPIOperation) []map[string]any {
	tb.Helper()
	own, _ := o.op["parameters"].([]any)
	var out []map[string]any
	for _, raw := range append(slices.Clone(o.pathParams), own...) {
		p, err := openAPIResolve(doc, raw)
		if err != nil {
			tb.Errorf("parameter: %v", err)
			continue
		}
		pm, ok := p.(map[string]any)
		if !ok {
			tb.Errorf("parameter %v is not an object", p)
			continue
		}
		out = append(out, pm)
	}
	return out
}

// openAPICheckRequestBody checks a JSON request body: an object schema that refuses unknown fields
// (as DecodeJSON does) and whose required fields exist.
func openAPICheckRequestBody(t *testing.T, doc map[string]any, raw any) {
	t.Helper()
	rb, err := openAPIResolve(doc, raw)
	if err != nil {
		t.Errorf("requestBody: %v", err)
		return
	}
	content, _ := rb.(map[string]any)["content"].(map[string]any)
	mt, ok := content["application/json"].(map[string]any)
	if !ok {
		t.Error("requestBody has no application/json content")
		return
	}
	sch, err := openAPIResolve(doc, mt["schema"])
	if err != nil {
		t.Errorf("requestBody schema: %v", err)
		return
	}
	sm, _ := sch.(map[string]any)
	if sm["type"] != "object" {
		t.Errorf("requestBody schema type = %v, want object", sm["type"])
	}
	if ap, ok := sm["additionalProperties"].(bool); !ok || ap {
		t.Error("requestBody schema must say additionalProperties: false (unknown fields answer 400)")
	}
	props, _ := sm["properties"].(map[string]any)
	req, _ := sm["required"].([]any)
	for _, r := range req {
		if _, ok := props[r.(string)]; !ok {
			t.Errorf("requestBody schema requires %q, which it does not define", r)
		}
	}
}

var openAPITemplateParam = regexp.MustCompile(`\{([^{}]+)\}`)

func TestOpenAPIPathParameters(t *testing.T) {
	doc := openAPIDoc(t)
	for _, o := range openAPIOperations(t, doc) {
		t.Run(o.String(), func(t *testing.T) {
			inTemplate := map[string]bool{}
			for _, m := range openAPITemplateParam.FindAllStringSubmatch(o.path, -1) {
				inTemplate[m[1]] = true
			}
			declared := map[string]bool{}
			for _, p := range openAPIParams(t, doc, o) {
				if p["in"] != "path" {
					continue
				}
				name, _ := p["name"].(string)
				if declared[name] {
					t.Errorf("path parameter %q declared twice", name)
				}
				declared[name] = true
				if !inTemplate[name] {
					t.Errorf("path parameter %q is not in the path template", name)
				}
				if p["required"] != true {
					t.Errorf("path parameter %q must be required", name)
				}
				if sch, _ := p["schema"].(map[string]any); sch["type"] != "string" {
					t.Errorf("path parameter %q: schema %v, want a string", name, p["schema"])
				}
			}
			for name := range inTemplate {
				if !declared[name] {
					t.Errorf("path parameter {%s} is not declared", name)
				}
			}
		})
	}
}

func TestOpenAPIServed(t *testing.T) {
	s := openAPITestServer(t)
	r := httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	res := w.Result()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", res.StatusCode, body)
	}
	mt, _, err := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", res.Header.Get("Content-Type"))
	}
	if !bytes.Equal(body, OpenAPIDocument()) {
		t.Errorf("served %d bytes, want the %d bytes of the merged document", len(body), len(OpenAPIDocument()))
	}
}

func TestOpenAPIMergeRefusesDuplicates(t *testing.T) {
	fsys := fstest.MapFS{
		"openapi/core.json":  {Data: []byte(`{"openapi":"3.1.0","paths":{"/a":{}},"components":{"schemas":{"A":{}}}}`)},
		"openapi/extra.json": {Data: []byte(`{"paths":{"/b":{}},"components":{"schemas":{"A":{}}}}`)},
	}
	if _, err := mergeOpenAPI(fsys); err == nil || !strings.Contains(err.Error(), `"A"`) {
		t.Fatalf("duplicate schema: got %v", err)
	}
	fsys["openapi/extra.json"] = &fstest.MapFile{Data: []byte(`{"paths":{"/b":{"get":{}}},"components":{"schemas":{"B":{}}},"tags":[{"name":"b"}]}`)}
	b, err := mergeOpenAPI(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths      map[string]any            `json:"paths"`
		Components map[string]map[string]any `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || len(doc.Paths) != 2 || len(doc.Components["schemas"]) != 2 {
		t.Fatalf("merged: %s (%v)", b, err)
	}

	// A part may add an operation to a path another part describes, but not describe one twice.
	fsys["openapi/extra.json"] = &fstest.MapFile{Data: []byte(`{"paths":{"/a":{"patch":{}}}}`)}
	b, err = mergeOpenAPI(fsys)
	if err != nil || !strings.Contains(string(b), `"patch"`) {
		t.Fatalf("operation added to a path: %s (%v)", b, err)
	}
	fsys["openapi/core.json"] = &fstest.MapFile{Data: []byte(`{"openapi":"3.1.0","paths":{"/a":{"patch":{}}}}`)}
	if _, err := mergeOpenAPI(fsys); err == nil || !strings.Contains(err.Error(), "patch") {
		t.Fatalf("duplicate operation: got %v", err)
	}
}

// openAPIExtendsError reports whether the schema ref names is the Error object with more fields:
// allOf whose first part is Error (login's mfa_required answer carries its token beside it).
func openAPIExtendsError(doc map[string]any, ref string) bool {
	if ref == "" {
		return false
	}
	sch, err := openAPIResolve(doc, map[string]any{"$ref": ref})
	if err != nil {
		return false
	}
	all, _ := sch.(map[string]any)["allOf"].([]any)
	if len(all) == 0 {
		return false
	}
	first, _ := all[0].(map[string]any)
	return first["$ref"] == "#/components/schemas/Error"
}
