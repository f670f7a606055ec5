package keyring

import (
	"bytes"
	"context"
	"crypto/cipher"
	"fmt"
	"math"

	"wardline"
)

// rewrapPage is how many key records one re-wrapping transaction changes: small enough to keep
// each transaction short beside live traffic.
const rewrapPage = 500

// rollover gives scope a new data-key term once old has made its share of seals. Concurrent
// sealers that all find old spent make one new term between them.
func (k *Keyring) rollover(ctx context.Context, scope, orgID string, old *dataKey) (*dataKey, error) {
	// A caller may join a rollover that was begun for an older term than its own, whose result is
	// then no newer than old: ask again, and that call starts from old.
	for range 8 {
		dk, err := k.rollovers.do(ctx, scope, func() (*dataKey, error) {
			if v, ok := k.scopes.Load(scope); ok {
				if sk := v.(*scopeKeys); !sk.destroyed && sk.current().term > old.term {
					return sk.current(), nil
				}
			}
			dk, err := k.addDataTerm(ctx, orgID, scope, old.term)
			if err != nil {
				// Another node may have added the next term first (the insert then conflicts).
				if sk, lerr := k.reloadScope(ctx, scope); lerr == nil && !sk.destroyed && sk.current().term > old.term {
					return sk.current(), nil
				}
				return nil, fmt.Errorf("keyring: data key term %d of scope %s reached its seal limit and a new term could not be made: %w", old.term, scope, err)
			}
			return dk, nil
		})
		if err != nil || dk.term > old.term {
			return dk, err
		}
	}
	return nil, fmt.Errorf("keyring: no new data key term for scope %s", scope)
}

// RotateDataKey gives scope a new data-key term: new content is sealed under it, content sealed
// before still opens under the older terms.
func (k *Keyring) RotateDataKey(ctx context.Context, orgID, scope string) error {
	var cur uint32
	if v, ok := k.scopes.Load(scope); ok && !v.(*scopeKeys).destroyed {
		cur = v.(*scopeKeys).current().term
	}
	_, err := k.addDataTerm(ctx, orgID, scope, cur)
	return err
}

// addDataTerm commits a new data-key term for scope, numbered after the newest term in storage
// and after minTerm (a term this keyring sealed with may not be committed yet), and caches it.
func (k *Keyring) addDataTerm(ctx context.Context, orgID, scope string, minTerm uint32) (*dataKey, error) {
	org, err := k.orgForNewKey(ctx, orgID)
	if err != nil {
		return nil, err
	}
	rec, dk, err := k.makeDataKey(org, orgID, scope)
	if err != nil {
		return nil, err
	}
	e := k.epochNow()
	err = k.store.Update(ctx, func(tx wardline.Tx) error {
		recs, err := tx.Keys(ctx, scope)
		if err != nil {
			return err
		}
		term := int(minTerm)
		for _, r := range recs {
			if r.Kind != wardline.KeyKindData {
				continue
			}
			if r.OrgID != orgID {
				return fmt.Errorf("keyring: scope %s belongs to organisation %s, not %s", scope, r.OrgID, orgID)
			}
			if !hasMaterial(r) {
				return wardline.ErrContentDestroyed
			}
			term = max(term, r.Term)
		}
		if term >= math.MaxUint32 {
			return fmt.Errorf("keyring: scope %s has run out of key terms", scope)
		}
		rec.Term = term + 1
		return tx.InsertKey(ctx, rec)
	})
	if err != nil {
		return nil, err
	}
	dk.term = uint32(rec.Term)
	k.addScopeTerm(scope, orgID, dk, e)
	return dk, nil
}

