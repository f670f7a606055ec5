package keyring

import (
	"cmp"
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"wardline"
)

// scopeKeys is what the keyring knows of one scope: its live data-key terms, or that it was
// shredded. Snapshots are never changed once stored in the cache, only replaced.
type scopeKeys struct {
	orgID     string
	destroyed bool
	terms     []*dataKey // ascending term; empty when destroyed
}

func (s *scopeKeys) current() *dataKey { return s.terms[len(s.terms)-1] }

func (s *scopeKeys) term(t uint32) *dataKey {
	for i := len(s.terms) - 1; i >= 0; i-- {
		if s.terms[i].term == t {
			return s.terms[i]
		}
	}
	return nil
}

// orgKeys is what the keyring knows of one organisation's keys.
type orgKeys struct {
	destroyed bool
	terms     []*orgKey // ascending term, live terms only
}

type orgKey struct {
	id   string
	term int
	aead cipher.AEAD
}

func (o *orgKeys) current() *orgKey { return o.terms[len(o.terms)-1] }

func (o *orgKeys) byID(id string) *orgKey {
	for _, t := range o.terms {
		if t.id == id {
			return t
		}
	}
	return nil
}

// hasMaterial reports whether a record still holds a wrapped key: not shredded, not retired.
func hasMaterial(r *wardline.KeyRecord) bool { return len(r.Wrapped) > 0 && r.DestroyedAt == nil }

func (k *Keyring) epochNow() uint64 {
	k.cacheMu.Lock()
	defer k.cacheMu.Unlock()
	return k.epoch
}

// scope returns the cached keys of scope, loading them on a miss.
func (k *Keyring) scope(ctx context.Context, scope string) (*scopeKeys, error) {
	if v, ok := k.scopes.Load(scope); ok {
		return v.(*scopeKeys), nil
	}
	return k.scopeLoads.do(ctx, scope, func() (*scopeKeys, error) {
		// A load that finished between our miss and now has cached what we want.
		if v, ok := k.scopes.Load(scope); ok {
			return v.(*scopeKeys), nil
		}
		return k.readAndStoreScope(ctx, scope)
	})
}

// reloadScope reads a scope's keys from storage again, to see terms added by another node.
// Its loads are shared under their own key, so that it never receives a cached answer.
func (k *Keyring) reloadScope(ctx context.Context, scope string) (*scopeKeys, error) {
	return k.scopeLoads.do(ctx, "reload\x00"+scope, func() (*scopeKeys, error) {
		return k.readAndStoreScope(ctx, scope)
	})
}

func (k *Keyring) readAndStoreScope(ctx context.Context, scope string) (*scopeKeys, error) {
	e := k.epochNow()
	fresh, err := k.readScope(ctx, scope)
	if err != nil {
		return nil, err
	}
	return k.storeScope(scope, fresh, e), nil
}

func (k *Keyring) readScope(ctx context.Context, scope string) (*scopeKeys, error) {
	recs, err := k.store.Keys(ctx, scope)
	if err != nil {
		return nil, fmt.Errorf("keyring: reading keys of scope %s: %w", scope, err)
	}
	sk := &scopeKeys{}
	var live []*wardline.KeyRecord
	found := false
	for _, r := range recs {
		if r.Kind != wardline.KeyKindData {
			continue
		}
		if found && r.OrgID != sk.orgID {
			return nil, fmt.Errorf("keyring: scope %s has keys of two organisations, %s and %s", scope, sk.orgID, r.OrgID)
		}
		found, sk.orgID = true, r.OrgID
		if !hasMaterial(r) {
			// Shredding erases every term at once; any erased term means the scope is gone.
			sk.destroyed = true
		}
		live = append(live, r)
	}
	if !found {
		return nil, fmt.Errorf("%w: scope %s has no data key", ErrNoKey, scope)
	}
	if sk.destroyed {
		return sk, nil
	}
	for _, r := range live {
		if r.Term < 1 || r.Term > math.MaxUint32 {
			return nil, fmt.Errorf("keyring: data key %s of scope %s has impossible term %d", r.ID, scope, r.Term)
		}
		org, err := k.orgKey(ctx, r.OrgID, r.WrappedBy)
		if errors.Is(err, wardline.ErrContentDestroyed) {
			return &scopeKeys{orgID: sk.orgID, destroyed: true}, nil
		} else if err != nil {
			return nil, err
		}
		raw, err := unwrapKey(org.aead, r)
		if err != nil {
			return nil, fmt.Errorf("keyring: organisation key %s cannot unwrap data key %s (scope %s, term %d): the key record was altered or moved: %w", org.id, r.ID, scope, r.Term, err)
		}
		aead, err := newAEAD(raw)
		clear(raw)
		if err != nil {
			return nil, err
		}
		sk.terms = append(sk.terms, &dataKey{id: r.ID, term: uint32(r.Term), aead: aead})
	}
	slices.SortFunc(sk.terms, func(a, b *dataKey) int { return cmp.Compare(a.term, b.term) })
	return sk, nil
}

