package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func TestIdentifierHMAC(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	m := hmac.New(sha256.New, key)
	m.Write([]byte("nhs_number\x009434765919"))
	want := hex.EncodeToString(m.Sum(nil))
	if got := IdentifierHMAC(key, IdentNHSNumber, "9434765919"); got != want {
		t.Fatalf("IdentifierHMAC = %s, want %s", got, want)
	}

	same := []struct{ kind, a, b string }{
		{IdentNHSNumber, "9434765919", "943 476 5919"},
		{IdentNHSNumber, "9434765919", " 943-476-5919\t"},
		{IdentEmail, "Dr.Who@NHS.net", " dr.who@nhs.net"},
		{"hospital_number", "RX1234", "RX1234 "},
	}
	for _, tt := range same {
		if IdentifierHMAC(key, tt.kind, tt.a) != IdentifierHMAC(key, tt.kind, tt.b) {
			t.Errorf("%s %q and %q differ", tt.kind, tt.a, tt.b)
		}
	}

	base := IdentifierHMAC(key, IdentNHSNumber, "9434765919")
	differ := map[string]string{
		"another value":           IdentifierHMAC(key, IdentNHSNumber, "9434765918"),
		"another kind":            IdentifierHMAC(key, "hospital_number", "9434765919"),
		"another key":             IdentifierHMAC([]byte("fedcba9876543210fedcba9876543210"), IdentNHSNumber, "9434765919"),
		"kind and value boundary": IdentifierHMAC(key, "nhs_number9", "434765919"),
	}
	for name, got := range differ {
		if got == base {
			t.Errorf("%s: same HMAC", name)
		}
	}
	if len(base) != 64 {
		t.Errorf("len = %d, want 64 hex digits", len(base))
	}
}

func TestIdentifierHMAC_ShortKeyPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("IdentifierHMAC with a 15-byte key did not panic")
		}
	}()
	IdentifierHMAC(make([]byte, 15), IdentNHSNumber, "9434765919")
}