// RotateOrgKey gives an organisation a new key term, wrapped by the newest master key term, and
// re-wraps every data key of the organisation under it, a page at a time. Content is not touched,
// and the older terms keep unwrapping throughout, so nothing stops while it runs.
func (k *Keyring) RotateOrgKey(ctx context.Context, orgID string) error {
	k.rotateMu.Lock()
	defer k.rotateMu.Unlock()
	org, err := k.loadOrg(ctx, orgID)
	if err != nil {
		return err
	}
	if org.destroyed {
		return wardline.ErrContentDestroyed
	}
	rec, nk, err := k.makeOrgKey(orgID)
	if err != nil {
		return err
	}
	err = k.store.Update(ctx, func(tx wardline.Tx) error {
		recs, err := tx.Keys(ctx, orgID)
		if err != nil {
			return err
		}
		term := 0
		for _, r := range recs {
			if r.Kind == wardline.KeyKindOrg {
				if r.DestroyedAt != nil {
					return wardline.ErrContentDestroyed
				}
				term = max(term, r.Term)
			}
		}
		rec.Term = term + 1
		return tx.InsertKey(ctx, rec)
	})
	if err != nil {
		return fmt.Errorf("keyring: adding a key term to organisation %s: %w", orgID, err)
	}
	nk.term = rec.Term
	// Reload so that the new term is current here before anything is wrapped under it.
	if _, err := k.loadOrg(ctx, orgID); err != nil {
		return err
	}
	for _, old := range org.terms {
		err := k.rewrap(ctx, old.id, nk.id, func(r *wardline.KeyRecord) ([]byte, error) {
			raw, err := unwrapKey(old.aead, r)
			if err != nil {
				return nil, fmt.Errorf("organisation key %s cannot unwrap data key %s: %w", old.id, r.ID, err)
			}
			return raw, nil
		}, nk.aead)
		if err != nil {
			return fmt.Errorf("keyring: rotating the key of organisation %s: %w", orgID, err)
		}
	}
	return nil
}

// RotateMasterKey re-wraps every organisation key wrapped by an older master key term under the
// newest one. Add the new term first (MasterKeys.AddTerm); retire the old ones afterwards
// (RetireMasterTerm). Organisation and data keys themselves do not change.
func (k *Keyring) RotateMasterKey(ctx context.Context) error {
	k.rotateMu.Lock()
	defer k.rotateMu.Unlock()
	terms := k.master.Terms()
	if len(terms) < 2 {
		return fmt.Errorf("keyring: master key file %s holds one term only: add a term (MasterKeys.AddTerm) before rotating", k.master.Path())
	}
	newest := k.master.newest()
	for _, t := range terms[:len(terms)-1] {
		mt := k.master.lookup(t)
		if mt == nil {
			continue // retired meanwhile
		}
		err := k.rewrap(ctx, kekID(t), kekID(newest.term), func(r *wardline.KeyRecord) ([]byte, error) {
			raw, err := unwrapKey(mt.aead, r)
			if err != nil {
				return nil, fmt.Errorf("master key %s cannot unwrap organisation key %s of %s: %w", kekID(t), r.ID, r.OrgID, err)
			}
			return raw, nil
		}, newest.aead)
		if err != nil {
			return fmt.Errorf("keyring: rotating the master key: %w", err)
		}
	}
	return nil
}

// rewrap moves every live key wrapped by from under to. Each page is unwrapped and re-wrapped
// outside the transaction, then written only where the record is unchanged inside it, so a scope
// shredded meanwhile is never given its key back. Records with no material left (shredded,
// retired) stay where they are: there is nothing in them to move. Passes repeat until one finds
// nothing live, which also catches keys another node wrapped under from meanwhile.
func (k *Keyring) rewrap(ctx context.Context, from, to string, unwrap func(*wardline.KeyRecord) ([]byte, error), wrapper cipher.AEAD) error {
	type plan struct{ orig, next []byte }
	for pass := 0; pass < 5; pass++ {
		seen := 0
		for after := ""; ; {
			page, err := k.store.KeysWrappedBy(ctx, from, after, rewrapPage)
			if err != nil {
				return err
			}
			if len(page) == 0 {
				break
			}
			plans := make(map[string]plan, len(page))
			for _, r := range page {
				if !hasMaterial(r) {
					continue
				}
				seen++
				raw, err := unwrap(r)
				if err != nil {
					return err
				}
				plans[r.ID] = plan{orig: r.Wrapped, next: wrapKey(wrapper, r, raw)}
				clear(raw)
			}
			start := after
			if len(plans) > 0 {
				err = k.store.Update(ctx, func(tx wardline.Tx) error {
					cur, err := tx.KeysWrappedBy(ctx, from, start, rewrapPage)
					if err != nil {
						return err
					}
					for _, r := range cur {
						p, ok := plans[r.ID]
						if !hasMaterial(r) || !ok || !bytes.Equal(p.orig, r.Wrapped) {
							continue // shredded, new or changed since the page was read
						}
						if err := tx.RewrapKey(ctx, r.ID, to, p.next); err != nil {
							return err
						}
					}
					return nil
				})
			}
			if err != nil {
				return err
			}
			if len(page) < rewrapPage {
				break
			}
			after = page[len(page)-1].ID
		}
		if seen == 0 {
			return nil
		}
	}
	return fmt.Errorf("keys wrapped by %s keep appearing; run the rotation again", from)
}

