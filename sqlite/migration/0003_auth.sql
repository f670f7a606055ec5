-- Strong authentication: second factors, PIN, passkeys, ceremonies in progress, device sessions.
-- Secrets (TOTP secrets, recovery code hashes, passkey records) are sealed with the keyring under
-- the user's own scope; the PIN is an argon2id hash.

ALTER TABLE sessions ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN locked_at INTEGER;
ALTER TABLE sessions ADD COLUMN pin_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN mfa_enrollment_required INTEGER NOT NULL DEFAULT 0;

CREATE TABLE user_mfa (
	user_id             TEXT PRIMARY KEY REFERENCES users(id),
	org_id              TEXT NOT NULL,
	totp_sealed         BLOB,
	totp_pending_sealed BLOB,
	totp_last_step      INTEGER NOT NULL DEFAULT 0,
	totp_enrolled_at    INTEGER,
	recovery_sealed     BLOB,
	recovery_remaining  INTEGER NOT NULL DEFAULT 0,
	pin_hash            TEXT NOT NULL DEFAULT '',
	version             INTEGER NOT NULL,
	updated_at          INTEGER NOT NULL
);

CREATE TABLE passkeys (
	id            TEXT PRIMARY KEY,
	user_id       TEXT NOT NULL REFERENCES users(id),
	org_id        TEXT NOT NULL,
	credential_id BLOB NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	sealed        BLOB NOT NULL,
	created_at    INTEGER NOT NULL,
	last_used_at  INTEGER
);
CREATE INDEX passkeys_user ON passkeys(user_id, created_at);

CREATE TABLE auth_challenges (
	id         TEXT PRIMARY KEY,
	kind       TEXT NOT NULL,
	token_hash BLOB UNIQUE,
	user_id    TEXT NOT NULL DEFAULT '',
	org_id     TEXT NOT NULL DEFAULT '',
	session_id TEXT NOT NULL DEFAULT '',
	data       BLOB,
	attempts   INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX auth_challenges_session ON auth_challenges(session_id, kind, created_at);
CREATE INDEX auth_challenges_expiry ON auth_challenges(expires_at);
