package sqlite

import (
	"context"
	"database/sql"
	"time"

	"wardline"
)

const investigationColumns = `id, org_id, conversation_id, opened_by, opened_at, justification, status, closed_by, closed_at`

func scanInvestigation(r interface{ Scan(...any) error }) (*wardline.Investigation, error) {
	var inv wardline.Investigation
	var opened int64
	var closed sql.NullInt64
	if err := r.Scan(&inv.ID, &inv.OrgID, &inv.ConversationID, &inv.OpenedBy, &opened, &inv.Justification, &inv.Status, &inv.ClosedBy, &closed); err != nil {
		return nil, err
	}
	inv.OpenedAt, inv.ClosedAt = fromMicros(opened), fromNullMicros(closed)
	return &inv, nil
}

func (q queries) CreateInvestigation(ctx context.Context, inv *wardline.Investigation) error {
	_, err := q.db.exec(ctx, `INSERT INTO investigations (`+investigationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		inv.ID, inv.OrgID, inv.ConversationID, inv.OpenedBy, micros(inv.OpenedAt), inv.Justification, inv.Status, inv.ClosedBy, nullMicros(inv.ClosedAt))
	return err
}

func (q queries) CloseInvestigation(ctx context.Context, id, by string, at time.Time) error {
	res, err := q.db.exec(ctx, `UPDATE investigations SET status = ?, closed_by = ?, closed_at = ? WHERE id = ? AND status = ?`,
		wardline.InvestigationClosed, by, micros(at), id, wardline.InvestigationOpen)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("open investigation")
	}
	return nil
}

func (q queries) Investigation(ctx context.Context, id string) (*wardline.Investigation, error) {
	inv, err := scanInvestigation(q.db.queryRow(ctx, `SELECT `+investigationColumns+` FROM investigations WHERE id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, notFound("investigation")
	}
	return inv, err
}

func (q queries) Investigations(ctx context.Context, orgID, cursor string, limit int) ([]*wardline.Investigation, string, error) {
	limit = clampLimit(limit)
	afterAt, afterID, err := decodeTimeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	rows, err := q.db.query(ctx, `SELECT `+investigationColumns+` FROM investigations
		WHERE org_id = ? AND (opened_at < ? OR (opened_at = ? AND id < ?) OR ? = '')
		ORDER BY opened_at DESC, id DESC LIMIT ?`, orgID, afterAt, afterAt, afterID, cursor, limit+1)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*wardline.Investigation
	for rows.Next() {
		inv, err := scanInvestigation(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, inv)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	out, next := nextPage(out, limit, func(inv *wardline.Investigation) string { return timeCursor(inv.OpenedAt, inv.ID) })
	return out, next, nil
}

const alertColumns = `id, org_id, kind, at, user_id, addr, target_id, count, threshold, audit_seq, message`

func (q queries) InsertAlert(ctx context.Context, a *wardline.Alert) error {
	_, err := q.db.exec(ctx, `INSERT INTO alerts (`+alertColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.OrgID, a.Kind, micros(a.At), a.UserID, a.Addr, a.TargetID, a.Count, a.Threshold, a.AuditSeq, a.Message)
	if isUnique(err) {
		return wardline.Errorf(wardline.ECONFLICT, "that alert is raised already")
	}
	return err
}

func (q queries) Alerts(ctx context.Context, f wardline.AlertFilter) ([]*wardline.Alert, string, error) {
	limit := clampLimit(f.Limit)
	afterAt, afterID, err := decodeTimeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	rows, err := q.db.query(ctx, `SELECT `+alertColumns+` FROM alerts
		WHERE (? = '' OR org_id = ?) AND (? = '' OR kind = ?) AND (? = '' OR user_id = ?) AND at >= ?
		  AND (? = '' OR at < ? OR (at = ? AND id < ?))
		ORDER BY at DESC, id DESC LIMIT ?`,
		f.OrgID, f.OrgID, f.Kind, f.Kind, f.UserID, f.UserID, micros(f.Since), f.Cursor, afterAt, afterAt, afterID, limit+1)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*wardline.Alert
	for rows.Next() {
		var a wardline.Alert
		var at int64
		if err := rows.Scan(&a.ID, &a.OrgID, &a.Kind, &at, &a.UserID, &a.Addr, &a.TargetID, &a.Count, &a.Threshold, &a.AuditSeq, &a.Message); err != nil {
			return nil, "", err
		}
		a.At = fromMicros(at)
		out = append(out, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	out, next := nextPage(out, limit, func(a *wardline.Alert) string { return timeCursor(a.At, a.ID) })
	return out, next, nil
}

func (q queries) AddKnownDevice(ctx context.Context, userID, fingerprint string, at time.Time) (bool, int, error) {
	var before int
	if err := q.db.queryRow(ctx, `SELECT COUNT(*) FROM known_devices WHERE user_id = ?`, userID).Scan(&before); err != nil {
		return false, 0, err
	}
	res, err := q.db.exec(ctx, `INSERT INTO known_devices (user_id, fingerprint, first_seen) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, userID, fingerprint, micros(at))
	if err != nil {
		return false, 0, err
	}
	n, _ := res.RowsAffected()
	return n == 1, before, nil
}

func (q queries) UsersWithRole(ctx context.Context, orgID, role string) ([]string, error) {
	return q.strings(ctx, `SELECT id FROM users WHERE org_id = ? AND org_role = ? AND status = ? ORDER BY id`, orgID, role, wardline.UserActive)
}

func (q queries) WatermarkAdvances(ctx context.Context, convID string) ([]*wardline.WatermarkAdvance, error) {
	rows, err := q.db.query(ctx, `SELECT user_id, kind, seq, at FROM watermarks WHERE conversation_id = ? ORDER BY at, user_id, kind, seq`, convID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*wardline.WatermarkAdvance
	for rows.Next() {
		var w wardline.WatermarkAdvance
		var at int64
		if err := rows.Scan(&w.UserID, &w.Kind, &w.Seq, &at); err != nil {
			return nil, err
		}
		w.At = fromMicros(at)
		out = append(out, &w)
	}
	return out, rows.Err()
}

func (q queries) Acks(ctx context.Context, convID string) ([]*wardline.Ack, error) {
	rows, err := q.db.query(ctx, `SELECT message_id, user_id, at FROM acks WHERE conversation_id = ? ORDER BY at, message_id, user_id`, convID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*wardline.Ack
	for rows.Next() {
		var a wardline.Ack
		var at int64
		if err := rows.Scan(&a.MessageID, &a.UserID, &at); err != nil {
			return nil, err
		}
		a.At = fromMicros(at)
		out = append(out, &a)
	}
	return out, rows.Err()
}

func (q queries) ConversationVersions(ctx context.Context, convID string) ([]*wardline.MessageVersion, error) {
	return q.versions(ctx, `SELECT v.message_id, v.version, v.body_sealed, v.at, v.deleted
		FROM message_versions v JOIN messages m ON m.id = v.message_id
		WHERE m.conversation_id = ? ORDER BY m.seq, v.version`, convID)
}
