package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"wardline"
)

func (q queries) CreateOrg(ctx context.Context, o *wardline.Org) error {
	tag, err := q.db.Exec(ctx, `INSERT INTO orgs (id, name, policy, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		o.ID, o.Name, o.Policy, o.CreatedAt)
	if err == nil && tag.RowsAffected() == 0 {
		return wardline.Errorf(wardline.ECONFLICT, "an organisation with that name exists")
	}
	return err
}

func (q queries) UpdateOrgPolicy(ctx context.Context, orgID string, p wardline.OrgPolicy) error {
	tag, err := q.db.Exec(ctx, `UPDATE orgs SET policy = $1 WHERE id = $2`, p, orgID)
	return mustAffect(tag, err, "organisation")
}

const orgColumns = `id, name, policy, created_at`

func scanOrg(r interface{ Scan(...any) error }) (*wardline.Org, error) {
	var o wardline.Org
	if err := r.Scan(&o.ID, &o.Name, &o.Policy, &o.CreatedAt); err != nil {
		if isNoRows(err) {
			return nil, notFound("organisation")
		}
		return nil, err
	}
	o.CreatedAt = utc(o.CreatedAt)
	return &o, nil
}

func (q queries) Org(ctx context.Context, id string) (*wardline.Org, error) {
	return scanOrg(q.db.QueryRow(ctx, `SELECT `+orgColumns+` FROM orgs WHERE id = $1`, id))
}

func (q queries) OrgByName(ctx context.Context, name string) (*wardline.Org, error) {
	return scanOrg(q.db.QueryRow(ctx, `SELECT `+orgColumns+` FROM orgs WHERE name = $1`, name))
}

func (q queries) CountOrgs(ctx context.Context) (int, error) {
	var n int
	err := q.db.QueryRow(ctx, `SELECT COUNT(*) FROM orgs`).Scan(&n)
	return n, err
}

// OrgIDs lists every organisation's id, oldest first.
func (q queries) OrgIDs(ctx context.Context) ([]string, error) {
	return q.strings(ctx, `SELECT id FROM orgs ORDER BY created_at, id`)
}

func (q queries) strings(ctx context.Context, sql string, args ...any) ([]string, error) {
	rows, err := q.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

const userColumns = `id, org_id, email, display_name, job_title, profession, registration, org_role, status, password_hash, password_change_required, created_at`

// userDest lists a user's destinations in userColumns' order.
func userDest(u *wardline.User) []any {
	return []any{&u.ID, &u.OrgID, &u.Email, &u.DisplayName, &u.JobTitle, &u.Profession, &u.Registration,
		&u.OrgRole, &u.Status, &u.PasswordHash, &u.PasswordChangeRequired, &u.CreatedAt}
}

func scanUser(r interface{ Scan(...any) error }) (*wardline.User, error) {
	var u wardline.User
	if err := r.Scan(userDest(&u)...); err != nil {
		if isNoRows(err) {
			return nil, notFound("user")
		}
		return nil, err
	}
	u.CreatedAt = utc(u.CreatedAt)
	return &u, nil
}

func (q queries) CreateUser(ctx context.Context, u *wardline.User) error {
	tag, err := q.db.Exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING`,
		u.ID, u.OrgID, u.Email, u.DisplayName, u.JobTitle, u.Profession, u.Registration, u.OrgRole, u.Status,
		u.PasswordHash, u.PasswordChangeRequired, u.CreatedAt)
	if err == nil && tag.RowsAffected() == 0 {
		return wardline.Errorf(wardline.ECONFLICT, "someone in this organisation already has that email address")
	}
	return err
}

