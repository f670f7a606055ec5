package app_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"wardline"
	"wardline/app"
)

// offDutyFixture: Sam writes to Olu (off duty, covered by the night SHO role, held by Nia) and Ona
// (on duty) in one group.
type offDutyFixture struct {
	*env
	sam, olu, ona, nia *wardline.User
	cover              *wardline.Role
	conv               *wardline.Conversation
}

func newOffDutyFixture(t *testing.T) *offDutyFixture {
	e := newEnv(t)
	f := &offDutyFixture{env: e, sam: e.user("Sam"), olu: e.user("Olu"), ona: e.user("Ona"), nia: e.user("Nia")}
	f.cover = e.role("Night SHO", nil)
	e.take(f.nia, f.cover)
	f.conv = e.group(f.sam, f.olu, f.ona)
	e.setDuty(f.olu, wardline.DutyOff, f.cover)
	e.takeEvents("")
	return f
}

func (f *offDutyFixture) created() *wardline.Event {
	f.t.Helper()
	for _, ev := range f.takeEvents(wardline.EventMessageCreated) {
		if ev.Message.ConversationID == f.conv.ID {
			return ev
		}
	}
	f.t.Fatal("no message.created for the conversation")
	return nil
}

func TestOffDutyRoutineIsSilentAndTheSenderIsTold(t *testing.T) {
	f := newOffDutyFixture(t)
	res := f.send(f.sam, f.conv.ID, wardline.PriorityRoutine, "Discharge summary ready")
	ev := f.created()
	if !ev.SilentFor(f.olu.ID) || ev.SilentFor(f.ona.ID) || !sameSet(ev.Recipients, ids(f.sam, f.olu, f.ona)) {
		t.Fatalf("silent for %v, recipients %v", ev.Silent, ev.Recipients)
	}
	frame, err := ev.SilentClientFrame()
	if err != nil || !strings.Contains(string(frame), `"silent":true`) {
		t.Fatalf("silent frame: %s, %v", frame, err)
	}
	if len(res.Warnings) != 1 || res.Warnings[0].Code != wardline.WarnRecipientOffDuty || *res.Warnings[0].UserID != f.olu.ID ||
		*res.Warnings[0].CoveringRoleID != f.cover.ID || res.Warnings[0].ConversationID != nil {
		t.Fatalf("warnings: %+v", res.Warnings)
	}
	if res.Message.Escalation != nil {
		t.Fatal("a routine message escalates")
	}
	// Nothing went to the covering role.
	if res, _, _ := f.app.Conversations.Conversations(as(f.nia), "", 50); len(res) != 0 {
		t.Fatalf("the covering role got a routine message: %d conversations", len(res))
	}
}

func TestOffDutyUrgentGoesToTheCoveringRole(t *testing.T) {
	for _, priority := range []string{wardline.PriorityUrgent, wardline.PriorityEmergency} {
		t.Run(priority, func(t *testing.T) {
			f := newOffDutyFixture(t)
			res := f.send(f.sam, f.conv.ID, priority, "Bed 4 NEWS2 7")
			ev := f.created()
			if !ev.SilentFor(f.olu.ID) || ev.SilentFor(f.ona.ID) {
				t.Fatalf("silent for %v", ev.Silent)
			}
			if len(res.Warnings) != 1 || res.Warnings[0].Code != wardline.WarnRecipientOffDuty || *res.Warnings[0].CoveringRoleID != f.cover.ID || res.Warnings[0].ConversationID == nil {
				t.Fatalf("warnings: %+v", res.Warnings)
			}
			// The covering role's holder has it, in the role conversation between Sam and the role.
			coverConv := *res.Warnings[0].ConversationID
			got, _, err := f.app.Messages.History(as(f.nia), coverConv, wardline.HistoryQuery{})
			if err != nil || len(got) != 1 || got[0].Body != "Bed 4 NEWS2 7" || got[0].Priority != priority || got[0].Escalation == nil {
				t.Fatalf("the covering holder's copy: %+v, %v", got, err)
			}
			// Only the on-duty recipient is counted as alerted by the original.
			if !sameSet(res.Message.Escalation.Notified, ids(f.ona)) {
				t.Fatalf("notified: %v", res.Message.Escalation.Notified)
			}
			// Acknowledging the copy stops the original's escalation too.
			if err := f.app.Messages.Acknowledge(as(f.nia), coverConv, got[0].ID); err != nil {
				t.Fatal(err)
			}
			if esc := f.escalation(f.sam, f.conv.ID, res.Message.ID); esc.State != wardline.EscalationAcknowledged {
				t.Fatalf("original after the copy's acknowledgement: %+v", esc)
			}
			if got := f.audit(wardline.ActionMessageForwarded); len(got) != 1 || got[0].Detail["original_message_id"] != res.Message.ID {
				t.Fatalf("forward audit: %+v", got)
			}
		})
	}
}

