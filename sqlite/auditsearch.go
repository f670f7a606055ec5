package sqlite

import (
	"context"
	"fmt"
	"strings"
)

// auditIndexLag is how many audit entries the writer lets gather before it files them into the
// search tables (audit_by_actor, audit_by_conversation; migration 0006), in one run sorted by
// key inside a batch's transaction. Filed one by one, every entry wrote a leaf page of each
// table's for itself (its person's, its conversation's): half of the pages a send wrote to the
// WAL. In a run, a busy person's or conversation's page is written once for all of its entries.
// Searches read the unfiled tail from the log itself (AuditEvents), so nothing waits for a run,
// and a run costs no commit of its own. But the sends in its batch wait for it: runs of 2,048
// took 6-26 ms and raised the p99 at 1,000 msgs/s (53-135 against 43-55 ms); runs of 512 did
// not (42-58 against 56-98) and kept most of the gain at full load (docs/PERFORMANCE.md).
const auditIndexLag = 512

// auditIndexRun bounds one run (a log whose entries were never filed, say, is filed over several
// batches, not in one long one).
const auditIndexRun = 4 * auditIndexLag

// fileAudit runs indexAudit when at least auditIndexLag entries may be unfiled, in a savepoint
// of the batch's transaction: a run that fails is undone, told to ErrorObserver and tried again
// auditIndexLag entries later, and never fails the batch's writes (searches stay complete
// meanwhile, reading a longer tail). It answers the new filed-through seq, or 0.
func (s *Store) fileAudit(ctx context.Context) int64 {
	if s.alog.size-s.auditIndexed < s.auditIndexLag.Load() {
		return 0
	}
	if _, err := s.wq.db.exec(ctx, "SAVEPOINT file"); err != nil {
		return 0 // the transaction itself is broken: the batch's own statements will say so
	}
	upTo, err := s.indexAudit(ctx)
	if err != nil {
		_, _ = s.wq.db.exec(ctx, "ROLLBACK TO file")
		s.auditIndexed, upTo = s.alog.size, 0
		if s.ErrorObserver != nil {
			s.ErrorObserver(err)
		}
	}
	_, _ = s.wq.db.exec(ctx, "RELEASE file")
	return upTo
}

// indexAudit files the log's unfiled entries if at least auditIndexLag have gathered, inside
// the batch's transaction, and answers the new filed-through seq (0 when it did nothing), which
// becomes s.auditIndexed if the batch commits.
func (s *Store) indexAudit(ctx context.Context) (int64, error) {
	lag := s.auditIndexLag.Load()
	// The hint may be stale (an admin command's own writer files entries too): the transaction
	// holds the write lock, so this read is exact.
	var through int64
	if err := s.wq.db.queryRow(ctx, `SELECT through FROM audit_indexed WHERE id = 1`).Scan(&through); err != nil {
		return 0, fmt.Errorf("read audit search state: %w", err)
	}
	if s.alog.size-through < lag {
		s.auditIndexed = through
		return 0, nil
	}
	upTo := min(s.alog.size, through+auditIndexRun)
	for _, q := range []string{
		`INSERT INTO audit_by_actor (actor_id, seq)
			SELECT actor_id, seq FROM audit_events WHERE seq > ? AND seq <= ? ORDER BY actor_id, seq`,
		`INSERT INTO audit_by_conversation (conversation_id, seq)
			SELECT conversation_id, seq FROM audit_events WHERE seq > ? AND seq <= ? AND conversation_id != ''
			ORDER BY conversation_id, seq`,
	} {
		if _, err := s.wq.db.exec(ctx, q, through, upTo); err != nil {
			return 0, fmt.Errorf("file audit entries: %w", err)
		}
	}
	if _, err := s.wq.db.exec(ctx, `UPDATE audit_indexed SET through = ? WHERE id = 1`, upTo); err != nil {
		return 0, fmt.Errorf("file audit entries: %w", err)
	}
	return upTo, nil
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
