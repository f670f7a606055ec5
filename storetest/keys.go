package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"wardline"
)

// NewKey returns a key term of the given kind and scope, wrapped by wrappedBy, with key material
// that names it. It is not stored yet.
func NewKey(kind, orgID, scope string, term int, wrappedBy string) *wardline.KeyRecord {
	id := wardline.NewID()
	return &wardline.KeyRecord{
		ID: id, Kind: kind, OrgID: orgID, Scope: scope, Term: term, WrappedBy: wrappedBy,
		Wrapped: []byte(fmt.Sprintf("\x00wrapped %s term %d\xff", kind, term)), CreatedAt: at(term),
	}
}

// MustInsertKeys stores the given keys in one Update.
func MustInsertKeys(tb testing.TB, s wardline.Store, keys ...*wardline.KeyRecord) {
	tb.Helper()
	MustUpdate(tb, s, func(tx wardline.Tx) error {
		for _, k := range keys {
			if err := tx.InsertKey(tb.Context(), k); err != nil {
				return err
			}
		}
		return nil
	})
}

func mustKeys(t *testing.T, s wardline.Store, scope string) []*wardline.KeyRecord {
	t.Helper()
	keys, err := s.Keys(t.Context(), scope)
	if err != nil {
		t.Fatalf("Keys: %v", err)
	}
	return keys
}

