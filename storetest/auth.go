package storetest

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"wardline"
)

// Strong authentication: second factors and PIN (user_mfa, written by compare-and-swap on a
// version), passkeys, ceremonies in progress (auth challenges) and a session's lock state.

// NewUserMFA returns a user's second factors with every field set (a confirmed TOTP secret, a
// pending one, recovery codes and a PIN), not stored yet (Version 0).
func NewUserMFA(u *wardline.User, updated time.Time) *wardline.UserMFA {
	enrolled := updated.Add(-time.Minute)
	return &wardline.UserMFA{
		UserID:            u.ID,
		OrgID:             u.OrgID,
		TOTPSealed:        []byte("sealed totp secret of " + u.ID),
		TOTPPendingSealed: []byte("sealed pending secret"),
		TOTPLastStep:      58_001_234,
		TOTPEnrolledAt:    &enrolled,
		RecoverySealed:    []byte("sealed recovery hashes"),
		RecoveryRemaining: wardline.RecoveryCodeCount,
		PINHash:           "$argon2id$v=19$m=65536,t=1,p=4$cGlu$aGFzaA",
		UpdatedAt:         updated,
	}
}

// NewPasskey returns a passkey of u registered at the given time, with a credential id unique
// to it. It is not stored yet.
func NewPasskey(u *wardline.User, name string, created time.Time) *wardline.Passkey {
	id := wardline.NewID()
	cred := sha256.Sum256([]byte("credential " + id))
	return &wardline.Passkey{
		ID:           id,
		UserID:       u.ID,
		OrgID:        u.OrgID,
		CredentialID: cred[:16],
		Name:         name,
		Sealed:       []byte("sealed credential record of " + id),
		CreatedAt:    created,
	}
}

// NewAuthChallenge returns a challenge of the given kind begun at the given time by sessionID
// (may be ""), lasting five minutes, with WebAuthn session data. It is not stored yet.
func NewAuthChallenge(u *wardline.User, kind, sessionID string, created time.Time) *wardline.AuthChallenge {
	return &wardline.AuthChallenge{
		ID:        wardline.NewID(),
		Kind:      kind,
		UserID:    u.ID,
		OrgID:     u.OrgID,
		SessionID: sessionID,
		Data:      []byte(`{"challenge":"c29tZSBjaGFsbGVuZ2U","user_verification":"required"}`),
		CreatedAt: created,
		ExpiresAt: created.Add(5 * time.Minute),
	}
}

// NewMFAChallenge returns the challenge of a sign-in's second step: found by the hash of its
// token, bound to no session, with no data.
func NewMFAChallenge(u *wardline.User, created time.Time) *wardline.AuthChallenge {
	c := NewAuthChallenge(u, wardline.ChallengeMFA, "", created)
	hash := sha256.Sum256([]byte("mfa token of " + c.ID))
	c.TokenHash, c.Data = hash[:], nil
	return c
}

func mustPutUserMFA(t *testing.T, s wardline.Store, m *wardline.UserMFA) {
	t.Helper()
	MustUpdate(t, s, func(tx wardline.Tx) error { return tx.PutUserMFA(t.Context(), m) })
}

func mustUserMFA(t *testing.T, s wardline.Store, userID string) *wardline.UserMFA {
	t.Helper()
	got, err := s.UserMFA(t.Context(), userID)
	if err != nil {
		t.Fatalf("UserMFA: %v", err)
	}
	return got
}

func mustInsertPasskeys(t *testing.T, s wardline.Store, keys ...*wardline.Passkey) {
	t.Helper()
	MustUpdate(t, s, func(tx wardline.Tx) error {
		for _, p := range keys {
			if err := tx.InsertPasskey(t.Context(), p); err != nil {
				return err
			}
		}
		return nil
	})
}

func mustPasskeys(t *testing.T, s wardline.Store, userID string) []*wardline.Passkey {
	t.Helper()
	got, err := s.Passkeys(t.Context(), userID)
	if err != nil {
		t.Fatalf("Passkeys: %v", err)
	}
	return got
}

func mustInsertChallenges(t *testing.T, s wardline.Store, cs ...*wardline.AuthChallenge) {
	t.Helper()
	MustUpdate(t, s, func(tx wardline.Tx) error {
		for _, c := range cs {
			if err := tx.InsertAuthChallenge(t.Context(), c); err != nil {
				return err
			}
		}
		return nil
	})
}

