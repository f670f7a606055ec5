package main

import (
	"encoding/json"
	"testing"
)

func TestParseFrame(t *testing.T) {
	body := benchBody("abc123", 42, 1700000000000000000, 1700000000000000500, 120)
	if len(body) != 120 {
		t.Fatalf("body is %d bytes, want 120", len(body))
	}
	created, _ := json.Marshal(map[string]any{"type": "message.created", "message": map[string]any{
		"id": "01a204ec-1a93-7eba-bc8f-aa6f6c8bd2cf", "conversation_id": "01a204ec-1a32-7ed4-8727-d58c1761d7c7",
		"seq": 1234, "sender_id": "x", "client_id": "y", "body": body}})
	// encoding/json sorts map keys, so this takes the fallback; the server's own order takes the scan.
	server := []byte(`{"type":"message.created","message":{"id":"01a204ec-1a93-7eba-bc8f-aa6f6c8bd2cf","conversation_id":"01a204ec-1a32-7ed4-8727-d58c1761d7c7","seq":1234,"sender_id":"x","client_id":"y","body":"` + body + `","priority":"routine"}}`)
	escaped := []byte(`{"type":"message.created","message":{"id":"i","conversation_id":"01a204ec-1a32-7ed4-8727-d58c1761d7c7","seq":1234,"body":"bench abc123 42 1700000000000000000 1700000000000000500 \"quoted\""}}`)
	for _, tc := range []struct {
		name string
		data []byte
		want frameInfo
	}{
		{"ServerOrder", server, frameInfo{typ: "message.created", conv: "01a204ec-1a32-7ed4-8727-d58c1761d7c7", seq: 1234,
			run: "abc123", msgno: 42, intended: 1700000000000000000, sent: 1700000000000000500}},
		{"OtherOrder", created, frameInfo{typ: "message.created", conv: "01a204ec-1a32-7ed4-8727-d58c1761d7c7", seq: 1234,
			run: "abc123", msgno: 42, intended: 1700000000000000000, sent: 1700000000000000500}},
		{"Escaped", escaped, frameInfo{typ: "message.created", conv: "01a204ec-1a32-7ed4-8727-d58c1761d7c7", seq: 1234,
			run: "abc123", msgno: 42, intended: 1700000000000000000, sent: 1700000000000000500}},
		{"NotBench", []byte(`{"type":"message.created","message":{"conversation_id":"01a204ec-1a32-7ed4-8727-d58c1761d7c7","seq":3,"body":"hello ward 7"}}`),
			frameInfo{typ: "message.created", conv: "01a204ec-1a32-7ed4-8727-d58c1761d7c7", seq: 3, msgno: -1}},
		{"Receipt", []byte(`{"type":"receipt","conversation_id":"c","seq":4}`), frameInfo{typ: "receipt", msgno: -1}},
		{"Receipts", []byte(`{"type":"receipts","conversation_id":"c","receipts":[{"conversation_id":"c","seq":4,"kind":"delivered"},{"conversation_id":"c","seq":5,"kind":"delivered"}]}`),
			frameInfo{typ: "receipts", msgno: -1, receipts: 2}},
		{"Hello", []byte(`{"type":"hello","user_id":"u"}`), frameInfo{typ: "hello", msgno: -1}},
		{"SendResult", []byte(`{"type":"send.result","client_id":"0195f3f0-0000-7000-8000-000000000002","created":true,"message":{"id":"i","body":"\"created\":false"},"warnings":[]}`),
			frameInfo{typ: "send.result", msgno: -1, clientID: "0195f3f0-0000-7000-8000-000000000002", status: 201}},
		{"SendResultAgain", []byte(`{"type":"send.result","client_id":"0195f3f0-0000-7000-8000-000000000002","created":false,"message":{"id":"i"},"warnings":[]}`),
			frameInfo{typ: "send.result", msgno: -1, clientID: "0195f3f0-0000-7000-8000-000000000002", status: 200}},
		{"SendError", []byte(`{"type":"send.error","client_id":"0195f3f0-0000-7000-8000-000000000002","code":"not_found","message":"no such conversation"}`),
			frameInfo{typ: "send.error", msgno: -1, clientID: "0195f3f0-0000-7000-8000-000000000002", code: "not_found"}},
		{"Garbage", []byte(`not json`), frameInfo{typ: "unparseable", msgno: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseFrame(tc.data); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseStatCPU(t *testing.T) {
	stat := []byte("1234 (wardline serve) S 1 1234 1234 0 -1 4194560 5000 0 0 0 250 75 0 0 20 0 12 0 100 0 0\n")
	got, err := parseStatCPU(stat)
	if err != nil || got != 325 {
		t.Errorf("got %d, %v; want 325", got, err)
	}
	if _, err := parseStatCPU([]byte("garbage")); err == nil {
		t.Error("garbage parsed")
	}
}
