-- wardline:foreign-keys-off
-- An email address is unique within an organisation, not across a deployment: staff who work for
-- two organisations (bank staff, rotating doctors) keep one NHSmail address in both, and an
-- organisation's admin must not learn from a refused account that an address exists in another.
-- SQLite cannot drop a column's UNIQUE in place, so the table is rebuilt (the procedure of
-- SQLite's ALTER TABLE documentation: foreign keys off around the transaction, checked before it
-- commits; the tables that refer to users keep referring to it by name).
CREATE TABLE users_by_org (
	id                       TEXT PRIMARY KEY,
	org_id                   TEXT NOT NULL REFERENCES orgs(id),
	email                    TEXT NOT NULL,
	display_name             TEXT NOT NULL,
	job_title                TEXT NOT NULL DEFAULT '',
	profession               TEXT NOT NULL DEFAULT '',
	registration             TEXT NOT NULL DEFAULT '',
	org_role                 TEXT NOT NULL,
	status                   TEXT NOT NULL,
	password_hash            TEXT NOT NULL,
	password_change_required INTEGER NOT NULL DEFAULT 0,
	created_at               INTEGER NOT NULL,
	duty_status              TEXT,
	duty_until               INTEGER,
	covering_role_id         TEXT,
	UNIQUE (org_id, email)
);
INSERT INTO users_by_org (id, org_id, email, display_name, job_title, profession, registration, org_role,
		status, password_hash, password_change_required, created_at, duty_status, duty_until, covering_role_id)
	SELECT id, org_id, email, display_name, job_title, profession, registration, org_role,
		status, password_hash, password_change_required, created_at, duty_status, duty_until, covering_role_id
	FROM users;
DROP TABLE users;
ALTER TABLE users_by_org RENAME TO users;
CREATE INDEX users_org_name ON users(org_id, display_name, id);
-- Sign-in looks an address up in every organisation at once.
CREATE INDEX users_email ON users(email, created_at);
