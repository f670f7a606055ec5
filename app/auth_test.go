package app_test

import (
	"context"
	"strings"
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

// TestOneAddressInTwoOrganisations: a bank nurse works for two trusts under one NHSmail address.
// Each trust's admin gives her an account without learning of the other's; she signs in to the
// older active one by default and to either by naming its organisation, and a wrong
// organisation answers as a wrong password does.
func TestOneAddressInTwoOrganisations(t *testing.T) {
	e := MustOpenEnv(t)
	ctx := anon(context.Background())
	const email = "sam.okafor@nhs.net"
	north, pwNorth, err := e.App.Users.CreateUser(As(e.Admin), wardline.NewUser{Email: email, DisplayName: "Sam Okafor"})
	if err != nil {
		t.Fatal(err)
	}
	e.Clock.Add(time.Minute)
	southOrg, southAdmin, _, err := e.App.Users.CreateOrg(ctx, "Southgate  Community Trust", wardline.NewUser{Email: "admin@southgate.nhs.uk", DisplayName: "Sol Admin"}, false)
	if err != nil {
		t.Fatal(err)
	}
	south, pwSouth, err := e.App.Users.CreateUser(As(southAdmin), wardline.NewUser{Email: "Sam.Okafor@NHS.net", DisplayName: "Sam Okafor"})
	if err != nil {
		t.Fatalf("the same address in another organisation: %v", err)
	}
	if south.ID == north.ID || south.OrgID != southOrg.ID || south.Email != email {
		t.Fatalf("second account: %+v", south)
	}
	if _, _, err := e.App.Users.CreateUser(As(e.Admin), wardline.NewUser{Email: email, DisplayName: "Sam Again"}); code(err) != wardline.ECONFLICT {
		t.Fatalf("the same address twice in one organisation: %v, want conflict", err)
	}

	signIn := func(org, pw string) (*wardline.User, error) {
		t.Helper()
		res, err := e.App.Auth.LoginAt(ctx, org, email, pw)
		if err != nil {
			return nil, err
		}
		return res.User, nil
	}
	for _, c := range []struct {
		name, org, pw string
		want          *wardline.User
	}{
		{"default: the older account", "", pwNorth, north},
		{"by id", southOrg.ID, pwSouth, south},
		{"by name, any case and spacing", " southgate community  TRUST ", pwSouth, south},
		{"by name, the other", "Test Trust", pwNorth, north},
	} {
		got, err := signIn(c.org, c.pw)
		if err != nil || got.ID != c.want.ID {
			t.Errorf("%s: got %v, %v; want %s", c.name, got, err, c.want.ID)
			continue
		}
		if want := map[string]string{north.ID: e.Org.Name, south.ID: southOrg.Name}[got.ID]; got.OrgName != want {
			t.Errorf("%s: signed in to %q, want the answer to name %q", c.name, got.OrgName, want)
		}
	}
	if me, err := e.App.Users.Me(As(south)); err != nil || me.OrgName != southOrg.Name {
		t.Errorf("Me: %v, %v; want it to name %q", me, err, southOrg.Name)
	}
	for _, c := range []struct{ name, org, pw string }{
		{"default with the other account's password", "", pwSouth},
		{"right organisation, other account's password", southOrg.ID, pwNorth},
		{"an organisation without the address", "Nowhere Trust", pwSouth},
		{"an unknown id", wardline.NewID(), pwSouth},
	} {
		if _, err := signIn(c.org, c.pw); code(err) != wardline.EUNAUTHENTICATED {
			t.Errorf("%s: %v, want unauthenticated", c.name, err)
		}
	}
	// Names are unique only as written: one written exactly as typed wins over an older one that
	// differs in case or spacing.
	lowerOrg, lowerAdmin, _, err := e.App.Users.CreateOrg(ctx, "southgate community trust", wardline.NewUser{Email: "admin@lower.nhs.uk", DisplayName: "Lo Admin"}, false)
	if err != nil {
		t.Fatal(err)
	}
	lower, pwLower, err := e.App.Users.CreateUser(As(lowerAdmin), wardline.NewUser{Email: email, DisplayName: "Sam Okafor"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := signIn("southgate community trust", pwLower); err != nil || got.ID != lower.ID || got.OrgID != lowerOrg.ID {
		t.Errorf("a name written exactly: got %v, %v; want the account in %q", got, err, lowerOrg.Name)
	}
	if _, err := e.App.Auth.LoginAt(ctx, strings.Repeat("x", 201), email, pwSouth); code(err) != wardline.EINVALID {
		t.Errorf("an over-long org: %v, want invalid", err)
	}

	// She leaves the first trust: her address now signs in to the other by default.
	if err := e.App.Users.Offboard(As(e.Admin), north.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := signIn("", pwSouth); err != nil || got.ID != south.ID {
		t.Errorf("default after leaving the older: got %v, %v; want the other account", got, err)
	}
	if _, err := signIn("Test Trust", pwNorth); code(err) != wardline.EFORBIDDEN {
		t.Errorf("the offboarded account, named: %v, want forbidden", err)
	}
}
