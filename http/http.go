// Package http is Wardline's HTTP and WebSocket front: routing, authentication, CSRF, limits, and
// the translation between JSON and the domain. Handlers decode, call one service method and
// encode; the rules live in app.
package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"unicode/utf8"

	"wardline"
)

// MaxBodyBytes bounds every request body (API.md: 413 above 1 MiB).
const MaxBodyBytes = 1 << 20

// codes maps error codes to HTTP statuses, in one place.
var codes = map[string]int{
	wardline.EINVALID:         http.StatusBadRequest,
	wardline.EUNAUTHENTICATED: http.StatusUnauthorized,
	wardline.EMFAREQUIRED:     http.StatusUnauthorized,
	wardline.EFORBIDDEN:       http.StatusForbidden,
	wardline.ENOTFOUND:        http.StatusNotFound,
	wardline.ECONFLICT:        http.StatusConflict,
	wardline.ETOOLARGE:        http.StatusRequestEntityTooLarge,
	wardline.ELOCKED:          http.StatusLocked,
	wardline.ERATELIMITED:     http.StatusTooManyRequests,
	wardline.EINTERNAL:        http.StatusInternalServerError,
}

// ErrorStatus returns the HTTP status for an error code.
func ErrorStatus(code string) int {
	if s, ok := codes[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

type errorBody struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		TriesLeft *int   `json:"tries_left,omitempty"`
	} `json:"error"`
}

// Error writes err as the API's error object. Only internal errors are logged, with their real
// text; the client sees "internal error".
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := wardline.ErrorCode(err), wardline.ErrorMessage(err)
	if code == wardline.EINTERNAL {
		s.log.Error("internal error", "method", r.Method, "route", r.Pattern, "err", err)
	}
	var body errorBody
	body.Error.Code, body.Error.Message, body.Error.TriesLeft = code, msg, wardline.ErrorTriesLeft(err)
	writeJSON(w, ErrorStatus(code), body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if status == http.StatusNoContent {
		return
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// readBody reads a request body within MaxBodyBytes: ETOOLARGE beyond it.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, wardline.Errorf(wardline.ETOOLARGE, "the request body is larger than 1 MiB")
	} else if err != nil {
		return nil, wardline.Errorf(wardline.EINVALID, "the request body could not be read")
	}
	return b, nil
}

// DecodeJSON decodes one JSON object strictly: valid UTF-8, no unknown fields, right types, and
// nothing after it. It is the single decoder of request bodies (and a fuzz target).
func DecodeJSON(b []byte, v any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return wardline.Errorf(wardline.EINVALID, "a JSON body is required")
	}
	if !utf8.Valid(b) {
		return wardline.Errorf(wardline.EINVALID, "the body must be valid UTF-8")
	}
	if b[0] != '{' {
		return wardline.Errorf(wardline.EINVALID, "the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr):
			return wardline.Errorf(wardline.EINVALID, "field %q has the wrong type", typeErr.Field)
		case errors.As(err, &syntaxErr):
			return wardline.Errorf(wardline.EINVALID, "the body is not valid JSON (at byte %d)", syntaxErr.Offset)
		default:
			return wardline.Errorf(wardline.EINVALID, "the body is not valid: %s", sanitizeDecodeError(err))
		}
	}
	if dec.More() {
		return wardline.Errorf(wardline.EINVALID, "the body must hold one JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return wardline.Errorf(wardline.EINVALID, "the body must hold one JSON object")
	}
	return nil
}

// sanitizeDecodeError keeps the decoder's description (e.g. an unknown field's name) but never
// echoes a value, which might be content.
func sanitizeDecodeError(err error) string {
	msg := err.Error()
	msg = trimPrefix(msg, "json: ")
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return msg
}

func trimPrefix(s, p string) string {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// decode reads and decodes r's body into v. When the body is bad, probe runs the service call with
// an input that is certainly invalid: if the caller may not see the target (404) or do this (403),
// that answer wins over the 400, so that answers leak nothing (API.md "Conventions").
func (s *Server) decode(r *http.Request, v any, probe func() error) error {
	b, err := readBody(r)
	if err != nil && wardline.ErrorCode(err) == wardline.ETOOLARGE {
		return err
	}
	if err == nil {
		err = DecodeJSON(b, v)
	}
	if err == nil {
		return nil
	}
	if probe != nil {
		if perr := probe(); perr != nil && wardline.ErrorCode(perr) != wardline.EINVALID {
			return perr
		}
	}
	return err
}

// noBody reads and discards the body of an endpoint that takes none. Only an oversized body is
// refused (413, which may come first); anything else within the limit is ignored, so that such a
// request answers exactly as if it had no body and leaks nothing about what the caller may see.
func noBody(r *http.Request) error {
	_, err := readBody(r)
	if wardline.ErrorCode(err) == wardline.ETOOLARGE {
		return err
	}
	return nil
}
