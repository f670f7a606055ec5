package keyring

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// Transport seals data that travels between nodes (events on the bus) under keys derived from
// the master key: every node that holds the master key file can open it, and nothing in between
// can read or forge it. One key per master key term, derived with HKDF-SHA256 and a purpose label,
// so that no key protects two kinds of data; the newest term seals, any held term opens.
type Transport struct {
	newest uint32
	aeads  map[uint32]cipher.AEAD
	names  []byte // HMAC key of Name, from the oldest term
}

// Transport derives the transport keys for purpose (e.g. "event-bus") from every master key term.
// Nodes must hold the same master key file: an event sealed under a term a node lacks cannot be
// opened there (it is dropped, and that node's clients recover it as any lost event).
func (m *MasterKeys) Transport(purpose string) (*Transport, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	t := &Transport{aeads: map[uint32]cipher.AEAD{}}
	for _, mt := range m.terms {
		key, err := hkdf.Key(sha256.New, mt.key, nil, "wardline transport v1: "+purpose, 32)
		if err != nil {
			return nil, err
		}
		aead, err := newAEAD(key)
		if err != nil {
			return nil, err
		}
		t.aeads[uint32(mt.term)] = aead
		t.newest = max(t.newest, uint32(mt.term))
		if t.names == nil { // terms are oldest first
			if t.names, err = hkdf.Key(sha256.New, mt.key, nil, "wardline transport v1: "+purpose+" names", 32); err != nil {
				return nil, err
			}
		}
	}
	if len(t.aeads) == 0 {
		return nil, errors.New("keyring: no master key term")
	}
	return t, nil
}

// Name returns an opaque, stable name for data (22 URL-safe characters: 128 bits of
// HMAC-SHA256), the same on every node holding the master key file and meaningless to anyone
// else: the bus names subjects with it, so that NATS sees no conversation or user ids. It is
// keyed from the oldest term, so adding a term does not rename anything; retiring the oldest
// term renames everything, so every node must load the new file before traffic resumes.
func (t *Transport) Name(data []byte) string {
	h := hmac.New(sha256.New, t.names)
	h.Write(data)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}

// Seal encrypts plaintext bound to aad: 4 bytes of term, a random nonce, then the ciphertext.
func (t *Transport) Seal(aad, plaintext []byte) []byte {
	aead := t.aeads[t.newest]
	out := make([]byte, 4, 4+aead.NonceSize()+len(plaintext)+aead.Overhead())
	binary.BigEndian.PutUint32(out, t.newest)
	nonce := out[4 : 4+aead.NonceSize()]
	out = out[:4+aead.NonceSize()]
	_, _ = rand.Read(nonce)
	return aead.Seal(out, nonce, plaintext, aad)
}

// Open decrypts what Seal produced with the same aad.
func (t *Transport) Open(aad, sealed []byte) ([]byte, error) {
	if len(sealed) < 4 {
		return nil, errors.New("keyring: sealed transport data too short")
	}
	term := binary.BigEndian.Uint32(sealed)
	aead := t.aeads[term]
	if aead == nil {
		return nil, fmt.Errorf("keyring: transport data sealed under master key term %d, which this node does not hold", term)
	}
	rest := sealed[4:]
	if len(rest) < aead.NonceSize() {
		return nil, errors.New("keyring: sealed transport data too short")
	}
	return aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], aad)
}

// ForgetAll drops every key from memory; the next use of each loads it from storage again. A node
// of a cluster calls it when its bus reports a gap: it may have missed a key-shredded event, and a
// shredded key must not stay usable in any node's memory.
func (k *Keyring) ForgetAll() {
	k.cacheMu.Lock()
	defer k.cacheMu.Unlock()
	k.epoch++
	empty := func(m *sync.Map) {
		m.Range(func(key, _ any) bool {
			m.Delete(key)
			return true
		})
	}
	empty(&k.scopes)
	empty(&k.orgs)
	empty(&k.audit.idents)
}
