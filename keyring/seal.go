package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync"

	"wardline"
)

const (
	keySize  = 32 // AES-256
	sealedV1 = 1  // version byte of sealed content
	wrapV1   = 1  // version byte of a wrapped key

	// A sealed value is: version (1) | term (uint32, big-endian) | nonce (12) | ciphertext | tag (16).
	termSize   = 4
	nonceSize  = 12
	tagSize    = 16
	headerSize = 1 + termSize

	wrappedSize = 1 + nonceSize + keySize + tagSize
)

// newAEAD makes the AES-256-GCM cipher for a raw key. Random nonces are drawn by the cipher itself
// (crypto/cipher.NewGCMWithRandomNonce), which keeps the FIPS 140-3 mode of Go usable, and it puts
// the nonce in front of the ciphertext, just where our formats want it.
func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != keySize {
		return nil, fmt.Errorf("keyring: key is %d bytes, want %d", len(key), keySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(block)
}

func newRawKey() []byte {
	raw := make([]byte, keySize)
	rand.Read(raw) // never fails: the runtime crashes rather than return weak randomness
	return raw
}

// wrapAD binds a wrapped key to the record that holds it, so that wrapped material copied onto
// another record (another scope, org or kind) does not unwrap. Term and WrappedBy are left out:
// re-wrapping changes WrappedBy, and a swapped term already fails because the key is wrong.
func wrapAD(rec *wardline.KeyRecord) []byte {
	b := make([]byte, 0, 64+len(rec.OrgID)+len(rec.Scope)+len(rec.ID))
	b = append(b, "wardline key v1"...)
	for _, f := range [...]string{rec.Kind, rec.OrgID, rec.Scope, rec.ID} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

func wrapKey(kek cipher.AEAD, rec *wardline.KeyRecord, raw []byte) []byte {
	out := make([]byte, 1, wrappedSize)
	out[0] = wrapV1
	return kek.Seal(out, nil, raw, wrapAD(rec))
}

// unwrapKey returns the raw key of rec; the caller clears it once it has made its cipher.
func unwrapKey(kek cipher.AEAD, rec *wardline.KeyRecord) ([]byte, error) {
	w := rec.Wrapped
	if len(w) != wrappedSize || w[0] != wrapV1 {
		return nil, fmt.Errorf("wrapped key material of %s is malformed (%d bytes)", rec.ID, len(w))
	}
	raw, err := kek.Open(make([]byte, 0, keySize), nil, w[1:], wrapAD(rec))
	if err != nil {
		return nil, err
	}
	return raw, nil
}

// adPool recycles the buffers that hold a seal's associated data: Seal and Open run for every
// message, and the associated data is only needed for the duration of one call.
var adPool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// appendSealAD builds the associated data of sealed content: the header (version and term), the
// scope, length-prefixed so that no scope/aad pair can pose as another, and the caller's aad.
func appendSealAD(b []byte, term uint32, scope string, aad []byte) []byte {
	b = append(b, sealedV1)
	b = binary.BigEndian.AppendUint32(b, term)
	b = binary.BigEndian.AppendUint32(b, uint32(len(scope)))
	b = append(b, scope...)
	return append(b, aad...)
}

func sealWith(dk *dataKey, scope string, aad, plaintext []byte) []byte {
	out := make([]byte, headerSize, headerSize+nonceSize+len(plaintext)+tagSize)
	out[0] = sealedV1
	binary.BigEndian.PutUint32(out[1:], dk.term)
	bp := adPool.Get().(*[]byte)
	ad := appendSealAD((*bp)[:0], dk.term, scope, aad)
	out = dk.aead.Seal(out, nil, plaintext, ad)
	putAD(bp, ad)
	return out
}

func openWith(dk *dataKey, scope string, aad, sealed []byte) ([]byte, error) {
	bp := adPool.Get().(*[]byte)
	ad := appendSealAD((*bp)[:0], dk.term, scope, aad)
	pt, err := dk.aead.Open(make([]byte, 0, len(sealed)-headerSize-nonceSize-tagSize), nil, sealed[headerSize:], ad)
	putAD(bp, ad)
	if err != nil {
		return nil, ErrNotAuthentic
	}
	return pt, nil
}

func putAD(bp *[]byte, ad []byte) {
	if cap(ad) > 4096 {
		return // an unusually large aad: let the collector have it rather than pin it in the pool
	}
	*bp = ad[:0]
	adPool.Put(bp)
}

// parseSealed checks the shape of sealed content and returns its key term.
func parseSealed(sealed []byte) (uint32, error) {
	if len(sealed) < headerSize+nonceSize+tagSize {
		return 0, fmt.Errorf("%w: %d bytes is too short", ErrMalformed, len(sealed))
	}
	if sealed[0] != sealedV1 {
		return 0, fmt.Errorf("%w: unknown version %d", ErrMalformed, sealed[0])
	}
	term := binary.BigEndian.Uint32(sealed[1:headerSize])
	if term == 0 {
		return 0, fmt.Errorf("%w: key term 0", ErrMalformed)
	}
	return term, nil
}
