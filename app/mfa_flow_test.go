package app

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"wardline"
	"wardline/mock"
)

func TestSignInWithTOTP(t *testing.T) {
	e := newTestEnv(t)
	s := e.admin
	codes := s.enrol()

	t.Run("OK", func(t *testing.T) {
		e.clock.Add(time.Minute)
		token, methods := e.mfaToken(s.email, s.password)
		if len(methods) != 2 || methods[0] != wardline.MethodTOTP || methods[1] != wardline.MethodRecoveryCode {
			t.Errorf("methods %v, want [totp recovery_code]", methods)
		}
		res, err := e.app.Auth.VerifyTOTP(e.anon(), token, TOTPCode(s.secret, e.clock.Now()))
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		if res.Token == "" || res.MFAEnrollmentRequired || res.PasswordChangeRequired {
			t.Errorf("login result %+v", res)
		}
		// The MFA token is spent.
		_, err = e.app.Auth.VerifyTOTP(e.anon(), token, TOTPCode(s.secret, e.clock.Now().Add(30*time.Second)))
		wantCode(t, "spent token", err, wardline.EUNAUTHENTICATED)
	})

	t.Run("ErrReplayedCode", func(t *testing.T) {
		e.clock.Add(time.Minute)
		code := TOTPCode(s.secret, e.clock.Now())
		token, _ := e.mfaToken(s.email, s.password)
		if _, err := e.app.Auth.VerifyTOTP(e.anon(), token, code); err != nil {
			t.Fatalf("first use: %v", err)
		}
		token, _ = e.mfaToken(s.email, s.password)
		_, err := e.app.Auth.VerifyTOTP(e.anon(), token, code)
		wantCode(t, "the same code again", err, wardline.EMFAREQUIRED)
		// The previous step's code is older than the one used: refused too.
		_, err = e.app.Auth.VerifyTOTP(e.anon(), token, TOTPCode(s.secret, e.clock.Now().Add(-30*time.Second)))
		wantCode(t, "an older code", err, wardline.EMFAREQUIRED)
		// The next step's code is new: accepted on the same token.
		if _, err := e.app.Auth.VerifyTOTP(e.anon(), token, TOTPCode(s.secret, e.clock.Now().Add(30*time.Second))); err != nil {
			t.Fatalf("next code: %v", err)
		}
	})

	t.Run("RecoveryCodeWorksOnce", func(t *testing.T) {
		token, _ := e.mfaToken(s.email, s.password)
		if _, err := e.app.Auth.UseRecoveryCode(e.anon(), token, codes[3]); err != nil {
			t.Fatalf("first use: %v", err)
		}
		token, methods := e.mfaToken(s.email, s.password)
		if len(methods) != 2 {
			t.Errorf("methods %v: recovery codes remain", methods)
		}
		_, err := e.app.Auth.UseRecoveryCode(e.anon(), token, codes[3])
		wantCode(t, "second use", err, wardline.EMFAREQUIRED)
		// Typed in capitals, without the dashes: still the same code.
		if _, err := e.app.Auth.UseRecoveryCode(e.anon(), token, "  "+stringsUpperNoDash(codes[4])); err != nil {
			t.Fatalf("another code, as typed: %v", err)
		}
		sec, err := e.app.Auth.Security(s.ctx())
		if err != nil {
			t.Fatal(err)
		}
		if sec.RecoveryCodesRemaining != 8 {
			t.Errorf("remaining: got %d, want 8", sec.RecoveryCodesRemaining)
		}
	})

	t.Run("ErrTooManyWrongCodes", func(t *testing.T) {
		e.clock.Add(time.Hour) // outside the earlier failures' window
		token, _ := e.mfaToken(s.email, s.password)
		for i := 1; i <= mfaTokenAttempts; i++ {
			_, err := e.app.Auth.VerifyTOTP(e.anon(), token, "000000")
			want := wardline.EMFAREQUIRED
			if i == mfaTokenAttempts {
				want = wardline.EUNAUTHENTICATED // spent: sign in again
			}
			wantCode(t, "wrong code", err, want)
		}
		_, err := e.app.Auth.VerifyTOTP(e.anon(), token, TOTPCode(s.secret, e.clock.Now()))
		wantCode(t, "right code on a spent token", err, wardline.EUNAUTHENTICATED)
		// Wrong codes count toward the account's lockout (10 by default): 5 more lock it.
		token, _ = e.mfaToken(s.email, s.password)
		for range 5 {
			_, _ = e.app.Auth.VerifyTOTP(e.anon(), token, "000000")
		}
		_, err = e.app.Auth.Login(e.anon(), s.email, s.password)
		wantCode(t, "login after 10 wrong codes", err, wardline.ELOCKED)
	})
}