// challengeExists reports whether a challenge is still stored (by id).
func challengeExists(t *testing.T, s wardline.Store, id string) bool {
	t.Helper()
	_, err := s.AuthChallenge(t.Context(), id)
	if err != nil && wardline.ErrorCode(err) != wardline.ENOTFOUND {
		t.Fatalf("AuthChallenge: %v", err)
	}
	return err == nil
}

func passkeyID(p *wardline.Passkey) string { return p.ID }

func testAuth(t *testing.T, open opener) {
	t.Run("UserMFA", func(t *testing.T) { testUserMFA(t, open) })
	t.Run("Passkeys", func(t *testing.T) { testPasskeys(t, open) })
	t.Run("AuthChallenges", func(t *testing.T) { testAuthChallenges(t, open) })
	t.Run("SessionState", func(t *testing.T) { testSessionState(t, open) })
}

func testUserMFA(t *testing.T, open opener) {
	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		mustPutUserMFA(t, s, NewUserMFA(f.Bob, T0))
		_, err := s.UserMFA(ctx, f.Alice.ID)
		AssertCode(t, err, wardline.ENOTFOUND)
	})

	t.Run("PutUserMFA", func(t *testing.T) {
		// The first write (Version 0) creates the row at version 1; every field reads back.
		t.Run("Create", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			f := MustCreateFixture(t, s)
			m := NewUserMFA(f.Alice, at(10))
			mustPutUserMFA(t, s, m)
			if m.Version != 1 {
				t.Errorf("Version after the first write: got %d, want 1", m.Version)
			}
			AssertSame(t, "UserMFA", mustUserMFA(t, s, f.Alice.ID), m)
		})
		// A user with nothing but a PIN: the absent factors read back absent.
		t.Run("Empty", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			f := MustCreateFixture(t, s)
			m := &wardline.UserMFA{UserID: f.Alice.ID, OrgID: f.Org.ID, PINHash: "$argon2id$pin", UpdatedAt: at(10)}
			mustPutUserMFA(t, s, m)
			got := mustUserMFA(t, s, f.Alice.ID)
			AssertSame(t, "UserMFA", got, m)
			if got.HasTOTP() || got.TOTPEnrolledAt != nil || got.RecoveryRemaining != 0 || !got.HasPIN() {
				t.Errorf("UserMFA: got %+v, want a PIN and nothing else", got)
			}
		})
		// Each write from the stored version moves it on by one and replaces every field.
		t.Run("Update", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			f := MustCreateFixture(t, s)
			m := NewUserMFA(f.Alice, at(10))
			mustPutUserMFA(t, s, m)

			m.TOTPPendingSealed, m.TOTPEnrolledAt, m.PINHash = nil, nil, ""
			m.TOTPLastStep, m.RecoveryRemaining, m.UpdatedAt = 58_001_240, 9, at(20)
			m.RecoverySealed = []byte("nine hashes")
			mustPutUserMFA(t, s, m)
			if m.Version != 2 {
				t.Errorf("Version after the second write: got %d, want 2", m.Version)
			}
			AssertSame(t, "UserMFA", mustUserMFA(t, s, f.Alice.ID), m)

			mustPutUserMFA(t, s, m)
			if got := mustUserMFA(t, s, f.Alice.ID).Version; got != 3 || m.Version != 3 {
				t.Errorf("Version after the third write: stored %d, m %d, want 3", got, m.Version)
			}
		})
		// A write from a version that is no longer stored (another request spent a recovery code
		// meanwhile) answers ECONFLICT, writes nothing and leaves m's version as it was.
		t.Run("ErrStaleVersion", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			m := NewUserMFA(f.Alice, at(10))
			mustPutUserMFA(t, s, m)
			stale := *m
			m.RecoveryRemaining, m.UpdatedAt = 9, at(20)
			mustPutUserMFA(t, s, m)

			stale.RecoveryRemaining, stale.UpdatedAt = 8, at(30)
			err := s.Update(ctx, func(tx wardline.Tx) error { return tx.PutUserMFA(ctx, &stale) })
			AssertCode(t, err, wardline.ECONFLICT)
			if stale.Version != 1 {
				t.Errorf("Version of the refused write: got %d, want 1 (unchanged)", stale.Version)
			}
			AssertSame(t, "UserMFA", mustUserMFA(t, s, f.Alice.ID), m)
		})
		// Version 0 means "nothing stored yet": two first enrolments cannot both create the row.
		t.Run("ErrExists", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			first := NewUserMFA(f.Alice, at(10))
			mustPutUserMFA(t, s, first)

			second := NewUserMFA(f.Alice, at(20))
			second.PINHash = "$argon2id$another"
			err := s.Update(ctx, func(tx wardline.Tx) error { return tx.PutUserMFA(ctx, second) })
			AssertCode(t, err, wardline.ECONFLICT)
			if second.Version != 0 {
				t.Errorf("Version of the refused write: got %d, want 0", second.Version)
			}
			AssertSame(t, "UserMFA", mustUserMFA(t, s, f.Alice.ID), first)
		})
		// A write from a version when the row is gone (an admin reset the factors meanwhile)
		// does not bring it back.
		t.Run("ErrDeleted", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			m := NewUserMFA(f.Alice, at(10))
			mustPutUserMFA(t, s, m)
			MustUpdate(t, s, func(tx wardline.Tx) error { return tx.DeleteUserMFA(ctx, f.Alice.ID) })

			err := s.Update(ctx, func(tx wardline.Tx) error { return tx.PutUserMFA(ctx, m) })
			AssertCode(t, err, wardline.ECONFLICT)
			_, err = s.UserMFA(ctx, f.Alice.ID)
			AssertCode(t, err, wardline.ENOTFOUND)
		})
		// Writes of one user leave every other user's factors alone.
		t.Run("PerUser", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			f := MustCreateFixture(t, s)
			alice, bob := NewUserMFA(f.Alice, at(10)), NewUserMFA(f.Bob, at(11))
			mustPutUserMFA(t, s, alice)
			mustPutUserMFA(t, s, bob)
			alice.PINHash, alice.UpdatedAt = "", at(20)
			mustPutUserMFA(t, s, alice)
			AssertSame(t, "Bob's UserMFA", mustUserMFA(t, s, f.Bob.ID), bob)
			if bob.Version != 1 {
				t.Errorf("Bob's Version: got %d, want 1 (versions are per user)", bob.Version)
			}
		})
		// Of many concurrent writes from one version (requests racing over one recovery code),
		// exactly one succeeds; the rest answer ECONFLICT.
		t.Run("Concurrent", func(t *testing.T) {
			t.Parallel()
			const n = 12
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			base := NewUserMFA(f.Alice, at(10))
			mustPutUserMFA(t, s, base)

			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					m := *base
					m.RecoveryRemaining, m.UpdatedAt = i, at(20+i)
					errs[i] = s.Update(ctx, func(tx wardline.Tx) error {
						mm := m // fn may run more than once
						return tx.PutUserMFA(ctx, &mm)
					})
				})
			}
			wg.Wait()
			won := -1
			for i, err := range errs {
				switch wardline.ErrorCode(err) {
				case "":
					if won >= 0 {
						t.Errorf("writes %d and %d both succeeded from version 1", won, i)
					}
					won = i
				case wardline.ECONFLICT:
				default:
					t.Errorf("write %d: %v", i, err)
				}
			}
			if won < 0 {
				t.Fatalf("no write succeeded")
			}
			got := mustUserMFA(t, s, f.Alice.ID)
			if got.Version != 2 || got.RecoveryRemaining != won {
				t.Errorf("stored: version %d, recovery remaining %d; want version 2 and the winner's %d", got.Version, got.RecoveryRemaining, won)
			}
		})
	})

	t.Run("DeleteUserMFA", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			bob := NewUserMFA(f.Bob, at(10))
			mustPutUserMFA(t, s, NewUserMFA(f.Alice, at(10)))
			mustPutUserMFA(t, s, bob)
			MustUpdate(t, s, func(tx wardline.Tx) error { return tx.DeleteUserMFA(ctx, f.Alice.ID) })

			_, err := s.UserMFA(ctx, f.Alice.ID)
			AssertCode(t, err, wardline.ENOTFOUND)
			AssertSame(t, "Bob's UserMFA", mustUserMFA(t, s, f.Bob.ID), bob)

			// Enrolling again starts from nothing stored.
			again := &wardline.UserMFA{UserID: f.Alice.ID, OrgID: f.Org.ID, PINHash: "$argon2id$new", UpdatedAt: at(30)}
			mustPutUserMFA(t, s, again)
			AssertSame(t, "UserMFA after enrolling again", mustUserMFA(t, s, f.Alice.ID), again)
		})
		// Resetting a user who never enrolled is no error (offboarding calls it for everyone).
		t.Run("None", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			MustUpdate(t, s, func(tx wardline.Tx) error { return tx.DeleteUserMFA(ctx, f.Alice.ID) })
		})
	})
}

