package sqlite

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

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

// timeCursor is the cursor of a page ordered by (time, id), newest or oldest first.
func timeCursor(t time.Time, id string) string {
	return encodeCursor(strconv.FormatInt(micros(t), 10), id)
}

// decodeTimeCursor reads a cursor made by timeCursor: the time in microseconds and the id of the
// last row seen (zero and "" for no cursor).
func decodeTimeCursor(c string) (afterAt int64, afterID string, err error) {
	if c == "" {
		return 0, "", nil
	}
	parts, err := decodeCursor(c, 2)
	if err != nil {
		return 0, "", err
	}
	if afterAt, err = strconv.ParseInt(parts[0], 10, 64); err != nil {
		return 0, "", wardline.Errorf(wardline.EINVALID, "cursor is not valid")
	}
	return afterAt, parts[1], nil
}

// nextPage keeps the first limit items of a query that asked for limit+1 rows, and when there
// was one more, returns the cursor of the last item kept.
func nextPage[T any](items []T, limit int, cursor func(T) string) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, cursor(items[limit-1])
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
