package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"wardline"
	"wardline/audit"
)

// AppendAudit adds e to the transaction's audit events. They are inserted and numbered together
// as the transaction's last step (see commitWithAudit), so e.Seq is set once Update has
// committed, not inside fn; reads inside the transaction already see e, without a seq.
func (q queries) AppendAudit(ctx context.Context, e *wardline.AuditEvent) error {
	if _, err := auditDetail(e); err != nil {
		return err
	}
	q.tx.audit = append(q.tx.audit, e)
	return nil
}

func auditDetail(e *wardline.AuditEvent) (string, error) {
	if len(e.Detail) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(e.Detail)
	return string(b), err
}

// auditArrays turns events into one array per column, for an insert from unnest.
func auditArrays(events []*wardline.AuditEvent) []any {
	n := len(events)
	var (
		ids, orgs, actors, sessions, addrs, actions   = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		ttypes, tids, convs, outcomes, justs, details = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		ats                                           = make([]time.Time, n)
	)
	for i, e := range events {
		ids[i], ats[i], orgs[i], actors[i], sessions[i], addrs[i] = e.ID, e.At, e.OrgID, e.ActorID, e.SessionID, e.Addr
		actions[i], ttypes[i], tids[i], convs[i], outcomes[i], justs[i] = e.Action, e.TargetType, e.TargetID, e.ConversationID, e.Outcome, e.Justification
		details[i], _ = auditDetail(e) // checked by AppendAudit
	}
	return []any{ids, ats, orgs, actors, sessions, addrs, actions, ttypes, tids, convs, outcomes, justs, details}
}

const auditColumns = `seq, id, at, org_id, actor_id, session_id, addr, action, target_type, target_id, conversation_id, outcome, justification, detail`

