package postgres_test

import (
	"slices"
	"testing"
)

// The columns that every message or delivery updates are in no index, so PostgreSQL can update
// their rows in place (HOT updates): an indexed column there costs each update a new row copy
// plus an entry in every index of the table, and leaves dead copies for VACUUM that every later
// look-up of the row walks (a conversation's row is updated for every message sent to it).
func TestPerMessageColumnsAreUnindexed(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	for _, c := range []struct{ table, column string }{
		{"conversations", "last_seq"},
		{"conversations", "last_activity_at"},
		{"members", "delivered_seq"},
		{"members", "read_seq"},
		{"audit_tree", "size"},
		{"audit_tree", "state"},
	} {
		var indexes []string
		rows, err := s.Pool().Query(ctx, `SELECT i.indexrelid::regclass::text FROM pg_index i
			JOIN pg_attribute a ON a.attrelid = i.indrelid
			WHERE i.indrelid = to_regclass($1) AND a.attname = $2
			  AND (a.attnum = ANY (i.indkey) OR pg_get_indexdef(i.indexrelid) ~ ('\m' || a.attname || '\M'))`, c.table, c.column)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatal(err)
			}
			indexes = append(indexes, name)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if len(indexes) > 0 {
			t.Errorf("%s.%s is in index %v: every update of it copies the row", c.table, c.column, indexes)
		}
	}
	var options []string
	if err := s.Pool().QueryRow(ctx, `SELECT coalesce(reloptions, '{}') FROM pg_class WHERE oid = to_regclass('conversations')`).Scan(&options); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(options, "fillfactor=50") {
		t.Errorf("conversations' options: got %v, want fillfactor=50 (room in each page for the next copy)", options)
	}
}
