-- Every message moves its conversation's last_seq and last_activity_at. With last_activity_at in
-- an index, each of those updates wrote a new copy of the row and an entry in every index of the
-- table, and left the old copy for VACUUM: a conversation of a busy ward piled up thousands of dead
-- copies between vacuums, and each send's look-up of its conversation walked them. Without that
-- index no indexed column changes, so PostgreSQL updates the row within its page (a HOT update: no
-- index entries, and the page's dead copies are pruned as it is read); the free space left in each
-- page keeps room for the new copy. The index served no query: a person's conversations are listed
-- from their memberships, and sorted after the join.
DROP INDEX conversations_activity;
ALTER TABLE conversations SET (fillfactor = 50);
