package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"wardline"
	"wardline/nats/natstest"
	"wardline/postgres/pgtest"
)

// The cluster tests run real `wardline serve` processes on one PostgreSQL schema and one NATS,
// when WARDLINE_TEST_POSTGRES and WARDLINE_TEST_NATS name the servers.

// cluster is nodes sharing a database, a bus and a master key.
type cluster struct {
	t       *testing.T
	dir     string // data directory: the master key file every node reads
	dbURL   string
	natsURL string
	subject string // private to this test: the shared NATS carries other engineers' tests too
	nodes   []*proc
	admin   string // admin token
}

func startCluster(t *testing.T, natsURL string, n int) *cluster {
	t.Helper()
	c := &cluster{t: t, dir: t.TempDir(), dbURL: pgtest.SchemaURL(t), natsURL: natsURL, subject: "wardline.test." + uuid.NewString()}
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "admin", "bootstrap", "--data-dir", c.dir, "--database-url", c.dbURL,
		"--org", "Cluster Trust", "--email", "admin@cluster.nhs.uk", "--name", "Cluster Admin", "--json").Output()
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	var boot struct {
		InitialPassword string `json:"initial_password"`
	}
	if err := json.Unmarshal(out, &boot); err != nil {
		t.Fatalf("bootstrap output %q: %v", out, err)
	}
	for range n {
		c.nodes = append(c.nodes, c.startNode())
	}
	c.admin = signInProcess(t, c.nodes[0].url, "admin@cluster.nhs.uk", boot.InitialPassword)
	return c
}

func (c *cluster) startNode() *proc {
	return startProcess(c.t, c.dir, "--database-url", c.dbURL, "--nats-url", c.natsURL, "--nats-subject", c.subject)
}

// newUser creates a member of staff through the admin API and signs them in on node i.
func (c *cluster) newUser(i int) (id, token string) {
	c.t.Helper()
	id, _, token = c.newStaff(i, "member")
	return id, token
}

// newStaff creates someone with an organisation role and signs them in on node i.
func (c *cluster) newStaff(i int, role string) (id, email, token string) {
	c.t.Helper()
	var created struct {
		User            wardline.User `json:"user"`
		InitialPassword string        `json:"initial_password"`
	}
	email = "u" + uuid.NewString()[:8] + "@cluster.nhs.uk"
	if s := apiCall(c.t, c.nodes[0].url, "POST", "/api/v1/admin/users", c.admin,
		map[string]any{"email": email, "display_name": "Staff " + email[:9], "org_role": role}, &created); s != 201 {
		c.t.Fatalf("create user: %d", s)
	}
	return created.User.ID, email, signInProcess(c.t, c.nodes[i].url, email, created.InitialPassword)
}

func (c *cluster) conversation(token string, members ...string) string {
	c.t.Helper()
	var conv wardline.Conversation
	if s := apiCall(c.t, c.nodes[0].url, "POST", "/api/v1/conversations", token, map[string]any{"kind": "group", "title": "Ward 7", "member_ids": members}, &conv); s != 201 {
		c.t.Fatalf("conversation: %d", s)
	}
	return conv.ID
}

func send(t *testing.T, url, token, convID, body string) (*wardline.Message, int) {
	var m wardline.Message
	s := apiCall(t, url, "POST", "/api/v1/conversations/"+convID+"/messages", token, map[string]any{"client_id": uuid.NewString(), "body": body}, &m)
	return &m, s
}

// history reads a conversation's whole history and fails on a gap.
func history(t *testing.T, url, token, convID string) []*wardline.Message {
	t.Helper()
	var out []*wardline.Message
	for after := int64(0); ; {
		var page struct {
			Items   []*wardline.Message `json:"items"`
			HasMore bool                `json:"has_more"`
		}
		if s := apiCall(t, url, "GET", fmt.Sprintf("/api/v1/conversations/%s/messages?after_seq=%d&limit=200", convID, after), token, nil, &page); s != 200 {
			t.Fatalf("history: %d", s)
		}
		for _, m := range page.Items {
			if m.Seq != after+1 {
				t.Fatalf("history: seq %d after %d: a gap", m.Seq, after)
			}
			after = m.Seq
			out = append(out, m)
		}
		if !page.HasMore {
			return out
		}
	}
}

