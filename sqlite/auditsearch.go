package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
)

// auditIndexLag is how many audit entries the writer lets gather before it files them into the
// search tables (audit_by_actor, audit_by_conversation; migration 0006) in one run sorted by key.
// Filed one by one, every entry wrote a leaf page of each table's for itself (its person's, its
// conversation's): half of the pages a send wrote to the WAL. In a run, a busy person's or
// conversation's page is written once for all of its entries. Searches read the unfiled tail from
// the log itself (AuditEvents), so nothing waits for a run.
const auditIndexLag = 512

// auditIndexRun bounds one run (a log whose entries were never filed, say, is filed over several
// runs).
const auditIndexRun = 4 * auditIndexLag

// auditFileChunk is how many of a run's entries (in either table) a batch files. A run of 512
// entries filed in one batch took 20-56 ms of the writer's time (its pages read, then written at
// the commit), twice a second at 1,000 msgs/s, and every send queued behind it waited. Filed in
// key order a chunk at a time, a run costs each of a dozen batches about 2 ms instead, and a busy
// person's entries still share their pages (they are next to each other in the run). Should the
// unfiled entries pass two runs' worth, a batch of more than 16 writes files auditFileChunk/16
// for each, so that filing keeps up at any rate; always doing so made a large batch file a large
// chunk and so take longer, and the next batch larger still (a batch of 67 filed 536 entries in
// 44 ms).
const auditFileChunk = 64

// auditRun is a run of entries being filed into the search tables, a chunk per batch. Entries
// are filed with INSERT OR IGNORE, so a run cut short by a restart or by another process's writer
// (an admin command files entries too) is simply filed again, and audit_indexed.through moves
// only when a run is complete: until then searches read every entry of the run from the log.
type auditRun struct {
	upTo  int64
	items []auditItem // entries by person, then by conversation, each sorted by key and seq
	next  int         // items before next are filed (committed)
}

type auditItem struct {
	conversation bool
	key          string
	seq          int64
}

// auditFiling is what a batch filed, applied once the batch commits (doneFiling).
type auditFiling struct {
	run  *auditRun
	next int
}

// fileAudit files the next chunk of the run under way, starting one when at least
// auditIndexLag entries may be unfiled, in a savepoint of the batch's transaction. writes is
// the batch's size. A chunk that fails is undone, told to ErrorObserver and its run dropped; a
// new run starts auditIndexLag entries later. It never fails the batch's writes: searches stay
// complete meanwhile, reading a longer tail.
func (s *Store) fileAudit(ctx context.Context, writes int) auditFiling {
	if s.filing == nil && s.alog.size-s.auditIndexed < s.auditIndexLag.Load() {
		return auditFiling{}
	}
	if _, err := s.wq.db.exec(ctx, "SAVEPOINT file"); err != nil {
		return auditFiling{} // the transaction itself is broken: the batch's own statements will say so
	}
	f, err := s.fileChunk(ctx, writes)
	if err != nil {
		_, _ = s.wq.db.exec(ctx, "ROLLBACK TO file")
		s.filing, s.auditIndexed, f = nil, s.alog.size, auditFiling{}
		if s.ErrorObserver != nil {
			s.ErrorObserver(err)
		}
	}
	_, _ = s.wq.db.exec(ctx, "RELEASE file")
	return f
}

// fileChunk starts a run if none is under way (and enough entries are unfiled), files its next
// chunk, and, with its last, moves audit_indexed.through to the run's end.
func (s *Store) fileChunk(ctx context.Context, writes int) (auditFiling, error) {
	if s.filing == nil {
		run, err := s.startAuditRun(ctx)
		if err != nil || run == nil {
			return auditFiling{}, err
		}
		s.filing = run
	}
	run := s.filing
	n := int(s.auditFileChunk.Load())
	if s.alog.size-s.auditIndexed > 2*s.auditIndexLag.Load() {
		n = max(n, writes*n/16)
	}
	n = min(n, len(run.items)-run.next)
	for _, it := range run.items[run.next : run.next+n] {
		q := `INSERT OR IGNORE INTO audit_by_actor (actor_id, seq) VALUES (?, ?)`
		if it.conversation {
			q = `INSERT OR IGNORE INTO audit_by_conversation (conversation_id, seq) VALUES (?, ?)`
		}
		if _, err := s.wq.db.exec(ctx, q, it.key, it.seq); err != nil {
			return auditFiling{}, fmt.Errorf("file audit entries: %w", err)
		}
	}
	if run.next+n == len(run.items) {
		// Another process's writer may have filed further meanwhile: through never goes back.
		if _, err := s.wq.db.exec(ctx, `UPDATE audit_indexed SET through = MAX(through, ?) WHERE id = 1`, run.upTo); err != nil {
			return auditFiling{}, fmt.Errorf("file audit entries: %w", err)
		}
	}
	return auditFiling{run: run, next: run.next + n}, nil
}

