package app_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"wardline"
	"wardline/app"
)

// escalationFixture: a group where Sam (sender) writes to Rita; the group's escalation contact is
// the registrar role (held by Reg), whose chain goes on to the consultant role (held by Con).
type escalationFixture struct {
	*env
	sam, rita, reg, con *wardline.User
	registrar, cons     *wardline.Role
	conv                *wardline.Conversation
}

func newEscalationFixture(t *testing.T) *escalationFixture {
	e := newEnv(t)
	f := &escalationFixture{env: e, sam: e.user("Sam"), rita: e.user("Rita"), reg: e.user("Reg"), con: e.user("Con")}
	f.cons = e.role("Consultant on call", nil)
	f.registrar = e.role("Medical registrar", nil, f.cons)
	e.take(f.reg, f.registrar)
	e.take(f.con, f.cons)
	f.conv = e.conversation(f.sam, wardline.NewConversation{Kind: wardline.KindGroup, Title: "Bay 3", EscalationRoleID: &f.registrar.ID}, f.rita)
	return f
}

func TestEscalationEachStepOnTime(t *testing.T) {
	f := newEscalationFixture(t)
	res := f.send(f.sam, f.conv.ID, wardline.PriorityUrgent, "Bed 4 NEWS2 7")
	m := res.Message
	if m.Escalation == nil || m.Escalation.State != wardline.EscalationPending || m.Escalation.Step != 0 ||
		!m.Escalation.NextAt.Equal(T0.Add(5*time.Minute)) || !sameSet(m.Escalation.Notified, ids(f.rita)) {
		t.Fatalf("escalation when sent: %+v", m.Escalation)
	}
	f.takeEvents("")

	f.clock.Add(5*time.Minute - time.Second)
	if n := f.tick(); n != 0 {
		t.Fatalf("a step fired %d early", n)
	}

	// Step 1 at 5 minutes: Rita again, and the registrar joins.
	f.clock.Add(time.Second)
	if n := f.tick(); n != 1 {
		t.Fatalf("step 1: %d fired", n)
	}
	esc := f.escalation(f.sam, f.conv.ID, m.ID)
	if esc.State != wardline.EscalationPending || esc.Step != 1 || !esc.NextAt.Equal(T0.Add(10*time.Minute)) || !sameSet(esc.Notified, ids(f.rita, f.reg)) {
		t.Fatalf("after step 1: %+v", esc)
	}
	evs := f.takeEvents(wardline.EventEscalation)
	if len(evs) != 1 || evs[0].Escalation.Step != 1 || !sameSet(evs[0].Escalation.Notified, ids(f.rita, f.reg)) ||
		!sameSet(evs[0].Recipients, ids(f.sam, f.rita, f.reg)) {
		t.Fatalf("step 1 event: %+v", evs)
	}
	// The registrar is now a member and can see (and acknowledge) the message.
	if _, _, err := f.app.Messages.History(as(f.reg), f.conv.ID, wardline.HistoryQuery{}); err != nil {
		t.Fatalf("the registrar cannot read the conversation: %v", err)
	}

	// Step 2 at 10 minutes: the consultant joins.
	f.clock.Add(5 * time.Minute)
	if n := f.tick(); n != 1 {
		t.Fatalf("step 2: %d fired", n)
	}
	esc = f.escalation(f.sam, f.conv.ID, m.ID)
	if esc.Step != 2 || !sameSet(esc.Notified, ids(f.rita, f.reg, f.con)) {
		t.Fatalf("after step 2: %+v", esc)
	}

	// Step 3 at 15 minutes is the policy's last: exhausted.
	f.clock.Add(5 * time.Minute)
	if n := f.tick(); n != 1 {
		t.Fatalf("step 3: %d fired", n)
	}
	esc = f.escalation(f.sam, f.conv.ID, m.ID)
	if esc.State != wardline.EscalationExhausted || esc.Step != 3 || esc.NextAt != nil {
		t.Fatalf("after step 3: %+v", esc)
	}
	f.clock.Add(time.Hour)
	if n := f.tick(); n != 0 {
		t.Fatalf("%d steps after the last", n)
	}

	// Every step is recorded and audited.
	steps, err := f.store.EscalationSteps(context.Background(), m.ID)
	if err != nil || len(steps) != 3 || *steps[0].RoleID != f.registrar.ID || *steps[1].RoleID != f.cons.ID || steps[2].RoleID != nil {
		t.Fatalf("steps: %+v, %v", steps, err)
	}
	if !steps[0].At.Equal(T0.Add(5*time.Minute)) || !steps[1].At.Equal(T0.Add(10*time.Minute)) || !steps[2].At.Equal(T0.Add(15*time.Minute)) {
		t.Fatalf("step times: %v %v %v", steps[0].At, steps[1].At, steps[2].At)
	}
	if got := f.audit(wardline.ActionEscalationStep); len(got) != 3 || got[0].TargetID != m.ID || got[0].ConversationID != f.conv.ID {
		t.Fatalf("audit: %+v", got)
	}
}

