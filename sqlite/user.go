package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"wardline"
)

func (q queries) CreateOrg(ctx context.Context, o *wardline.Org) error {
	policy, err := json.Marshal(o.Policy)
	if err != nil {
		return err
	}
	_, err = q.db.exec(ctx, `INSERT INTO orgs (id, name, policy, created_at) VALUES (?, ?, ?, ?)`,
		o.ID, o.Name, string(policy), micros(o.CreatedAt))
	if isUnique(err) {
		return wardline.Errorf(wardline.ECONFLICT, "an organisation with that name exists")
	}
	return err
}

func (q queries) UpdateOrgPolicy(ctx context.Context, orgID string, p wardline.OrgPolicy) error {
	policy, err := json.Marshal(p)
	if err != nil {
		return err
	}
	res, err := q.db.exec(ctx, `UPDATE orgs SET policy = ? WHERE id = ?`, string(policy), orgID)
	return mustAffect(res, err, "organisation")
}

const orgColumns = `id, name, policy, created_at`

func scanOrg(r interface{ Scan(...any) error }) (*wardline.Org, error) {
	var o wardline.Org
	var policy string
	var created int64
	if err := r.Scan(&o.ID, &o.Name, &policy, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("organisation")
		}
		return nil, err
	}
	if err := json.Unmarshal([]byte(policy), &o.Policy); err != nil {
		return nil, err
	}
	o.CreatedAt = fromMicros(created)
	return &o, nil
}

func (q queries) Org(ctx context.Context, id string) (*wardline.Org, error) {
	return scanOrg(q.db.queryRow(ctx, `SELECT `+orgColumns+` FROM orgs WHERE id = ?`, id))
}

func (q queries) OrgByName(ctx context.Context, name string) (*wardline.Org, error) {
	return scanOrg(q.db.queryRow(ctx, `SELECT `+orgColumns+` FROM orgs WHERE name = ?`, name))
}

func (q queries) CountOrgs(ctx context.Context) (int, error) {
	var n int
	err := q.db.queryRow(ctx, `SELECT COUNT(*) FROM orgs`).Scan(&n)
	return n, err
}

const userColumns = `id, org_id, email, display_name, job_title, profession, registration, org_role, status, password_hash, password_change_required, created_at`

// userRow is a users row as scanned: dest lists the columns' destinations in userColumns' order.
type userRow struct {
	u       wardline.User
	created int64
}

func (x *userRow) dest() []any {
	u := &x.u
	return []any{&u.ID, &u.OrgID, &u.Email, &u.DisplayName, &u.JobTitle, &u.Profession, &u.Registration,
		&u.OrgRole, &u.Status, &u.PasswordHash, &u.PasswordChangeRequired, &x.created}
}

func (x *userRow) user() *wardline.User {
	x.u.CreatedAt = fromMicros(x.created)
	return &x.u
}

func scanUser(r interface{ Scan(...any) error }) (*wardline.User, error) {
	var x userRow
	if err := r.Scan(x.dest()...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("user")
		}
		return nil, err
	}
	return x.user(), nil
}

func (q queries) CreateUser(ctx context.Context, u *wardline.User) error {
	_, err := q.db.exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.OrgID, u.Email, u.DisplayName, u.JobTitle, u.Profession, u.Registration, u.OrgRole, u.Status,
		u.PasswordHash, u.PasswordChangeRequired, micros(u.CreatedAt))
	if isUnique(err) {
		return wardline.Errorf(wardline.ECONFLICT, "someone in this organisation already has that email address")
	}
	return err
}

func (q queries) UpdateUser(ctx context.Context, u *wardline.User) error {
	res, err := q.db.exec(ctx, `UPDATE users SET email = ?, display_name = ?, job_title = ?, profession = ?,
		registration = ?, org_role = ?, status = ?, password_hash = ?, password_change_required = ? WHERE id = ?`,
		u.Email, u.DisplayName, u.JobTitle, u.Profession, u.Registration, u.OrgRole, u.Status, u.PasswordHash,
		u.PasswordChangeRequired, u.ID)
	if isUnique(err) {
		return wardline.Errorf(wardline.ECONFLICT, "someone in this organisation already has that email address")
	}
	return mustAffect(res, err, "user")
}

