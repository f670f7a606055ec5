package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"wardline"
)

// callers are the kinds of caller the authorization matrix tries every endpoint as.
var callers = []string{"anonymous", "non-member", "member", "owner", "admin", "auditor", "suspended"}

// authzFixture holds one signed-in client per kind of caller and, per case, fresh things to act on.
type authzFixture struct {
	ts       *TestServer
	clients  map[string]*Client
	emails   map[string]string
	conv     *wardline.Conversation // a group: owner, member, third, suspended
	channel  *wardline.Conversation // a channel with the same members
	msg      *wardline.Message      // sent by the owner into conv
	third    *Client
	target   *Client // a fresh user for admin actions
	password map[string]string
}

func newAuthzFixture(t *testing.T) *authzFixture {
	ts := MustRunServer(t)
	f := &authzFixture{ts: ts, clients: map[string]*Client{}, password: map[string]string{}}
	f.clients["anonymous"] = &Client{ts: ts}
	f.clients["admin"] = ts.Admin
	for _, k := range []string{"non-member", "member", "owner", "suspended"} {
		f.clients[k] = ts.NewUser("member")
	}
	f.clients["auditor"] = ts.NewUser("auditor")
	f.third = ts.NewUser("member")
	return f
}

// refresh makes fresh conversations, a message and a target user for one case, and re-suspends
// the suspended caller (who is a member of both conversations).
func (f *authzFixture) refresh(t *testing.T) {
	owner := f.clients["owner"]
	susp := f.clients["suspended"]
	// The suspended caller must be active to be added; reinstate, add, suspend again.
	if susp.User.Status == wardline.UserSuspended {
		f.ts.mustStatus(f.ts.Admin.Do("POST", "/api/v1/admin/users/"+susp.User.ID+"/reinstate", nil, nil), 204)
	}
	f.conv = owner.StartConversation("group", "Ward round", f.clients["member"], f.third, susp)
	f.channel = owner.StartConversation("channel", "Ward 7", f.clients["member"], f.third, susp)
	f.msg = owner.Send(f.conv.ID, "Please review bed 4")
	f.ts.mustStatus(f.ts.Admin.Do("POST", "/api/v1/admin/users/"+susp.User.ID+"/suspend", nil, nil), 204)
	susp.User.Status = wardline.UserSuspended
	f.target = f.ts.NewUser("member")
}

type authzCase struct {
	name string
	req  func(f *authzFixture, caller string) (method, path string, body any)
	// want is the status for each caller, in the order of callers.
	want [7]int
}

