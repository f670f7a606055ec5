package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"wardline"
)

const messageColumns = `id, conversation_id, seq, sender_id, client_id, body_sealed, priority, requires_ack, created_at, edited_at, deleted, version`

func scanMessage(r interface{ Scan(...any) error }) (*wardline.Message, error) {
	var m wardline.Message
	var created int64
	var edited sql.NullInt64
	if err := r.Scan(&m.ID, &m.ConversationID, &m.Seq, &m.SenderID, &m.ClientID, &m.BodySealed, &m.Priority,
		&m.RequiresAck, &created, &edited, &m.Deleted, &m.Version); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("message")
		}
		return nil, err
	}
	m.CreatedAt = fromMicros(created)
	m.EditedAt = fromNullMicros(edited)
	return &m, nil
}

func (q queries) InsertMessage(ctx context.Context, m *wardline.Message) error {
	_, err := q.db.exec(ctx, `INSERT INTO messages (`+messageColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.ConversationID, m.Seq, m.SenderID, m.ClientID, m.BodySealed, m.Priority, m.RequiresAck,
		micros(m.CreatedAt), nullMicros(m.EditedAt), m.Deleted, m.Version)
	if isUnique(err) {
		return wardline.Errorf(wardline.ECONFLICT, "message exists")
	}
	return err
}

func (q queries) AppendMessage(ctx context.Context, m *wardline.Message, at time.Time) ([]string, error) {
	// In process each statement is a call, not a round trip: the steps one by one.
	members, err := q.MemberIDs(ctx, m.ConversationID)
	if err != nil {
		return nil, err
	}
	if _, ok := slices.BinarySearch(members, m.SenderID); !ok {
		return nil, notFound("conversation")
	}
	if m.Seq, err = q.NextSeq(ctx, m.ConversationID, at); err != nil {
		return nil, err
	}
	return members, q.InsertMessage(ctx, m)
}

func (q queries) ReviseMessage(ctx context.Context, m *wardline.Message, prev *wardline.MessageVersion) error {
	if _, err := q.db.exec(ctx, `INSERT INTO message_versions (message_id, version, body_sealed, at, deleted) VALUES (?, ?, ?, ?, ?)`,
		prev.MessageID, prev.Version, prev.BodySealed, micros(prev.At), prev.Deleted); err != nil {
		if isUnique(err) {
			return wardline.Errorf(wardline.ECONFLICT, "message changed meanwhile")
		}
		return err
	}
	res, err := q.db.exec(ctx, `UPDATE messages SET body_sealed = ?, edited_at = ?, deleted = ?, version = ? WHERE id = ? AND version = ?`,
		m.BodySealed, nullMicros(m.EditedAt), m.Deleted, m.Version, m.ID, prev.Version)
	return mustAffect(res, err, "message")
}

func (q queries) Message(ctx context.Context, convID, id string) (*wardline.Message, error) {
	return scanMessage(q.db.queryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = ? AND conversation_id = ?`, id, convID))
}

func (q queries) MessageByClientID(ctx context.Context, convID, senderID, clientID string) (*wardline.Message, error) {
	return scanMessage(q.db.queryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE conversation_id = ? AND sender_id = ? AND client_id = ?`,
		convID, senderID, clientID))
}

