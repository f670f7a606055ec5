package postgres

import (
	"context"
	"strconv"
	"time"

	"wardline"
)

// The audit feature's investigations, alerts, known devices and transcript sources.

const investigationColumns = `id, org_id, conversation_id, opened_by, opened_at, justification, status, closed_by, closed_at`

func scanInvestigation(r interface{ Scan(...any) error }) (*wardline.Investigation, error) {
	var inv wardline.Investigation
	if err := r.Scan(&inv.ID, &inv.OrgID, &inv.ConversationID, &inv.OpenedBy, &inv.OpenedAt, &inv.Justification, &inv.Status, &inv.ClosedBy, &inv.ClosedAt); err != nil {
		return nil, err
	}
	inv.OpenedAt, inv.ClosedAt = utc(inv.OpenedAt), utcPtr(inv.ClosedAt)
	return &inv, nil
}

func (q queries) CreateInvestigation(ctx context.Context, inv *wardline.Investigation) error {
	_, err := q.db.Exec(ctx, `INSERT INTO investigations (`+investigationColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		inv.ID, inv.OrgID, inv.ConversationID, inv.OpenedBy, inv.OpenedAt, inv.Justification, inv.Status, inv.ClosedBy, inv.ClosedAt)
	return err
}

func (q queries) CloseInvestigation(ctx context.Context, id, by string, at time.Time) error {
	tag, err := q.db.Exec(ctx, `UPDATE investigations SET status = $1, closed_by = $2, closed_at = $3 WHERE id = $4 AND status = $5`,
		wardline.InvestigationClosed, by, at, id, wardline.InvestigationOpen)
	return mustAffect(tag, err, "open investigation")
}

func (q queries) Investigation(ctx context.Context, id string) (*wardline.Investigation, error) {
	inv, err := scanInvestigation(q.db.QueryRow(ctx, `SELECT `+investigationColumns+` FROM investigations WHERE id = $1`, id))
	if isNoRows(err) {
		return nil, notFound("investigation")
	}
	return inv, err
}

// timeCursor decodes a (time in Unix microseconds, id) cursor; an empty cursor starts at the top.
func timeCursor(cursor string) (time.Time, string, error) {
	if cursor == "" {
		return time.Unix(1<<40, 0).UTC(), "", nil
	}
	parts, err := decodeCursor(cursor, 2)
	if err != nil {
		return time.Time{}, "", err
	}
	us, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return time.Time{}, "", wardline.Errorf(wardline.EINVALID, "cursor is not valid")
	}
	return time.UnixMicro(us).UTC(), parts[1], nil
}

func (q queries) Investigations(ctx context.Context, orgID, cursor string, limit int) ([]*wardline.Investigation, string, error) {
	limit = clampLimit(limit)
	afterAt, afterID, err := timeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	rows, err := q.db.Query(ctx, `SELECT `+investigationColumns+` FROM investigations
		WHERE org_id = $1 AND (opened_at < $2 OR (opened_at = $2 AND id < $3) OR $4 = '')
		ORDER BY opened_at DESC, id DESC LIMIT $5`, orgID, afterAt, afterID, cursor, limit+1)
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
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = encodeCursor(strconv.FormatInt(last.OpenedAt.UnixMicro(), 10), last.ID)
	}
	return out, next, nil
}

const alertColumns = `id, org_id, kind, at, user_id, addr, target_id, count, threshold, audit_seq, message`

func (q queries) InsertAlert(ctx context.Context, a *wardline.Alert) error {
	_, err := q.db.Exec(ctx, `INSERT INTO alerts (`+alertColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		a.ID, a.OrgID, a.Kind, a.At, a.UserID, a.Addr, a.TargetID, a.Count, a.Threshold, a.AuditSeq, a.Message)
	if isUnique(err) {
		return wardline.Errorf(wardline.ECONFLICT, "that alert is raised already")
	}
	return err
}

