package main

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"wardline"
	"wardline/app"
	"wardline/mock"
)

// authState is everything of strong authentication that a request could change: the audit log
// (every change and every counted wrong answer writes an entry), each user's second factors,
// PIN, passkeys and sessions, the MFA token's and ceremonies' state, and the policy.
type authState struct {
	AuditSize  int64
	Factors    map[string]string   // user: version, TOTP, pending, recovery codes left, PIN
	Passkeys   map[string][]string // user: passkey ids
	Sessions   map[string][]string // user: live session ids with their lock state and PIN failures
	TokenTries int                 // wrong answers counted on the MFA token
	Challenges []string            // the ceremonies begun, with their tries
	Policy     wardline.OrgPolicy
}

// authSnapshot reads authState straight from the store.
func authSnapshot(t *testing.T, ts *TestServer, mfaToken string, challengeIDs []string, users ...*Client) authState {
	t.Helper()
	ctx := t.Context()
	st := authState{Factors: map[string]string{}, Passkeys: map[string][]string{}, Sessions: map[string][]string{}}
	var err error
	if st.AuditSize, _, err = ts.Store.AuditTreeState(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range users {
		id := c.User.ID
		if m, err := ts.Store.UserMFA(ctx, id); err == nil {
			st.Factors[id] = strings.Join([]string{
				"v" + strconv.Itoa(int(m.Version)), "totp=" + strconv.Itoa(len(m.TOTPSealed)), "pending=" + strconv.Itoa(len(m.TOTPPendingSealed)),
				"recovery=" + strconv.Itoa(m.RecoveryRemaining), "pin=" + m.PINHash}, " ")
		} else if wardline.ErrorCode(err) != wardline.ENOTFOUND {
			t.Fatal(err)
		}
		keys, err := ts.Store.Passkeys(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			st.Passkeys[id] = append(st.Passkeys[id], k.ID+" "+k.Name)
		}
		sessions, err := ts.Store.LiveSessions(ctx, id, ts.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sessions {
			st.Sessions[id] = append(st.Sessions[id], s.ID+" locked="+strconv.Itoa(boolInt(s.Locked()))+" pin_failures="+strconv.Itoa(s.PINFailures)+
				" enrol="+strconv.Itoa(boolInt(s.MFAEnrollmentRequired))+" password="+strconv.Itoa(boolInt(s.PasswordChangeRequired)))
		}
		slices.Sort(st.Sessions[id])
	}
	c, err := ts.Store.AuthChallengeByTokenHash(ctx, app.HashToken(mfaToken))
	if err != nil {
		t.Fatalf("the MFA token's challenge: %v", err)
	}
	st.TokenTries = c.Attempts
	for _, id := range challengeIDs {
		c, err := ts.Store.AuthChallenge(ctx, id)
		if err != nil {
			t.Fatalf("challenge %s: %v", id, err)
		}
		st.Challenges = append(st.Challenges, c.Kind+" tries="+strconv.Itoa(c.Attempts))
	}
	org, err := ts.Store.Org(ctx, ts.OrgID)
	if err != nil {
		t.Fatal(err)
	}
	st.Policy = org.Policy
	return st
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// registerPasskey registers a passkey of a software authenticator for c over the API.
func (c *Client) registerPasskey(auth *mock.Authenticator, name string) {
	c.ts.tb.Helper()
	var begin struct {
		PublicKey json.RawMessage `json:"public_key"`
	}
	c.ts.mustStatus(c.Do("POST", "/api/v1/me/passkeys/begin", nil, &begin), 200)
	cred, err := auth.Create(begin.PublicKey)
	if err != nil {
		c.ts.tb.Fatal(err)
	}
	c.ts.mustStatus(c.Do("POST", "/api/v1/me/passkeys/finish", map[string]any{"name": name, "credential": cred}, nil), 201)
}

// TestBadInputAuth sends every endpoint of strong authentication malformed bodies, ids, codes,
// PINs and credentials, from callers who may and may not use it, and checks the answer (the
// documented 4xx with its code, in the order 401 → 404 → 403 → 400) and that nothing changed: no
// factor, PIN, passkey, session, counted try or audit entry.
func TestBadInputAuth(t *testing.T) {
	ts := MustRunServerMFA(t)
	admin := ts.Admin
	_, port, _ := strings.Cut(strings.TrimPrefix(ts.URL, "http://"), ":")
	auth := &mock.Authenticator{Origin: "http://localhost:" + port}

	// Alice has every factor: TOTP with recovery codes, a passkey and a PIN, and has begun
	// enrolling a new authenticator app (so that confirm reaches its check of the code).
	alice := ts.NewUserMFA("member")
	alice.registerPasskey(auth, "Phone")
	ts.mustStatus(alice.Do("PUT", "/api/v1/me/pin", map[string]string{"pin": "4729"}, nil), 204)
	ts.mustStatus(alice.Do("POST", "/api/v1/me/totp", nil, nil), 200)
	ts.mustStatus(alice.Do("POST", "/api/v1/me/unlock/begin", nil, nil), 200)
	bob := ts.NewUserMFA("member")     // a member, for the admin endpoints
	newStarter := ts.NewUser("member") // must enrol a second factor first
	locked := ts.NewUserMFA("member")  // has locked the screen
	ts.mustStatus(locked.Do("PUT", "/api/v1/me/pin", map[string]string{"pin": "1357"}, nil), 204)
	ts.mustStatus(locked.Do("POST", "/api/v1/me/lock", nil, nil), 204)
	var created struct {
		User            *wardline.User `json:"user"`
		InitialPassword string         `json:"initial_password"`
	}
	ts.mustStatus(admin.Do("POST", "/api/v1/admin/users", map[string]string{"email": "reset." + uuid.NewString()[:6] + "@test.nhs.uk", "display_name": "Rita Reset"}, &created), 201)
	mustChange := ts.Login(created.User.Email, created.InitialPassword) // must change the password first
	mustChange.User = created.User
	anonymous := &Client{ts: ts}
	// Alice's token in a cookie, without the CSRF header.
	noCSRF := &Client{ts: ts, User: alice.User, Cookie: &http.Cookie{Name: "wardline_session", Value: alice.Token}}

	// A sign-in of Alice waiting for its second step, with a passkey assertion begun; and a
	// passwordless sign-in begun.
	var ch mfaChallenge
	status, raw := anonymous.DoRaw("POST", "/api/v1/auth/login", map[string]string{"email": alice.User.Email, "password": alice.User.PasswordHash}, nil)
	if status != 401 || errCode(raw) != wardline.EMFAREQUIRED {
		t.Fatalf("login: got %d %s, want 401 mfa_required", status, raw)
	}
	mustUnmarshal(t, raw, &ch)
	tok := ch.MFAToken
	ts.mustStatus(anonymous.Do("POST", "/api/v1/auth/mfa/webauthn/begin", map[string]string{"mfa_token": tok}, nil), 200)
	var login struct {
		ChallengeID string `json:"challenge_id"`
	}
	ts.mustStatus(anonymous.Do("POST", "/api/v1/auth/passkey/begin", nil, &login), 200)

	var aliceSessions struct {
		Items []*wardline.Session `json:"items"`
	}
	ts.mustStatus(alice.Do("GET", "/api/v1/me/sessions", nil, &aliceSessions), 200)
	var aliceKeys struct {
		Items []*wardline.Passkey `json:"items"`
	}
	ts.mustStatus(alice.Do("GET", "/api/v1/me/passkeys", nil, &aliceKeys), 200)
	bobSession := bob.sessionID()

	users := []*Client{alice, bob, newStarter, locked, mustChange, admin}
	before := authSnapshot(t, ts, tok, []string{login.ChallengeID}, users...)

	big := strings.Repeat("x", 1<<20+1) // one byte over the limit
	tooBig := `{"pin":"` + big + `"}`
	unknown := uuid.NewString()
	userPath := "/api/v1/admin/users/" + bob.User.ID
	junk := map[string]any{"id": "x", "type": "public-key", "response": map[string]string{"clientDataJSON": "e30"}}
	recovery := alice.RecoveryCodes[0]

	cases := []badInputCase{
		// The second step of a sign-in, TOTP.
		{"mfa totp: malformed JSON", anonymous, "POST", "/api/v1/auth/mfa/totp", `{"mfa_token":"` + tok + `","code":`, 400, "invalid"},
		{"mfa totp: not an object", anonymous, "POST", "/api/v1/auth/mfa/totp", `["` + tok + `"]`, 400, "invalid"},
		{"mfa totp: two objects", anonymous, "POST", "/api/v1/auth/mfa/totp", `{"mfa_token":"` + tok + `","code":"123456"}{}`, 400, "invalid"},
		{"mfa totp: unknown field", anonymous, "POST", "/api/v1/auth/mfa/totp", map[string]any{"mfa_token": tok, "code": "123456", "remember_me": true}, 400, "invalid"},
		{"mfa totp: code a number", anonymous, "POST", "/api/v1/auth/mfa/totp", `{"mfa_token":"` + tok + `","code":123456}`, 400, "invalid"},
		{"mfa totp: token a number", anonymous, "POST", "/api/v1/auth/mfa/totp", `{"mfa_token":42,"code":"123456"}`, 400, "invalid"},
		{"mfa totp: invalid UTF-8", anonymous, "POST", "/api/v1/auth/mfa/totp", []byte(`{"mfa_token":"` + tok + "\",\"code\":\"12\xff\xfe56\"}"), 400, "invalid"},
		{"mfa totp: empty request", anonymous, "POST", "/api/v1/auth/mfa/totp", "", 400, "invalid"},
		{"mfa totp: over 1 MiB", anonymous, "POST", "/api/v1/auth/mfa/totp", map[string]any{"mfa_token": tok, "code": big}, 413, "too_large"},
		{"mfa totp: no code", anonymous, "POST", "/api/v1/auth/mfa/totp", map[string]any{"mfa_token": tok}, 400, "invalid"},
		{"mfa totp: five digits", anonymous, "POST", "/api/v1/auth/mfa/totp", map[string]any{"mfa_token": tok, "code": "12345"}, 400, "invalid"},
		{"mfa totp: seven digits", anonymous, "POST", "/api/v1/auth/mfa/totp", map[string]any{"mfa_token": tok, "code": "1234567"}, 400, "invalid"},
		{"mfa totp: letters", anonymous, "POST", "/api/v1/auth/mfa/totp", map[string]any{"mfa_token": tok, "code": "abcdef"}, 400, "invalid"},
		{"mfa totp: other digits", anonymous, "POST", "/api/v1/auth/mfa/totp", map[string]any{"mfa_token": tok, "code": "١٢٣٤٥٦"}, 400, "invalid"},
		{"mfa totp: a recovery code", anonymous, "POST", "/api/v1/auth/mfa/totp", map[string]any{"mfa_token": tok, "code": recovery}, 400, "invalid"},
		{"mfa totp: unknown token, bad code", anonymous, "POST", "/api/v1/auth/mfa/totp", map[string]any{"mfa_token": "not-a-token", "code": "12"}, 401, "unauthenticated"},
		{"mfa totp: unknown token, no code", anonymous, "POST", "/api/v1/auth/mfa/totp", map[string]any{"mfa_token": "not-a-token"}, 401, "unauthenticated"},
		{"mfa totp: no token", anonymous, "POST", "/api/v1/auth/mfa/totp", map[string]any{"code": "123456"}, 401, "unauthenticated"},
		{"mfa totp: token over 200 characters", anonymous, "POST", "/api/v1/auth/mfa/totp", map[string]any{"mfa_token": strings.Repeat("t", 201), "code": "123456"}, 401, "unauthenticated"},
		// Recovery codes.
		{"mfa recovery: malformed JSON", anonymous, "POST", "/api/v1/auth/mfa/recovery", `{"mfa_token":`, 400, "invalid"},
		{"mfa recovery: unknown field", anonymous, "POST", "/api/v1/auth/mfa/recovery", map[string]any{"mfa_token": tok, "code": recovery, "x": 1}, 400, "invalid"},
		{"mfa recovery: code a list", anonymous, "POST", "/api/v1/auth/mfa/recovery", map[string]any{"mfa_token": tok, "code": []string{recovery}}, 400, "invalid"},
		{"mfa recovery: no code", anonymous, "POST", "/api/v1/auth/mfa/recovery", map[string]any{"mfa_token": tok}, 400, "invalid"},
		{"mfa recovery: too short", anonymous, "POST", "/api/v1/auth/mfa/recovery", map[string]any{"mfa_token": tok, "code": recovery[:9]}, 400, "invalid"},
		{"mfa recovery: too long", anonymous, "POST", "/api/v1/auth/mfa/recovery", map[string]any{"mfa_token": tok, "code": recovery + "-abcd"}, 400, "invalid"},
		{"mfa recovery: letters it never uses", anonymous, "POST", "/api/v1/auth/mfa/recovery", map[string]any{"mfa_token": tok, "code": "l0o1-l0o1-l0o1"}, 400, "invalid"},
		{"mfa recovery: a TOTP code", anonymous, "POST", "/api/v1/auth/mfa/recovery", map[string]any{"mfa_token": tok, "code": "123456"}, 400, "invalid"},
		{"mfa recovery: unknown token, bad code", anonymous, "POST", "/api/v1/auth/mfa/recovery", map[string]any{"mfa_token": "not-a-token", "code": "x"}, 401, "unauthenticated"},
		// Passkey as the second step.
		{"mfa webauthn begin: malformed JSON", anonymous, "POST", "/api/v1/auth/mfa/webauthn/begin", `{`, 400, "invalid"},
		{"mfa webauthn begin: unknown field", anonymous, "POST", "/api/v1/auth/mfa/webauthn/begin", map[string]any{"mfa_token": tok, "code": "123456"}, 400, "invalid"},
		{"mfa webauthn begin: token a number", anonymous, "POST", "/api/v1/auth/mfa/webauthn/begin", `{"mfa_token":1}`, 400, "invalid"},
		{"mfa webauthn begin: over 1 MiB", anonymous, "POST", "/api/v1/auth/mfa/webauthn/begin", map[string]any{"mfa_token": big}, 413, "too_large"},
		{"mfa webauthn begin: no token", anonymous, "POST", "/api/v1/auth/mfa/webauthn/begin", map[string]any{}, 401, "unauthenticated"},
		{"mfa webauthn finish: malformed JSON", anonymous, "POST", "/api/v1/auth/mfa/webauthn/finish", `{"mfa_token":"` + tok + `","credential":{`, 400, "invalid"},
		{"mfa webauthn finish: junk credential", anonymous, "POST", "/api/v1/auth/mfa/webauthn/finish", map[string]any{"mfa_token": tok, "credential": junk}, 400, "invalid"},
		{"mfa webauthn finish: credential a string", anonymous, "POST", "/api/v1/auth/mfa/webauthn/finish", map[string]any{"mfa_token": tok, "credential": "x"}, 400, "invalid"},
		{"mfa webauthn finish: credential empty", anonymous, "POST", "/api/v1/auth/mfa/webauthn/finish", map[string]any{"mfa_token": tok, "credential": map[string]any{}}, 400, "invalid"},
		{"mfa webauthn finish: no credential", anonymous, "POST", "/api/v1/auth/mfa/webauthn/finish", map[string]any{"mfa_token": tok}, 400, "invalid"},
		{"mfa webauthn finish: unknown field", anonymous, "POST", "/api/v1/auth/mfa/webauthn/finish", map[string]any{"mfa_token": tok, "credential": junk, "name": "x"}, 400, "invalid"},
		{"mfa webauthn finish: unknown token, junk", anonymous, "POST", "/api/v1/auth/mfa/webauthn/finish", map[string]any{"mfa_token": "not-a-token", "credential": junk}, 401, "unauthenticated"},
		// Passwordless sign-in.
		{"passkey begin: over 1 MiB", anonymous, "POST", "/api/v1/auth/passkey/begin", big, 413, "too_large"},
		{"passkey finish: malformed JSON", anonymous, "POST", "/api/v1/auth/passkey/finish", `{"challenge_id":`, 400, "invalid"},
		{"passkey finish: unknown field", anonymous, "POST", "/api/v1/auth/passkey/finish", map[string]any{"challenge_id": login.ChallengeID, "credential": junk, "email": alice.User.Email}, 400, "invalid"},
		{"passkey finish: challenge a number", anonymous, "POST", "/api/v1/auth/passkey/finish", map[string]any{"challenge_id": 7, "credential": junk}, 400, "invalid"},
		{"passkey finish: junk credential", anonymous, "POST", "/api/v1/auth/passkey/finish", map[string]any{"challenge_id": login.ChallengeID, "credential": junk}, 400, "invalid"},
		{"passkey finish: credential null", anonymous, "POST", "/api/v1/auth/passkey/finish", map[string]any{"challenge_id": login.ChallengeID, "credential": nil}, 400, "invalid"},
		{"passkey finish: no credential", anonymous, "POST", "/api/v1/auth/passkey/finish", map[string]any{"challenge_id": login.ChallengeID}, 400, "invalid"},
		{"passkey finish: malformed challenge", anonymous, "POST", "/api/v1/auth/passkey/finish", map[string]any{"challenge_id": "abc", "credential": junk}, 401, "unauthenticated"},
		{"passkey finish: unknown challenge, junk", anonymous, "POST", "/api/v1/auth/passkey/finish", map[string]any{"challenge_id": unknown, "credential": junk}, 401, "unauthenticated"},
		{"passkey finish: the MFA token's challenge", anonymous, "POST", "/api/v1/auth/passkey/finish", map[string]any{"challenge_id": tok, "credential": junk}, 401, "unauthenticated"},
		// Enrolling an authenticator app.
		{"confirm: malformed JSON", alice, "POST", "/api/v1/me/totp/confirm", `{"code":`, 400, "invalid"},
		{"confirm: unknown field", alice, "POST", "/api/v1/me/totp/confirm", map[string]any{"code": "123456", "secret": "x"}, 400, "invalid"},
		{"confirm: code a number", alice, "POST", "/api/v1/me/totp/confirm", `{"code":123456}`, 400, "invalid"},
		{"confirm: invalid UTF-8", alice, "POST", "/api/v1/me/totp/confirm", []byte("{\"code\":\"\xff\"}"), 400, "invalid"},
		{"confirm: empty request", alice, "POST", "/api/v1/me/totp/confirm", "", 400, "invalid"},
		{"confirm: over 1 MiB", alice, "POST", "/api/v1/me/totp/confirm", map[string]any{"code": big}, 413, "too_large"},
		{"confirm: no code", alice, "POST", "/api/v1/me/totp/confirm", map[string]any{}, 400, "invalid"},
		{"confirm: five digits", alice, "POST", "/api/v1/me/totp/confirm", map[string]any{"code": "12345"}, 400, "invalid"},
		{"confirm: letters", alice, "POST", "/api/v1/me/totp/confirm", map[string]any{"code": "abcdef"}, 400, "invalid"},
		{"confirm: signed out, malformed", anonymous, "POST", "/api/v1/me/totp/confirm", `{`, 401, "unauthenticated"},
		{"confirm: must change password, malformed", mustChange, "POST", "/api/v1/me/totp/confirm", `{`, 403, "forbidden"},
		{"confirm: locked, malformed", locked, "POST", "/api/v1/me/totp/confirm", `{`, 423, "locked"},
		{"confirm: cookie without CSRF header, malformed", noCSRF, "POST", "/api/v1/me/totp/confirm", `{`, 403, "forbidden"},
		{"confirm: must enrol, malformed", newStarter, "POST", "/api/v1/me/totp/confirm", `{`, 400, "invalid"},
		// Bodies of endpoints that take none: ignored, but not when over 1 MiB.
		{"begin totp: over 1 MiB", alice, "POST", "/api/v1/me/totp", big, 413, "too_large"},
		{"remove totp: over 1 MiB", alice, "DELETE", "/api/v1/me/totp", big, 413, "too_large"},
		{"recovery codes: over 1 MiB", alice, "POST", "/api/v1/me/recovery-codes", big, 413, "too_large"},
		{"begin passkey: over 1 MiB", alice, "POST", "/api/v1/me/passkeys/begin", big, 413, "too_large"},
		{"remove passkey: over 1 MiB", alice, "DELETE", "/api/v1/me/passkeys/" + aliceKeys.Items[0].ID, big, 413, "too_large"},
		{"remove pin: over 1 MiB", alice, "DELETE", "/api/v1/me/pin", big, 413, "too_large"},
		{"lock: over 1 MiB", alice, "POST", "/api/v1/me/lock", big, 413, "too_large"},
		{"unlock begin: over 1 MiB", alice, "POST", "/api/v1/me/unlock/begin", big, 413, "too_large"},
		{"end session: over 1 MiB", alice, "DELETE", "/api/v1/me/sessions/" + aliceSessions.Items[0].ID, big, 413, "too_large"},
		{"sign out everywhere: over 1 MiB", alice, "POST", "/api/v1/me/sessions/revoke-all", big, 413, "too_large"},
		{"reset mfa: over 1 MiB", admin, "POST", userPath + "/reset-mfa", big, 413, "too_large"},
		{"reset password: over 1 MiB", admin, "POST", userPath + "/reset-password", big, 413, "too_large"},
		{"admin revoke-all: over 1 MiB", admin, "POST", userPath + "/sessions/revoke-all", big, 413, "too_large"},
		// Registering a passkey.
		{"passkey finish: malformed JSON", alice, "POST", "/api/v1/me/passkeys/finish", `{"credential":`, 400, "invalid"},
		{"passkey finish: unknown field", alice, "POST", "/api/v1/me/passkeys/finish", map[string]any{"name": "x", "credential": junk, "user_id": bob.User.ID}, 400, "invalid"},
		{"passkey finish: name a number", alice, "POST", "/api/v1/me/passkeys/finish", map[string]any{"name": 5, "credential": junk}, 400, "invalid"},
		{"passkey finish: name over 100 characters", alice, "POST", "/api/v1/me/passkeys/finish", map[string]any{"name": strings.Repeat("n", 101), "credential": junk}, 400, "invalid"},
		{"passkey finish: junk credential", alice, "POST", "/api/v1/me/passkeys/finish", map[string]any{"name": "x", "credential": junk}, 400, "invalid"},
		{"passkey finish: credential a list", alice, "POST", "/api/v1/me/passkeys/finish", map[string]any{"name": "x", "credential": []int{1}}, 400, "invalid"},
		{"passkey finish: no credential", alice, "POST", "/api/v1/me/passkeys/finish", map[string]any{"name": "x"}, 400, "invalid"},
		{"passkey finish: invalid UTF-8 name", alice, "POST", "/api/v1/me/passkeys/finish", []byte("{\"name\":\"\xff\xfe\",\"credential\":{}}"), 400, "invalid"},
		{"passkey finish: over 1 MiB", alice, "POST", "/api/v1/me/passkeys/finish", map[string]any{"name": big}, 413, "too_large"},
		{"passkey finish: must change password, malformed", mustChange, "POST", "/api/v1/me/passkeys/finish", `{`, 403, "forbidden"},
		{"passkey finish: signed out, malformed", anonymous, "POST", "/api/v1/me/passkeys/finish", `{`, 401, "unauthenticated"},
		{"passkeys: unknown query", alice, "GET", "/api/v1/me/passkeys?limit=1", nil, 400, "invalid"},
		{"passkeys: must change password, bad query", mustChange, "GET", "/api/v1/me/passkeys?x=1", nil, 403, "forbidden"},
		{"remove passkey: malformed id", alice, "DELETE", "/api/v1/me/passkeys/not-an-id", nil, 404, "not_found"},
		{"remove passkey: unknown", alice, "DELETE", "/api/v1/me/passkeys/" + unknown, nil, 404, "not_found"},
		{"remove passkey: another person's", bob, "DELETE", "/api/v1/me/passkeys/" + aliceKeys.Items[0].ID, nil, 404, "not_found"},
		// The PIN.
		{"pin: malformed JSON", alice, "PUT", "/api/v1/me/pin", `{"pin":`, 400, "invalid"},
		{"pin: unknown field", alice, "PUT", "/api/v1/me/pin", map[string]any{"pin": "2468", "old_pin": "4729"}, 400, "invalid"},
		{"pin: a number", alice, "PUT", "/api/v1/me/pin", `{"pin":2468}`, 400, "invalid"},
		{"pin: invalid UTF-8", alice, "PUT", "/api/v1/me/pin", []byte("{\"pin\":\"24\xff68\"}"), 400, "invalid"},
		{"pin: empty request", alice, "PUT", "/api/v1/me/pin", "", 400, "invalid"},
		{"pin: over 1 MiB", alice, "PUT", "/api/v1/me/pin", tooBig, 413, "too_large"},
		{"pin: missing", alice, "PUT", "/api/v1/me/pin", map[string]any{}, 400, "invalid"},
		{"pin: three digits", alice, "PUT", "/api/v1/me/pin", map[string]any{"pin": "246"}, 400, "invalid"},
		{"pin: nine digits", alice, "PUT", "/api/v1/me/pin", map[string]any{"pin": "246813579"}, 400, "invalid"},
		{"pin: letters", alice, "PUT", "/api/v1/me/pin", map[string]any{"pin": "24a8"}, 400, "invalid"},
		{"pin: spaces", alice, "PUT", "/api/v1/me/pin", map[string]any{"pin": " 2468 "}, 400, "invalid"},
		{"pin: other digits", alice, "PUT", "/api/v1/me/pin", map[string]any{"pin": "٢٤٦٨"}, 400, "invalid"},
		{"pin: signed out, malformed", anonymous, "PUT", "/api/v1/me/pin", `{`, 401, "unauthenticated"},
		{"pin: signed out, over 1 MiB", anonymous, "PUT", "/api/v1/me/pin", tooBig, 401, "unauthenticated"},
		{"pin: must enrol, malformed", newStarter, "PUT", "/api/v1/me/pin", `{`, 403, "forbidden"},
		{"pin: must change password, three digits", mustChange, "PUT", "/api/v1/me/pin", map[string]any{"pin": "246"}, 403, "forbidden"},
		{"pin: locked, malformed", locked, "PUT", "/api/v1/me/pin", `{`, 423, "locked"},
		{"pin: cookie without CSRF header, malformed", noCSRF, "PUT", "/api/v1/me/pin", `{`, 403, "forbidden"},
		// Unlocking.
		{"unlock: malformed JSON", locked, "POST", "/api/v1/me/unlock", `{"pin":`, 400, "invalid"},
		{"unlock: unknown field", locked, "POST", "/api/v1/me/unlock", map[string]any{"pin": "1357", "remember": true}, 400, "invalid"},
		{"unlock: pin a number", locked, "POST", "/api/v1/me/unlock", `{"pin":1357}`, 400, "invalid"},
		{"unlock: invalid UTF-8", locked, "POST", "/api/v1/me/unlock", []byte("{\"pin\":\"13\xff\"}"), 400, "invalid"},
		{"unlock: empty request", locked, "POST", "/api/v1/me/unlock", "", 400, "invalid"},
		{"unlock: over 1 MiB", locked, "POST", "/api/v1/me/unlock", tooBig, 413, "too_large"},
		{"unlock: neither", locked, "POST", "/api/v1/me/unlock", map[string]any{}, 400, "invalid"},
		{"unlock: both", alice, "POST", "/api/v1/me/unlock", map[string]any{"pin": "4729", "credential": junk}, 400, "invalid"},
		{"unlock: three digits", locked, "POST", "/api/v1/me/unlock", map[string]any{"pin": "135"}, 400, "invalid"},
		{"unlock: nine digits", locked, "POST", "/api/v1/me/unlock", map[string]any{"pin": "135791357"}, 400, "invalid"},
		{"unlock: letters", locked, "POST", "/api/v1/me/unlock", map[string]any{"pin": "13a7"}, 400, "invalid"},
		{"unlock: junk credential", alice, "POST", "/api/v1/me/unlock", map[string]any{"credential": junk}, 400, "invalid"},
		{"unlock: credential a string", alice, "POST", "/api/v1/me/unlock", map[string]any{"credential": "x"}, 400, "invalid"},
		{"unlock: signed out, malformed", anonymous, "POST", "/api/v1/me/unlock", `{`, 401, "unauthenticated"},
		{"unlock: must enrol, malformed", newStarter, "POST", "/api/v1/me/unlock", `{`, 403, "forbidden"},
		{"unlock: cookie without CSRF header, malformed", noCSRF, "POST", "/api/v1/me/unlock", `{`, 403, "forbidden"},
		// Sessions.
		{"security: unknown query", alice, "GET", "/api/v1/me/security?x=1", nil, 400, "invalid"},
		{"security: signed out, bad query", anonymous, "GET", "/api/v1/me/security?x=1", nil, 401, "unauthenticated"},
		{"sessions: unknown query", alice, "GET", "/api/v1/me/sessions?limit=1", nil, 400, "invalid"},
		{"sessions: repeated query", alice, "GET", "/api/v1/me/sessions?x=1&x=2", nil, 400, "invalid"},
		{"sessions: invalid UTF-8 query", alice, "GET", "/api/v1/me/sessions?x=%ff", nil, 400, "invalid"},
		{"sessions: malformed query", alice, "GET", "/api/v1/me/sessions?x=%zz", nil, 400, "invalid"},
		{"sessions: locked, bad query", locked, "GET", "/api/v1/me/sessions?x=1", nil, 423, "locked"},
		{"sessions: signed out, bad query", anonymous, "GET", "/api/v1/me/sessions?x=1", nil, 401, "unauthenticated"},
		{"end session: malformed id", alice, "DELETE", "/api/v1/me/sessions/not-an-id", nil, 404, "not_found"},
		{"end session: unknown", alice, "DELETE", "/api/v1/me/sessions/" + unknown, nil, 404, "not_found"},
		{"end session: another person's", alice, "DELETE", "/api/v1/me/sessions/" + bobSession, nil, 404, "not_found"},
		{"end session: must change password, another person's", mustChange, "DELETE", "/api/v1/me/sessions/" + bobSession, nil, 403, "forbidden"},
		// Administration.
		{"user sessions: malformed user id", admin, "GET", "/api/v1/admin/users/not-an-id/sessions", nil, 404, "not_found"},
		{"user sessions: unknown user", admin, "GET", "/api/v1/admin/users/" + unknown + "/sessions", nil, 404, "not_found"},
		{"user sessions: unknown query", admin, "GET", userPath + "/sessions?limit=1", nil, 400, "invalid"},
		{"user sessions: unknown user, bad query", admin, "GET", "/api/v1/admin/users/" + unknown + "/sessions?x=1", nil, 404, "not_found"},
		{"user sessions: a member, bad query", bob, "GET", userPath + "/sessions?x=1", nil, 403, "forbidden"},
		{"user sessions: a member, malformed id", bob, "GET", "/api/v1/admin/users/not-an-id/sessions", nil, 403, "forbidden"},
		{"end user session: malformed session id", admin, "DELETE", userPath + "/sessions/not-an-id", nil, 404, "not_found"},
		{"end user session: unknown session", admin, "DELETE", userPath + "/sessions/" + unknown, nil, 404, "not_found"},
		{"end user session: another user's session", admin, "DELETE", "/api/v1/admin/users/" + alice.User.ID + "/sessions/" + bobSession, nil, 404, "not_found"},
		{"end user session: malformed user id", admin, "DELETE", "/api/v1/admin/users/not-an-id/sessions/" + bobSession, nil, 404, "not_found"},
		{"end user session: a member", bob, "DELETE", "/api/v1/admin/users/not-an-id/sessions/not-an-id", nil, 403, "forbidden"},
		{"admin revoke-all: malformed id", admin, "POST", "/api/v1/admin/users/not-an-id/sessions/revoke-all", nil, 404, "not_found"},
		{"admin revoke-all: a member, over 1 MiB (413 may come first)", bob, "POST", userPath + "/sessions/revoke-all", big, 413, "too_large"},
		{"admin revoke-all: a member, a body", bob, "POST", userPath + "/sessions/revoke-all", `{`, 403, "forbidden"},
		{"reset password: malformed id", admin, "POST", "/api/v1/admin/users/not-an-id/reset-password", nil, 404, "not_found"},
		{"reset password: unknown", admin, "POST", "/api/v1/admin/users/" + unknown + "/reset-password", nil, 404, "not_found"},
		{"reset mfa: malformed id", admin, "POST", "/api/v1/admin/users/not-an-id/reset-mfa", nil, 404, "not_found"},
		{"reset mfa: unknown", admin, "POST", "/api/v1/admin/users/" + unknown + "/reset-mfa", nil, 404, "not_found"},
		{"reset mfa: a member, malformed id", bob, "POST", "/api/v1/admin/users/not-an-id/reset-mfa", nil, 403, "forbidden"},
		{"get policy: unknown query", admin, "GET", "/api/v1/admin/policy?x=1", nil, 400, "invalid"},
		{"get policy: a member, bad query", bob, "GET", "/api/v1/admin/policy?x=1", nil, 403, "forbidden"},
		{"policy: malformed JSON", admin, "PATCH", "/api/v1/admin/policy", `{"mfa_required":`, 400, "invalid"},
		{"policy: not an object", admin, "PATCH", "/api/v1/admin/policy", `[]`, 400, "invalid"},
		{"policy: unknown field", admin, "PATCH", "/api/v1/admin/policy", map[string]any{"mfa_required": true, "sso": true}, 400, "invalid"},
		{"policy: the internal name", admin, "PATCH", "/api/v1/admin/policy", map[string]any{"MFAOptional": true}, 400, "invalid"},
		{"policy: a switch as a string", admin, "PATCH", "/api/v1/admin/policy", map[string]any{"mfa_required": "false"}, 400, "invalid"},
		{"policy: a number as a string", admin, "PATCH", "/api/v1/admin/policy", map[string]any{"session_idle_minutes": "15"}, 400, "invalid"},
		{"policy: a fraction", admin, "PATCH", "/api/v1/admin/policy", `{"session_idle_minutes":1.5}`, 400, "invalid"},
		{"policy: overflow", admin, "PATCH", "/api/v1/admin/policy", `{"login_lock_failures":99999999999999999999999}`, 400, "invalid"},
		{"policy: negative", admin, "PATCH", "/api/v1/admin/policy", map[string]any{"lock_idle_seconds": -1}, 400, "invalid"},
		{"policy: negative among good", admin, "PATCH", "/api/v1/admin/policy", map[string]any{"mfa_required": false, "login_window_minutes": -5}, 400, "invalid"},
		{"policy: invalid UTF-8", admin, "PATCH", "/api/v1/admin/policy", []byte("{\"\xff\":1}"), 400, "invalid"},
		{"policy: empty request", admin, "PATCH", "/api/v1/admin/policy", "", 400, "invalid"},
		{"policy: over 1 MiB", admin, "PATCH", "/api/v1/admin/policy", tooBig, 413, "too_large"},
		{"policy: a member, malformed", bob, "PATCH", "/api/v1/admin/policy", `{`, 403, "forbidden"},
		{"policy: a member, negative", bob, "PATCH", "/api/v1/admin/policy", map[string]any{"lock_idle_seconds": -1}, 403, "forbidden"},
		{"policy: signed out, malformed", anonymous, "PATCH", "/api/v1/admin/policy", `{`, 401, "unauthenticated"},
	}
	checkBadInput(t, cases, tok)

	// Nothing above changed anything: no factor, PIN, passkey, session, policy, counted try or
	// audit entry.
	after := authSnapshot(t, ts, tok, []string{login.ChallengeID}, users...)
	if !reflect.DeepEqual(after, before) {
		b1, _ := json.MarshalIndent(before, "", "  ")
		b2, _ := json.MarshalIndent(after, "", "  ")
		evs, _ := ts.Store.AuditEvents(t.Context(), wardline.AuditFilter{OrgID: ts.OrgID, AfterSeq: before.AuditSize, Limit: 100})
		var actions []string
		for _, e := range evs {
			actions = append(actions, e.Action+" "+e.Outcome)
		}
		t.Fatalf("state changed:\nbefore %s\nafter %s\naudited meanwhile: %v", b1, b2, actions)
	}
	// And everything still works: the MFA token with a recovery code, the passkey ceremony, the PIN.
	ts.mustStatus(anonymous.Do("POST", "/api/v1/auth/mfa/recovery", map[string]string{"mfa_token": tok, "code": recovery}, nil), 200)
	ts.mustStatus(locked.Do("POST", "/api/v1/me/unlock", map[string]string{"pin": "1357"}, nil), 204)
	var unlock struct {
		PublicKey json.RawMessage `json:"public_key"`
	}
	ts.mustStatus(alice.Do("POST", "/api/v1/me/lock", nil, nil), 204)
	ts.mustStatus(alice.Do("POST", "/api/v1/me/unlock/begin", nil, &unlock), 200)
	cred, err := auth.Get(unlock.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	ts.mustStatus(alice.Do("POST", "/api/v1/me/unlock", map[string]any{"credential": cred}, nil), 204)
}

// sessionID returns the id of c's own session.
func (c *Client) sessionID() string {
	c.ts.tb.Helper()
	var list struct {
		Items []*wardline.Session `json:"items"`
	}
	c.ts.mustStatus(c.Do("GET", "/api/v1/me/sessions", nil, &list), 200)
	for _, s := range list.Items {
		if s.Current {
			return s.ID
		}
	}
	c.ts.tb.Fatalf("no current session")
	return ""
}