func testKeys(t *testing.T, open opener) {
	t.Run("InsertKey", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			o := MustCreateOrg(t, s, "Northgate")
			orgKey := NewKey(wardline.KeyKindOrg, o.ID, o.ID, 1, "kek:1")
			conv := wardline.NewID()
			d1, d2, d3 := NewKey(wardline.KeyKindData, o.ID, conv, 1, orgKey.ID), NewKey(wardline.KeyKindData, o.ID, conv, 2, orgKey.ID),
				NewKey(wardline.KeyKindData, o.ID, conv, 3, orgKey.ID)
			MustInsertKeys(t, s, orgKey, d3, d1, d2)

			AssertSame(t, "Keys(conversation)", mustKeys(t, s, conv), []*wardline.KeyRecord{d1, d2, d3})
			AssertSame(t, "Keys(org)", mustKeys(t, s, o.ID), []*wardline.KeyRecord{orgKey})
			if got := mustKeys(t, s, wardline.NewID()); len(got) != 0 {
				t.Errorf("Keys of an unknown scope: got %d, want none", len(got))
			}
		})
		// Within a scope, keys come grouped by kind and, within a kind, by term.
		t.Run("OrderKindThenTerm", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			o := MustCreateOrg(t, s, "Northgate")
			var keys []*wardline.KeyRecord
			for _, k := range []struct {
				kind string
				term int
			}{{wardline.KeyKindOrg, 2}, {wardline.KeyKindData, 2}, {wardline.KeyKindOrg, 1}, {wardline.KeyKindData, 3}, {wardline.KeyKindData, 1}} {
				keys = append(keys, NewKey(k.kind, o.ID, o.ID, k.term, "kek:1"))
			}
			MustInsertKeys(t, s, keys...)
			got := mustKeys(t, s, o.ID)
			var order []string
			for _, k := range got {
				order = append(order, fmt.Sprintf("%s/%d", k.Kind, k.Term))
			}
			want1 := []string{"data/1", "data/2", "data/3", "org/1", "org/2"}
			want2 := []string{"org/1", "org/2", "data/1", "data/2", "data/3"}
			if !slices.Equal(order, want1) && !slices.Equal(order, want2) {
				t.Errorf("Keys: got %v, want %v or %v", order, want1, want2)
			}
		})
		t.Run("ErrDuplicate", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			o := MustCreateOrg(t, s, "Northgate")
			first := NewKey(wardline.KeyKindData, o.ID, o.ID, 1, "kek:1")
			MustInsertKeys(t, s, first)
			err := s.Update(ctx, func(tx wardline.Tx) error {
				return tx.InsertKey(ctx, NewKey(wardline.KeyKindData, o.ID, o.ID, 1, "kek:2"))
			})
			AssertCode(t, err, wardline.ECONFLICT)
			AssertSame(t, "Keys", mustKeys(t, s, o.ID), []*wardline.KeyRecord{first})
			// The same term of another kind, or of another scope, is another key.
			MustInsertKeys(t, s, NewKey(wardline.KeyKindOrg, o.ID, o.ID, 1, "kek:1"), NewKey(wardline.KeyKindData, o.ID, wardline.NewID(), 1, "kek:1"))
		})
	})

	t.Run("KeysWrappedBy", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		o := MustCreateOrg(t, s, "Northgate")
		k1, k2 := NewKey(wardline.KeyKindOrg, o.ID, o.ID, 1, "kek:1"), NewKey(wardline.KeyKindOrg, o.ID, o.ID, 2, "kek:1")
		keys := []*wardline.KeyRecord{k1, k2}
		var wrappedByK1 []*wardline.KeyRecord
		for i := range 7 {
			wrapper := k1
			if i%3 == 2 {
				wrapper = k2
			}
			k := NewKey(wardline.KeyKindData, o.ID, wardline.NewID(), 1, wrapper.ID)
			keys = append(keys, k)
			if wrapper == k1 {
				wrappedByK1 = append(wrappedByK1, k)
			}
		}
		MustInsertKeys(t, s, keys...)

		var got []*wardline.KeyRecord
		after := ""
		for range 10 {
			page, err := s.KeysWrappedBy(ctx, k1.ID, after, 2)
			if err != nil {
				t.Fatalf("KeysWrappedBy: %v", err)
			}
			if len(page) > 2 {
				t.Errorf("KeysWrappedBy(limit 2): got %d keys", len(page))
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1].ID
		}
		want := slices.Clone(wrappedByK1)
		slices.SortFunc(want, func(a, b *wardline.KeyRecord) int { return strings.Compare(a.ID, b.ID) })
		if gotIDs, wantIDs := ids(got, keyID), ids(want, keyID); !slices.Equal(gotIDs, wantIDs) {
			t.Errorf("KeysWrappedBy: got %v, want %v (by id)", gotIDs, wantIDs)
		}
		if got, err := s.KeysWrappedBy(ctx, "kek:1", "", 10); err != nil || len(got) != 2 {
			t.Errorf("KeysWrappedBy(kek:1): got %d keys, %v, want the 2 org keys", len(got), err)
		}
	})

	t.Run("RewrapKey", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			o := MustCreateOrg(t, s, "Northgate")
			oldKey, newKey := NewKey(wardline.KeyKindOrg, o.ID, o.ID, 1, "kek:1"), NewKey(wardline.KeyKindOrg, o.ID, o.ID, 2, "kek:1")
			conv := wardline.NewID()
			k, other := NewKey(wardline.KeyKindData, o.ID, conv, 1, oldKey.ID), NewKey(wardline.KeyKindData, o.ID, conv, 2, oldKey.ID)
			MustInsertKeys(t, s, oldKey, newKey, k, other)

			rewrapped := []byte("\x00rewrapped under term 2\xff")
			MustUpdate(t, s, func(tx wardline.Tx) error { return tx.RewrapKey(ctx, k.ID, newKey.ID, rewrapped) })

			want := *k
			want.WrappedBy, want.Wrapped = newKey.ID, rewrapped
			AssertSame(t, "Keys", mustKeys(t, s, conv), []*wardline.KeyRecord{&want, other})
			if got, err := s.KeysWrappedBy(ctx, oldKey.ID, "", 10); err != nil || !slices.Equal(ids(got, keyID), []string{other.ID}) {
				t.Errorf("KeysWrappedBy(old): got %v, %v, want [%s]", ids(got, keyID), err, other.ID)
			}
			if got, err := s.KeysWrappedBy(ctx, newKey.ID, "", 10); err != nil || !slices.Equal(ids(got, keyID), []string{k.ID}) {
				t.Errorf("KeysWrappedBy(new): got %v, %v, want [%s]", ids(got, keyID), err, k.ID)
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			o := MustCreateOrg(t, s, "Northgate")
			orgKey := NewKey(wardline.KeyKindOrg, o.ID, o.ID, 1, "kek:1")
			MustInsertKeys(t, s, orgKey)
			err := s.Update(ctx, func(tx wardline.Tx) error { return tx.RewrapKey(ctx, wardline.NewID(), orgKey.ID, []byte("x")) })
			AssertCode(t, err, wardline.ENOTFOUND)
		})
		// A shredded key stays shredded: re-wrapping must not bring material back.
		t.Run("ErrDestroyed", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			o := MustCreateOrg(t, s, "Northgate")
			orgKey := NewKey(wardline.KeyKindOrg, o.ID, o.ID, 1, "kek:1")
			conv := wardline.NewID()
			k := NewKey(wardline.KeyKindData, o.ID, conv, 1, orgKey.ID)
			MustInsertKeys(t, s, orgKey, k)
			MustUpdate(t, s, func(tx wardline.Tx) error { return tx.DestroyKeys(ctx, conv, at(100)) })

			err := s.Update(ctx, func(tx wardline.Tx) error { return tx.RewrapKey(ctx, k.ID, orgKey.ID, []byte("resurrected")) })
			AssertCode(t, err, wardline.ENOTFOUND)
			if got := mustKeys(t, s, conv); len(got) != 1 || got[0].Wrapped != nil {
				t.Errorf("Keys after rewrapping a destroyed key: got %v, want its material still nil", got)
			}
		})
	})

	// Crypto-shredding: every term of every kind of the scope loses its material and records
	// when; the records remain. Shredding an organisation's id erases its organisation key too,
	// which is how a whole organisation is shredded (keyring.Shred).
	t.Run("DestroyKeys", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		o := MustCreateOrg(t, s, "Northgate")
		orgKey1, orgKey2 := NewKey(wardline.KeyKindOrg, o.ID, o.ID, 1, "kek:1"), NewKey(wardline.KeyKindOrg, o.ID, o.ID, 2, "kek:1")
		orgScoped := NewKey(wardline.KeyKindData, o.ID, o.ID, 1, orgKey2.ID) // org-wide data key
		conv, otherConv := wardline.NewID(), wardline.NewID()
		d1, d2 := NewKey(wardline.KeyKindData, o.ID, conv, 1, orgKey1.ID), NewKey(wardline.KeyKindData, o.ID, conv, 2, orgKey2.ID)
		other := NewKey(wardline.KeyKindData, o.ID, otherConv, 1, orgKey2.ID)
		MustInsertKeys(t, s, orgKey1, orgKey2, orgScoped, d1, d2, other)

		assertDestroyed := func(t *testing.T, scope string, n int, when time.Time) {
			t.Helper()
			got := mustKeys(t, s, scope)
			if len(got) != n {
				t.Errorf("Keys after destroying: got %d, want %d (the records remain)", len(got), n)
			}
			for _, k := range got {
				if k.Wrapped != nil {
					t.Errorf("Wrapped of destroyed %s key, term %d: got %q, want nil", k.Kind, k.Term, k.Wrapped)
				}
				if k.DestroyedAt == nil || !k.DestroyedAt.Equal(when) {
					t.Errorf("DestroyedAt of %s key, term %d: got %v, want %v", k.Kind, k.Term, k.DestroyedAt, when)
				}
			}
		}

		MustUpdate(t, s, func(tx wardline.Tx) error { return tx.DestroyKeys(ctx, conv, at(100)) })
		// Destroying again changes nothing: the keys were destroyed at the first time.
		MustUpdate(t, s, func(tx wardline.Tx) error { return tx.DestroyKeys(ctx, conv, at(200)) })
		assertDestroyed(t, conv, 2, at(100))
		AssertSame(t, "Keys of another scope", mustKeys(t, s, otherConv), []*wardline.KeyRecord{other})
		orgKeys := mustKeys(t, s, o.ID)
		if len(orgKeys) != 3 {
			t.Errorf("Keys of the organisation: got %d, want 3", len(orgKeys))
		}
		for _, k := range orgKeys {
			for _, want := range []*wardline.KeyRecord{orgKey1, orgKey2, orgScoped} {
				if k.ID == want.ID {
					AssertSame(t, "Keys of the organisation", k, want)
				}
			}
		}

		MustUpdate(t, s, func(tx wardline.Tx) error { return tx.DestroyKeys(ctx, o.ID, at(300)) })
		assertDestroyed(t, o.ID, 3, at(300))
		// Keys of other scopes keep their records and material, now beyond reach.
		AssertSame(t, "Keys of another scope after shredding the organisation", mustKeys(t, s, otherConv), []*wardline.KeyRecord{other})
	})

}