func stringsUpperNoDash(s string) string {
	out := []rune{}
	for _, r := range s {
		if r != '-' {
			if r >= 'a' && r <= 'z' {
				r -= 'a' - 'A'
			}
			out = append(out, r)
		}
	}
	return string(out)
}

func TestPINUnlock(t *testing.T) {
	e := newTestEnv(t)
	s := e.admin
	s.enrol()

	wantCode(t, "lock without a PIN or passkey", e.app.Auth.Lock(s.ctx()), wardline.ECONFLICT)
	wantCode(t, "a 3-digit PIN", e.app.Auth.SetPIN(s.ctx(), "123"), wardline.EINVALID)
	wantCode(t, "a PIN with letters", e.app.Auth.SetPIN(s.ctx(), "12a4"), wardline.EINVALID)
	if err := e.app.Auth.SetPIN(s.ctx(), "4729"); err != nil {
		t.Fatal(err)
	}
	if err := e.app.Auth.Lock(s.ctx()); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.app.Users.Directory(s.ctx(), "", "", 10)
	wantCode(t, "directory while locked", err, wardline.ELOCKED)
	if _, err := e.app.Users.Me(s.ctx()); err != nil {
		t.Fatalf("me while locked: %v", err)
	}
	wantCode(t, "wrong PIN", e.app.Auth.Unlock(s.ctx(), "1111", nil), wardline.EFORBIDDEN)
	if err := e.app.Auth.Unlock(s.ctx(), "4729", nil); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if _, _, err := e.app.Users.Directory(s.ctx(), "", "", 10); err != nil {
		t.Fatalf("directory after unlock: %v", err)
	}

	t.Run("FiveWrongPINsEndTheSession", func(t *testing.T) {
		if err := e.app.Auth.Lock(s.ctx()); err != nil {
			t.Fatal(err)
		}
		sid := wardline.ActorFromContext(s.ctx()).Session.ID
		for i := 1; i <= 4; i++ {
			wantCode(t, "wrong PIN", e.app.Auth.Unlock(s.ctx(), "0000", nil), wardline.EFORBIDDEN)
		}
		wantCode(t, "5th wrong PIN", e.app.Auth.Unlock(s.ctx(), "0000", nil), wardline.EUNAUTHENTICATED)
		_, err := e.app.Auth.Authenticate(context.Background(), s.token, "192.0.2.10")
		wantCode(t, "the token after 5 wrong PINs", err, wardline.EUNAUTHENTICATED)
		if !e.published(wardline.EventSessionRevoked, sid) {
			t.Error("no session.revoked published for the session")
		}
	})
}

// published reports whether an event of the type naming the session was published.
func (e *testEnv) published(typ, sessionID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.events {
		if ev.Type == typ {
			for _, id := range ev.SessionIDs {
				if id == sessionID {
					return true
				}
			}
		}
	}
	return false
}