func TestEscalationStopsWhenAcknowledged(t *testing.T) {
	f := newEscalationFixture(t)
	m := f.send(f.sam, f.conv.ID, wardline.PriorityEmergency, "Arrest bay 3").Message
	if !m.Escalation.NextAt.Equal(T0.Add(2 * time.Minute)) {
		t.Fatalf("emergency escalates after 2 minutes: %v", m.Escalation.NextAt)
	}
	// The sender acknowledging their own message stops nothing.
	if err := f.app.Messages.Acknowledge(as(f.sam), f.conv.ID, m.ID); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(2 * time.Minute)
	if n := f.tick(); n != 1 {
		t.Fatalf("step 1: %d fired", n)
	}
	// The registrar, brought in by step 1, acknowledges: it stops.
	f.clock.Add(time.Minute)
	f.takeEvents("")
	if err := f.app.Messages.Acknowledge(as(f.reg), f.conv.ID, m.ID); err != nil {
		t.Fatal(err)
	}
	esc := f.escalation(f.sam, f.conv.ID, m.ID)
	if esc.State != wardline.EscalationAcknowledged || esc.NextAt != nil || esc.Step != 1 {
		t.Fatalf("after the acknowledgement: %+v", esc)
	}
	if evs := f.takeEvents(wardline.EventEscalation); len(evs) != 1 || evs[0].Escalation.State != wardline.EscalationAcknowledged {
		t.Fatalf("acknowledgement event: %+v", evs)
	}
	f.clock.Add(time.Hour)
	if n := f.tick(); n != 0 {
		t.Fatalf("%d steps after the acknowledgement", n)
	}

	// A routine message, even one that requires acknowledgement, does not escalate.
	yes := true
	r, err := f.app.Messages.Send(as(f.sam), f.conv.ID, wardline.NewMessage{ClientID: "0190a7c3-1111-7aaa-8bbb-123456789abc", Body: "FYI", RequiresAck: &yes})
	if err != nil || r.Message.Escalation != nil {
		t.Fatalf("routine: %+v, %v", r, err)
	}
	// Nor does an urgent one sent without requiring acknowledgement.
	no := false
	r, err = f.app.Messages.Send(as(f.sam), f.conv.ID, wardline.NewMessage{ClientID: "0190a7c3-2222-7aaa-8bbb-123456789abc", Body: "FYI", Priority: wardline.PriorityUrgent, RequiresAck: &no})
	if err != nil || r.Message.Escalation != nil {
		t.Fatalf("urgent without ack: %+v, %v", r, err)
	}
}

