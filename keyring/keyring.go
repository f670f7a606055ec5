// Package keyring seals Wardline's data at rest by envelope encryption: a master key term (KEK,
// from a file) wraps one key per organisation, which wraps one data key per scope (a
// conversation, a patient); content is sealed with AES-256-GCM under the scope's newest data-key
// term, bound to its row and column. Rotation changes wrappings only, never the sealed content.
//
// Nonces are random (96 bits), safe for 2^32 seals per key, so a data key gives way to a new term
// after MaxSealsPerKey seals (2^30). Counts live in memory: the bound per key is that times the
// processes (nodes, restarts) that sealed with it, and no conversation comes near.
package keyring

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"wardline"
)

// Errors of Open besides wardline.ErrContentDestroyed. Their text names no content.
var (
	ErrMalformed    = errors.New("keyring: sealed content is malformed")
	ErrNotAuthentic = errors.New("keyring: sealed content failed authentication: tampered with, or sealed for another row, column or scope")
	ErrNoKey        = errors.New("keyring: no key")
)

// DefaultMaxSealsPerKey is where a data key is replaced by a new term: a quarter of the 2^32
// seals that random 96-bit nonces allow.
const DefaultMaxSealsPerKey = 1 << 30

// Storage is the part of wardline.Store the keyring needs.
type Storage interface {
	Keys(ctx context.Context, scope string) ([]*wardline.KeyRecord, error)
	KeysWrappedBy(ctx context.Context, wrappedBy, afterID string, limit int) ([]*wardline.KeyRecord, error)
	Update(ctx context.Context, fn func(tx wardline.Tx) error) error
}

var (
	_ Storage          = wardline.Store(nil)
	_ wardline.Keyring = (*Keyring)(nil)
)

// Keyring implements wardline.Keyring. Raw keys exist only inside it, as ciphers in its caches.
// Seal and Open are safe for concurrent use; so are the rotations, which run one at a time.
type Keyring struct {
	// MaxSealsPerKey is how many seals a data key makes before its scope gets a new term.
	// Set it, if at all, before first use.
	MaxSealsPerKey uint64

	master *MasterKeys
	store  Storage
	clock  wardline.Clock

	// The caches hold immutable snapshots, so that Seal and Open read them without locking.
	scopes sync.Map // scope → *scopeKeys
	orgs   sync.Map // org id → *orgKeys

	// cacheMu orders changes to the caches. Forget bumps epoch, and a load that began before
	// does not store its (possibly stale) result: a shredded scope is never cached again alive.
	cacheMu sync.Mutex
	epoch   uint64

	scopeLoads group[*scopeKeys]
	orgLoads   group[*orgKeys]
	rollovers  group[*dataKey]
	rotateMu   sync.Mutex

	audit auditKeys // the audit log's signing and identifier keys (audit.go)
}

// New returns a keyring that reads and writes key records in store, wrapping organisation keys
// under master's newest term.
func New(master *MasterKeys, store Storage, clock wardline.Clock) *Keyring {
	return &Keyring{MaxSealsPerKey: DefaultMaxSealsPerKey, master: master, store: store, clock: clock}
}

// dataKey is one term of a scope's data key. It is shared by every snapshot of its scope, so its
// seal count survives a reload.
type dataKey struct {
	id    string
	term  uint32
	aead  cipher.AEAD
	seals atomic.Uint64
}

// NewOrgKey makes an organisation's first key, wrapped by the newest master key term. It writes
// nothing: the caller inserts the record in the transaction that creates the organisation.
func (k *Keyring) NewOrgKey(ctx context.Context, orgID string) (*wardline.KeyRecord, error) {
	if orgID == "" {
		return nil, errors.New("keyring: NewOrgKey: empty organisation id")
	}
	recs, err := k.store.Keys(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("keyring: reading keys of organisation %s: %w", orgID, err)
	}
	for _, r := range recs {
		if r.Kind == wardline.KeyKindOrg {
			return nil, fmt.Errorf("keyring: organisation %s already has a key; rotate it with RotateOrgKey", orgID)
		}
	}
	rec, ok, err := k.makeOrgKey(orgID)
	if err != nil {
		return nil, err
	}
	rec.Term = 1
	ok.term = 1
	k.cacheMu.Lock()
	k.orgs.Store(orgID, &orgKeys{terms: []*orgKey{ok}})
	k.cacheMu.Unlock()
	return rec, nil
}

// NewDataKey makes a scope's first data key, wrapped by the organisation's newest key. It writes
// nothing: the caller inserts the record in the transaction that creates what it protects, and
// may Seal at once, before that transaction commits.
func (k *Keyring) NewDataKey(ctx context.Context, orgID, scope string) (*wardline.KeyRecord, error) {
	if orgID == "" || scope == "" {
		return nil, errors.New("keyring: NewDataKey: empty organisation id or scope")
	}
	recs, err := k.store.Keys(ctx, scope)
	if err != nil {
		return nil, fmt.Errorf("keyring: reading keys of scope %s: %w", scope, err)
	}
	for _, r := range recs {
		if r.Kind == wardline.KeyKindData {
			return nil, fmt.Errorf("keyring: scope %s already has a data key; rotate it with RotateDataKey", scope)
		}
	}
	org, err := k.orgForNewKey(ctx, orgID)
	if err != nil {
		return nil, err
	}
	rec, dk, err := k.makeDataKey(org, orgID, scope)
	if err != nil {
		return nil, err
	}
	rec.Term, dk.term = 1, 1
	k.cacheMu.Lock()
	k.scopes.Store(scope, &scopeKeys{orgID: orgID, terms: []*dataKey{dk}})
	k.cacheMu.Unlock()
	return rec, nil
}

