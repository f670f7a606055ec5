package sqlite

import (
	"context"
	"encoding/json"
	"time"

	"wardline"
)

func (q queries) AppendAudit(ctx context.Context, e *wardline.AuditEvent) error {
	detail := []byte("{}")
	if len(e.Detail) > 0 {
		var err error
		if detail, err = json.Marshal(e.Detail); err != nil {
			return err
		}
	}
	return q.db.queryRow(ctx, `INSERT INTO audit_events (id, at, org_id, actor_id, session_id, addr, action, target_type, target_id, conversation_id, outcome, justification, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
		e.ID, micros(e.At), e.OrgID, e.ActorID, e.SessionID, e.Addr, e.Action, e.TargetType, e.TargetID,
		e.ConversationID, e.Outcome, e.Justification, string(detail)).Scan(&e.Seq)
}

func (q queries) AuditEvents(ctx context.Context, f wardline.AuditFilter) ([]*wardline.AuditEvent, error) {
	limit := clampLimit(f.Limit)
	until := f.Until
	if until.IsZero() {
		until = time.Unix(1<<40, 0)
	}
	rows, err := q.db.query(ctx, `SELECT seq, id, at, org_id, actor_id, session_id, addr, action, target_type, target_id, conversation_id, outcome, justification, detail
		FROM audit_events
		WHERE (? = '' OR org_id = ?) AND seq > ? AND (? = '' OR actor_id = ?) AND (? = '' OR conversation_id = ?)
		  AND (? = '' OR action = ?) AND at >= ? AND at < ?
		ORDER BY seq LIMIT ?`,
		f.OrgID, f.OrgID, f.AfterSeq, f.ActorID, f.ActorID, f.ConversationID, f.ConversationID, f.Action, f.Action,
		micros(f.Since), micros(until), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*wardline.AuditEvent
	for rows.Next() {
		var e wardline.AuditEvent
		var at int64
		var detail string
		if err := rows.Scan(&e.Seq, &e.ID, &at, &e.OrgID, &e.ActorID, &e.SessionID, &e.Addr, &e.Action, &e.TargetType,
			&e.TargetID, &e.ConversationID, &e.Outcome, &e.Justification, &detail); err != nil {
			return nil, err
		}
		e.At = fromMicros(at)
		if detail != "{}" {
			if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
				return nil, err
			}
		}
		out = append(out, &e)
	}
	return out, rows.Err()
}
