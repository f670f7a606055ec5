package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wardline"
	"wardline/app"
)

// oathtoolCode computes the current TOTP code with Debian's oathtool, an implementation that
// is not ours.
func oathtoolCode(t *testing.T, bin string, secret []byte) string {
	t.Helper()
	out, err := exec.Command(bin, "--totp", "-b", app.EncodeTOTPSecret(secret)).Output()
	if err != nil {
		t.Fatalf("oathtool: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func TestTOTPSignInWithOathtool(t *testing.T) {
	bin := requireTool(t, "oathtool") // apt-get install -y oathtool
	ts := MustRunServerMFA(t)
	admin := ts.Admin

	// A new starter: initial password, change, then made to enrol before anything else.
	var created struct {
		User            *wardline.User `json:"user"`
		InitialPassword string         `json:"initial_password"`
	}
	ts.mustStatus(admin.Do("POST", "/api/v1/admin/users", map[string]string{"email": "new.starter@test.nhs.uk", "display_name": "New Starter"}, &created), 201)
	c := ts.Login(created.User.Email, created.InitialPassword)
	if s, raw := c.DoRaw("POST", "/api/v1/me/totp", nil, nil); s != 403 {
		t.Fatalf("enrol before the password change: %d %s, want 403 (the password comes first)", s, raw)
	}
	newPW := "amber kettle uphill violet"
	ts.mustStatus(c.Do("POST", "/api/v1/me/password", map[string]string{"current_password": created.InitialPassword, "new_password": newPW}, nil), 204)
	var login struct {
		Token                 string `json:"token"`
		MFAEnrollmentRequired bool   `json:"mfa_enrollment_required"`
	}
	ts.mustStatus(c.Do("POST", "/api/v1/auth/login", map[string]string{"email": created.User.Email, "password": newPW}, &login), 200)
	if !login.MFAEnrollmentRequired {
		t.Fatal("login: mfa_enrollment_required is not set")
	}
	c.Token = login.Token
	if s := c.Do("GET", "/api/v1/conversations", nil, nil); s != 403 {
		t.Fatalf("conversations before enrolment: %d, want 403", s)
	}
	if s := dialStatus(ts, c); s != 403 {
		t.Fatalf("event stream before enrolment: %d, want 403", s)
	}
	var e struct {
		Secret string `json:"secret"`
	}
	ts.mustStatus(c.Do("POST", "/api/v1/me/totp", nil, &e), 200)
	secret, _ := app.DecodeTOTPSecret(e.Secret)
	var rc struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	// Confirm with the previous step's code (accepted, one step of skew), so that the current
	// step is still unused when oathtool computes it for the sign-in below.
	ts.mustStatus(c.Do("POST", "/api/v1/me/totp/confirm", map[string]string{"code": app.TOTPCode(secret, time.Now().Add(-30*time.Second))}, &rc), 200)
	if len(rc.RecoveryCodes) != 10 {
		t.Fatalf("recovery codes: %d", len(rc.RecoveryCodes))
	}
	// The restriction is lifted on the same token.
	ts.mustStatus(c.Do("GET", "/api/v1/conversations", nil, nil), 200)

	// Sign in again: password, then a code computed by oathtool.
	ch := mfaRequired(t, ts, created.User.Email, newPW)
	code := oathtoolCode(t, bin, secret)
	s, raw := (&Client{ts: ts}).DoRaw("POST", "/api/v1/auth/mfa/totp", map[string]string{"mfa_token": ch.MFAToken, "code": code}, nil)
	if s != 200 {
		t.Fatalf("second step with oathtool's code: %d %s", s, raw)
	}
	var ok struct {
		Token string `json:"token"`
	}
	_ = json.Unmarshal(raw, &ok)
	ts.mustStatus((&Client{ts: ts, Token: ok.Token}).Do("GET", "/api/v1/conversations", nil, nil), 200)

	// The same code again, on a new sign-in: refused.
	ch = mfaRequired(t, ts, created.User.Email, newPW)
	if s, raw := (&Client{ts: ts}).DoRaw("POST", "/api/v1/auth/mfa/totp", map[string]string{"mfa_token": ch.MFAToken, "code": code}, nil); s != 401 || errCode(raw) != wardline.EMFAREQUIRED {
		t.Fatalf("replayed code: %d %s, want 401 mfa_required", s, raw)
	}
	// A recovery code works once.
	if s := (&Client{ts: ts}).Do("POST", "/api/v1/auth/mfa/recovery", map[string]string{"mfa_token": ch.MFAToken, "code": rc.RecoveryCodes[0]}, nil); s != 200 {
		t.Fatalf("recovery code: %d", s)
	}
	ch = mfaRequired(t, ts, created.User.Email, newPW)
	if s := (&Client{ts: ts}).Do("POST", "/api/v1/auth/mfa/recovery", map[string]string{"mfa_token": ch.MFAToken, "code": rc.RecoveryCodes[0]}, nil); s != 401 {
		t.Fatalf("recovery code again: %d, want 401", s)
	}
}

// mfaRequired signs in with a password and returns the 401 mfa_required answer.
func mfaRequired(t *testing.T, ts *TestServer, email, password string) mfaChallenge {
	t.Helper()
	var ch mfaChallenge
	s, raw := (&Client{ts: ts}).DoRaw("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password}, nil)
	if s != 401 || errCode(raw) != wardline.EMFAREQUIRED {
		t.Fatalf("login: %d %s, want 401 mfa_required", s, raw)
	}
	mustUnmarshal(t, raw, &ch)
	if ch.MFAToken == "" || len(ch.Methods) == 0 {
		t.Fatalf("mfa_required answer without token or methods: %s", raw)
	}
	return ch
}

func TestRevokedSessionClosesStream(t *testing.T) {
	ts := MustRunServer(t)
	u := ts.NewUser("member")
	other := ts.Login(u.User.Email, u.User.PasswordHash) // a second device of the same person
	stream := other.Connect()

	var list struct {
		Items []*wardline.Session `json:"items"`
	}
	ts.mustStatus(u.Do("GET", "/api/v1/me/sessions", nil, &list), 200)
	if len(list.Items) != 2 {
		t.Fatalf("sessions: got %d, want 2", len(list.Items))
	}
	var target string
	for _, s := range list.Items {
		if !s.Current {
			target = s.ID
		}
	}
	start := time.Now()
	ts.mustStatus(u.Do("DELETE", "/api/v1/me/sessions/"+target, nil, nil), 204)
	ev, err := stream.next(time.Second)
	if err != nil || ev["type"] != "session.revoked" {
		t.Fatalf("within a second: got %v, %v; want session.revoked", ev, err)
	}
	if _, err := stream.next(time.Second); err == nil {
		t.Fatal("the stream stayed open after session.revoked")
	}
	t.Logf("session.revoked arrived %v after the DELETE answered", time.Since(start))
	if s := other.Do("GET", "/api/v1/me", nil, nil); s != 401 {
		t.Fatalf("revoked token: %d, want 401", s)
	}
	ts.mustStatus(u.Do("GET", "/api/v1/me", nil, nil), 200)

	// An admin signs the person out everywhere (lost phone).
	s2 := u.Connect()
	ts.mustStatus(ts.Admin.Do("POST", "/api/v1/admin/users/"+u.User.ID+"/sessions/revoke-all", nil, nil), 204)
	if ev, err := s2.next(time.Second); err != nil || ev["type"] != "session.revoked" {
		t.Fatalf("revoke-all: got %v, %v", ev, err)
	}
	if s := u.Do("GET", "/api/v1/me", nil, nil); s != 401 {
		t.Fatalf("after revoke-all: %d, want 401", s)
	}
}

// withPINStream starts a server where Alice and Bob share a group conversation and Bob, who has
// set the PIN 4729, has an event stream open and resumed.
func withPINStream(t *testing.T) (ts *TestServer, alice, bob *Client, conv *wardline.Conversation, stream *Stream) {
	t.Helper()
	ts = MustRunServer(t)
	alice, bob = ts.NewUser("member"), ts.NewUser("member")
	conv = alice.StartConversation("group", "Bay 3", bob)
	ts.mustStatus(bob.Do("PUT", "/api/v1/me/pin", map[string]string{"pin": "4729"}, nil), 204)
	stream = bob.Connect()
	stream.Resume(map[string]int64{})
	stream.NextOf("resume.done")
	return ts, alice, bob, conv, stream
}

// A lock sent on the stream is announced to the client once it is stored, so that whatever the
// client sends on hearing it (an unlock, a wrong PIN) finds the session locked. The writer is held
// so that storing the lock takes a while; before, the notice went out at once, and a wrong PIN
// sent on hearing it could be counted first and then wiped by the lock.
func TestStreamLockIsAnnouncedOnceStored(t *testing.T) {
	ts, _, bob, conv, stream := withPINStream(t)

	held, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- ts.Store.Update(context.Background(), func(wardline.Tx) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	time.AfterFunc(300*time.Millisecond, func() { close(release) })
	if err := stream.conn.Write(stream.ctx, websocket.MessageText, []byte(`{"type":"lock"}`)); err != nil {
		t.Fatal(err)
	}
	stream.NextOf("session.locked")
	if s := bob.Do("GET", "/api/v1/conversations/"+conv.ID+"/messages", nil, nil); s != 423 {
		t.Fatalf("history on hearing session.locked: %d, want 423", s)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestLockedStreamCarriesNoContent(t *testing.T) {
	ts, alice, bob, conv, stream := withPINStream(t)

	ts.mustStatus(bob.Do("POST", "/api/v1/me/lock", nil, nil), 204)
	if ev := stream.Next(); ev["type"] != "session.locked" {
		t.Fatalf("after lock: got %v, want session.locked", ev)
	}
	alice.Send(conv.ID, "Bed 4 needs review")
	time.Sleep(200 * time.Millisecond) // let live delivery happen, if it wrongly would
	// A ping's pong is queued behind anything already queued: it comes first only if the message
	// was held back. (A timed-out read would close the connection, so ask instead of waiting.)
	if err := stream.conn.Write(stream.ctx, 1, []byte(`{"type":"ping"}`)); err != nil {
		t.Fatal(err)
	}
	if ev := stream.Next(); ev["type"] != "pong" {
		t.Fatalf("a locked stream sent %v", ev)
	}
	if s := bob.Do("GET", "/api/v1/conversations/"+conv.ID+"/messages", nil, nil); s != 423 {
		t.Fatalf("history while locked: %d, want 423", s)
	}
	ts.mustStatus(bob.Do("POST", "/api/v1/me/unlock", map[string]string{"pin": "4729"}, nil), 204)
	stream.NextOf("session.unlocked")
	if m := stream.Messages(1)[0]; m["body"] != "Bed 4 needs review" {
		t.Fatalf("held message: %v", m)
	}

	// The client may lock from the stream itself; five wrong PINs then end the session.
	if err := stream.conn.Write(stream.ctx, 1, []byte(`{"type":"lock"}`)); err != nil {
		t.Fatal(err)
	}
	// (Receipts of the message just delivered may come first: they carry no content.)
	stream.NextOf("session.locked")
	for i := 1; i <= 4; i++ {
		var wrong struct {
			Error struct {
				Code      string `json:"code"`
				TriesLeft *int   `json:"tries_left"`
			} `json:"error"`
		}
		status, raw := bob.DoRaw("POST", "/api/v1/me/unlock", map[string]string{"pin": "0000"}, nil)
		ts.mustStatus(status, 403)
		if err := json.Unmarshal(raw, &wrong); err != nil {
			t.Fatal(err)
		}
		// The count is a field of its own, so that clients need not read it out of the text.
		if wrong.Error.Code != "forbidden" || wrong.Error.TriesLeft == nil || *wrong.Error.TriesLeft != 5-i {
			t.Fatalf("wrong PIN %d: %+v, want forbidden with tries_left %d", i, wrong.Error, 5-i)
		}
	}
	ts.mustStatus(bob.Do("POST", "/api/v1/me/unlock", map[string]string{"pin": "0000"}, nil), 401)
	if ev, err := stream.next(time.Second); err != nil || ev["type"] != "session.revoked" {
		t.Fatalf("after 5 wrong PINs: %v, %v; want session.revoked", ev, err)
	}
	if s := bob.Do("GET", "/api/v1/me", nil, nil); s != 401 {
		t.Fatalf("token after 5 wrong PINs: %d, want 401", s)
	}
}

// TestSignInToOneOfTwoOrganisations drives sign-in over HTTP for an address held in two
// organisations of one deployment: here both admins use the same address. The second is reached
// by naming its organisation; without the name its password is simply wrong; and the first
// organisation's admin can give an account to an address the second already has.
func TestSignInToOneOfTwoOrganisations(t *testing.T) {
	ts := MustRunServer(t)
	ctx := wardline.NewContextWithActor(context.Background(), &wardline.Actor{Addr: "test"})
	org2, admin2, initial, err := ts.Main.App.Users.CreateOrg(ctx, "Southgate Community Trust", wardline.NewUser{Email: ts.Admin.User.Email, DisplayName: "Sol Admin"}, false)
	if err != nil {
		t.Fatalf("a second organisation whose admin has the first's address: %v", err)
	}
	login := func(body map[string]any) (int, []byte, *wardline.User, string) {
		t.Helper()
		var out struct {
			Token string         `json:"token"`
			User  *wardline.User `json:"user"`
		}
		status, raw := (&Client{ts: ts}).DoRaw("POST", "/api/v1/auth/login", body, &out)
		return status, raw, out.User, out.Token
	}
	status, _, u, token := login(map[string]any{"email": admin2.Email, "password": initial, "org": "southgate community trust"})
	if status != 200 || u.ID != admin2.ID || u.OrgID != org2.ID || u.OrgName != "Southgate Community Trust" || token == "" {
		t.Fatalf("sign-in naming the organisation: %d, %+v", status, u)
	}
	if status, raw, _, _ := login(map[string]any{"email": admin2.Email, "password": initial}); status != 401 || errCode(raw) != "unauthenticated" {
		t.Errorf("without the organisation (the first's account answers): %d %s, want 401 unauthenticated", status, raw)
	}
	if status, raw, _, _ := login(map[string]any{"email": admin2.Email, "password": initial, "org": "Northgate"}); status != 401 || errCode(raw) != "unauthenticated" {
		t.Errorf("an organisation without the address: %d %s, want 401 unauthenticated", status, raw)
	}
	if status, raw, _, _ := login(map[string]any{"email": admin2.Email, "password": initial, "org": 7}); status != 400 {
		t.Errorf("org of the wrong type: %d %s, want 400", status, raw)
	}
	if status, _, u, _ := login(map[string]any{"email": ts.Admin.User.Email, "password": ts.Admin.User.PasswordHash, "org": ts.OrgID}); status != 200 || u.ID != ts.Admin.User.ID {
		t.Errorf("the first organisation by id: %d, %+v", status, u)
	}

	// The first organisation's admin adds someone the second already has: no 409, no hint.
	southNurse, _, err := ts.Main.App.Users.CreateUser(wardline.NewContextWithActor(ctx, &wardline.Actor{User: admin2, Addr: "test"}),
		wardline.NewUser{Email: "bank.nurse@nhs.net", DisplayName: "Bea Bank"})
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		User *wardline.User `json:"user"`
	}
	if status := ts.Admin.Do("POST", "/api/v1/admin/users", map[string]string{"email": southNurse.Email, "display_name": "Bea Bank", "org_role": "member"}, &created); status != 201 || created.User.OrgID != ts.OrgID {
		t.Errorf("an address another organisation has: %d, %+v; want 201 in this organisation", status, created.User)
	}
	if status, raw := ts.Admin.DoRaw("POST", "/api/v1/admin/users", map[string]string{"email": southNurse.Email, "display_name": "Bea Again", "org_role": "member"}, nil); status != 409 {
		t.Errorf("the same address twice in one organisation: %d %s, want 409", status, raw)
	}
}
