package postgres

import (
	"context"
	"strconv"
	"time"

	"wardline"
)

const convColumns = `c.id, c.org_id, c.kind, c.title_sealed, c.created_at, c.created_by, c.last_seq, c.last_activity_at, c.patient_id, c.direct_key,
	c.category, c.status, c.role_id, c.escalation_role_id`

func scanConversation(r interface{ Scan(...any) error }, extra ...any) (*wardline.Conversation, error) {
	var c wardline.Conversation
	var direct *string
	dest := append([]any{&c.ID, &c.OrgID, &c.Kind, &c.TitleSealed, &c.CreatedAt, &c.CreatedBy, &c.LastSeq, &c.LastActivityAt, &c.PatientID, &direct,
		&c.Category, &c.Status, &c.RoleID, &c.EscalationRoleID}, extra...)
	if err := r.Scan(dest...); err != nil {
		if isNoRows(err) {
			return nil, notFound("conversation")
		}
		return nil, err
	}
	c.CreatedAt, c.LastActivityAt = utc(c.CreatedAt), utc(c.LastActivityAt)
	if direct != nil {
		c.DirectKey = *direct
	}
	return &c, nil
}

func (q queries) CreateConversation(ctx context.Context, c *wardline.Conversation) error {
	var direct *string
	if c.DirectKey != "" {
		direct = &c.DirectKey
	}
	tag, err := q.db.Exec(ctx, `INSERT INTO conversations (id, org_id, kind, title_sealed, created_at, created_by, last_seq, last_activity_at, patient_id, direct_key,
			category, status, role_id, escalation_role_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT DO NOTHING`,
		c.ID, c.OrgID, c.Kind, c.TitleSealed, c.CreatedAt, c.CreatedBy, c.LastSeq, c.LastActivityAt, c.PatientID, direct,
		c.Category, c.Status, c.RoleID, c.EscalationRoleID)
	if err != nil {
		return err
	} else if tag.RowsAffected() == 0 {
		return wardline.Errorf(wardline.ECONFLICT, "that direct conversation exists")
	}
	for _, m := range c.Members {
		if err := q.AddMember(ctx, c.ID, m); err != nil {
			return err
		}
	}
	return nil
}

