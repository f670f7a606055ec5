-- The audit feature: tamper evidence (a leaf hash per entry, the Merkle tree's state, signed
-- checkpoints), IG investigations, anomaly alerts and the devices people sign in from.

-- The RFC 6962 leaf hash of each entry, computed by the store as it appends the entry, in the
-- same transaction. Entries written before this migration are hashed by the migration's Go step.
ALTER TABLE audit_events ADD COLUMN leaf_hash BLOB;

-- The compact range of the Merkle tree over every entry: one row, changed once per transaction.
CREATE TABLE audit_tree (
	id    INTEGER PRIMARY KEY CHECK (id = 1),
	size  INTEGER NOT NULL,
	state BLOB NOT NULL
);
INSERT INTO audit_tree (id, size, state) VALUES (1, 0, X'010000000000000000');

-- Signed checkpoints, kept apart from the entries so that truncating the log does not take the
-- checkpoints that reveal it (a witness file outside the database keeps copies too).
CREATE TABLE audit_checkpoints (
	id   INTEGER PRIMARY KEY,
	size INTEGER NOT NULL,
	root BLOB NOT NULL,
	at   INTEGER NOT NULL,
	note TEXT NOT NULL
);
CREATE INDEX audit_checkpoints_size ON audit_checkpoints(size);
CREATE INDEX audit_checkpoints_at ON audit_checkpoints(at);

-- IG officers search by person, conversation and patient (the HMAC in detail, never the value).
CREATE INDEX audit_org_actor ON audit_events(org_id, actor_id, seq);
CREATE INDEX audit_org_conversation ON audit_events(org_id, conversation_id, seq) WHERE conversation_id != '';
CREATE INDEX audit_patient ON audit_events(json_extract(detail, '$.patient_hmac'), seq)
	WHERE json_extract(detail, '$.patient_hmac') IS NOT NULL;

CREATE TABLE investigations (
	id              TEXT PRIMARY KEY,
	org_id          TEXT NOT NULL REFERENCES orgs(id),
	conversation_id TEXT NOT NULL,
	opened_by       TEXT NOT NULL,
	opened_at       INTEGER NOT NULL,
	justification   TEXT NOT NULL,
	status          TEXT NOT NULL,
	closed_by       TEXT NOT NULL DEFAULT '',
	closed_at       INTEGER
);
CREATE INDEX investigations_org ON investigations(org_id, opened_at, id);

CREATE TABLE alerts (
	id          TEXT PRIMARY KEY,
	org_id      TEXT NOT NULL,
	kind        TEXT NOT NULL,
	at          INTEGER NOT NULL,
	user_id     TEXT NOT NULL,
	addr        TEXT NOT NULL,
	target_id   TEXT NOT NULL,
	count       INTEGER NOT NULL,
	threshold   INTEGER NOT NULL,
	audit_seq   INTEGER NOT NULL,
	message     TEXT NOT NULL
);
CREATE INDEX alerts_org ON alerts(org_id, at, id);

CREATE TABLE known_devices (
	user_id     TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	first_seen  INTEGER NOT NULL,
	PRIMARY KEY (user_id, fingerprint)
);