// RetireOrgKeyTerms erases the key material of an organisation's older key terms, once
// RotateOrgKey has moved every live data key off them. Until then a backup holding a shredded
// scope's wrapped data key stays readable to whoever holds the live database and the master key.
func (k *Keyring) RetireOrgKeyTerms(ctx context.Context, orgID string) error {
	k.rotateMu.Lock()
	defer k.rotateMu.Unlock()
	org, err := k.loadOrg(ctx, orgID)
	if err != nil {
		return err
	}
	if org.destroyed {
		return wardline.ErrContentDestroyed
	}
	cur := org.current()
	for _, old := range org.terms {
		if old.id == cur.id {
			continue
		}
		if id, err := k.liveWrappedBy(ctx, old.id); err != nil {
			return err
		} else if id != "" {
			return fmt.Errorf("keyring: organisation key %s still wraps data key %s; run RotateOrgKey first", old.id, id)
		}
		err := k.store.Update(ctx, func(tx wardline.Tx) error {
			recs, err := tx.Keys(ctx, orgID)
			if err != nil {
				return err
			}
			for _, r := range recs {
				if r.ID == old.id && hasMaterial(r) {
					// Nil material with no destruction time marks a retired term.
					return tx.RewrapKey(ctx, r.ID, r.WrappedBy, nil)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("keyring: retiring organisation key %s: %w", old.id, err)
		}
		// A node that read the organisation's keys before the rotation may have wrapped a data key
		// under the old term since the check; the old key is still in memory here to move it.
		err = k.rewrap(ctx, old.id, cur.id, func(r *wardline.KeyRecord) ([]byte, error) { return unwrapKey(old.aead, r) }, cur.aead)
		if err != nil {
			return fmt.Errorf("keyring: moving data keys off retired organisation key %s: %w", old.id, err)
		}
	}
	// Drop the retired terms from memory too. Replacing the entry rather than deleting it keeps
	// the organisation's data scopes reachable by Forget.
	k.cacheMu.Lock()
	k.epoch++ // a load running now may have read the retired terms
	if v, ok := k.orgs.Load(orgID); ok && !v.(*orgKeys).destroyed {
		if t := v.(*orgKeys).byID(cur.id); t != nil {
			k.orgs.Store(orgID, &orgKeys{terms: []*orgKey{t}})
		}
	}
	k.cacheMu.Unlock()
	return nil
}

// liveWrappedBy returns the id of a key wrapped by wrappedBy that still holds material, or "".
func (k *Keyring) liveWrappedBy(ctx context.Context, wrappedBy string) (string, error) {
	for after := ""; ; {
		page, err := k.store.KeysWrappedBy(ctx, wrappedBy, after, rewrapPage)
		if err != nil {
			return "", err
		}
		for _, r := range page {
			if hasMaterial(r) {
				return r.ID, nil
			}
		}
		if len(page) < rewrapPage {
			return "", nil
		}
		after = page[len(page)-1].ID
	}
}

// RetireMasterTerm removes an older term from the master key file once no live organisation key
// is wrapped by it (after RotateMasterKey). Destroy every other copy of the old file too.
func (k *Keyring) RetireMasterTerm(ctx context.Context, term int) error {
	k.rotateMu.Lock()
	defer k.rotateMu.Unlock()
	if k.master.lookup(term) == nil {
		return fmt.Errorf("keyring: master key file %s holds no term %s", k.master.Path(), kekID(term))
	}
	if id, err := k.liveWrappedBy(ctx, kekID(term)); err != nil {
		return err
	} else if id != "" {
		return fmt.Errorf("keyring: organisation key %s is still wrapped by master key %s; run RotateMasterKey first", id, kekID(term))
	}
	return k.master.RetireTerm(term)
}