// CheckOrgKey proves that the master key unwraps every live key term of an organisation. Run at
// start-up, it stops a server given the wrong master key file at once instead of on first use.
// It writes nothing.
func (k *Keyring) CheckOrgKey(ctx context.Context, orgID string) error {
	_, err := k.loadOrg(ctx, orgID)
	return err
}

// Seal encrypts plaintext under the newest data-key term of scope, bound to aad, which should
// name the row and column the result is stored in (wardline.AAD).
func (k *Keyring) Seal(ctx context.Context, scope string, aad, plaintext []byte) ([]byte, error) {
	sk, err := k.scope(ctx, scope)
	if err != nil {
		return nil, err
	}
	if sk.destroyed {
		return nil, wardline.ErrContentDestroyed
	}
	limit := k.MaxSealsPerKey
	if limit == 0 {
		limit = DefaultMaxSealsPerKey
	}
	dk := sk.current()
	for dk.seals.Add(1) > limit {
		if dk, err = k.rollover(ctx, scope, sk.orgID, dk); err != nil {
			return nil, err
		}
	}
	return sealWith(dk, scope, aad, plaintext), nil
}

// Open decrypts what Seal made for the same scope and aad. It returns wardline.ErrContentDestroyed
// when the scope (or its organisation) was shredded, ErrMalformed for something that is not
// sealed content and ErrNotAuthentic when the content was altered or belongs elsewhere.
func (k *Keyring) Open(ctx context.Context, scope string, aad, sealed []byte) ([]byte, error) {
	term, err := parseSealed(sealed)
	if err != nil {
		return nil, err
	}
	sk, err := k.scope(ctx, scope)
	if err != nil {
		return nil, err
	}
	if !sk.destroyed && sk.term(term) == nil && term > sk.current().term {
		// Another node may have given the scope a new term since it was cached here.
		if sk, err = k.reloadScope(ctx, scope); err != nil {
			return nil, err
		}
	}
	if sk.destroyed {
		return nil, wardline.ErrContentDestroyed
	}
	dk := sk.term(term)
	if dk == nil {
		return nil, fmt.Errorf("%w: scope %s has no key term %d", ErrNotAuthentic, scope, term)
	}
	return openWith(dk, scope, aad, sealed)
}

// Forget drops a scope's keys from memory; forgetting an organisation drops its data keys too.
// The next use loads them from storage again.
func (k *Keyring) Forget(scope string) {
	k.cacheMu.Lock()
	defer k.cacheMu.Unlock()
	k.epoch++
	k.scopes.Delete(scope)
	k.audit.idents.Delete(scope) // an organisation's identifier key, when scope is its id
	if _, ok := k.orgs.LoadAndDelete(scope); ok {
		k.scopes.Range(func(s, v any) bool {
			if v.(*scopeKeys).orgID == scope {
				k.scopes.Delete(s)
			}
			return true
		})
	}
}

// Shred erases the key material of every term of scope (crypto-shredding) and forgets it: from
// then on its content opens as wardline.ErrContentDestroyed, here and after a restart. Shredding
// an organisation's id erases its organisation key, and with it every scope of the organisation.
// Other nodes must be told to Forget the scope, or they keep opening it from their caches.
//
// What shredding does not reach, said plainly: it erases the wrapped key from the live database
// only. A backup taken before the shred still holds that wrapped data key, and the organisation
// key and master key term that unwrap it are still alive, so the backup can still be read. It
// becomes unreadable for the scope only once the organisation key term that wrapped the data key
// has been rotated and retired (RotateOrgKey, then RetireOrgKeyTerms), and the master key term
// that wrapped that organisation key has been rotated and retired too (MasterKeys.AddTerm,
// RotateMasterKey, RetireMasterTerm) and every copy of the old master key file destroyed. Until
// then "erased" means "erased from the live system". The store must also overwrite freed pages
// (SQLite: secure_delete, and a WAL checkpoint) or the material lingers on disk.
func (k *Keyring) Shred(ctx context.Context, scope string) error {
	if scope == "" {
		return errors.New("keyring: Shred: empty scope")
	}
	now := k.clock.Now()
	err := k.store.Update(ctx, func(tx wardline.Tx) error {
		return tx.DestroyKeys(ctx, scope, now)
	})
	k.Forget(scope)
	if err != nil {
		return fmt.Errorf("keyring: shredding scope %s: %w", scope, err)
	}
	// Erasure is the point, so prove it rather than trust it.
	recs, err := k.store.Keys(ctx, scope)
	if err != nil {
		return fmt.Errorf("keyring: checking the shredding of scope %s: %w", scope, err)
	}
	for _, r := range recs {
		if len(r.Wrapped) > 0 || r.DestroyedAt == nil {
			return fmt.Errorf("keyring: shredding scope %s left %s key %s in place: the store did not erase it", scope, r.Kind, r.ID)
		}
	}
	return nil
}