// startAuditRun reads the unfiled entries of the next run, if at least auditIndexLag have
// gathered, and sorts them by key. It answers nil when there are too few.
func (s *Store) startAuditRun(ctx context.Context) (*auditRun, error) {
	// The hint may be stale (an admin command's own writer files entries too): the transaction
	// holds the write lock, so this read is exact.
	var through int64
	if err := s.wq.db.queryRow(ctx, `SELECT through FROM audit_indexed WHERE id = 1`).Scan(&through); err != nil {
		return nil, fmt.Errorf("read audit search state: %w", err)
	}
	if s.alog.size-through < s.auditIndexLag.Load() {
		s.auditIndexed = through
		return nil, nil
	}
	run := &auditRun{upTo: min(s.alog.size, through+auditIndexRun)}
	rows, err := s.wq.db.query(ctx, `SELECT actor_id, conversation_id, seq FROM audit_events WHERE seq > ? AND seq <= ?`, through, run.upTo)
	if err != nil {
		return nil, fmt.Errorf("read audit entries to file: %w", err)
	}
	defer rows.Close()
	var convs []auditItem
	for rows.Next() {
		var actor, conv string
		var seq int64
		if err := rows.Scan(&actor, &conv, &seq); err != nil {
			return nil, fmt.Errorf("read audit entries to file: %w", err)
		}
		run.items = append(run.items, auditItem{key: actor, seq: seq})
		if conv != "" {
			convs = append(convs, auditItem{conversation: true, key: conv, seq: seq})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit entries to file: %w", err)
	}
	byKey := func(a, b auditItem) int { return cmp.Or(strings.Compare(a.key, b.key), cmp.Compare(a.seq, b.seq)) }
	slices.SortFunc(run.items, byKey)
	slices.SortFunc(convs, byKey)
	run.items = append(run.items, convs...)
	return run, nil
}

// doneFiling records, once the batch has committed, what it filed.
func (s *Store) doneFiling(f auditFiling) {
	if f.run == nil {
		return
	}
	f.run.next = f.next
	if f.next == len(f.run.items) {
		s.auditIndexed = f.run.upTo
		if s.filing == f.run {
			s.filing = nil
		}
	}
}

// auditSearch is the part of an audit query that finds entries by person or by conversation:
// the filed entries through the search table, in seq order, and the unfiled tail of the log,
// merged by the one statement so that both are read from the same snapshot.
type auditSearch struct {
	table, key, value string
}

// query builds the statement: cols (qualified by e.), the other conditions cond (on e.) with
// their args, the order and the limit.
func (a auditSearch) query(cols string, cond []string, args []any, afterSeq, beforeSeq int64, order string, limit int) (string, []any) {
	rest := ""
	if len(cond) > 0 {
		rest = " AND " + strings.Join(cond, " AND ")
	}
	bounds, boundArgs := "", []any{}
	if afterSeq > 0 {
		bounds, boundArgs = bounds+" AND x.seq > ?", append(boundArgs, afterSeq)
	}
	if beforeSeq > 0 {
		bounds, boundArgs = bounds+" AND x.seq < ?", append(boundArgs, beforeSeq)
	}
	// CROSS JOIN keeps the search table outside: walked in seq order from its key, it ends the
	// moment the limit is reached, however large the organisation's log.
	// The filed side answers x.seq (the same value as e.seq) so that its order is the search
	// table's and needs no sort.
	filed := `SELECT ` + strings.Replace(cols, "e.seq", "x.seq", 1) + ` FROM ` + a.table + ` x CROSS JOIN audit_events e ON e.seq = x.seq
		WHERE x.` + a.key + ` = ? AND x.seq <= (SELECT through FROM audit_indexed WHERE id = 1)` + bounds + rest
	tail := `SELECT ` + cols + ` FROM audit_events e
		WHERE e.seq > (SELECT through FROM audit_indexed WHERE id = 1) AND e.` + a.key + ` = ?` + rest
	all := make([]any, 0, 2*len(args)+len(boundArgs)+3)
	all = append(all, a.value)
	all = append(all, boundArgs...)
	all = append(all, args...)
	all = append(all, a.value)
	all = append(all, args...)
	all = append(all, limit)
	return filed + ` UNION ALL ` + tail + ` ORDER BY seq ` + order + ` LIMIT ?`, all
}

// qualified prefixes each of the audit columns with e.
func qualified(cols string) string {
	parts := strings.Split(cols, ", ")
	for i, p := range parts {
		parts[i] = "e." + p
	}
	return strings.Join(parts, ", ")
}

var auditColumnsE = qualified(auditColumns)
