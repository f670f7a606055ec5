package app_test

import (
	"context"
	"testing"
	"time"

	"wardline"
)

func TestSessionExpiry(t *testing.T) {
	e := MustOpenEnv(t)
	u, pw := e.MustCreateUser(t, "Nurse Night")
	ctx := anon(context.Background())
	res, err := e.App.Auth.Login(ctx, u.Email, pw)
	if err != nil {
		t.Fatal(err)
	}
	if !res.PasswordChangeRequired || res.ExpiresAt != e.Clock.Now().Add(14*time.Hour) {
		t.Fatalf("login: %+v", res)
	}
	auth := func() error {
		_, err := e.App.Auth.Authenticate(ctx, res.Token, "198.51.100.7")
		return err
	}
	t.Run("IdleEndsIt", func(t *testing.T) {
		e.Clock.Add(59 * time.Minute)
		if err := auth(); err != nil {
			t.Fatalf("after 59 idle minutes: %v", err)
		}
		// Use at 59 minutes resets the idle clock.
		e.Clock.Add(59 * time.Minute)
		if err := auth(); err != nil {
			t.Fatalf("59 minutes after the last use: %v", err)
		}
		e.Clock.Add(61 * time.Minute)
		if err := auth(); code(err) != wardline.EUNAUTHENTICATED {
			t.Fatalf("after 61 idle minutes: got %v", err)
		}
	})
	t.Run("AbsoluteEndsIt", func(t *testing.T) {
		res2, err := e.App.Auth.Login(ctx, u.Email, pw)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 28; i++ { // 14 hours of activity every 30 minutes
			e.Clock.Add(30 * time.Minute)
			_, err := e.App.Auth.Authenticate(ctx, res2.Token, "x")
			if i < 27 && err != nil {
				t.Fatalf("at %d minutes: %v", (i+1)*30, err)
			} else if i == 27 && code(err) != wardline.EUNAUTHENTICATED {
				t.Fatalf("after 14 hours: got %v", err)
			}
		}
	})
	t.Run("OrgPolicyShortensIt", func(t *testing.T) {
		p := e.Org.Policy
		p.SessionIdleMinutes = 5
		if err := e.Store.Update(context.Background(), func(tx wardline.Tx) error { return tx.UpdateOrgPolicy(context.Background(), e.Org.ID, p) }); err != nil {
			t.Fatal(err)
		}
		res3, err := e.App.Auth.Login(ctx, u.Email, pw)
		if err != nil {
			t.Fatal(err)
		}
		e.Clock.Add(6 * time.Minute)
		if _, err := e.App.Auth.Authenticate(ctx, res3.Token, "x"); code(err) != wardline.EUNAUTHENTICATED {
			t.Fatalf("after 6 idle minutes under a 5-minute policy: %v", err)
		}
	})
}

func TestLockoutLastsFifteenMinutes(t *testing.T) {
	e := MustOpenEnv(t)
	u, pw := e.MustCreateUser(t, "Locked Out")
	ctx := anon(context.Background())
	for i := 0; i < 10; i++ {
		if _, err := e.App.Auth.Login(ctx, u.Email, "wrong"); code(err) != wardline.EUNAUTHENTICATED {
			t.Fatalf("failure %d: %v", i, err)
		}
		e.Clock.Add(time.Minute)
	}
	if _, err := e.App.Auth.Login(ctx, u.Email, pw); code(err) != wardline.ELOCKED {
		t.Fatalf("after 10 failures: %v", err)
	}
	// Attempts while locked do not extend the lock.
	e.Clock.Add(10 * time.Minute)
	if _, err := e.App.Auth.Login(ctx, u.Email, "wrong"); code(err) != wardline.ELOCKED {
		t.Fatalf("still locked: %v", err)
	}
	e.Clock.Add(5 * time.Minute)
	if _, err := e.App.Auth.Login(ctx, u.Email, pw); err != nil {
		t.Fatalf("15 minutes after the last failure: %v", err)
	}
	// Failures spread beyond the window never lock.
	for i := 0; i < 20; i++ {
		e.Clock.Add(2 * time.Minute)
		if _, err := e.App.Auth.Login(ctx, u.Email, "wrong"); code(err) == wardline.ELOCKED {
			t.Fatalf("locked after %d spread failures", i+1)
		}
	}
}

func TestChangePasswordChecksCurrentFirst(t *testing.T) {
	e := MustOpenEnv(t)
	u, pw := e.MustCreateUser(t, "Changer")
	res, err := e.App.Auth.Login(anon(context.Background()), u.Email, pw)
	if err != nil {
		t.Fatal(err)
	}
	ctx := wardline.NewContextWithActor(context.Background(), &wardline.Actor{User: res.User, Session: res.Session})
	if err := e.App.Auth.ChangePassword(ctx, "not it", "short"); code(err) != wardline.EFORBIDDEN {
		t.Fatalf("wrong current password: %v", err)
	}
	if err := e.App.Auth.ChangePassword(ctx, pw, "short"); code(err) != wardline.EINVALID {
		t.Fatalf("short new password: %v", err)
	}
	if err := e.App.Auth.ChangePassword(ctx, pw, pw); code(err) != wardline.EINVALID {
		t.Fatalf("same password: %v", err)
	}
	if err := e.App.Auth.ChangePassword(ctx, pw, "twelve chars long enough"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Auth.Authenticate(ctx, res.Token, "x"); code(err) != wardline.EUNAUTHENTICATED {
		t.Fatalf("the old session outlived the change: %v", err)
	}
}
