package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"wardline"
)

// The clinical workflow: patients, duty settings and policy, roles and rotas, escalations.

func testClinical(t *testing.T, open opener) {
	t.Run("Patients", func(t *testing.T) { t.Parallel(); testPatients(t, open(t)) })
	t.Run("PatientTimeline", func(t *testing.T) { t.Parallel(); testPatientTimeline(t, open(t)) })
	t.Run("ConversationTracking", func(t *testing.T) { t.Parallel(); testConversationTracking(t, open(t)) })
	t.Run("DutyAndPolicy", func(t *testing.T) { t.Parallel(); testDutyAndPolicy(t, open(t)) })
	t.Run("Roles", func(t *testing.T) { t.Parallel(); testRoles(t, open(t)) })
	t.Run("RotaClaims", func(t *testing.T) { t.Parallel(); testRotaClaims(t, open(t)) })
	t.Run("RotaListAndCancel", func(t *testing.T) { t.Parallel(); testRotaListAndCancel(t, open(t)) })
	t.Run("Escalations", func(t *testing.T) { t.Parallel(); testEscalations(t, open(t)) })
}

// NewPatient returns a patient of orgID that is not stored yet, with sealed fields that name it.
func NewPatient(orgID, hmac, createdBy string) *wardline.Patient {
	return &wardline.Patient{
		ID: wardline.NewID(), OrgID: orgID, NHSHMAC: hmac, CreatedAt: T0, CreatedBy: createdBy,
		NHSSealed: []byte("sealed nhs " + hmac), NameSealed: []byte("sealed name"), DOBSealed: []byte("sealed dob"),
	}
}

