-- Watermark advances are indexed in each conversation's seq order. A delivery flush advances
-- every active member of every active conversation at once: keyed (conversation, user, kind,
-- seq) those rows landed on a different index page each; keyed (conversation, seq, ...) one
-- flush's rows for a conversation share a page at the end of its range. Receipts read the range
-- seq >= S.
ALTER TABLE watermarks DROP CONSTRAINT watermarks_pkey;
ALTER TABLE watermarks ADD PRIMARY KEY (conversation_id, seq, user_id, kind);