// storeScope caches what was read from storage, unless Forget ran since epoch e. Storage is the
// truth about which terms exist, but a term already cached keeps its seal count.
func (k *Keyring) storeScope(scope string, fresh *scopeKeys, e uint64) *scopeKeys {
	k.cacheMu.Lock()
	defer k.cacheMu.Unlock()
	if k.epoch != e {
		return fresh
	}
	if v, ok := k.scopes.Load(scope); ok && !fresh.destroyed {
		old := v.(*scopeKeys)
		for i, dk := range fresh.terms {
			if o := old.term(dk.term); o != nil && o.id == dk.id {
				fresh.terms[i] = o
			}
		}
	}
	k.scopes.Store(scope, fresh)
	return fresh
}

// addScopeTerm caches a term this keyring has just committed, unless Forget ran since epoch e.
func (k *Keyring) addScopeTerm(scope, orgID string, dk *dataKey, e uint64) {
	k.cacheMu.Lock()
	defer k.cacheMu.Unlock()
	if k.epoch != e {
		return
	}
	next := &scopeKeys{orgID: orgID}
	if v, ok := k.scopes.Load(scope); ok && !v.(*scopeKeys).destroyed {
		next.terms = slices.DeleteFunc(slices.Clone(v.(*scopeKeys).terms), func(o *dataKey) bool { return o.term == dk.term })
	}
	next.terms = append(next.terms, dk)
	slices.SortFunc(next.terms, func(a, b *dataKey) int { return cmp.Compare(a.term, b.term) })
	k.scopes.Store(scope, next)
}

// orgKey returns the organisation key term with the given record id.
func (k *Keyring) orgKey(ctx context.Context, orgID, id string) (*orgKey, error) {
	if v, ok := k.orgs.Load(orgID); ok {
		o := v.(*orgKeys)
		if o.destroyed {
			return nil, wardline.ErrContentDestroyed
		}
		if t := o.byID(id); t != nil {
			return t, nil
		}
	}
	// Not cached, or a term added since (by a rotation on another node): read them again.
	o, err := k.loadOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if o.destroyed {
		return nil, wardline.ErrContentDestroyed
	}
	if t := o.byID(id); t != nil {
		return t, nil
	}
	return nil, fmt.Errorf("keyring: organisation %s has no live key %s: it was retired while still in use, or the record is corrupt", orgID, id)
}

// loadOrg reads an organisation's keys from storage and unwraps them with the master key.
func (k *Keyring) loadOrg(ctx context.Context, orgID string) (*orgKeys, error) {
	return k.orgLoads.do(ctx, orgID, func() (*orgKeys, error) {
		e := k.epochNow()
		o, err := k.readOrg(ctx, orgID)
		if err != nil {
			return nil, err
		}
		k.cacheMu.Lock()
		if k.epoch == e {
			k.orgs.Store(orgID, o)
		}
		k.cacheMu.Unlock()
		return o, nil
	})
}

func (k *Keyring) readOrg(ctx context.Context, orgID string) (*orgKeys, error) {
	recs, err := k.store.Keys(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("keyring: reading keys of organisation %s: %w", orgID, err)
	}
	o := &orgKeys{}
	found := false
	for _, r := range recs {
		if r.Kind != wardline.KeyKindOrg {
			continue
		}
		found = true
		if r.DestroyedAt != nil {
			return &orgKeys{destroyed: true}, nil
		}
		if !hasMaterial(r) {
			continue // a term retired after rotation
		}
		t, ok := parseKEKID(r.WrappedBy)
		if !ok {
			return nil, fmt.Errorf("keyring: organisation key %s of %s is wrapped by %q, which is not a master key term", r.ID, orgID, r.WrappedBy)
		}
		mt := k.master.lookup(t)
		if mt == nil {
			return nil, fmt.Errorf("keyring: organisation key %s of %s is wrapped by master key %s, which %s does not hold (retired too early, or the wrong file)", r.ID, orgID, r.WrappedBy, k.master.Path())
		}
		raw, err := unwrapKey(mt.aead, r)
		if err != nil {
			return nil, fmt.Errorf("keyring: master key %s from %s cannot unwrap organisation key %s of %s: is this the right master key file? (%v)", r.WrappedBy, k.master.Path(), r.ID, orgID, err)
		}
		aead, err := newAEAD(raw)
		clear(raw)
		if err != nil {
			return nil, err
		}
		o.terms = append(o.terms, &orgKey{id: r.ID, term: r.Term, aead: aead})
	}
	if !found {
		return nil, fmt.Errorf("%w: organisation %s has no key", ErrNoKey, orgID)
	}
	if len(o.terms) == 0 {
		return nil, fmt.Errorf("keyring: every key of organisation %s is retired", orgID)
	}
	slices.SortFunc(o.terms, func(a, b *orgKey) int { return cmp.Compare(a.term, b.term) })
	return o, nil
}

