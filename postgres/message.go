package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"wardline"
)

const messageColumns = `id, conversation_id, seq, sender_id, client_id, body_sealed, priority, requires_ack, created_at, edited_at, deleted, version`

func scanMessage(r interface{ Scan(...any) error }) (*wardline.Message, error) {
	var m wardline.Message
	if err := r.Scan(&m.ID, &m.ConversationID, &m.Seq, &m.SenderID, &m.ClientID, &m.BodySealed, &m.Priority,
		&m.RequiresAck, &m.CreatedAt, &m.EditedAt, &m.Deleted, &m.Version); err != nil {
		if isNoRows(err) {
			return nil, notFound("message")
		}
		return nil, err
	}
	m.CreatedAt = utc(m.CreatedAt)
	m.EditedAt = utcPtr(m.EditedAt)
	return &m, nil
}

func (q queries) InsertMessage(ctx context.Context, m *wardline.Message) error {
	tag, err := q.db.Exec(ctx, `INSERT INTO messages (`+messageColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING`,
		m.ID, m.ConversationID, m.Seq, m.SenderID, m.ClientID, m.BodySealed, m.Priority, m.RequiresAck,
		m.CreatedAt, m.EditedAt, m.Deleted, m.Version)
	if err == nil && tag.RowsAffected() == 0 {
		return wardline.Errorf(wardline.ECONFLICT, "message exists")
	}
	return err
}

// AppendMessage checks membership, reserves the seq and inserts the message in one statement:
// one round trip, where the three steps took three.
func (q queries) AppendMessage(ctx context.Context, m *wardline.Message, at time.Time) ([]string, error) {
	var (
		members  []string
		seq, got *int64
	)
	err := q.db.QueryRow(ctx, `WITH mem AS (
			SELECT COALESCE(array_agg(user_id ORDER BY user_id), '{}') AS ids FROM members WHERE conversation_id = $2
		), s AS (
			UPDATE conversations SET last_seq = last_seq + 1, last_activity_at = GREATEST(last_activity_at, $12::timestamptz)
			FROM mem WHERE id = $2 AND $3::text = ANY (mem.ids)
			RETURNING last_seq
		), ins AS (
			INSERT INTO messages (`+messageColumns+`)
			SELECT $1::text, $2::text, s.last_seq, $3::text, $4::text, $5::bytea, $6::text, $7::boolean, $8::timestamptz, $9::timestamptz, $10::boolean, $11::integer FROM s
			ON CONFLICT DO NOTHING
			RETURNING seq
		)
		SELECT (SELECT ids FROM mem), (SELECT last_seq FROM s), (SELECT seq FROM ins)`,
		m.ID, m.ConversationID, m.SenderID, m.ClientID, m.BodySealed, m.Priority, m.RequiresAck,
		m.CreatedAt, m.EditedAt, m.Deleted, m.Version, at).Scan(&members, &seq, &got)
	switch {
	case err != nil:
		return nil, err
	case seq == nil:
		return nil, notFound("conversation")
	case got == nil:
		return nil, wardline.Errorf(wardline.ECONFLICT, "message exists")
	}
	m.Seq = *seq
	return members, nil
}

func (q queries) ReviseMessage(ctx context.Context, m *wardline.Message, prev *wardline.MessageVersion) error {
	tag, err := q.db.Exec(ctx, `INSERT INTO message_versions (message_id, version, body_sealed, at, deleted) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
		prev.MessageID, prev.Version, prev.BodySealed, prev.At, prev.Deleted)
	if err != nil {
		return err
	} else if tag.RowsAffected() == 0 {
		return wardline.Errorf(wardline.ECONFLICT, "message changed meanwhile")
	}
	tag, err = q.db.Exec(ctx, `UPDATE messages SET body_sealed = $1, edited_at = $2, deleted = $3, version = $4 WHERE id = $5 AND version = $6`,
		m.BodySealed, m.EditedAt, m.Deleted, m.Version, m.ID, prev.Version)
	return mustAffect(tag, err, "message")
}

func (q queries) Message(ctx context.Context, convID, id string) (*wardline.Message, error) {
	return scanMessage(q.db.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = $1 AND conversation_id = $2`, id, convID))
}

func (q queries) MessageByClientID(ctx context.Context, convID, senderID, clientID string) (*wardline.Message, error) {
	return scanMessage(q.db.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE conversation_id = $1 AND sender_id = $2 AND client_id = $3`,
		convID, senderID, clientID))
}

