package main

import (
	"encoding/json"
	"time"

	"wardline"
	"wardline/app"
)

// Harness helpers for servers whose organisation requires a second factor.

// EnrolTOTP enrols an authenticator app on c's session (which must be allowed to: a fresh
// session that must enrol, or a full one), computing codes as an app would, and returns the
// secret. The session's enrolment restriction is lifted.
func (c *Client) EnrolTOTP() []byte {
	c.ts.tb.Helper()
	var e struct {
		Secret     string `json:"secret"`
		OTPAuthURL string `json:"otpauth_url"`
	}
	c.ts.mustStatus(c.Do("POST", "/api/v1/me/totp", nil, &e), 200)
	secret, err := app.DecodeTOTPSecret(e.Secret)
	if err != nil {
		c.ts.tb.Fatalf("secret %q: %v", e.Secret, err)
	}
	var out struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	c.ts.mustStatus(c.Do("POST", "/api/v1/me/totp/confirm", map[string]string{"code": app.TOTPCode(secret, time.Now())}, &out), 200)
	c.TOTPSecret, c.RecoveryCodes = secret, out.RecoveryCodes
	return secret
}

// mfaChallenge is login's 401 mfa_required answer.
type mfaChallenge struct {
	Error struct {
		Code string `json:"code"`
	} `json:"error"`
	MFAToken string   `json:"mfa_token"`
	Methods  []string `json:"methods"`
}

// LoginMFA signs in with a password and then a TOTP code computed by code (given the secret),
// failing the test unless both steps answer as they should.
func (ts *TestServer) LoginMFA(email, password string, secret []byte, code func([]byte) string) *Client {
	ts.tb.Helper()
	c := &Client{ts: ts}
	var ch mfaChallenge
	status, raw := c.DoRaw("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password}, nil)
	if status != 401 || errCode(raw) != wardline.EMFAREQUIRED {
		ts.tb.Fatalf("login: got %d %s, want 401 mfa_required", status, raw)
	}
	mustUnmarshal(ts.tb, raw, &ch)
	var out struct {
		Token string         `json:"token"`
		User  *wardline.User `json:"user"`
	}
	ts.mustStatus(c.Do("POST", "/api/v1/auth/mfa/totp", map[string]string{"mfa_token": ch.MFAToken, "code": code(secret)}, &out), 200)
	c.Token, c.User, c.TOTPSecret = out.Token, out.User, secret
	return c
}

// NewUserMFA creates a member of staff on an MFA server who changes the initial password and
// enrols TOTP, as a new starter would.
func (ts *TestServer) NewUserMFA(role string) *Client {
	ts.tb.Helper()
	c := ts.NewUser(role)
	c.EnrolTOTP()
	return c
}

func mustUnmarshal(tb interface {
	Helper()
	Fatalf(string, ...any)
}, raw []byte, v any) {
	tb.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		tb.Fatalf("decode %q: %v", raw, err)
	}
}
