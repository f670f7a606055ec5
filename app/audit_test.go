package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"wardline"
	"wardline/inmem"
	"wardline/keyring"
	"wardline/mock"
	"wardline/sqlite"
)

var london, _ = time.LoadLocation("Europe/London")

// workday is a Tuesday morning on the ward, London time.
var workday = time.Date(2025, 3, 4, 10, 0, 0, 0, london).UTC()

type auditFixture struct {
	t      *testing.T
	store  wardline.Store
	keys   *keyring.Keyring
	bus    *inmem.Bus
	clock  *mock.Clock
	app    *App
	org    *wardline.Org
	admin  context.Context
	events chan *wardline.Event
	seen   map[string]bool
	shared bool // the app counts alerts from the log in the store, as each node of a cluster does
}

func newAuditFixture(t *testing.T, wrap ...func(wardline.Store) wardline.Store) *auditFixture {
	t.Helper()
	return newAuditFixtureOf(t, sharedLogByDefault, wrap...)
}

// sharedLogByDefault makes newAuditFixture's app count alerts from the log in the store, as on
// a cluster (TestAlertsFromTheSharedLog runs the alert tests so).
var sharedLogByDefault bool

func newAuditFixtureOf(t *testing.T, shared bool, wrap ...func(wardline.Store) wardline.Store) *auditFixture {
	t.Helper()
	dir := t.TempDir()
	s, err := sqlite.Open(context.Background(), filepath.Join(dir, "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	master, err := keyring.CreateMasterKeyFile(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	clock := mock.NewClock(workday)
	f := &auditFixture{t: t, store: s, clock: clock, bus: inmem.NewBus(), events: make(chan *wardline.Event, 1000), seen: map[string]bool{}, shared: shared}
	f.keys = keyring.New(master, s, clock)
	var st wardline.Store = s
	for _, w := range wrap {
		st = w(st)
	}
	f.store = st
	f.start()
	f.bus.Subscribe(func(e *wardline.Event) {
		if e.Type == wardline.EventAlert {
			f.events <- e
		}
	})
	org, admin, pw, err := f.app.Users.CreateOrg(f.ctx(nil), "Test Trust", wardline.NewUser{Email: "admin@test.nhs.uk", DisplayName: "Ada Admin"}, false)
	if err != nil {
		t.Fatal(err)
	}
	f.org = org
	// These tests are about the audit log, not second factors: the organisation makes them optional.
	policy := org.Policy
	policy.MFAOptional = true
	if err := s.Update(context.Background(), func(tx wardline.Tx) error { return tx.UpdateOrgPolicy(context.Background(), org.ID, policy) }); err != nil {
		t.Fatal(err)
	}
	f.admin = f.signIn(admin.Email, pw)
	return f
}

func (f *auditFixture) start() {
	f.app = f.node(f.bus)
}

// node starts services on the fixture's store, as one more node of a cluster would.
func (f *auditFixture) node(bus wardline.EventBus) *App {
	a := New(f.store, bus, f.keys, f.clock, slog.New(slog.NewTextHandler(io.Discard, nil)),
		Config{PasswordParams: PasswordParams{Memory: 64, Time: 1, Threads: 1}, DeliveryFlushInterval: time.Hour, SharedAuditLog: f.shared})
	f.t.Cleanup(a.Close)
	if err := a.Alerts.Start(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	return a
}

// ctx is an anonymous request's context from a browser on Windows.
func (f *auditFixture) ctx(a *wardline.Actor) context.Context {
	if a == nil {
		a = &wardline.Actor{Addr: "10.1.2.3", Device: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"}
	}
	return wardline.NewContextWithActor(context.Background(), a)
}

// signIn signs in (changing an initial password first) and returns the signed-in context.
func (f *auditFixture) signIn(email, password string) context.Context {
	f.t.Helper()
	res, err := f.app.Auth.Login(f.ctx(nil), email, password)
	if err != nil {
		f.t.Fatalf("login %s: %v", email, err)
	}
	ctx := f.ctx(&wardline.Actor{User: res.User, Session: res.Session, Addr: "10.1.2.3"})
	if res.PasswordChangeRequired {
		if err := f.app.Auth.ChangePassword(ctx, password, password+"-changed-1"); err != nil {
			f.t.Fatal(err)
		}
		return f.signIn(email, password+"-changed-1")
	}
	return ctx
}

func (f *auditFixture) newUser(role string) (context.Context, *wardline.User) {
	f.t.Helper()
	u, pw, err := f.app.Users.CreateUser(f.admin, wardline.NewUser{Email: wardline.NewID()[24:] + "@test.nhs.uk", DisplayName: "Staff " + role, OrgRole: role})
	if err != nil {
		f.t.Fatal(err)
	}
	ctx := f.signIn(u.Email, pw)
	return ctx, wardline.UserFromContext(ctx)
}

func (f *auditFixture) actions() map[string]int {
	f.t.Helper()
	out := map[string]int{}
	for after := int64(0); ; {
		page, err := f.store.AuditEntries(context.Background(), after, 1000)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, e := range page {
			out[e.Event.Action]++
		}
		if len(page) < 1000 {
			return out
		}
		after = page[len(page)-1].Event.Seq
	}
}

// alerts drains the queue and returns the alerts stored since the last call, by kind.
func (f *auditFixture) alerts() map[string]int {
	f.app.Alerts.Drain(context.Background())
	out := map[string]int{}
	all, _, err := f.store.Alerts(context.Background(), wardline.AlertFilter{OrgID: f.org.ID, Limit: 1000})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, a := range all {
		if !f.seen[a.ID] {
			f.seen[a.ID] = true
			out[a.Kind]++
		}
	}
	return out
}

func TestEveryActionIsAudited(t *testing.T) {
	f := newAuditFixture(t)
	a, ua := f.newUser(wardline.OrgRoleMember)
	b, ub := f.newUser(wardline.OrgRoleMember)
	ig, _ := f.newUser(wardline.OrgRoleAuditor)
	_, uc := f.newUser(wardline.OrgRoleMember)

	if _, err := f.app.Auth.Login(f.ctx(nil), ua.Email, "wrong password"); err == nil {
		t.Fatal("wrong password signed in")
	}
	conv, _, err := f.app.Conversations.CreateConversation(a, wardline.NewConversation{Kind: wardline.KindGroup, Title: "Bay 2", MemberIDs: []string{ub.ID}})
	must(t, err)
	_, err = f.app.Conversations.Conversation(b, conv.ID)
	must(t, err)
	_, _, err = f.app.Conversations.Conversations(b, "", 10)
	must(t, err)
	must(t, f.app.Conversations.AddMember(a, conv.ID, uc.ID))
	must(t, f.app.Conversations.RemoveMember(a, conv.ID, uc.ID))
	sent, err := f.app.Messages.Send(a, conv.ID, wardline.NewMessage{ClientID: wardline.NewID(), Body: "obs due"})
	must(t, err)
	_, err = f.app.Messages.Edit(a, conv.ID, sent.Message.ID, "obs due at 14:00")
	must(t, err)
	_, _, err = f.app.Messages.History(b, conv.ID, wardline.HistoryQuery{})
	must(t, err)
	must(t, f.app.Messages.MarkRead(b, conv.ID, 1))
	must(t, f.app.Messages.Acknowledge(b, conv.ID, sent.Message.ID))
	_, err = f.app.Messages.Receipts(a, conv.ID, sent.Message.ID)
	must(t, err)
	must(t, f.app.Messages.Replay(b, map[string]int64{}, func(*ReplayPage) error { return nil }))
	must(t, f.app.Messages.Delete(a, conv.ID, sent.Message.ID))
	_, _, err = f.app.Users.FindUsers(f.admin, wardline.UserFilter{})
	must(t, err)
	must(t, f.app.Users.Suspend(f.admin, uc.ID))
	must(t, f.app.Users.Reinstate(f.admin, uc.ID))
	must(t, f.app.Users.Offboard(f.admin, uc.ID))
	_, _, err = f.app.Audit.Search(ig, wardline.AuditSearch{PatientNHSNumber: "943 476 5919"})
	must(t, err)
	_, err = f.app.Audit.Export(ig, wardline.AuditSearch{}, "csv")
	must(t, err)
	inv, err := f.app.Audit.OpenInvestigation(ig, conv.ID, "Complaint ref C-9 about bay 2")
	must(t, err)
	_, _, err = f.app.Audit.Investigations(ig, "", 0)
	must(t, err)
	_, err = f.app.Audit.Investigation(ig, inv.ID)
	must(t, err)
	_, err = f.app.Audit.Transcript(ig, inv.ID, "json")
	must(t, err)
	must(t, f.app.Audit.CloseInvestigation(ig, inv.ID))
	_, _, err = f.app.Audit.Alerts(ig, "", "", 0)
	must(t, err)
	_, err = f.app.Audit.SetAlertPolicy(ig, wardline.AlertPolicy{ConversationsPerHour: 30})
	must(t, err)
	_, _, _, _, err = f.app.Audit.InclusionProof(ig, 1, 0)
	must(t, err)
	must(t, f.app.Auth.Logout(b))

	got := f.actions()
	for _, action := range []string{
		wardline.ActionOrgCreated, wardline.ActionUserCreated, wardline.ActionLoginSucceeded, wardline.ActionLoginFailed,
		wardline.ActionPasswordChanged, wardline.ActionSessionRevoked, wardline.ActionLogout,
		wardline.ActionConvCreated, wardline.ActionConvRead, wardline.ActionConvListed, wardline.ActionMemberAdded, wardline.ActionMemberRemoved,
		wardline.ActionMessageSent, wardline.ActionMessageEdited, wardline.ActionMessageDeleted, wardline.ActionHistoryRead,
		wardline.ActionMarkedRead, wardline.ActionMessageAcked, wardline.ActionReceiptsRead, wardline.ActionResumeReplayed,
		wardline.ActionAdminUsersListed, wardline.ActionUserSuspended, wardline.ActionUserReinstated, wardline.ActionUserOffboarded,
		wardline.ActionIdentKeyCreated, wardline.ActionSigningKeyCreated,
		wardline.ActionAuditSearched, wardline.ActionAuditExported, wardline.ActionInvestigationOpen, wardline.ActionInvestigationList,
		wardline.ActionInvestigationView, wardline.ActionTranscriptExport, wardline.ActionInvestigationShut, wardline.ActionAlertsListed,
		wardline.ActionAlertPolicySet, wardline.ActionAuditEntryProved,
	} {
		if got[action] == 0 {
			t.Errorf("no %s entry", action)
		}
	}
	// Suspension and offboarding end uc's sessions, each in the log.
	if got[wardline.ActionSessionRevoked] < 2 {
		t.Errorf("%d session_revoked entries, want one per ended session", got[wardline.ActionSessionRevoked])
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// failingAudit is a store whose audit appends fail for one action: the disk is full, say.
type failingAudit struct {
	wardline.Store
	action string
}

func (s failingAudit) Update(ctx context.Context, fn func(wardline.Tx) error) error {
	return s.Store.Update(ctx, func(tx wardline.Tx) error { return fn(failingTx{tx, s.action}) })
}

type failingTx struct {
	wardline.Tx
	action string
}

var errAuditFull = errors.New("audit log: disk full")

func (tx failingTx) AppendAudit(ctx context.Context, e *wardline.AuditEvent) error {
	if e.Action == tx.action {
		return errAuditFull
	}
	return tx.Tx.AppendAudit(ctx, e)
}

func TestAuditFailureFailsTheChange(t *testing.T) {
	for _, action := range []string{wardline.ActionMessageSent, wardline.ActionHistoryRead, wardline.ActionMemberAdded,
		wardline.ActionUserSuspended, wardline.ActionInvestigationOpen, wardline.ActionTranscriptExport} {
		t.Run(action, func(t *testing.T) {
			var failing *failingAudit
			f := newAuditFixture(t, func(s wardline.Store) wardline.Store { failing = &failingAudit{Store: s}; return failing })
			a, _ := f.newUser(wardline.OrgRoleMember)
			b, ub := f.newUser(wardline.OrgRoleMember)
			ig, _ := f.newUser(wardline.OrgRoleAuditor)
			conv, _, err := f.app.Conversations.CreateConversation(a, wardline.NewConversation{Kind: wardline.KindGroup, MemberIDs: []string{ub.ID}})
			must(t, err)
			inv, err := f.app.Audit.OpenInvestigation(ig, conv.ID, "Complaint ref F-1 about this ward")
			must(t, err)
			failing.action = action // App holds the wrapper by value: change what it points at
			*failing = failingAudit{Store: failing.Store, action: action}
			var opErr error
			switch action {
			case wardline.ActionMessageSent:
				_, opErr = f.app.Messages.Send(a, conv.ID, wardline.NewMessage{ClientID: wardline.NewID(), Body: "x"})
			case wardline.ActionHistoryRead:
				_, _, opErr = f.app.Messages.History(b, conv.ID, wardline.HistoryQuery{})
			case wardline.ActionMemberAdded:
				_, uc := f.newUser(wardline.OrgRoleMember)
				opErr = f.app.Conversations.AddMember(a, conv.ID, uc.ID)
			case wardline.ActionUserSuspended:
				opErr = f.app.Users.Suspend(f.admin, ub.ID)
			case wardline.ActionInvestigationOpen:
				_, opErr = f.app.Audit.OpenInvestigation(ig, conv.ID, "Complaint ref F-2 about this ward")
			case wardline.ActionTranscriptExport:
				_, opErr = f.app.Audit.Transcript(ig, inv.ID, "json")
			}
			if !errors.Is(opErr, errAuditFull) {
				t.Fatalf("%s with a failing audit log: got %v, want the audit error", action, opErr)
			}
			// Nothing of the change is there.
			c, err := f.store.Conversation(context.Background(), conv.ID)
			must(t, err)
			u, err := f.store.User(context.Background(), ub.ID)
			must(t, err)
			invs, _, err := f.store.Investigations(context.Background(), f.org.ID, "", 10)
			must(t, err)
			if c.LastSeq != 0 || len(c.Members) != 2 || u.Status != wardline.UserActive || len(invs) != 1 {
				t.Errorf("after the failure: last_seq %d, %d members, status %s, %d investigations", c.LastSeq, len(c.Members), u.Status, len(invs))
			}
		})
	}
}
