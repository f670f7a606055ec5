package main

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"wardline"
	"wardline/keyring"
)

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestNoPlaintextAtRest writes message text, edits and conversation titles holding a unique
// marker, stops the server, and scans every byte of every file in the data directory and the
// logs (at debug level): the marker appears nowhere, though members read it through the API.
func TestNoPlaintextAtRest(t *testing.T) {
	logs := &syncBuffer{}
	ts := MustRunServer(t, func(m *Main) {
		m.Log = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	marker := "MARKER" + strings.ReplaceAll(uuid.NewString(), "-", "")
	a, b := ts.NewUser("member"), ts.NewUser("member")
	group := a.StartConversation("group", "Bay 4 "+marker+" title", b)
	channel := a.StartConversation("channel", marker+" channel", b)
	s := b.Connect()
	s.Resume(nil)
	m1 := a.Send(group.ID, "NEWS2 rising "+marker+" please review")
	a.Send(channel.ID, marker)
	ts.mustStatus(a.Do("PATCH", "/api/v1/conversations/"+group.ID+"/messages/"+m1.ID, map[string]string{"body": "edited " + marker}, nil), 200)
	doomed := a.Send(group.ID, "to be deleted "+marker)
	ts.mustStatus(a.Do("DELETE", "/api/v1/conversations/"+group.ID+"/messages/"+doomed.ID, nil, nil), 204)
	// Failed requests with the marker in them are not logged either.
	a.Do("POST", "/api/v1/conversations/"+group.ID+"/messages", `{"body":"`+marker+`","client_id":"bad"}`, nil)
	(&Client{ts: ts}).Do("POST", "/api/v1/auth/login", map[string]string{"email": marker + "@x.uk", "password": marker}, nil)

	// Members read the text through the API.
	if hist := b.History(group.ID); !strings.Contains(hist[0].Body, marker) {
		t.Fatalf("member cannot read the text: %+v", hist[0])
	}
	var conv wardline.Conversation
	ts.mustStatus(b.Do("GET", "/api/v1/conversations/"+group.ID, nil, &conv), 200)
	if !strings.Contains(conv.Title, marker) {
		t.Fatalf("title: %q", conv.Title)
	}
	s.Messages(2)

	ts.HTTP.CloseIdleConnections()
	if err := ts.Main.Close(); err != nil {
		t.Fatal(err)
	}
	var scanned int
	err := filepath.WalkDir(ts.Config.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		scanned += len(raw)
		if bytes.Contains(raw, []byte(marker)) {
			t.Errorf("%s holds the marker in clear", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned == 0 {
		t.Fatal("scanned nothing")
	}
	if out := logs.String(); strings.Contains(out, marker) {
		t.Errorf("the logs hold the marker: %s", out)
	} else if !strings.Contains(out, `"level"`) {
		t.Fatal("no logs were captured; the check proves nothing")
	}
	t.Logf("scanned %d bytes of data and %d bytes of logs", scanned, len(logs.String()))
}

// TestMasterKeyMustMatchTheData refuses to start, loudly, when the master key is missing or is
// another key, and never writes new keys over existing data.
func TestMasterKeyMustMatchTheData(t *testing.T) {
	ts := MustRunServer(t)
	a := ts.NewUser("member")
	conv := a.StartConversation("group", "Keys", a)
	a.Send(conv.ID, "sealed")
	ts.HTTP.CloseIdleConnections()
	ts.Main.Close()
	dir := ts.Config.DataDir
	keyPath := filepath.Join(dir, "master.key")
	original, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	dbBefore, _ := os.ReadFile(filepath.Join(dir, "wardline.db"))

	start := func() error {
		m := NewMain(io.Discard, io.Discard)
		m.Config = Config{DataDir: dir, Addr: "127.0.0.1:0", HTTP: true}
		err := m.Run(context.Background())
		m.Close()
		return err
	}
	// Another key.
	os.Remove(keyPath)
	if _, err := keyring.CreateMasterKeyFile(keyPath); err != nil {
		t.Fatal(err)
	}
	if err := start(); err == nil || !strings.Contains(err.Error(), "master key") {
		t.Fatalf("start with another master key: got %v", err)
	}
	// No key at all.
	os.Remove(keyPath)
	if err := start(); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("start without the master key: got %v", err)
	}
	if _, err := os.Stat(keyPath); err == nil {
		t.Fatal("a new master key was written over existing data")
	}
	dbAfter, _ := os.ReadFile(filepath.Join(dir, "wardline.db"))
	if !bytes.Equal(dbBefore, dbAfter) {
		t.Fatal("failed start-ups changed the database")
	}
	// The right key still works.
	if err := os.WriteFile(keyPath, original, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := start(); err != nil {
		t.Fatalf("start with the right key: %v", err)
	}
}

// TestKeyRotationKeepsEverythingReadable rotates the master key and the organisation keys with
// the command line, retires the old terms, restarts, and reads the whole history.
func TestKeyRotationKeepsEverythingReadable(t *testing.T) {
	ts := MustRunServer(t)
	a, b := ts.NewUser("member"), ts.NewUser("member")
	conv := a.StartConversation("group", "Before rotation", b)
	for _, body := range []string{"one", "two", "three"} {
		a.Send(conv.ID, body)
	}
	dir := ts.Config.DataDir
	ctx := context.Background()
	var out bytes.Buffer
	// Rotation runs beside the live server: no downtime.
	if err := run(ctx, []string{"keys", "rotate", "--master", "--data-dir", dir}, &out, io.Discard); err != nil {
		t.Fatalf("keys rotate: %v\n%s", err, out.String())
	}
	a.Send(conv.ID, "during")
	if hist := b.History(conv.ID); len(hist) != 4 {
		t.Fatalf("history during rotation: %d", len(hist))
	}
	ts.HTTP.CloseIdleConnections()
	ts.Main.Close()
	if err := run(ctx, []string{"keys", "retire", "--data-dir", dir, "--master-term", "1"}, &out, io.Discard); err != nil {
		t.Fatalf("keys retire: %v\n%s", err, out.String())
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "master.key"))
	if strings.Contains(string(raw), "v1 1 ") {
		t.Fatalf("master term 1 is still in the key file")
	}

	m := NewMain(io.Discard, io.Discard)
	m.Config = Config{DataDir: dir, Addr: "127.0.0.1:0", HTTP: true}
	if err := m.Run(ctx); err != nil {
		t.Fatalf("restart after rotation: %v", err)
	}
	defer m.Close()
	ts.Main = m
	b2 := ts.Login(b.User.Email, b.User.PasswordHash)
	hist := b2.History(conv.ID)
	want := []string{"one", "two", "three", "during"}
	for i, w := range want {
		if hist[i].Body != w {
			t.Fatalf("message %d after rotation: got %q, want %q", i+1, hist[i].Body, w)
		}
	}
	var c wardline.Conversation
	ts.mustStatus(b2.Do("GET", "/api/v1/conversations/"+conv.ID, nil, &c), 200)
	if c.Title != "Before rotation" {
		t.Fatalf("title after rotation: %q", c.Title)
	}
}

// TestShreddedConversationIsGoneAndSaysSo destroys one conversation's key: its content is
// unreadable (and answers so), another conversation is unaffected, also after a restart.
func TestShreddedConversationIsGoneAndSaysSo(t *testing.T) {
	ts := MustRunServer(t)
	a, b := ts.NewUser("member"), ts.NewUser("member")
	doomed := a.StartConversation("group", "Patient X handover", b)
	kept := a.StartConversation("group", "Rota", b)
	a.Send(doomed.ID, "sensitive detail")
	a.Send(kept.ID, "still here")
	shred := "/api/v1/admin/conversations/" + doomed.ID + "/shred"
	ts.mustStatus(a.Do("POST", shred, map[string]string{"justification": "erasure request ER-1234"}, nil), 403)
	ts.mustStatus(ts.Admin.Do("POST", shred, map[string]string{"justification": "short"}, nil), 400)
	ts.mustStatus(ts.Admin.Do("POST", "/api/v1/admin/conversations/"+uuid.NewString()+"/shred", map[string]string{"justification": "erasure request ER-1234"}, nil), 404)
	ts.mustStatus(ts.Admin.Do("POST", shred, map[string]string{"justification": "erasure request ER-1234"}, nil), 204)

	check := func(c *Client) {
		t.Helper()
		hist := c.History(doomed.ID)
		if len(hist) != 1 || !hist[0].Shredded || hist[0].Body != "" {
			t.Fatalf("shredded history: %+v", hist)
		}
		var conv wardline.Conversation
		ts.mustStatus(c.Do("GET", "/api/v1/conversations/"+doomed.ID, nil, &conv), 200)
		if !conv.Shredded || conv.Title != "" {
			t.Fatalf("shredded conversation: %+v", conv)
		}
		status, raw := c.DoRaw("POST", "/api/v1/conversations/"+doomed.ID+"/messages", map[string]any{"client_id": uuid.NewString(), "body": "more"}, nil)
		if status != 409 || !strings.Contains(string(raw), "destroyed") {
			t.Fatalf("send to shredded: %d %s", status, raw)
		}
		if hist := c.History(kept.ID); hist[0].Body != "still here" {
			t.Fatalf("other conversation: %+v", hist)
		}
	}
	check(b)
	// After a restart, from the records alone.
	ts.HTTP.CloseIdleConnections()
	ts.Main.Close()
	m := NewMain(io.Discard, io.Discard)
	m.Config = Config{DataDir: ts.Config.DataDir, Addr: "127.0.0.1:0", HTTP: true}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ts.Main = m
	check(ts.Login(b.User.Email, b.User.PasswordHash))
}