// listener is one client's event stream on some node, recording message.created by seq.
type listener struct {
	t      *testing.T
	conn   *websocket.Conn
	cancel context.CancelFunc
	mu     sync.Mutex
	seen   map[int64]int // seq → times received on this stream
	from   int64         // the resume cursor it opened with
	events []string      // types, in order
	closed chan struct{}
}

func listen(t *testing.T, url, token string, cursors map[string]int64) *listener {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/api/v1/events",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		cancel()
		t.Fatalf("dial events on %s: %v", url, err)
	}
	conn.SetReadLimit(1 << 22)
	l := &listener{t: t, conn: conn, cancel: cancel, seen: map[int64]int{}, closed: make(chan struct{})}
	for _, s := range cursors {
		l.from = s // the tests resume one conversation
	}
	t.Cleanup(func() { cancel(); conn.CloseNow() })
	b, _ := json.Marshal(map[string]any{"type": "resume", "cursors": cursors})
	if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(l.closed)
		for {
			_, data, err := conn.Read(ctx)
			if err != nil {
				return
			}
			var ev struct {
				Type    string            `json:"type"`
				Message *wardline.Message `json:"message"`
			}
			if json.Unmarshal(data, &ev) != nil {
				continue
			}
			l.mu.Lock()
			l.events = append(l.events, ev.Type)
			if ev.Type == wardline.EventMessageCreated {
				l.seen[ev.Message.Seq]++
			}
			l.mu.Unlock()
		}
	}()
	return l
}