func TestAuthorizationMatrix(t *testing.T) {
	f := newAuthzFixture(t)
	conv := func(f *authzFixture) string { return "/api/v1/conversations/" + f.conv.ID }
	channel := func(f *authzFixture) string { return "/api/v1/conversations/" + f.channel.ID }
	msg := func(f *authzFixture) string { return conv(f) + "/messages/" + f.msg.ID }
	get := func(path func(*authzFixture) string) func(*authzFixture, string) (string, string, any) {
		return func(f *authzFixture, _ string) (string, string, any) { return "GET", path(f), nil }
	}
	fixed := func(p string) func(*authzFixture) string { return func(*authzFixture) string { return p } }
	newMsg := func() map[string]any { return map[string]any{"client_id": uuid.NewString(), "body": "hello"} }

	//                 anonymous  non-member  member  owner  admin  auditor  suspended
	cases := []authzCase{
		{"GET /healthz", get(fixed("/healthz")), [7]int{200, 200, 200, 200, 200, 200, 200}},
		{"GET /readyz", get(fixed("/readyz")), [7]int{200, 200, 200, 200, 200, 200, 200}},
		{"GET openapi.json", get(fixed("/api/v1/openapi.json")), [7]int{200, 200, 200, 200, 200, 200, 200}},
		{"POST auth/login (own credentials)", func(f *authzFixture, c string) (string, string, any) {
			email, pw := "nobody@test.nhs.uk", "not a real password"
			if cl := f.clients[c]; cl.User != nil {
				email, pw = cl.User.Email, cl.User.PasswordHash
			}
			return "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": pw}
		}, [7]int{401, 200, 200, 200, 200, 200, 403}},
		{"GET me", get(fixed("/api/v1/me")), [7]int{401, 200, 200, 200, 200, 200, 401}},
		{"POST me/password (wrong current password)", func(*authzFixture, string) (string, string, any) {
			return "POST", "/api/v1/me/password", map[string]string{"current_password": "not the password", "new_password": "a long enough new password"}
		}, [7]int{401, 403, 403, 403, 403, 403, 401}},
		{"POST admin/users", func(*authzFixture, string) (string, string, any) {
			return "POST", "/api/v1/admin/users", map[string]string{"email": uuid.NewString()[:8] + "@test.nhs.uk", "display_name": "New Starter"}
		}, [7]int{401, 403, 403, 403, 201, 403, 401}},
		{"GET admin/users", get(fixed("/api/v1/admin/users")), [7]int{401, 403, 403, 403, 200, 403, 401}},
		{"POST admin/users/{id}/suspend", func(f *authzFixture, _ string) (string, string, any) {
			return "POST", "/api/v1/admin/users/" + f.target.User.ID + "/suspend", nil
		}, [7]int{401, 403, 403, 403, 204, 403, 401}},
		{"POST admin/users/{id}/reinstate", func(f *authzFixture, _ string) (string, string, any) {
			return "POST", "/api/v1/admin/users/" + f.target.User.ID + "/reinstate", nil
		}, [7]int{401, 403, 403, 403, 204, 403, 401}},
		{"POST admin/users/{id}/offboard", func(f *authzFixture, _ string) (string, string, any) {
			return "POST", "/api/v1/admin/users/" + f.target.User.ID + "/offboard", nil
		}, [7]int{401, 403, 403, 403, 204, 403, 401}},
		{"GET directory", get(fixed("/api/v1/directory?q=user")), [7]int{401, 200, 200, 200, 200, 200, 401}},
		{"POST conversations", func(f *authzFixture, _ string) (string, string, any) {
			return "POST", "/api/v1/conversations", map[string]any{"kind": "group", "title": "New", "member_ids": []string{f.third.User.ID}}
		}, [7]int{401, 201, 201, 201, 201, 201, 401}},
		{"GET conversations", get(fixed("/api/v1/conversations")), [7]int{401, 200, 200, 200, 200, 200, 401}},
		{"GET conversation (group)", get(conv), [7]int{401, 404, 200, 200, 404, 404, 401}},
		{"GET conversation (channel)", get(channel), [7]int{401, 404, 200, 200, 200, 404, 401}},
		{"POST members (group)", func(f *authzFixture, _ string) (string, string, any) {
			return "POST", conv(f) + "/members", map[string]string{"user_id": f.target.User.ID}
		}, [7]int{401, 404, 403, 204, 404, 404, 401}},
		{"POST members (channel)", func(f *authzFixture, _ string) (string, string, any) {
			return "POST", channel(f) + "/members", map[string]string{"user_id": f.target.User.ID}
		}, [7]int{401, 404, 403, 204, 204, 404, 401}},
		{"DELETE members/{user_id} (someone else, group)", func(f *authzFixture, _ string) (string, string, any) {
			return "DELETE", conv(f) + "/members/" + f.third.User.ID, nil
		}, [7]int{401, 404, 403, 204, 404, 404, 401}},
		{"DELETE members/{user_id} (someone else, channel)", func(f *authzFixture, _ string) (string, string, any) {
			return "DELETE", channel(f) + "/members/" + f.third.User.ID, nil
		}, [7]int{401, 404, 403, 204, 204, 404, 401}},
		{"DELETE members/{user_id} (themselves)", func(f *authzFixture, c string) (string, string, any) {
			id := uuid.NewString()
			if u := f.clients[c].User; u != nil {
				id = u.ID
			}
			return "DELETE", conv(f) + "/members/" + id, nil
		}, [7]int{401, 404, 204, 204, 404, 404, 401}},
		{"POST messages", func(f *authzFixture, _ string) (string, string, any) { return "POST", conv(f) + "/messages", newMsg() },
			[7]int{401, 404, 201, 201, 404, 404, 401}},
		{"POST messages (channel, admin not a member)", func(f *authzFixture, _ string) (string, string, any) {
			return "POST", channel(f) + "/messages", newMsg()
		}, [7]int{401, 404, 201, 201, 404, 404, 401}},
		{"GET messages", get(func(f *authzFixture) string { return conv(f) + "/messages" }), [7]int{401, 404, 200, 200, 404, 404, 401}},
		{"GET messages (channel)", get(func(f *authzFixture) string { return channel(f) + "/messages" }), [7]int{401, 404, 200, 200, 404, 404, 401}},
		{"PATCH message (the owner's)", func(f *authzFixture, _ string) (string, string, any) {
			return "PATCH", msg(f), map[string]string{"body": "edited"}
		}, [7]int{401, 404, 403, 200, 404, 404, 401}},
		{"DELETE message (the owner's)", func(f *authzFixture, _ string) (string, string, any) { return "DELETE", msg(f), nil },
			[7]int{401, 404, 403, 204, 404, 404, 401}},
		{"POST read", func(f *authzFixture, _ string) (string, string, any) {
			return "POST", conv(f) + "/read", map[string]int{"seq": 1}
		}, [7]int{401, 404, 204, 204, 404, 404, 401}},
		{"POST ack", func(f *authzFixture, _ string) (string, string, any) { return "POST", msg(f) + "/ack", nil },
			[7]int{401, 404, 204, 204, 404, 404, 401}},
		{"GET receipts", get(func(f *authzFixture) string { return msg(f) + "/receipts" }), [7]int{401, 404, 200, 200, 404, 404, 401}},
		{"POST auth/logout", func(*authzFixture, string) (string, string, any) { return "POST", "/api/v1/auth/logout", nil },
			[7]int{401, 204, 204, 204, 204, 204, 401}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.refresh(t)
			for i, caller := range callers {
				c := f.clients[caller]
				if tc.name == "POST auth/logout" && c.User != nil && caller != "suspended" {
					c = f.ts.Login(c.User.Email, c.User.PasswordHash) // a session of its own to end
					c.User.PasswordHash = f.clients[caller].User.PasswordHash
				}
				method, path, body := tc.req(f, caller)
				if got, raw := c.DoRaw(method, path, body, nil); got != tc.want[i] {
					t.Errorf("%s: got %d (%s), want %d", caller, got, strings.TrimSpace(string(raw)), tc.want[i])
				}
				if tc.want[i] < 300 && strings.Contains(tc.name, "(someone else") || strings.Contains(tc.name, "(themselves)") {
					f.refresh(t) // the removal succeeded: the next caller needs the member back
				}
			}
		})
	}

	t.Run("GET events", func(t *testing.T) {
		f.refresh(t)
		want := [7]int{401, 101, 101, 101, 101, 101, 401}
		for i, caller := range callers {
			if got := dialStatus(f.ts, f.clients[caller]); got != want[i] {
				t.Errorf("%s: got %d, want %d", caller, got, want[i])
			}
		}
	})

	// A send on the event stream answers as the POST does (sendStatus); who cannot open a
	// stream cannot send on one.
	t.Run("send on events", func(t *testing.T) {
		f.refresh(t)
		want := [7]int{401, 404, 201, 201, 404, 404, 401}
		for i, caller := range callers {
			c := f.clients[caller]
			if got := dialStatus(f.ts, c); got != 101 {
				if got != want[i] {
					t.Errorf("%s: stream %d, want %d", caller, got, want[i])
				}
				continue
			}
			s := c.Connect()
			id := uuid.NewString()
			s.SendFrame(f.conv.ID, id, "hello")
			if got := sendStatus(s.Answer(id)); got != want[i] {
				t.Errorf("%s: got %d, want %d", caller, got, want[i])
			}
			s.conn.CloseNow()
		}
	})
}

// dialStatus opens the event stream as c and returns the HTTP status of the upgrade.
func dialStatus(ts *TestServer, c *Client) int {
	h := http.Header{}
	if c.Token != "" {
		h.Set("Authorization", "Bearer "+c.Token)
	}
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/api/v1/events"
	conn, res, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{HTTPHeader: h})
	if err == nil {
		conn.CloseNow()
		return http.StatusSwitchingProtocols
	}
	if res == nil {
		panic(fmt.Sprint("dial: ", err))
	}
	return res.StatusCode
}
