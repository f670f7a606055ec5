package audit

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/transparency-dev/merkle/rfc6962"

	"wardline"
)

// leafVersion starts every leaf's data, so that a later encoding can never be mistaken for this one.
const leafVersion = "wardline.audit.v1\x00"

// LeafData returns the canonical encoding of e that the Merkle tree commits to. It covers every
// field of the event, so any change to any field changes the bytes:
//
//	"wardline.audit.v1" 0x00
//	Seq                 8 bytes, big-endian two's complement
//	At                  8 bytes, big-endian: microseconds since the Unix epoch (UTC; finer
//	                    precision is dropped, as the store keeps microseconds)
//	ID, OrgID, ActorID, SessionID, Addr, Action, TargetType, TargetID, ConversationID,
//	Outcome, Justification
//	                    each a uvarint byte length, then the bytes as they are
//	Detail              a uvarint count of keys, then per key in byte order: the key and the
//	                    value's canonical JSON, each as a uvarint length and the bytes
//
// Canonical JSON sorts object keys, writes no insignificant space, escapes no more than JSON
// requires, and writes each number in one way whatever Go type carried it (int64(5), float64(5)
// and json.Number("5.0") all encode as 5), so that an event read back from a JSON column
// encodes exactly as it did when it was written. A nil and an empty Detail encode alike. A value
// JSON cannot represent (NaN, a channel) encodes as a 0x00 byte and its Go type and value: a store
// cannot keep such a value in the first place.
func LeafData(e *wardline.AuditEvent) []byte {
	return appendLeafData(make([]byte, 0, 256), e)
}

// LeafHash returns the RFC 6962 leaf hash of LeafData(e): SHA-256 of a 0x00 byte and the data.
func LeafHash(e *wardline.AuditEvent) []byte {
	return rfc6962.DefaultHasher.HashLeaf(LeafData(e))
}

func appendLeafData(b []byte, e *wardline.AuditEvent) []byte {
	b = append(b, leafVersion...)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Seq))
	b = binary.BigEndian.AppendUint64(b, uint64(e.At.UnixMicro()))
	for _, s := range [...]string{
		e.ID, e.OrgID, e.ActorID, e.SessionID, e.Addr, e.Action,
		e.TargetType, e.TargetID, e.ConversationID, e.Outcome, e.Justification,
	} {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(e.Detail)))
	if len(e.Detail) == 0 {
		return b
	}
	keys := make([]string, 0, len(e.Detail))
	for k := range e.Detail {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var v []byte
	for _, k := range keys {
		b = appendString(b, k)
		v = appendCanonicalValue(v[:0], e.Detail[k])
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendCanonicalValue appends the canonical JSON of v. The common scalar types are written
// directly; anything else takes a round trip through encoding/json, which turns it into the same
// plain values (maps, slices, strings, json.Number) that a store hands back when it decodes Detail.
func appendCanonicalValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, v)
	case string:
		return appendJSONString(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return appendUnencodable(b, v)
		}
		return appendFloat(b, v)
	case json.Number:
		return appendNumber(b, string(v))
	case []any:
		b = append(b, '[')
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCanonicalValue(b, x)
		}
		return append(b, ']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendCanonicalValue(b, v[k])
		}
		return append(b, '}')
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return appendUnencodable(b, v)
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var plain any
	if err := d.Decode(&plain); err != nil {
		return appendUnencodable(b, v)
	}
	return appendCanonicalValue(b, plain)
}

func appendUnencodable(b []byte, v any) []byte {
	return fmt.Appendf(append(b, 0), "%T %v", v, v)
}

// appendNumber writes a JSON number in canonical form: integers in decimal, other values as the
// shortest text that reads back as the same float64.
func appendNumber(b []byte, s string) []byte {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return strconv.AppendInt(b, i, 10)
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return strconv.AppendUint(b, u, 10)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		// Not a number float64 can hold: keep the text, which is at least deterministic.
		return append(b, s...)
	}
	return appendFloat(b, f)
}

func appendFloat(b []byte, f float64) []byte {
	const maxExact = 1 << 53 // beyond this a float64 no longer holds every integer
	if f == math.Trunc(f) && math.Abs(f) <= maxExact {
		return strconv.AppendInt(b, int64(f), 10)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// appendJSONString writes s as a JSON string, escaping only what JSON requires; invalid UTF-8
// becomes U+FFFD, as encoding/json does, so the encoding matches what a JSON column kept.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\ufffd"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