func TestPasskeys(t *testing.T) {
	e := newTestEnv(t)
	s := e.admin
	auth := &mock.Authenticator{Origin: testOrigin}
	phone := &mock.Authenticator{Origin: testOrigin} // a second device

	register := func(s *session, auth *mock.Authenticator, name string) *wardline.Passkey {
		t.Helper()
		opts, err := e.app.Passkeys.BeginRegistration(s.ctx())
		if err != nil {
			t.Fatalf("begin registration: %v", err)
		}
		b, _ := json.Marshal(opts)
		cred, err := auth.Create(b)
		if err != nil {
			t.Fatal(err)
		}
		p, err := e.app.Passkeys.FinishRegistration(s.ctx(), name, cred)
		if err != nil {
			t.Fatalf("finish registration: %v", err)
		}
		return p
	}
	// A passkey is a second factor: registering one lifts the enrolment restriction.
	p := register(s, auth, "Work laptop")
	if _, _, err := e.app.Users.Directory(s.ctx(), "", "", 10); err != nil {
		t.Fatalf("directory after registering a passkey: %v", err)
	}
	register(s, phone, "")
	keys, err := e.app.Passkeys.List(s.ctx())
	if err != nil || len(keys) != 2 || keys[0].Name != "Work laptop" || keys[1].Name != "Passkey 2" {
		t.Fatalf("list: %v %+v", err, keys)
	}

	t.Run("SecondFactor", func(t *testing.T) {
		token, methods := e.mfaToken(s.email, s.password)
		if len(methods) != 1 || methods[0] != wardline.MethodWebAuthn {
			t.Fatalf("methods %v", methods)
		}
		opts, err := e.app.Passkeys.BeginMFA(e.anon(), token)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(opts)
		cred, err := auth.Get(b)
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.app.Passkeys.FinishMFA(e.anon(), token, cred)
		if err != nil {
			t.Fatalf("finish: %v", err)
		}
		if res.Token == "" {
			t.Error("no token")
		}
		// The same assertion again: the ceremony and the token are spent.
		_, err = e.app.Passkeys.FinishMFA(e.anon(), token, cred)
		wantCode(t, "replayed assertion", err, wardline.EUNAUTHENTICATED)
	})

	t.Run("Passwordless", func(t *testing.T) {
		begin := func() (string, json.RawMessage) {
			l, err := e.app.Passkeys.BeginPasswordless(e.anon())
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(l.PublicKey)
			cred, err := auth.Get(b)
			if err != nil {
				t.Fatal(err)
			}
			return l.ChallengeID, cred
		}
		id, cred := begin()
		_, err := e.app.Passkeys.FinishPasswordless(e.anon(), id, cred)
		wantCode(t, "passwordless where the policy does not allow it", err, wardline.EFORBIDDEN)
		if _, err := e.app.Users.UpdatePolicy(s.ctx(), func(p *wardline.OrgPolicy) error { p.PasswordlessAllowed = true; return nil }); err != nil {
			t.Fatal(err)
		}
		id, cred = begin()
		res, err := e.app.Passkeys.FinishPasswordless(e.anon(), id, cred)
		if err != nil {
			t.Fatalf("passwordless: %v", err)
		}
		if res.User.Email != s.email || res.MFAEnrollmentRequired {
			t.Errorf("signed in as %s, restriction %v", res.User.Email, res.MFAEnrollmentRequired)
		}
		_, err = e.app.Passkeys.FinishPasswordless(e.anon(), id, cred)
		wantCode(t, "the same challenge again", err, wardline.EUNAUTHENTICATED)
	})

	t.Run("Unlock", func(t *testing.T) {
		if err := e.app.Auth.Lock(s.ctx()); err != nil {
			t.Fatal(err)
		}
		opts, err := e.app.Passkeys.BeginUnlock(s.ctx())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(opts)
		cred, err := auth.Get(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.app.Auth.Unlock(s.ctx(), "", cred); err != nil {
			t.Fatalf("unlock with a passkey: %v", err)
		}
	})

	t.Run("Remove", func(t *testing.T) {
		if err := e.app.Passkeys.Remove(s.ctx(), p.ID); err != nil {
			t.Fatal(err)
		}
		keys, _ := e.app.Passkeys.List(s.ctx())
		// The last factor stays while the organisation requires one.
		// Registering from the same authenticator again is refused (the browser excludes it).
		if opts, err := e.app.Passkeys.BeginRegistration(s.ctx()); err == nil {
			b, _ := json.Marshal(opts)
			if _, err := phone.Create(b); err == nil {
				t.Error("a registered authenticator was not excluded")
			}
		}
		wantCode(t, "remove the last factor", e.app.Passkeys.Remove(s.ctx(), keys[0].ID), wardline.ECONFLICT)
		wantCode(t, "remove an unknown passkey", e.app.Passkeys.Remove(s.ctx(), wardline.NewID()), wardline.ENOTFOUND)
	})
}

func TestOffboardEndsFactors(t *testing.T) {
	e := newTestEnv(t)
	e.admin.enrol()
	u, initial, err := e.app.Users.CreateUser(e.admin.ctx(), wardline.NewUser{Email: "bob@northgate.nhs.uk", DisplayName: "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	bob := e.firstSignIn(u.Email, initial)
	bob.enrol()
	if err := e.app.Auth.SetPIN(bob.ctx(), "2580"); err != nil {
		t.Fatal(err)
	}
	if err := e.app.Users.Offboard(e.admin.ctx(), u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.UserMFA(context.Background(), u.ID); wardline.ErrorCode(err) != wardline.ENOTFOUND {
		t.Errorf("second factors after offboarding: %v, want none", err)
	}
	_, err = e.app.Auth.Authenticate(context.Background(), bob.token, "192.0.2.10")
	wantCode(t, "token after offboarding", err, wardline.EUNAUTHENTICATED)
	// Reinstated, Bob signs in with his password and must enrol afresh.
	if err := e.app.Users.Reinstate(e.admin.ctx(), u.ID); err != nil {
		t.Fatal(err)
	}
	res, err := e.app.Auth.Login(e.anon(), bob.email, bob.password)
	if err != nil || !res.MFAEnrollmentRequired {
		t.Fatalf("login after reinstatement: %v, enrolment required %v", err, res != nil && res.MFAEnrollmentRequired)
	}
}

func TestAdminResetPassword(t *testing.T) {
	e := newTestEnv(t)
	e.admin.enrol()
	u, initial, err := e.app.Users.CreateUser(e.admin.ctx(), wardline.NewUser{Email: "cara@northgate.nhs.uk", DisplayName: "Cara"})
	if err != nil {
		t.Fatal(err)
	}
	cara := e.firstSignIn(u.Email, initial)
	cara.enrol()
	pw, err := e.app.Users.ResetPassword(e.admin.ctx(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.app.Auth.Authenticate(context.Background(), cara.token, "")
	wantCode(t, "session after the reset", err, wardline.EUNAUTHENTICATED)
	_, err = e.app.Auth.Login(e.anon(), cara.email, cara.password)
	wantCode(t, "the old password", err, wardline.EUNAUTHENTICATED)
	// The second factor stays; the new password must be changed first.
	e.clock.Add(time.Minute)
	token, _ := e.mfaToken(cara.email, pw)
	res, err := e.app.Auth.VerifyTOTP(e.anon(), token, TOTPCode(cara.secret, e.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if !res.PasswordChangeRequired {
		t.Error("password_change_required false after an admin reset")
	}
}

func TestNewPasswordRules(t *testing.T) {
	for _, tc := range []struct {
		pw string
		ok bool
	}{
		{"short", false},
		{"velvet cactus orbit lantern", true},
		{"mY0wn-Passphrase-4-Ward7", true},
		{"1qaz2wsx3edc", false},     // a listed password
		{"Password2024!", false},    // a listed one with digits and symbols around it
		{"passwordpassword", false}, // repeated
		{"abcabcabcabc", false},     // repeated short unit
		{"aaaaaaaaaaab", false},     // too few distinct characters
		{"Wardline2025!!", false},   // the service's name
		{"grace.mensah99", false},   // the person's own name
	} {
		err := validateNewPassword(tc.pw, "grace.mensah@demo.wardline.nhs.uk", "Grace Mensah")
		if (err == nil) != tc.ok {
			t.Errorf("%q: got %v, want ok=%v", tc.pw, err, tc.ok)
		}
	}
	if !IsCommonPassword("Qwertyuiop123") && !IsCommonPassword("qwertyuiop") {
		t.Error("the shipped list lacks qwertyuiop")
	}
}
