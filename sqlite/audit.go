package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"wardline"
	"wardline/audit"
)

const auditColumns = `seq, id, at, org_id, actor_id, session_id, addr, action, target_type, target_id, conversation_id, outcome, justification, detail`

// AppendAudit adds e to the log at the next seq, with its leaf hash, and queues the leaf for the
// Merkle tree that the batch's commit persists. The seq and the hash come from the writer's
// memory, so an append costs one INSERT and a SHA-256, never a query more: seqs stay gapless
// because a savepoint that rolls back hands its seqs back (auditBatch).
func (t *txn) AppendAudit(ctx context.Context, e *wardline.AuditEvent) error {
	detail := []byte("{}")
	if len(e.Detail) > 0 {
		var err error
		if detail, err = json.Marshal(e.Detail); err != nil {
			return err
		}
	}
	seq := t.log.nextSeq(len(t.pending))
	e.Seq = seq
	var leaf []byte
	if t.log.hashing {
		leaf = audit.LeafHash(e)
	}
	if _, err := t.db.exec(ctx, `INSERT INTO audit_events (seq, id, at, org_id, actor_id, session_id, addr, action, target_type, target_id, conversation_id, outcome, justification, detail, leaf_hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		seq, e.ID, micros(e.At), e.OrgID, e.ActorID, e.SessionID, e.Addr, e.Action, e.TargetType, e.TargetID,
		e.ConversationID, e.Outcome, e.Justification, string(detail), leaf); err != nil {
		e.Seq = 0
		return err
	}
	t.pending = append(t.pending, leaf)
	return nil
}

func scanAuditEvent(rows interface{ Scan(...any) error }, extra ...any) (*wardline.AuditEvent, error) {
	var e wardline.AuditEvent
	var at int64
	var detail string
	dest := append([]any{&e.Seq, &e.ID, &at, &e.OrgID, &e.ActorID, &e.SessionID, &e.Addr, &e.Action, &e.TargetType,
		&e.TargetID, &e.ConversationID, &e.Outcome, &e.Justification, &detail}, extra...)
	if err := rows.Scan(dest...); err != nil {
		return nil, err
	}
	e.At = fromMicros(at)
	if detail != "{}" && detail != "" {
		if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
			return nil, err
		}
	}
	return &e, nil
}

func (q queries) AuditEvents(ctx context.Context, f wardline.AuditFilter) ([]*wardline.AuditEvent, error) {
	limit := clampLimit(f.Limit)
	until := f.Until
	if until.IsZero() {
		until = time.Unix(1<<40, 0)
	}
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	// Each condition is added only when set, so that SQLite can pick the index for the one that
	// narrows most instead of scanning the organisation's log. A person or a conversation is
	// found through its search table (auditSearch); the patient through its index.
	var search *auditSearch
	switch {
	case f.ActorID != "":
		search = &auditSearch{table: "audit_by_actor", key: "actor_id", value: f.ActorID}
		if f.ConversationID != "" {
			add("e.conversation_id = ?", f.ConversationID)
		}
	case f.ConversationID != "":
		search = &auditSearch{table: "audit_by_conversation", key: "conversation_id", value: f.ConversationID}
	}
	if f.OrgID != "" {
		add("e.org_id = ?", f.OrgID)
	}
	if f.PatientHMAC != "" {
		add("json_extract(e.detail, '$.patient_hmac') = ?", f.PatientHMAC)
	}
	if f.Action != "" {
		add("e.action = ?", f.Action)
	}
	if f.TargetID != "" {
		add("e.target_id = ?", f.TargetID)
	}
	if f.AfterSeq > 0 {
		add("e.seq > ?", f.AfterSeq)
	}
	if f.BeforeSeq > 0 {
		add("e.seq < ?", f.BeforeSeq)
	}
	if !f.Since.IsZero() {
		add("e.at >= ?", micros(f.Since))
	}
	if !f.Until.IsZero() {
		add("e.at < ?", micros(until))
	}
	order := "ASC"
	if f.Desc {
		order = "DESC"
	}
	var query string
	if search != nil {
		query, args = search.query(auditColumnsE, where, args, f.AfterSeq, f.BeforeSeq, order, limit)
	} else {
		query = `SELECT ` + auditColumnsE + ` FROM audit_events e`
		if len(where) > 0 {
			query += ` WHERE ` + strings.Join(where, " AND ")
		}
		query += ` ORDER BY e.seq ` + order + ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := q.db.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*wardline.AuditEvent
	for rows.Next() {
		e, err := scanAuditEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (q queries) AuditEntries(ctx context.Context, afterSeq int64, limit int) ([]*wardline.AuditEntry, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := q.db.query(ctx, `SELECT `+auditColumns+`, leaf_hash FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`, afterSeq, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]*wardline.AuditEntry, 0, min(limit, 4096))
	for rows.Next() {
		var leaf []byte
		e, err := scanAuditEvent(rows, &leaf)
		if err != nil {
			return nil, err
		}
		out = append(out, &wardline.AuditEntry{Event: e, LeafHash: leaf})
	}
	return out, rows.Err()
}

func (q queries) AuditEventsMatching(ctx context.Context, afterSeq int64, actions []string, targetType string, limit int) ([]*wardline.AuditEvent, int64, error) {
	if limit <= 0 {
		limit = 1000
	}
	var tip sql.NullInt64
	if err := q.db.queryRow(ctx, `SELECT MAX(seq) FROM audit_events`).Scan(&tip); err != nil {
		return nil, 0, err
	}
	if !tip.Valid || tip.Int64 <= afterSeq {
		return nil, afterSeq, nil
	}
	args := []any{afterSeq, tip.Int64, targetType}
	in := make([]string, len(actions))
	for i, a := range actions {
		in[i] = "?"
		args = append(args, a)
	}
	if len(in) == 0 {
		in = append(in, "NULL")
	}
	args = append(args, limit)
	rows, err := q.db.query(ctx, `SELECT `+auditColumns+` FROM audit_events WHERE seq > ? AND seq <= ?
		AND (target_type = ? OR action IN (`+strings.Join(in, ", ")+`)) ORDER BY seq LIMIT ?`, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []*wardline.AuditEvent
	for rows.Next() {
		e, err := scanAuditEvent(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	through := tip.Int64
	if len(out) == limit {
		through = out[len(out)-1].Seq
	}
	return out, through, nil
}

func (q queries) AuditTreeState(ctx context.Context) (int64, []byte, error) {
	var size int64
	var state []byte
	err := q.db.queryRow(ctx, `SELECT size, state FROM audit_tree WHERE id = 1`).Scan(&size, &state)
	return size, state, err
}

func (q queries) AuditLeafHashes(ctx context.Context, begin, end int64) ([][]byte, error) {
	rows, err := q.db.query(ctx, `SELECT seq, leaf_hash FROM audit_events WHERE seq > ? AND seq <= ? ORDER BY seq`, begin, end)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([][]byte, 0, end-begin)
	want := begin + 1
	for rows.Next() {
		var seq int64
		var h []byte
		if err := rows.Scan(&seq, &h); err != nil {
			return nil, err
		}
		if seq != want || len(h) != audit.HashSize {
			return nil, wardline.Errorf(wardline.EINTERNAL, "audit entry %d is missing or has no leaf hash", want)
		}
		out = append(out, h)
		want++
	}
	return out, rows.Err()
}

const checkpointColumns = `size, root, at, note`

func scanCheckpoint(r interface{ Scan(...any) error }) (*wardline.AuditCheckpoint, error) {
	var c wardline.AuditCheckpoint
	var at int64
	if err := r.Scan(&c.Size, &c.Root, &at, &c.Note); err != nil {
		return nil, err
	}
	c.At = fromMicros(at)
	return &c, nil
}

func (q queries) InsertAuditCheckpoint(ctx context.Context, c *wardline.AuditCheckpoint) error {
	_, err := q.db.exec(ctx, `INSERT INTO audit_checkpoints (size, root, at, note) VALUES (?, ?, ?, ?)`, c.Size, c.Root, micros(c.At), c.Note)
	return err
}

func (q queries) AuditCheckpoints(ctx context.Context) ([]*wardline.AuditCheckpoint, error) {
	rows, err := q.db.query(ctx, `SELECT `+checkpointColumns+` FROM audit_checkpoints ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*wardline.AuditCheckpoint
	for rows.Next() {
		c, err := scanCheckpoint(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func (q queries) oneCheckpoint(ctx context.Context, query string, args ...any) (*wardline.AuditCheckpoint, error) {
	c, err := scanCheckpoint(q.db.queryRow(ctx, `SELECT `+checkpointColumns+` FROM audit_checkpoints `+query, args...))
	if err == sql.ErrNoRows {
		return nil, notFound("checkpoint")
	}
	return c, err
}

func (q queries) LatestAuditCheckpoint(ctx context.Context) (*wardline.AuditCheckpoint, error) {
	return q.oneCheckpoint(ctx, `ORDER BY size DESC, id DESC LIMIT 1`)
}

func (q queries) AuditCheckpointBySize(ctx context.Context, size int64) (*wardline.AuditCheckpoint, error) {
	return q.oneCheckpoint(ctx, `WHERE size = ? ORDER BY id DESC LIMIT 1`, size)
}

func (q queries) AuditCheckpointBefore(ctx context.Context, at time.Time) (*wardline.AuditCheckpoint, error) {
	return q.oneCheckpoint(ctx, `WHERE at < ? ORDER BY at DESC, id DESC LIMIT 1`, micros(at))
}
