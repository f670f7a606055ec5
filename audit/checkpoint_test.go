package audit

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
	"time"
)

func signedCheckpoint(t *testing.T) (*Checkpoint, ed25519.PublicKey) {
	t.Helper()
	pub, priv := testKey("log")
	c := &Checkpoint{
		Origin: testOrigin,
		Size:   12345,
		Root:   naiveRoot(leafHashes(5)),
		Time:   time.Date(2025, 3, 1, 9, 30, 0, 123456789, time.FixedZone("BST", 3600)),
	}
	if err := SignCheckpoint(priv, c); err != nil {
		t.Fatal(err)
	}
	return c, pub
}

func TestCheckpoint_SignVerify(t *testing.T) {
	c, pub := signedCheckpoint(t)
	if err := VerifyCheckpoint(pub, c); err != nil {
		t.Fatalf("VerifyCheckpoint: %v", err)
	}
	if got, want := c.Time, time.Date(2025, 3, 1, 8, 30, 0, 123456000, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("Time = %v, want %v in UTC", got, want)
	}
	if got, want := c.KeyID, KeyID(testOrigin, pub); got != want || len(got) != 8 {
		t.Errorf("KeyID = %q, want %q", got, want)
	}

	tests := []struct {
		name   string
		change func(c *Checkpoint)
	}{
		{"Origin", func(c *Checkpoint) { c.Origin += "x" }},
		{"Size", func(c *Checkpoint) { c.Size++ }},
		{"Root", func(c *Checkpoint) { c.Root = append([]byte{c.Root[0] ^ 1}, c.Root[1:]...) }},
		{"Time", func(c *Checkpoint) { c.Time = c.Time.Add(time.Microsecond) }},
		{"Signature", func(c *Checkpoint) { c.Signature = append([]byte{c.Signature[0] ^ 1}, c.Signature[1:]...) }},
		{"KeyID", func(c *Checkpoint) { c.KeyID = "00000000" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, pub := signedCheckpoint(t)
			tt.change(c)
			if err := VerifyCheckpoint(pub, c); err == nil {
				t.Fatal("VerifyCheckpoint succeeded after the change")
			}
		})
	}

	t.Run("AnotherKey", func(t *testing.T) {
		c, _ := signedCheckpoint(t)
		other, _ := testKey("other")
		if err := VerifyCheckpoint(other, c); err == nil {
			t.Fatal("VerifyCheckpoint succeeded with another key")
		}
	})
}

func TestCheckpoint_Text(t *testing.T) {
	c, pub := signedCheckpoint(t)
	text, err := c.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := c.Body()
	wantBody := testOrigin + "\n12345\n" + base64.StdEncoding.EncodeToString(c.Root) + "\ntime 2025-03-01T08:30:00.123456Z\n"
	if string(body) != wantBody {
		t.Fatalf("Body:\n%s\nwant:\n%s", body, wantBody)
	}
	// A signed note: the body, a blank line, "— <name> base64(key hash || signature)".
	sig := strings.TrimPrefix(string(text), wantBody+"\n\u2014 "+testOrigin+" ")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(sig, "\n"))
	if err != nil || len(raw) != 68 || !strings.HasSuffix(sig, "\n") {
		t.Fatalf("signed note has the wrong form:\n%s", text)
	}
	if !ed25519.Verify(pub, body, raw[4:]) {
		t.Fatal("the note's signature does not cover the body")
	}

	got, err := ParseCheckpoint(text)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("ParseCheckpoint(MarshalText()) = %+v, want %+v", got, c)
	}
	if err := VerifyCheckpoint(pub, got); err != nil {
		t.Fatal(err)
	}

	// Damage to any bit of the text must be caught, by the parser or by the signature.
	for i := range text {
		for bit := 0; bit < 8; bit++ {
			damaged := bytes.Clone(text)
			damaged[i] ^= 1 << bit
			c, err := ParseCheckpoint(damaged)
			if err == nil && VerifyCheckpoint(pub, c) == nil {
				t.Fatalf("flipping bit %d of byte %d (%q) went unnoticed", bit, i, text[i])
			}
		}
	}
}

func TestParseCheckpoints_WitnessFile(t *testing.T) {
	pub, priv := testKey("log")
	_, wpriv := testKey("witness")
	var file bytes.Buffer
	var want []*Checkpoint
	for i := range 3 {
		c := &Checkpoint{Origin: testOrigin, Size: uint64(i * 10), Root: naiveRoot(leafHashes(i * 10)),
			Time: time.Date(2025, 3, 1, 9, i, 0, 0, time.UTC)}
		if err := SignCheckpoint(priv, c); err != nil {
			t.Fatal(err)
		}
		want = append(want, c)
		text, _ := c.MarshalText()
		if i == 1 {
			// A witness's cosignature line after the log's is ignored.
			text = append(text, "\u2014 witness.example AAAA"+base64.StdEncoding.EncodeToString(ed25519.Sign(wpriv, text))+"\n"...)
		}
		file.Write(text)
		if i != 2 {
			file.WriteString("\n") // blocks may or may not be separated by blank lines
		}
	}
	got, err := ParseCheckpoints(&file)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseCheckpoints = %+v, want %+v", got, want)
	}
	for _, c := range got {
		if err := VerifyCheckpoint(pub, c); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCheckpoint_Invalid(t *testing.T) {
	_, priv := testKey("log")
	for _, origin := range []string{"", "has space", "a+b", "tab\there", "new\nline"} {
		c := &Checkpoint{Origin: origin, Root: make([]byte, 32)}
		if err := SignCheckpoint(priv, c); err == nil {
			t.Errorf("SignCheckpoint with origin %q succeeded", origin)
		}
	}
	if err := SignCheckpoint(priv, &Checkpoint{Origin: testOrigin, Root: make([]byte, 31)}); err == nil {
		t.Error("SignCheckpoint with a 31-byte root succeeded")
	}
	if _, err := (&Checkpoint{Origin: testOrigin, Root: make([]byte, 32)}).MarshalText(); err == nil {
		t.Error("MarshalText of an unsigned checkpoint succeeded")
	}
	for _, text := range []string{
		"", "origin\n1\n",
		testOrigin + "\n01\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\ntime 2025-03-01T09:00:00.000000Z\n\n\u2014 " + testOrigin + " AAAA\n",
		testOrigin + "\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\ntime 2025-03-01T09:00:00Z\n",
	} {
		if _, err := ParseCheckpoint([]byte(text)); err == nil {
			t.Errorf("ParseCheckpoint(%q) succeeded", text)
		}
	}
}
