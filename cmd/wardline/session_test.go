package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"wardline/mock"

	"github.com/coder/websocket"
)

// TestHeartbeatDoesNotKeepASessionAlive: a client's ping frames answer pong but do not count as
// use, so an unattended app cannot hold its session open past the idle limit.
func TestHeartbeatDoesNotKeepASessionAlive(t *testing.T) {
	clock := mock.NewClock(time.Now().UTC())
	ts := MustRunServer(t, func(m *Main) { m.Clock = clock })
	u := ts.NewUser("member")
	s := u.Connect()
	clock.Add(30 * time.Minute)
	if err := s.conn.Write(s.ctx, websocket.MessageText, []byte(`{"type":"ping"}`)); err != nil {
		t.Fatal(err)
	}
	s.NextOf("pong")
	clock.Add(31 * time.Minute)
	ts.mustStatus(u.Do("GET", "/api/v1/me", nil, nil), 401)
}

// TestDeadSessionCookieIsCleared: a browser whose session has ended is told to drop the cookie.
func TestDeadSessionCookieIsCleared(t *testing.T) {
	ts := MustRunServer(t)
	u := ts.NewUser("member")
	req, _ := http.NewRequest("POST", ts.URL+"/api/v1/auth/login", strings.NewReader(`{"email":"`+u.User.Email+`","password":"`+u.User.PasswordHash+`"}`))
	req.Header.Set("X-Wardline-CSRF", "1")
	res, err := ts.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "wardline_session" {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("no session cookie")
	}
	browser := &Client{ts: ts, Cookie: cookie, CSRF: true}
	ts.mustStatus(browser.Do("GET", "/api/v1/me", nil, nil), 200)
	// The session ends elsewhere (an admin suspends the account).
	ts.mustStatus(ts.Admin.Do("POST", "/api/v1/admin/users/"+u.User.ID+"/suspend", nil, nil), 204)
	req, _ = http.NewRequest("GET", ts.URL+"/api/v1/me", nil)
	req.AddCookie(cookie)
	res, err = ts.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 || !strings.Contains(res.Header.Get("Set-Cookie"), "wardline_session=;") || !strings.Contains(res.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("got %d, Set-Cookie %q", res.StatusCode, res.Header.Get("Set-Cookie"))
	}
}

// TestFailedLockFrameLeavesTheStreamWorking: a lock the server refuses (no PIN or passkey to
// unlock with) must not leave the stream withholding messages.
func TestFailedLockFrameLeavesTheStreamWorking(t *testing.T) {
	ts := MustRunServer(t)
	a, b := ts.NewUser("member"), ts.NewUser("member")
	conv := a.StartConversation("direct", "", b)
	s := b.Connect()
	s.Resume(nil)
	s.NextOf("resume.done")
	if err := s.conn.Write(s.ctx, websocket.MessageText, []byte(`{"type":"lock"}`)); err != nil {
		t.Fatal(err)
	}
	if ev := s.NextOf("error"); ev["code"] != "conflict" {
		t.Fatalf("lock without a PIN: %v", ev)
	}
	sent := a.Send(conv.ID, "still reaches you")
	if got := s.Messages(1)[0]; got["id"] != sent.ID {
		t.Fatalf("got %v", got)
	}
}
