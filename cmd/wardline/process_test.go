package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"wardline"
	"wardline/app"
)

// buildBinary compiles wardline once per test run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "wardline-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "wardline")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// proc is a wardline serve child process.
type proc struct {
	cmd    *exec.Cmd
	url    string
	stdout *bytes.Buffer
	done   chan error
	wait   func() error // waits for the process to exit; safe to call many times
}

func startProcess(t testing.TB, dataDir string, extra ...string) *proc {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"serve", "--http", "--addr", "127.0.0.1:0", "--data-dir", dataDir}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "WARDLINE_LOG_LEVEL=warn")
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stdout: &bytes.Buffer{}, done: make(chan error, 1)}
	p.wait = sync.OnceValue(func() error { return <-p.done })
	t.Cleanup(func() { cmd.Process.Kill(); p.wait() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.stdout.WriteString(sc.Text() + "\n")
			if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				lines <- u
			}
		}
		p.done <- cmd.Wait()
	}()
	select {
	case p.url = <-lines:
	case <-time.After(20 * time.Second):
		t.Fatal("server did not say where it listens")
	}
	return p
}

// apiCall is a minimal client for child processes.
func apiCall(t *testing.T, url, method, path, token string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	if out != nil && res.StatusCode < 300 {
		json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode
}

// bootstrapProcessOrg makes an organisation with the CLI and returns a signed-in admin token.
func bootstrapProcessOrg(t *testing.T, dataDir string) (adminEmail, newPassword string) {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "admin", "bootstrap", "--data-dir", dataDir, "--org", "Crash Trust", "--email", "admin@crash.nhs.uk", "--name", "Crash Admin", "--json").Output()
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	var boot struct {
		InitialPassword string `json:"initial_password"`
	}
	if err := json.Unmarshal(out, &boot); err != nil || boot.InitialPassword == "" {
		t.Fatalf("bootstrap output %q: %v", out, err)
	}
	return "admin@crash.nhs.uk", boot.InitialPassword
}

func signInProcess(t *testing.T, url, email, initial string) string {
	t.Helper()
	var login struct{ Token string }
	if s := apiCall(t, url, "POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": initial}, &login); s != 200 {
		t.Fatalf("login: %d", s)
	}
	pw := "a new and long password"
	if s := apiCall(t, url, "POST", "/api/v1/me/password", login.Token, map[string]string{"current_password": initial, "new_password": pw}, nil); s != 204 {
		t.Fatalf("password: %d", s)
	}
	if s := apiCall(t, url, "POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": pw}, &login); s != 200 {
		t.Fatalf("login: %d", s)
	}
	// The organisation requires a second factor (the default): enrol an authenticator app, which
	// lifts the restriction on this same token.
	var e struct{ Secret string }
	if s := apiCall(t, url, "POST", "/api/v1/me/totp", login.Token, nil, &e); s != 200 {
		t.Fatalf("totp: %d", s)
	}
	secret, err := app.DecodeTOTPSecret(e.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if s := apiCall(t, url, "POST", "/api/v1/me/totp/confirm", login.Token, map[string]string{"code": app.TOTPCode(secret, time.Now())}, nil); s != 200 {
		t.Fatalf("totp confirm: %d", s)
	}
	return login.Token
}

// TestCrashLosesNoAcknowledgedMessage kills the server with SIGKILL while several goroutines send,
// restarts it, and checks every message answered 201 is there, with gapless seqs.
func TestCrashLosesNoAcknowledgedMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real server process")
	}
	dir := t.TempDir()
	email, initial := bootstrapProcessOrg(t, dir)
	p := startProcess(t, dir)
	token := signInProcess(t, p.url, email, initial)
	var conv wardline.Conversation
	if s := apiCall(t, p.url, "POST", "/api/v1/conversations", token, map[string]any{"kind": "group", "title": "Crash", "member_ids": []string{}}, &conv); s != 201 {
		t.Fatalf("conversation: %d", s)
	}

	var mu sync.Mutex
	acked := map[string]int64{} // message id → seq, for every 201
	var stop atomic.Bool
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				var m wardline.Message
				s := apiCall(t, p.url, "POST", "/api/v1/conversations/"+conv.ID+"/messages", token, map[string]any{"client_id": uuid.NewString(), "body": "under load"}, &m)
				if s == 201 {
					mu.Lock()
					acked[m.ID] = m.Seq
					mu.Unlock()
				} else if s == 0 {
					return // the server is gone
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait()
	stop.Store(true)
	wg.Wait()
	if len(acked) < 50 {
		t.Fatalf("only %d messages acknowledged before the crash; the test proves little", len(acked))
	}

	p2 := startProcess(t, dir)
	var c wardline.Conversation
	if s := apiCall(t, p2.url, "GET", "/api/v1/conversations/"+conv.ID, token, nil, &c); s != 200 {
		t.Fatalf("after restart: %d", s)
	}
	stored := map[string]int64{}
	for after := int64(0); ; {
		var page struct {
			Items   []*wardline.Message `json:"items"`
			HasMore bool                `json:"has_more"`
		}
		if s := apiCall(t, p2.url, "GET", fmt.Sprintf("/api/v1/conversations/%s/messages?after_seq=%d&limit=200", conv.ID, after), token, nil, &page); s != 200 {
			t.Fatalf("history: %d", s)
		}
		for _, m := range page.Items {
			if m.Seq != after+1 {
				t.Fatalf("gap: seq %d after %d", m.Seq, after)
			}
			after = m.Seq
			stored[m.ID] = m.Seq
		}
		if !page.HasMore {
			break
		}
	}
	if int64(len(stored)) != c.LastSeq {
		t.Fatalf("stored %d messages, last_seq %d", len(stored), c.LastSeq)
	}
	for id, seq := range acked {
		if got, ok := stored[id]; !ok || got != seq {
			t.Fatalf("acknowledged message %s (seq %d) lost after the crash", id, seq)
		}
	}
	t.Logf("%d acknowledged before SIGKILL, %d stored after restart", len(acked), len(stored))
}

func TestGracefulShutdownOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a real server process")
	}
	dir := t.TempDir()
	email, initial := bootstrapProcessOrg(t, dir)
	p := startProcess(t, dir)
	token := signInProcess(t, p.url, email, initial)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- p.wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("did not stop on SIGTERM")
	}
	if !strings.Contains(p.stdout.String(), "shutting down") {
		t.Fatalf("stdout: %s", p.stdout)
	}
	// The data is intact and the session still valid after a clean restart.
	p2 := startProcess(t, dir)
	if s := apiCall(t, p2.url, "GET", "/api/v1/me", token, nil, nil); s != 200 {
		t.Fatalf("after restart: %d", s)
	}
}
