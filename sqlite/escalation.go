package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"wardline"
)

// Escalations of urgent and emergency messages, and the steps they took.

const escalationColumns = `message_id, conversation_id, org_id, sender_id, group_id, priority, state, step, next_at, interval_us, last_step, notified, created_at, updated_at`

func scanEscalation(r interface{ Scan(...any) error }) (*wardline.Escalation, error) {
	var e wardline.Escalation
	var next sql.NullInt64
	var interval, created, updated int64
	var notified string
	if err := r.Scan(&e.MessageID, &e.ConversationID, &e.OrgID, &e.SenderID, &e.GroupID, &e.Priority, &e.State, &e.Step,
		&next, &interval, &e.LastStep, &notified, &created, &updated); err != nil {
		return nil, err
	}
	e.NextAt = fromNullMicros(next)
	e.Interval = time.Duration(interval) * time.Microsecond
	e.CreatedAt, e.UpdatedAt = fromMicros(created), fromMicros(updated)
	if err := json.Unmarshal([]byte(notified), &e.Notified); err != nil {
		return nil, err
	}
	if e.Notified == nil {
		e.Notified = []string{}
	}
	return &e, nil
}

func jsonIDs(ids []string) string {
	if ids == nil {
		ids = []string{}
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

func (q queries) InsertEscalation(ctx context.Context, e *wardline.Escalation) error {
	_, err := q.db.exec(ctx, `INSERT INTO escalations (`+escalationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.MessageID, e.ConversationID, e.OrgID, e.SenderID, e.GroupID, e.Priority, e.State, e.Step, nullMicros(e.NextAt),
		e.Interval.Microseconds(), e.LastStep, jsonIDs(e.Notified), micros(e.CreatedAt), micros(e.UpdatedAt))
	if isUnique(err) {
		return wardline.Errorf(wardline.ECONFLICT, "the message has an escalation already")
	}
	return err
}

func (q queries) scanEscalations(rows *sql.Rows, err error) ([]*wardline.Escalation, error) {
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
	list, err := q.scanEscalations(q.db.query(ctx, `SELECT `+escalationColumns+` FROM escalations
		WHERE message_id IN (SELECT value FROM json_each(?))`, jsonIDs(msgIDs)))
	for _, e := range list {
		out[e.MessageID] = e
	}
	return out, err
}

func (q queries) DueEscalations(ctx context.Context, now time.Time, limit int) ([]*wardline.Escalation, error) {
	return q.scanEscalations(q.db.query(ctx, `SELECT `+escalationColumns+` FROM escalations
		WHERE state = 'pending' AND next_at <= ? ORDER BY next_at, message_id LIMIT ?`, micros(now), clampLimit(limit)))
}

// ClaimEscalationStep is a conditional update on (state, step): when several nodes find the same
// step due, the first to commit moves it on and the others' updates match no row.
func (q queries) ClaimEscalationStep(ctx context.Context, e *wardline.Escalation, fromStep int, step *wardline.EscalationStep) (bool, error) {
	res, err := q.db.exec(ctx, `UPDATE escalations SET state = ?, step = ?, next_at = ?, notified = ?, updated_at = ?
		WHERE message_id = ? AND state = 'pending' AND step = ?`,
		e.State, e.Step, nullMicros(e.NextAt), jsonIDs(e.Notified), micros(e.UpdatedAt), e.MessageID, fromStep)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return false, err
	}
	_, err = q.db.exec(ctx, `INSERT INTO escalation_steps (message_id, step, at, notified, added, role_id) VALUES (?, ?, ?, ?, ?, ?)`,
		step.MessageID, step.Step, micros(step.At), jsonIDs(step.Notified), jsonIDs(step.Added), step.RoleID)
	return err == nil, err
}

func (q queries) AcknowledgeEscalations(ctx context.Context, msgID string, at time.Time) ([]*wardline.Escalation, error) {
	return q.scanEscalations(q.db.query(ctx, `UPDATE escalations SET state = 'acknowledged', next_at = NULL, updated_at = ?
		WHERE group_id = (SELECT group_id FROM escalations WHERE message_id = ?) AND state <> 'acknowledged'
		RETURNING `+escalationColumns, micros(at), msgID))
}

func (q queries) EscalationSteps(ctx context.Context, msgID string) ([]*wardline.EscalationStep, error) {
	rows, err := q.db.query(ctx, `SELECT message_id, step, at, notified, added, role_id FROM escalation_steps WHERE message_id = ? ORDER BY step`, msgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*wardline.EscalationStep
	for rows.Next() {
		var s wardline.EscalationStep
		var at int64
		var notified, added string
		var role sql.NullString
		if err := rows.Scan(&s.MessageID, &s.Step, &at, &notified, &added, &role); err != nil {
			return nil, err
		}
		s.At, s.RoleID = fromMicros(at), nullString(role)
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