func (q queries) MessageBySeq(ctx context.Context, convID string, seq int64) (*wardline.Message, error) {
	return scanMessage(q.db.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE conversation_id = $1 AND seq = $2`, convID, seq))
}

// Messages answers in ascending seq; has-more means more in the direction of the query (older
// for before_seq and for the latest page, newer for after_seq).
func (q queries) Messages(ctx context.Context, convID string, hq wardline.HistoryQuery) ([]*wardline.Message, bool, error) {
	limit := clampLimit(hq.Limit)
	var rows pgx.Rows
	var err error
	ascending := hq.Forward || hq.AfterSeq > 0
	switch {
	case ascending:
		rows, err = q.db.Query(ctx, `SELECT `+messageColumns+` FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, convID, hq.AfterSeq, limit+1)
	case hq.BeforeSeq > 0:
		rows, err = q.db.Query(ctx, `SELECT `+messageColumns+` FROM messages WHERE conversation_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`, convID, hq.BeforeSeq, limit+1)
	default:
		rows, err = q.db.Query(ctx, `SELECT `+messageColumns+` FROM messages WHERE conversation_id = $1 ORDER BY seq DESC LIMIT $2`, convID, limit+1)
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
	rows, err := q.db.Query(ctx, `SELECT message_id, version, body_sealed, at, deleted FROM message_versions WHERE message_id = $1 ORDER BY version`, msgID)
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
	err = q.db.QueryRow(ctx, `SELECT `+col+` FROM members WHERE conversation_id = $1 AND user_id = $2`, convID, userID).Scan(&seq)
	if isNoRows(err) {
		return 0, notFound("member")
	}
	return seq, err
}

func (q queries) AdvanceWatermark(ctx context.Context, convID, userID, kind string, seq int64, at time.Time) (bool, error) {
	rose, err := q.AdvanceWatermarks(ctx, kind, []wardline.WatermarkTarget{{ConversationID: convID, UserID: userID, Seq: seq}}, at)
	if err != nil {
		return false, err
	}
	return rose[0], nil
}

// AdvanceWatermarks raises every target's watermark and records each rise in one statement, so
// one round trip to the server: a node's delivered flush advances a watermark for nearly every
// message's every member. The rows are locked in key order, as a flush's sorted chunk always was.
func (q queries) AdvanceWatermarks(ctx context.Context, kind string, targets []wardline.WatermarkTarget, at time.Time) ([]bool, error) {
	col, err := watermarkColumn(kind)
	if err != nil {
		return nil, err
	}
	if err := wardline.CheckWatermarkTargets(targets); err != nil {
		return nil, err
	}
	rose := make([]bool, len(targets))
	if len(targets) == 0 {
		return rose, nil
	}
	convs, users, seqs := make([]string, len(targets)), make([]string, len(targets)), make([]int64, len(targets))
	at = utc(at)
	index := make(map[[2]string]int, len(targets))
	for i, t := range targets {
		convs[i], users[i], seqs[i] = t.ConversationID, t.UserID, t.Seq
		index[[2]string{t.ConversationID, t.UserID}] = i
	}
	rows, err := q.db.Query(ctx, `WITH v AS (
			SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) AS v(conversation_id, user_id, seq)
		), locked AS (
			SELECT m.conversation_id, m.user_id, v.seq FROM members m
			JOIN v ON v.conversation_id = m.conversation_id AND v.user_id = m.user_id
			WHERE m.`+col+` < v.seq
			ORDER BY m.conversation_id, m.user_id
			FOR UPDATE OF m
		), up AS (
			UPDATE members m SET `+col+` = l.seq FROM locked l
			WHERE m.conversation_id = l.conversation_id AND m.user_id = l.user_id AND m.`+col+` < l.seq
			RETURNING m.conversation_id, m.user_id, l.seq
		), recorded AS (
			INSERT INTO watermarks (conversation_id, user_id, kind, seq, at)
			SELECT conversation_id, user_id, $4, seq, $5 FROM up
			ON CONFLICT DO NOTHING
		)
		SELECT conversation_id, user_id FROM up`, convs, users, seqs, kind, at)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			return nil, err
		}
		rose[index[k]] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return rose, nil
}

func (q queries) InsertAck(ctx context.Context, convID, msgID, userID string, at time.Time) (bool, error) {
	tag, err := q.db.Exec(ctx, `INSERT INTO acks (message_id, user_id, conversation_id, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		msgID, userID, convID, at)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}

func (q queries) Receipts(ctx context.Context, convID, msgID string, seq int64, userIDs []string) ([]*wardline.MessageReceipt, error) {
	byUser := make(map[string]*wardline.MessageReceipt, len(userIDs))
	out := make([]*wardline.MessageReceipt, 0, len(userIDs))
	for _, id := range userIDs {
		r := &wardline.MessageReceipt{UserID: id}
		byUser[id] = r
		out = append(out, r)
	}
	rows, err := q.db.Query(ctx, `SELECT user_id, kind, MIN(at) FROM watermarks WHERE conversation_id = $1 AND seq >= $2 GROUP BY user_id, kind`, convID, seq)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var user, kind string
		var at time.Time
		if err := rows.Scan(&user, &kind, &at); err != nil {
			rows.Close()
			return nil, err
		}
		if r := byUser[user]; r != nil {
			t := utc(at)
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
	rows, err = q.db.Query(ctx, `SELECT user_id, at FROM acks WHERE message_id = $1`, msgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var user string
		var at time.Time
		if err := rows.Scan(&user, &at); err != nil {
			return nil, err
		}
		if r := byUser[user]; r != nil {
			t := utc(at)
			r.AckedAt = &t
		}
	}
	return out, rows.Err()
}