func TestOffDutyUrgentAlertsThePersonWhenPolicySaysSo(t *testing.T) {
	f := newOffDutyFixture(t)
	f.setPolicy(wardline.ClinicalPolicy{AlertOffDuty: true})
	res := f.send(f.sam, f.conv.ID, wardline.PriorityUrgent, "Bed 4")
	if ev := f.created(); len(ev.Silent) != 0 {
		t.Fatalf("silent for %v although the policy alerts", ev.Silent)
	}
	if len(res.Warnings) != 1 || res.Warnings[0].ConversationID == nil {
		t.Fatalf("not forwarded: %+v", res.Warnings)
	}
}

func TestOffDutyUrgentWithoutCoverAlertsThePerson(t *testing.T) {
	f := newOffDutyFixture(t)
	f.setDuty(f.olu, wardline.DutyLeave, nil) // no covering role, and the organisation has none
	res := f.send(f.sam, f.conv.ID, wardline.PriorityUrgent, "Bed 4")
	if ev := f.created(); len(ev.Silent) != 0 {
		t.Fatalf("an urgent message with nobody covering was silent for %v", ev.Silent)
	}
	if len(res.Warnings) != 1 || res.Warnings[0].CoveringRoleID != nil || *res.Warnings[0].UserID != f.olu.ID {
		t.Fatalf("warnings: %+v", res.Warnings)
	}
	// Nor does a covering role that nobody holds swallow it.
	empty := f.role("Empty cover", nil)
	f.setDuty(f.olu, wardline.DutyOff, empty)
	res = f.send(f.sam, f.conv.ID, wardline.PriorityUrgent, "Bed 5")
	if ev := f.created(); len(ev.Silent) != 0 || res.Warnings[0].ConversationID != nil {
		t.Fatalf("an empty covering role swallowed it: %v %+v", ev.Silent, res.Warnings)
	}
}

func TestOffDutyByWorkingHours(t *testing.T) {
	f := newOffDutyFixture(t)
	f.setDuty(f.olu, wardline.DutyOn, nil)
	f.setPolicy(wardline.ClinicalPolicy{WorkingHours: &wardline.WorkingHours{Start: "08:00", End: "18:00", TimeZone: "UTC"}})
	if res := f.send(f.sam, f.conv.ID, wardline.PriorityRoutine, "09:00"); len(res.Warnings) != 0 {
		t.Fatalf("warnings inside working hours: %+v", res.Warnings)
	}
	f.takeEvents("")
	f.clock.Add(10 * time.Hour) // 19:00: Olu set on_duty with no end, Ona has no status of her own
	res := f.send(f.sam, f.conv.ID, wardline.PriorityRoutine, "19:00")
	if ev := f.created(); !ev.SilentFor(f.ona.ID) || ev.SilentFor(f.olu.ID) {
		t.Fatalf("silent for %v", ev.Silent)
	}
	if len(res.Warnings) != 1 || *res.Warnings[0].UserID != f.ona.ID {
		t.Fatalf("warnings: %+v", res.Warnings)
	}
	me, err := f.app.Users.Me(as(f.ona))
	if err != nil || me.DutyStatus != wardline.DutyOff {
		t.Fatalf("Ona's duty status: %+v, %v", me, err)
	}
}

