-- Strong authentication (the auth feature's sqlite/migration/0003_auth.sql in native types):
-- second factors, PIN, passkeys, ceremonies in progress, device sessions. Secrets (TOTP secrets,
-- recovery code hashes, passkey records) are sealed with the keyring under the user's own scope;
-- the PIN is an argon2id hash.

ALTER TABLE sessions ADD COLUMN name text NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN locked_at timestamptz;
ALTER TABLE sessions ADD COLUMN pin_failures integer NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN mfa_enrollment_required boolean NOT NULL DEFAULT false;

CREATE TABLE user_mfa (
	user_id             text COLLATE "C" PRIMARY KEY REFERENCES users(id),
	org_id              text COLLATE "C" NOT NULL,
	totp_sealed         bytea,
	totp_pending_sealed bytea,
	totp_last_step      bigint NOT NULL DEFAULT 0,
	totp_enrolled_at    timestamptz,
	recovery_sealed     bytea,
	recovery_remaining  integer NOT NULL DEFAULT 0,
	pin_hash            text NOT NULL DEFAULT '',
	version             bigint NOT NULL,
	updated_at          timestamptz NOT NULL
);

CREATE TABLE passkeys (
	id            text COLLATE "C" PRIMARY KEY,
	user_id       text COLLATE "C" NOT NULL REFERENCES users(id),
	org_id        text COLLATE "C" NOT NULL,
	credential_id bytea NOT NULL UNIQUE,
	name          text NOT NULL,
	sealed        bytea NOT NULL,
	created_at    timestamptz NOT NULL,
	last_used_at  timestamptz
);
CREATE INDEX passkeys_user ON passkeys(user_id, created_at);

CREATE TABLE auth_challenges (
	id         text COLLATE "C" PRIMARY KEY,
	kind       text NOT NULL,
	token_hash bytea UNIQUE,
	user_id    text COLLATE "C" NOT NULL DEFAULT '',
	org_id     text COLLATE "C" NOT NULL DEFAULT '',
	session_id text COLLATE "C" NOT NULL DEFAULT '',
	data       bytea,
	attempts   integer NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE INDEX auth_challenges_session ON auth_challenges(session_id, kind, created_at);
CREATE INDEX auth_challenges_expiry ON auth_challenges(expires_at);
