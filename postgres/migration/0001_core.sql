-- Core schema on PostgreSQL: the same tables as sqlite/migration/0001_core.sql in native types.
-- Times are timestamptz (microsecond precision, as the store contract keeps); sealed content and
-- token hashes are bytea; policy and audit detail are jsonb. Ids stay text: they are UUIDv7
-- strings from the services, but some columns also hold other opaque keys ("kek:1", "" for an
-- anonymous actor), and text keeps the store interface backend-neutral. Ids and keys compare
-- bytewise (COLLATE "C"), as in SQLite, so that pages and cursors order alike on every server
-- whatever its locale; names keep the database collation so that lower() folds every alphabet.

CREATE TABLE orgs (
	id         text COLLATE "C" PRIMARY KEY,
	name       text NOT NULL UNIQUE,
	policy     jsonb NOT NULL,
	created_at timestamptz NOT NULL
);

CREATE TABLE users (
	id                       text COLLATE "C" PRIMARY KEY,
	org_id                   text COLLATE "C" NOT NULL REFERENCES orgs(id),
	email                    text NOT NULL UNIQUE,
	display_name             text NOT NULL,
	job_title                text NOT NULL DEFAULT '',
	profession               text NOT NULL DEFAULT '',
	registration             text NOT NULL DEFAULT '',
	org_role                 text NOT NULL,
	status                   text NOT NULL,
	password_hash            text NOT NULL,
	password_change_required boolean NOT NULL DEFAULT false,
	created_at               timestamptz NOT NULL
);
CREATE INDEX users_org_name ON users(org_id, display_name, id);

CREATE TABLE sessions (
	id                       text COLLATE "C" PRIMARY KEY,
	user_id                  text COLLATE "C" NOT NULL REFERENCES users(id),
	org_id                   text COLLATE "C" NOT NULL,
	token_hash               bytea NOT NULL UNIQUE,
	device                   text NOT NULL DEFAULT '',
	addr                     text NOT NULL DEFAULT '',
	created_at               timestamptz NOT NULL,
	last_seen_at             timestamptz NOT NULL,
	expires_at               timestamptz NOT NULL,
	revoked_at               timestamptz,
	idle_minutes             integer NOT NULL,
	password_change_required boolean NOT NULL DEFAULT false
);
CREATE INDEX sessions_user ON sessions(user_id);

-- Login failures are rows, not process memory: every node counts the same failures, so lockouts
-- and rate limits hold across a cluster.
CREATE TABLE login_failures (
	key text COLLATE "C" NOT NULL,
	at  timestamptz NOT NULL
);
CREATE INDEX login_failures_key ON login_failures(key, at);

CREATE TABLE conversations (
	id               text COLLATE "C" PRIMARY KEY,
	org_id           text COLLATE "C" NOT NULL REFERENCES orgs(id),
	kind             text NOT NULL,
	title_sealed     bytea,
	created_at       timestamptz NOT NULL,
	created_by       text COLLATE "C" NOT NULL,
	-- The per-conversation seq counter: NextSeq increments it with UPDATE ... RETURNING, whose
	-- row lock orders concurrent senders on every node; a rollback undoes the increment.
	last_seq         bigint NOT NULL DEFAULT 0,
	last_activity_at timestamptz NOT NULL,
	patient_id       text COLLATE "C",
	direct_key       text COLLATE "C"
);
CREATE UNIQUE INDEX conversations_direct ON conversations(org_id, direct_key) WHERE direct_key IS NOT NULL;
CREATE INDEX conversations_org_kind ON conversations(org_id, kind);
CREATE INDEX conversations_activity ON conversations(last_activity_at DESC, id DESC);

CREATE TABLE members (
	conversation_id text COLLATE "C" NOT NULL REFERENCES conversations(id),
	user_id         text COLLATE "C" NOT NULL REFERENCES users(id),
	role            text NOT NULL,
	joined_at       timestamptz NOT NULL,
	delivered_seq   bigint NOT NULL DEFAULT 0,
	read_seq        bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX members_user ON members(user_id);

CREATE TABLE messages (
	id              text COLLATE "C" PRIMARY KEY,
	conversation_id text COLLATE "C" NOT NULL REFERENCES conversations(id),
	seq             bigint NOT NULL,
	sender_id       text COLLATE "C" NOT NULL,
	client_id       text COLLATE "C" NOT NULL,
	body_sealed     bytea,
	priority        text NOT NULL,
	requires_ack    boolean NOT NULL,
	created_at      timestamptz NOT NULL,
	edited_at       timestamptz,
	deleted         boolean NOT NULL DEFAULT false,
	version         integer NOT NULL DEFAULT 1,
	UNIQUE (conversation_id, seq),
	UNIQUE (conversation_id, sender_id, client_id)
);

-- Earlier versions of edited or deleted messages, kept for the audited record.
CREATE TABLE message_versions (
	message_id  text COLLATE "C" NOT NULL REFERENCES messages(id),
	version     integer NOT NULL,
	body_sealed bytea,
	at          timestamptz NOT NULL,
	deleted     boolean NOT NULL DEFAULT false,
	PRIMARY KEY (message_id, version)
);

-- Every advance of a member's delivered or read watermark, with its time.
CREATE TABLE watermarks (
	conversation_id text COLLATE "C" NOT NULL,
	user_id         text COLLATE "C" NOT NULL,
	kind            text NOT NULL,
	seq             bigint NOT NULL,
	at              timestamptz NOT NULL,
	PRIMARY KEY (conversation_id, user_id, kind, seq)
);

CREATE TABLE acks (
	message_id      text COLLATE "C" NOT NULL,
	user_id         text COLLATE "C" NOT NULL,
	conversation_id text COLLATE "C" NOT NULL,
	at              timestamptz NOT NULL,
	PRIMARY KEY (message_id, user_id)
);

-- The audit log. seq is gapless and follows commit order across every node: see audit_tree in
-- 0002_audit.sql, whose single row numbers each transaction's entries as its last step.
CREATE TABLE audit_events (
	seq             bigint PRIMARY KEY,
	id              text COLLATE "C" NOT NULL UNIQUE,
	at              timestamptz NOT NULL,
	org_id          text COLLATE "C" NOT NULL,
	actor_id        text COLLATE "C" NOT NULL,
	session_id      text COLLATE "C" NOT NULL,
	addr            text NOT NULL,
	action          text NOT NULL,
	target_type     text NOT NULL,
	target_id       text COLLATE "C" NOT NULL,
	conversation_id text COLLATE "C" NOT NULL,
	outcome         text NOT NULL,
	justification   text NOT NULL,
	detail          jsonb NOT NULL
);
CREATE INDEX audit_org ON audit_events(org_id, seq);

CREATE TABLE keys (
	id           text COLLATE "C" PRIMARY KEY,
	kind         text NOT NULL,
	org_id       text COLLATE "C" NOT NULL,
	scope        text COLLATE "C" NOT NULL,
	term         integer NOT NULL,
	wrapped_by   text COLLATE "C" NOT NULL,
	wrapped      bytea,
	created_at   timestamptz NOT NULL,
	destroyed_at timestamptz,
	UNIQUE (scope, kind, term)
);
CREATE INDEX keys_wrapped_by ON keys(wrapped_by, id);
