-- Core schema: organisations, directory, sessions, conversations, messages, receipts, audit, keys.
-- Times are integer microseconds since the Unix epoch, UTC. Content is sealed (BLOB); only ids,
-- times, sequence numbers and flags are in clear.

CREATE TABLE orgs (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	policy     TEXT NOT NULL,
	created_at INTEGER NOT NULL
);

CREATE TABLE users (
	id                       TEXT PRIMARY KEY,
	org_id                   TEXT NOT NULL REFERENCES orgs(id),
	email                    TEXT NOT NULL UNIQUE,
	display_name             TEXT NOT NULL,
	job_title                TEXT NOT NULL DEFAULT '',
	profession               TEXT NOT NULL DEFAULT '',
	registration             TEXT NOT NULL DEFAULT '',
	org_role                 TEXT NOT NULL,
	status                   TEXT NOT NULL,
	password_hash            TEXT NOT NULL,
	password_change_required INTEGER NOT NULL DEFAULT 0,
	created_at               INTEGER NOT NULL
);
CREATE INDEX users_org_name ON users(org_id, display_name, id);

CREATE TABLE sessions (
	id                       TEXT PRIMARY KEY,
	user_id                  TEXT NOT NULL REFERENCES users(id),
	org_id                   TEXT NOT NULL,
	token_hash               BLOB NOT NULL UNIQUE,
	device                   TEXT NOT NULL DEFAULT '',
	addr                     TEXT NOT NULL DEFAULT '',
	created_at               INTEGER NOT NULL,
	last_seen_at             INTEGER NOT NULL,
	expires_at               INTEGER NOT NULL,
	revoked_at               INTEGER,
	idle_minutes             INTEGER NOT NULL,
	password_change_required INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE login_failures (
	key TEXT NOT NULL,
	at  INTEGER NOT NULL
);
CREATE INDEX login_failures_key ON login_failures(key, at);

CREATE TABLE conversations (
	id               TEXT PRIMARY KEY,
	org_id           TEXT NOT NULL REFERENCES orgs(id),
	kind             TEXT NOT NULL,
	title_sealed     BLOB,
	created_at       INTEGER NOT NULL,
	created_by       TEXT NOT NULL,
	last_seq         INTEGER NOT NULL DEFAULT 0,
	last_activity_at INTEGER NOT NULL,
	patient_id       TEXT,
	direct_key       TEXT
);
CREATE UNIQUE INDEX conversations_direct ON conversations(org_id, direct_key) WHERE direct_key IS NOT NULL;
CREATE INDEX conversations_org_kind ON conversations(org_id, kind);

CREATE TABLE members (
	conversation_id TEXT NOT NULL REFERENCES conversations(id),
	user_id         TEXT NOT NULL REFERENCES users(id),
	role            TEXT NOT NULL,
	joined_at       INTEGER NOT NULL,
	delivered_seq   INTEGER NOT NULL DEFAULT 0,
	read_seq        INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX members_user ON members(user_id);

CREATE TABLE messages (
	id              TEXT PRIMARY KEY,
	conversation_id TEXT NOT NULL REFERENCES conversations(id),
	seq             INTEGER NOT NULL,
	sender_id       TEXT NOT NULL,
	client_id       TEXT NOT NULL,
	body_sealed     BLOB,
	priority        TEXT NOT NULL,
	requires_ack    INTEGER NOT NULL,
	created_at      INTEGER NOT NULL,
	edited_at       INTEGER,
	deleted         INTEGER NOT NULL DEFAULT 0,
	version         INTEGER NOT NULL DEFAULT 1,
	UNIQUE (conversation_id, seq),
	UNIQUE (conversation_id, sender_id, client_id)
);

-- Earlier versions of edited or deleted messages, kept for the audited record.
CREATE TABLE message_versions (
	message_id  TEXT NOT NULL REFERENCES messages(id),
	version     INTEGER NOT NULL,
	body_sealed BLOB,
	at          INTEGER NOT NULL,
	deleted     INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (message_id, version)
);

-- Every advance of a member's delivered or read watermark, with its time.
CREATE TABLE watermarks (
	conversation_id TEXT NOT NULL,
	user_id         TEXT NOT NULL,
	kind            TEXT NOT NULL,
	seq             INTEGER NOT NULL,
	at              INTEGER NOT NULL,
	PRIMARY KEY (conversation_id, user_id, kind, seq)
);

CREATE TABLE acks (
	message_id      TEXT NOT NULL,
	user_id         TEXT NOT NULL,
	conversation_id TEXT NOT NULL,
	at              INTEGER NOT NULL,
	PRIMARY KEY (message_id, user_id)
);

CREATE TABLE audit_events (
	seq             INTEGER PRIMARY KEY,
	id              TEXT NOT NULL UNIQUE,
	at              INTEGER NOT NULL,
	org_id          TEXT NOT NULL,
	actor_id        TEXT NOT NULL,
	session_id      TEXT NOT NULL,
	addr            TEXT NOT NULL,
	action          TEXT NOT NULL,
	target_type     TEXT NOT NULL,
	target_id       TEXT NOT NULL,
	conversation_id TEXT NOT NULL,
	outcome         TEXT NOT NULL,
	justification   TEXT NOT NULL,
	detail          TEXT NOT NULL
);
CREATE INDEX audit_org ON audit_events(org_id, seq);

CREATE TABLE keys (
	id           TEXT PRIMARY KEY,
	kind         TEXT NOT NULL,
	org_id       TEXT NOT NULL,
	scope        TEXT NOT NULL,
	term         INTEGER NOT NULL,
	wrapped_by   TEXT NOT NULL,
	wrapped      BLOB,
	created_at   INTEGER NOT NULL,
	destroyed_at INTEGER,
	UNIQUE (scope, kind, term)
);
CREATE INDEX keys_wrapped_by ON keys(wrapped_by, id);