// UpdateUser refuses an email address another user of the organisation has without raising an
// error in the database, which would abort the whole transaction rather than this one write.
func (q queries) UpdateUser(ctx context.Context, u *wardline.User) error {
	var taken bool
	if err := q.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE org_id = (SELECT org_id FROM users WHERE id = $2) AND email = $1 AND id <> $2)`,
		u.Email, u.ID).Scan(&taken); err != nil {
		return err
	}
	if taken {
		return wardline.Errorf(wardline.ECONFLICT, "someone in this organisation already has that email address")
	}
	tag, err := q.db.Exec(ctx, `UPDATE users SET email = $1, display_name = $2, job_title = $3, profession = $4,
		registration = $5, org_role = $6, status = $7, password_hash = $8, password_change_required = $9 WHERE id = $10`,
		u.Email, u.DisplayName, u.JobTitle, u.Profession, u.Registration, u.OrgRole, u.Status, u.PasswordHash,
		u.PasswordChangeRequired, u.ID)
	if isUnique(err) {
		return wardline.Errorf(wardline.ECONFLICT, "someone in this organisation already has that email address")
	}
	return mustAffect(tag, err, "user")
}

func (q queries) User(ctx context.Context, id string) (*wardline.User, error) {
	return scanUser(q.db.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
}

func (q queries) UserByOrgEmail(ctx context.Context, orgID, email string) (*wardline.User, error) {
	return scanUser(q.db.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE org_id = $1 AND email = $2`, orgID, email))
}

