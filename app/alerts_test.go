package app

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"wardline"
	"wardline/inmem"
)

// setPolicy sets the organisation's alert thresholds as an officer would.
func (f *auditFixture) setPolicy(p wardline.AlertPolicy) context.Context {
	f.t.Helper()
	ig, _ := f.newUser(wardline.OrgRoleAuditor)
	if _, err := f.app.Audit.SetAlertPolicy(ig, p); err != nil {
		f.t.Fatal(err)
	}
	f.alerts() // forget what setting up raised
	return ig
}

func (f *auditFixture) conversation(owner context.Context, with ...*wardline.User) *wardline.Conversation {
	f.t.Helper()
	var ids []string
	for _, u := range with {
		ids = append(ids, u.ID)
	}
	c, _, err := f.app.Conversations.CreateConversation(owner, wardline.NewConversation{Kind: wardline.KindGroup, MemberIDs: ids})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *auditFixture) read(ctx context.Context, c *wardline.Conversation) {
	f.t.Helper()
	if _, _, err := f.app.Messages.History(ctx, c.ID, wardline.HistoryQuery{}); err != nil {
		f.t.Fatal(err)
	}
}

// patientRead writes what the clinical services will write when someone opens a patient's
// record: the hook they call, PatientReadEvent, with the grounds of the read.
func (f *auditFixture) patientRead(ctx context.Context, patientID, nhs, grounds string) {
	f.t.Helper()
	ev, err := f.app.deps.PatientReadEvent(ctx, "patient.viewed", patientID, nhs, grounds)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.app.deps.store.Update(ctx, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) }); err != nil {
		f.t.Fatal(err)
	}
}

func expectAlerts(t *testing.T, got map[string]int, want map[string]int) {
	t.Helper()
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s alerts: got %d, want %d (all: %v)", k, got[k], n, got)
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok && n > 0 {
			t.Errorf("unexpected %s alerts: %d", k, n)
		}
	}
}

// A normal morning on the ward raises nothing.
func TestAlertsQuietOnNormalUse(t *testing.T) {
	f := newAuditFixture(t)
	f.alerts()
	a, ua := f.newUser(wardline.OrgRoleMember)
	b, ub := f.newUser(wardline.OrgRoleMember)
	for range 5 {
		c := f.conversation(a, ub)
		for range 3 {
			if _, err := f.app.Messages.Send(a, c.ID, wardline.NewMessage{ClientID: wardline.NewID(), Body: "round at 10"}); err != nil {
				t.Fatal(err)
			}
		}
		f.read(b, c)
		f.read(a, c)
		f.patientRead(b, wardline.NewID(), "9434765919", wardline.PatientAccessMember)
		f.clock.Add(5 * time.Minute)
	}
	if _, err := f.app.Auth.Login(f.ctx(nil), ua.Email, "a wrong password"); err == nil {
		t.Fatal("signed in with a wrong password")
	}
	expectAlerts(t, f.alerts(), map[string]int{})
}

func TestAlertManyConversations(t *testing.T) {
	f := newAuditFixture(t)
	f.setPolicy(wardline.AlertPolicy{ConversationsPerHour: 3})
	a, _ := f.newUser(wardline.OrgRoleMember)
	var convs []*wardline.Conversation
	for range 4 {
		convs = append(convs, f.conversation(a))
	}
	f.read(a, convs[0])
	f.read(a, convs[1])
	f.read(a, convs[1]) // the same conversation again counts once
	expectAlerts(t, f.alerts(), map[string]int{})
	f.read(a, convs[2])
	expectAlerts(t, f.alerts(), map[string]int{wardline.AlertManyConversations: 1})
	f.read(a, convs[3]) // within the cool-down: no second alert
	expectAlerts(t, f.alerts(), map[string]int{})
	// Reads more than an hour apart never add up.
	f.clock.Add(2 * time.Hour)
	f.read(a, convs[0])
	f.clock.Add(2 * time.Hour)
	f.read(a, convs[1])
	expectAlerts(t, f.alerts(), map[string]int{})
}

