-- The audit feature (sqlite/migration/0002_audit.sql in native types): tamper evidence (a leaf
-- hash per entry, the Merkle tree's state, signed checkpoints), IG investigations, anomaly alerts
-- and the devices people sign in from.

-- The RFC 6962 leaf hash of each entry, computed by the store as it appends the entry, in the
-- same transaction.
ALTER TABLE audit_events ADD COLUMN leaf_hash bytea;

-- The compact range of the Merkle tree over every entry, and the log's sequence: one row. Each
-- committing transaction locks it as its very last step, numbers its entries from size + 1,
-- appends their leaves and writes it back, then commits. So seqs are gapless and follow commit
-- order across every node (whoever sees entry N sees every entry below it), and a transaction
-- holding the row never waits for another lock, so it is never part of a deadlock.
CREATE TABLE audit_tree (
	id    integer PRIMARY KEY CHECK (id = 1),
	size  bigint NOT NULL,
	state bytea NOT NULL
);
INSERT INTO audit_tree (id, size, state) VALUES (1, 0, '\x010000000000000000'::bytea);

-- Signed checkpoints, kept apart from the entries so that truncating the log does not take the
-- checkpoints that reveal it (a witness file outside the database keeps copies too).
CREATE TABLE audit_checkpoints (
	id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	size bigint NOT NULL,
	root bytea NOT NULL,
	at   timestamptz NOT NULL,
	note text NOT NULL
);
CREATE INDEX audit_checkpoints_size ON audit_checkpoints(size);
CREATE INDEX audit_checkpoints_at ON audit_checkpoints(at);

-- IG officers search by person, conversation and patient (the HMAC in detail, never the value).
CREATE INDEX audit_org_actor ON audit_events(org_id, actor_id, seq);
CREATE INDEX audit_org_conversation ON audit_events(org_id, conversation_id, seq) WHERE conversation_id <> '';
CREATE INDEX audit_patient ON audit_events((detail->>'patient_hmac'), seq) WHERE detail ? 'patient_hmac';

CREATE TABLE investigations (
	id              text COLLATE "C" PRIMARY KEY,
	org_id          text COLLATE "C" NOT NULL REFERENCES orgs(id),
	conversation_id text COLLATE "C" NOT NULL,
	opened_by       text COLLATE "C" NOT NULL,
	opened_at       timestamptz NOT NULL,
	justification   text NOT NULL,
	status          text NOT NULL,
	closed_by       text COLLATE "C" NOT NULL DEFAULT '',
	closed_at       timestamptz
);
CREATE INDEX investigations_org ON investigations(org_id, opened_at, id);

CREATE TABLE alerts (
	id          text COLLATE "C" PRIMARY KEY,
	org_id      text COLLATE "C" NOT NULL,
	kind        text NOT NULL,
	at          timestamptz NOT NULL,
	user_id     text COLLATE "C" NOT NULL,
	addr        text NOT NULL,
	target_id   text COLLATE "C" NOT NULL,
	count       integer NOT NULL,
	threshold   integer NOT NULL,
	audit_seq   bigint NOT NULL,
	message     text NOT NULL
);
CREATE INDEX alerts_org ON alerts(org_id, at, id);

CREATE TABLE known_devices (
	user_id     text COLLATE "C" NOT NULL,
	fingerprint text NOT NULL,
	first_seen  timestamptz NOT NULL,
	PRIMARY KEY (user_id, fingerprint)
);