func (q queries) Alerts(ctx context.Context, f wardline.AlertFilter) ([]*wardline.Alert, string, error) {
	limit := clampLimit(f.Limit)
	afterAt, afterID, err := timeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	rows, err := q.db.Query(ctx, `SELECT `+alertColumns+` FROM alerts
		WHERE ($1 = '' OR org_id = $1) AND ($2 = '' OR kind = $2) AND ($3 = '' OR user_id = $3) AND at >= $4
		  AND ($5 = '' OR at < $6 OR (at = $6 AND id < $7))
		ORDER BY at DESC, id DESC LIMIT $8`,
		f.OrgID, f.Kind, f.UserID, f.Since, f.Cursor, afterAt, afterID, limit+1)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*wardline.Alert
	for rows.Next() {
		var a wardline.Alert
		if err := rows.Scan(&a.ID, &a.OrgID, &a.Kind, &a.At, &a.UserID, &a.Addr, &a.TargetID, &a.Count, &a.Threshold, &a.AuditSeq, &a.Message); err != nil {
			return nil, "", err
		}
		a.At = utc(a.At)
		out = append(out, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = encodeCursor(strconv.FormatInt(last.At.UnixMicro(), 10), last.ID)
	}
	return out, next, nil
}

func (q queries) AddKnownDevice(ctx context.Context, userID, fingerprint string, at time.Time) (bool, int, error) {
	var before int
	if err := q.db.QueryRow(ctx, `SELECT COUNT(*) FROM known_devices WHERE user_id = $1`, userID).Scan(&before); err != nil {
		return false, 0, err
	}
	tag, err := q.db.Exec(ctx, `INSERT INTO known_devices (user_id, fingerprint, first_seen) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, userID, fingerprint, at)
	if err != nil {
		return false, 0, err
	}
	return tag.RowsAffected() == 1, before, nil
}

func (q queries) UsersWithRole(ctx context.Context, orgID, role string) ([]string, error) {
	return q.strings(ctx, `SELECT id FROM users WHERE org_id = $1 AND org_role = $2 AND status = $3 ORDER BY id`, orgID, role, wardline.UserActive)
}

func (q queries) WatermarkAdvances(ctx context.Context, convID string) ([]*wardline.WatermarkAdvance, error) {
	rows, err := q.db.Query(ctx, `SELECT user_id, kind, seq, at FROM watermarks WHERE conversation_id = $1 ORDER BY at, user_id, kind, seq`, convID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*wardline.WatermarkAdvance
	for rows.Next() {
		var w wardline.WatermarkAdvance
		if err := rows.Scan(&w.UserID, &w.Kind, &w.Seq, &w.At); err != nil {
			return nil, err
		}
		w.At = utc(w.At)
		out = append(out, &w)
	}
	return out, rows.Err()
}

func (q queries) Acks(ctx context.Context, convID string) ([]*wardline.Ack, error) {
	rows, err := q.db.Query(ctx, `SELECT message_id, user_id, at FROM acks WHERE conversation_id = $1 ORDER BY at, message_id, user_id`, convID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*wardline.Ack
	for rows.Next() {
		var a wardline.Ack
		if err := rows.Scan(&a.MessageID, &a.UserID, &a.At); err != nil {
			return nil, err
		}
		a.At = utc(a.At)
		out = append(out, &a)
	}
	return out, rows.Err()
}

func (q queries) ConversationVersions(ctx context.Context, convID string) ([]*wardline.MessageVersion, error) {
	rows, err := q.db.Query(ctx, `SELECT v.message_id, v.version, v.body_sealed, v.at, v.deleted
		FROM message_versions v JOIN messages m ON m.id = v.message_id
		WHERE m.conversation_id = $1 ORDER BY m.seq, v.version`, convID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*wardline.MessageVersion
	for rows.Next() {
		var v wardline.MessageVersion
		if err := rows.Scan(&v.MessageID, &v.Version, &v.BodySealed, &v.At, &v.Deleted); err != nil {
			return nil, err
		}
		v.At = utc(v.At)
		out = append(out, &v)
	}
	return out, rows.Err()
}
