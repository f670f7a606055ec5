-- Search by person and by conversation (IG investigations, subject access) through tables that
-- the writer fills in sorted runs, not through indexes on audit_events. Each of those indexes
-- put a send's entry on a leaf page of its own (one per person, one per conversation): half of
-- the pages a send wrote to the WAL. Filled every auditIndexLag entries, sorted by key, a run
-- writes each key's page once for all of its entries. Entries after `through` are found by
-- scanning the log's tail (by seq, so it is short), and a search reads both in one statement.
CREATE TABLE audit_by_actor (
	actor_id TEXT NOT NULL,
	seq      INTEGER NOT NULL,
	PRIMARY KEY (actor_id, seq)
) WITHOUT ROWID;

CREATE TABLE audit_by_conversation (
	conversation_id TEXT NOT NULL,
	seq             INTEGER NOT NULL,
	PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID;

-- Every entry with seq <= through is in the two tables above.
CREATE TABLE audit_indexed (
	id      INTEGER PRIMARY KEY CHECK (id = 1),
	through INTEGER NOT NULL
);

INSERT INTO audit_by_actor (actor_id, seq)
	SELECT actor_id, seq FROM audit_events ORDER BY actor_id, seq;
INSERT INTO audit_by_conversation (conversation_id, seq)
	SELECT conversation_id, seq FROM audit_events WHERE conversation_id != '' ORDER BY conversation_id, seq;
INSERT INTO audit_indexed (id, through) VALUES (1, COALESCE((SELECT MAX(seq) FROM audit_events), 0));

DROP INDEX audit_org_actor;
DROP INDEX audit_org_conversation;
