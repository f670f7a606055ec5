package audit

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Checkpoint is a signed commitment to the log as it stood: its size and Merkle root. Copies
// kept outside the server (a witness file, syslog, an auditor's mailbox) make it impossible to
// rewrite or truncate the log without the verifier noticing.
type Checkpoint struct {
	Origin    string    // names the log, e.g. "wardline.example.nhs.uk/audit"; also the key name
	Size      uint64    // number of entries the checkpoint covers (entries 1..Size)
	Root      []byte    // RFC 6962 root hash of those entries
	Time      time.Time // when it was made, UTC, microsecond precision
	KeyID     string    // KeyID(Origin, the signing public key)
	Signature []byte    // Ed25519 signature of Body()
}

// The text forms follow C2SP's tlog-checkpoint and signed-note specifications
// (https://c2sp.org/tlog-checkpoint, https://c2sp.org/signed-note), so that standard tools and
// witnesses can read and verify them. The body is
//
//	<origin>
//	<size in decimal>
//	<root in standard base64>
//	time <RFC 3339, UTC, 6 fractional digits>
//
// each line ending in a newline, and the signed form appends a blank line and one signature line:
//
//	— <origin> <base64 of the 4-byte key hash followed by the 64-byte signature>
const (
	timeLinePrefix = "time "
	timeLayout     = "2006-01-02T15:04:05.000000Z07:00"
	sigLinePrefix  = "\u2014 " // an em dash and a space
	algEd25519     = 0x01      // signed-note signature type for Ed25519
)

// KeyID identifies a checkpoint signing key: the hex of the signed-note key hash, the first
// 4 bytes of SHA-256(origin, "\n", 0x01, public key).
func KeyID(origin string, pub ed25519.PublicKey) string {
	h := sha256.New()
	h.Write([]byte(origin))
	h.Write([]byte{'\n', algEd25519})
	h.Write(pub)
	return hex.EncodeToString(h.Sum(nil)[:4])
}

// VerifierKey returns the public key in the signed-note verifier key form
// ("<origin>+<key hash>+<base64 of 0x01 and the key>") that outside tools take.
func VerifierKey(origin string, pub ed25519.PublicKey) string {
	return origin + "+" + KeyID(origin, pub) + "+" +
		base64.StdEncoding.EncodeToString(append([]byte{algEd25519}, pub...))
}

// Body returns the text that the signature covers.
func (c *Checkpoint) Body() ([]byte, error) {
	if err := checkOrigin(c.Origin); err != nil {
		return nil, err
	}
	if len(c.Root) != HashSize {
		return nil, fmt.Errorf("audit: checkpoint root is %d bytes, want %d", len(c.Root), HashSize)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n%d\n%s\n%s%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root),
		timeLinePrefix, c.Time.UTC().Format(timeLayout))
	return b.Bytes(), nil
}

// checkOrigin enforces what a signed-note key name allows: non-empty, no space, no '+'.
func checkOrigin(origin string) error {
	if origin == "" || !utf8.ValidString(origin) ||
		strings.ContainsFunc(origin, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == '+' }) {
		return fmt.Errorf("audit: checkpoint origin %q must be non-empty, without spaces, control characters or '+'", origin)
	}
	return nil
}

// SignCheckpoint sets c.KeyID and c.Signature, signing with priv. It first rounds c.Time to the
// microsecond in UTC, as the text form records it.
func SignCheckpoint(priv ed25519.PrivateKey, c *Checkpoint) error {
	if len(priv) != ed25519.PrivateKeySize {
		return errors.New("audit: checkpoint signing key is not an Ed25519 private key")
	}
	c.Time = c.Time.UTC().Truncate(time.Microsecond)
	body, err := c.Body()
	if err != nil {
		return err
	}
	c.KeyID = KeyID(c.Origin, priv.Public().(ed25519.PublicKey))
	c.Signature = ed25519.Sign(priv, body)
	return nil
}

// VerifyCheckpoint checks that pub signed c as it stands.
func VerifyCheckpoint(pub ed25519.PublicKey, c *Checkpoint) error {
	if len(pub) != ed25519.PublicKeySize {
		return errors.New("audit: checkpoint key is not an Ed25519 public key")
	}
	body, err := c.Body()
	if err != nil {
		return err
	}
	if want := KeyID(c.Origin, pub); c.KeyID != want {
		return fmt.Errorf("audit: checkpoint signed by key %q, not by the given key %q", c.KeyID, want)
	}
	if !ed25519.Verify(pub, body, c.Signature) {
		return errors.New("audit: checkpoint signature is not valid")
	}
	return nil
}