func testPatients(t *testing.T, s wardline.Store) {
	ctx := context.Background()
	f := MustCreateFixture(t, s)
	other := MustCreateOrg(t, s, "Other Trust")
	p := NewPatient(f.Org.ID, "hmac-1", f.Alice.ID)
	MustUpdate(t, s, func(tx wardline.Tx) error { return tx.CreatePatient(ctx, p) })

	got, err := s.Patient(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	AssertSame(t, "Patient", got, p)
	if got, err := s.PatientByHMAC(ctx, f.Org.ID, "hmac-1"); err != nil || got.ID != p.ID {
		t.Fatalf("PatientByHMAC: %v, %v", got, err)
	}
	_, err = s.PatientByHMAC(ctx, other.ID, "hmac-1")
	AssertCode(t, err, wardline.ENOTFOUND)
	_, err = s.Patient(ctx, wardline.NewID())
	AssertCode(t, err, wardline.ENOTFOUND)

	// One NHS number per organisation; another organisation may have its own.
	err = s.Update(ctx, func(tx wardline.Tx) error { return tx.CreatePatient(ctx, NewPatient(f.Org.ID, "hmac-1", f.Bob.ID)) })
	AssertCode(t, err, wardline.ECONFLICT)
	MustUpdate(t, s, func(tx wardline.Tx) error { return tx.CreatePatient(ctx, NewPatient(other.ID, "hmac-1", f.Bob.ID)) })

	MustUpdate(t, s, func(tx wardline.Tx) error { return tx.SetPatientOptOut(ctx, p.ID, true) })
	if got, _ := s.Patient(ctx, p.ID); !got.OptedOut {
		t.Fatal("opt-out not stored")
	}

	// Access: by a grant since a time (the latest grant counts), or by membership.
	can := func(user string, since time.Time) bool {
		t.Helper()
		ok, err := s.CanSeePatient(ctx, p.ID, user, since)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if can(f.Bob.ID, at(0)) {
		t.Fatal("Bob sees the patient before any grant")
	}
	MustUpdate(t, s, func(tx wardline.Tx) error { return tx.GrantPatientAccess(ctx, p.ID, f.Bob.ID, at(100)) })
	MustUpdate(t, s, func(tx wardline.Tx) error { return tx.GrantPatientAccess(ctx, p.ID, f.Bob.ID, at(50)) })
	if !can(f.Bob.ID, at(100)) || can(f.Bob.ID, at(101)) {
		t.Fatal("grant times: the latest grant must count")
	}
	if can(f.Carol.ID, at(0)) {
		t.Fatal("Carol sees the patient")
	}
	c := f.Conv
	c.PatientID = &p.ID
	MustUpdate(t, s, func(tx wardline.Tx) error { return tx.UpdateConversation(ctx, c) })
	if !can(f.Carol.ID, at(1000)) {
		t.Fatal("a member of a conversation about the patient must see them")
	}
}

func testPatientTimeline(t *testing.T, s wardline.Store) {
	ctx := context.Background()
	f := MustCreateFixture(t, s)
	p := NewPatient(f.Org.ID, "hmac-t", f.Alice.ID)
	a := NewConversation(f.Org.ID, wardline.KindGroup, at(0), f.Alice.ID, f.Bob.ID)
	a.PatientID = &p.ID
	b := NewConversation(f.Org.ID, wardline.KindGroup, at(0), f.Alice.ID, f.Carol.ID)
	b.PatientID = &p.ID
	MustUpdate(t, s, func(tx wardline.Tx) error { return tx.CreatePatient(ctx, p) })
	MustCreateConversations(t, s, a, b)
	inA := MustSendMessages(t, s, a.ID, f.Alice.ID, 3, at(10)) // at 10, 11, 12
	inB := MustSendMessages(t, s, b.ID, f.Alice.ID, 2, at(20)) // at 20, 21
	MustSendMessages(t, s, f.Conv.ID, f.Alice.ID, 2, at(30))   // not about the patient

	page := func(user, cursor string, limit int) ([]*wardline.Message, string) {
		t.Helper()
		msgs, next, err := s.PatientTimeline(ctx, p.ID, user, cursor, limit)
		if err != nil {
			t.Fatal(err)
		}
		return msgs, next
	}
	var got []*wardline.Message
	cursor := ""
	for {
		msgs, next := page(f.Alice.ID, cursor, 2)
		got = append(got, msgs...)
		if next == "" {
			break
		}
		cursor = next
	}
	want := []*wardline.Message{inB[1], inB[0], inA[2], inA[1], inA[0]}
	if len(got) != len(want) {
		t.Fatalf("Alice's timeline: %d messages, want %d", len(got), len(want))
	}
	for i := range want {
		AssertSame(t, "timeline", got[i], want[i])
	}
	// Bob belongs to conversation a only.
	if msgs, _ := page(f.Bob.ID, "", 50); len(msgs) != 3 || msgs[0].ID != inA[2].ID {
		t.Fatalf("Bob's timeline: %d", len(msgs))
	}
	_, _, err := s.PatientTimeline(ctx, p.ID, f.Bob.ID, "!!", 50)
	AssertCode(t, err, wardline.EINVALID)
}

func testConversationTracking(t *testing.T, s wardline.Store) {
	ctx := context.Background()
	f := MustCreateFixture(t, s)
	role := &wardline.Role{ID: wardline.NewID(), OrgID: f.Org.ID, Name: "Registrar", EscalationRoleIDs: []string{}, CreatedAt: T0}
	MustUpdate(t, s, func(tx wardline.Tx) error { return tx.CreateRole(ctx, role) })
	cat := "handover"
	c := NewConversation(f.Org.ID, KindRoleForTest, at(1), f.Alice.ID, f.Bob.ID)
	c.Category, c.Status, c.RoleID, c.DirectKey = &cat, wardline.ConvOpen, &role.ID, "role:"+role.ID+":"+f.Alice.ID
	MustCreateConversations(t, s, c)
	got, err := s.Conversation(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	AssertSame(t, "Conversation", got, WithDirectoryNames(t, s, c))
	if byKey, err := s.DirectConversation(ctx, f.Org.ID, c.DirectKey); err != nil || byKey.ID != c.ID {
		t.Fatalf("role conversation by key: %v", err)
	}
	if convs, err := s.RoleConversations(ctx, role.ID); err != nil || len(convs) != 1 || convs[0] != c.ID {
		t.Fatalf("RoleConversations: %v, %v", convs, err)
	}

	got.Category, got.Status, got.EscalationRoleID = nil, wardline.ConvResolved, &role.ID
	MustUpdate(t, s, func(tx wardline.Tx) error { return tx.UpdateConversation(ctx, got) })
	again, _ := s.Conversation(ctx, c.ID)
	if again.Category != nil || again.Status != wardline.ConvResolved || *again.EscalationRoleID != role.ID {
		t.Fatalf("after UpdateConversation: %+v", again)
	}
	err = s.Update(ctx, func(tx wardline.Tx) error {
		return tx.UpdateConversation(ctx, &wardline.Conversation{ID: wardline.NewID(), Status: wardline.ConvOpen})
	})
	AssertCode(t, err, wardline.ENOTFOUND)
}

// KindRoleForTest is the role conversation kind, named here so the suite reads plainly.
const KindRoleForTest = wardline.KindRole

func testDutyAndPolicy(t *testing.T, s wardline.Store) {
	ctx := context.Background()
	f := MustCreateFixture(t, s)
	// Nothing stored: no settings, the zero policy.
	if got, err := s.DutySettings(ctx, []string{f.Alice.ID, f.Bob.ID}); err != nil || len(got) != 0 {
		t.Fatalf("DutySettings before any: %v, %v", got, err)
	}
	if p, err := s.ClinicalPolicy(ctx, f.Org.ID); err != nil || p.Escalation.Steps != 0 || p.WorkingHours != nil {
		t.Fatalf("ClinicalPolicy before any: %+v, %v", p, err)
	}
	until := at(3600)
	cover := wardline.NewID()
	set := wardline.DutySetting{Status: wardline.DutyOff, Until: &until, CoveringRoleID: &cover}
	MustUpdate(t, s, func(tx wardline.Tx) error { return tx.SetDutySetting(ctx, f.Bob.ID, set) })
	got, err := s.DutySettings(ctx, []string{f.Alice.ID, f.Bob.ID})
	if err != nil || len(got) != 1 {
		t.Fatalf("DutySettings: %v, %v", got, err)
	}
	AssertSame(t, "DutySetting", got[f.Bob.ID], set)
	// Members carry their duty settings (so that a send needs no other query).
	c, err := s.Conversation(ctx, f.Conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range c.Members {
		want := wardline.DutySetting{}
		if m.UserID == f.Bob.ID {
			want = set
		}
		AssertSame(t, "Member.Duty", m.Duty, want)
	}
	err = s.Update(ctx, func(tx wardline.Tx) error { return tx.SetDutySetting(ctx, wardline.NewID(), set) })
	AssertCode(t, err, wardline.ENOTFOUND)
	// A status cleared is none.
	MustUpdate(t, s, func(tx wardline.Tx) error { return tx.SetDutySetting(ctx, f.Bob.ID, wardline.DutySetting{}) })
	if got, _ := s.DutySettings(ctx, []string{f.Bob.ID}); len(got) != 0 {
		t.Fatalf("cleared: %v", got)
	}

	p := wardline.ClinicalPolicy{Escalation: wardline.EscalationPolicy{UrgentAfterMinutes: 7, EmergencyAfterMinutes: 1, Steps: 4}, Categories: []string{"theatres"},
		WorkingHours: &wardline.WorkingHours{Start: "08:00", End: "20:00", TimeZone: "Europe/London", Weekdays: []int{1, 2}}, AlertOffDuty: true, CoveringRoleID: &cover}
	MustUpdate(t, s, func(tx wardline.Tx) error { return tx.SetClinicalPolicy(ctx, f.Org.ID, p) })
	MustUpdate(t, s, func(tx wardline.Tx) error { return tx.SetClinicalPolicy(ctx, f.Org.ID, p) }) // replaces
	gotP, err := s.ClinicalPolicy(ctx, f.Org.ID)
	if err != nil {
		t.Fatal(err)
	}
	AssertSame(t, "ClinicalPolicy", gotP, &p)
}

func testRoles(t *testing.T, s wardline.Store) {
	ctx := context.Background()
	f := MustCreateFixture(t, s)
	reg := &wardline.Role{ID: wardline.NewID(), OrgID: f.Org.ID, Name: "Registrar", EscalationRoleIDs: []string{}, CreatedAt: T0}
	sho := &wardline.Role{ID: wardline.NewID(), OrgID: f.Org.ID, Name: "SHO", FallbackRoleID: &reg.ID, EscalationRoleIDs: []string{reg.ID}, CreatedAt: T0}
	MustUpdate(t, s, func(tx wardline.Tx) error {
		if err := tx.CreateRole(ctx, reg); err != nil {
			return err
		}
		return tx.CreateRole(ctx, sho)
	})
	got, err := s.Role(ctx, sho.ID)
	if err != nil {
		t.Fatal(err)
	}
	AssertSame(t, "Role", got, sho)
	err = s.Update(ctx, func(tx wardline.Tx) error {
		return tx.CreateRole(ctx, &wardline.Role{ID: wardline.NewID(), OrgID: f.Org.ID, Name: "SHO", CreatedAt: T0})
	})
	AssertCode(t, err, wardline.ECONFLICT)
	sho.Name = "Registrar"
	err = s.Update(ctx, func(tx wardline.Tx) error { return tx.UpdateRole(ctx, sho) })
	AssertCode(t, err, wardline.ECONFLICT)
	sho.Name, sho.FallbackRoleID, sho.EscalationRoleIDs = "Senior House Officer", nil, []string{}
	MustUpdate(t, s, func(tx wardline.Tx) error { return tx.UpdateRole(ctx, sho) })
	got, _ = s.Role(ctx, sho.ID)
	AssertSame(t, "Role after update", got, sho)

	roles, next, err := s.Roles(ctx, f.Org.ID, "", "", 1)
	if err != nil || len(roles) != 1 || roles[0].ID != reg.ID || next == "" {
		t.Fatalf("Roles page 1: %v %q %v", roles, next, err)
	}
	roles, next, err = s.Roles(ctx, f.Org.ID, "", next, 1)
	if err != nil || len(roles) != 1 || roles[0].ID != sho.ID || next != "" {
		t.Fatalf("Roles page 2: %v %q %v", roles, next, err)
	}
	if roles, _, _ := s.Roles(ctx, f.Org.ID, "senior", "", 50); len(roles) != 1 {
		t.Fatalf("Roles matching: %d", len(roles))
	}

	// Holdings: taken (open-ended), a rota period, one that ended.
	hold := func(user string, from, to int, source string) *wardline.RoleHolder {
		h := &wardline.RoleHolder{ID: wardline.NewID(), RoleID: reg.ID, UserID: user, Source: source, Since: at(from)}
		if to > 0 {
			end := at(to)
			h.Until = &end
		}
		return h
	}
	alice, bob, carol := hold(f.Alice.ID, 0, 0, wardline.HoldTaken), hold(f.Bob.ID, 100, 200, wardline.HoldRota), hold(f.Carol.ID, 0, 50, wardline.HoldTaken)
	MustUpdate(t, s, func(tx wardline.Tx) error {
		for _, h := range []*wardline.RoleHolder{alice, bob, carol} {
			if err := tx.AddRoleHolder(ctx, h, h.Source != wardline.HoldRota); err != nil {
				return err
			}
		}
		return nil
	})
	holders := func(when int) []string {
		t.Helper()
		hs, err := s.RoleHolders(ctx, []string{reg.ID, sho.ID}, at(when))
		if err != nil {
			t.Fatal(err)
		}
		if len(hs[sho.ID]) != 0 {
			t.Fatal("holders of a role nobody holds")
		}
		var out []string
		for _, h := range hs[reg.ID] {
			out = append(out, h.UserID)
		}
		return out
	}
	if got := holders(10); len(got) != 2 || got[0] != f.Alice.ID || got[1] != f.Carol.ID {
		t.Fatalf("holders at 10: %v", got)
	}
	if got := holders(150); len(got) != 2 || got[1] != f.Bob.ID {
		t.Fatalf("holders at 150: %v", got)
	}
	if got := holders(200); len(got) != 1 {
		t.Fatalf("holders at 200 (the rota has ended): %v", got)
	}
	// Inactive users hold nothing.
	f.Alice.Status = wardline.UserSuspended
	MustUpdate(t, s, func(tx wardline.Tx) error { return tx.UpdateUser(ctx, f.Alice) })
	if got := holders(300); len(got) != 0 {
		t.Fatalf("a suspended user holds the role: %v", got)
	}
	f.Alice.Status = wardline.UserActive
	MustUpdate(t, s, func(tx wardline.Tx) error { return tx.UpdateUser(ctx, f.Alice) })

	// Ending holdings: only those that cover the time, and later rota periods stay.
	var n int
	MustUpdate(t, s, func(tx wardline.Tx) error {
		var err error
		n, err = tx.EndRoleHoldings(ctx, reg.ID, f.Alice.ID, at(300))
		return err
	})
	if n != 1 || len(holders(301)) != 0 {
		t.Fatalf("EndRoleHoldings: %d, holders %v", n, holders(301))
	}
	later := hold(f.Bob.ID, 1000, 2000, wardline.HoldRota)
	current := hold(f.Bob.ID, 500, 0, wardline.HoldTaken)
	MustUpdate(t, s, func(tx wardline.Tx) error {
		if err := tx.AddRoleHolder(ctx, later, false); err != nil {
			return err
		}
		return tx.AddRoleHolder(ctx, current, true)
	})
	var left []string
	MustUpdate(t, s, func(tx wardline.Tx) error {
		var err error
		left, err = tx.EndUserRoleHoldings(ctx, f.Bob.ID, at(600))
		return err
	})
	if len(left) != 1 || left[0] != reg.ID || len(holders(700)) != 0 || len(holders(1500)) != 0 {
		t.Fatalf("EndUserRoleHoldings: %v; holders %v, %v", left, holders(700), holders(1500))
	}
}

func testRotaClaims(t *testing.T, s wardline.Store) {
	ctx := context.Background()
	f := MustCreateFixture(t, s)
	role := &wardline.Role{ID: wardline.NewID(), OrgID: f.Org.ID, Name: "Night SHO", EscalationRoleIDs: []string{}, CreatedAt: T0}
	end := at(200)
	h := &wardline.RoleHolder{ID: wardline.NewID(), RoleID: role.ID, UserID: f.Bob.ID, Source: wardline.HoldRota, Since: at(100), Until: &end}
	MustUpdate(t, s, func(tx wardline.Tx) error {
		if err := tx.CreateRole(ctx, role); err != nil {
			return err
		}
		return tx.AddRoleHolder(ctx, h, false)
	})
	due := func(when int) []*wardline.RoleHolder {
		t.Helper()
		d, err := s.DueRotaChanges(ctx, at(when), 10)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := due(99); len(d) != 0 {
		t.Fatalf("due before the start: %d", len(d))
	}
	if d := due(100); len(d) != 1 || d[0].StartApplied || d[0].ID != h.ID {
		t.Fatalf("due at the start: %+v", d)
	}
	// Of many concurrent claims of one change, exactly one wins.
	claim := func(start bool) int {
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = s.Update(ctx, func(tx wardline.Tx) error {
					ok, err := tx.ClaimRotaChange(ctx, h.ID, start)
					if ok {
						mu.Lock()
						won++
						mu.Unlock()
					}
					return err
				})
			}()
		}
		wg.Wait()
		return won
	}
	if won := claim(true); won != 1 {
		t.Fatalf("start claimed %d times", won)
	}
	if d := due(150); len(d) != 0 {
		t.Fatalf("due after the start was applied: %d", len(d))
	}
	if d := due(200); len(d) != 1 || !d[0].StartApplied || d[0].EndApplied {
		t.Fatalf("due at the end: %+v", d)
	}
	if won := claim(false); won != 1 {
		t.Fatalf("end claimed %d times", won)
	}
	if d := due(300); len(d) != 0 {
		t.Fatalf("due after the end was applied: %d", len(d))
	}
}

func testRotaListAndCancel(t *testing.T, s wardline.Store) {
	ctx := context.Background()
	f := MustCreateFixture(t, s)
	role := &wardline.Role{ID: wardline.NewID(), OrgID: f.Org.ID, Name: "Night registrar", EscalationRoleIDs: []string{}, CreatedAt: T0}
	other := &wardline.Role{ID: wardline.NewID(), OrgID: f.Org.ID, Name: "Day registrar", EscalationRoleIDs: []string{}, CreatedAt: T0}
	rota := func(r *wardline.Role, user string, from, to int) *wardline.RoleHolder {
		end := at(to)
		return &wardline.RoleHolder{ID: wardline.NewID(), RoleID: r.ID, UserID: user, Source: wardline.HoldRota, Since: at(from), Until: &end}
	}
	past := rota(role, f.Alice.ID, 0, 100)
	now := rota(role, f.Bob.ID, 100, 300)
	next := rota(role, f.Carol.ID, 300, 500)
	sameStart := rota(role, f.Alice.ID, 300, 400)
	later := rota(role, f.Bob.ID, 600, 700)
	elsewhere := rota(other, f.Alice.ID, 100, 900)
	taken := &wardline.RoleHolder{ID: wardline.NewID(), RoleID: role.ID, UserID: f.Carol.ID, Source: wardline.HoldTaken, Since: at(50)}
	MustUpdate(t, s, func(tx wardline.Tx) error {
		if err := errors.Join(tx.CreateRole(ctx, role), tx.CreateRole(ctx, other)); err != nil {
			return err
		}
		for _, h := range []*wardline.RoleHolder{past, now, next, sameStart, later, elsewhere, taken} {
			if err := tx.AddRoleHolder(ctx, h, h.Source != wardline.HoldRota); err != nil {
				return err
			}
		}
		return nil
	})

	// The rota at 150: what has not ended, by start then id, rota periods of this role only;
	// paged two at a time.
	listOf := func(of wardline.RotaOf, when int) []string {
		t.Helper()
		var ids []string
		cursor := ""
		for range 10 {
			page, nextCursor, err := s.RotaHoldings(ctx, of, at(when), cursor, 2)
			if err != nil {
				t.Fatalf("RotaHoldings: %v", err)
			}
			if len(page) > 2 {
				t.Fatalf("a page of %d, limit 2", len(page))
			}
			for _, h := range page {
				if (of.RoleID != "" && h.RoleID != of.RoleID) || (of.UserID != "" && h.UserID != of.UserID) || h.Source != wardline.HoldRota {
					t.Fatalf("RotaHoldings(%+v) answered %+v", of, h)
				}
				ids = append(ids, h.ID)
			}
			if cursor = nextCursor; cursor == "" {
				return ids
			}
		}
		t.Fatal("RotaHoldings never ended its pages")
		return nil
	}
	list := func(when int) []string { return listOf(wardline.RotaOf{RoleID: role.ID}, when) }
	firstTwo := []string{next.ID, sameStart.ID}
	if sameStart.ID < next.ID {
		firstTwo = []string{sameStart.ID, next.ID}
	}
	want := append([]string{now.ID}, append(firstTwo, later.ID)...)
	if got := list(150); !slices.Equal(got, want) {
		t.Fatalf("rota at 150: got %v, want %v", got, want)
	}
	if _, _, err := s.RotaHoldings(ctx, wardline.RotaOf{RoleID: role.ID}, at(150), "not a cursor", 2); wardline.ErrorCode(err) != wardline.EINVALID {
		t.Fatalf("RotaHoldings with a bad cursor: %v", err)
	}
	// One person's periods in every role, by start then id: Alice's past one has ended, and a
	// holding she took would not be a rota period (Carol's taken one is not listed for her).
	alice := []string{elsewhere.ID, sameStart.ID}
	if got := listOf(wardline.RotaOf{UserID: f.Alice.ID}, 150); !slices.Equal(got, alice) {
		t.Fatalf("Alice's rota at 150: got %v, want %v", got, alice)
	}
	if got := listOf(wardline.RotaOf{UserID: f.Carol.ID}, 150); !slices.Equal(got, []string{next.ID}) {
		t.Fatalf("Carol's rota at 150: got %v, want only %s", got, next.ID)
	}
	if got := listOf(wardline.RotaOf{UserID: f.Alice.ID}, 950); len(got) != 0 {
		t.Fatalf("Alice's rota at 950, after all of hers ended: %v", got)
	}

	got, err := s.RoleHolding(ctx, now.ID)
	if err != nil {
		t.Fatal(err)
	}
	AssertSame(t, "RoleHolding", got, now)
	_, err = s.RoleHolding(ctx, wardline.NewID())
	AssertCode(t, err, wardline.ENOTFOUND)

	// Cancelled at 150: the period under way ends then, its start and end applied (the scheduler
	// leaves it alone); one not started is gone; one that has ended, or a taken holding, is not
	// found.
	MustUpdate(t, s, func(tx wardline.Tx) error {
		return errors.Join(tx.CancelRotaHolding(ctx, now.ID, at(150)), tx.CancelRotaHolding(ctx, later.ID, at(150)))
	})
	got, err = s.RoleHolding(ctx, now.ID)
	if err != nil || !got.Until.Equal(at(150)) || !got.StartApplied || !got.EndApplied {
		t.Fatalf("the period under way after cancelling: %+v, %v", got, err)
	}
	_, err = s.RoleHolding(ctx, later.ID)
	AssertCode(t, err, wardline.ENOTFOUND)
	if got := list(150); !slices.Equal(got, firstTwo) {
		t.Fatalf("rota at 150 after cancelling: got %v, want %v", got, firstTwo)
	}
	for _, h := range []*wardline.RoleHolder{past, taken} {
		err := s.Update(ctx, func(tx wardline.Tx) error { return tx.CancelRotaHolding(ctx, h.ID, at(150)) })
		AssertCode(t, err, wardline.ENOTFOUND)
	}
	if d, err := s.DueRotaChanges(ctx, at(250), 10); err != nil {
		t.Fatal(err)
	} else {
		for _, h := range d {
			if h.ID == now.ID || h.ID == later.ID {
				t.Fatalf("a cancelled period is still due: %+v", h)
			}
		}
	}
}

func testEscalations(t *testing.T, s wardline.Store) {
	ctx := context.Background()
	f := MustCreateFixture(t, s)
	msgs := MustSendMessages(t, s, f.Conv.ID, f.Alice.ID, 3, at(0))
	next := func(n int) *time.Time { v := at(n); return &v }
	mk := func(m *wardline.Message, group string, nextAt int) *wardline.Escalation {
		return &wardline.Escalation{
			State: wardline.EscalationPending, Step: 0, NextAt: next(nextAt), Notified: []string{f.Bob.ID},
			MessageID: m.ID, ConversationID: m.ConversationID, OrgID: f.Org.ID, SenderID: f.Alice.ID, GroupID: group,
			Priority: wardline.PriorityUrgent, Interval: 5 * time.Minute, LastStep: 3, CreatedAt: at(0), UpdatedAt: at(0),
		}
	}
	a, b, c := mk(msgs[0], msgs[0].ID, 300), mk(msgs[1], msgs[0].ID, 600), mk(msgs[2], msgs[2].ID, 100)
	MustUpdate(t, s, func(tx wardline.Tx) error {
		for _, e := range []*wardline.Escalation{a, b, c} {
			if err := tx.InsertEscalation(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := s.Escalations(ctx, []string{msgs[0].ID, msgs[1].ID, wardline.NewID()})
	if err != nil || len(got) != 2 {
		t.Fatalf("Escalations: %v, %v", got, err)
	}
	AssertSame(t, "Escalation", got[a.MessageID], a)
	err = s.Update(ctx, func(tx wardline.Tx) error { return tx.InsertEscalation(ctx, a) })
	AssertCode(t, err, wardline.ECONFLICT)

	due, err := s.DueEscalations(ctx, at(300), 10)
	if err != nil || len(due) != 2 || due[0].MessageID != c.MessageID || due[1].MessageID != a.MessageID {
		t.Fatalf("DueEscalations at 300: %v, %v", due, err)
	}

	// A step is claimed once: a claim from a step already taken matches nothing.
	moved := *a
	moved.Step, moved.NextAt, moved.Notified, moved.UpdatedAt = 1, next(600), []string{f.Bob.ID, f.Carol.ID}, at(300)
	role := wardline.NewID()
	step := &wardline.EscalationStep{MessageID: a.MessageID, Step: 1, At: at(300), Notified: []string{f.Bob.ID, f.Carol.ID}, Added: []string{f.Carol.ID}, RoleID: &role}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = s.Update(ctx, func(tx wardline.Tx) error {
				ok, err := tx.ClaimEscalationStep(ctx, &moved, 0, step)
				if ok {
					mu.Lock()
					won++
					mu.Unlock()
				}
				return err
			})
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("step claimed %d times", won)
	}
	got, _ = s.Escalations(ctx, []string{a.MessageID})
	AssertSame(t, "Escalation after step 1", got[a.MessageID], &moved)
	steps, err := s.EscalationSteps(ctx, a.MessageID)
	if err != nil || len(steps) != 1 {
		t.Fatalf("EscalationSteps: %v, %v", steps, err)
	}
	AssertSame(t, "EscalationStep", steps[0], step)

	// Acknowledging one message of a group stops the group, not other groups.
	var stopped []*wardline.Escalation
	MustUpdate(t, s, func(tx wardline.Tx) error {
		var err error
		stopped, err = tx.AcknowledgeEscalations(ctx, b.MessageID, at(400))
		return err
	})
	if len(stopped) != 2 {
		t.Fatalf("acknowledged %d, want the 2 of the group", len(stopped))
	}
	for _, e := range stopped {
		if e.State != wardline.EscalationAcknowledged || e.NextAt != nil || !e.UpdatedAt.Equal(at(400)) {
			t.Fatalf("acknowledged: %+v", e)
		}
	}
	MustUpdate(t, s, func(tx wardline.Tx) error {
		var err error
		stopped, err = tx.AcknowledgeEscalations(ctx, a.MessageID, at(500))
		return err
	})
	if len(stopped) != 0 {
		t.Fatalf("acknowledged twice: %d", len(stopped))
	}
	if due, _ := s.DueEscalations(ctx, at(10000), 10); len(due) != 1 || due[0].MessageID != c.MessageID {
		t.Fatalf("due after acknowledgement: %v", due)
	}
	// Claiming a step of an acknowledged escalation matches nothing.
	MustUpdate(t, s, func(tx wardline.Tx) error {
		ok, err := tx.ClaimEscalationStep(ctx, &moved, 1, &wardline.EscalationStep{MessageID: a.MessageID, Step: 2, At: at(600)})
		if ok {
			t.Error("a step of an acknowledged escalation was claimed")
		}
		return err
	})
}
