package storetest

import (
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	"wardline"
)

// NewSession returns a session of u created at the given time, lasting 14 hours, with a token
// hash unique to it. It is not stored yet.
func NewSession(u *wardline.User, created time.Time) *wardline.Session {
	id := wardline.NewID()
	hash := sha256.Sum256([]byte("token of " + id))
	return &wardline.Session{
		ID:          id,
		UserID:      u.ID,
		OrgID:       u.OrgID,
		TokenHash:   hash[:],
		Device:      "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
		Addr:        "10.20.30.40",
		CreatedAt:   created,
		LastSeenAt:  created,
		ExpiresAt:   created.Add(14 * time.Hour),
		IdleMinutes: 60,
	}
}

// MustCreateSessions stores the given sessions in one Update.
func MustCreateSessions(tb testing.TB, s wardline.Store, sessions ...*wardline.Session) {
	tb.Helper()
	MustUpdate(tb, s, func(tx wardline.Tx) error {
		for _, sess := range sessions {
			if err := tx.CreateSession(tb.Context(), sess); err != nil {
				return err
			}
		}
		return nil
	})
}

func mustSession(t *testing.T, s wardline.Store, id string) *wardline.Session {
	t.Helper()
	got, err := s.Session(t.Context(), id)
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	return got
}

func testSessions(t *testing.T, open opener) {
	t.Run("CreateSession", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			sess := NewSession(f.Alice, at(5))
			sess.PasswordChangeRequired, sess.IdleMinutes = true, 15
			MustCreateSessions(t, s, sess, NewSession(f.Alice, at(6)))

			AssertSame(t, "Session", mustSession(t, s, sess.ID), sess)
			got, err := s.SessionByTokenHash(ctx, sess.TokenHash)
			if err != nil {
				t.Fatalf("SessionByTokenHash: %v", err)
			}
			AssertSame(t, "SessionByTokenHash", got, sess)
		})
	})

	t.Run("Session", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			MustCreateSessions(t, s, NewSession(f.Alice, T0))
			_, err := s.Session(ctx, wardline.NewID())
			AssertCode(t, err, wardline.ENOTFOUND)
		})
	})

	t.Run("SessionByTokenHash", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			MustCreateSessions(t, s, NewSession(f.Alice, T0))
			hash := sha256.Sum256([]byte("some other token"))
			_, err := s.SessionByTokenHash(ctx, hash[:])
			AssertCode(t, err, wardline.ENOTFOUND)
			_, _, err = s.SessionWithUser(ctx, hash[:])
			AssertCode(t, err, wardline.ENOTFOUND)
		})
	})

	t.Run("SessionWithUser", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			sess, bobs := NewSession(f.Alice, at(5)), NewSession(f.Bob, at(6))
			sess.IdleMinutes, sess.Name = 15, "ward PC"
			MustCreateSessions(t, s, sess, bobs)
			locked := at(7)
			sess.LockedAt, sess.PINFailures = &locked, 2
			MustUpdate(t, s, func(tx wardline.Tx) error { return tx.UpdateSessionState(ctx, sess) })
			gotSess, gotUser, err := s.SessionWithUser(ctx, sess.TokenHash)
			if err != nil {
				t.Fatalf("SessionWithUser: %v", err)
			}
			AssertSame(t, "SessionWithUser session", gotSess, sess)
			user, err := s.User(ctx, f.Alice.ID)
			if err != nil {
				t.Fatal(err)
			}
			AssertSame(t, "SessionWithUser user", gotUser, user)
			if _, u, _ := s.SessionWithUser(ctx, bobs.TokenHash); u == nil || u.ID != f.Bob.ID {
				t.Errorf("Bob's session: user %+v", u)
			}
		})

		// Every request signs in through SessionWithUser, so a store may keep its answers;
		// whatever it keeps, the answer after a committed change must be the changed one.
		t.Run("SeesEveryCommittedChange", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			sess, other, bobs := NewSession(f.Alice, T0), NewSession(f.Alice, T0), NewSession(f.Bob, T0)
			MustCreateSessions(t, s, sess, other, bobs)
			check := func(step string, tok []byte, id string) {
				t.Helper()
				for range 2 { // the second read may be answered from what the first kept
					gotSess, gotUser, err := s.SessionWithUser(ctx, tok)
					if err != nil {
						t.Fatalf("%s: SessionWithUser: %v", step, err)
					}
					AssertSame(t, step+": session", gotSess, mustSession(t, s, id))
					user, err := s.User(ctx, gotSess.UserID)
					if err != nil {
						t.Fatal(err)
					}
					AssertSame(t, step+": user", gotUser, user)
				}
			}
			check("before", sess.TokenHash, sess.ID)
			check("before", other.TokenHash, other.ID)
			check("before", bobs.TokenHash, bobs.ID)

			// A caller that changes what it was given changes nothing kept.
			got, _, _ := s.SessionWithUser(ctx, sess.TokenHash)
			got.LastSeenAt, got.Name = at(500), "changed by the caller"
			check("after the caller changed its copy", sess.TokenHash, sess.ID)

			for _, step := range []struct {
				name string
				fn   func(tx wardline.Tx) error
			}{
				{"touched", func(tx wardline.Tx) error { return tx.TouchSession(ctx, sess.ID, at(30)) }},
				{"locked", func(tx wardline.Tx) error {
					locked := at(40)
					s := mustSession(t, s, sess.ID)
					s.LockedAt, s.PINFailures = &locked, 1
					return tx.UpdateSessionState(ctx, s)
				}},
				{"user renamed", func(tx wardline.Tx) error {
					u := *f.Alice
					u.DisplayName, u.JobTitle = "Alice Renamed", "Sister"
					return tx.UpdateUser(ctx, &u)
				}},
				{"user suspended", func(tx wardline.Tx) error {
					u, err := tx.User(ctx, f.Alice.ID)
					if err != nil {
						return err
					}
					u.Status = wardline.UserSuspended
					return tx.UpdateUser(ctx, u)
				}},
				{"session revoked", func(tx wardline.Tx) error { return tx.RevokeSession(ctx, sess.ID, at(60)) }},
				{"every session revoked", func(tx wardline.Tx) error {
					_, err := tx.RevokeUserSessions(ctx, f.Alice.ID, at(70))
					return err
				}},
			} {
				MustUpdate(t, s, step.fn)
				check(step.name, sess.TokenHash, sess.ID)
				check(step.name, other.TokenHash, other.ID)
				check(step.name+" (someone else's session)", bobs.TokenHash, bobs.ID)
			}

			// A change that rolls back leaves the answer as it was.
			err := s.Update(ctx, func(tx wardline.Tx) error {
				if err := tx.TouchSession(ctx, bobs.ID, at(80)); err != nil {
					return err
				}
				return wardline.Errorf(wardline.EINVALID, "roll back")
			})
			AssertCode(t, err, wardline.EINVALID)
			check("rolled back", bobs.TokenHash, bobs.ID)
		})
	})

	t.Run("TouchSession", func(t *testing.T) {
		t.Run("OnlyForward", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			sess, other := NewSession(f.Alice, T0), NewSession(f.Alice, T0)
			MustCreateSessions(t, s, sess, other)
			for _, step := range []struct {
				touch time.Time
				want  time.Time
			}{
				{at(10), at(10)},
				{at(5), at(10)}, // a late request never moves it back
				{at(10), at(10)},
				{at(30), at(30)},
			} {
				MustUpdate(t, s, func(tx wardline.Tx) error { return tx.TouchSession(ctx, sess.ID, step.touch) })
				if got := mustSession(t, s, sess.ID).LastSeenAt; !got.Equal(step.want) {
					t.Errorf("LastSeenAt after touching at %v: got %v, want %v", step.touch, got, step.want)
				}
			}
			if got := mustSession(t, s, other.ID).LastSeenAt; !got.Equal(T0) {
				t.Errorf("other session's LastSeenAt: got %v, want %v", got, T0)
			}
		})
	})

	t.Run("RevokeSession", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			sess, other := NewSession(f.Alice, T0), NewSession(f.Alice, T0)
			MustCreateSessions(t, s, sess, other)
			MustUpdate(t, s, func(tx wardline.Tx) error { return tx.RevokeSession(ctx, sess.ID, at(60)) })
			// Revoking again leaves the time it ended.
			MustUpdate(t, s, func(tx wardline.Tx) error { return tx.RevokeSession(ctx, sess.ID, at(90)) })

			if got := mustSession(t, s, sess.ID).RevokedAt; got == nil || !got.Equal(at(60)) {
				t.Errorf("RevokedAt: got %v, want %v", got, at(60))
			}
			if got := mustSession(t, s, other.ID).RevokedAt; got != nil {
				t.Errorf("other session's RevokedAt: got %v, want nil", got)
			}
		})
	})

	t.Run("RevokeUserSessions", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			live1, live2, revoked := NewSession(f.Alice, T0), NewSession(f.Alice, at(1)), NewSession(f.Alice, at(2))
			earlier := at(30)
			revoked.RevokedAt = &earlier
			bobs := NewSession(f.Bob, T0)
			MustCreateSessions(t, s, live1, live2, revoked, bobs)

			var got []string
			MustUpdate(t, s, func(tx wardline.Tx) (err error) {
				got, err = tx.RevokeUserSessions(ctx, f.Alice.ID, at(60))
				return err
			})
			slices.Sort(got)
			want := []string{live1.ID, live2.ID}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("RevokeUserSessions: got %v, want %v (the live ones)", got, want)
			}
			for _, id := range []string{live1.ID, live2.ID} {
				if got := mustSession(t, s, id).RevokedAt; got == nil || !got.Equal(at(60)) {
					t.Errorf("RevokedAt of %s: got %v, want %v", id, got, at(60))
				}
			}
			if got := mustSession(t, s, revoked.ID).RevokedAt; got == nil || !got.Equal(earlier) {
				t.Errorf("RevokedAt of the session revoked before: got %v, want %v", got, earlier)
			}
			if got := mustSession(t, s, bobs.ID).RevokedAt; got != nil {
				t.Errorf("RevokedAt of another user's session: got %v, want nil", got)
			}
		})
		// A session past its absolute end is not live: it is not reported as ended now (the caller
		// would tell event streams of that session to close and audit a revocation that never was).
		t.Run("SkipsExpired", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			live, expired := NewSession(f.Alice, at(3600)), NewSession(f.Alice, T0)
			expired.ExpiresAt = at(60)
			MustCreateSessions(t, s, live, expired)

			var got []string
			MustUpdate(t, s, func(tx wardline.Tx) (err error) {
				got, err = tx.RevokeUserSessions(ctx, f.Alice.ID, at(7200))
				return err
			})
			if want := []string{live.ID}; !slices.Equal(got, want) {
				t.Errorf("RevokeUserSessions: got %v, want %v (only the live one, not the expired %s)", got, want, expired.ID)
			}
		})
		t.Run("None", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			var got []string
			MustUpdate(t, s, func(tx wardline.Tx) (err error) {
				got, err = tx.RevokeUserSessions(ctx, f.Alice.ID, at(60))
				return err
			})
			if len(got) != 0 {
				t.Errorf("RevokeUserSessions: got %v, want none", got)
			}
		})
	})

	t.Run("LiveSessions", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		now := at(3600)
		live, revoked, expired, endsNow := NewSession(f.Alice, T0), NewSession(f.Alice, T0), NewSession(f.Alice, T0), NewSession(f.Alice, T0)
		revokedAt := at(60)
		revoked.RevokedAt = &revokedAt
		expired.ExpiresAt = now.Add(-time.Microsecond)
		endsNow.ExpiresAt = now
		later := NewSession(f.Alice, at(120))
		MustCreateSessions(t, s, live, revoked, expired, endsNow, later, NewSession(f.Bob, T0))

		got, err := s.LiveSessions(ctx, f.Alice.ID, now)
		if err != nil {
			t.Fatalf("LiveSessions: %v", err)
		}
		gotIDs, want := ids(got, sessionID), []string{live.ID, later.ID}
		slices.Sort(gotIDs)
		slices.Sort(want)
		if !slices.Equal(gotIDs, want) {
			t.Errorf("LiveSessions: got %v, want %v", gotIDs, want)
		}
		if got, err := s.LiveSessions(ctx, f.Carol.ID, now); err != nil || len(got) != 0 {
			t.Errorf("LiveSessions of a user without sessions: got %v, %v, want none", got, err)
		}
	})
}

