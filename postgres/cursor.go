package postgres

import (
	"encoding/base64"
	"strings"

	"wardline"
)

// Cursors are opaque to clients: the fields of the last row seen, joined and base64url-encoded.

func encodeCursor(parts ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strings.Join(parts, "\x00")))
}

func decodeCursor(c string, n int) ([]string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, wardline.Errorf(wardline.EINVALID, "cursor is not valid")
	}
	parts := strings.Split(string(b), "\x00")
	if len(parts) != n {
		return nil, wardline.Errorf(wardline.EINVALID, "cursor is not valid")
	}
	return parts, nil
}

func clampLimit(n int) int {
	if n <= 0 {
		return 50
	}
	return min(n, 1000) // the API allows 200; resume replays up to 500 in one page
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}
