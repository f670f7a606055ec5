package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"wardline"
	"wardline/inmem"
	"wardline/keyring"
	"wardline/mock"
	"wardline/sqlite"
)

// testEnv is the services on a real SQLite store and keyring, with a fake clock and a record of
// the events published.
type testEnv struct {
	t      *testing.T
	app    *App
	store  wardline.Store
	clock  *mock.Clock
	mu     sync.Mutex
	events []*wardline.Event
	org    *wardline.Org
	admin  *session
}

// session is a signed-in caller: the token and the context the HTTP layer would build.
type session struct {
	env      *testEnv
	token    string
	email    string
	password string
	secret   []byte
}

const testOrigin = "http://localhost:8443"

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	master, err := keyring.CreateMasterKeyFile(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	clock := mock.NewClock(time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC))
	bus := inmem.NewBus()
	cfg := DefaultConfig
	cfg.PasswordParams = PasswordParams{Memory: 64, Time: 1, Threads: 1}
	cfg.WebAuthn = WebAuthnConfig{RPID: "localhost", Origins: []string{testOrigin}}
	e := &testEnv{t: t, store: store, clock: clock}
	bus.Subscribe(func(ev *wardline.Event) { e.mu.Lock(); e.events = append(e.events, ev); e.mu.Unlock() })
	e.app = New(store, bus, keyring.New(master, store, clock), clock, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg)
	t.Cleanup(e.app.Close)
	org, admin, pw, err := e.app.Users.CreateOrg(e.anon(), "Northgate", wardline.NewUser{Email: "ada@northgate.nhs.uk", DisplayName: "Ada Admin"}, false)
	if err != nil {
		t.Fatal(err)
	}
	e.org = org
	e.admin = e.firstSignIn(admin.Email, pw)
	return e
}

func (e *testEnv) anon() context.Context {
	return wardline.NewContextWithActor(context.Background(), &wardline.Actor{Addr: "192.0.2.10", Device: "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0"})
}

// ctx authenticates the session as the HTTP layer does, afresh each time.
func (s *session) ctx() context.Context {
	s.env.t.Helper()
	a, err := s.env.app.Auth.Authenticate(context.Background(), s.token, "192.0.2.10")
	if err != nil {
		s.env.t.Fatalf("authenticate: %v", err)
	}
	return wardline.NewContextWithActor(context.Background(), a)
}

// firstSignIn changes an initial password and signs in again: the session must then enrol.
func (e *testEnv) firstSignIn(email, initial string) *session {
	e.t.Helper()
	res, err := e.app.Auth.Login(e.anon(), email, initial)
	if err != nil {
		e.t.Fatalf("login: %v", err)
	}
	s := &session{env: e, token: res.Token, email: email}
	pw := "velvet cactus orbit lantern " + wardline.NewID()[:4]
	if err := e.app.Auth.ChangePassword(s.ctx(), initial, pw); err != nil {
		e.t.Fatalf("change password: %v", err)
	}
	res, err = e.app.Auth.Login(e.anon(), email, pw)
	if err != nil {
		e.t.Fatalf("login: %v", err)
	}
	if !res.MFAEnrollmentRequired {
		e.t.Fatalf("login after the password change: mfa_enrollment_required false, want true (the default policy)")
	}
	return &session{env: e, token: res.Token, email: email, password: pw}
}

// enrol puts an authenticator app on the session's account and returns the recovery codes.
func (s *session) enrol() []string {
	s.env.t.Helper()
	e, err := s.env.app.Auth.BeginTOTP(s.ctx())
	if err != nil {
		s.env.t.Fatalf("begin totp: %v", err)
	}
	if s.secret, err = DecodeTOTPSecret(e.Secret); err != nil {
		s.env.t.Fatal(err)
	}
	codes, err := s.env.app.Auth.ConfirmTOTP(s.ctx(), TOTPCode(s.secret, s.env.clock.Now()))
	if err != nil {
		s.env.t.Fatalf("confirm totp: %v", err)
	}
	return codes
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := wardline.ErrorCode(err); got != code {
		t.Fatalf("%s: got %q (%v), want %q", what, got, err, code)
	}
}

// mfaToken signs in with the password and returns the mfa_token of the mfa_required answer.
func (e *testEnv) mfaToken(email, password string) (string, []string) {
	e.t.Helper()
	_, err := e.app.Auth.Login(e.anon(), email, password)
	var mr *wardline.MFARequiredError
	if !errors.As(err, &mr) {
		e.t.Fatalf("login: got %v, want mfa_required", err)
	}
	wantCode(e.t, "login", err, wardline.EMFAREQUIRED)
	return mr.Token, mr.Methods
}

