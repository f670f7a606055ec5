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
	s := mustOpen(t)
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
	checkSearches(t, s, f.Org.ID, actors[:3], convs[:2], through, 60)
}

// checkSearches compares every search by person and conversation, in both orders, with seq
// bounds on either side of around, with and without an action, with small limits, to the same
// filter applied in Go to the whole log, which must hold size entries.
func checkSearches(t *testing.T, s *Store, orgID string, actors, convs []string, around int64, size int) {
	t.Helper()
	ctx := t.Context()
	all, err := s.AuditEvents(ctx, wardline.AuditFilter{Limit: 10000})
	if err != nil || len(all) != size {
		t.Fatalf("AuditEvents: %d entries, %v; want %d", len(all), err, size)
	}
	for _, actor := range append(slices.Clip(actors), "", "no-such-person") {
		for _, conv := range append(slices.Clip(convs), "", "no-such-conversation") {
			if actor == "" && conv == "" {
				continue
			}
			for _, desc := range []bool{false, true} {
				for _, bounds := range [][2]int64{{0, 0}, {around - 3, 0}, {0, around + 2}, {around - 10, around + 5}, {around, 0}} {
					for _, action := range []string{"", wardline.ActionHistoryRead} {
						for _, limit := range []int{1, 3, 100} {
							q := wardline.AuditFilter{OrgID: orgID, ActorID: actor, ConversationID: conv, Desc: desc,
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

// filedState reads how far the search tables are complete (audit_indexed.through) and how many
// entries they hold in all.
func filedState(t *testing.T, s *Store) (through, rows int64) {
	t.Helper()
	err := s.rdb.QueryRow(`SELECT (SELECT through FROM audit_indexed WHERE id = 1),
		(SELECT COUNT(*) FROM audit_by_actor) + (SELECT COUNT(*) FROM audit_by_conversation)`).Scan(&through, &rows)
	if err != nil {
		t.Fatal(err)
	}
	return through, rows
}

// appendMixed appends n audit entries, one batch each, among actors and conversations (every
// third with none).
func appendMixed(t *testing.T, s *Store, orgID string, actors, convs []string, n int, each func(i int)) {
	t.Helper()
	for i := range n {
		e := storetest.NewAuditEvent(orgID, actors[i%len(actors)], []string{wardline.ActionMessageSent, wardline.ActionHistoryRead}[i%2], storetest.T0)
		e.ConversationID = append(slices.Clip(convs), "")[(i/2)%(len(convs)+1)]
		storetest.MustAppendAudit(t, s, e)
		if each != nil {
			each(i)
		}
	}
}

// TestAuditRunIsFiledInChunks files a run of entries a few at a time, one chunk per batch: no
// batch files more than a chunk (a whole run in one batch held every send behind it), the
// search tables count as complete only once the run is, and every search meanwhile is exact.
func TestAuditRunIsFiledInChunks(t *testing.T) {
	s := mustOpen(t)
	s.auditIndexLag.Store(30)
	s.auditFileChunk.Store(4)
	f := storetest.MustCreateFixture(t, s)
	other := storetest.NewConversation(f.Org.ID, wardline.KindGroup, storetest.T0, f.Alice.ID, f.Bob.ID)
	storetest.MustCreateConversations(t, s, other)
	actors, convs := []string{f.Alice.ID, f.Bob.ID, f.Carol.ID}, []string{f.Conv.ID, other.ID}
	base, _ := filedState(t, s)
	var size int64
	if err := s.rdb.QueryRow(`SELECT COUNT(*) FROM audit_events`).Scan(&size); err != nil {
		t.Fatal(err)
	}
	prevThrough, prevRows := filedState(t, s)
	var partial, chunks int
	appendMixed(t, s, f.Org.ID, actors, convs, 90, func(i int) {
		through, rows := filedState(t, s)
		if rows-prevRows > 4 {
			t.Fatalf("entry %d: one batch filed %d entries, want at most a chunk of 4", i, rows-prevRows)
		}
		if rows > prevRows {
			chunks++
		}
		if through != prevThrough && through-prevThrough < 30 {
			t.Fatalf("entry %d: filed through %d after %d: want whole runs of at least 30", i, through, prevThrough)
		}
		if through == prevThrough && rows > prevRows {
			partial++
			if i%7 == 0 {
				checkSearches(t, s, f.Org.ID, actors, convs, through, int(size)+i+1)
			}
		}
		prevThrough, prevRows = through, rows
	})
	through, _ := filedState(t, s)
	if through < base+60 || partial < 10 || chunks < 20 {
		t.Errorf("filed through %d from %d, %d batches left a run partly filed, %d filed a chunk: want two runs filed a chunk at a time",
			through, base, partial, chunks)
	}
	checkSearches(t, s, f.Org.ID, actors, convs, through, int(size)+90)
}

// TestAuditFilingCatchesUpInLargeBatches checks the size of the chunks batches file. Within two
// runs' worth of unfiled entries every batch files a plain chunk (4 here), however many writes it
// holds: a large chunk would make a large batch slower and the next one larger still. Past that,
// a batch of 64 writes files a chunk in proportion (16), so that filing keeps up at full load.
func TestAuditFilingCatchesUpInLargeBatches(t *testing.T) {
	s, ctx := mustOpen(t), t.Context()
	s.auditIndexLag.Store(50)
	s.auditFileChunk.Store(4)
	f := storetest.MustCreateFixture(t, s)
	pileUp := func() { // in one write
		events := make([]*wardline.AuditEvent, 60)
		for i := range events {
			events[i] = storetest.NewAuditEvent(f.Org.ID, f.Alice.ID, wardline.ActionHistoryRead, storetest.T0)
			events[i].ConversationID = f.Conv.ID
		}
		storetest.MustAppendAudit(t, s, events...)
	}
	// filed answers how many entries a batch of one and then a batch of 64 writes filed.
	filed := func() int64 {
		_, before := filedState(t, s)
		release := holdWriter(t, s)
		var queued []<-chan error
		for range 64 {
			queued = append(queued, enqueue(t, s, ctx, func(tx wardline.Tx) error {
				return tx.AppendAudit(ctx, storetest.NewAuditEvent(f.Org.ID, f.Bob.ID, wardline.ActionHistoryRead, storetest.T0))
			}))
		}
		release()
		for _, done := range queued {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		_, after := filedState(t, s)
		return after - before
	}
	pileUp() // a run under way, under 100 entries unfiled
	if n := filed(); n != 4+4 {
		t.Errorf("within two runs' worth: a batch of one and a batch of 64 filed %d entries, want 4 + 4", n)
	}
	pileUp() // past 100
	if n := filed(); n != 4+16 {
		t.Errorf("behind: a batch of one and a batch of 64 filed %d entries, want 4 + 16", n)
	}
}

// TestAuditRunCutShortIsFiledAgain closes the store with a run partly filed. After a restart the
// entries already filed are filed again without a failure (INSERT OR IGNORE), the run
// completes, and searches are exact.
func TestAuditRunCutShortIsFiledAgain(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "w.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var failures []error
	observe := func(s *Store) {
		s.auditIndexLag.Store(20)
		s.auditFileChunk.Store(4)
		s.ErrorObserver = func(err error) { failures = append(failures, err) } // the writer's goroutine only
	}
	observe(s)
	f := storetest.MustCreateFixture(t, s)
	actors, convs := []string{f.Alice.ID, f.Bob.ID}, []string{f.Conv.ID}
	var size int64
	if err := s.rdb.QueryRow(`SELECT COUNT(*) FROM audit_events`).Scan(&size); err != nil {
		t.Fatal(err)
	}
	base, baseRows := filedState(t, s)
	n := 0
	for {
		appendMixed(t, s, f.Org.ID, actors, convs, 1, nil)
		n++
		if through, rows := filedState(t, s); through == base && rows >= baseRows+8 {
			break // a run under way, two chunks in
		} else if through != base || n > 100 {
			t.Fatalf("after %d entries: filed through %d (from %d), %d rows: no run was caught part way", n, through, base, rows)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	observe(s)
	appendMixed(t, s, f.Org.ID, actors, convs, 40, nil)
	through, _ := filedState(t, s)
	if len(failures) != 0 || through <= base {
		t.Fatalf("after the restart: filed through %d (from %d), failures %v", through, base, failures)
	}
	checkSearches(t, s, f.Org.ID, actors, convs, through, int(size)+n+40)
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
