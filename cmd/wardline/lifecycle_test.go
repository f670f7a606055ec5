package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wardline"
)

func TestInitialPasswordMustBeChanged(t *testing.T) {
	ts := MustRunServer(t)
	var created struct {
		User            *wardline.User `json:"user"`
		InitialPassword string         `json:"initial_password"`
	}
	ts.mustStatus(ts.Admin.Do("POST", "/api/v1/admin/users", map[string]string{"email": "new.starter@test.nhs.uk", "display_name": "New Starter", "profession": "Nursing"}, &created), 201)
	var login map[string]any
	c := &Client{ts: ts}
	ts.mustStatus(c.Do("POST", "/api/v1/auth/login", map[string]string{"email": "NEW.Starter@test.nhs.uk ", "password": created.InitialPassword}, &login), 200)
	if login["password_change_required"] != true {
		t.Fatalf("login: %v", login)
	}
	c.Token = login["token"].(string)
	ts.mustStatus(c.Do("GET", "/api/v1/me", nil, nil), 200)
	ts.mustStatus(c.Do("GET", "/api/v1/conversations", nil, nil), 403)
	ts.mustStatus(c.Do("GET", "/api/v1/directory", nil, nil), 403)
	if got := dialStatus(ts, c); got != 403 {
		t.Fatalf("events while restricted: %d", got)
	}
	ts.mustStatus(c.Do("POST", "/api/v1/me/password", map[string]string{"current_password": created.InitialPassword, "new_password": "short"}, nil), 400)
	ts.mustStatus(c.Do("POST", "/api/v1/me/password", map[string]string{"current_password": created.InitialPassword, "new_password": "a much longer passphrase"}, nil), 204)
	// After the change, sign in again: the old token has ended.
	ts.mustStatus(c.Do("GET", "/api/v1/me", nil, nil), 401)
	c = ts.Login("new.starter@test.nhs.uk", "a much longer passphrase")
	ts.mustStatus(c.Do("GET", "/api/v1/conversations", nil, nil), 200)
	ts.mustStatus((&Client{ts: ts}).Do("POST", "/api/v1/auth/login", map[string]string{"email": "new.starter@test.nhs.uk", "password": created.InitialPassword}, nil), 401)
}

func TestLoginLockoutAndSameAnswerForUnknownEmail(t *testing.T) {
	ts := MustRunServer(t)
	u := ts.NewUser("member")
	anon := &Client{ts: ts}
	try := func(email, pw string) (int, string) {
		status, raw := anon.DoRaw("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": pw}, nil)
		return status, string(raw)
	}
	_, wrongPW := try(u.User.Email, "wrong password 1")
	_, wrongEmail := try("nobody.here@test.nhs.uk", "wrong password 1")
	if wrongPW != wrongEmail {
		t.Fatalf("answers differ:\n%s\n%s", wrongPW, wrongEmail)
	}
	for i := 2; i <= 10; i++ {
		if status, _ := try(u.User.Email, "wrong password"); status != 401 {
			t.Fatalf("failure %d: status %d", i, status)
		}
	}
	// The 11th attempt is refused even with the right password.
	if status, raw := try(u.User.Email, u.User.PasswordHash); status != 423 || !strings.Contains(raw, `"locked"`) {
		t.Fatalf("after 10 failures: %d %s", status, raw)
	}
	// Other accounts are unaffected.
	other := ts.NewUser("member")
	ts.Login(other.User.Email, other.User.PasswordHash)
	// An unknown email locks just the same (the lock is per address typed, existing or not).
	for i := 0; i < 10; i++ {
		try("ghost@test.nhs.uk", "guess")
	}
	if status, _ := try("ghost@test.nhs.uk", "guess"); status != 423 {
		t.Fatalf("unknown email after 10 failures: %d", status)
	}
	// From one address, 50 failures in the window answer 429 for everyone.
	for i := 0; i < 40; i++ {
		try("spray"+string(rune('a'+i%26))+"@test.nhs.uk", "guess")
	}
	if status, raw := try(other.User.Email, other.User.PasswordHash); status != 429 || !strings.Contains(raw, "rate_limited") {
		t.Fatalf("after 50 failures from one address: %d %s", status, raw)
	}
}

