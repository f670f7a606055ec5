package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"wardline"
)

// Clinical roles, who holds them, and rotas.

const roleColumns = `id, org_id, name, fallback_role_id, escalation_role_ids, created_at`

func scanRole(r interface{ Scan(...any) error }) (*wardline.Role, error) {
	var role wardline.Role
	var fallback sql.NullString
	var chain string
	var created int64
	if err := r.Scan(&role.ID, &role.OrgID, &role.Name, &fallback, &chain, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("role")
		}
		return nil, err
	}
	role.FallbackRoleID = nullString(fallback)
	if err := json.Unmarshal([]byte(chain), &role.EscalationRoleIDs); err != nil {
		return nil, err
	}
	if role.EscalationRoleIDs == nil {
		role.EscalationRoleIDs = []string{}
	}
	role.CreatedAt = fromMicros(created)
	return &role, nil
}

func roleChain(r *wardline.Role) string {
	ids := r.EscalationRoleIDs
	if ids == nil {
		ids = []string{}
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

func (q queries) CreateRole(ctx context.Context, r *wardline.Role) error {
	_, err := q.db.exec(ctx, `INSERT INTO roles (`+roleColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		r.ID, r.OrgID, r.Name, r.FallbackRoleID, roleChain(r), micros(r.CreatedAt))
	if isUnique(err) {
		return wardline.Errorf(wardline.ECONFLICT, "the organisation has a role of that name")
	}
	return err
}

func (q queries) UpdateRole(ctx context.Context, r *wardline.Role) error {
	res, err := q.db.exec(ctx, `UPDATE roles SET name = ?, fallback_role_id = ?, escalation_role_ids = ? WHERE id = ?`,
		r.Name, r.FallbackRoleID, roleChain(r), r.ID)
	if isUnique(err) {
		return wardline.Errorf(wardline.ECONFLICT, "the organisation has a role of that name")
	}
	return mustAffect(res, err, "role")
}

func (q queries) Role(ctx context.Context, id string) (*wardline.Role, error) {
	return scanRole(q.db.queryRow(ctx, `SELECT `+roleColumns+` FROM roles WHERE id = ?`, id))
}

// Roles pages by (name, id); the cursor is the last row's pair.
func (q queries) Roles(ctx context.Context, orgID, query, cursor string, limit int) ([]*wardline.Role, string, error) {
	limit = clampLimit(limit)
	var afterName, afterID string
	if cursor != "" {
		parts, err := decodeCursor(cursor, 2)
		if err != nil {
			return nil, "", err
		}
		afterName, afterID = parts[0], parts[1]
	}
	like := "%" + escapeLike(strings.ToLower(query)) + "%"
	rows, err := q.db.query(ctx, `SELECT `+roleColumns+` FROM roles
		WHERE org_id = ? AND (? = '%%' OR wl_fold(name) LIKE ? ESCAPE '\')
		  AND (? = '' OR name > ? OR (name = ? AND id > ?))
		ORDER BY name, id LIMIT ?`, orgID, like, like, afterID, afterName, afterName, afterID, limit+1)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*wardline.Role
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	out, next := nextPage(out, limit, func(r *wardline.Role) string { return encodeCursor(r.Name, r.ID) })
	return out, next, nil
}

const holderColumns = `h.id, h.role_id, h.user_id, h.source, h.since, h.until, h.start_applied, h.end_applied`

func scanHolder(r interface{ Scan(...any) error }) (*wardline.RoleHolder, error) {
	var h wardline.RoleHolder
	var since int64
	var until sql.NullInt64
	if err := r.Scan(&h.ID, &h.RoleID, &h.UserID, &h.Source, &since, &until, &h.StartApplied, &h.EndApplied); err != nil {
		return nil, err
	}
	h.Since, h.Until = fromMicros(since), fromNullMicros(until)
	return &h, nil
}

func (q queries) RoleHolders(ctx context.Context, roleIDs []string, at time.Time) (map[string][]*wardline.RoleHolder, error) {
	out := make(map[string][]*wardline.RoleHolder, len(roleIDs))
	if len(roleIDs) == 0 {
		return out, nil
	}
	ids, _ := json.Marshal(roleIDs)
	rows, err := q.db.query(ctx, `SELECT `+holderColumns+` FROM role_holders h JOIN users u ON u.id = h.user_id
		WHERE h.role_id IN (SELECT value FROM json_each(?)) AND h.since <= ? AND (h.until IS NULL OR h.until > ?)
		  AND u.status = 'active'
		ORDER BY h.since, h.user_id, h.id`, string(ids), micros(at), micros(at))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		h, err := scanHolder(rows)
		if err != nil {
			return nil, err
		}
		out[h.RoleID] = append(out[h.RoleID], h)
	}
	return out, rows.Err()
}

func (q queries) AddRoleHolder(ctx context.Context, h *wardline.RoleHolder, startApplied bool) error {
	_, err := q.db.exec(ctx, `INSERT INTO role_holders (id, role_id, user_id, source, since, until, start_applied, end_applied)
		VALUES (?, ?, ?, ?, ?, ?, ?, 0)`, h.ID, h.RoleID, h.UserID, h.Source, micros(h.Since), nullMicros(h.Until), startApplied)
	return err
}

func (q queries) EndRoleHoldings(ctx context.Context, roleID, userID string, at time.Time) (int, error) {
	res, err := q.db.exec(ctx, `UPDATE role_holders SET until = ?, start_applied = 1, end_applied = 1
		WHERE role_id = ? AND user_id = ? AND since <= ? AND (until IS NULL OR until > ?)`,
		micros(at), roleID, userID, micros(at), micros(at))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (q queries) EndUserRoleHoldings(ctx context.Context, userID string, at time.Time) ([]string, error) {
	roles, err := q.strings(ctx, `SELECT DISTINCT role_id FROM role_holders WHERE user_id = ? AND (until IS NULL OR until > ?) ORDER BY role_id`,
		userID, micros(at))
	if err != nil {
		return nil, err
	}
	if _, err := q.db.exec(ctx, `UPDATE role_holders SET until = ?, start_applied = 1, end_applied = 1
		WHERE user_id = ? AND since <= ? AND (until IS NULL OR until > ?)`, micros(at), userID, micros(at), micros(at)); err != nil {
		return nil, err
	}
	_, err = q.db.exec(ctx, `DELETE FROM role_holders WHERE user_id = ? AND since > ?`, userID, micros(at))
	return roles, err
}

func (q queries) DueRotaChanges(ctx context.Context, now time.Time, limit int) ([]*wardline.RoleHolder, error) {
	rows, err := q.db.query(ctx, `SELECT `+holderColumns+` FROM role_holders h
		WHERE (h.start_applied = 0 AND h.since <= ?) OR (h.source = 'rota' AND h.end_applied = 0 AND h.until <= ?)
		ORDER BY h.since, h.id LIMIT ?`, micros(now), micros(now), clampLimit(limit))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*wardline.RoleHolder
	for rows.Next() {
		h, err := scanHolder(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

func (q queries) ClaimRotaChange(ctx context.Context, holdingID string, start bool) (bool, error) {
	query := `UPDATE role_holders SET end_applied = 1 WHERE id = ? AND end_applied = 0`
	if start {
		query = `UPDATE role_holders SET start_applied = 1 WHERE id = ? AND start_applied = 0`
	}
	res, err := q.db.exec(ctx, query, holdingID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RotaHoldings pages by (since, id); the cursor is the last row's pair.
func (q queries) RotaHoldings(ctx context.Context, of wardline.RotaOf, at time.Time, cursor string, limit int) ([]*wardline.RoleHolder, string, error) {
	limit = clampLimit(limit)
	afterAt, afterID, err := decodeTimeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	by, id := "role_id", of.RoleID
	if of.RoleID == "" {
		by, id = "user_id", of.UserID
	}
	rows, err := q.db.query(ctx, `SELECT `+holderColumns+` FROM role_holders h
		WHERE h.`+by+` = ? AND h.source = 'rota' AND h.until > ?
		  AND (? = '' OR h.since > ? OR (h.since = ? AND h.id > ?))
		ORDER BY h.since, h.id LIMIT ?`, id, micros(at), afterID, afterAt, afterAt, afterID, limit+1)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*wardline.RoleHolder
	for rows.Next() {
		h, err := scanHolder(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	out, next := nextPage(out, limit, func(h *wardline.RoleHolder) string { return timeCursor(h.Since, h.ID) })
	return out, next, nil
}

func (q queries) RoleHolding(ctx context.Context, id string) (*wardline.RoleHolder, error) {
	h, err := scanHolder(q.db.queryRow(ctx, `SELECT `+holderColumns+` FROM role_holders h WHERE h.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("role holding")
	}
	return h, err
}

func (q queries) CancelRotaHolding(ctx context.Context, id string, at time.Time) error {
	res, err := q.db.exec(ctx, `DELETE FROM role_holders WHERE id = ? AND source = 'rota' AND since > ?`, id, micros(at))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	res, err = q.db.exec(ctx, `UPDATE role_holders SET until = ?, start_applied = 1, end_applied = 1
		WHERE id = ? AND source = 'rota' AND until > ?`, micros(at), id, micros(at))
	return mustAffect(res, err, "rota entry")
}
