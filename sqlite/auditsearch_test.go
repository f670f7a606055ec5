package sqlite

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"wardline"
	"wardline/storetest"
)

// TestStoreWithAuditFiledEveryBatch runs the store contract with the audit search tables filled
// at the start of every batch, so that its searches by person and conversation read entries
// from both sides: filed (audit_by_actor, audit_by_conversation) and the log's unfiled tail.
func TestStoreWithAuditFiledEveryBatch(t *testing.T) {
	storetest.Run(t, func(t *testing.T) wardline.Store {
		s := mustOpen(t)
		s.auditIndexLag.Store(1)
		return s
	})
}

// TestAuditSearchMatchesAScan compares every search by person and conversation, in both
// orders, with seq bounds on either side of the filed boundary and with small limits, to the
// same filter applied to the whole log in Go.
func TestAuditSearchMatchesAScan(t *testing.T) {
	s, ctx := mustOpen(t), t.Context()
	s.auditIndexLag.Store(7)
	f := storetest.MustCreateFixture(t, s)
	other := storetest.NewConversation(f.Org.ID, wardline.KindGroup, storetest.T0, f.Alice.ID, f.Bob.ID)
	storetest.MustCreateConversations(t, s, other)
	actors := []string{f.Alice.ID, f.Bob.ID, f.Carol.ID, ""}
	convs := []string{f.Conv.ID, other.ID, ""}
	actions := []string{wardline.ActionMessageSent, wardline.ActionHistoryRead}
	for i := range 60 {
		e := storetest.NewAuditEvent(f.Org.ID, actors[i%len(actors)], actions[i%2], storetest.T0)
		e.ConversationID = convs[(i/2)%len(convs)]
		storetest.MustAppendAudit(t, s, e) // one batch each: the writer files every 7
	}
	through := s.auditIndexed
	if through < 40 || through >= 60 {
		t.Fatalf("filed through %d of 60 entries: want most filed and a tail not", through)
	}
	all, err := s.AuditEvents(ctx, wardline.AuditFilter{Limit: 1000})
	if err != nil || len(all) != 60 {
		t.Fatalf("AuditEvents: %d entries, %v", len(all), err)
	}

	for _, actor := range append(actors[:3:3], "", "no-such-person") {
		for _, conv := range append(convs[:2:2], "", "no-such-conversation") {
			if actor == "" && conv == "" {
				continue
			}
			for _, desc := range []bool{false, true} {
				for _, bounds := range [][2]int64{{0, 0}, {through - 3, 0}, {0, through + 2}, {through - 10, through + 5}, {through, 0}} {
					for _, action := range []string{"", wardline.ActionHistoryRead} {
						for _, limit := range []int{1, 3, 100} {
							q := wardline.AuditFilter{OrgID: f.Org.ID, ActorID: actor, ConversationID: conv, Desc: desc,
								AfterSeq: bounds[0], BeforeSeq: bounds[1], Action: action, Limit: limit}
							got, err := s.AuditEvents(ctx, q)
							if err != nil {
								t.Fatalf("%+v: %v", q, err)
							}
							if g, w := seqsOf(got), seqsOf(scan(all, q)); !slices.Equal(g, w) {
								t.Errorf("%+v: got %v, want %v", q, g, w)
							}
						}
					}
				}
			}
		}
	}
}

// scan applies q to the whole log, as a search must answer it.
func scan(all []*wardline.AuditEvent, q wardline.AuditFilter) []*wardline.AuditEvent {
	var out []*wardline.AuditEvent
	for _, e := range all {
		if (q.ActorID == "" || e.ActorID == q.ActorID) && (q.ConversationID == "" || e.ConversationID == q.ConversationID) &&
			(q.Action == "" || e.Action == q.Action) && (q.AfterSeq == 0 || e.Seq > q.AfterSeq) && (q.BeforeSeq == 0 || e.Seq < q.BeforeSeq) {
			out = append(out, e)
		}
	}
	if q.Desc {
		slices.Reverse(out)
	}
	return out[:min(len(out), q.Limit)]
}

func seqsOf(es []*wardline.AuditEvent) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.Seq
	}
	return out
}

