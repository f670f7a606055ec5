package app_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"wardline"
)

func sendToRole(t *testing.T, e *env, from *wardline.User, r *wardline.Role, body string) *wardline.RoleMessageResult {
	t.Helper()
	res, err := e.app.Roles.SendToRole(as(from), r.ID, wardline.NewMessage{ClientID: uuid.NewString(), Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func bodies(t *testing.T, e *env, u *wardline.User, convID string) []string {
	t.Helper()
	msgs, _, err := e.app.Messages.History(as(u), convID, wardline.HistoryQuery{Limit: 200})
	if err != nil {
		t.Fatalf("history as %s: %v", u.DisplayName, err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, m.Body)
	}
	return out
}

func TestRoleMessageReachesTheHolder(t *testing.T) {
	e := newEnv(t)
	sam, reg, other := e.user("Sam"), e.user("Reg"), e.user("Olu")
	registrar := e.role("On-call medical registrar", nil)
	e.take(reg, registrar)
	e.takeEvents("")

	res := sendToRole(t, e, sam, registrar, "Bed 4 please")
	if !res.Created || !sameSet(res.Reached, ids(reg)) || res.RoleID != registrar.ID || len(res.Warnings) != 0 {
		t.Fatalf("result: %+v", res)
	}
	c, err := e.app.Conversations.Conversation(as(sam), res.ConversationID)
	if err != nil || c.Kind != wardline.KindRole || *c.RoleID != registrar.ID || !sameSet(c.MemberIDs(), ids(sam, reg)) {
		t.Fatalf("conversation: %+v, %v", c, err)
	}
	if got := bodies(t, e, reg, res.ConversationID); len(got) != 1 || got[0] != "Bed 4 please" {
		t.Fatalf("the holder sees %v", got)
	}
	if evs := e.takeEvents(wardline.EventMessageCreated); len(evs) != 1 || !sameSet(evs[0].Recipients, ids(sam, reg)) {
		t.Fatalf("message.created: %+v", evs)
	}
	if _, err := e.app.Conversations.Conversation(as(other), res.ConversationID); wardline.ErrorCode(err) != wardline.ENOTFOUND {
		t.Fatalf("someone else sees the role conversation: %v", err)
	}
	// The next message goes into the same conversation; a retry stores nothing new.
	n := wardline.NewMessage{ClientID: uuid.NewString(), Body: "Also bed 5"}
	again, err := e.app.Roles.SendToRole(as(sam), registrar.ID, n)
	if err != nil || again.ConversationID != res.ConversationID || again.Message.Seq != 2 {
		t.Fatalf("second message: %+v, %v", again, err)
	}
	retry, err := e.app.Roles.SendToRole(as(sam), registrar.ID, n)
	if err != nil || retry.Created || retry.Message.ID != again.Message.ID {
		t.Fatalf("retry: %+v, %v", retry, err)
	}
	// The directory shows who holds the role.
	dir, _, err := e.app.Users.Directory(as(other), "registrar", "", 50)
	if err != nil || len(dir) != 1 || dir[0].Kind != "role" || len(dir[0].Holders) != 1 || dir[0].Holders[0].UserID != reg.ID {
		t.Fatalf("directory: %+v, %v", dir, err)
	}
}

func TestRoleHandoverKeepsTheHistoryWithTheRole(t *testing.T) {
	e := newEnv(t)
	sam, day, night := e.user("Sam"), e.user("Day Reg"), e.user("Night Reg")
	registrar := e.role("On-call medical registrar", nil)
	e.take(day, registrar)
	first := sendToRole(t, e, sam, registrar, "Bed 4 please")

	if err := e.app.Roles.Handover(as(day), registrar.ID, night.ID); err != nil {
		t.Fatal(err)
	}
	roles, _, err := e.app.Roles.Roles(as(sam), "", 50)
	if err != nil || len(roles) != 1 || len(roles[0].Holders) != 1 || roles[0].Holders[0].UserID != night.ID {
		t.Fatalf("holders after handover: %+v, %v", roles, err)
	}
	// The new holder joined the role's conversation and sees what was said before.
	if got := bodies(t, e, night, first.ConversationID); len(got) != 1 || got[0] != "Bed 4 please" {
		t.Fatalf("the new holder sees %v", got)
	}
	// The old holder left it.
	if _, _, err := e.app.Messages.History(as(day), first.ConversationID, wardline.HistoryQuery{}); wardline.ErrorCode(err) != wardline.ENOTFOUND {
		t.Fatalf("the old holder still sees it: %v", err)
	}
	second := sendToRole(t, e, sam, registrar, "Any update?")
	if second.ConversationID != first.ConversationID || !sameSet(second.Reached, ids(night)) {
		t.Fatalf("after handover: %+v", second)
	}
	if got := e.audit(wardline.ActionRoleHandedOver); len(got) != 1 || got[0].Detail["to_user_id"] != night.ID {
		t.Fatalf("audit: %+v", got)
	}

	// Only a holder may hand over; handing over to oneself or a stranger is refused.
	mustCode(t, e.app.Roles.Handover(as(day), registrar.ID, sam.ID), wardline.EFORBIDDEN)
	mustCode(t, e.app.Roles.Handover(as(night), registrar.ID, night.ID), wardline.EINVALID)
	mustCode(t, e.app.Roles.Handover(as(night), registrar.ID, uuid.NewString()), wardline.EINVALID)

	// Release: nobody holds it now, and the released holder has left.
	if err := e.app.Roles.Release(as(night), registrar.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Conversations.Conversation(as(night), first.ConversationID); wardline.ErrorCode(err) != wardline.ENOTFOUND {
		t.Fatalf("the released holder still sees it: %v", err)
	}
}

func TestRoleNobodyOnCallGoesToTheFallbackThenNobody(t *testing.T) {
	e := newEnv(t)
	sam, sho, latecomer := e.user("Sam"), e.user("Sho"), e.user("Late")
	fallback := e.role("Medical SHO", nil)
	registrar := e.role("On-call medical registrar", fallback)
	e.take(sho, fallback)

	// Nobody holds the registrar role: the SHO (its fallback) gets it, and the sender is told.
	res := sendToRole(t, e, sam, registrar, "Bed 4 please")
	if res.RoleID != fallback.ID || !sameSet(res.Reached, ids(sho)) || len(res.Warnings) != 1 ||
		res.Warnings[0].Code != wardline.WarnRoleNotHeld || *res.Warnings[0].RoleID != registrar.ID || *res.Warnings[0].CoveringRoleID != fallback.ID {
		t.Fatalf("fallback: %+v %+v", res, res.Warnings)
	}
	if got := bodies(t, e, sho, res.ConversationID); len(got) != 1 {
		t.Fatalf("the fallback holder sees %v", got)
	}

	// Nobody holds either: still stored, reached nobody, and the sender is told.
	if err := e.app.Roles.Release(as(sho), fallback.ID); err != nil {
		t.Fatal(err)
	}
	res = sendToRole(t, e, sam, registrar, "Anyone?")
	if !res.Created || res.RoleID != registrar.ID || len(res.Reached) != 0 || res.Reached == nil ||
		len(res.Warnings) != 1 || res.Warnings[0].Code != wardline.WarnNobodyReached {
		t.Fatalf("nobody: %+v %+v", res, res.Warnings)
	}
	// Whoever takes the role next joins its conversation and finds the message waiting.
	e.take(latecomer, registrar)
	if got := bodies(t, e, latecomer, res.ConversationID); len(got) != 1 || got[0] != "Anyone?" {
		t.Fatalf("the next holder sees %v", got)
	}

	// Fallbacks that go round in a circle are refused.
	_, err := e.app.Roles.UpdateRole(as(e.admin), fallback.ID, wardline.RolePatch{FallbackRoleID: wardline.Some(&registrar.ID)})
	mustCode(t, err, wardline.EINVALID)
}

func TestRotaAssignsTheRoleForItsPeriod(t *testing.T) {
	e := newEnv(t)
	sam, night := e.user("Sam"), e.user("Night Reg")
	registrar := e.role("On-call medical registrar", nil)
	e.setPolicy(wardline.ClinicalPolicy{WorkingHours: &wardline.WorkingHours{Start: "08:00", End: "18:00", TimeZone: "UTC"}})
	start, end := T0.Add(11*time.Hour), T0.Add(23*time.Hour) // 20:00 to 08:00
	entry, err := e.app.Roles.AddRotaEntry(as(e.admin), registrar.ID, wardline.NewRotaEntry{UserID: night.ID, StartsAt: &start, EndsAt: &end})
	if err != nil || entry.UserID != night.ID || !entry.StartsAt.Equal(start) {
		t.Fatalf("rota entry: %+v, %v", entry, err)
	}
	first := sendToRole(t, e, sam, registrar, "before the night")
	if len(first.Reached) != 0 {
		t.Fatalf("reached before the rota started: %v", first.Reached)
	}

	e.clock.Add(11 * time.Hour) // 20:00: the rota starts
	if n := e.tick(); n != 1 {
		t.Fatalf("rota start: %d", n)
	}
	if got := bodies(t, e, night, first.ConversationID); len(got) != 1 {
		t.Fatalf("the rota holder sees %v", got)
	}
	me, err := e.app.Users.Me(as(night))
	if err != nil || me.DutyStatus != wardline.DutyOn || me.DutyUntil == nil || !me.DutyUntil.Equal(end) {
		t.Fatalf("on the rota outside working hours: %+v, %v", me, err)
	}
	if res := sendToRole(t, e, sam, registrar, "during the night"); !sameSet(res.Reached, ids(night)) {
		t.Fatalf("during the rota: %v", res.Reached)
	}

	e.clock.Add(12 * time.Hour) // 08:00: it ends
	if n := e.tick(); n != 1 {
		t.Fatalf("rota end: %d", n)
	}
	if _, err := e.app.Conversations.Conversation(as(night), first.ConversationID); wardline.ErrorCode(err) != wardline.ENOTFOUND {
		t.Fatalf("still a member after the rota: %v", err)
	}
	if n := e.tick(); n != 0 {
		t.Fatalf("applied twice: %d", n)
	}
	if got := e.audit(wardline.ActionRotaStarted); len(got) != 1 {
		t.Fatalf("rota start audited %d times", len(got))
	}

	// Only admins put people on rotas; periods must make sense.
	_, err = e.app.Roles.AddRotaEntry(as(sam), registrar.ID, wardline.NewRotaEntry{UserID: night.ID, StartsAt: &start, EndsAt: &end})
	mustCode(t, err, wardline.EFORBIDDEN)
	past := T0
	_, err = e.app.Roles.AddRotaEntry(as(e.admin), registrar.ID, wardline.NewRotaEntry{UserID: night.ID, StartsAt: &past, EndsAt: &past})
	mustCode(t, err, wardline.EINVALID)
}

// The ward's rota, as staff read it and as an admin corrects it: a future night taken off, and
// a night under way ended early, with what the rota had given the person undone.
func TestRotaIsListedAndCancelled(t *testing.T) {
	e := newEnv(t)
	sam, night, relief := e.user("Sam"), e.user("Night Reg"), e.user("Relief Reg")
	registrar := e.role("On-call medical registrar", nil)
	other := e.role("On-call surgical registrar", nil)
	e.setPolicy(wardline.ClinicalPolicy{WorkingHours: &wardline.WorkingHours{Start: "08:00", End: "18:00", TimeZone: "UTC"}})
	add := func(u *wardline.User, r *wardline.Role, from, to time.Duration) *wardline.RotaEntry {
		t.Helper()
		start, end := T0.Add(from), T0.Add(to)
		entry, err := e.app.Roles.AddRotaEntry(as(e.admin), r.ID, wardline.NewRotaEntry{UserID: u.ID, StartsAt: &start, EndsAt: &end})
		if err != nil {
			t.Fatal(err)
		}
		return entry
	}
	tonight := add(night, registrar, 11*time.Hour, 23*time.Hour)   // 20:00 to 08:00
	tomorrow := add(relief, registrar, 35*time.Hour, 47*time.Hour) // the next night
	add(night, other, 11*time.Hour, 23*time.Hour)                  // another role's rota
	// The same person on the same rota for an overlapping period (a form sent twice) is refused;
	// back to back, or someone else at the same time, is not.
	start, end := T0.Add(22*time.Hour), T0.Add(30*time.Hour)
	_, err := e.app.Roles.AddRotaEntry(as(e.admin), registrar.ID, wardline.NewRotaEntry{UserID: night.ID, StartsAt: &start, EndsAt: &end})
	mustCode(t, err, wardline.ECONFLICT)
	backToBack := add(night, registrar, 23*time.Hour, 30*time.Hour)
	sameTime := add(sam, registrar, 11*time.Hour, 23*time.Hour)
	for _, x := range []*wardline.RotaEntry{backToBack, sameTime} {
		if err := e.app.Roles.CancelRotaEntry(as(e.admin), registrar.ID, x.ID); err != nil {
			t.Fatal(err)
		}
	}
	rota := func(who *wardline.User) []string {
		t.Helper()
		entries, next, err := e.app.Roles.Rota(as(who), registrar.ID, "", 0)
		if err != nil || next != "" {
			t.Fatalf("rota as %s: %v, next %q", who.DisplayName, err, next)
		}
		var out []string
		for _, x := range entries {
			if x.RoleID != registrar.ID {
				t.Fatalf("rota entry of another role: %+v", x)
			}
			out = append(out, x.ID)
		}
		return out
	}
	// Anyone in the organisation reads the rota, soonest first.
	if got := rota(sam); len(got) != 2 || got[0] != tonight.ID || got[1] != tomorrow.ID {
		t.Fatalf("rota: %v", got)
	}
	// Each person reads their own periods in every role, soonest first, named; nobody else's.
	mine := func(who *wardline.User, limit int) []string {
		t.Helper()
		var out []string
		for cursor, pages := "", 0; ; pages++ {
			entries, next, err := e.app.Roles.MyRota(as(who), cursor, limit)
			if err != nil || pages > 5 {
				t.Fatalf("my rota as %s: %v (page %d)", who.DisplayName, err, pages)
			}
			for _, x := range entries {
				want := map[string]string{registrar.ID: registrar.Name, other.ID: other.Name}[x.RoleID]
				if x.UserID != who.ID || x.RoleName != want || want == "" {
					t.Fatalf("my rota as %s: %+v", who.DisplayName, x)
				}
				out = append(out, x.RoleName+" "+x.StartsAt.Sub(T0).String())
			}
			if cursor = next; cursor == "" {
				return out
			}
		}
	}
	if got := mine(night, 1); len(got) != 2 || !slices.Contains(got, registrar.Name+" 11h0m0s") || !slices.Contains(got, other.Name+" 11h0m0s") {
		t.Fatalf("the night registrar's rota, a page at a time: %v", got)
	}
	if got := mine(relief, 0); !slices.Equal(got, []string{registrar.Name + " 35h0m0s"}) {
		t.Fatalf("the relief registrar's rota: %v", got)
	}
	if got := mine(sam, 0); len(got) != 0 {
		t.Fatalf("Sam is on no rota: %v", got)
	}

	// Tomorrow's night, taken off before it starts, never starts.
	if err := e.app.Roles.CancelRotaEntry(as(e.admin), registrar.ID, tomorrow.ID); err != nil {
		t.Fatal(err)
	}
	if got := rota(sam); len(got) != 1 || got[0] != tonight.ID {
		t.Fatalf("rota after cancelling tomorrow: %v", got)
	}

	e.clock.Add(12 * time.Hour) // 21:00: tonight's is under way
	e.tick()
	first := sendToRole(t, e, sam, registrar, "bed 4 please")
	if !sameSet(first.Reached, ids(night)) {
		t.Fatalf("reached during the rota: %v", first.Reached)
	}
	// Ended early: the registrar leaves the role's conversation, and the on-duty status the rota
	// gave them outside working hours ends with it.
	if err := e.app.Roles.CancelRotaEntry(as(e.admin), registrar.ID, tonight.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Conversations.Conversation(as(night), first.ConversationID); wardline.ErrorCode(err) != wardline.ENOTFOUND {
		t.Fatalf("still in the role's conversation after the rota was cancelled: %v", err)
	}
	if res := sendToRole(t, e, sam, registrar, "anyone?"); len(res.Reached) != 0 {
		t.Fatalf("reached after the rota was cancelled: %v", res.Reached)
	}
	me, err := e.app.Users.Me(as(night))
	if err != nil || me.DutyStatus != wardline.DutyOff {
		t.Fatalf("duty after the rota was cancelled at 21:00: %+v, %v", me, err)
	}
	if got := rota(sam); len(got) != 0 {
		t.Fatalf("rota after cancelling tonight: %v", got)
	}
	e.clock.Add(30 * time.Hour)
	if n := e.tick(); n != 1 {
		t.Fatalf("the scheduler made %d rota changes, want 1 (the other role's end)", n)
	}
	got := e.audit(wardline.ActionRotaEntryCancelled)[2:] // after the two set-up entries
	if len(got) != 2 || got[0].Detail["under_way"] != false || got[1].Detail["under_way"] != true {
		t.Fatalf("cancellations audited: %+v", got)
	}
	if got := e.audit(wardline.ActionRotaEnded); len(got) != 1 || got[0].TargetID != other.ID {
		t.Fatalf("a cancelled rota also ended: %+v", got)
	}

	// Ended entries stay history; only admins cancel; the entry must be this role's rota entry.
	mustCode(t, e.app.Roles.CancelRotaEntry(as(e.admin), registrar.ID, tonight.ID), wardline.ECONFLICT)
	later := add(relief, registrar, 60*time.Hour, 70*time.Hour)
	mustCode(t, e.app.Roles.CancelRotaEntry(as(sam), registrar.ID, later.ID), wardline.EFORBIDDEN)
	mustCode(t, e.app.Roles.CancelRotaEntry(as(e.admin), other.ID, later.ID), wardline.ENOTFOUND)
	mustCode(t, e.app.Roles.CancelRotaEntry(as(e.admin), registrar.ID, uuid.NewString()), wardline.ENOTFOUND)
	mustCode(t, e.app.Roles.CancelRotaEntry(as(e.admin), registrar.ID, "not-an-id"), wardline.ENOTFOUND)
	e.take(sam, registrar)
	holders, err := e.store.RoleHolders(context.Background(), []string{registrar.ID}, e.clock.Now())
	if err != nil || len(holders[registrar.ID]) != 1 {
		t.Fatalf("holders: %v, %v", holders, err)
	}
	mustCode(t, e.app.Roles.CancelRotaEntry(as(e.admin), registrar.ID, holders[registrar.ID][0].ID), wardline.ENOTFOUND)
}

func TestOffboardingEndsRoleHoldings(t *testing.T) {
	e := newEnv(t)
	sam, reg := e.user("Sam"), e.user("Reg")
	registrar := e.role("On-call medical registrar", nil)
	e.take(reg, registrar)
	later, end := T0.Add(24*time.Hour), T0.Add(36*time.Hour)
	if _, err := e.app.Roles.AddRotaEntry(as(e.admin), registrar.ID, wardline.NewRotaEntry{UserID: reg.ID, StartsAt: &later, EndsAt: &end}); err != nil {
		t.Fatal(err)
	}
	if err := e.app.Users.Offboard(as(e.admin), reg.ID); err != nil {
		t.Fatal(err)
	}
	if res := sendToRole(t, e, sam, registrar, "hello?"); len(res.Reached) != 0 {
		t.Fatalf("an offboarded holder was reached: %v", res.Reached)
	}
	e.clock.Add(25 * time.Hour)
	e.tick()
	if res := sendToRole(t, e, sam, registrar, "hello?"); len(res.Reached) != 0 {
		t.Fatalf("an offboarded user's rota entry still applies: %v", res.Reached)
	}
}
