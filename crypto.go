package wardline

import (
	"context"
	"errors"
	"time"
)

// ErrContentDestroyed is returned when content is opened whose key was destroyed
// (crypto-shredding): the content no longer exists anywhere.
var ErrContentDestroyed = errors.New("content destroyed: its key was shredded")

// Key kinds (KeyRecord.Kind).
const (
	KeyKindOrg  = "org"  // an organisation key, wrapped by a master key term
	KeyKindData = "data" // a data key of one scope (a conversation, a patient...), wrapped by an org key
)

// KeyRecord is one term of a wrapped key as stored. The raw key exists only in memory.
type KeyRecord struct {
	ID          string     // unique id of this key term
	Kind        string     // KeyKindOrg or KeyKindData
	OrgID       string     // owning organisation
	Scope       string     // what it protects: the org id for org keys; a conversation id, ...
	Term        int        // 1 for a scope's first key, +1 per rotation
	WrappedBy   string     // id of the wrapping key: an org key's ID, or "kek:<term>"
	Wrapped     []byte     // the key sealed under WrappedBy; nil once destroyed
	CreatedAt   time.Time  //
	DestroyedAt *time.Time // set by crypto-shredding
}

// Keyring seals content at rest (envelope encryption, AES-256-GCM). Each ciphertext names the key
// term that sealed it and is bound to associated data naming its row and column, so that it
// cannot be moved to another row.
type Keyring interface {
	// NewOrgKey makes an organisation's first key, wrapped by the current master key term.
	// The caller stores the record in the transaction that creates the organisation.
	NewOrgKey(ctx context.Context, orgID string) (*KeyRecord, error)
	// NewDataKey makes a data key for scope, wrapped by the organisation's current key. The caller
	// stores the record in the transaction that creates what the key protects.
	NewDataKey(ctx context.Context, orgID, scope string) (*KeyRecord, error)
	// Seal encrypts plaintext under scope's current data key, bound to aad.
	Seal(ctx context.Context, scope string, aad, plaintext []byte) ([]byte, error)
	// Open decrypts what Seal produced with the same scope and aad. It returns
	// ErrContentDestroyed when the key was shredded.
	Open(ctx context.Context, scope string, aad, sealed []byte) ([]byte, error)
	// Forget drops a scope's keys from memory (after shredding, or to bound the cache).
	Forget(scope string)
	// IdentifierHMAC returns the hex HMAC-SHA-256 of an identifier (kind "nhs_number", say) under
	// the organisation's identifier key: equal identifiers give equal values, so a patient is
	// found by NHS number, and the audit log names what was searched for, without either holding
	// the identifier. The key is made on first use and never rotates (that would break look-ups).
	IdentifierHMAC(ctx context.Context, orgID, kind, value string) (string, error)
}

// AAD builds associated data naming a row and column, e.g. AAD("messages", id, "body").
func AAD(table, rowID, column string) []byte {
	b := make([]byte, 0, len(table)+len(rowID)+len(column)+2)
	b = append(b, table...)
	b = append(b, 0)
	b = append(b, rowID...)
	b = append(b, 0)
	return append(b, column...)
}
