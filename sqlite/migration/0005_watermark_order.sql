-- Watermark advances are stored in each conversation's seq order, without a separate rowid
-- B-tree. A delivery flush advances every active member of every active conversation at once:
-- keyed (conversation, user, kind, seq) those rows landed on a different leaf page each, a
-- page written to the WAL per row; keyed (conversation, seq, ...) one flush's rows for a
-- conversation share a leaf page at the end of its range. Receipts read the range seq >= S.
CREATE TABLE watermarks_by_seq (
	conversation_id TEXT NOT NULL,
	user_id         TEXT NOT NULL,
	kind            TEXT NOT NULL,
	seq             INTEGER NOT NULL,
	at              INTEGER NOT NULL,
	PRIMARY KEY (conversation_id, seq, user_id, kind)
) WITHOUT ROWID;

INSERT INTO watermarks_by_seq (conversation_id, user_id, kind, seq, at)
	SELECT conversation_id, user_id, kind, seq, at FROM watermarks;
DROP TABLE watermarks;
ALTER TABLE watermarks_by_seq RENAME TO watermarks;