func (q queries) User(ctx context.Context, id string) (*wardline.User, error) {
	return scanUser(q.db.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
}

func (q queries) UserByOrgEmail(ctx context.Context, orgID, email string) (*wardline.User, error) {
	return scanUser(q.db.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE org_id = ? AND email = ?`, orgID, email))
}

func (q queries) UsersByEmail(ctx context.Context, email string) ([]*wardline.User, error) {
	return scanUsers(q.db.query(ctx, `SELECT `+userColumns+` FROM users WHERE email = ? ORDER BY created_at, id`, email))
}

// scanUsers reads every row of a users query and closes it.
func scanUsers(rows *sql.Rows, err error) ([]*wardline.User, error) {
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

// FindUsers pages through an organisation's users by display name; the cursor is the last
// (display_name, id) seen.
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
	rows, err := q.db.query(ctx, `SELECT `+userColumns+` FROM users
		WHERE org_id = ?
		  AND (? = '' OR status = ?)
		  AND (? = '%%' OR wl_fold(display_name) LIKE ? ESCAPE '\' OR (? AND wl_fold(email) LIKE ? ESCAPE '\')
		       OR wl_fold(job_title) LIKE ? ESCAPE '\' OR wl_fold(profession) LIKE ? ESCAPE '\')
		  AND (? = '' OR display_name > ? OR (display_name = ? AND id > ?))
		ORDER BY display_name, id LIMIT ?`,
		f.OrgID, f.Status, f.Status, like, like, f.ByEmail, like, like, like, afterID, afterName, afterName, afterID, limit+1)
	users, err := scanUsers(rows, err)
	if err != nil {
		return nil, "", err
	}
	users, next := nextPage(users, limit, func(u *wardline.User) string { return encodeCursor(u.DisplayName, u.ID) })
	return users, next, nil
}

const sessionColumns = `id, user_id, org_id, token_hash, device, addr, created_at, last_seen_at, expires_at, revoked_at, idle_minutes, password_change_required, name, locked_at, pin_failures, mfa_enrollment_required`

// sessionRow is a sessions row as scanned, like userRow.
type sessionRow struct {
	s                      wardline.Session
	created, seen, expires int64
	revoked, locked        sql.NullInt64
}

func (x *sessionRow) dest() []any {
	s := &x.s
	return []any{&s.ID, &s.UserID, &s.OrgID, &s.TokenHash, &s.Device, &s.Addr, &x.created, &x.seen, &x.expires,
		&x.revoked, &s.IdleMinutes, &s.PasswordChangeRequired, &s.Name, &x.locked, &s.PINFailures, &s.MFAEnrollmentRequired}
}

func (x *sessionRow) session() *wardline.Session {
	s := &x.s
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMicros(x.created), fromMicros(x.seen), fromMicros(x.expires)
	s.RevokedAt, s.LockedAt = fromNullMicros(x.revoked), fromNullMicros(x.locked)
	return s
}

func scanSession(r interface{ Scan(...any) error }) (*wardline.Session, error) {
	var x sessionRow
	if err := r.Scan(x.dest()...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("session")
		}
		return nil, err
	}
	return x.session(), nil
}

// sessionUserColumns are a session's columns and its user's, for one joined read.
var sessionUserColumns = qualify("s.", sessionColumns) + ", " + qualify("u.", userColumns)

// SessionWithUser reads the session with a token hash and its user in one query: every
// authenticated request does, so it is one round trip rather than two.
func (q queries) SessionWithUser(ctx context.Context, hash []byte) (*wardline.Session, *wardline.User, error) {
	var sr sessionRow
	var ur userRow
	err := q.db.queryRow(ctx, `SELECT `+sessionUserColumns+` FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ?`, hash).Scan(append(sr.dest(), ur.dest()...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, notFound("session")
	} else if err != nil {
		return nil, nil, err
	}
	return sr.session(), ur.user(), nil
}

func (q queries) CreateSession(ctx context.Context, s *wardline.Session) error {
	_, err := q.db.exec(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.UserID, s.OrgID, s.TokenHash, s.Device, s.Addr, micros(s.CreatedAt), micros(s.LastSeenAt),
		micros(s.ExpiresAt), nullMicros(s.RevokedAt), s.IdleMinutes, s.PasswordChangeRequired,
		s.Name, nullMicros(s.LockedAt), s.PINFailures, s.MFAEnrollmentRequired)
	return err
}

func (q queries) SessionByTokenHash(ctx context.Context, hash []byte) (*wardline.Session, error) {
	return scanSession(q.db.queryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = ?`, hash))
}

func (q queries) Session(ctx context.Context, id string) (*wardline.Session, error) {
	return scanSession(q.db.queryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`, id))
}

func (q queries) LiveSessions(ctx context.Context, userID string, now time.Time) ([]*wardline.Session, error) {
	rows, err := q.db.query(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at`, userID, micros(now))
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
	_, err := q.db.exec(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?`, micros(at), id, micros(at))
	return err
}

func (q queries) RevokeSession(ctx context.Context, id string, at time.Time) error {
	_, err := q.db.exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, micros(at), id)
	return err
}

func (q queries) RevokeUserSessions(ctx context.Context, userID string, at time.Time) ([]string, error) {
	return q.strings(ctx, `UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? RETURNING id`, micros(at), userID, micros(at))
}

func (q queries) RecordLoginFailure(ctx context.Context, key string, at time.Time) error {
	_, err := q.db.exec(ctx, `INSERT INTO login_failures (key, at) VALUES (?, ?)`, key, micros(at))
	return err
}

func (q queries) ClearLoginFailures(ctx context.Context, key string) error {
	_, err := q.db.exec(ctx, `DELETE FROM login_failures WHERE key = ?`, key)
	return err
}

func (q queries) CountLoginFailures(ctx context.Context, key string, since time.Time) (int, error) {
	var n int
	err := q.db.queryRow(ctx, `SELECT COUNT(*) FROM login_failures WHERE key = ? AND at >= ?`, key, micros(since)).Scan(&n)
	return n, err
}

func (q queries) LastLoginFailure(ctx context.Context, key string) (time.Time, error) {
	var at sql.NullInt64
	if err := q.db.queryRow(ctx, `SELECT MAX(at) FROM login_failures WHERE key = ?`, key).Scan(&at); err != nil {
		return time.Time{}, err
	}
	if !at.Valid {
		return time.Time{}, nil
	}
	return fromMicros(at.Int64), nil
}

func mustAffect(res sql.Result, err error, what string) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(what)
	}
	return nil
}

// OrgIDs lists every organisation's id (for start-up checks and administration).
func (q queries) OrgIDs(ctx context.Context) ([]string, error) {
	return q.strings(ctx, `SELECT id FROM orgs ORDER BY created_at`)
}

// qualify prefixes every column of a comma-separated list with a table alias ("s." → "s.id, s.user_id").
func qualify(alias, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = alias + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}
