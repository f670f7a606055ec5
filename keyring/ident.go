package keyring

import (
	"context"
	"errors"
	"fmt"

	"wardline"
	"wardline/audit"
)

// The identifier key of an organisation keys the HMACs by which a patient is found (and the audit
// log names what was searched for) without the NHS number being stored. It is a record of kind
// wardline.KeyKindIdent whose scope is the organisation's id: organisation key rotations re-wrap
// it like any data key, shredding the organisation destroys it, and it is never replaced, since a
// new key would stop every stored HMAC from matching.

// IdentifierHMAC returns audit.IdentifierHMAC of the identifier under orgID's identifier key,
// making the key on first use.
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
	if v, ok := k.idents.Load(orgID); ok {
		return v.([]byte), nil
	}
	for range 3 {
		e := k.epochNow()
		key, err := k.readIdentKey(ctx, orgID)
		if errors.Is(err, ErrNoKey) {
			if err := k.makeIdentKey(ctx, orgID); err != nil {
				// Another node may have made it first (the insert conflicts): read theirs.
				if _, rerr := k.readIdentKey(ctx, orgID); rerr != nil {
					return nil, err
				}
			}
			continue
		} else if err != nil {
			return nil, err
		}
		k.cacheMu.Lock()
		if k.epoch == e {
			k.idents.Store(orgID, key)
		}
		k.cacheMu.Unlock()
		return key, nil
	}
	return nil, fmt.Errorf("keyring: no identifier key for organisation %s", orgID)
}

func (k *Keyring) readIdentKey(ctx context.Context, orgID string) ([]byte, error) {
	recs, err := k.store.Keys(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("keyring: reading keys of organisation %s: %w", orgID, err)
	}
	for _, r := range recs {
		if r.Kind != wardline.KeyKindIdent {
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
		return raw, nil
	}
	return nil, fmt.Errorf("%w: organisation %s has no identifier key", ErrNoKey, orgID)
}

func (k *Keyring) makeIdentKey(ctx context.Context, orgID string) error {
	org, err := k.orgForNewKey(ctx, orgID)
	if err != nil {
		return err
	}
	rec := &wardline.KeyRecord{
		ID: wardline.NewID(), Kind: wardline.KeyKindIdent, OrgID: orgID, Scope: orgID, Term: 1,
		WrappedBy: org.id, CreatedAt: k.clock.Now(),
	}
	raw := newRawKey()
	defer clear(raw)
	rec.Wrapped = wrapKey(org.aead, rec, raw)
	return k.store.Update(ctx, func(tx wardline.Tx) error { return tx.InsertKey(ctx, rec) })
}
