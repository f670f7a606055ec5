package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"wardline"
	"wardline/app"
	whttp "wardline/http"
)

// testPasswordParams make argon2id cheap in tests; production uses app.DefaultPasswordParams.
var testPasswordParams = app.PasswordParams{Memory: 64, Time: 1, Threads: 1}

// TestServer is a real wardline serve on 127.0.0.1:0 over plain HTTP, with a temporary data
// directory, and the organisation it was bootstrapped with.
type TestServer struct {
	*Main
	tb      testing.TB
	HTTP    *http.Client
	OrgID   string
	Admin   *Client
	counter atomic.Int64
}

// MustRunServer starts a server and bootstraps an organisation with a signed-in admin. The
// organisation does not require a second factor (its policy says mfa_required false), so that
// tests of other features sign in with a password alone; MustRunServerMFA keeps the real default.
func MustRunServer(tb testing.TB, tweak ...func(*Main)) *TestServer {
	tb.Helper()
	return mustRunServer(tb, false, tweak...)
}

// MustRunServerMFA starts a server whose organisation has the default policy: a second factor is
// required, so every user enrols at first sign-in. Its admin is enrolled with TOTP (AdminTOTP).
func MustRunServerMFA(tb testing.TB, tweak ...func(*Main)) *TestServer {
	tb.Helper()
	return mustRunServer(tb, true, tweak...)
}

func mustRunServer(tb testing.TB, mfa bool, tweak ...func(*Main)) *TestServer {
	tb.Helper()
	m := NewMain(io.Discard, io.Discard)
	m.Config = Config{DataDir: tb.TempDir(), Addr: "127.0.0.1:0", HTTP: true, LogLevel: "warn"}
	m.AppConfig.PasswordParams = testPasswordParams
	m.AppConfig.DeliveryFlushInterval = 20 * time.Millisecond
	m.WS = whttp.WSOptions{ResumeWait: 200 * time.Millisecond}
	for _, f := range tweak {
		f(m)
	}
	if err := m.Run(context.Background()); err != nil {
		tb.Fatalf("run: %v", err)
	}
	// The server's own self-signed certificate when a test serves HTTPS (loopback only).
	ts := &TestServer{Main: m, tb: tb, HTTP: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}}
	tb.Cleanup(func() {
		// Close the client's idle connections first: the server waits 5 s for connections that
		// were opened but never used before it gives up on them.
		ts.HTTP.CloseIdleConnections()
		m.Close()
	})
	ctx := wardline.NewContextWithActor(context.Background(), &wardline.Actor{Addr: "test"})
	org, admin, pw, err := m.App.Users.CreateOrg(ctx, "Test Trust "+uuid.NewString()[:8], wardline.NewUser{Email: "admin@test.nhs.uk", DisplayName: "Ada Admin"}, false)
	if err != nil {
		tb.Fatalf("create org: %v", err)
	}
	ts.OrgID = org.ID
	if !mfa {
		policy := org.Policy
		policy.MFAOptional = true
		if err := m.Store.Update(ctx, func(tx wardline.Tx) error { return tx.UpdateOrgPolicy(ctx, org.ID, policy) }); err != nil {
			tb.Fatalf("policy: %v", err)
		}
		ts.Admin = ts.signInFirstTime(admin.Email, pw)
		return ts
	}
	ts.Admin = ts.signInFirstTime(admin.Email, pw)
	ts.Admin.TOTPSecret = ts.Admin.EnrolTOTP()
	return ts
}

// Client is an API client signed in as one user.
type Client struct {
	ts    *TestServer
	Token string
	User  *wardline.User
	// Cookie, when set, authenticates instead of the bearer token (a browser).
	Cookie *http.Cookie
	CSRF   bool
	// TOTPSecret is the user's authenticator app secret, once enrolled (MFA servers).
	TOTPSecret []byte
	// RecoveryCodes are those the enrolment showed.
	RecoveryCodes []string
}

// signInFirstTime changes an initial password and signs in with the new one.
func (ts *TestServer) signInFirstTime(email, initial string) *Client {
	ts.tb.Helper()
	c := ts.Login(email, initial)
	newPW := "correct horse battery " + uuid.NewString()[:8]
	ts.mustStatus(c.Do("POST", "/api/v1/me/password", map[string]string{"current_password": initial, "new_password": newPW}, nil), 204)
	c = ts.Login(email, newPW)
	c.User.PasswordHash = newPW // kept for tests that sign in again
	return c
}