// waitFor waits until every seq in want arrived; it reports what is missing.
func (l *listener) waitFor(want []int64, within time.Duration) []int64 {
	deadline := time.Now().Add(within)
	for {
		l.mu.Lock()
		var missing []int64
		for _, s := range want {
			if l.seen[s] == 0 {
				missing = append(missing, s)
			}
		}
		l.mu.Unlock()
		if len(missing) == 0 || time.Now().After(deadline) {
			return missing
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// contiguous is the highest seq up to which this stream saw everything: the resume cursor.
func (l *listener) contiguous() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.from
	for l.seen[s+1] > 0 {
		s++
	}
	return s
}

func (l *listener) duplicates() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var d []int64
	for s, n := range l.seen {
		if n > 1 {
			d = append(d, s)
		}
	}
	return d
}

func (l *listener) sawType(typ string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Contains(l.events, typ)
}

// load sends from token on each url until stop, recording every acknowledged seq.
type load struct {
	mu    sync.Mutex
	acked []int64
	stop  atomic.Bool
	wg    sync.WaitGroup
}

func (ld *load) run(t *testing.T, urls []string, token, convID string, perURL int) {
	for _, url := range urls {
		for range perURL {
			ld.wg.Go(func() {
				for !ld.stop.Load() {
					m, s := send(t, url, token, convID, "obs due bed 4")
					if s == 201 {
						ld.mu.Lock()
						ld.acked = append(ld.acked, m.Seq)
						ld.mu.Unlock()
					} else if s == 0 {
						return // this node is gone
					}
				}
			})
		}
	}
}

func (ld *load) finish() []int64 {
	ld.stop.Store(true)
	ld.wg.Wait()
	ld.mu.Lock()
	defer ld.mu.Unlock()
	slices.Sort(ld.acked)
	return slices.Clone(ld.acked)
}

func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three server processes")
	}
	pgtest.ServerURL(t)
	c := startCluster(t, natstest.ServerURL(t), 3)
	aliceID, alice := c.newUser(0)
	bobID, bob := c.newUser(1)
	_, carol := c.newUser(2)
	_ = aliceID
	conv := c.conversation(alice, bobID)
	// Carol joins through the admin-free path: Alice adds her.
	var carolMe wardline.User
	apiCall(t, c.nodes[2].url, "GET", "/api/v1/me", carol, nil, &carolMe)
	if s := apiCall(t, c.nodes[0].url, "POST", "/api/v1/conversations/"+conv+"/members", alice, map[string]any{"user_id": carolMe.ID}, nil); s != 204 && s != 200 && s != 201 {
		t.Fatalf("add Carol: %d", s)
	}

	t.Run("LiveAcrossNodes", func(t *testing.T) {
		la := listen(t, c.nodes[0].url, alice, map[string]int64{})
		lb := listen(t, c.nodes[1].url, bob, map[string]int64{})
		time.Sleep(300 * time.Millisecond) // past the resume
		m, s := send(t, c.nodes[2].url, carol, conv, "sent on node 3")
		if s != 201 {
			t.Fatalf("send: %d", s)
		}
		for name, l := range map[string]*listener{"Alice on node 1": la, "Bob on node 2": lb} {
			if missing := l.waitFor([]int64{m.Seq}, 5*time.Second); len(missing) > 0 {
				t.Errorf("%s did not get a message sent on node 3 live", name)
			}
		}
	})

	t.Run("ConcurrentSendersGapless", func(t *testing.T) {
		var wg sync.WaitGroup
		var acked atomic.Int64
		tokens := []string{alice, bob, carol}
		for i, node := range c.nodes {
			for range 4 {
				wg.Go(func() {
					for range 25 {
						if _, s := send(t, node.url, tokens[i], conv, "concurrent"); s == 201 {
							acked.Add(1)
						} else {
							t.Errorf("send on node %d: %d", i+1, s)
						}
					}
				})
			}
		}
		wg.Wait()
		h := history(t, c.nodes[1].url, bob, conv) // fails on any gap
		if int64(len(h)) < acked.Load() {
			t.Errorf("history holds %d messages, %d were acknowledged", len(h), acked.Load())
		}
	})

	// A send checks membership, takes its seq and stores itself in one statement on PostgreSQL:
	// a retry of the same client_id on another node answers the stored message (its seq used
	// once), and someone who is not a member stores nothing.
	t.Run("RetryOnAnotherNodeAndNonMember", func(t *testing.T) {
		clientID := uuid.NewString()
		body := map[string]any{"client_id": clientID, "body": "bed 4 obs due"}
		var first, again wardline.Message
		if s := apiCall(t, c.nodes[0].url, "POST", "/api/v1/conversations/"+conv+"/messages", alice, body, &first); s != 201 {
			t.Fatalf("send: %d", s)
		}
		if s := apiCall(t, c.nodes[1].url, "POST", "/api/v1/conversations/"+conv+"/messages", alice, body, &again); s != 200 {
			t.Fatalf("retry on node 2: %d, want 200", s)
		}
		if again.ID != first.ID || again.Seq != first.Seq {
			t.Errorf("retry answered %s seq %d, want the stored %s seq %d", again.ID, again.Seq, first.ID, first.Seq)
		}
		_, dave := c.newUser(2)
		if _, s := send(t, c.nodes[2].url, dave, conv, "not a member"); s != 404 {
			t.Errorf("send by a non-member: %d, want 404", s)
		}
		next, s := send(t, c.nodes[2].url, carol, conv, "after the retry")
		if s != 201 || next.Seq != first.Seq+1 {
			t.Errorf("next send: %d seq %d, want 201 seq %d (no seq taken by the retry or the refusal)", s, next.Seq, first.Seq+1)
		}
	})

	t.Run("SessionRevokedOnEveryNode", func(t *testing.T) {
		_, dave := c.newUser(0)
		l := listen(t, c.nodes[1].url, dave, map[string]int64{})
		time.Sleep(300 * time.Millisecond)
		if s := apiCall(t, c.nodes[2].url, "POST", "/api/v1/auth/logout", dave, nil, nil); s != 204 {
			t.Fatalf("logout: %d", s)
		}
		select {
		case <-l.closed:
		case <-time.After(5 * time.Second):
			t.Fatal("the stream on node 2 stayed open after logout on node 3")
		}
		if !l.sawType(wardline.EventSessionRevoked) {
			t.Errorf("the stream on node 2 closed without session.revoked")
		}
	})

	// Events travel on subjects per conversation: a node that holds no member of a conversation
	// receives none of its messages or receipts; a node that does, does.
	t.Run("OnlyNodesWithMembersReceive", func(t *testing.T) {
		_, dave := c.newUser(0)
		erinID, erin := c.newUser(0)
		ward := c.conversation(dave, erinID)
		ld, le := listen(t, c.nodes[0].url, dave, map[string]int64{}), listen(t, c.nodes[0].url, erin, map[string]int64{})
		time.Sleep(500 * time.Millisecond) // streams open, subscriptions in force, conversation.updated received
		before := []float64{busReceived(t, c.nodes[0].url), busReceived(t, c.nodes[2].url)}
		var seqs []int64
		for range 20 {
			m, s := send(t, c.nodes[1].url, erin, ward, "seen only where Dave and Erin are")
			if s != 201 {
				t.Fatalf("send: %d", s)
			}
			seqs = append(seqs, m.Seq)
		}
		for name, l := range map[string]*listener{"Dave": ld, "Erin": le} {
			if missing := l.waitFor(seqs, 5*time.Second); len(missing) > 0 {
				t.Errorf("%s on node 1 missed %v", name, missing)
			}
		}
		time.Sleep(1500 * time.Millisecond) // delivered receipts flush
		if got := busReceived(t, c.nodes[0].url) - before[0]; got < 20 {
			t.Errorf("node 1 (Dave and Erin) received %v events from the bus, want at least 20", got)
		}
		if got := busReceived(t, c.nodes[2].url) - before[1]; got != 0 {
			t.Errorf("node 3 (no member) received %v events of a conversation it has no member of", got)
		}
		if n := metricValue(t, c.nodes[0].url, "wardline_bus_subscriptions"); n < 3 {
			t.Errorf("node 1 subscribes to %v subjects, want at least Dave, Erin and their conversation", n)
		}

		// Frank's stream is on node 3, in no conversation yet. Dave adds him on node 1, Erin
		// sends at once on node 2: node 3 subscribes on the conversation.updated, and what was
		// sent before that took effect is caught up from the store, well within the 15 s sweep.
		frankID, frank := c.newUser(2)
		lf := listen(t, c.nodes[2].url, frank, map[string]int64{})
		time.Sleep(300 * time.Millisecond)
		if s := apiCall(t, c.nodes[0].url, "POST", "/api/v1/conversations/"+ward+"/members", dave, map[string]any{"user_id": frankID}, nil); s != 204 && s != 200 && s != 201 {
			t.Fatalf("add Frank: %d", s)
		}
		m, s := send(t, c.nodes[1].url, erin, ward, "welcome, Frank")
		if s != 201 {
			t.Fatalf("send: %d", s)
		}
		if missing := lf.waitFor([]int64{m.Seq}, 3*time.Second); len(missing) > 0 {
			t.Errorf("Frank, just added, did not get the next message on node 3 within 3 s")
		}
	})

	// An attacker spreads failed sign-ins for one account over the three nodes, one each: no node
	// alone sees the organisation's threshold (3), the cluster does, and the IG officer gets one
	// alert, not one per node.
	t.Run("AlertsCountAcrossNodes", func(t *testing.T) {
		_, _, ig := c.newStaff(0, "auditor")
		_, victim, _ := c.newStaff(0, "member")
		if s := apiCall(t, c.nodes[0].url, "PUT", "/api/v1/audit/alert-policy", ig,
			map[string]any{"failed_sign_ins_per_account": 3, "failed_sign_ins_per_address": 1000}, nil); s != 200 {
			t.Fatalf("set alert policy: %d", s)
		}
		for i, node := range c.nodes {
			if s := apiCall(t, node.url, "POST", "/api/v1/auth/login", "", map[string]string{"email": victim, "password": "not the password"}, nil); s != 401 {
				t.Fatalf("failed sign-in on node %d: %d", i+1, s)
			}
		}
		count := func() int {
			var list struct{ Items []wardline.Alert }
			if s := apiCall(t, c.nodes[1].url, "GET", "/api/v1/audit/alerts?kind="+wardline.AlertFailedSignIns, ig, nil, &list); s != 200 {
				t.Fatalf("list alerts: %d", s)
			}
			return len(list.Items)
		}
		deadline := time.Now().Add(10 * time.Second)
		for count() == 0 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(2500 * time.Millisecond) // every node has read the log by now (1 s apart)
		if n := count(); n != 1 {
			t.Errorf("%d failed-sign-in alerts for three failures on three nodes, want 1", n)
		}
	})

	// Bob's stream is on node 3; Alice and Carol send on nodes 1 and 3. Node 3 is killed with
	// SIGKILL; Bob reconnects to node 2 and resumes from what he saw. Every acknowledged message
	// reaches him, none twice on one stream, and none is missing from history.
	t.Run("KillNodeUnderLoad", func(t *testing.T) {
		start := len(history(t, c.nodes[0].url, alice, conv))
		first := listen(t, c.nodes[2].url, bob, map[string]int64{conv: int64(start)})
		time.Sleep(300 * time.Millisecond)
		ld := &load{}
		ld.run(t, []string{c.nodes[0].url, c.nodes[2].url}, alice, conv, 3)
		time.Sleep(800 * time.Millisecond)
		if err := c.nodes[2].cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		c.nodes[2].wait()
		<-first.closed
		cursor := first.contiguous()
		second := listen(t, c.nodes[1].url, bob, map[string]int64{conv: cursor})
		time.Sleep(500 * time.Millisecond)
		acked := ld.finish()
		if len(acked) < 20 {
			t.Fatalf("only %d messages acknowledged; the test proves little", len(acked))
		}
		var missing []int64
		for _, s := range acked {
			if first.seen[s] == 0 && second.waitFor([]int64{s}, 5*time.Second) != nil {
				missing = append(missing, s)
			}
		}
		if len(missing) > 0 {
			t.Errorf("acknowledged seqs never delivered to Bob: %v", missing)
		}
		for name, l := range map[string]*listener{"before the kill": first, "after": second} {
			if d := l.duplicates(); len(d) > 0 {
				t.Errorf("stream %s received seqs twice: %v", name, d)
			}
		}
		second.mu.Lock()
		for s := range second.seen {
			if s <= cursor {
				t.Errorf("resume from %d replayed seq %d again", cursor, s)
			}
		}
		second.mu.Unlock()
		h := history(t, c.nodes[1].url, bob, conv)
		stored := map[int64]bool{}
		for _, m := range h {
			stored[m.Seq] = true
		}
		for _, s := range acked {
			if !stored[s] {
				t.Errorf("acknowledged seq %d is not in history", s)
			}
		}
		t.Logf("%d acknowledged under load; node 3 killed; Bob resumed on node 2 from seq %d", len(acked), cursor)
	})
}

