package keyring

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"wardline"
	"wardline/audit"
)

// The audit log's two keys, kept like every other key: wrapped in the keys table, raw only in
// this keyring's memory.
//
//   - The checkpoint signing key (Ed25519) is one per deployment, because the log is: its 32-byte
//     seed is wrapped by the master key, like an organisation key, so that whoever verifies the
//     log offline needs the master key file and nothing else, and RotateMasterKey re-wraps it
//     with the organisation keys. The key itself never changes, so checkpoints of any age verify.
//   - The identifier HMAC key is one per organisation, wrapped by the organisation's key, like a
//     data key, so that RotateOrgKey re-wraps it and shredding the organisation destroys it. It
//     never changes either: an HMAC written years ago must still match what an auditor types.
//
// Both are made on first use, in a transaction that also writes an audit entry saying so.
const (
	KeyKindAuditSigning = "audit-signing"
	KeyKindIdentHMAC    = "ident-hmac"

	auditSigningScope = "audit/checkpoint"
	identScopePrefix  = "ident/"
)

// auditKeys caches the audit keys in memory.
type auditKeys struct {
	mu      sync.Mutex
	signing ed25519.PrivateKey
	idents  sync.Map // org id → []byte
}

// CheckpointOrigin names the log whose checkpoints pub signs: "wardline/audit/" and the first
// 16 hex digits of SHA-256(pub), stable for the life of the deployment and unique to it.
func CheckpointOrigin(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return "wardline/audit/" + hex.EncodeToString(h[:8])
}

// CheckpointPublicKey returns the checkpoint signing key's public half. With create it makes the
// key when there is none; without, it answers ErrNoKey.
func (k *Keyring) CheckpointPublicKey(ctx context.Context, create bool) (ed25519.PublicKey, error) {
	priv, err := k.signingKey(ctx, create)
	if err != nil {
		return nil, err
	}
	return priv.Public().(ed25519.PublicKey), nil
}

// SignCheckpoint sets c's origin and signs it with the deployment's checkpoint key, making the
// key on first use.
func (k *Keyring) SignCheckpoint(ctx context.Context, c *audit.Checkpoint) error {
	priv, err := k.signingKey(ctx, true)
	if err != nil {
		return err
	}
	c.Origin = CheckpointOrigin(priv.Public().(ed25519.PublicKey))
	return audit.SignCheckpoint(priv, c)
}

func (k *Keyring) signingKey(ctx context.Context, create bool) (ed25519.PrivateKey, error) {
	k.audit.mu.Lock()
	defer k.audit.mu.Unlock()
	if k.audit.signing != nil {
		return k.audit.signing, nil
	}
	for range 3 {
		recs, err := k.store.Keys(ctx, auditSigningScope)
		if err != nil {
			return nil, fmt.Errorf("keyring: reading the audit signing key: %w", err)
		}
		for _, r := range recs {
			if r.Kind != KeyKindAuditSigning {
				continue
			}
			if !hasMaterial(r) {
				return nil, fmt.Errorf("keyring: the audit signing key %s has been erased", r.ID)
			}
			t, ok := parseKEKID(r.WrappedBy)
			mt := k.master.lookup(t)
			if !ok || mt == nil {
				return nil, fmt.Errorf("keyring: the audit signing key is wrapped by %s, which %s does not hold", r.WrappedBy, k.master.Path())
			}
			raw, err := unwrapKey(mt.aead, r)
			if err != nil {
				return nil, fmt.Errorf("keyring: master key %s cannot unwrap the audit signing key (wrong master key file?): %w", r.WrappedBy, err)
			}
			k.audit.signing = ed25519.NewKeyFromSeed(raw)
			clear(raw)
			return k.audit.signing, nil
		}
		if !create {
			return nil, fmt.Errorf("%w: no audit signing key yet", ErrNoKey)
		}
		mt := k.master.newest()
		rec := &wardline.KeyRecord{ID: wardline.NewID(), Kind: KeyKindAuditSigning, Scope: auditSigningScope, Term: 1,
			WrappedBy: kekID(mt.term), CreatedAt: k.clock.Now()}
		seed := newRawKey()
		rec.Wrapped = wrapKey(mt.aead, rec, seed)
		priv := ed25519.NewKeyFromSeed(seed)
		clear(seed)
		ev := keyEvent(k.clock, "", wardline.ActionSigningKeyCreated, rec.ID)
		ev.Detail = map[string]any{"origin": CheckpointOrigin(priv.Public().(ed25519.PublicKey))}
		err = k.store.Update(ctx, func(tx wardline.Tx) error {
			if err := tx.InsertKey(ctx, rec); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, ev)
		})
		if wardline.ErrorCode(err) == wardline.ECONFLICT {
			continue // another node made it first: read theirs
		} else if err != nil {
			return nil, fmt.Errorf("keyring: storing the audit signing key: %w", err)
		}
		k.audit.signing = priv
		return priv, nil
	}
	return nil, errors.New("keyring: the audit signing key could not be made or read")
}

