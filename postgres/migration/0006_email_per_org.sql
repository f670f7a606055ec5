-- An email address is unique within an organisation, not across a deployment: staff who work for
-- two organisations (bank staff, rotating doctors) keep one NHSmail address in both, and an
-- organisation's admin must not learn from a refused account that an address exists in another.
ALTER TABLE users DROP CONSTRAINT users_email_key;
ALTER TABLE users ADD CONSTRAINT users_org_email_key UNIQUE (org_id, email);
-- Sign-in looks an address up in every organisation at once.
CREATE INDEX users_email ON users(email, created_at);