func TestTOTPRFC6238Vectors(t *testing.T) {
	// RFC 6238 appendix B, SHA-1: the 20-byte ASCII secret "12345678901234567890", 8 digits.
	secret := []byte("12345678901234567890")
	for _, tc := range []struct {
		unix int64
		want string
	}{
		{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"},
		{1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
	} {
		if got := hotp(secret, totpStep(time.Unix(tc.unix, 0)), 8); got != tc.want {
			t.Errorf("T=%d: got %s, want %s", tc.unix, got, tc.want)
		}
		// The 6-digit codes apps show are the last six digits.
		if got := TOTPCode(secret, time.Unix(tc.unix, 0)); got != tc.want[2:] {
			t.Errorf("T=%d: 6 digits %s, want %s", tc.unix, got, tc.want[2:])
		}
	}
	if got := EncodeTOTPSecret(secret); got != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" {
		t.Errorf("base32: got %s", got)
	}
}

func TestCheckTOTPWindow(t *testing.T) {
	secret := []byte("12345678901234567890")
	now := time.Unix(1111111111, 0)
	step := totpStep(now)
	for _, tc := range []struct {
		name     string
		at       time.Time
		lastStep int64
		want     int64
	}{
		{"Now", now, 0, step},
		{"PreviousStep", now.Add(-30 * time.Second), 0, step - 1},
		{"NextStep", now.Add(30 * time.Second), 0, step + 1},
		{"TwoStepsOld", now.Add(-60 * time.Second), 0, 0},
		{"TwoStepsAhead", now.Add(60 * time.Second), 0, 0},
		{"UsedAlready", now, step, 0},
		{"OlderThanLastUsed", now.Add(-30 * time.Second), step, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkTOTP(secret, TOTPCode(secret, tc.at), now, tc.lastStep); got != tc.want {
				t.Errorf("got step %d, want %d", got, tc.want)
			}
		})
	}
	if checkTOTP(secret, "12345", now, 0) != 0 || checkTOTP(secret, "abcdef", now, 0) != 0 {
		t.Error("malformed codes accepted")
	}
}

func TestPolicyMFADefault(t *testing.T) {
	if !(wardline.OrgPolicy{}).Normalize().MFARequired() {
		t.Error("a zero policy must require a second factor")
	}
	if !wardline.DefaultPolicy.MFARequired() {
		t.Error("the default policy must require a second factor")
	}
	for _, tc := range []struct {
		json string
		want bool
	}{{`{}`, true}, {`{"mfa_required":true}`, true}, {`{"mfa_required":false}`, false}} {
		var p wardline.OrgPolicy
		if err := json.Unmarshal([]byte(tc.json), &p); err != nil {
			t.Fatal(err)
		}
		if p.MFARequired() != tc.want {
			t.Errorf("%s: MFARequired %v, want %v", tc.json, p.MFARequired(), tc.want)
		}
		b, _ := json.Marshal(p)
		if !strings.Contains(string(b), `"mfa_required":`+map[bool]string{true: "true", false: "false"}[tc.want]) {
			t.Errorf("%s: marshals as %s", tc.json, b)
		}
	}
	p := wardline.OrgPolicy{LockIdleSeconds: 3}.Normalize()
	if p.LockIdleSeconds != wardline.MinLockIdleSeconds {
		t.Errorf("lock idle 3 s: got %d, want the minimum %d", p.LockIdleSeconds, wardline.MinLockIdleSeconds)
	}
	if p := (wardline.OrgPolicy{LockIdleSeconds: 600}).Normalize(); p.LockIdleSeconds != 120 {
		t.Errorf("lock idle 600 s: got %d, want 120 (a policy only tightens)", p.LockIdleSeconds)
	}
}

func TestEnrolmentRestriction(t *testing.T) {
	e := newTestEnv(t)
	s := e.admin
	// Until enrolled, everything but GET /me, enrolment and logout is forbidden.
	_, _, err := e.app.Users.Directory(s.ctx(), "", "", 10)
	wantCode(t, "directory before enrolment", err, wardline.EFORBIDDEN)
	if _, err := e.app.Users.Me(s.ctx()); err != nil {
		t.Fatalf("me: %v", err)
	}
	en, err := e.app.Auth.BeginTOTP(s.ctx())
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := DecodeTOTPSecret(en.Secret)
	if !strings.HasPrefix(en.OTPAuthURL, "otpauth://totp/Wardline:") || !strings.Contains(en.OTPAuthURL, "secret="+en.Secret) {
		t.Errorf("otpauth url %q", en.OTPAuthURL)
	}
	_, err = e.app.Auth.ConfirmTOTP(s.ctx(), "000000")
	if TOTPCode(secret, e.clock.Now()) != "000000" {
		wantCode(t, "confirm with a wrong code", err, wardline.EINVALID)
	}
	codes, err := e.app.Auth.ConfirmTOTP(s.ctx(), TOTPCode(secret, e.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 10 {
		t.Fatalf("recovery codes: got %d, want 10", len(codes))
	}
	// The same token now works for everything.
	if _, _, err := e.app.Users.Directory(s.ctx(), "", "", 10); err != nil {
		t.Fatalf("directory after enrolment, same token: %v", err)
	}
	// Nothing secret is stored in clear: not the secret, not a recovery code.
	m, err := e.store.UserMFA(context.Background(), wardline.UserFromContext(s.ctx()).ID)
	if err != nil {
		t.Fatal(err)
	}
	stored := append(append([]byte{}, m.TOTPSealed...), m.RecoverySealed...)
	if bytes.Contains(stored, secret) || bytes.Contains(stored, []byte(en.Secret)) {
		t.Error("the TOTP secret is stored in clear")
	}
	for _, c := range codes {
		if bytes.Contains(stored, []byte(c)) || bytes.Contains(stored, []byte(recoveryHash(m.UserID, c))) {
			t.Error("a recovery code (or its bare hash) is stored in clear")
		}
	}
	// The sealed secret is bound to its row and column: moved to another column it does not open.
	if _, err := e.app.deps.openMFA(context.Background(), m.UserID, "totp_pending", m.TOTPSealed); err == nil {
		t.Error("the sealed secret opened under another column's associated data")
	}
}
