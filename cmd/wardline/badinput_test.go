package main

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"wardline"
)

func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	ts := MustRunServer(t)
	a, b := ts.NewUser("member"), ts.NewUser("member")
	conv := a.StartConversation("group", "Bad input", b)
	first := a.Send(conv.ID, "the only message")
	msgs := "/api/v1/conversations/" + conv.ID + "/messages"
	okID := uuid.NewString()

	cases := []badInputCase{
		{"malformed JSON", a, "POST", msgs, `{"client_id": "` + okID + `", "body": "x"`, 400, "invalid"},
		{"not an object", a, "POST", msgs, `["hello"]`, 400, "invalid"},
		{"two objects", a, "POST", msgs, `{"client_id":"` + okID + `","body":"x"}{}`, 400, "invalid"},
		{"unknown field", a, "POST", msgs, `{"client_id":"` + okID + `","body":"x","colour":"red"}`, 400, "invalid"},
		{"wrong type", a, "POST", msgs, `{"client_id":"` + okID + `","body":42}`, 400, "invalid"},
		{"wrong type requires_ack", a, "POST", msgs, `{"client_id":"` + okID + `","body":"x","requires_ack":"yes"}`, 400, "invalid"},
		{"invalid UTF-8", a, "POST", msgs, []byte("{\"client_id\":\"" + okID + "\",\"body\":\"\xff\xfe\"}"), 400, "invalid"},
		{"empty request", a, "POST", msgs, "", 400, "invalid"},
		{"empty body", a, "POST", msgs, map[string]any{"client_id": okID, "body": ""}, 400, "invalid"},
		{"blank body", a, "POST", msgs, map[string]any{"client_id": okID, "body": "  \n\t "}, 400, "invalid"},
		{"body over 8000 characters", a, "POST", msgs, map[string]any{"client_id": okID, "body": strings.Repeat("é", 8001)}, 400, "invalid"},
		{"request over 1 MiB", a, "POST", msgs, map[string]any{"client_id": okID, "body": strings.Repeat("x", 1<<20)}, 413, "too_large"},
		{"client_id not a UUID", a, "POST", msgs, map[string]any{"client_id": "abc", "body": "x"}, 400, "invalid"},
		{"missing client_id", a, "POST", msgs, map[string]any{"body": "x"}, 400, "invalid"},
		{"unknown priority", a, "POST", msgs, map[string]any{"client_id": okID, "body": "x", "priority": "whenever"}, 400, "invalid"},
		{"unknown conversation", a, "POST", "/api/v1/conversations/" + uuid.NewString() + "/messages", map[string]any{"client_id": okID, "body": "x"}, 404, "not_found"},
		{"malformed conversation id", a, "POST", "/api/v1/conversations/not-an-id/messages", map[string]any{"client_id": okID, "body": "x"}, 404, "not_found"},
		{"malformed JSON for a conversation one cannot see", a, "POST", "/api/v1/conversations/" + uuid.NewString() + "/messages", `{`, 404, "not_found"},
		{"limit 0", a, "GET", msgs + "?limit=0", nil, 400, "invalid"},
		{"limit 201", a, "GET", msgs + "?limit=201", nil, 400, "invalid"},
		{"limit not a number", a, "GET", msgs + "?limit=ten", nil, 400, "invalid"},
		{"negative after_seq", a, "GET", msgs + "?after_seq=-1", nil, 400, "invalid"},
		{"after_seq and before_seq", a, "GET", msgs + "?after_seq=1&before_seq=5", nil, 400, "invalid"},
		{"unknown query parameter", a, "GET", msgs + "?colour=red", nil, 400, "invalid"},
		{"repeated query parameter", a, "GET", msgs + "?limit=1&limit=2", nil, 400, "invalid"},
		{"bad query on a conversation one cannot see", a, "GET", "/api/v1/conversations/" + uuid.NewString() + "/messages?limit=0", nil, 404, "not_found"},
		{"unknown message", a, "PATCH", msgs + "/" + uuid.NewString(), map[string]any{"body": "x"}, 404, "not_found"},
		{"edit to empty", a, "PATCH", msgs + "/" + first.ID, map[string]any{"body": ""}, 400, "invalid"},
		{"edit unknown field", a, "PATCH", msgs + "/" + first.ID, map[string]any{"body": "x", "seq": 9}, 400, "invalid"},
		{"read seq 0", a, "POST", "/api/v1/conversations/" + conv.ID + "/read", map[string]any{"seq": 0}, 400, "invalid"},
		{"read beyond the last message", a, "POST", "/api/v1/conversations/" + conv.ID + "/read", map[string]any{"seq": 99}, 400, "invalid"},
		{"read without seq", a, "POST", "/api/v1/conversations/" + conv.ID + "/read", map[string]any{}, 400, "invalid"},
		{"conversation kind unknown", a, "POST", "/api/v1/conversations", map[string]any{"kind": "broadcast", "member_ids": []string{b.User.ID}}, 400, "invalid"},
		{"direct with two others", a, "POST", "/api/v1/conversations", map[string]any{"kind": "direct", "member_ids": []string{b.User.ID, ts.Admin.User.ID}}, 400, "invalid"},
		{"channel without title", a, "POST", "/api/v1/conversations", map[string]any{"kind": "channel", "member_ids": []string{b.User.ID}}, 400, "invalid"},
		{"member not in the directory", a, "POST", "/api/v1/conversations", map[string]any{"kind": "group", "member_ids": []string{uuid.NewString()}}, 400, "invalid"},
		{"member id malformed", a, "POST", "/api/v1/conversations", map[string]any{"kind": "group", "member_ids": []string{"bob"}}, 400, "invalid"},
		{"title too long", a, "POST", "/api/v1/conversations", map[string]any{"kind": "group", "title": strings.Repeat("t", 201), "member_ids": []string{b.User.ID}}, 400, "invalid"},
		{"add member not in the directory", a, "POST", "/api/v1/conversations/" + conv.ID + "/members", map[string]any{"user_id": uuid.NewString()}, 400, "invalid"},
		{"login without password", a, "POST", "/api/v1/auth/login", map[string]any{"email": "x@y.uk"}, 400, "invalid"},
		{"create user bad email", a, "POST", "/api/v1/admin/users", map[string]any{"email": "not-an-email", "display_name": "X"}, 403, "forbidden"},
		{"unknown endpoint", a, "GET", "/api/v1/nothing-here", nil, 404, "not_found"},
	}
	checkBadInput(t, cases)
	// Admin-only validation, by an admin.
	for _, body := range []map[string]any{
		{"email": "not-an-email", "display_name": "X"},
		{"email": "ok@test.nhs.uk", "display_name": ""},
		{"email": "ok@test.nhs.uk", "display_name": "X", "org_role": "superuser"},
		{"email": ts.Admin.User.Email, "display_name": "Duplicate"},
	} {
		status, raw := ts.Admin.DoRaw("POST", "/api/v1/admin/users", body, nil)
		if status != 400 && !(status == 409 && body["display_name"] == "Duplicate") {
			t.Errorf("create user %v: got %d %s", body, status, raw)
		}
	}

	// Nothing above changed anything.
	var got wardline.Conversation
	ts.mustStatus(a.Do("GET", "/api/v1/conversations/"+conv.ID, nil, &got), 200)
	if got.LastSeq != 1 {
		t.Fatalf("last_seq: got %d, want 1", got.LastSeq)
	}
	if hist := a.History(conv.ID); len(hist) != 1 || hist[0].Body != "the only message" || hist[0].EditedAt != nil {
		t.Fatalf("history changed: %+v", hist)
	}
	var list struct {
		Items []*wardline.Conversation `json:"items"`
	}
	ts.mustStatus(a.Do("GET", "/api/v1/conversations", nil, &list), 200)
	if len(list.Items) != 1 || len(list.Items[0].Members) != 2 {
		t.Fatalf("conversations changed: %d", len(list.Items))
	}
	var users struct {
		Items []*wardline.User `json:"items"`
	}
	ts.mustStatus(ts.Admin.Do("GET", "/api/v1/admin/users", nil, &users), 200)
	if len(users.Items) != 3 {
		t.Fatalf("users: got %d, want 3", len(users.Items))
	}
}

// badInputCase is a request that must be refused with the given status and error code.
type badInputCase struct {
	name   string
	by     *Client
	method string
	path   string
	body   any
	status int
	code   string
}

// checkBadInput sends each case as its caller and checks the status and error code, and that the
// answer is short and echoes neither invalid UTF-8 nor any of the given inputs.
func checkBadInput(t *testing.T, cases []badInputCase, inputs ...string) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := tc.by.DoRaw(tc.method, tc.path, tc.body, nil)
			if status != tc.status || errCode(raw) != tc.code {
				t.Fatalf("got %d %s, want %d %s", status, raw, tc.status, tc.code)
			}
			echoes := strings.Contains(string(raw), "\xff") || len(raw) > 1000
			for _, in := range inputs {
				echoes = echoes || strings.Contains(string(raw), in)
			}
			if echoes {
				t.Fatalf("the error echoes input: %q", raw)
			}
		})
	}
}
