package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"wardline"
)

// Escalations of urgent and emergency messages, and the steps they took.

const escalationColumns = `message_id, conversation_id, org_id, sender_id, group_id, priority, state, step, next_at, interval_us, last_step, notified::text, created_at, updated_at`

func scanEscalation(r interface{ Scan(...any) error }) (*wardline.Escalation, error) {
	var e wardline.Escalation
	var interval int64
	var notified string
	if err := r.Scan(&e.MessageID, &e.ConversationID, &e.OrgID, &e.SenderID, &e.GroupID, &e.Priority, &e.State, &e.Step,
		&e.NextAt, &interval, &e.LastStep, &notified, &e.CreatedAt, &e.UpdatedAt); err != nil {
		return nil, err
	}
	e.NextAt = utcPtr(e.NextAt)
	e.Interval = time.Duration(interval) * time.Microsecond
	e.CreatedAt, e.UpdatedAt = utc(e.CreatedAt), utc(e.UpdatedAt)
	if err := json.Unmarshal([]byte(notified), &e.Notified); err != nil {
		return nil, err
	}
	if e.Notified == nil {
		e.Notified = []string{}
	}
	return &e, nil
}

func (q queries) InsertEscalation(ctx context.Context, e *wardline.Escalation) error {
	tag, err := q.db.Exec(ctx, `INSERT INTO escalations (message_id, conversation_id, org_id, sender_id, group_id, priority, state, step, next_at, interval_us, last_step, notified, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::text::jsonb, $13, $14) ON CONFLICT DO NOTHING`,
		e.MessageID, e.ConversationID, e.OrgID, e.SenderID, e.GroupID, e.Priority, e.State, e.Step, e.NextAt,
		e.Interval.Microseconds(), e.LastStep, jsonIDs(e.Notified), e.CreatedAt, e.UpdatedAt)
	if err == nil && tag.RowsAffected() == 0 {
		return wardline.Errorf(wardline.ECONFLICT, "the message has an escalation already")
	}
	return err
}

func scanEscalations(rows pgx.Rows, err error) ([]*wardline.Escalation, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*wardline.Escalation
	for rows.Next() {
		e, err := scanEscalation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (q queries) Escalations(ctx context.Context, msgIDs []string) (map[string]*wardline.Escalation, error) {
	out := make(map[string]*wardline.Escalation, len(msgIDs))
	if len(msgIDs) == 0 {
		return out, nil
	}
	list, err := scanEscalations(q.db.Query(ctx, `SELECT `+escalationColumns+` FROM escalations WHERE message_id = ANY($1)`, msgIDs))
	for _, e := range list {
		out[e.MessageID] = e
	}
	return out, err
}

func (q queries) DueEscalations(ctx context.Context, now time.Time, limit int) ([]*wardline.Escalation, error) {
	return scanEscalations(q.db.Query(ctx, `SELECT `+escalationColumns+` FROM escalations
		WHERE state = 'pending' AND next_at <= $1 ORDER BY next_at, message_id LIMIT $2`, now, clampLimit(limit)))
}

// ClaimEscalationStep is a conditional update on (state, step): when several nodes find the same
// step due, the first to commit moves it on; the others wait for its row lock, re-check the
// condition on the committed row and match nothing. Exactly one node fires each step.
func (q queries) ClaimEscalationStep(ctx context.Context, e *wardline.Escalation, fromStep int, step *wardline.EscalationStep) (bool, error) {
	tag, err := q.db.Exec(ctx, `UPDATE escalations SET state = $1, step = $2, next_at = $3, notified = $4::text::jsonb, updated_at = $5
		WHERE message_id = $6 AND state = 'pending' AND step = $7`,
		e.State, e.Step, e.NextAt, jsonIDs(e.Notified), e.UpdatedAt, e.MessageID, fromStep)
	if err != nil || tag.RowsAffected() != 1 {
		return false, err
	}
	_, err = q.db.Exec(ctx, `INSERT INTO escalation_steps (message_id, step, at, notified, added, role_id) VALUES ($1, $2, $3, $4::text::jsonb, $5::text::jsonb, $6)`,
		step.MessageID, step.Step, step.At, jsonIDs(step.Notified), jsonIDs(step.Added), step.RoleID)
	return err == nil, err
}

func (q queries) AcknowledgeEscalations(ctx context.Context, msgID string, at time.Time) ([]*wardline.Escalation, error) {
	return scanEscalations(q.db.Query(ctx, `UPDATE escalations SET state = 'acknowledged', next_at = NULL, updated_at = $1
		WHERE group_id = (SELECT group_id FROM escalations WHERE message_id = $2) AND state <> 'acknowledged'
		RETURNING `+escalationColumns, at, msgID))
}

func (q queries) EscalationSteps(ctx context.Context, msgID string) ([]*wardline.EscalationStep, error) {
	rows, err := q.db.Query(ctx, `SELECT message_id, step, at, notified::text, added::text, role_id FROM escalation_steps WHERE message_id = $1 ORDER BY step`, msgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*wardline.EscalationStep
	for rows.Next() {
		var s wardline.EscalationStep
		var notified, added string
		if err := rows.Scan(&s.MessageID, &s.Step, &s.At, &notified, &added, &s.RoleID); err != nil {
			return nil, err
		}
		s.At = utc(s.At)
		if err := json.Unmarshal([]byte(notified), &s.Notified); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(added), &s.Added); err != nil {
			return nil, err
		}
		out = append(out, &s)
	}
	return out, rows.Err()
}