func testLoginFailures(t *testing.T, open opener) {
	const key, otherKey = "email:alice@example.nhs.uk", "addr:10.20.30.40"
	record := func(t *testing.T, s wardline.Store, failures map[string][]time.Time) {
		t.Helper()
		MustUpdate(t, s, func(tx wardline.Tx) error {
			for k, times := range failures {
				for _, when := range times {
					if err := tx.RecordLoginFailure(t.Context(), k, when); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	count := func(t *testing.T, s wardline.Store, k string, since time.Time) int {
		t.Helper()
		n, err := s.CountLoginFailures(t.Context(), k, since)
		if err != nil {
			t.Fatalf("CountLoginFailures: %v", err)
		}
		return n
	}
	last := func(t *testing.T, s wardline.Store, k string) time.Time {
		t.Helper()
		when, err := s.LastLoginFailure(t.Context(), k)
		if err != nil {
			t.Fatalf("LastLoginFailure: %v", err)
		}
		return when
	}

	t.Run("CountSince", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		record(t, s, map[string][]time.Time{key: {at(0), at(20), at(10), at(10)}, otherKey: {at(15)}})
		for _, tt := range []struct {
			since time.Time
			want  int
		}{
			{at(-1), 4},
			{at(0), 4},
			{at(10), 3}, // since is inclusive
			{at(11), 1},
			{at(20), 1},
			{at(21), 0},
		} {
			if got := count(t, s, key, tt.since); got != tt.want {
				t.Errorf("CountLoginFailures since %v: got %d, want %d", tt.since, got, tt.want)
			}
		}
		if got := count(t, s, otherKey, at(0)); got != 1 {
			t.Errorf("CountLoginFailures of another key: got %d, want 1", got)
		}
		if got := count(t, s, "email:nobody@example.nhs.uk", at(0)); got != 0 {
			t.Errorf("CountLoginFailures of an unknown key: got %d, want 0", got)
		}
	})

	t.Run("Last", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		if got := last(t, s, key); !got.IsZero() {
			t.Errorf("LastLoginFailure with none: got %v, want zero", got)
		}
		record(t, s, map[string][]time.Time{key: {at(0), at(20), at(10)}, otherKey: {at(30)}})
		if got := last(t, s, key); !got.Equal(at(20)) {
			t.Errorf("LastLoginFailure: got %v, want %v", got, at(20))
		}
	})

	t.Run("Clear", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		record(t, s, map[string][]time.Time{key: {at(0), at(10)}, otherKey: {at(5)}})
		MustUpdate(t, s, func(tx wardline.Tx) error { return tx.ClearLoginFailures(ctx, key) })
		if got := count(t, s, key, at(-1)); got != 0 {
			t.Errorf("CountLoginFailures after clearing: got %d, want 0", got)
		}
		if got := last(t, s, key); !got.IsZero() {
			t.Errorf("LastLoginFailure after clearing: got %v, want zero", got)
		}
		if got := count(t, s, otherKey, at(-1)); got != 1 {
			t.Errorf("CountLoginFailures of another key after clearing: got %d, want 1", got)
		}
	})
}