func TestDutyStatusEnds(t *testing.T) {
	f := newOffDutyFixture(t)
	until := T0.Add(time.Hour)
	if err := f.app.Clinical.SetDutyStatus(as(f.olu), wardline.DutySetting{Status: wardline.DutyLeave, Until: &until}); err != nil {
		t.Fatal(err)
	}
	if me, _ := f.app.Users.Me(as(f.olu)); me.DutyStatus != wardline.DutyLeave || !me.DutyUntil.Equal(until) {
		t.Fatalf("on leave: %+v", me)
	}
	f.clock.Add(time.Hour)
	if res := f.send(f.sam, f.conv.ID, wardline.PriorityRoutine, "back?"); len(res.Warnings) != 0 {
		t.Fatalf("warnings once the leave ended: %+v", res.Warnings)
	}
	if me, _ := f.app.Users.Me(as(f.olu)); me.DutyStatus != wardline.DutyOn || me.DutyUntil != nil {
		t.Fatalf("after the leave: %+v", me)
	}
	past := T0
	mustCode(t, f.app.Clinical.SetDutyStatus(as(f.olu), wardline.DutySetting{Status: wardline.DutyOff, Until: &past}), wardline.EINVALID)
	mustCode(t, f.app.Clinical.SetDutyStatus(as(f.olu), wardline.DutySetting{Status: "asleep"}), wardline.EINVALID)
	bogus := uuid.NewString()
	mustCode(t, f.app.Clinical.SetDutyStatus(as(f.olu), wardline.DutySetting{Status: wardline.DutyOff, CoveringRoleID: &bogus}), wardline.EINVALID)
}

// countingStore counts the reads that off-duty protection and escalation could add to a send.
type countingStore struct {
	wardline.Store
	reads atomic.Int64
}

func (s *countingStore) DutySettings(ctx context.Context, ids []string) (map[string]wardline.DutySetting, error) {
	s.reads.Add(1)
	return s.Store.DutySettings(ctx, ids)
}

func (s *countingStore) ClinicalPolicy(ctx context.Context, orgID string) (*wardline.ClinicalPolicy, error) {
	s.reads.Add(1)
	return s.Store.ClinicalPolicy(ctx, orgID)
}

func (s *countingStore) RoleHolders(ctx context.Context, roleIDs []string, at time.Time) (map[string][]*wardline.RoleHolder, error) {
	s.reads.Add(1)
	return s.Store.RoleHolders(ctx, roleIDs, at)
}

func (s *countingStore) User(ctx context.Context, id string) (*wardline.User, error) {
	s.reads.Add(1)
	return s.Store.User(ctx, id)
}

func (s *countingStore) Escalations(ctx context.Context, msgIDs []string) (map[string]*wardline.Escalation, error) {
	s.reads.Add(1)
	return s.Store.Escalations(ctx, msgIDs)
}

// The hot path: sending to a large group, some off duty, some messages urgent, costs no read per
// recipient (or per message) beyond what the core send does: duty comes with the members, the
// policy from the cache.
func TestSendAddsNoQueryPerRecipient(t *testing.T) {
	e := newEnv(t)
	sam := e.user("Sam")
	var others []*wardline.User
	for range 30 {
		others = append(others, e.user("Member"))
	}
	conv := e.group(sam, others...)
	for _, u := range others[:10] {
		e.setDuty(u, wardline.DutyOff, nil)
	}
	counted := &countingStore{Store: e.store}
	a := app.New(counted, e.bus, e.keys, e.clock, slog.New(slog.NewTextHandler(io.Discard, nil)), app.Config{SchedulerInterval: -1, DeliveryFlushInterval: time.Hour})
	defer a.Close()
	// Warm the policy cache.
	if _, err := a.Messages.Send(as(sam), conv.ID, wardline.NewMessage{ClientID: uuid.NewString(), Body: "warm"}); err != nil {
		t.Fatal(err)
	}
	counted.reads.Store(0)
	for i := range 50 {
		prio := wardline.PriorityRoutine
		if i%5 == 0 {
			prio = wardline.PriorityUrgent // no cover: escalation is registered, no roles read
		}
		res, err := a.Messages.Send(as(sam), conv.ID, wardline.NewMessage{ClientID: uuid.NewString(), Body: "hello", Priority: prio})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Warnings) != 10 {
			t.Fatalf("warnings: %d, want 10", len(res.Warnings))
		}
	}
	if n := counted.reads.Load(); n != 0 {
		t.Fatalf("50 sends to 30 recipients made %d duty, policy, role or user reads; want 0", n)
	}
}