func TestEscalationResumesAfterRestart(t *testing.T) {
	f := newEscalationFixture(t)
	m := f.send(f.sam, f.conv.ID, wardline.PriorityUrgent, "Bed 4 NEWS2 7").Message
	f.clock.Add(5 * time.Minute)
	if n := f.tick(); n != 1 {
		t.Fatalf("step 1: %d", n)
	}
	f.clock.Add(2 * time.Minute)
	f.restart()
	f.clock.Add(2 * time.Minute) // 9 minutes: not yet
	if n := f.tick(); n != 0 {
		t.Fatalf("%d fired early after the restart", n)
	}
	f.clock.Add(time.Minute) // 10 minutes: step 2, on time
	if n := f.tick(); n != 1 {
		t.Fatalf("step 2 after the restart: %d", n)
	}
	if esc := f.escalation(f.sam, f.conv.ID, m.ID); esc.Step != 2 || !esc.NextAt.Equal(T0.Add(15*time.Minute)) {
		t.Fatalf("after the restart: %+v", esc)
	}

	// Down for longer than several steps: the next step comes at once, then one interval later,
	// not in a burst.
	f.restart()
	f.clock.Add(time.Hour)
	if n := f.tick(); n != 1 {
		t.Fatalf("after a long outage: %d", n)
	}
	if n := f.tick(); n != 0 {
		t.Fatalf("burst after a long outage: %d", n)
	}
}

// Several nodes sharing one database (here: two stores on one SQLite file, and many concurrent
// rounds on each) take each step exactly once.
func TestEscalationStepFiresOnceAcrossNodes(t *testing.T) {
	f := newEscalationFixture(t)
	m := f.send(f.sam, f.conv.ID, wardline.PriorityUrgent, "Bed 4 NEWS2 7").Message

	other := &env{t: t, dir: f.dir, clock: f.clock}
	other.open()
	t.Cleanup(other.close)
	if filepath.Dir(other.store.Path()) != filepath.Dir(f.store.Path()) {
		t.Fatal("the second node must share the database")
	}

	for step := 1; step <= 3; step++ {
		f.clock.Add(5 * time.Minute)
		var wg sync.WaitGroup
		var mu sync.Mutex
		fired := 0
		for _, node := range []*app.App{f.app, other.app, f.app, other.app, f.app, other.app} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := node.Scheduler.Tick(context.Background())
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				fired += n
				mu.Unlock()
			}()
		}
		wg.Wait()
		if fired != 1 {
			t.Fatalf("step %d fired %d times", step, fired)
		}
	}
	steps, err := f.store.EscalationSteps(context.Background(), m.ID)
	if err != nil || len(steps) != 3 {
		t.Fatalf("steps: %d, %v", len(steps), err)
	}
	if got := f.audit(wardline.ActionEscalationStep); len(got) != 3 {
		t.Fatalf("audited %d steps, want 3", len(got))
	}
}

func TestEscalationOfARoleMessageFollowsTheRoleChain(t *testing.T) {
	f := newEscalationFixture(t)
	res, err := f.app.Roles.SendToRole(as(f.sam), f.registrar.ID, wardline.NewMessage{ClientID: "0190a7c3-3333-7aaa-8bbb-123456789abc", Body: "Please review bed 4", Priority: wardline.PriorityUrgent})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Add(5 * time.Minute)
	if n := f.tick(); n != 1 {
		t.Fatalf("step 1: %d", n)
	}
	esc := f.escalation(f.sam, res.ConversationID, res.Message.ID)
	if !sameSet(esc.Notified, ids(f.reg, f.con)) {
		t.Fatalf("the consultant (the registrar role's chain) was not brought in: %+v", esc)
	}
	// The consultant acknowledges: it stops.
	if err := f.app.Messages.Acknowledge(as(f.con), res.ConversationID, res.Message.ID); err != nil {
		t.Fatal(err)
	}
	if esc := f.escalation(f.sam, res.ConversationID, res.Message.ID); esc.State != wardline.EscalationAcknowledged {
		t.Fatalf("state: %s", esc.State)
	}
}

func TestEscalationStopsForADeletedMessage(t *testing.T) {
	f := newEscalationFixture(t)
	m := f.send(f.sam, f.conv.ID, wardline.PriorityUrgent, "sent to the wrong ward").Message
	if err := f.app.Messages.Delete(as(f.sam), f.conv.ID, m.ID); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(5 * time.Minute)
	f.tick()
	esc := f.escalation(f.sam, f.conv.ID, m.ID)
	if esc.State != wardline.EscalationExhausted || esc.NextAt != nil || len(esc.Notified) != 1 {
		t.Fatalf("a deleted message escalated: %+v", esc)
	}
	if f.app.Scheduler == nil {
		t.Fatal("no scheduler")
	}
}
