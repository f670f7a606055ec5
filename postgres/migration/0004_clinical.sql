-- Clinical workflow (sqlite/migration/0004_clinical.sql in native types): patients, conversation
-- tracking, roles and rotas, duty, escalation. Patient identifiers and demographics are sealed
-- under each patient's own data key; the NHS number is found by a keyed HMAC, never stored in clear.

CREATE TABLE patients (
	id          text COLLATE "C" PRIMARY KEY,
	org_id      text COLLATE "C" NOT NULL REFERENCES orgs(id),
	nhs_hmac    text COLLATE "C" NOT NULL,
	nhs_sealed  bytea,
	name_sealed bytea,
	dob_sealed  bytea,
	opted_out   boolean NOT NULL DEFAULT false,
	created_at  timestamptz NOT NULL,
	created_by  text COLLATE "C" NOT NULL,
	UNIQUE (org_id, nhs_hmac)
);

-- Who registered or looked a patient up, and when (the latest time).
CREATE TABLE patient_access (
	patient_id text COLLATE "C" NOT NULL REFERENCES patients(id),
	user_id    text COLLATE "C" NOT NULL,
	granted_at timestamptz NOT NULL,
	PRIMARY KEY (patient_id, user_id)
);

ALTER TABLE conversations ADD COLUMN category text;
ALTER TABLE conversations ADD COLUMN status text NOT NULL DEFAULT 'open';
ALTER TABLE conversations ADD COLUMN role_id text COLLATE "C";
ALTER TABLE conversations ADD COLUMN escalation_role_id text COLLATE "C";
CREATE INDEX conversations_patient ON conversations(patient_id) WHERE patient_id IS NOT NULL;
CREATE INDEX conversations_role ON conversations(role_id) WHERE role_id IS NOT NULL;

-- What someone (or a rota) set as their duty status; NULL status: none, working hours decide.
ALTER TABLE users ADD COLUMN duty_status text;
ALTER TABLE users ADD COLUMN duty_until timestamptz;
ALTER TABLE users ADD COLUMN covering_role_id text COLLATE "C";

CREATE TABLE clinical_policies (
	org_id text COLLATE "C" PRIMARY KEY REFERENCES orgs(id),
	policy jsonb NOT NULL
);

CREATE TABLE roles (
	id                  text COLLATE "C" PRIMARY KEY,
	org_id              text COLLATE "C" NOT NULL REFERENCES orgs(id),
	name                text NOT NULL,
	fallback_role_id    text COLLATE "C",
	escalation_role_ids jsonb NOT NULL, -- array of role ids, in order
	created_at          timestamptz NOT NULL,
	UNIQUE (org_id, name)
);

-- Every period someone holds a role: taken (until released), handed over, or from a rota.
-- start_applied / end_applied mark that the scheduler has acted on a rota period's start / end;
-- claiming them is a conditional update, so exactly one node acts on each.
CREATE TABLE role_holders (
	id            text COLLATE "C" PRIMARY KEY,
	role_id       text COLLATE "C" NOT NULL REFERENCES roles(id),
	user_id       text COLLATE "C" NOT NULL REFERENCES users(id),
	source        text NOT NULL,
	since         timestamptz NOT NULL,
	until         timestamptz,
	start_applied boolean NOT NULL DEFAULT true,
	end_applied   boolean NOT NULL DEFAULT false
);
CREATE INDEX role_holders_role ON role_holders(role_id, since);
CREATE INDEX role_holders_user ON role_holders(user_id);
CREATE INDEX role_holders_rota_start ON role_holders(since) WHERE NOT start_applied;
CREATE INDEX role_holders_rota_end ON role_holders(until) WHERE NOT end_applied AND source = 'rota';

-- Escalations: each step is claimed by a conditional update on (state, step), so that of the
-- nodes that find a step due, exactly one fires it.
CREATE TABLE escalations (
	message_id       text COLLATE "C" PRIMARY KEY REFERENCES messages(id),
	conversation_id  text COLLATE "C" NOT NULL,
	org_id           text COLLATE "C" NOT NULL,
	sender_id        text COLLATE "C" NOT NULL,
	group_id         text COLLATE "C" NOT NULL,
	priority         text NOT NULL,
	state            text NOT NULL,
	step             integer NOT NULL,
	next_at          timestamptz,
	interval_us      bigint NOT NULL,
	last_step        integer NOT NULL,
	notified         jsonb NOT NULL, -- array of user ids
	created_at       timestamptz NOT NULL,
	updated_at       timestamptz NOT NULL
);
CREATE INDEX escalations_due ON escalations(next_at) WHERE state = 'pending';
CREATE INDEX escalations_group ON escalations(group_id);

CREATE TABLE escalation_steps (
	message_id text COLLATE "C" NOT NULL REFERENCES escalations(message_id),
	step       integer NOT NULL,
	at         timestamptz NOT NULL,
	notified   jsonb NOT NULL,
	added      jsonb NOT NULL,
	role_id    text COLLATE "C",
	PRIMARY KEY (message_id, step)
);