// orgForNewKey returns the organisation key term that wraps new data keys: the newest in storage,
// read afresh so that a rotation on another node is seen, or the one NewOrgKey just made when the
// organisation is still being created.
func (k *Keyring) orgForNewKey(ctx context.Context, orgID string) (*orgKey, error) {
	o, err := k.loadOrg(ctx, orgID)
	if errors.Is(err, ErrNoKey) {
		if v, ok := k.orgs.Load(orgID); ok && !v.(*orgKeys).destroyed {
			return v.(*orgKeys).current(), nil
		}
	}
	if err != nil {
		return nil, err
	}
	if o.destroyed {
		return nil, wardline.ErrContentDestroyed
	}
	return o.current(), nil
}

// makeOrgKey makes an organisation key wrapped by the newest master term; the caller sets Term.
func (k *Keyring) makeOrgKey(orgID string) (*wardline.KeyRecord, *orgKey, error) {
	mt := k.master.newest()
	rec := &wardline.KeyRecord{
		ID: wardline.NewID(), Kind: wardline.KeyKindOrg, OrgID: orgID, Scope: orgID,
		WrappedBy: kekID(mt.term), CreatedAt: k.clock.Now(),
	}
	raw := newRawKey()
	defer clear(raw)
	rec.Wrapped = wrapKey(mt.aead, rec, raw)
	aead, err := newAEAD(raw)
	if err != nil {
		return nil, nil, err
	}
	return rec, &orgKey{id: rec.ID, aead: aead}, nil
}

// makeDataKey makes a data key wrapped by org; the caller sets Term.
func (k *Keyring) makeDataKey(org *orgKey, orgID, scope string) (*wardline.KeyRecord, *dataKey, error) {
	rec := &wardline.KeyRecord{
		ID: wardline.NewID(), Kind: wardline.KeyKindData, OrgID: orgID, Scope: scope,
		WrappedBy: org.id, CreatedAt: k.clock.Now(),
	}
	raw := newRawKey()
	defer clear(raw)
	rec.Wrapped = wrapKey(org.aead, rec, raw)
	aead, err := newAEAD(raw)
	if err != nil {
		return nil, nil, err
	}
	return rec, &dataKey{id: rec.ID, aead: aead}, nil
}

// group runs one load per key at a time; callers asking meanwhile wait for its result.
type group[T any] struct {
	mu    sync.Mutex
	calls map[string]*call[T]
}

type call[T any] struct {
	done chan struct{}
	val  T
	err  error
}

var errLoadPanicked = errors.New("keyring: a concurrent key load panicked")

func (g *group[T]) do(ctx context.Context, key string, fn func() (T, error)) (T, error) {
	for {
		g.mu.Lock()
		if c, ok := g.calls[key]; ok {
			g.mu.Unlock()
			select {
			case <-c.done:
			case <-ctx.Done():
				var zero T
				return zero, ctx.Err()
			}
			if isContextErr(c.err) && ctx.Err() == nil {
				continue // the caller that led the load gave up; ours has not, so try again
			}
			return c.val, c.err
		}
		c := &call[T]{done: make(chan struct{}), err: errLoadPanicked}
		if g.calls == nil {
			g.calls = make(map[string]*call[T])
		}
		g.calls[key] = c
		g.mu.Unlock()
		func() {
			defer func() {
				g.mu.Lock()
				delete(g.calls, key)
				g.mu.Unlock()
				close(c.done)
			}()
			c.val, c.err = fn()
		}()
		return c.val, c.err
	}
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
