package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"wardline"
)

const keyColumns = `id, kind, org_id, scope, term, wrapped_by, wrapped, created_at, destroyed_at`

func scanKeys(rows pgx.Rows) ([]*wardline.KeyRecord, error) {
	defer rows.Close()
	var out []*wardline.KeyRecord
	for rows.Next() {
		var k wardline.KeyRecord
		if err := rows.Scan(&k.ID, &k.Kind, &k.OrgID, &k.Scope, &k.Term, &k.WrappedBy, &k.Wrapped, &k.CreatedAt, &k.DestroyedAt); err != nil {
			return nil, err
		}
		k.CreatedAt = utc(k.CreatedAt)
		k.DestroyedAt = utcPtr(k.DestroyedAt)
		out = append(out, &k)
	}
	return out, rows.Err()
}

func (q queries) Keys(ctx context.Context, scope string) ([]*wardline.KeyRecord, error) {
	rows, err := q.db.Query(ctx, `SELECT `+keyColumns+` FROM keys WHERE scope = $1 ORDER BY kind COLLATE "C", term`, scope)
	if err != nil {
		return nil, err
	}
	return scanKeys(rows)
}

func (q queries) KeysWrappedBy(ctx context.Context, wrappedBy, afterID string, limit int) ([]*wardline.KeyRecord, error) {
	if limit <= 0 {
		limit = 500
	}
	rows, err := q.db.Query(ctx, `SELECT `+keyColumns+` FROM keys WHERE wrapped_by = $1 AND id > $2 ORDER BY id LIMIT $3`, wrappedBy, afterID, limit)
	if err != nil {
		return nil, err
	}
	return scanKeys(rows)
}

func (q queries) InsertKey(ctx context.Context, k *wardline.KeyRecord) error {
	tag, err := q.db.Exec(ctx, `INSERT INTO keys (`+keyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
		k.ID, k.Kind, k.OrgID, k.Scope, k.Term, k.WrappedBy, k.Wrapped, k.CreatedAt, k.DestroyedAt)
	if err == nil && tag.RowsAffected() == 0 {
		return wardline.Errorf(wardline.ECONFLICT, "key term exists")
	}
	return err
}

func (q queries) RewrapKey(ctx context.Context, id, wrappedBy string, wrapped []byte) error {
	tag, err := q.db.Exec(ctx, `UPDATE keys SET wrapped_by = $1, wrapped = $2 WHERE id = $3 AND destroyed_at IS NULL`, wrappedBy, wrapped, id)
	return mustAffect(tag, err, "key")
}

// DestroyKeys overwrites the wrapped key material. PostgreSQL keeps the old row version until
// VACUUM reclaims it (and in WAL and base backups until they expire): operators who shred keys
// must run VACUUM on keys and keep backup retention within the shredding promise.
func (q queries) DestroyKeys(ctx context.Context, scope string, at time.Time) error {
	_, err := q.db.Exec(ctx, `UPDATE keys SET wrapped = NULL, destroyed_at = $1 WHERE scope = $2 AND destroyed_at IS NULL`, at, scope)
	return err
}

// Checkpoint vacuums the keys table after key material was erased or re-wrapped, so that the old
// row versions are reclaimed now rather than whenever autovacuum comes by. It is best effort:
// PostgreSQL does not promise to zero reclaimed space, and WAL archives and base backups keep old
// versions until they expire, which is why shredding relies on the wrapping organisation key
// being rotated and retired too.
func (s *Store) Checkpoint(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, "VACUUM keys")
	return err
}