// Login signs in and fails the test unless it answers 200.
func (ts *TestServer) Login(email, password string) *Client {
	ts.tb.Helper()
	var out struct {
		Token string         `json:"token"`
		User  *wardline.User `json:"user"`
	}
	c := &Client{ts: ts}
	ts.mustStatus(c.Do("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password}, &out), 200)
	c.Token, c.User = out.Token, out.User
	return c
}

// NewUser has the admin create a member of staff, who then signs in for the first time.
func (ts *TestServer) NewUser(role string) *Client {
	ts.tb.Helper()
	n := ts.counter.Add(1)
	var out struct {
		User            *wardline.User `json:"user"`
		InitialPassword string         `json:"initial_password"`
	}
	ts.mustStatus(ts.Admin.Do("POST", "/api/v1/admin/users", map[string]string{
		"email": fmt.Sprintf("user%d.%s@test.nhs.uk", n, uuid.NewString()[:6]), "display_name": fmt.Sprintf("User %d", n),
		"job_title": "Staff Nurse", "profession": "Nursing", "registration": "NMC 01A2345B", "org_role": role,
	}, &out), 201)
	return ts.signInFirstTime(out.User.Email, out.InitialPassword)
}

func (ts *TestServer) mustStatus(got, want int) {
	ts.tb.Helper()
	if got != want {
		ts.tb.Fatalf("status: got %d, want %d", got, want)
	}
}

// Do sends a request with a JSON body (or raw bytes, or nothing) and decodes the answer into out.
func (c *Client) Do(method, path string, body any, out any) int {
	status, _ := c.DoRaw(method, path, body, out)
	return status
}

// DoRaw is Do that also returns the raw answer.
func (c *Client) DoRaw(method, path string, body any, out any) (int, []byte) {
	c.ts.tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.ts.tb.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.ts.URL+path, rd)
	if err != nil {
		c.ts.tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Cookie != nil {
		req.AddCookie(c.Cookie)
	} else if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.CSRF {
		req.Header.Set("X-Wardline-CSRF", "1")
	}
	res, err := c.ts.HTTP.Do(req)
	if err != nil {
		c.ts.tb.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil && len(raw) > 0 && res.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			c.ts.tb.Fatalf("decode %s %s answer %q: %v", method, path, raw, err)
		}
	}
	return res.StatusCode, raw
}

// errCode returns the error code of an error answer.
func errCode(raw []byte) string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(raw, &e)
	return e.Error.Code
}

// StartConversation creates a conversation of the given kind with others and returns it.
func (c *Client) StartConversation(kind, title string, others ...*Client) *wardline.Conversation {
	c.ts.tb.Helper()
	ids := []string{}
	for _, o := range others {
		ids = append(ids, o.User.ID)
	}
	var conv wardline.Conversation
	status := c.Do("POST", "/api/v1/conversations", map[string]any{"kind": kind, "title": title, "member_ids": ids}, &conv)
	if status != 201 && status != 200 {
		c.ts.tb.Fatalf("create conversation: status %d", status)
	}
	return &conv
}

// Send sends a message and fails unless it is stored (201).
func (c *Client) Send(convID, body string) *wardline.Message {
	c.ts.tb.Helper()
	var m wardline.Message
	c.ts.mustStatus(c.Do("POST", "/api/v1/conversations/"+convID+"/messages", map[string]any{"client_id": uuid.NewString(), "body": body}, &m), 201)
	return &m
}

// History returns every message of a conversation.
func (c *Client) History(convID string) []*wardline.Message {
	c.ts.tb.Helper()
	var out struct {
		Items []*wardline.Message `json:"items"`
	}
	c.ts.mustStatus(c.Do("GET", "/api/v1/conversations/"+convID+"/messages?after_seq=0&limit=200", nil, &out), 200)
	return out.Items
}

// Stream is an open event stream.
type Stream struct {
	tb   testing.TB
	conn *websocket.Conn
	ctx  context.Context
}

// Connect opens the event stream and reads hello.
func (c *Client) Connect() *Stream {
	c.ts.tb.Helper()
	return c.ConnectWith("")
}

// ConnectWith opens the event stream with a query string ("receipts=batched") and reads hello.
func (c *Client) ConnectWith(query string) *Stream {
	c.ts.tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c.ts.tb.Cleanup(cancel)
	url := "ws" + strings.TrimPrefix(c.ts.URL, "http") + "/api/v1/events"
	if query != "" {
		url += "?" + query
	}
	conn, res, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + c.Token}}})
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		c.ts.tb.Fatalf("dial events: %v (status %d)", err, status)
	}
	conn.SetReadLimit(1 << 22)
	c.ts.tb.Cleanup(func() { conn.CloseNow() })
	s := &Stream{tb: c.ts.tb, conn: conn, ctx: ctx}
	if ev := s.Next(); ev["type"] != "hello" {
		c.ts.tb.Fatalf("first event: got %v, want hello", ev["type"])
	}
	return s
}

// Resume sends the resume message.
func (s *Stream) Resume(cursors map[string]int64) {
	s.tb.Helper()
	b, _ := json.Marshal(map[string]any{"type": "resume", "cursors": cursors})
	if err := s.conn.Write(s.ctx, websocket.MessageText, b); err != nil {
		s.tb.Fatal(err)
	}
}

// Next reads the next event, failing after 5 s.
func (s *Stream) Next() map[string]any {
	s.tb.Helper()
	ev, err := s.next(5 * time.Second)
	if err != nil {
		s.tb.Fatalf("read event: %v", err)
	}
	return ev
}

func (s *Stream) next(timeout time.Duration) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(s.ctx, timeout)
	defer cancel()
	_, b, err := s.conn.Read(ctx)
	if err != nil {
		return nil, err
	}
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		return nil, err
	}
	return ev, nil
}

// NextOf reads until an event of the given type arrives, skipping others.
func (s *Stream) NextOf(typ string) map[string]any {
	s.tb.Helper()
	for {
		if ev := s.Next(); ev["type"] == typ {
			return ev
		}
	}
}

// Messages reads message.created events until n have arrived, skipping other events.
func (s *Stream) Messages(n int) []map[string]any {
	s.tb.Helper()
	var out []map[string]any
	for len(out) < n {
		ev := s.Next()
		if ev["type"] == "message.created" {
			out = append(out, ev["message"].(map[string]any))
		}
	}
	return out
}

// wardlineAdmin is the first admin of a test organisation.
func wardlineAdmin(email string) wardline.NewUser {
	return wardline.NewUser{Email: email, DisplayName: "Test Admin"}
}
