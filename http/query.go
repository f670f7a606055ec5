package http

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"unicode/utf8"

	"wardline"
)

// params are a request's query parameters, checked against the names an endpoint accepts.
type params struct {
	v     url.Values
	limit int
}

func (p params) str(name string) string { return p.v.Get(name) }

func (p params) has(name string) bool { return p.v.Has(name) }

// int64 parses a non-negative integer parameter.
func (p params) int64(name string) (int64, error) {
	if !p.v.Has(name) {
		return 0, nil
	}
	n, err := strconv.ParseInt(p.v.Get(name), 10, 64)
	if err != nil || n < 0 {
		return 0, wardline.Errorf(wardline.EINVALID, "%s must be a non-negative integer", name)
	}
	return n, nil
}

// parseQuery rejects unknown or repeated parameters and invalid UTF-8, and parses limit
// (1..200, default 50).
func parseQuery(r *http.Request, allowed ...string) (params, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return params{}, wardline.Errorf(wardline.EINVALID, "the query string is malformed")
	}
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	for k, vals := range v {
		if !ok[k] {
			return params{}, wardline.Errorf(wardline.EINVALID, "unknown query parameter %q", k)
		}
		if len(vals) > 1 {
			return params{}, wardline.Errorf(wardline.EINVALID, "query parameter %q given more than once", k)
		}
		if !utf8.ValidString(vals[0]) || len(vals[0]) > 500 {
			return params{}, wardline.Errorf(wardline.EINVALID, "query parameter %q is not valid", k)
		}
	}
	p := params{v: v, limit: 50}
	if ok["limit"] && v.Has("limit") {
		n, err := strconv.Atoi(v.Get("limit"))
		if err != nil || n < 1 || n > wardline.MaxPageSize {
			return params{}, wardline.Errorf(wardline.EINVALID, "limit must be between 1 and %d", wardline.MaxPageSize)
		}
		p.limit = n
	}
	return p, nil
}

// servePage answers a list paged by the query's cursor and limit (and nothing else). When the
// query is malformed, list is first called with a cursor no store accepts, so that the caller's
// own refusal (401, 403, 404) comes before the 400.
func servePage[T any](s *Server, w http.ResponseWriter, r *http.Request, list func(ctx context.Context, cursor string, limit int) ([]T, string, error)) {
	p, err := parseQuery(r, "cursor", "limit")
	if err != nil {
		s.Error(w, r, probeFirst(err, func() error {
			_, _, e := list(r.Context(), "!", 0)
			return e
		}))
		return
	}
	items, next, err := list(r.Context(), p.str("cursor"), p.limit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(items, next))
}

// probeFirst returns the probe's error when it is not a validation error (a 404 or 403 wins over
// a 400), else err.
func probeFirst(err error, probe func() error) error {
	if perr := probe(); perr != nil && wardline.ErrorCode(perr) != wardline.EINVALID {
		return perr
	}
	return err
}