func (q queries) MessageBySeq(ctx context.Context, convID string, seq int64) (*wardline.Message, error) {
	return scanMessage(q.db.queryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE conversation_id = ? AND seq = ?`, convID, seq))
}

// Messages answers in ascending seq; has-more means more in the direction of the query (older
// for before_seq and for the latest page, newer for after_seq).
func (q queries) Messages(ctx context.Context, convID string, hq wardline.HistoryQuery) ([]*wardline.Message, bool, error) {
	limit := clampLimit(hq.Limit)
	var rows *sql.Rows
	var err error
	ascending := hq.Forward || hq.AfterSeq > 0
	switch {
	case ascending:
		rows, err = q.db.query(ctx, `SELECT `+messageColumns+` FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?`, convID, hq.AfterSeq, limit+1)
	case hq.BeforeSeq > 0:
		rows, err = q.db.query(ctx, `SELECT `+messageColumns+` FROM messages WHERE conversation_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`, convID, hq.BeforeSeq, limit+1)
	default:
		rows, err = q.db.query(ctx, `SELECT `+messageColumns+` FROM messages WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?`, convID, limit+1)
	}
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var out []*wardline.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, false, err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	if !ascending {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, more, nil
}

func (q queries) MessageVersions(ctx context.Context, msgID string) ([]*wardline.MessageVersion, error) {
	return q.versions(ctx, `SELECT message_id, version, body_sealed, at, deleted FROM message_versions WHERE message_id = ? ORDER BY version`, msgID)
}

// versions runs a query of message_versions' columns (message_id, version, body_sealed, at,
// deleted, in that order).
func (q queries) versions(ctx context.Context, query string, args ...any) ([]*wardline.MessageVersion, error) {
	rows, err := q.db.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*wardline.MessageVersion
	for rows.Next() {
		var v wardline.MessageVersion
		var at int64
		if err := rows.Scan(&v.MessageID, &v.Version, &v.BodySealed, &at, &v.Deleted); err != nil {
			return nil, err
		}
		v.At = fromMicros(at)
		out = append(out, &v)
	}
	return out, rows.Err()
}

func watermarkColumn(kind string) (string, error) {
	switch kind {
	case wardline.ReceiptDelivered:
		return "delivered_seq", nil
	case wardline.ReceiptRead:
		return "read_seq", nil
	}
	return "", wardline.Errorf(wardline.EINVALID, "unknown watermark %q", kind)
}

func (q queries) Watermark(ctx context.Context, convID, userID, kind string) (int64, error) {
	col, err := watermarkColumn(kind)
	if err != nil {
		return 0, err
	}
	var seq int64
	err = q.db.queryRow(ctx, `SELECT `+col+` FROM members WHERE conversation_id = ? AND user_id = ?`, convID, userID).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("member")
	}
	return seq, err
}

func (q queries) AdvanceWatermark(ctx context.Context, convID, userID, kind string, seq int64, at time.Time) (bool, error) {
	col, err := watermarkColumn(kind)
	if err != nil {
		return false, err
	}
	res, err := q.db.exec(ctx, `UPDATE members SET `+col+` = ? WHERE conversation_id = ? AND user_id = ? AND `+col+` < ?`, seq, convID, userID, seq)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	_, err = q.db.exec(ctx, `INSERT INTO watermarks (conversation_id, user_id, kind, seq, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, convID, userID, kind, seq, micros(at))
	return err == nil, err
}

func (q queries) AdvanceWatermarks(ctx context.Context, kind string, targets []wardline.WatermarkTarget, at time.Time) ([]bool, error) {
	if err := wardline.CheckWatermarkTargets(targets); err != nil {
		return nil, err
	}
	// In process a statement costs no round trip: one rise at a time.
	rose := make([]bool, len(targets))
	for i, t := range targets {
		var err error
		if rose[i], err = q.AdvanceWatermark(ctx, t.ConversationID, t.UserID, kind, t.Seq, at); err != nil {
			return nil, err
		}
	}
	return rose, nil
}

func (q queries) InsertAck(ctx context.Context, convID, msgID, userID string, at time.Time) (bool, error) {
	res, err := q.db.exec(ctx, `INSERT INTO acks (message_id, user_id, conversation_id, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		msgID, userID, convID, micros(at))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (q queries) Receipts(ctx context.Context, convID, msgID string, seq int64, userIDs []string) ([]*wardline.MessageReceipt, error) {
	byUser := make(map[string]*wardline.MessageReceipt, len(userIDs))
	out := make([]*wardline.MessageReceipt, 0, len(userIDs))
	for _, id := range userIDs {
		r := &wardline.MessageReceipt{UserID: id}
		byUser[id] = r
		out = append(out, r)
	}
	rows, err := q.db.query(ctx, `SELECT user_id, kind, MIN(at) FROM watermarks WHERE conversation_id = ? AND seq >= ? GROUP BY user_id, kind`, convID, seq)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var user, kind string
		var at int64
		if err := rows.Scan(&user, &kind, &at); err != nil {
			rows.Close()
			return nil, err
		}
		if r := byUser[user]; r != nil {
			t := fromMicros(at)
			if kind == wardline.ReceiptDelivered {
				r.DeliveredAt = &t
			} else {
				r.ReadAt = &t
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = q.db.query(ctx, `SELECT user_id, at FROM acks WHERE message_id = ?`, msgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var user string
		var at int64
		if err := rows.Scan(&user, &at); err != nil {
			return nil, err
		}
		if r := byUser[user]; r != nil {
			t := fromMicros(at)
			r.AckedAt = &t
		}
	}
	return out, rows.Err()
}
