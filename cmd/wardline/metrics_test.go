package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// /metrics answers anonymously in Prometheus' text format, counts what happened, and labels
// requests by route pattern: no id, path or anything a user typed reaches it.
func TestMetrics(t *testing.T) {
	ts := MustRunServer(t)
	alice, bob := ts.NewUser("member"), ts.NewUser("member")
	conv := alice.StartConversation("group", "Ward 7 handover", bob)
	s := bob.Connect()
	s.Resume(map[string]int64{})
	s.NextOf("resume.done")
	const body = "Bed 4 NEWS 7, please review"
	alice.Send(conv.ID, body)
	s.Messages(1)

	// The fan-out is observed once the frame's write has returned on the server, which can be
	// a moment after the client has read it: wait for it, briefly.
	fanout := regexp.MustCompile(`wardline_fanout_seconds_count (\d+)`)
	var out string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		res, err := http.Get(ts.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("GET /metrics without credentials: %d", res.StatusCode)
		}
		out = string(raw)
		if m := fanout.FindStringSubmatch(out); (m != nil && m[1] != "0") || time.Now().After(deadline) {
			break
		}
	}
	for _, want := range []string{
		"wardline_messages_accepted_total 1",
		`wardline_http_request_duration_seconds_count{method="POST",route="POST /api/v1/conversations/{id}/messages",status="201"} 1`,
		"wardline_open_connections 1",
		"wardline_fanout_seconds_count",
		"wardline_store_commit_batch_size_count",
		"wardline_store_wal_restarts_total 0",
		"go_memstats_heap_inuse_bytes",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if m := fanout.FindStringSubmatch(out); m == nil || m[1] == "0" {
		t.Errorf("fan-out latency recorded nothing for a delivered message: %v", m)
	}
	// Every write (the users, the conversation, the message) is timed, waiting and in its batch,
	// and every SQLite commit's COMMIT.
	for _, name := range []string{"wardline_store_write_queued_seconds", "wardline_store_write_batch_seconds", "wardline_store_commit_seconds"} {
		m := regexp.MustCompile(name + `_count (\d+)`).FindStringSubmatch(out)
		if m == nil || m[1] == "0" {
			t.Errorf("%s counted nothing: %v", name, m)
		}
	}
	for _, secret := range []string{conv.ID, alice.User.ID, bob.User.ID, alice.User.Email, "Bed 4", "handover"} {
		if strings.Contains(out, secret) {
			t.Errorf("metrics hold %q", secret)
		}
	}
}