// The counts survive a restart: they are rebuilt from the last hour of the log.
func TestAlertCountsRebuiltOnStart(t *testing.T) {
	f := newAuditFixture(t)
	f.setPolicy(wardline.AlertPolicy{ConversationsPerHour: 3})
	a, _ := f.newUser(wardline.OrgRoleMember)
	c1, c2, c3 := f.conversation(a), f.conversation(a), f.conversation(a)
	f.read(a, c1)
	f.read(a, c2)
	if _, err := f.app.Checkpoints.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.app.Close()
	f.start() // a new process on the same database
	f.read(a, c3)
	expectAlerts(t, f.alerts(), map[string]int{wardline.AlertManyConversations: 1})
}

func TestAlertManyPatientsAndPatientOutsideConversation(t *testing.T) {
	f := newAuditFixture(t)
	f.setPolicy(wardline.AlertPolicy{PatientsPerHour: 3})
	a, _ := f.newUser(wardline.OrgRoleMember)
	f.patientRead(a, wardline.NewID(), "9434765919", wardline.PatientAccessMember)
	f.patientRead(a, wardline.NewID(), "4010232137", wardline.PatientAccessMember)
	expectAlerts(t, f.alerts(), map[string]int{})
	f.patientRead(a, wardline.NewID(), "9876543210", wardline.PatientAccessMember)
	expectAlerts(t, f.alerts(), map[string]int{wardline.AlertManyPatients: 1})

	// A look-up of a patient about whom the reader is in no conversation.
	f.clock.Add(3 * time.Hour)
	b, _ := f.newUser(wardline.OrgRoleMember)
	f.patientRead(b, wardline.NewID(), "9434765919", wardline.PatientAccessLookup)
	expectAlerts(t, f.alerts(), map[string]int{wardline.AlertPatientNoConv: 1})
	// The entry holds the HMAC, never the number, and an officer finds it by the number.
	ig, _ := f.newUser(wardline.OrgRoleAuditor)
	found, _, err := f.app.Audit.Search(ig, wardline.AuditSearch{PatientNHSNumber: "943 476 5919", Action: "patient.viewed"})
	if err != nil || len(found) != 2 {
		t.Fatalf("search by NHS number: %d entries, %v", len(found), err)
	}
	for _, e := range found {
		if e.Detail[wardline.DetailPatientHMAC] == "9434765919" || e.Detail[wardline.DetailPatientHMAC] == nil {
			t.Errorf("entry %d: patient_hmac %v", e.Seq, e.Detail[wardline.DetailPatientHMAC])
		}
	}
}

func TestAlertOffHours(t *testing.T) {
	f := newAuditFixture(t)
	f.setPolicy(wardline.AlertPolicy{WorkingHours: "07:00-20:00", TimeZone: "Europe/London"})
	a, _ := f.newUser(wardline.OrgRoleMember)
	c := f.conversation(a)
	f.read(a, c) // 10:00 London
	expectAlerts(t, f.alerts(), map[string]int{})
	f.clock.Set(time.Date(2025, 3, 5, 3, 10, 0, 0, london))
	f.read(a, c)
	expectAlerts(t, f.alerts(), map[string]int{wardline.AlertOffHours: 1})
	// A night team's window wraps midnight.
	f.setPolicy(wardline.AlertPolicy{WorkingHours: "19:00-08:00", TimeZone: "Europe/London"})
	f.clock.Add(2 * time.Hour) // 05:10, past the cool-down
	f.read(a, c)
	expectAlerts(t, f.alerts(), map[string]int{})
}

func TestAlertBulkExport(t *testing.T) {
	f := newAuditFixture(t)
	ig := f.setPolicy(wardline.AlertPolicy{ExportItemsPerHour: 20})
	first, err := f.app.Audit.Export(ig, wardline.AuditSearch{}, "json")
	must(t, err)
	if len(first) >= 20 {
		t.Fatalf("the log already holds %d entries", len(first))
	}
	expectAlerts(t, f.alerts(), map[string]int{})
	_, err = f.app.Audit.Export(ig, wardline.AuditSearch{}, "csv") // the two add up past 20
	must(t, err)
	expectAlerts(t, f.alerts(), map[string]int{wardline.AlertBulkExport: 1})
}

