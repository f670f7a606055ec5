package sqlite

import (
	"context"
	"database/sql"
	"time"

	"wardline"
)

const keyColumns = `id, kind, org_id, scope, term, wrapped_by, wrapped, created_at, destroyed_at`

func scanKeys(rows *sql.Rows) ([]*wardline.KeyRecord, error) {
	defer rows.Close()
	var out []*wardline.KeyRecord
	for rows.Next() {
		var k wardline.KeyRecord
		var created int64
		var destroyed sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Kind, &k.OrgID, &k.Scope, &k.Term, &k.WrappedBy, &k.Wrapped, &created, &destroyed); err != nil {
			return nil, err
		}
		k.CreatedAt = fromMicros(created)
		k.DestroyedAt = fromNullMicros(destroyed)
		out = append(out, &k)
	}
	return out, rows.Err()
}

func (q queries) Keys(ctx context.Context, scope string) ([]*wardline.KeyRecord, error) {
	rows, err := q.db.query(ctx, `SELECT `+keyColumns+` FROM keys WHERE scope = ? ORDER BY kind, term`, scope)
	if err != nil {
		return nil, err
	}
	return scanKeys(rows)
}

func (q queries) KeysWrappedBy(ctx context.Context, wrappedBy, afterID string, limit int) ([]*wardline.KeyRecord, error) {
	if limit <= 0 {
		limit = 500
	}
	rows, err := q.db.query(ctx, `SELECT `+keyColumns+` FROM keys WHERE wrapped_by = ? AND id > ? ORDER BY id LIMIT ?`, wrappedBy, afterID, limit)
	if err != nil {
		return nil, err
	}
	return scanKeys(rows)
}

func (q queries) InsertKey(ctx context.Context, k *wardline.KeyRecord) error {
	_, err := q.db.exec(ctx, `INSERT INTO keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Kind, k.OrgID, k.Scope, k.Term, k.WrappedBy, k.Wrapped, micros(k.CreatedAt), nullMicros(k.DestroyedAt))
	if isUnique(err) {
		return wardline.Errorf(wardline.ECONFLICT, "key term exists")
	}
	return err
}

func (q queries) RewrapKey(ctx context.Context, id, wrappedBy string, wrapped []byte) error {
	res, err := q.db.exec(ctx, `UPDATE keys SET wrapped_by = ?, wrapped = ? WHERE id = ? AND destroyed_at IS NULL`, wrappedBy, wrapped, id)
	return mustAffect(res, err, "key")
}

// DestroyKeys overwrites the wrapped key material; with secure_delete on, SQLite zeroes the old
// bytes in the database file. Callers checkpoint the WAL afterwards (Store.Checkpoint).
func (q queries) DestroyKeys(ctx context.Context, scope string, at time.Time) error {
	_, err := q.db.exec(ctx, `UPDATE keys SET wrapped = NULL, destroyed_at = ? WHERE scope = ? AND destroyed_at IS NULL`,
		micros(at), scope)
	return err
}