func testPasskeys(t *testing.T, open opener) {
	t.Run("InsertPasskey", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			p := NewPasskey(f.Alice, "Work laptop", at(10))
			used := at(20)
			p.LastUsedAt = &used
			mustInsertPasskeys(t, s, p)

			got, err := s.PasskeyByCredentialID(ctx, p.CredentialID)
			if err != nil {
				t.Fatalf("PasskeyByCredentialID: %v", err)
			}
			AssertSame(t, "PasskeyByCredentialID", got, p)
			if keys := mustPasskeys(t, s, f.Alice.ID); len(keys) != 1 {
				t.Errorf("Passkeys: got %d, want 1", len(keys))
			} else {
				AssertSame(t, "Passkeys[0]", keys[0], p)
			}
		})
		// A credential is registered once, whoever registers it again: nothing is written.
		t.Run("ErrDuplicateCredential", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			p := NewPasskey(f.Alice, "Phone", at(10))
			mustInsertPasskeys(t, s, p)
			for _, u := range []*wardline.User{f.Alice, f.Bob} {
				again := NewPasskey(u, "Again", at(20))
				again.CredentialID = p.CredentialID
				err := s.Update(ctx, func(tx wardline.Tx) error { return tx.InsertPasskey(ctx, again) })
				AssertCode(t, err, wardline.ECONFLICT)
				if keys := mustPasskeys(t, s, u.ID); u == f.Bob && len(keys) != 0 {
					t.Errorf("Bob's passkeys: got %d, want 0", len(keys))
				}
			}
			if keys := mustPasskeys(t, s, f.Alice.ID); len(keys) != 1 || keys[0].ID != p.ID {
				t.Errorf("Alice's passkeys: got %v, want only %s", ids(keys, passkeyID), p.ID)
			}
		})
	})

	t.Run("Passkeys", func(t *testing.T) {
		// Oldest first, by registration time, whatever the order of insertion; only the user's.
		t.Run("OldestFirst", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			f := MustCreateFixture(t, s)
			newest, oldest, middle := NewPasskey(f.Alice, "C", at(30)), NewPasskey(f.Alice, "A", at(10)), NewPasskey(f.Alice, "B", at(20))
			mustInsertPasskeys(t, s, newest, NewPasskey(f.Bob, "Bob's", at(15)), oldest, middle)
			got := ids(mustPasskeys(t, s, f.Alice.ID), passkeyID)
			if want := []string{oldest.ID, middle.ID, newest.ID}; !slices.Equal(got, want) {
				t.Errorf("Passkeys: got %v, want %v", got, want)
			}
		})
		t.Run("None", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			f := MustCreateFixture(t, s)
			mustInsertPasskeys(t, s, NewPasskey(f.Bob, "Bob's", at(15)))
			if got := mustPasskeys(t, s, f.Alice.ID); len(got) != 0 {
				t.Errorf("Passkeys of a user without any: got %d, want 0", len(got))
			}
		})
	})

	t.Run("PasskeyByCredentialID", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			p := NewPasskey(f.Alice, "Phone", at(10))
			mustInsertPasskeys(t, s, p)
			for _, cred := range [][]byte{[]byte("some other credential"), p.CredentialID[:8], nil} {
				_, err := s.PasskeyByCredentialID(ctx, cred)
				AssertCode(t, err, wardline.ENOTFOUND)
			}
		})
	})

	t.Run("UpdatePasskey", func(t *testing.T) {
		// A sign-in moves the record on (sign count) and sets the last use.
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			p, other := NewPasskey(f.Alice, "Phone", at(10)), NewPasskey(f.Alice, "Laptop", at(11))
			mustInsertPasskeys(t, s, p, other)
			used := at(60)
			p.Sealed, p.LastUsedAt = []byte("sealed record, sign count 2"), &used
			MustUpdate(t, s, func(tx wardline.Tx) error { return tx.UpdatePasskey(ctx, p) })

			keys := mustPasskeys(t, s, f.Alice.ID)
			if len(keys) != 2 {
				t.Fatalf("Passkeys: got %d, want 2", len(keys))
			}
			AssertSame(t, "updated passkey", keys[0], p)
			AssertSame(t, "other passkey", keys[1], other)
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			p := NewPasskey(f.Alice, "Phone", at(10))
			err := s.Update(ctx, func(tx wardline.Tx) error { return tx.UpdatePasskey(ctx, p) })
			AssertCode(t, err, wardline.ENOTFOUND)
			if keys := mustPasskeys(t, s, f.Alice.ID); len(keys) != 0 {
				t.Errorf("Passkeys: got %d, want 0 (an update creates nothing)", len(keys))
			}
		})
	})

	t.Run("DeletePasskey", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			p, kept := NewPasskey(f.Alice, "Phone", at(10)), NewPasskey(f.Alice, "Laptop", at(11))
			mustInsertPasskeys(t, s, p, kept)
			MustUpdate(t, s, func(tx wardline.Tx) error { return tx.DeletePasskey(ctx, p.ID) })

			if got := ids(mustPasskeys(t, s, f.Alice.ID), passkeyID); !slices.Equal(got, []string{kept.ID}) {
				t.Errorf("Passkeys: got %v, want %v", got, []string{kept.ID})
			}
			_, err := s.PasskeyByCredentialID(ctx, p.CredentialID)
			AssertCode(t, err, wardline.ENOTFOUND)
			// The credential may be registered again once removed.
			mustInsertPasskeys(t, s, &wardline.Passkey{ID: wardline.NewID(), UserID: f.Alice.ID, OrgID: f.Org.ID,
				CredentialID: p.CredentialID, Name: "Phone again", Sealed: []byte("x"), CreatedAt: at(20)})
		})
		// Removing one already gone answers ENOTFOUND (of two racing removals, one succeeds).
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			p := NewPasskey(f.Alice, "Phone", at(10))
			mustInsertPasskeys(t, s, p)
			MustUpdate(t, s, func(tx wardline.Tx) error { return tx.DeletePasskey(ctx, p.ID) })
			err := s.Update(ctx, func(tx wardline.Tx) error { return tx.DeletePasskey(ctx, p.ID) })
			AssertCode(t, err, wardline.ENOTFOUND)
			err = s.Update(ctx, func(tx wardline.Tx) error { return tx.DeletePasskey(ctx, wardline.NewID()) })
			AssertCode(t, err, wardline.ENOTFOUND)
		})
	})

	t.Run("DeleteUserPasskeys", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		bobs := NewPasskey(f.Bob, "Bob's", at(12))
		mustInsertPasskeys(t, s, NewPasskey(f.Alice, "Phone", at(10)), NewPasskey(f.Alice, "Laptop", at(11)), bobs)

		for _, want := range []int{2, 0} { // and again: none left
			var n int
			MustUpdate(t, s, func(tx wardline.Tx) (err error) {
				n, err = tx.DeleteUserPasskeys(ctx, f.Alice.ID)
				return err
			})
			if n != want {
				t.Errorf("DeleteUserPasskeys: got %d, want %d", n, want)
			}
		}
		if got := mustPasskeys(t, s, f.Alice.ID); len(got) != 0 {
			t.Errorf("Alice's passkeys: got %d, want 0", len(got))
		}
		if got := ids(mustPasskeys(t, s, f.Bob.ID), passkeyID); !slices.Equal(got, []string{bobs.ID}) {
			t.Errorf("Bob's passkeys: got %v, want %v", got, []string{bobs.ID})
		}
	})
}

