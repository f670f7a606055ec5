package storetest

import (
	"slices"
	"testing"

	"wardline"
)

// tightPolicy differs from the defaults in every field, so that a round trip shows each one.
var tightPolicy = wardline.OrgPolicy{
	SessionIdleMinutes:     15,
	SessionAbsoluteMinutes: 8 * 60,
	LoginLockFailures:      5,
	LoginAddrFailures:      20,
	LoginWindowMinutes:     10,
	LoginLockMinutes:       30,
	MFAOptional:            true,
	LockIdleSeconds:        60,
	PasswordlessAllowed:    true,
}

func testOrgs(t *testing.T, open opener) {
	t.Run("CreateOrg", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			o := NewOrg("Northgate Hospitals NHS Trust")
			o.Policy = tightPolicy
			MustUpdate(t, s, func(tx wardline.Tx) error { return tx.CreateOrg(ctx, o) })

			got, err := s.Org(ctx, o.ID)
			if err != nil {
				t.Fatalf("Org: %v", err)
			}
			AssertSame(t, "Org", got, o)
		})
		t.Run("ErrDuplicateName", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			MustCreateOrg(t, s, "Northgate")
			err := s.Update(ctx, func(tx wardline.Tx) error { return tx.CreateOrg(ctx, NewOrg("Northgate")) })
			AssertCode(t, err, wardline.ECONFLICT)
			if n, err := s.CountOrgs(ctx); err != nil || n != 1 {
				t.Errorf("CountOrgs: got %d, %v, want 1", n, err)
			}
		})
	})

	t.Run("Org", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			MustCreateOrg(t, s, "Northgate")
			_, err := s.Org(ctx, wardline.NewID())
			AssertCode(t, err, wardline.ENOTFOUND)
		})
	})

	t.Run("OrgByName", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			MustCreateOrg(t, s, "Southgate")
			o := MustCreateOrg(t, s, "Northgate")
			got, err := s.OrgByName(ctx, "Northgate")
			if err != nil {
				t.Fatalf("OrgByName: %v", err)
			}
			AssertSame(t, "Org", got, o)
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			MustCreateOrg(t, s, "Northgate")
			_, err := s.OrgByName(ctx, "Westgate")
			AssertCode(t, err, wardline.ENOTFOUND)
		})
	})

	t.Run("CountOrgs", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		if n, err := s.CountOrgs(ctx); err != nil || n != 0 {
			t.Errorf("CountOrgs of an empty store: got %d, %v, want 0", n, err)
		}
		MustUpdate(t, s, func(tx wardline.Tx) error {
			for _, name := range []string{"Northgate", "Southgate", "Westgate"} {
				if err := tx.CreateOrg(ctx, NewOrg(name)); err != nil {
					return err
				}
			}
			return nil
		})
		if n, err := s.CountOrgs(ctx); err != nil || n != 3 {
			t.Errorf("CountOrgs: got %d, %v, want 3", n, err)
		}
	})

	t.Run("OrgIDs", func(t *testing.T) {
		t.Run("Empty", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			got, err := s.OrgIDs(ctx)
			if err != nil || len(got) != 0 {
				t.Errorf("OrgIDs of an empty store: got %v, %v, want none", got, err)
			}
		})
		t.Run("OldestFirst", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			// Inserted in another order than their creation times, which decide.
			newer, oldest, middle := NewOrg("Newer"), NewOrg("Oldest"), NewOrg("Middle")
			newer.CreatedAt, oldest.CreatedAt, middle.CreatedAt = at(20), at(0), at(10)
			MustUpdate(t, s, func(tx wardline.Tx) error {
				for _, o := range []*wardline.Org{newer, oldest, middle} {
					if err := tx.CreateOrg(ctx, o); err != nil {
						return err
					}
				}
				return nil
			})
			got, err := s.OrgIDs(ctx)
			if err != nil {
				t.Fatalf("OrgIDs: %v", err)
			}
			if want := []string{oldest.ID, middle.ID, newer.ID}; !slices.Equal(got, want) {
				t.Errorf("OrgIDs: got %v, want %v", got, want)
			}
		})
	})

	t.Run("UpdateOrgPolicy", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			o := MustCreateOrg(t, s, "Northgate")
			other := MustCreateOrg(t, s, "Southgate")
			MustUpdate(t, s, func(tx wardline.Tx) error { return tx.UpdateOrgPolicy(ctx, o.ID, tightPolicy) })

			got, err := s.Org(ctx, o.ID)
			if err != nil {
				t.Fatalf("Org: %v", err)
			}
			AssertSame(t, "Policy", got.Policy, tightPolicy)
			if got, err := s.Org(ctx, other.ID); err != nil {
				t.Fatalf("Org: %v", err)
			} else {
				AssertSame(t, "other org's Policy", got.Policy, wardline.DefaultPolicy)
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			err := s.Update(ctx, func(tx wardline.Tx) error { return tx.UpdateOrgPolicy(ctx, wardline.NewID(), tightPolicy) })
			AssertCode(t, err, wardline.ENOTFOUND)
		})
	})
}
