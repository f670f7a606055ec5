package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Kinds of identifier, for IdentifierHMAC.
const (
	IdentNHSNumber = "nhs_number"
	IdentEmail     = "email"
)

// minIdentKeySize guards against an empty or toy key, with which the HMAC of a 10-digit NHS
// number could be reversed by trying them all.
const minIdentKeySize = 16

// IdentifierHMAC returns the hex HMAC-SHA-256, under key, of kind, a zero byte and the
// normalised value. The log records it instead of an identifier that could identify a patient;
// an auditor who knows the identifier computes the same value to search for it. The key is the
// organisation's secret, and IdentifierHMAC panics if it is shorter than 16 bytes, since a
// guessable key would put patients' identifiers in the log in all but name.
//
// Normalising makes equal identifiers written differently match: NHS numbers lose spaces and
// hyphens ("943 476 5919" is "9434765919"), email addresses are lower-cased, and every value
// loses leading and trailing white space.
func IdentifierHMAC(key []byte, kind, value string) string {
	if len(key) < minIdentKeySize {
		panic("audit: identifier HMAC key must be at least 16 bytes")
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(normaliseIdentifier(kind, value)))
	return hex.EncodeToString(m.Sum(nil))
}

func normaliseIdentifier(kind, value string) string {
	value = strings.TrimSpace(value)
	switch kind {
	case IdentNHSNumber:
		return strings.Map(func(r rune) rune {
			if r == '-' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, value)
	case IdentEmail:
		return strings.ToLower(value)
	}
	return value
}
