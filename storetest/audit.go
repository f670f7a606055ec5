package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"wardline"
)

// NewAuditEvent returns a successful event of orgID by actorID at the given time; not stored yet.
func NewAuditEvent(orgID, actorID, action string, when time.Time) *wardline.AuditEvent {
	return &wardline.AuditEvent{
		ID:         wardline.NewID(),
		At:         when,
		OrgID:      orgID,
		ActorID:    actorID,
		SessionID:  wardline.NewID(),
		Addr:       "10.20.30.40",
		Action:     action,
		TargetType: "message",
		TargetID:   wardline.NewID(),
		Outcome:    wardline.OutcomeSuccess,
	}
}

// MustAppendAudit appends the events in one Update, setting their Seq.
func MustAppendAudit(tb testing.TB, s wardline.Store, events ...*wardline.AuditEvent) {
	tb.Helper()
	MustUpdate(tb, s, func(tx wardline.Tx) error {
		for _, e := range events {
			if err := tx.AppendAudit(tb.Context(), e); err != nil {
				return err
			}
		}
		return nil
	})
}

func auditSeqs(events []*wardline.AuditEvent) []int64 {
	out := make([]int64, len(events))
	for i, e := range events {
		out[i] = e.Seq
	}
	return out
}

func testAudit(t *testing.T, open opener) {
	t.Run("AppendAudit", func(t *testing.T) {
		// The verifier (audit.Verify) requires the log's seqs to be 1, 2, 3... with no gap.
		t.Run("SeqFromOne", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			f := MustCreateFixture(t, s)
			var events []*wardline.AuditEvent
			for i := range 5 {
				events = append(events, NewAuditEvent(f.Org.ID, f.Alice.ID, wardline.ActionMessageSent, at(i)))
			}
			MustAppendAudit(t, s, events[:3]...)
			MustAppendAudit(t, s, events[3:]...)
			if got, want := auditSeqs(events), span(1, 5); !slices.Equal(got, want) {
				t.Errorf("Seq: got %v, want %v", got, want)
			}
		})
		t.Run("RollbackLeavesNoGap", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			MustAppendAudit(t, s, NewAuditEvent(f.Org.ID, f.Alice.ID, wardline.ActionLoginSucceeded, at(0)))
			errAbandoned := errors.New("abandoned")
			err := s.Update(ctx, func(tx wardline.Tx) error {
				for i := range 2 {
					if err := tx.AppendAudit(ctx, NewAuditEvent(f.Org.ID, f.Alice.ID, wardline.ActionMessageSent, at(1+i))); err != nil {
						return err
					}
				}
				return errAbandoned
			})
			if !errors.Is(err, errAbandoned) {
				t.Fatalf("Update: got %v, want the fn's error", err)
			}
			e := NewAuditEvent(f.Org.ID, f.Alice.ID, wardline.ActionMessageSent, at(5))
			MustAppendAudit(t, s, e)
			if e.Seq != 2 {
				t.Errorf("Seq after a rolled-back append: got %d, want 2", e.Seq)
			}
			got, err := s.AuditEvents(ctx, wardline.AuditFilter{OrgID: f.Org.ID})
			if err != nil {
				t.Fatalf("AuditEvents: %v", err)
			}
			if got, want := auditSeqs(got), span(1, 2); !slices.Equal(got, want) {
				t.Errorf("AuditEvents seqs: got %v, want %v", got, want)
			}
		})
	})

	t.Run("AuditEvents", func(t *testing.T) {
		t.Run("RoundTrip", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			e := NewAuditEvent(f.Org.ID, f.Alice.ID, wardline.ActionHistoryRead, at(7))
			e.ConversationID, e.Justification, e.Outcome = f.Conv.ID, "clinical review", wardline.OutcomeDenied
			e.Detail = map[string]any{"from_seq": 3, "to_seq": int64(9), "ids": []string{"a", "b"}, "name": "x", "ok": true}
			bare := NewAuditEvent(f.Org.ID, f.Bob.ID, wardline.ActionLogout, at(8))
			MustAppendAudit(t, s, e, bare)

			got, err := s.AuditEvents(ctx, wardline.AuditFilter{OrgID: f.Org.ID})
			if err != nil {
				t.Fatalf("AuditEvents: %v", err)
			}
			if len(got) != 2 {
				t.Fatalf("AuditEvents: got %d events, want 2", len(got))
			}
			// Detail comes back as decoded JSON: every number is a float64 and every list a []any,
			// whatever was stored. Readers of Detail must expect that.
			want := *e
			want.Detail = map[string]any{"from_seq": float64(3), "to_seq": float64(9), "ids": []any{"a", "b"}, "name": "x", "ok": true}
			AssertSame(t, "AuditEvent", got[0], &want)
			AssertSame(t, "AuditEvent without detail", got[1], bare, "Detail")
			if len(got[1].Detail) != 0 {
				t.Errorf("Detail of an event without one: got %v, want empty", got[1].Detail)
			}
		})

		t.Run("Filters", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			other := MustCreateOrg(t, s, "Southgate")
			xena := MustCreateUser(t, s, other.ID, "Xena Xu")
			conv2 := wardline.NewID()
			// Ten events, one a second, in two organisations.
			type ev struct {
				org, actor, conv, action string
			}
			specs := []ev{
				{f.Org.ID, f.Alice.ID, f.Conv.ID, wardline.ActionMessageSent},   // 1
				{f.Org.ID, f.Bob.ID, f.Conv.ID, wardline.ActionMessageSent},     // 2
				{other.ID, xena.ID, "", wardline.ActionLoginSucceeded},          // 3
				{f.Org.ID, f.Alice.ID, conv2, wardline.ActionHistoryRead},       // 4
				{f.Org.ID, f.Alice.ID, "", wardline.ActionLoginSucceeded},       // 5
				{f.Org.ID, f.Bob.ID, conv2, wardline.ActionMessageSent},         // 6
				{other.ID, xena.ID, "", wardline.ActionLogout},                  // 7
				{f.Org.ID, f.Alice.ID, f.Conv.ID, wardline.ActionMessageEdited}, // 8
				{f.Org.ID, f.Carol.ID, f.Conv.ID, wardline.ActionMessageSent},   // 9
				{f.Org.ID, f.Alice.ID, f.Conv.ID, wardline.ActionMessageSent},   // 10
			}
			var events []*wardline.AuditEvent
			for i, sp := range specs {
				e := NewAuditEvent(sp.org, sp.actor, sp.action, at(i+1))
				e.ConversationID = sp.conv
				events = append(events, e)
			}
			MustAppendAudit(t, s, events...)

			for _, tt := range []struct {
				name string
				f    wardline.AuditFilter
				want []int64 // seqs, which here are the events' numbers above
			}{
				{"Org", wardline.AuditFilter{OrgID: f.Org.ID}, []int64{1, 2, 4, 5, 6, 8, 9, 10}},
				{"OtherOrg", wardline.AuditFilter{OrgID: other.ID}, []int64{3, 7}},
				{"UnknownOrg", wardline.AuditFilter{OrgID: wardline.NewID()}, nil},
				{"Actor", wardline.AuditFilter{OrgID: f.Org.ID, ActorID: f.Alice.ID}, []int64{1, 4, 5, 8, 10}},
				{"ActorOfOtherOrg", wardline.AuditFilter{OrgID: f.Org.ID, ActorID: xena.ID}, nil},
				{"Conversation", wardline.AuditFilter{OrgID: f.Org.ID, ConversationID: f.Conv.ID}, []int64{1, 2, 8, 9, 10}},
				{"Action", wardline.AuditFilter{OrgID: f.Org.ID, Action: wardline.ActionMessageSent}, []int64{1, 2, 6, 9, 10}},
				{"ActorAndAction", wardline.AuditFilter{OrgID: f.Org.ID, ActorID: f.Alice.ID, Action: wardline.ActionMessageSent}, []int64{1, 10}},
				{"ConversationAndActor", wardline.AuditFilter{OrgID: f.Org.ID, ConversationID: conv2, ActorID: f.Bob.ID}, []int64{6}},
				// Since is inclusive and Until exclusive, so that ranges [a, b) [b, c) tile.
				{"Since", wardline.AuditFilter{OrgID: f.Org.ID, Since: at(6)}, []int64{6, 8, 9, 10}},
				{"Until", wardline.AuditFilter{OrgID: f.Org.ID, Until: at(5)}, []int64{1, 2, 4}},
				{"SinceUntil", wardline.AuditFilter{OrgID: f.Org.ID, Since: at(2), Until: at(8)}, []int64{2, 4, 5, 6}},
				{"AfterSeq", wardline.AuditFilter{OrgID: f.Org.ID, AfterSeq: 6}, []int64{8, 9, 10}},
				{"Limit", wardline.AuditFilter{OrgID: f.Org.ID, Limit: 3}, []int64{1, 2, 4}},
				{"AfterSeqLimit", wardline.AuditFilter{OrgID: f.Org.ID, AfterSeq: 4, Limit: 2}, []int64{5, 6}},
				{"AllCombined", wardline.AuditFilter{OrgID: f.Org.ID, ActorID: f.Alice.ID, ConversationID: f.Conv.ID,
					Action: wardline.ActionMessageSent, Since: at(1), Until: at(11), AfterSeq: 1, Limit: 5}, []int64{10}},
			} {
				t.Run(tt.name, func(t *testing.T) {
					got, err := s.AuditEvents(ctx, tt.f)
					if err != nil {
						t.Fatalf("AuditEvents: %v", err)
					}
					if !slices.Equal(auditSeqs(got), tt.want) {
						t.Errorf("AuditEvents(%+v): got seqs %v, want %v", tt.f, auditSeqs(got), tt.want)
					}
					for _, e := range got {
						if e.ID != events[e.Seq-1].ID {
							t.Errorf("event at seq %d: got id %s, want %s", e.Seq, e.ID, events[e.Seq-1].ID)
						}
					}
				})
			}
		})

		// The verifier reads the whole log, of every organisation, by leaving OrgID empty.
		t.Run("WholeLog", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			north, south := MustCreateOrg(t, s, "Northgate"), MustCreateOrg(t, s, "Southgate")
			var events []*wardline.AuditEvent
			for i := range 6 {
				org := north
				if i%3 == 1 {
					org = south
				}
				events = append(events, NewAuditEvent(org.ID, wardline.NewID(), wardline.ActionOrgCreated, at(i)))
			}
			MustAppendAudit(t, s, events...)
			var got []*wardline.AuditEvent
			f := wardline.AuditFilter{Limit: 4}
			for range 5 {
				page, err := s.AuditEvents(ctx, f)
				if err != nil {
					t.Fatalf("AuditEvents: %v", err)
				}
				if len(page) == 0 {
					break
				}
				got = append(got, page...)
				f.AfterSeq = page[len(page)-1].Seq
			}
			if got, want := ids(got, auditID), ids(events, auditID); !slices.Equal(got, want) {
				t.Errorf("whole log: got %v, want %v", got, want)
			}
		})
	})
}