func scanAuditEvent(r interface{ Scan(...any) error }, extra ...any) (*wardline.AuditEvent, error) {
	var e wardline.AuditEvent
	var detail map[string]any
	dest := append([]any{&e.Seq, &e.ID, &e.At, &e.OrgID, &e.ActorID, &e.SessionID, &e.Addr, &e.Action, &e.TargetType,
		&e.TargetID, &e.ConversationID, &e.Outcome, &e.Justification, &detail}, extra...)
	if err := r.Scan(dest...); err != nil {
		return nil, err
	}
	e.At = utc(e.At)
	if len(detail) > 0 {
		e.Detail = detail
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
	add := func(cond string, a any) {
		args = append(args, a)
		where = append(where, strings.ReplaceAll(cond, "@@", "$"+strconv.Itoa(len(args))))
	}
	// Only the conditions that are set, so that the planner can use the index of the one that
	// narrows most (person, conversation, patient).
	if f.OrgID != "" {
		add("org_id = @@", f.OrgID)
	}
	if f.ActorID != "" {
		add("actor_id = @@", f.ActorID)
	}
	if f.ConversationID != "" {
		add("conversation_id = @@", f.ConversationID)
	}
	if f.PatientHMAC != "" {
		add("detail ? 'patient_hmac' AND detail->>'patient_hmac' = @@", f.PatientHMAC)
	}
	if f.Action != "" {
		add("action = @@", f.Action)
	}
	if f.TargetID != "" {
		add("target_id = @@", f.TargetID)
	}
	if f.AfterSeq > 0 {
		add("seq > @@", f.AfterSeq)
	}
	if f.BeforeSeq > 0 {
		add("seq < @@", f.BeforeSeq)
	}
	if !f.Since.IsZero() {
		add("at >= @@", f.Since)
	}
	if !f.Until.IsZero() {
		add("at < @@", until)
	}
	query := `SELECT ` + auditColumns + ` FROM audit_events`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	if f.Desc {
		query += ` ORDER BY seq DESC LIMIT $` + strconv.Itoa(len(args))
	} else {
		query += ` ORDER BY seq LIMIT $` + strconv.Itoa(len(args))
	}
	rows, err := q.db.Query(ctx, query, args...)
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
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Inside a transaction its own entries, not numbered until the commit, come after every
	// committed one.
	if q.tx != nil && !f.Desc && f.BeforeSeq == 0 {
		for _, e := range q.tx.audit {
			if len(out) >= limit {
				break
			}
			if (f.OrgID == "" || e.OrgID == f.OrgID) && (f.ActorID == "" || e.ActorID == f.ActorID) &&
				(f.ConversationID == "" || e.ConversationID == f.ConversationID) && (f.Action == "" || e.Action == f.Action) &&
				(f.TargetID == "" || e.TargetID == f.TargetID) && (f.PatientHMAC == "" || e.Detail["patient_hmac"] == f.PatientHMAC) &&
				!e.At.Before(f.Since) && e.At.Before(until) {
				c := *e
				out = append(out, &c)
			}
		}
	}
	return out, nil
}

func (q queries) AuditEntries(ctx context.Context, afterSeq int64, limit int) ([]*wardline.AuditEntry, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := q.db.Query(ctx, `SELECT `+auditColumns+`, leaf_hash FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`, afterSeq, limit)
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
	var tip *int64
	if err := q.db.QueryRow(ctx, `SELECT MAX(seq) FROM audit_events`).Scan(&tip); err != nil {
		return nil, 0, err
	}
	if tip == nil || *tip <= afterSeq {
		return nil, afterSeq, nil
	}
	if actions == nil {
		actions = []string{}
	}
	rows, err := q.db.Query(ctx, `SELECT `+auditColumns+` FROM audit_events WHERE seq > $1 AND seq <= $2
		AND (target_type = $3 OR action = ANY($4)) ORDER BY seq LIMIT $5`, afterSeq, *tip, targetType, actions, limit)
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
	through := *tip
	if len(out) == limit {
		through = out[len(out)-1].Seq
	}
	return out, through, nil
}

func (q queries) AuditTreeState(ctx context.Context) (int64, []byte, error) {
	var size int64
	var state []byte
	err := q.db.QueryRow(ctx, `SELECT size, state FROM audit_tree WHERE id = 1`).Scan(&size, &state)
	return size, state, err
}

func (q queries) AuditLeafHashes(ctx context.Context, begin, end int64) ([][]byte, error) {
	rows, err := q.db.Query(ctx, `SELECT seq, leaf_hash FROM audit_events WHERE seq > $1 AND seq <= $2 ORDER BY seq`, begin, end)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([][]byte, 0, max(end-begin, 0))
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
	if err := r.Scan(&c.Size, &c.Root, &c.At, &c.Note); err != nil {
		return nil, err
	}
	c.At = utc(c.At)
	return &c, nil
}

func (q queries) InsertAuditCheckpoint(ctx context.Context, c *wardline.AuditCheckpoint) error {
	_, err := q.db.Exec(ctx, `INSERT INTO audit_checkpoints (size, root, at, note) VALUES ($1, $2, $3, $4)`, c.Size, c.Root, c.At, c.Note)
	return err
}

func (q queries) AuditCheckpoints(ctx context.Context) ([]*wardline.AuditCheckpoint, error) {
	rows, err := q.db.Query(ctx, `SELECT `+checkpointColumns+` FROM audit_checkpoints ORDER BY id`)
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
	c, err := scanCheckpoint(q.db.QueryRow(ctx, `SELECT `+checkpointColumns+` FROM audit_checkpoints `+query, args...))
	if isNoRows(err) {
		return nil, notFound("checkpoint")
	}
	return c, err
}

func (q queries) LatestAuditCheckpoint(ctx context.Context) (*wardline.AuditCheckpoint, error) {
	return q.oneCheckpoint(ctx, `ORDER BY size DESC, id DESC LIMIT 1`)
}

func (q queries) AuditCheckpointBySize(ctx context.Context, size int64) (*wardline.AuditCheckpoint, error) {
	return q.oneCheckpoint(ctx, `WHERE size = $1 ORDER BY id DESC LIMIT 1`, size)
}

func (q queries) AuditCheckpointBefore(ctx context.Context, at time.Time) (*wardline.AuditCheckpoint, error) {
	return q.oneCheckpoint(ctx, `WHERE at < $1 ORDER BY at DESC, id DESC LIMIT 1`, at)
}

// CheckAuditLog reports a database whose log holds entries beyond its tree: they were written by
// something other than Wardline, and a server refuses to start on it (as on SQLite).
func (s *Store) CheckAuditLog(ctx context.Context) error {
	var size int64
	var maxSeq *int64
	if err := s.pool.QueryRow(ctx, `SELECT size FROM audit_tree WHERE id = 1`).Scan(&size); err != nil {
		return fmt.Errorf("read audit tree state: %w", err)
	}
	if err := s.pool.QueryRow(ctx, `SELECT MAX(seq) FROM audit_events`).Scan(&maxSeq); err != nil {
		return err
	}
	if maxSeq != nil && *maxSeq > size {
		return fmt.Errorf("the audit log holds entries up to %d but its Merkle tree covers %d: entries were written outside Wardline; run `wardline audit verify` and investigate before serving", *maxSeq, size)
	}
	return nil
}