func (q queries) UsersByEmail(ctx context.Context, email string) ([]*wardline.User, error) {
	return scanUsers(q.db.Query(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1 ORDER BY created_at, id`, email))
}

// scanUsers reads every row of a users query and closes it.
func scanUsers(rows pgx.Rows, err error) ([]*wardline.User, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	users := []*wardline.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// FindUsers pages through an organisation's users by display name (compared bytewise, as SQLite
// does); the cursor is the last (display_name, id) seen. lower() folds with the database's
// locale, which must be a UTF-8 one for names such as Élodie to match "élodie".
func (q queries) FindUsers(ctx context.Context, f wardline.UserFilter) ([]*wardline.User, string, error) {
	limit := clampLimit(f.Limit)
	var afterName, afterID string
	if f.Cursor != "" {
		parts, err := decodeCursor(f.Cursor, 2)
		if err != nil {
			return nil, "", err
		}
		afterName, afterID = parts[0], parts[1]
	}
	like := "%" + escapeLike(strings.ToLower(f.Query)) + "%"
	rows, err := q.db.Query(ctx, `SELECT `+userColumns+` FROM users
		WHERE org_id = $1
		  AND ($2 = '' OR status = $2)
		  AND ($3 = '%%' OR lower(display_name) LIKE $3 ESCAPE '\' OR ($4 AND lower(email) LIKE $3 ESCAPE '\')
		       OR lower(job_title) LIKE $3 ESCAPE '\' OR lower(profession) LIKE $3 ESCAPE '\')
		  AND ($5 = '' OR display_name COLLATE "C" > $6 OR (display_name = $6 AND id > $5))
		ORDER BY display_name COLLATE "C", id LIMIT $7`,
		f.OrgID, f.Status, like, f.ByEmail, afterID, afterName, limit+1)
	users, err := scanUsers(rows, err)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(users) > limit {
		users = users[:limit]
		last := users[limit-1]
		next = encodeCursor(last.DisplayName, last.ID)
	}
	return users, next, nil
}

const sessionColumns = `id, user_id, org_id, token_hash, device, addr, created_at, last_seen_at, expires_at, revoked_at, idle_minutes, password_change_required, name, locked_at, pin_failures, mfa_enrollment_required`

// sessionDest lists a session's destinations in sessionColumns' order.
func sessionDest(s *wardline.Session) []any {
	return []any{&s.ID, &s.UserID, &s.OrgID, &s.TokenHash, &s.Device, &s.Addr, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt,
		&s.RevokedAt, &s.IdleMinutes, &s.PasswordChangeRequired, &s.Name, &s.LockedAt, &s.PINFailures, &s.MFAEnrollmentRequired}
}

func normalizeSession(s *wardline.Session) {
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = utc(s.CreatedAt), utc(s.LastSeenAt), utc(s.ExpiresAt)
	s.RevokedAt, s.LockedAt = utcPtr(s.RevokedAt), utcPtr(s.LockedAt)
}

func scanSession(r interface{ Scan(...any) error }) (*wardline.Session, error) {
	var s wardline.Session
	if err := r.Scan(sessionDest(&s)...); err != nil {
		if isNoRows(err) {
			return nil, notFound("session")
		}
		return nil, err
	}
	normalizeSession(&s)
	return &s, nil
}

// sessionUserColumns are a session's columns and its user's, for one joined read.
var sessionUserColumns = qualify("s.", sessionColumns) + ", " + qualify("u.", userColumns)

// SessionWithUser reads the session with a token hash and its user in one query: every
// authenticated request does, so it is one round trip rather than two.
func (q queries) SessionWithUser(ctx context.Context, hash []byte) (*wardline.Session, *wardline.User, error) {
	var s wardline.Session
	var u wardline.User
	err := q.db.QueryRow(ctx, `SELECT `+sessionUserColumns+` FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1`, hash).Scan(append(sessionDest(&s), userDest(&u)...)...)
	if isNoRows(err) {
		return nil, nil, notFound("session")
	} else if err != nil {
		return nil, nil, err
	}
	normalizeSession(&s)
	u.CreatedAt = utc(u.CreatedAt)
	return &s, &u, nil
}

func (q queries) CreateSession(ctx context.Context, s *wardline.Session) error {
	tag, err := q.db.Exec(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT DO NOTHING`,
		s.ID, s.UserID, s.OrgID, s.TokenHash, s.Device, s.Addr, s.CreatedAt, s.LastSeenAt,
		s.ExpiresAt, s.RevokedAt, s.IdleMinutes, s.PasswordChangeRequired, s.Name, s.LockedAt, s.PINFailures, s.MFAEnrollmentRequired)
	if err == nil && tag.RowsAffected() == 0 {
		return wardline.Errorf(wardline.ECONFLICT, "session exists")
	}
	return err
}

func (q queries) SessionByTokenHash(ctx context.Context, hash []byte) (*wardline.Session, error) {
	return scanSession(q.db.QueryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = $1`, hash))
}

func (q queries) Session(ctx context.Context, id string) (*wardline.Session, error) {
	return scanSession(q.db.QueryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, id))
}

func (q queries) LiveSessions(ctx context.Context, userID string, now time.Time) ([]*wardline.Session, error) {
	rows, err := q.db.Query(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at, id`, userID, now)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*wardline.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (q queries) TouchSession(ctx context.Context, id string, at time.Time) error {
	_, err := q.db.Exec(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $1`, at, id)
	return err
}

func (q queries) RevokeSession(ctx context.Context, id string, at time.Time) error {
	_, err := q.db.Exec(ctx, `UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, at, id)
	return err
}

func (q queries) RevokeUserSessions(ctx context.Context, userID string, at time.Time) ([]string, error) {
	return q.strings(ctx, `UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND expires_at > $1 RETURNING id`, at, userID)
}

func (q queries) RecordLoginFailure(ctx context.Context, key string, at time.Time) error {
	_, err := q.db.Exec(ctx, `INSERT INTO login_failures (key, at) VALUES ($1, $2)`, key, at)
	return err
}

func (q queries) ClearLoginFailures(ctx context.Context, key string) error {
	_, err := q.db.Exec(ctx, `DELETE FROM login_failures WHERE key = $1`, key)
	return err
}

func (q queries) CountLoginFailures(ctx context.Context, key string, since time.Time) (int, error) {
	var n int
	err := q.db.QueryRow(ctx, `SELECT COUNT(*) FROM login_failures WHERE key = $1 AND at >= $2`, key, since).Scan(&n)
	return n, err
}

func (q queries) LastLoginFailure(ctx context.Context, key string) (time.Time, error) {
	var at *time.Time
	if err := q.db.QueryRow(ctx, `SELECT MAX(at) FROM login_failures WHERE key = $1`, key).Scan(&at); err != nil {
		return time.Time{}, err
	}
	if at == nil {
		return time.Time{}, nil
	}
	return utc(*at), nil
}

// qualify prefixes every column of a comma-separated list with a table alias ("s." → "s.id, s.user_id").
func qualify(alias, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = alias + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}
