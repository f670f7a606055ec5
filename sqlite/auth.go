package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"wardline"
)

// Strong authentication: second factors, PIN, passkeys, ceremonies in progress, session state.

const userMFAColumns = `user_id, org_id, totp_sealed, totp_pending_sealed, totp_last_step, totp_enrolled_at,
	recovery_sealed, recovery_remaining, pin_hash, version, updated_at`

func (q queries) UserMFA(ctx context.Context, userID string) (*wardline.UserMFA, error) {
	var m wardline.UserMFA
	var enrolled sql.NullInt64
	var updated int64
	err := q.db.queryRow(ctx, `SELECT `+userMFAColumns+` FROM user_mfa WHERE user_id = ?`, userID).Scan(
		&m.UserID, &m.OrgID, &m.TOTPSealed, &m.TOTPPendingSealed, &m.TOTPLastStep, &enrolled,
		&m.RecoverySealed, &m.RecoveryRemaining, &m.PINHash, &m.Version, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("second factor")
	} else if err != nil {
		return nil, err
	}
	m.TOTPEnrolledAt, m.UpdatedAt = fromNullMicros(enrolled), fromMicros(updated)
	return &m, nil
}

func (q queries) PutUserMFA(ctx context.Context, m *wardline.UserMFA) error {
	next := m.Version + 1
	var res sql.Result
	var err error
	if m.Version == 0 {
		res, err = q.db.exec(ctx, `INSERT INTO user_mfa (`+userMFAColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (user_id) DO NOTHING`,
			m.UserID, m.OrgID, m.TOTPSealed, m.TOTPPendingSealed, m.TOTPLastStep, nullMicros(m.TOTPEnrolledAt),
			m.RecoverySealed, m.RecoveryRemaining, m.PINHash, next, micros(m.UpdatedAt))
	} else {
		res, err = q.db.exec(ctx, `UPDATE user_mfa SET totp_sealed = ?, totp_pending_sealed = ?, totp_last_step = ?,
			totp_enrolled_at = ?, recovery_sealed = ?, recovery_remaining = ?, pin_hash = ?, version = ?, updated_at = ?
			WHERE user_id = ? AND version = ?`,
			m.TOTPSealed, m.TOTPPendingSealed, m.TOTPLastStep, nullMicros(m.TOTPEnrolledAt), m.RecoverySealed,
			m.RecoveryRemaining, m.PINHash, next, micros(m.UpdatedAt), m.UserID, m.Version)
	}
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return wardline.Errorf(wardline.ECONFLICT, "the second factors changed meanwhile; try again")
	}
	m.Version = next
	return nil
}

func (q queries) DeleteUserMFA(ctx context.Context, userID string) error {
	_, err := q.db.exec(ctx, `DELETE FROM user_mfa WHERE user_id = ?`, userID)
	return err
}

const passkeyColumns = `id, user_id, org_id, credential_id, name, sealed, created_at, last_used_at`

func scanPasskey(r interface{ Scan(...any) error }) (*wardline.Passkey, error) {
	var p wardline.Passkey
	var created int64
	var used sql.NullInt64
	if err := r.Scan(&p.ID, &p.UserID, &p.OrgID, &p.CredentialID, &p.Name, &p.Sealed, &created, &used); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("passkey")
		}
		return nil, err
	}
	p.CreatedAt, p.LastUsedAt = fromMicros(created), fromNullMicros(used)
	return &p, nil
}

func (q queries) Passkeys(ctx context.Context, userID string) ([]*wardline.Passkey, error) {
	rows, err := q.db.query(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE user_id = ? ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*wardline.Passkey
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (q queries) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*wardline.Passkey, error) {
	return scanPasskey(q.db.queryRow(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE credential_id = ?`, credentialID))
}

func (q queries) InsertPasskey(ctx context.Context, p *wardline.Passkey) error {
	_, err := q.db.exec(ctx, `INSERT INTO passkeys (`+passkeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.UserID, p.OrgID, p.CredentialID, p.Name, p.Sealed, micros(p.CreatedAt), nullMicros(p.LastUsedAt))
	if isUnique(err) {
		return wardline.Errorf(wardline.ECONFLICT, "this passkey is registered already")
	}
	return err
}