func TestAlertFailedSignIns(t *testing.T) {
	f := newAuditFixture(t)
	f.setPolicy(wardline.AlertPolicy{FailedSignInsAccount: 3, FailedSignInsAddress: 5})
	_, ua := f.newUser(wardline.OrgRoleMember)
	_, ub := f.newUser(wardline.OrgRoleMember)
	fail := func(email, addr string) {
		if _, err := f.app.Auth.Login(f.ctx(&wardline.Actor{Addr: addr}), email, "not the password"); wardline.ErrorCode(err) != wardline.EUNAUTHENTICATED {
			t.Fatalf("login: %v", err)
		}
	}
	fail(ua.Email, "10.9.9.1")
	fail(ua.Email, "10.9.9.2")
	expectAlerts(t, f.alerts(), map[string]int{})
	fail(ua.Email, "10.9.9.3")
	expectAlerts(t, f.alerts(), map[string]int{wardline.AlertFailedSignIns: 1})
	// One address trying many accounts.
	for i := range 4 {
		email := ub.Email
		if i%2 == 0 {
			email = ua.Email
		}
		fail(email, "192.0.2.50")
	}
	got := f.alerts()
	if got[wardline.AlertFailedSignInsAddr] != 0 {
		t.Fatalf("address alert after 4 failures: %v", got)
	}
	fail(ub.Email, "192.0.2.50")
	if got := f.alerts(); got[wardline.AlertFailedSignInsAddr] != 1 {
		t.Errorf("address alert after 5 failures: %v", got)
	}
}

// Two nodes on one store: failed sign-ins spread over both add up as on one node, and the alert
// they trip is raised once, by one node, to the auditors of either.
func TestAlertsCountAcrossNodes(t *testing.T) {
	f := newAuditFixtureOf(t, true)
	f.setPolicy(wardline.AlertPolicy{FailedSignInsAccount: 3, FailedSignInsAddress: 100})
	_, ua := f.newUser(wardline.OrgRoleMember)
	busB := inmem.NewBus()
	nodeB := f.node(busB)
	raised := make(chan *wardline.Event, 10)
	busB.Subscribe(func(e *wardline.Event) {
		if e.Type == wardline.EventAlert {
			raised <- e
		}
	})
	fail := func(node *App, addr string) {
		t.Helper()
		if _, err := node.Auth.Login(f.ctx(&wardline.Actor{Addr: addr}), ua.Email, "not the password"); wardline.ErrorCode(err) != wardline.EUNAUTHENTICATED {
			t.Fatalf("login: %v", err)
		}
	}
	drain := func() map[string]int {
		nodeB.Alerts.Drain(context.Background())
		return f.alerts() // drains node A too
	}
	fail(f.app, "10.9.9.1")
	fail(nodeB, "10.9.9.1")
	expectAlerts(t, drain(), map[string]int{})
	fail(f.app, "10.9.9.1")                  // the third, on node A: each node alone has seen fewer than 3
	nodeB.Alerts.Drain(context.Background()) // node B sees it first, and raises
	expectAlerts(t, f.alerts(), map[string]int{wardline.AlertFailedSignIns: 1})
	// Within the cool-down, more failures on either node raise nothing more.
	fail(nodeB, "10.9.9.1")
	fail(f.app, "10.9.9.1")
	expectAlerts(t, drain(), map[string]int{})
	if n := len(raised) + len(f.events); n != 1 {
		t.Errorf("auditors were told %d times, want once", n)
	}
	if n := f.actions()[wardline.ActionAlertRaised]; n != 1 {
		t.Errorf("%d alert.raised entries in the log, want 1", n)
	}
}

