package app_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"wardline"
	"wardline/app"
	"wardline/inmem"
	"wardline/keyring"
	"wardline/mock"
	"wardline/sqlite"
)

// T0 is a Monday morning, inside any sensible working hours.
var T0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// env is one node of Wardline without HTTP: real SQLite in a temporary directory, the real
// keyring, the in-process bus (whose events it records) and a fake clock. Its scheduler runs only
// when the test calls Tick.
type env struct {
	t     *testing.T
	dir   string
	clock *mock.Clock
	store *sqlite.Store
	keys  *keyring.Keyring
	bus   *inmem.Bus
	app   *app.App
	org   *wardline.Org
	admin *wardline.User

	mu     sync.Mutex
	events []*wardline.Event
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), clock: mock.NewClock(T0)}
	if _, err := keyring.CreateMasterKeyFile(filepath.Join(e.dir, "master.key")); err != nil {
		t.Fatal(err)
	}
	e.open()
	t.Cleanup(e.close)
	org, admin, _, err := e.app.Users.CreateOrg(context.Background(), "Test Trust", wardline.NewUser{Email: "admin@test.nhs.uk", DisplayName: "Ada Admin"}, false)
	if err != nil {
		t.Fatal(err)
	}
	e.org, e.admin = org, admin
	return e
}

// open starts the node on the data directory (again, after close: a restart).
func (e *env) open() {
	e.t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(e.dir, "wardline.db"))
	if err != nil {
		e.t.Fatal(err)
	}
	master, err := keyring.LoadMasterKeys(filepath.Join(e.dir, "master.key"))
	if err != nil {
		e.t.Fatal(err)
	}
	e.store, e.bus = store, inmem.NewBus()
	e.keys = keyring.New(master, store, e.clock)
	e.bus.Subscribe(func(ev *wardline.Event) {
		e.mu.Lock()
		e.events = append(e.events, ev)
		e.mu.Unlock()
	})
	cfg := app.Config{PasswordParams: app.PasswordParams{Memory: 64, Time: 1, Threads: 1}, SchedulerInterval: -1, DeliveryFlushInterval: time.Hour}
	e.app = app.New(store, e.bus, e.keys, e.clock, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg)
}

func (e *env) close() {
	if e.app == nil {
		return
	}
	e.app.Close()
	_ = e.bus.Close()
	_ = e.store.Close()
	e.app = nil
}

// restart stops the node and starts it again on the same data.
func (e *env) restart() {
	e.close()
	e.open()
}

// as is a context signed in as u.
func as(u *wardline.User) context.Context {
	return wardline.NewContextWithActor(context.Background(), &wardline.Actor{User: u, Session: &wardline.Session{ID: "test-" + u.ID[:8]}, Addr: "test"})
}

// user adds a member of staff to the organisation.
func (e *env) user(name string) *wardline.User {
	e.t.Helper()
	u, _, err := e.app.Users.CreateUser(as(e.admin), wardline.NewUser{Email: uuid.NewString()[:8] + "@test.nhs.uk", DisplayName: name, JobTitle: "Doctor"})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) group(owner *wardline.User, others ...*wardline.User) *wardline.Conversation {
	e.t.Helper()
	return e.conversation(owner, wardline.NewConversation{Kind: wardline.KindGroup, Title: "Ward round"}, others...)
}

func (e *env) conversation(owner *wardline.User, n wardline.NewConversation, others ...*wardline.User) *wardline.Conversation {
	e.t.Helper()
	for _, o := range others {
		n.MemberIDs = append(n.MemberIDs, o.ID)
	}
	c, _, err := e.app.Conversations.CreateConversation(as(owner), n)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) send(from *wardline.User, convID, priority, body string) *wardline.SendResult {
	e.t.Helper()
	res, err := e.app.Messages.Send(as(from), convID, wardline.NewMessage{ClientID: uuid.NewString(), Body: body, Priority: priority})
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func (e *env) role(name string, fallback *wardline.Role, chain ...*wardline.Role) *wardline.Role {
	e.t.Helper()
	n := wardline.NewRole{Name: name}
	if fallback != nil {
		n.FallbackRoleID = &fallback.ID
	}
	for _, r := range chain {
		n.EscalationRoleIDs = append(n.EscalationRoleIDs, r.ID)
	}
	r, err := e.app.Roles.CreateRole(as(e.admin), n)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) take(u *wardline.User, r *wardline.Role) {
	e.t.Helper()
	if err := e.app.Roles.Take(as(u), r.ID); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) setPolicy(p wardline.ClinicalPolicy) {
	e.t.Helper()
	if _, err := e.app.Clinical.SetClinicalPolicy(as(e.admin), p); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) setDuty(u *wardline.User, status string, cover *wardline.Role) {
	e.t.Helper()
	s := wardline.DutySetting{Status: status}
	if cover != nil {
		s.CoveringRoleID = &cover.ID
	}
	if err := e.app.Clinical.SetDutyStatus(as(u), s); err != nil {
		e.t.Fatal(err)
	}
}

// tick runs one scheduler round and returns how many things it did.
func (e *env) tick() int {
	e.t.Helper()
	n, err := e.app.Scheduler.Tick(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// escalation reads a message's escalation as its sender sees it in history.
func (e *env) escalation(sender *wardline.User, convID, msgID string) *wardline.Escalation {
	e.t.Helper()
	msgs, _, err := e.app.Messages.History(as(sender), convID, wardline.HistoryQuery{Limit: 200})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range msgs {
		if m.ID == msgID {
			return m.Escalation
		}
	}
	e.t.Fatalf("message %s not in history", msgID)
	return nil
}

// takeEvents returns the events published since the last call, of the given type ("" for all).
func (e *env) takeEvents(typ string) []*wardline.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*wardline.Event
	for _, ev := range e.events {
		if typ == "" || ev.Type == typ {
			out = append(out, ev)
		}
	}
	e.events = nil
	return out
}

func (e *env) audit(action string) []*wardline.AuditEvent {
	e.t.Helper()
	evs, err := e.store.AuditEvents(context.Background(), wardline.AuditFilter{OrgID: e.org.ID, Action: action, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

func ids(us ...*wardline.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

// sameSet reports whether a and b hold the same ids, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func mustCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := wardline.ErrorCode(err); got != code {
		t.Fatalf("error: got %v (%s), want %s", err, got, code)
	}
}