func testAuthChallenges(t *testing.T, open opener) {
	t.Run("InsertAuthChallenge", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			sess := NewSession(f.Alice, T0)
			MustCreateSessions(t, s, sess)
			ceremony := NewAuthChallenge(f.Alice, wardline.ChallengePasskeyRegister, sess.ID, at(10))
			ceremony.Attempts = 2
			mfa := NewMFAChallenge(f.Alice, at(10))
			// A passwordless sign-in's user is not known yet.
			login := NewAuthChallenge(f.Alice, wardline.ChallengePasskeyLogin, "", at(10))
			login.UserID, login.OrgID = "", ""
			mustInsertChallenges(t, s, ceremony, mfa, login)

			for _, c := range []*wardline.AuthChallenge{ceremony, mfa, login} {
				got, err := s.AuthChallenge(ctx, c.ID)
				if err != nil {
					t.Fatalf("AuthChallenge %s: %v", c.Kind, err)
				}
				AssertSame(t, "AuthChallenge "+c.Kind, got, c)
			}
			got, err := s.AuthChallengeByTokenHash(ctx, mfa.TokenHash)
			if err != nil {
				t.Fatalf("AuthChallengeByTokenHash: %v", err)
			}
			AssertSame(t, "AuthChallengeByTokenHash", got, mfa)
		})
		// Many challenges carry no token: they do not collide with one another.
		t.Run("ManyWithoutToken", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			f := MustCreateFixture(t, s)
			var cs []*wardline.AuthChallenge
			for i := range 3 {
				cs = append(cs, NewAuthChallenge(f.Alice, wardline.ChallengePasskeyLogin, "", at(i)))
			}
			mustInsertChallenges(t, s, cs...)
			for _, c := range cs {
				if !challengeExists(t, s, c.ID) {
					t.Errorf("challenge %s was not stored", c.ID)
				}
			}
		})
	})

	t.Run("AuthChallenge", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			mustInsertChallenges(t, s, NewMFAChallenge(f.Alice, T0))
			_, err := s.AuthChallenge(ctx, wardline.NewID())
			AssertCode(t, err, wardline.ENOTFOUND)
		})
	})

	t.Run("AuthChallengeByTokenHash", func(t *testing.T) {
		// Another token, a prefix of the token, and no token at all find nothing, not even a
		// challenge that has no token.
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			mfa := NewMFAChallenge(f.Alice, T0)
			mustInsertChallenges(t, s, mfa, NewAuthChallenge(f.Alice, wardline.ChallengePasskeyLogin, "", T0))
			other := sha256.Sum256([]byte("some other token"))
			for _, hash := range [][]byte{other[:], mfa.TokenHash[:16], nil, {}} {
				_, err := s.AuthChallengeByTokenHash(ctx, hash)
				AssertCode(t, err, wardline.ENOTFOUND)
			}
		})
	})

	t.Run("SessionChallenge", func(t *testing.T) {
		// The latest ceremony of the kind begun by the session, whatever the insertion order.
		t.Run("Latest", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			sess, other := NewSession(f.Alice, T0), NewSession(f.Alice, T0)
			MustCreateSessions(t, s, sess, other)
			latest := NewAuthChallenge(f.Alice, wardline.ChallengeUnlock, sess.ID, at(20))
			mustInsertChallenges(t, s,
				latest,
				NewAuthChallenge(f.Alice, wardline.ChallengeUnlock, sess.ID, at(10)),
				NewAuthChallenge(f.Alice, wardline.ChallengePasskeyRegister, sess.ID, at(30)),
				NewAuthChallenge(f.Alice, wardline.ChallengeUnlock, other.ID, at(40)),
			)
			got, err := s.SessionChallenge(ctx, sess.ID, wardline.ChallengeUnlock)
			if err != nil {
				t.Fatalf("SessionChallenge: %v", err)
			}
			AssertSame(t, "SessionChallenge", got, latest)
		})
		// Challenges begun by no session (a sign-in's second step, passwordless) are nobody's.
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			sess := NewSession(f.Alice, T0)
			MustCreateSessions(t, s, sess)
			mustInsertChallenges(t, s,
				NewAuthChallenge(f.Alice, wardline.ChallengePasskeyRegister, sess.ID, at(10)),
				NewMFAChallenge(f.Alice, at(10)),
				NewAuthChallenge(f.Alice, wardline.ChallengePasskeyLogin, "", at(10)),
			)
			for _, q := range []struct{ session, kind string }{
				{sess.ID, wardline.ChallengeUnlock},
				{wardline.NewID(), wardline.ChallengePasskeyRegister},
				{"", wardline.ChallengePasskeyLogin},
				{"", wardline.ChallengeMFA},
			} {
				_, err := s.SessionChallenge(ctx, q.session, q.kind)
				AssertCode(t, err, wardline.ENOTFOUND)
			}
		})
	})

	t.Run("RecordChallengeAttempt", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			c, other := NewMFAChallenge(f.Alice, T0), NewMFAChallenge(f.Bob, T0)
			c.Attempts = 1
			mustInsertChallenges(t, s, c, other)
			for _, want := range []int{2, 3, 4} {
				var got int
				MustUpdate(t, s, func(tx wardline.Tx) (err error) {
					got, err = tx.RecordChallengeAttempt(ctx, c.ID)
					return err
				})
				if got != want {
					t.Errorf("RecordChallengeAttempt: got %d, want %d", got, want)
				}
			}
			if got, err := s.AuthChallenge(ctx, c.ID); err != nil || got.Attempts != 4 {
				t.Errorf("stored Attempts: got %v, %v, want 4", got, err)
			}
			if got, err := s.AuthChallenge(ctx, other.ID); err != nil || got.Attempts != 0 {
				t.Errorf("other challenge's Attempts: got %v, %v, want 0", got, err)
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			err := s.Update(ctx, func(tx wardline.Tx) error {
				_, err := tx.RecordChallengeAttempt(ctx, wardline.NewID())
				return err
			})
			AssertCode(t, err, wardline.ENOTFOUND)
		})
		// Concurrent wrong answers are each counted.
		t.Run("Concurrent", func(t *testing.T) {
			t.Parallel()
			const n = 10
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			c := NewMFAChallenge(f.Alice, T0)
			mustInsertChallenges(t, s, c)
			var wg sync.WaitGroup
			counts := make([]int, n)
			for i := range n {
				wg.Go(func() {
					if err := s.Update(ctx, func(tx wardline.Tx) (err error) {
						counts[i], err = tx.RecordChallengeAttempt(ctx, c.ID)
						return err
					}); err != nil {
						t.Errorf("RecordChallengeAttempt: %v", err)
					}
				})
			}
			wg.Wait()
			slices.Sort(counts)
			for i, got := range counts {
				if got != i+1 {
					t.Fatalf("counts returned: got %v, want each of 1..%d once", counts, n)
				}
			}
		})
	})

	t.Run("DeleteAuthChallenge", func(t *testing.T) {
		// A challenge is consumed once: the second deletion answers ENOTFOUND.
		t.Run("Once", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			c, kept := NewMFAChallenge(f.Alice, T0), NewMFAChallenge(f.Alice, T0)
			mustInsertChallenges(t, s, c, kept)
			MustUpdate(t, s, func(tx wardline.Tx) error { return tx.DeleteAuthChallenge(ctx, c.ID) })
			err := s.Update(ctx, func(tx wardline.Tx) error { return tx.DeleteAuthChallenge(ctx, c.ID) })
			AssertCode(t, err, wardline.ENOTFOUND)

			_, err = s.AuthChallengeByTokenHash(ctx, c.TokenHash)
			AssertCode(t, err, wardline.ENOTFOUND)
			if !challengeExists(t, s, kept.ID) {
				t.Errorf("another challenge was deleted")
			}
		})
		// Of many requests racing to use one challenge (one MFA token, one ceremony), exactly one
		// consumes it.
		t.Run("Concurrent", func(t *testing.T) {
			t.Parallel()
			const n = 10
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			c := NewMFAChallenge(f.Alice, T0)
			mustInsertChallenges(t, s, c)
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					errs[i] = s.Update(ctx, func(tx wardline.Tx) error { return tx.DeleteAuthChallenge(ctx, c.ID) })
				})
			}
			wg.Wait()
			won := 0
			for i, err := range errs {
				switch wardline.ErrorCode(err) {
				case "":
					won++
				case wardline.ENOTFOUND:
				default:
					t.Errorf("delete %d: %v", i, err)
				}
			}
			if won != 1 {
				t.Errorf("deletions that succeeded: got %d, want exactly 1", won)
			}
		})
	})

	// A new ceremony replaces the session's earlier ones of its kind, and only those.
	t.Run("DeleteSessionChallenges", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		sess, other := NewSession(f.Alice, T0), NewSession(f.Alice, T0)
		MustCreateSessions(t, s, sess, other)
		gone1 := NewAuthChallenge(f.Alice, wardline.ChallengeUnlock, sess.ID, at(10))
		gone2 := NewAuthChallenge(f.Alice, wardline.ChallengeUnlock, sess.ID, at(20))
		otherKind := NewAuthChallenge(f.Alice, wardline.ChallengePasskeyRegister, sess.ID, at(10))
		otherSession := NewAuthChallenge(f.Alice, wardline.ChallengeUnlock, other.ID, at(10))
		mfa := NewMFAChallenge(f.Alice, at(10))
		mustInsertChallenges(t, s, gone1, gone2, otherKind, otherSession, mfa)
		MustUpdate(t, s, func(tx wardline.Tx) error { return tx.DeleteSessionChallenges(ctx, sess.ID, wardline.ChallengeUnlock) })

		for _, c := range []*wardline.AuthChallenge{gone1, gone2} {
			if challengeExists(t, s, c.ID) {
				t.Errorf("challenge at %v: still stored, want deleted", c.CreatedAt)
			}
		}
		for name, c := range map[string]*wardline.AuthChallenge{"another kind": otherKind, "another session": otherSession, "an MFA step": mfa} {
			if !challengeExists(t, s, c.ID) {
				t.Errorf("challenge of %s: deleted, want kept", name)
			}
		}
		_, err := s.SessionChallenge(ctx, sess.ID, wardline.ChallengeUnlock)
		AssertCode(t, err, wardline.ENOTFOUND)
		// Deleting when there are none is no error.
		MustUpdate(t, s, func(tx wardline.Tx) error { return tx.DeleteSessionChallenges(ctx, sess.ID, wardline.ChallengeUnlock) })
	})

	// Pruning removes what ended before the given time; what ends at that instant or later stays.
	t.Run("DeleteExpiredAuthChallenges", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		now := at(600)
		ended, endsNow, live := NewMFAChallenge(f.Alice, T0), NewMFAChallenge(f.Alice, T0), NewMFAChallenge(f.Alice, T0)
		ended.ExpiresAt, endsNow.ExpiresAt, live.ExpiresAt = now.Add(-time.Microsecond), now, now.Add(time.Minute)
		ceremony := NewAuthChallenge(f.Alice, wardline.ChallengePasskeyLogin, "", T0) // ends at(300)
		mustInsertChallenges(t, s, ended, endsNow, live, ceremony)
		MustUpdate(t, s, func(tx wardline.Tx) error { return tx.DeleteExpiredAuthChallenges(ctx, now) })

		for name, tt := range map[string]struct {
			c    *wardline.AuthChallenge
			kept bool
		}{
			"ended a microsecond before": {ended, false},
			"a ceremony ended long ago":  {ceremony, false},
			"ending at that instant":     {endsNow, true},
			"ending later":               {live, true},
		} {
			if got := challengeExists(t, s, tt.c.ID); got != tt.kept {
				t.Errorf("challenge %s: kept %v, want %v", name, got, tt.kept)
			}
		}
	})
}