func (q queries) AddMember(ctx context.Context, convID string, m *wardline.Member) error {
	tag, err := q.db.Exec(ctx, `INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		convID, m.UserID, m.Role, m.JoinedAt)
	if err == nil && tag.RowsAffected() == 0 {
		return wardline.Errorf(wardline.ECONFLICT, "already a member")
	}
	return err
}

func (q queries) RemoveMember(ctx context.Context, convID, userID string) error {
	tag, err := q.db.Exec(ctx, `DELETE FROM members WHERE conversation_id = $1 AND user_id = $2`, convID, userID)
	return mustAffect(tag, err, "member")
}

func (q queries) SetMemberRole(ctx context.Context, convID, userID, role string) error {
	tag, err := q.db.Exec(ctx, `UPDATE members SET role = $1 WHERE conversation_id = $2 AND user_id = $3`, role, convID, userID)
	return mustAffect(tag, err, "member")
}

func (q queries) members(ctx context.Context, convID string) ([]*wardline.Member, error) {
	// The duty columns come along so that a send learns who is off duty without another query.
	rows, err := q.db.Query(ctx, `SELECT m.user_id, m.role, m.joined_at, u.display_name, u.job_title, u.duty_status, u.duty_until, u.covering_role_id
		FROM members m JOIN users u ON u.id = m.user_id WHERE m.conversation_id = $1 ORDER BY m.joined_at, m.user_id`, convID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*wardline.Member
	for rows.Next() {
		var m wardline.Member
		var duty *string
		if err := rows.Scan(&m.UserID, &m.Role, &m.JoinedAt, &m.DisplayName, &m.JobTitle, &duty, &m.Duty.Until, &m.Duty.CoveringRoleID); err != nil {
			return nil, err
		}
		m.JoinedAt, m.Duty.Until = utc(m.JoinedAt), utcPtr(m.Duty.Until)
		if duty != nil {
			m.Duty.Status = *duty
		}
		out = append(out, &m)
	}
	return out, rows.Err()
}

func (q queries) Conversation(ctx context.Context, id string) (*wardline.Conversation, error) {
	c, err := scanConversation(q.db.QueryRow(ctx, `SELECT `+convColumns+` FROM conversations c WHERE c.id = $1`, id))
	if err != nil {
		return nil, err
	}
	if c.Members, err = q.members(ctx, id); err != nil {
		return nil, err
	}
	return c, nil
}

func (q queries) DirectConversation(ctx context.Context, orgID, directKey string) (*wardline.Conversation, error) {
	c, err := scanConversation(q.db.QueryRow(ctx, `SELECT `+convColumns+` FROM conversations c WHERE c.org_id = $1 AND c.direct_key = $2`, orgID, directKey))
	if err != nil {
		return nil, err
	}
	if c.Members, err = q.members(ctx, c.ID); err != nil {
		return nil, err
	}
	return c, nil
}

// ConversationsOf pages by (last_activity_at DESC, id DESC); the cursor is the last row's pair,
// the time in Unix microseconds.
func (q queries) ConversationsOf(ctx context.Context, userID, cursor string, limit int) ([]*wardline.Conversation, string, error) {
	limit = clampLimit(limit)
	afterAt, afterID := time.Time{}, ""
	if cursor != "" {
		parts, err := decodeCursor(cursor, 2)
		if err != nil {
			return nil, "", err
		}
		us, err := strconv.ParseInt(parts[0], 10, 64)
		if err != nil {
			return nil, "", wardline.Errorf(wardline.EINVALID, "cursor is not valid")
		}
		afterAt, afterID = time.UnixMicro(us).UTC(), parts[1]
	}
	rows, err := q.db.Query(ctx, `SELECT `+convColumns+`,
			(SELECT COUNT(*) FROM messages msg WHERE msg.conversation_id = c.id AND msg.seq > m.read_seq
				AND msg.sender_id <> m.user_id AND NOT msg.deleted)
		FROM members m JOIN conversations c ON c.id = m.conversation_id
		WHERE m.user_id = $1
		  AND (NOT $2 OR c.last_activity_at < $3 OR (c.last_activity_at = $3 AND c.id < $4))
		ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $5`,
		userID, cursor != "", afterAt, afterID, limit+1)
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
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = encodeCursor(strconv.FormatInt(last.LastActivityAt.UnixMicro(), 10), last.ID)
	}
	for _, c := range out {
		if c.Members, err = q.members(ctx, c.ID); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

func (q queries) Memberships(ctx context.Context, userID string) (map[string]int64, error) {
	rows, err := q.db.Query(ctx, `SELECT c.id, c.last_seq FROM members m JOIN conversations c ON c.id = m.conversation_id WHERE m.user_id = $1`, userID)
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
	var ok bool
	err := q.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM members WHERE conversation_id = $1 AND user_id = $2)`, convID, userID).Scan(&ok)
	return ok, err
}

func (q queries) MemberIDs(ctx context.Context, convID string) ([]string, error) {
	rows, err := q.db.Query(ctx, `SELECT user_id FROM members WHERE conversation_id = $1 ORDER BY user_id`, convID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// NextSeq takes the conversation row's lock until the transaction ends: senders on every node
// queue on it, each reads the value the previous one committed, and a rollback undoes its step.
func (q queries) NextSeq(ctx context.Context, convID string, at time.Time) (int64, error) {
	var seq int64
	err := q.db.QueryRow(ctx, `UPDATE conversations SET last_seq = last_seq + 1, last_activity_at = GREATEST(last_activity_at, $1)
		WHERE id = $2 RETURNING last_seq`, at, convID).Scan(&seq)
	if isNoRows(err) {
		return 0, notFound("conversation")
	}
	return seq, err
}

func (q queries) UnreadCount(ctx context.Context, convID, userID string) (int64, error) {
	var n int64
	err := q.db.QueryRow(ctx, `SELECT COUNT(*) FROM members m JOIN messages msg ON msg.conversation_id = m.conversation_id
		WHERE m.conversation_id = $1 AND m.user_id = $2 AND msg.seq > m.read_seq AND msg.sender_id <> m.user_id AND NOT msg.deleted`,
		convID, userID).Scan(&n)
	return n, err
}

// UpdateConversation writes the clinical fields of a conversation.
func (q queries) UpdateConversation(ctx context.Context, c *wardline.Conversation) error {
	tag, err := q.db.Exec(ctx, `UPDATE conversations SET patient_id = $1, category = $2, status = $3, escalation_role_id = $4 WHERE id = $5`,
		c.PatientID, c.Category, c.Status, c.EscalationRoleID, c.ID)
	return mustAffect(tag, err, "conversation")
}

// RoleConversations lists the conversations between senders and a role.
func (q queries) RoleConversations(ctx context.Context, roleID string) ([]string, error) {
	return q.strings(ctx, `SELECT id FROM conversations WHERE role_id = $1 ORDER BY id`, roleID)
}