// Every alert test again, with the alerts counted from the log in the store as each node of a
// cluster counts them: the two ways must raise the same alerts.
func TestAlertsFromTheSharedLog(t *testing.T) {
	sharedLogByDefault = true
	defer func() { sharedLogByDefault = false }()
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"QuietOnNormalUse", TestAlertsQuietOnNormalUse},
		{"ManyConversations", TestAlertManyConversations},
		{"CountsRebuiltOnStart", TestAlertCountsRebuiltOnStart},
		{"ManyPatients", TestAlertManyPatientsAndPatientOutsideConversation},
		{"OffHours", TestAlertOffHours},
		{"BulkExport", TestAlertBulkExport},
		{"FailedSignIns", TestAlertFailedSignIns},
		{"NewDevice", TestAlertNewDevice},
		{"PatientOutsideAnyConversation", TestAlertPatientOpenedOutsideAnyConversation},
	} {
		t.Run(tc.name, tc.fn)
	}
}

func TestAlertNewDevice(t *testing.T) {
	f := newAuditFixture(t)
	_, ua := f.newUser(wardline.OrgRoleMember) // signs in from Chrome on Windows, twice
	expectAlerts(t, f.alerts(), map[string]int{})
	// Sign in again from the same browser: nothing; from an iPhone: an alert.
	u, err := f.store.User(context.Background(), ua.ID)
	must(t, err)
	hash, err := hashPassword("a phone password 123", f.app.deps.config.PasswordParams)
	must(t, err)
	must(t, f.store.Update(context.Background(), func(tx wardline.Tx) error {
		u.PasswordHash = hash
		return tx.UpdateUser(context.Background(), u)
	}))
	same := &wardline.Actor{Addr: "10.1.2.99", Device: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0 Safari/537.36"}
	_, err = f.app.Auth.Login(f.ctx(same), ua.Email, "a phone password 123")
	must(t, err)
	expectAlerts(t, f.alerts(), map[string]int{})
	phone := &wardline.Actor{Addr: "2001:db8::7", Device: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"}
	_, err = f.app.Auth.Login(f.ctx(phone), ua.Email, "a phone password 123")
	must(t, err)
	expectAlerts(t, f.alerts(), map[string]int{wardline.AlertNewDevice: 1})
	_, err = f.app.Auth.Login(f.ctx(phone), ua.Email, "a phone password 123")
	must(t, err)
	expectAlerts(t, f.alerts(), map[string]int{})
}

func TestDeviceFingerprint(t *testing.T) {
	for _, tc := range []struct{ ua, addr, want string }{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36", "10.0.0.1", "chrome/windows/ipv4"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0", "10.0.0.1", "edge/windows/ipv4"},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "2001:db8::1", "firefox/linux/ipv6"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1", "10.0.0.1", "safari/ios/ipv4"},
		{"curl/8.5.0", "127.0.0.1", "curl/other/loopback"},
		{"", "", "none/other/unknown"},
	} {
		if got := DeviceFingerprint(tc.ua, tc.addr); got != tc.want {
			t.Errorf("DeviceFingerprint(%q, %q) = %q, want %q", tc.ua, tc.addr, got, tc.want)
		}
	}
}

func TestCheckpointer(t *testing.T) {
	f := newAuditFixture(t)
	var witnessed [][]byte
	f.app.Checkpoints.witnesses = []Witness{witnessFunc(func(n []byte) error { witnessed = append(witnessed, n); return nil })}
	f.app.Checkpoints.lastAt = f.clock.Now()
	ctx := context.Background()
	must(t, f.app.Checkpoints.Tick(ctx))
	if _, err := f.store.LatestAuditCheckpoint(ctx); !isNotFound(err) {
		t.Fatalf("a checkpoint before the interval passed: %v", err)
	}
	f.clock.Add(61 * time.Second)
	must(t, f.app.Checkpoints.Tick(ctx))
	c1, err := f.store.LatestAuditCheckpoint(ctx)
	must(t, err)
	size, _, _ := f.store.AuditTreeState(ctx)
	if c1.Size != size || len(witnessed) != 1 || string(witnessed[0]) != c1.Note {
		t.Fatalf("checkpoint of size %d for a log of %d; %d witnessed", c1.Size, size, len(witnessed))
	}
	// The log did not grow: no new checkpoint.
	f.clock.Add(61 * time.Second)
	must(t, f.app.Checkpoints.Tick(ctx))
	if all, _ := f.store.AuditCheckpoints(ctx); len(all) != 1 {
		t.Fatalf("%d checkpoints after a quiet minute", len(all))
	}
	// It grew: at the next minute, a new one; and one more on stop.
	f.newUser(wardline.OrgRoleMember)
	f.clock.Add(61 * time.Second)
	must(t, f.app.Checkpoints.Tick(ctx))
	f.newUser(wardline.OrgRoleMember)
	must(t, f.app.Checkpoints.Stop(ctx))
	all, _ := f.store.AuditCheckpoints(ctx)
	if len(all) != 3 || len(witnessed) != 3 {
		t.Fatalf("%d checkpoints, %d witnessed; want 3", len(all), len(witnessed))
	}
	size, _, _ = f.store.AuditTreeState(ctx)
	if all[2].Size != size {
		t.Errorf("the checkpoint on stop covers %d of %d entries", all[2].Size, size)
	}
}

type witnessFunc func([]byte) error

func (w witnessFunc) Witness(n []byte) error { return w(n) }

// The real patient screens raise the "read outside any conversation" alert: opening a patient one
// only looked up does, opening one discussed in one's own conversation does not.
func TestAlertPatientOpenedOutsideAnyConversation(t *testing.T) {
	f := newAuditFixture(t)
	f.setPolicy(wardline.AlertPolicy{PatientsPerHour: 100})
	nurse, nurseUser := f.newUser(wardline.OrgRoleMember)
	p, _, err := f.app.Patients.Register(nurse, wardline.NewPatient{NHSNumber: "943 476 5919", Name: "Ada Lovelace", DateOfBirth: "1985-12-10"})
	if err != nil {
		t.Fatal(err)
	}
	f.alerts()
	if _, err := f.app.Patients.Patient(nurse, p.ID); err != nil {
		t.Fatal(err)
	}
	expectAlerts(t, f.alerts(), map[string]int{wardline.AlertPatientNoConv: 1})

	// Once a conversation of hers is about the patient, opening the record is ordinary work.
	doctor, doctorUser := f.newUser(wardline.OrgRoleMember)
	c := f.conversation(nurse, doctorUser)
	pid := p.ID
	if _, err := f.app.Conversations.UpdateConversation(nurse, c.ID, wardline.ConversationPatch{PatientID: wardline.Optional[*string]{Set: true, Value: &pid}}); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(2 * time.Hour) // past the alert's cool-down
	f.alerts()
	for _, who := range []context.Context{nurse, doctor} {
		if _, err := f.app.Patients.Patient(who, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.app.Patients.Timeline(who, p.ID, "", 10); err != nil {
			t.Fatal(err)
		}
	}
	expectAlerts(t, f.alerts(), map[string]int{})
	_ = nurseUser
}

// A cluster's alerts read only alertActions (and entries about patients) from the log: every
// action the alerts count must be in it, or the cluster would count less than one node does.
// The actions are read from the wardline package's source, so a new one is covered unasked.
func TestAlertActionsCoverWhatAlertsCount(t *testing.T) {
	files, err := filepath.Glob("../*.go")
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if vs, ok := n.(*ast.ValueSpec); ok && len(vs.Values) > 0 {
				for i, id := range vs.Names {
					if lit, ok := vs.Values[min(i, len(vs.Values)-1)].(*ast.BasicLit); ok && strings.HasPrefix(id.Name, "Action") && lit.Kind == token.STRING {
						v, _ := strconv.Unquote(lit.Value)
						actions = append(actions, v)
					}
				}
			}
			return true
		})
	}
	if len(actions) < 40 {
		t.Fatalf("found %d actions in the wardline package's source; the parse is wrong", len(actions))
	}
	for _, a := range actions {
		e := &wardline.AuditEvent{OrgID: "org", Action: a, TargetType: "user"}
		if relevantToAlerts(e) && !slices.Contains(alertActions, a) {
			t.Errorf("the alerts count %q, but a cluster's alerts do not read it (alertActions)", a)
		}
	}
}