func TestSuspendEndsSessionsAndClosesStreams(t *testing.T) {
	ts := MustRunServer(t)
	u := ts.NewUser("member")
	second := ts.Login(u.User.Email, u.User.PasswordHash)
	s1, s2 := u.Connect(), second.Connect()
	start := time.Now()
	ts.mustStatus(ts.Admin.Do("POST", "/api/v1/admin/users/"+u.User.ID+"/suspend", nil, nil), 204)
	for _, s := range []*Stream{s1, s2} {
		if ev := s.NextOf("session.revoked"); ev == nil {
			t.Fatal("no session.revoked")
		}
		if _, err := s.next(2 * time.Second); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
			t.Fatalf("stream not closed: %v", err)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("streams closed after %v, want within a second", d)
	}
	ts.mustStatus(u.Do("GET", "/api/v1/me", nil, nil), 401)
	ts.mustStatus(second.Do("GET", "/api/v1/me", nil, nil), 401)
	status, raw := (&Client{ts: ts}).DoRaw("POST", "/api/v1/auth/login", map[string]string{"email": u.User.Email, "password": u.User.PasswordHash}, nil)
	if status != 403 || errCode(raw) != "forbidden" {
		t.Fatalf("login while suspended: %d %s", status, raw)
	}
	ts.mustStatus(ts.Admin.Do("POST", "/api/v1/admin/users/"+u.User.ID+"/reinstate", nil, nil), 204)
	ts.Login(u.User.Email, u.User.PasswordHash)
}

func TestLogoutEndsOnlyThatSession(t *testing.T) {
	ts := MustRunServer(t)
	u := ts.NewUser("member")
	phone := ts.Login(u.User.Email, u.User.PasswordHash)
	ps, ds := phone.Connect(), u.Connect()
	ts.mustStatus(phone.Do("POST", "/api/v1/auth/logout", nil, nil), 204)
	ps.NextOf("session.revoked")
	ts.mustStatus(phone.Do("GET", "/api/v1/me", nil, nil), 401)
	ts.mustStatus(u.Do("GET", "/api/v1/me", nil, nil), 200)
	if ev, err := ds.next(300 * time.Millisecond); err == nil && ev["type"] == "session.revoked" {
		t.Fatal("the other device was signed out too")
	}
}

func TestOffboardRemovesFromEverythingAndHandsOverOwnership(t *testing.T) {
	ts := MustRunServer(t)
	leaver, stayer, third := ts.NewUser("member"), ts.NewUser("member"), ts.NewUser("member")
	group := leaver.StartConversation("group", "Leaver's group", stayer, third)
	direct := leaver.StartConversation("direct", "", stayer)
	leaver.Send(direct.ID, "handover notes for bay 3")
	stream := leaver.Connect()
	ts.mustStatus(ts.Admin.Do("POST", "/api/v1/admin/users/"+leaver.User.ID+"/offboard", nil, nil), 204)
	stream.NextOf("session.revoked")
	ts.mustStatus(leaver.Do("GET", "/api/v1/me", nil, nil), 401)

	var g wardline.Conversation
	ts.mustStatus(stayer.Do("GET", "/api/v1/conversations/"+group.ID, nil, &g), 200)
	if g.MemberRole(leaver.User.ID) != "" {
		t.Fatal("the leaver is still in the group")
	}
	// stayer joined first (after the leaver), so stayer is the new owner.
	if g.MemberRole(stayer.User.ID) != "owner" && g.MemberRole(third.User.ID) != "owner" {
		t.Fatalf("no owner after offboarding: %+v", g.Members)
	}
	// The direct conversation stays readable to the other person.
	if hist := stayer.History(direct.ID); len(hist) != 1 || hist[0].Body != "handover notes for bay 3" {
		t.Fatalf("direct history: %+v", hist)
	}
	var u struct {
		Items []*wardline.User `json:"items"`
	}
	ts.mustStatus(ts.Admin.Do("GET", "/api/v1/admin/users?status=offboarded", nil, &u), 200)
	if len(u.Items) != 1 || u.Items[0].ID != leaver.User.ID {
		t.Fatalf("offboarded users: %+v", u.Items)
	}
	// The directory no longer offers the leaver; nobody can add them back.
	ts.mustStatus(stayer.Do("POST", "/api/v1/conversations/"+group.ID+"/members", map[string]string{"user_id": leaver.User.ID}, nil), 400)
	// Reinstating restores the account, not the memberships.
	ts.mustStatus(ts.Admin.Do("POST", "/api/v1/admin/users/"+leaver.User.ID+"/reinstate", nil, nil), 204)
	back := ts.Login(leaver.User.Email, leaver.User.PasswordHash)
	var list struct {
		Items []*wardline.Conversation `json:"items"`
	}
	ts.mustStatus(back.Do("GET", "/api/v1/conversations", nil, &list), 200)
	if len(list.Items) != 0 {
		t.Fatalf("reinstated user sees %d conversations", len(list.Items))
	}
}

