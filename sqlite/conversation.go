package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"wardline"
)

const convColumns = `c.id, c.org_id, c.kind, c.title_sealed, c.created_at, c.created_by, c.last_seq, c.last_activity_at, c.patient_id, c.direct_key,
	c.category, c.status, c.role_id, c.escalation_role_id`

func scanConversation(r interface{ Scan(...any) error }, extra ...any) (*wardline.Conversation, error) {
	var c wardline.Conversation
	var created, active int64
	var patient, direct, category, role, escalation sql.NullString
	dest := append([]any{&c.ID, &c.OrgID, &c.Kind, &c.TitleSealed, &created, &c.CreatedBy, &c.LastSeq, &active, &patient, &direct,
		&category, &c.Status, &role, &escalation}, extra...)
	if err := r.Scan(dest...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("conversation")
		}
		return nil, err
	}
	c.CreatedAt, c.LastActivityAt = fromMicros(created), fromMicros(active)
	c.PatientID, c.Category, c.RoleID, c.EscalationRoleID = nullString(patient), nullString(category), nullString(role), nullString(escalation)
	c.DirectKey = direct.String
	return &c, nil
}

func (q queries) CreateConversation(ctx context.Context, c *wardline.Conversation) error {
	var direct any
	if c.DirectKey != "" {
		direct = c.DirectKey
	}
	_, err := q.db.exec(ctx, `INSERT INTO conversations (id, org_id, kind, title_sealed, created_at, created_by, last_seq, last_activity_at, patient_id, direct_key,
			category, status, role_id, escalation_role_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.OrgID, c.Kind, c.TitleSealed, micros(c.CreatedAt), c.CreatedBy, c.LastSeq, micros(c.LastActivityAt), c.PatientID, direct,
		c.Category, c.Status, c.RoleID, c.EscalationRoleID)
	if isUnique(err) {
		return wardline.Errorf(wardline.ECONFLICT, "that direct conversation exists")
	} else if err != nil {
		return err
	}
	for _, m := range c.Members {
		if err := q.AddMember(ctx, c.ID, m); err != nil {
			return err
		}
	}
	return nil
}

func (q queries) AddMember(ctx context.Context, convID string, m *wardline.Member) error {
	_, err := q.db.exec(ctx, `INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)`,
		convID, m.UserID, m.Role, micros(m.JoinedAt))
	if isUnique(err) {
		return wardline.Errorf(wardline.ECONFLICT, "already a member")
	}
	return err
}

func (q queries) RemoveMember(ctx context.Context, convID, userID string) error {
	res, err := q.db.exec(ctx, `DELETE FROM members WHERE conversation_id = ? AND user_id = ?`, convID, userID)
	return mustAffect(res, err, "member")
}

func (q queries) SetMemberRole(ctx context.Context, convID, userID, role string) error {
	res, err := q.db.exec(ctx, `UPDATE members SET role = ? WHERE conversation_id = ? AND user_id = ?`, role, convID, userID)
	return mustAffect(res, err, "member")
}

func (q queries) members(ctx context.Context, convID string) ([]*wardline.Member, error) {
	// The duty columns come along so that a send learns who is off duty without another query.
	rows, err := q.db.query(ctx, `SELECT m.user_id, m.role, m.joined_at, u.display_name, u.job_title, u.duty_status, u.duty_until, u.covering_role_id
		FROM members m JOIN users u ON u.id = m.user_id WHERE m.conversation_id = ? ORDER BY m.joined_at, m.user_id`, convID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*wardline.Member
	for rows.Next() {
		var m wardline.Member
		var joined int64
		var duty, covering sql.NullString
		var until sql.NullInt64
		if err := rows.Scan(&m.UserID, &m.Role, &joined, &m.DisplayName, &m.JobTitle, &duty, &until, &covering); err != nil {
			return nil, err
		}
		m.JoinedAt = fromMicros(joined)
		m.Duty = wardline.DutySetting{Status: duty.String, Until: fromNullMicros(until), CoveringRoleID: nullString(covering)}
		out = append(out, &m)
	}
	return out, rows.Err()
}

func (q queries) Conversation(ctx context.Context, id string) (*wardline.Conversation, error) {
	c, err := scanConversation(q.db.queryRow(ctx, `SELECT `+convColumns+` FROM conversations c WHERE c.id = ?`, id))
	if err != nil {
		return nil, err
	}
	if c.Members, err = q.members(ctx, id); err != nil {
		return nil, err
	}
	return c, nil
}

func (q queries) DirectConversation(ctx context.Context, orgID, directKey string) (*wardline.Conversation, error) {
	c, err := scanConversation(q.db.queryRow(ctx, `SELECT `+convColumns+` FROM conversations c WHERE c.org_id = ? AND c.direct_key = ?`, orgID, directKey))
	if err != nil {
		return nil, err
	}
	if c.Members, err = q.members(ctx, c.ID); err != nil {
		return nil, err
	}
	return c, nil
}

// ConversationsOf pages by (last_activity_at DESC, id DESC); the cursor is the last row's pair.
func (q queries) ConversationsOf(ctx context.Context, userID, cursor string, limit int) ([]*wardline.Conversation, string, error) {
	limit = clampLimit(limit)
	afterAt, afterID, err := decodeTimeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	rows, err := q.db.query(ctx, `SELECT `+convColumns+`,
			(SELECT COUNT(*) FROM messages msg WHERE msg.conversation_id = c.id AND msg.seq > m.read_seq
				AND msg.sender_id <> m.user_id AND msg.deleted = 0)
		FROM members m JOIN conversations c ON c.id = m.conversation_id
		WHERE m.user_id = ?
		  AND (? = 0 OR c.last_activity_at < ? OR (c.last_activity_at = ? AND c.id < ?))
		ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?`,
		userID, cursor != "", afterAt, afterAt, afterID, limit+1)
	if err != nil {
		return nil, "", err
	}
	var out []*wardline.Conversation
	for rows.Next() {
		var unread int64
		c, err := scanConversation(rows, &unread)
		if err != nil {
			rows.Close()
			return nil, "", err
		}
		c.UnreadCount = unread
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	out, next := nextPage(out, limit, func(c *wardline.Conversation) string { return timeCursor(c.LastActivityAt, c.ID) })
	for _, c := range out {
		if c.Members, err = q.members(ctx, c.ID); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

func (q queries) Memberships(ctx context.Context, userID string) (map[string]int64, error) {
	rows, err := q.db.query(ctx, `SELECT c.id, c.last_seq FROM members m JOIN conversations c ON c.id = m.conversation_id WHERE m.user_id = ?`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			return nil, err
		}
		out[id] = seq
	}
	return out, rows.Err()
}

func (q queries) IsMember(ctx context.Context, convID, userID string) (bool, error) {
	var n int
	err := q.db.queryRow(ctx, `SELECT COUNT(*) FROM members WHERE conversation_id = ? AND user_id = ?`, convID, userID).Scan(&n)
	return n > 0, err
}

func (q queries) MemberIDs(ctx context.Context, convID string) ([]string, error) {
	return q.strings(ctx, `SELECT user_id FROM members WHERE conversation_id = ? ORDER BY user_id`, convID)
}

func (q queries) NextSeq(ctx context.Context, convID string, at time.Time) (int64, error) {
	var seq int64
	err := q.db.queryRow(ctx, `UPDATE conversations SET last_seq = last_seq + 1, last_activity_at = max(last_activity_at, ?)
		WHERE id = ? RETURNING last_seq`, micros(at), convID).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("conversation")
	}
	return seq, err
}

func (q queries) UnreadCount(ctx context.Context, convID, userID string) (int64, error) {
	var n int64
	err := q.db.queryRow(ctx, `SELECT COUNT(*) FROM members m JOIN messages msg ON msg.conversation_id = m.conversation_id
		WHERE m.conversation_id = ? AND m.user_id = ? AND msg.seq > m.read_seq AND msg.sender_id <> m.user_id AND msg.deleted = 0`,
		convID, userID).Scan(&n)
	return n, err
}

// nullString turns a nullable column into a *string.
func nullString(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	return &v.String
}

// UpdateConversation writes the clinical fields of a conversation.
func (q queries) UpdateConversation(ctx context.Context, c *wardline.Conversation) error {
	res, err := q.db.exec(ctx, `UPDATE conversations SET patient_id = ?, category = ?, status = ?, escalation_role_id = ? WHERE id = ?`,
		c.PatientID, c.Category, c.Status, c.EscalationRoleID, c.ID)
	return mustAffect(res, err, "conversation")
}

// RoleConversations lists the conversations between senders and a role.
func (q queries) RoleConversations(ctx context.Context, roleID string) ([]string, error) {
	return q.strings(ctx, `SELECT id FROM conversations WHERE role_id = ? ORDER BY id`, roleID)
}