// TestAuditSearchWalksItsTableInOrder checks the plan of a search: the search table is read
// from the key in seq order (so a limit ends it early) and nothing is sorted, in either order;
// a sort would read every entry of a busy person before answering the first page.
func TestAuditSearchWalksItsTableInOrder(t *testing.T) {
	s := mustOpen(t)
	for _, search := range []auditSearch{
		{table: "audit_by_actor", key: "actor_id", value: "a"},
		{table: "audit_by_conversation", key: "conversation_id", value: "c"},
	} {
		for _, order := range []string{"ASC", "DESC"} {
			q, args := search.query(auditColumnsE, []string{"e.org_id = ?", "e.action = ?"}, []any{"o", "x"}, 5, 0, order, 50)
			rows, err := s.rdb.Query("EXPLAIN QUERY PLAN "+q, args...)
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			rows.Close()
			text := strings.Join(plan, "\n")
			if strings.Contains(text, "TEMP B-TREE") || !strings.Contains(text, "SEARCH x USING PRIMARY KEY ("+search.key+"=?") {
				t.Errorf("%s %s: plan\n%s", search.table, order, text)
			}
		}
	}
}

// TestAuditSearchTablesFilledOnUpgrade opens a database as it was before the search tables
// (migration 0006), with a log: the migration files every entry, and searches find them all.
func TestAuditSearchTablesFilledOnUpgrade(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "w.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.auditIndexLag.Store(1 << 40) // nothing filed by the writer
	f := storetest.MustCreateFixture(t, s)
	for i := range 30 {
		e := storetest.NewAuditEvent(f.Org.ID, []string{f.Alice.ID, f.Bob.ID}[i%2], wardline.ActionHistoryRead, storetest.T0)
		e.ConversationID = []string{f.Conv.ID, ""}[i%2]
		storetest.MustAppendAudit(t, s, e)
	}
	// Back to the schema before 0006.
	for _, q := range []string{
		`DROP TABLE audit_by_actor`, `DROP TABLE audit_by_conversation`, `DROP TABLE audit_indexed`,
		`CREATE INDEX audit_org_actor ON audit_events(org_id, actor_id, seq)`,
		`CREATE INDEX audit_org_conversation ON audit_events(org_id, conversation_id, seq) WHERE conversation_id != ''`,
		`DELETE FROM migrations WHERE name = 'migration/0006_audit_search_tables.sql'`,
	} {
		if err := s.Update(ctx, func(tx wardline.Tx) error { _, err := tx.(*txn).db.exec(ctx, q); return err }); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("Open after the upgrade: %v", err)
	}
	defer s.Close()
	var last int64
	if err := s.rdb.QueryRow(`SELECT MAX(seq) FROM audit_events`).Scan(&last); err != nil || last < 30 || s.auditIndexed != last {
		t.Errorf("filed through %d after the upgrade, want every entry (%d; %v)", s.auditIndexed, last, err)
	}
	for _, q := range []wardline.AuditFilter{{ActorID: f.Alice.ID}, {ActorID: f.Bob.ID}, {ConversationID: f.Conv.ID}} {
		got, err := s.AuditEvents(ctx, q)
		if err != nil || len(got) != 15 {
			t.Errorf("%+v after the upgrade: %d entries (%v), want 15", q, len(got), err)
		}
	}
	var n int
	if err := s.rdb.QueryRow(`SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('audit_org_actor', 'audit_org_conversation')`).Scan(&n); err != nil || n != 0 {
		t.Errorf("old indexes left: %d (%v)", n, err)
	}
}

// TestAuditFilingThatFailsStopsNoWrite breaks the search table by conversation: every write
// still commits, the failure is told to ErrorObserver, and searches still find every entry
// (from the log's tail, since the failed runs were undone whole).
func TestAuditFilingThatFailsStopsNoWrite(t *testing.T) {
	s, ctx := mustOpen(t), t.Context()
	s.auditIndexLag.Store(1)
	var failures []error
	s.ErrorObserver = func(err error) { failures = append(failures, err) } // the writer's goroutine only
	f := storetest.MustCreateFixture(t, s)
	if err := s.Update(ctx, func(tx wardline.Tx) error {
		_, err := tx.(*txn).db.exec(ctx, `DROP TABLE audit_by_conversation`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		e := storetest.NewAuditEvent(f.Org.ID, f.Alice.ID, wardline.ActionHistoryRead, storetest.T0)
		e.ConversationID = f.Conv.ID
		storetest.MustAppendAudit(t, s, e) // fails the test if the write fails
	}
	if len(failures) == 0 || !strings.Contains(failures[0].Error(), "audit_by_conversation") {
		t.Errorf("failures told: %v, want the run's", failures)
	}
	got, err := s.AuditEvents(ctx, wardline.AuditFilter{ActorID: f.Alice.ID})
	if err != nil || len(got) != 5 {
		t.Errorf("search by person: %d entries (%v), want 5", len(got), err)
	}
}