// MarshalText returns the signed note: the body, a blank line and the signature line.
func (c *Checkpoint) MarshalText() ([]byte, error) {
	body, err := c.Body()
	if err != nil {
		return nil, err
	}
	id, err := hex.DecodeString(c.KeyID)
	if err != nil || len(id) != 4 {
		return nil, fmt.Errorf("audit: checkpoint key id %q is not 8 hex digits", c.KeyID)
	}
	if len(c.Signature) != ed25519.SignatureSize {
		return nil, errors.New("audit: checkpoint is not signed")
	}
	b := append(body, '\n')
	b = append(b, sigLinePrefix+c.Origin+" "...)
	b = base64.StdEncoding.AppendEncode(b, append(id, c.Signature...))
	return append(b, '\n'), nil
}

// UnmarshalText parses one signed note as MarshalText writes it. Signature lines by other keys
// (a witness's cosignature, say) are ignored; the first one named after the origin is kept.
func (c *Checkpoint) UnmarshalText(text []byte) error {
	cs, err := ParseCheckpoints(bytes.NewReader(text))
	if err != nil {
		return err
	}
	if len(cs) != 1 {
		return fmt.Errorf("audit: found %d checkpoints, want 1", len(cs))
	}
	*c = *cs[0]
	return nil
}

// ParseCheckpoint parses one signed checkpoint note.
func ParseCheckpoint(text []byte) (*Checkpoint, error) {
	c := new(Checkpoint)
	if err := c.UnmarshalText(text); err != nil {
		return nil, err
	}
	return c, nil
}

// ParseCheckpoints reads a file of signed checkpoint notes, such as a witness file to which each
// new checkpoint's MarshalText is appended. Blank lines between notes are allowed. It does not
// verify signatures.
func ParseCheckpoints(r io.Reader) ([]*Checkpoint, error) {
	var (
		out        []*Checkpoint
		body, sigs []string
		inSigs     bool
		lineNo     int
	)
	flush := func() error {
		if len(body) == 0 {
			return nil
		}
		c, err := parseNote(body, sigs)
		if err != nil {
			return fmt.Errorf("audit: checkpoint ending at line %d: %w", lineNo, err)
		}
		out = append(out, c)
		body, sigs, inSigs = nil, nil, false
		return nil
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		switch {
		case line == "" && len(body) > 0 && !inSigs:
			inSigs = true
		case line == "":
			if err := flush(); err != nil {
				return nil, err
			}
		case inSigs && strings.HasPrefix(line, sigLinePrefix):
			sigs = append(sigs, line)
		default:
			if inSigs {
				if err := flush(); err != nil {
					return nil, err
				}
			}
			body = append(body, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("audit: reading checkpoints: %w", err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

func parseNote(body, sigs []string) (*Checkpoint, error) {
	if len(body) != 4 || !strings.HasPrefix(body[3], timeLinePrefix) {
		return nil, errors.New("body is not origin, size, root and time lines")
	}
	c := &Checkpoint{Origin: body[0]}
	if err := checkOrigin(c.Origin); err != nil {
		return nil, err
	}
	size, err := strconv.ParseUint(body[1], 10, 64)
	if err != nil || strconv.FormatUint(size, 10) != body[1] {
		return nil, fmt.Errorf("bad size %q", body[1])
	}
	c.Size = size
	if c.Root, err = base64.StdEncoding.Strict().DecodeString(body[2]); err != nil || len(c.Root) != HashSize {
		return nil, fmt.Errorf("bad root %q", body[2])
	}
	ts := strings.TrimPrefix(body[3], timeLinePrefix)
	if c.Time, err = time.Parse(timeLayout, ts); err != nil || c.Time.UTC().Format(timeLayout) != ts {
		return nil, fmt.Errorf("bad time %q", ts)
	}
	c.Time = c.Time.UTC()
	for _, line := range sigs {
		name, sig, ok := strings.Cut(strings.TrimPrefix(line, sigLinePrefix), " ")
		if !ok || name != c.Origin {
			continue
		}
		raw, err := base64.StdEncoding.Strict().DecodeString(sig)
		if err != nil || len(raw) != 4+ed25519.SignatureSize {
			return nil, errors.New("bad signature line")
		}
		c.KeyID, c.Signature = hex.EncodeToString(raw[:4]), raw[4:]
		return c, nil
	}
	return nil, fmt.Errorf("no signature by %q", c.Origin)
}
