package http

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"wardline"
)

func TestDecodeJSON(t *testing.T) {
	type msg struct {
		ClientID string `json:"client_id"`
		Body     string `json:"body"`
		Ack      *bool  `json:"requires_ack"`
	}
	cases := []struct {
		name, in string
		ok       bool
	}{
		{"OK", `{"client_id":"a","body":"b"}`, true},
		{"OKSpaces", " \n{\"body\":\"b\"}\n ", true},
		{"Empty", ``, false},
		{"Whitespace", "  \n", false},
		{"Array", `[1]`, false},
		{"String", `"x"`, false},
		{"Null", `null`, false},
		{"Truncated", `{"body":"b"`, false},
		{"UnknownField", `{"body":"b","x":1}`, false},
		{"WrongType", `{"body":1}`, false},
		{"WrongTypeBool", `{"requires_ack":"yes"}`, false},
		{"TwoObjects", `{"body":"b"}{"body":"c"}`, false},
		{"TrailingGarbage", `{"body":"b"} x`, false},
		{"InvalidUTF8", "{\"body\":\"\xff\"}", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var m msg
			err := DecodeJSON([]byte(tc.in), &m)
			if (err == nil) != tc.ok {
				t.Fatalf("got err %v, want ok=%v", err, tc.ok)
			}
			if err != nil && wardline.ErrorCode(err) != wardline.EINVALID {
				t.Fatalf("code: got %s, want invalid", wardline.ErrorCode(err))
			}
		})
	}
}

func TestParseClientMessage(t *testing.T) {
	id := wardline.NewID()
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{`{"type":"resume","cursors":{"` + id + `":3}}`, true},
		{`{"type":"resume"}`, true},
		{`{"type":"ping"}`, true},
		{`{"type":"resume","cursors":{"nope":3}}`, false},
		{`{"type":"resume","cursors":{"` + id + `":-1}}`, false},
		{`{"type":"resume","cursors":{"` + id + `":"3"}}`, false},
		{`{"type":"shout"}`, false},
		{`{"type":"ping","cursors":{}}`, false},
		{`{"type":"lock"}`, true},
		{`{"type":"send","conversation_id":"` + id + `","client_id":"` + wardline.NewID() + `","body":"hi"}`, true},
		{`{"type":"send","conversation_id":"` + id + `","client_id":"` + wardline.NewID() + `","body":"hi","priority":"urgent","requires_ack":true}`, true},
		{`{"type":"send","conversation_id":"` + id + `","body":"hi"}`, false},
		{`{"type":"send","conversation_id":"ward-7","client_id":"` + wardline.NewID() + `","body":"hi"}`, false},
		{`{"type":"send","client_id":"` + wardline.NewID() + `","body":"hi"}`, false},
		{`{"type":"send","conversation_id":"` + id + `","client_id":"` + wardline.NewID() + `","body":"hi","cursors":{}}`, false},
		{`{"type":"send","conversation_id":"` + id + `","client_id":"` + wardline.NewID() + `","body":"hi","colour":"red"}`, false},
		{`{"type":"resume","body":"hi"}`, false},
		{`{"type":"ping","conversation_id":"` + id + `"}`, false},
		{`{}`, false},
		{`not json`, false},
	} {
		if _, err := ParseClientMessage([]byte(tc.in)); (err == nil) != tc.ok {
			t.Errorf("%s: got err %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

// FuzzDecodeJSON checks that request decoding never panics, accepts only valid UTF-8 JSON objects
// of the target's shape, and answers every refusal as invalid without echoing the input.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"client_id":"0195f3f0-0000-7000-8000-000000000001","body":"hi","priority":"urgent","requires_ack":true}`,
		`{"body":""}`, `{`, `[]`, `{"body":"\u0000"}`, "{\"body\":\"\xff\"}", `{"kind":"group","member_ids":["a"]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m wardline.NewMessage
		err := DecodeJSON(b, &m)
		if err == nil {
			if !utf8.Valid(b) || !json.Valid(b) {
				t.Fatalf("accepted invalid input %q", b)
			}
			if err := m.Validate(); err == nil && !utf8.ValidString(m.Body) {
				t.Fatal("validated an invalid body")
			}
			return
		}
		if wardline.ErrorCode(err) != wardline.EINVALID {
			t.Fatalf("code %s", wardline.ErrorCode(err))
		}
		if len(b) > 8 && strings.Contains(wardline.ErrorMessage(err), string(b)) {
			t.Fatalf("error echoes the input: %s", wardline.ErrorMessage(err))
		}
		var c wardline.NewConversation
		_ = DecodeJSON(b, &c)
	})
}

// FuzzParseClientMessage checks the event-stream parser never panics and only accepts resume,
// ping, lock and send frames, with valid cursors and ids.
func FuzzParseClientMessage(f *testing.F) {
	for _, s := range []string{`{"type":"resume","cursors":{"0195f3f0-0000-7000-8000-000000000001":5}}`, `{"type":"ping"}`, `{"type":"resume"}`, `{"type":`, `{"type":"resume","cursors":{"x":-1}}`,
		`{"type":"lock"}`, `{"type":"send","conversation_id":"0195f3f0-0000-7000-8000-000000000001","client_id":"0195f3f0-0000-7000-8000-000000000002","body":"hi","priority":"urgent","requires_ack":true}`,
		`{"type":"send","conversation_id":"x","client_id":"0195f3f0-0000-7000-8000-000000000002","body":"hi"}`, `{"type":"resume","body":"hi"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseClientMessage(b)
		if err != nil {
			if wardline.ErrorCode(err) != wardline.EINVALID {
				t.Fatalf("code %s", wardline.ErrorCode(err))
			}
			return
		}
		isSend := m.ConversationID != "" || m.NewMessage != (wardline.NewMessage{})
		switch m.Type {
		case "ping", "lock":
			if m.Cursors != nil || isSend {
				t.Fatalf("accepted %s with more: %q", m.Type, b)
			}
		case "resume":
			if isSend {
				t.Fatalf("accepted a resume with send fields: %q", b)
			}
			for id, seq := range m.Cursors {
				if !wardline.ValidID(id) || seq < 0 {
					t.Fatalf("accepted cursor %q: %d", id, seq)
				}
			}
		case "send":
			if m.Cursors != nil || !wardline.ValidID(m.ConversationID) || !wardline.ValidID(m.ClientID) {
				t.Fatalf("accepted send %q", b)
			}
		default:
			t.Fatalf("accepted type %q", m.Type)
		}
	})
}
