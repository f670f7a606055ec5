package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"wardline"
)

// Strong authentication: second factors, PIN, passkeys, ceremonies in progress, session state.

const userMFAColumns = `user_id, org_id, totp_sealed, totp_pending_sealed, totp_last_step, totp_enrolled_at,
	recovery_sealed, recovery_remaining, pin_hash, version, updated_at`

func (q queries) UserMFA(ctx context.Context, userID string) (*wardline.UserMFA, error) {
	var m wardline.UserMFA
	err := q.db.QueryRow(ctx, `SELECT `+userMFAColumns+` FROM user_mfa WHERE user_id = $1`, userID).Scan(
		&m.UserID, &m.OrgID, &m.TOTPSealed, &m.TOTPPendingSealed, &m.TOTPLastStep, &m.TOTPEnrolledAt,
		&m.RecoverySealed, &m.RecoveryRemaining, &m.PINHash, &m.Version, &m.UpdatedAt)
	if isNoRows(err) {
		return nil, notFound("second factor")
	} else if err != nil {
		return nil, err
	}
	m.TOTPEnrolledAt, m.UpdatedAt = utcPtr(m.TOTPEnrolledAt), utc(m.UpdatedAt)
	return &m, nil
}

func (q queries) PutUserMFA(ctx context.Context, m *wardline.UserMFA) error {
	next := m.Version + 1
	var tag pgconn.CommandTag
	var err error
	if m.Version == 0 {
		tag, err = q.db.Exec(ctx, `INSERT INTO user_mfa (`+userMFAColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT (user_id) DO NOTHING`,
			m.UserID, m.OrgID, m.TOTPSealed, m.TOTPPendingSealed, m.TOTPLastStep, m.TOTPEnrolledAt,
			m.RecoverySealed, m.RecoveryRemaining, m.PINHash, next, m.UpdatedAt)
	} else {
		tag, err = q.db.Exec(ctx, `UPDATE user_mfa SET totp_sealed = $1, totp_pending_sealed = $2, totp_last_step = $3,
			totp_enrolled_at = $4, recovery_sealed = $5, recovery_remaining = $6, pin_hash = $7, version = $8, updated_at = $9
			WHERE user_id = $10 AND version = $11`,
			m.TOTPSealed, m.TOTPPendingSealed, m.TOTPLastStep, m.TOTPEnrolledAt, m.RecoverySealed,
			m.RecoveryRemaining, m.PINHash, next, m.UpdatedAt, m.UserID, m.Version)
	}
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return wardline.Errorf(wardline.ECONFLICT, "the second factors changed meanwhile; try again")
	}
	m.Version = next
	return nil
}

func (q queries) DeleteUserMFA(ctx context.Context, userID string) error {
	_, err := q.db.Exec(ctx, `DELETE FROM user_mfa WHERE user_id = $1`, userID)
	return err
}

const passkeyColumns = `id, user_id, org_id, credential_id, name, sealed, created_at, last_used_at`

func scanPasskey(r interface{ Scan(...any) error }) (*wardline.Passkey, error) {
	var p wardline.Passkey
	if err := r.Scan(&p.ID, &p.UserID, &p.OrgID, &p.CredentialID, &p.Name, &p.Sealed, &p.CreatedAt, &p.LastUsedAt); err != nil {
		if isNoRows(err) {
			return nil, notFound("passkey")
		}
		return nil, err
	}
	p.CreatedAt, p.LastUsedAt = utc(p.CreatedAt), utcPtr(p.LastUsedAt)
	return &p, nil
}

func (q queries) Passkeys(ctx context.Context, userID string) ([]*wardline.Passkey, error) {
	rows, err := q.db.Query(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE user_id = $1 ORDER BY created_at, id`, userID)
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
	return scanPasskey(q.db.QueryRow(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE credential_id = $1`, credentialID))
}

func (q queries) InsertPasskey(ctx context.Context, p *wardline.Passkey) error {
	tag, err := q.db.Exec(ctx, `INSERT INTO passkeys (`+passkeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
		p.ID, p.UserID, p.OrgID, p.CredentialID, p.Name, p.Sealed, p.CreatedAt, p.LastUsedAt)
	if err == nil && tag.RowsAffected() == 0 {
		return wardline.Errorf(wardline.ECONFLICT, "this passkey is registered already")
	}
	return err
}

func (q queries) UpdatePasskey(ctx context.Context, p *wardline.Passkey) error {
	tag, err := q.db.Exec(ctx, `UPDATE passkeys SET name = $1, sealed = $2, last_used_at = $3 WHERE id = $4`,
		p.Name, p.Sealed, p.LastUsedAt, p.ID)
	return mustAffect(tag, err, "passkey")
}

func (q queries) DeletePasskey(ctx context.Context, id string) error {
	tag, err := q.db.Exec(ctx, `DELETE FROM passkeys WHERE id = $1`, id)
	return mustAffect(tag, err, "passkey")
}

func (q queries) DeleteUserPasskeys(ctx context.Context, userID string) (int, error) {
	tag, err := q.db.Exec(ctx, `DELETE FROM passkeys WHERE user_id = $1`, userID)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

const challengeColumns = `id, kind, token_hash, user_id, org_id, session_id, data, attempts, created_at, expires_at`

func scanChallenge(r interface{ Scan(...any) error }) (*wardline.AuthChallenge, error) {
	var c wardline.AuthChallenge
	if err := r.Scan(&c.ID, &c.Kind, &c.TokenHash, &c.UserID, &c.OrgID, &c.SessionID, &c.Data, &c.Attempts, &c.CreatedAt, &c.ExpiresAt); err != nil {
		if isNoRows(err) {
			return nil, notFound("challenge")
		}
		return nil, err
	}
	c.CreatedAt, c.ExpiresAt = utc(c.CreatedAt), utc(c.ExpiresAt)
	return &c, nil
}

func (q queries) AuthChallenge(ctx context.Context, id string) (*wardline.AuthChallenge, error) {
	return scanChallenge(q.db.QueryRow(ctx, `SELECT `+challengeColumns+` FROM auth_challenges WHERE id = $1`, id))
}

func (q queries) AuthChallengeByTokenHash(ctx context.Context, hash []byte) (*wardline.AuthChallenge, error) {
	return scanChallenge(q.db.QueryRow(ctx, `SELECT `+challengeColumns+` FROM auth_challenges WHERE token_hash = $1`, hash))
}

func (q queries) SessionChallenge(ctx context.Context, sessionID, kind string) (*wardline.AuthChallenge, error) {
	if sessionID == "" {
		return nil, notFound("challenge")
	}
	return scanChallenge(q.db.QueryRow(ctx, `SELECT `+challengeColumns+` FROM auth_challenges
		WHERE session_id = $1 AND kind = $2 ORDER BY created_at DESC, id DESC LIMIT 1`, sessionID, kind))
}

func (q queries) InsertAuthChallenge(ctx context.Context, c *wardline.AuthChallenge) error {
	var hash []byte
	if c.TokenHash != nil {
		hash = c.TokenHash
	}
	tag, err := q.db.Exec(ctx, `INSERT INTO auth_challenges (`+challengeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
		c.ID, c.Kind, hash, c.UserID, c.OrgID, c.SessionID, c.Data, c.Attempts, c.CreatedAt, c.ExpiresAt)
	if err == nil && tag.RowsAffected() == 0 {
		return wardline.Errorf(wardline.ECONFLICT, "challenge exists")
	}
	return err
}

func (q queries) RecordChallengeAttempt(ctx context.Context, id string) (int, error) {
	var n int
	err := q.db.QueryRow(ctx, `UPDATE auth_challenges SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts`, id).Scan(&n)
	if isNoRows(err) {
		return 0, notFound("challenge")
	}
	return n, err
}

func (q queries) DeleteAuthChallenge(ctx context.Context, id string) error {
	tag, err := q.db.Exec(ctx, `DELETE FROM auth_challenges WHERE id = $1`, id)
	return mustAffect(tag, err, "challenge")
}

func (q queries) DeleteSessionChallenges(ctx context.Context, sessionID, kind string) error {
	_, err := q.db.Exec(ctx, `DELETE FROM auth_challenges WHERE session_id = $1 AND kind = $2`, sessionID, kind)
	return err
}

func (q queries) DeleteExpiredAuthChallenges(ctx context.Context, before time.Time) error {
	_, err := q.db.Exec(ctx, `DELETE FROM auth_challenges WHERE expires_at < $1`, before)
	return err
}

func (q queries) UpdateSessionState(ctx context.Context, s *wardline.Session) error {
	tag, err := q.db.Exec(ctx, `UPDATE sessions SET locked_at = $1, pin_failures = $2, mfa_enrollment_required = $3,
		password_change_required = $4 WHERE id = $5`,
		s.LockedAt, s.PINFailures, s.MFAEnrollmentRequired, s.PasswordChangeRequired, s.ID)
	return mustAffect(tag, err, "session")
}