func (q queries) UpdatePasskey(ctx context.Context, p *wardline.Passkey) error {
	res, err := q.db.exec(ctx, `UPDATE passkeys SET name = ?, sealed = ?, last_used_at = ? WHERE id = ?`,
		p.Name, p.Sealed, nullMicros(p.LastUsedAt), p.ID)
	return mustAffect(res, err, "passkey")
}

func (q queries) DeletePasskey(ctx context.Context, id string) error {
	res, err := q.db.exec(ctx, `DELETE FROM passkeys WHERE id = ?`, id)
	return mustAffect(res, err, "passkey")
}

func (q queries) DeleteUserPasskeys(ctx context.Context, userID string) (int, error) {
	res, err := q.db.exec(ctx, `DELETE FROM passkeys WHERE user_id = ?`, userID)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

const challengeColumns = `id, kind, token_hash, user_id, org_id, session_id, data, attempts, created_at, expires_at`

func scanChallenge(r interface{ Scan(...any) error }) (*wardline.AuthChallenge, error) {
	var c wardline.AuthChallenge
	var created, expires int64
	if err := r.Scan(&c.ID, &c.Kind, &c.TokenHash, &c.UserID, &c.OrgID, &c.SessionID, &c.Data, &c.Attempts, &created, &expires); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("challenge")
		}
		return nil, err
	}
	c.CreatedAt, c.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &c, nil
}

func (q queries) AuthChallenge(ctx context.Context, id string) (*wardline.AuthChallenge, error) {
	return scanChallenge(q.db.queryRow(ctx, `SELECT `+challengeColumns+` FROM auth_challenges WHERE id = ?`, id))
}

func (q queries) AuthChallengeByTokenHash(ctx context.Context, hash []byte) (*wardline.AuthChallenge, error) {
	return scanChallenge(q.db.queryRow(ctx, `SELECT `+challengeColumns+` FROM auth_challenges WHERE token_hash = ?`, hash))
}

func (q queries) SessionChallenge(ctx context.Context, sessionID, kind string) (*wardline.AuthChallenge, error) {
	if sessionID == "" {
		return nil, notFound("challenge")
	}
	return scanChallenge(q.db.queryRow(ctx, `SELECT `+challengeColumns+` FROM auth_challenges
		WHERE session_id = ? AND kind = ? ORDER BY created_at DESC, id DESC LIMIT 1`, sessionID, kind))
}

func (q queries) InsertAuthChallenge(ctx context.Context, c *wardline.AuthChallenge) error {
	var hash any
	if c.TokenHash != nil {
		hash = c.TokenHash
	}
	_, err := q.db.exec(ctx, `INSERT INTO auth_challenges (`+challengeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Kind, hash, c.UserID, c.OrgID, c.SessionID, c.Data, c.Attempts, micros(c.CreatedAt), micros(c.ExpiresAt))
	return err
}

func (q queries) RecordChallengeAttempt(ctx context.Context, id string) (int, error) {
	var n int
	err := q.db.queryRow(ctx, `UPDATE auth_challenges SET attempts = attempts + 1 WHERE id = ? RETURNING attempts`, id).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("challenge")
	}
	return n, err
}

func (q queries) DeleteAuthChallenge(ctx context.Context, id string) error {
	res, err := q.db.exec(ctx, `DELETE FROM auth_challenges WHERE id = ?`, id)
	return mustAffect(res, err, "challenge")
}

func (q queries) DeleteSessionChallenges(ctx context.Context, sessionID, kind string) error {
	_, err := q.db.exec(ctx, `DELETE FROM auth_challenges WHERE session_id = ? AND kind = ?`, sessionID, kind)
	return err
}

func (q queries) DeleteExpiredAuthChallenges(ctx context.Context, before time.Time) error {
	_, err := q.db.exec(ctx, `DELETE FROM auth_challenges WHERE expires_at < ?`, micros(before))
	return err
}

func (q queries) UpdateSessionState(ctx context.Context, s *wardline.Session) error {
	res, err := q.db.exec(ctx, `UPDATE sessions SET locked_at = ?, pin_failures = ?, mfa_enrollment_required = ?,
		password_change_required = ? WHERE id = ?`,
		nullMicros(s.LockedAt), s.PINFailures, s.MFAEnrollmentRequired, s.PasswordChangeRequired, s.ID)
	return mustAffect(res, err, "session")
}
