-- Clinical workflow: patients, conversation tracking, roles and rotas, duty, escalation.
-- Patient identifiers and demographics are sealed under each patient's own data key; the NHS
-- number is found by a keyed HMAC (the organisation's identifier key), never stored in clear.

CREATE TABLE patients (
	id          TEXT PRIMARY KEY,
	org_id      TEXT NOT NULL REFERENCES orgs(id),
	nhs_hmac    TEXT NOT NULL,
	nhs_sealed  BLOB,
	name_sealed BLOB,
	dob_sealed  BLOB,
	opted_out   INTEGER NOT NULL DEFAULT 0,
	created_at  INTEGER NOT NULL,
	created_by  TEXT NOT NULL,
	UNIQUE (org_id, nhs_hmac)
);

-- Who registered or looked a patient up, and when (the latest time): they may see the patient
-- for PatientAccessWindow after it.
CREATE TABLE patient_access (
	patient_id TEXT NOT NULL REFERENCES patients(id),
	user_id    TEXT NOT NULL,
	granted_at INTEGER NOT NULL,
	PRIMARY KEY (patient_id, user_id)
);

ALTER TABLE conversations ADD COLUMN category TEXT;
ALTER TABLE conversations ADD COLUMN status TEXT NOT NULL DEFAULT 'open';
ALTER TABLE conversations ADD COLUMN role_id TEXT;
ALTER TABLE conversations ADD COLUMN escalation_role_id TEXT;
CREATE INDEX conversations_patient ON conversations(patient_id) WHERE patient_id IS NOT NULL;
CREATE INDEX conversations_role ON conversations(role_id) WHERE role_id IS NOT NULL;

-- What someone (or a rota) set as their duty status; NULL status: none, working hours decide.
ALTER TABLE users ADD COLUMN duty_status TEXT;
ALTER TABLE users ADD COLUMN duty_until INTEGER;
ALTER TABLE users ADD COLUMN covering_role_id TEXT;

CREATE TABLE clinical_policies (
	org_id TEXT PRIMARY KEY REFERENCES orgs(id),
	policy TEXT NOT NULL
);

CREATE TABLE roles (
	id                  TEXT PRIMARY KEY,
	org_id              TEXT NOT NULL REFERENCES orgs(id),
	name                TEXT NOT NULL,
	fallback_role_id    TEXT,
	escalation_role_ids TEXT NOT NULL, -- JSON array of role ids
	created_at          INTEGER NOT NULL,
	UNIQUE (org_id, name)
);

-- Every period someone holds a role: taken (until released), handed over, or from a rota.
-- start_applied / end_applied mark that the scheduler has acted on a rota period's start / end.
CREATE TABLE role_holders (
	id            TEXT PRIMARY KEY,
	role_id       TEXT NOT NULL REFERENCES roles(id),
	user_id       TEXT NOT NULL REFERENCES users(id),
	source        TEXT NOT NULL,
	since         INTEGER NOT NULL,
	until         INTEGER,
	start_applied INTEGER NOT NULL DEFAULT 1,
	end_applied   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX role_holders_role ON role_holders(role_id, since);
CREATE INDEX role_holders_user ON role_holders(user_id);
CREATE INDEX role_holders_rota_start ON role_holders(since) WHERE start_applied = 0;
CREATE INDEX role_holders_rota_end ON role_holders(until) WHERE end_applied = 0 AND source = 'rota';

CREATE TABLE escalations (
	message_id       TEXT PRIMARY KEY REFERENCES messages(id),
	conversation_id  TEXT NOT NULL,
	org_id           TEXT NOT NULL,
	sender_id        TEXT NOT NULL,
	group_id         TEXT NOT NULL,
	priority         TEXT NOT NULL,
	state            TEXT NOT NULL,
	step             INTEGER NOT NULL,
	next_at          INTEGER,
	interval_us      INTEGER NOT NULL,
	last_step        INTEGER NOT NULL,
	notified         TEXT NOT NULL, -- JSON array of user ids
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL
);
CREATE INDEX escalations_due ON escalations(next_at) WHERE state = 'pending';
CREATE INDEX escalations_group ON escalations(group_id);

CREATE TABLE escalation_steps (
	message_id TEXT NOT NULL REFERENCES escalations(message_id),
	step       INTEGER NOT NULL,
	at         INTEGER NOT NULL,
	notified   TEXT NOT NULL,
	added      TEXT NOT NULL,
	role_id    TEXT,
	PRIMARY KEY (message_id, step)
);