// NATS restarted under load: nodes reconnect, catch up from the store what the bus dropped, and
// every acknowledged message reaches a client whose stream stayed open the whole time. A private
// NATS server: the shared one is never restarted.
func TestClusterNATSRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs server processes")
	}
	pgtest.ServerURL(t)
	natstest.ServerURL(t) // the cluster tests run when both services are configured
	srv := natstest.Start(t)
	c := startCluster(t, srv.URL(), 2)
	_, alice := c.newUser(0)
	bobID, bob := c.newUser(1)
	conv := c.conversation(alice, bobID)
	l := listen(t, c.nodes[1].url, bob, map[string]int64{})
	time.Sleep(300 * time.Millisecond)

	ld := &load{}
	ld.run(t, []string{c.nodes[0].url}, alice, conv, 4)
	time.Sleep(500 * time.Millisecond)
	srv.Stop()
	// /readyz reports the bus: 503 while NATS is away, 200 once the node reconnected.
	if !waitReady(c.nodes[1].url, 503, 5*time.Second, 50*time.Millisecond) {
		t.Errorf("/readyz did not answer 503 while NATS was down")
	}
	time.Sleep(300 * time.Millisecond)
	srv.Restart(0)
	if !waitReady(c.nodes[1].url, 200, 10*time.Second, 50*time.Millisecond) {
		t.Errorf("/readyz did not answer 200 after NATS came back")
	}
	time.Sleep(1500 * time.Millisecond)
	acked := ld.finish()
	if len(acked) < 20 {
		t.Fatalf("only %d messages acknowledged; the test proves little", len(acked))
	}
	if missing := l.waitFor(acked, 20*time.Second); len(missing) > 0 {
		t.Errorf("Bob's open stream never got %d acknowledged messages: %v", len(missing), missing)
	}
	if d := l.duplicates(); len(d) > 0 {
		t.Errorf("Bob's stream received seqs twice: %v", d)
	}
	h := history(t, c.nodes[1].url, bob, conv)
	if len(h) < len(acked) {
		t.Errorf("history holds %d messages, %d were acknowledged", len(h), len(acked))
	}
	t.Logf("%d acknowledged while NATS restarted", len(acked))
}

// metricValue reads one unlabelled sample from a node's /metrics.
func metricValue(t *testing.T, url, name string) float64 {
	t.Helper()
	res, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("%s not in /metrics", name)
	return 0
}

// busReceived is how many events a node has received from other nodes over the bus.
func busReceived(t *testing.T, url string) float64 {
	return metricValue(t, url, "wardline_bus_transit_seconds_count")
}

// waitReady polls /readyz every so often until it answers status or the time is up.
func waitReady(url string, status int, within, every time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if res, err := http.Get(url + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == status {
				return true
			}
		}
		time.Sleep(every)
	}
	return false
}