// IdentifierHMAC returns audit.IdentifierHMAC of value under the organisation's identifier key,
// making the key on first use. The log records it in place of an identifier that could identify
// a patient; an auditor who types the identifier gets the same value to search for.
func (k *Keyring) IdentifierHMAC(ctx context.Context, orgID, kind, value string) (string, error) {
	key, err := k.identKey(ctx, orgID)
	if err != nil {
		return "", err
	}
	return audit.IdentifierHMAC(key, kind, value), nil
}

func (k *Keyring) identKey(ctx context.Context, orgID string) ([]byte, error) {
	if orgID == "" {
		return nil, errors.New("keyring: IdentifierHMAC: empty organisation id")
	}
	if v, ok := k.audit.idents.Load(orgID); ok {
		return v.([]byte), nil
	}
	k.audit.mu.Lock()
	defer k.audit.mu.Unlock()
	scope := identScopePrefix + orgID
	for range 3 {
		recs, err := k.store.Keys(ctx, scope)
		if err != nil {
			return nil, fmt.Errorf("keyring: reading the identifier key of %s: %w", orgID, err)
		}
		for _, r := range recs {
			if r.Kind != KeyKindIdentHMAC {
				continue
			}
			if !hasMaterial(r) {
				return nil, wardline.ErrContentDestroyed
			}
			org, err := k.orgKey(ctx, orgID, r.WrappedBy)
			if err != nil {
				return nil, err
			}
			raw, err := unwrapKey(org.aead, r)
			if err != nil {
				return nil, fmt.Errorf("keyring: organisation key %s cannot unwrap identifier key %s: %w", org.id, r.ID, err)
			}
			k.audit.idents.Store(orgID, raw)
			return raw, nil
		}
		org, err := k.orgForNewKey(ctx, orgID)
		if err != nil {
			return nil, err
		}
		rec := &wardline.KeyRecord{ID: wardline.NewID(), Kind: KeyKindIdentHMAC, OrgID: orgID, Scope: scope, Term: 1,
			WrappedBy: org.id, CreatedAt: k.clock.Now()}
		raw := newRawKey()
		rec.Wrapped = wrapKey(org.aead, rec, raw)
		ev := keyEvent(k.clock, orgID, wardline.ActionIdentKeyCreated, rec.ID)
		err = k.store.Update(ctx, func(tx wardline.Tx) error {
			if err := tx.InsertKey(ctx, rec); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, ev)
		})
		if wardline.ErrorCode(err) == wardline.ECONFLICT {
			clear(raw)
			continue
		} else if err != nil {
			clear(raw)
			return nil, fmt.Errorf("keyring: storing the identifier key of %s: %w", orgID, err)
		}
		k.audit.idents.Store(orgID, raw)
		return raw, nil
	}
	return nil, errors.New("keyring: the identifier key could not be made or read")
}

// keyEvent is the audit entry of a key the keyring made on its own: no person did it.
func keyEvent(clock wardline.Clock, orgID, action, keyID string) *wardline.AuditEvent {
	return &wardline.AuditEvent{ID: wardline.NewID(), At: clock.Now().UTC().Truncate(time.Microsecond), OrgID: orgID,
		Action: action, TargetType: "key", TargetID: keyID, Outcome: wardline.OutcomeSuccess}
}