func testSessionState(t *testing.T, open opener) {
	// A session created locked, named, with restrictions, reads back so.
	t.Run("CreateSession", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		f := MustCreateFixture(t, s)
		sess := NewSession(f.Alice, T0)
		locked := at(120)
		sess.Name, sess.LockedAt, sess.PINFailures = "Ward 7 tablet", &locked, 3
		sess.MFAEnrollmentRequired, sess.PasswordChangeRequired = true, true
		MustCreateSessions(t, s, sess)
		AssertSame(t, "Session", mustSession(t, s, sess.ID), sess)
	})

	t.Run("UpdateSessionState", func(t *testing.T) {
		// Lock, count wrong PINs, unlock, lift a restriction: each reads back.
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			sess, other := NewSession(f.Alice, T0), NewSession(f.Alice, T0)
			sess.MFAEnrollmentRequired, sess.PasswordChangeRequired = true, true
			MustCreateSessions(t, s, sess, other)

			locked := at(120)
			steps := []func(s *wardline.Session){
				func(s *wardline.Session) { s.LockedAt = &locked },
				func(s *wardline.Session) { s.PINFailures = 4 },
				func(s *wardline.Session) { s.LockedAt, s.PINFailures = nil, 0 },
				func(s *wardline.Session) { s.MFAEnrollmentRequired = false },
				func(s *wardline.Session) { s.PasswordChangeRequired = false },
			}
			for i, step := range steps {
				step(sess)
				MustUpdate(t, s, func(tx wardline.Tx) error { return tx.UpdateSessionState(ctx, sess) })
				got := mustSession(t, s, sess.ID)
				AssertSame(t, fmt.Sprintf("Session after step %d", i+1), got, sess)
			}
			AssertSame(t, "other session", mustSession(t, s, other.ID), other)
		})
		// Only the lock, PIN failures and restrictions are written: a copy read before the session
		// was used, or revoked, does not move its last use back or bring it back to life.
		t.Run("OnlyState", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			sess := NewSession(f.Alice, T0)
			MustCreateSessions(t, s, sess)
			stale := *sess
			MustUpdate(t, s, func(tx wardline.Tx) error {
				if err := tx.TouchSession(ctx, sess.ID, at(300)); err != nil {
					return err
				}
				return tx.RevokeSession(ctx, sess.ID, at(400))
			})
			want := mustSession(t, s, sess.ID)

			locked := at(350)
			stale.LockedAt, stale.PINFailures = &locked, 2
			stale.Name, stale.Device, stale.Addr, stale.ExpiresAt, stale.IdleMinutes = "renamed", "curl/8", "10.0.0.9", at(99999), 600
			MustUpdate(t, s, func(tx wardline.Tx) error { return tx.UpdateSessionState(ctx, &stale) })

			want.LockedAt, want.PINFailures = &locked, 2
			AssertSame(t, "Session", mustSession(t, s, sess.ID), want)
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			sess := NewSession(f.Alice, T0)
			err := s.Update(ctx, func(tx wardline.Tx) error { return tx.UpdateSessionState(ctx, sess) })
			AssertCode(t, err, wardline.ENOTFOUND)
			_, err = s.Session(ctx, sess.ID)
			AssertCode(t, err, wardline.ENOTFOUND)
		})
	})
}