func TestEventStreamRefusesForeignOriginsAndBadFrames(t *testing.T) {
	ts := MustRunServer(t)
	u := ts.NewUser("member")
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/api/v1/events"
	_, res, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{HTTPHeader: http.Header{
		"Authorization": {"Bearer " + u.Token}, "Origin": {"https://evil.example"}}})
	if err == nil || res == nil || res.StatusCode != 403 {
		t.Fatalf("foreign origin: err %v", err)
	}
	s := u.Connect()
	for _, bad := range []string{`nonsense`, `{"type":"explode"}`, `{"type":"resume","cursors":{"x":1}}`, `{"type":"resume","cursors":{"` + wardline.NewID() + `":-4}}`, `{"type":"resume","extra":1}`} {
		if err := s.conn.Write(s.ctx, websocket.MessageText, []byte(bad)); err != nil {
			t.Fatal(err)
		}
		if ev := s.NextOf("error"); ev["code"] != "invalid" {
			t.Fatalf("%s: %v", bad, ev)
		}
	}
	// The stream still works.
	s.Resume(nil)
	s.NextOf("resume.done")
	s.Resume(nil)
	if ev := s.NextOf("error"); ev["code"] != "invalid" {
		t.Fatalf("second resume: %v", ev)
	}
	if err := s.conn.Write(s.ctx, websocket.MessageText, []byte(`{"type":"ping"}`)); err != nil {
		t.Fatal(err)
	}
	s.NextOf("pong")
}

func TestSlowClientIsDroppedWithoutHoldingOthersUp(t *testing.T) {
	ts := MustRunServer(t, func(m *Main) { m.WS.QueueLimit = 8; m.WS.WriteTimeout = 500 * time.Millisecond })
	a, b := ts.NewUser("member"), ts.NewUser("member")
	conv := a.StartConversation("group", "Busy ward", b)
	slow := b.Connect() // never reads after hello
	slow.Resume(nil)
	fast := ts.Login(b.User.Email, b.User.PasswordHash).Connect()
	fast.Resume(nil)
	fast.NextOf("resume.done")
	// 21 KB a message (7,000 three-byte characters), 480 messages: more than the kernel's socket
	// buffers can hide from the server.
	const n = 480
	body := strings.Repeat("€", 7000)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/4; i++ {
				a.Send(conv.ID, body)
			}
		}()
	}
	got := fast.Messages(n)
	wg.Wait()
	for i, m := range got {
		if m["seq"].(float64) != float64(i+1) {
			t.Fatalf("fast client message %d has seq %v", i, m["seq"])
		}
	}
	// The slow client was dropped (too slow), and recovers everything by resume.
	var err error
	for err == nil {
		_, err = slow.next(5 * time.Second)
	}
	// Closed with 1013 (try again later) when the close frame gets through; a client that has
	// not read for this long usually sees the connection cut instead. Either way it was dropped.
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow client was not dropped: %v", err)
	}
	again := b.Connect()
	again.Resume(map[string]int64{})
	if got := again.Messages(n); got[0]["seq"].(float64) != 1 || got[n-1]["seq"].(float64) != n {
		t.Fatal("resume after drop missed messages")
	}
}

// One server per SQLite data directory: a second is refused with a clear error while the first
// runs, and starts once the first has closed.
func TestOneServerPerDataDirectory(t *testing.T) {
	start := func(dir string) (*Main, error) {
		m := NewMain(io.Discard, io.Discard)
		m.Config = Config{DataDir: dir, Addr: "127.0.0.1:0", HTTP: true, LogLevel: "warn"}
		err := m.Run(context.Background())
		if err != nil {
			m.Close()
		}
		return m, err
	}
	dir := t.TempDir()
	first, err := start(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := start(dir); err == nil || !strings.Contains(err.Error(), "in use by another wardline serve") {
		t.Fatalf("second server on the same data directory: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	third, err := start(dir)
	if err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
	third.Close()
}
