// Package mock holds hand-written stand-ins for what Wardline's tests cannot run for real
// everywhere: a passkey authenticator and the browser in front of it, and a clock moved by hand.
package mock

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// Authenticator is a software passkey authenticator with the browser's part of WebAuthn: given
// the options a Wardline begin endpoint answers (the "public_key" object), it makes the JSON a
// browser's PublicKeyCredential.toJSON() would send back. Keys are ES256, attestation "none",
// credentials discoverable, user presence and verification always asserted. The browser test
// (Chromium's virtual authenticator) checks the same endpoints against a real browser.
type Authenticator struct {
	Origin string // what the browser would put in clientDataJSON, e.g. "http://localhost:8443"

	mu    sync.Mutex
	creds []*softCredential
}

type softCredential struct {
	id         []byte
	key        *ecdsa.PrivateKey
	rpID       string
	userHandle []byte
	count      uint32
}

var b64 = base64.RawURLEncoding

// Create answers navigator.credentials.create() for the given creation options.
func (a *Authenticator) Create(options []byte) (json.RawMessage, error) {
	var o struct {
		RP        struct{ ID string }   `json:"rp"`
		User      struct{ ID string }   `json:"user"`
		Challenge string                `json:"challenge"`
		Exclude   []struct{ ID string } `json:"excludeCredentials"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, err
	}
	handle, err := b64.DecodeString(o.User.ID)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ex := range o.Exclude {
		for _, c := range a.creds {
			if b64.EncodeToString(c.id) == ex.ID {
				return nil, errors.New("InvalidStateError: a credential of this authenticator is excluded")
			}
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	id := make([]byte, 32)
	_, _ = rand.Read(id)
	c := &softCredential{id: id, key: key, rpID: o.RP.ID, userHandle: handle}
	a.creds = append(a.creds, c)

	clientData, _ := json.Marshal(map[string]any{"type": "webauthn.create", "challenge": o.Challenge, "origin": a.Origin, "crossOrigin": false})
	pub, err := key.PublicKey.ECDH()
	if err != nil {
		return nil, err
	}
	raw := pub.Bytes() // 0x04 || X || Y
	cose, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: raw[1:33], -3: raw[33:65]})
	if err != nil {
		return nil, err
	}
	authData := authenticatorData(c.rpID, 0x01|0x04|0x40, 0)
	authData = append(authData, make([]byte, 16)...) // AAGUID: none
	authData = binary.BigEndian.AppendUint16(authData, uint16(len(id)))
	authData = append(authData, id...)
	authData = append(authData, cose...)
	att, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": authData})
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(id), "rawId": b64.EncodeToString(id), "type": "public-key",
		"authenticatorAttachment": "platform",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"internal"},
		},
		"clientExtensionResults": map[string]any{},
	})
}

// Get answers navigator.credentials.get() for the given request options: with the allowed
// credential it holds, or (no allow list: a passwordless sign-in) its first for the site.
func (a *Authenticator) Get(options []byte) (json.RawMessage, error) {
	var o struct {
		Challenge string                `json:"challenge"`
		RPID      string                `json:"rpId"`
		Allow     []struct{ ID string } `json:"allowCredentials"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var c *softCredential
	for _, cand := range a.creds {
		if cand.rpID != o.RPID {
			continue
		}
		if len(o.Allow) == 0 {
			c = cand
			break
		}
		for _, al := range o.Allow {
			if b64.EncodeToString(cand.id) == al.ID {
				c = cand
			}
		}
	}
	if c == nil {
		return nil, errors.New("NotAllowedError: no credential for this request")
	}
	c.count++
	clientData, _ := json.Marshal(map[string]any{"type": "webauthn.get", "challenge": o.Challenge, "origin": a.Origin, "crossOrigin": false})
	authData := authenticatorData(c.rpID, 0x01|0x04, c.count)
	hash := sha256.Sum256(clientData)
	digest := sha256.Sum256(append(append([]byte{}, authData...), hash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, c.key, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.id), "rawId": b64.EncodeToString(c.id), "type": "public-key",
		"authenticatorAttachment": "platform",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData),
			"authenticatorData": b64.EncodeToString(authData),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(c.userHandle),
		},
		"clientExtensionResults": map[string]any{},
	})
}

// authenticatorData is the fixed part: the relying party's hash, flags and signature counter.
func authenticatorData(rpID string, flags byte, count uint32) []byte {
	h := sha256.Sum256([]byte(rpID))
	out := append(h[:], flags)
	return binary.BigEndian.AppendUint32(out, count)
}
