package postgres

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"wardline"
)

// Clinical roles, who holds them, and rotas.

const roleColumns = `id, org_id, name, fallback_role_id, escalation_role_ids::text, created_at`

func scanRole(r interface{ Scan(...any) error }) (*wardline.Role, error) {
	var role wardline.Role
	var chain string
	if err := r.Scan(&role.ID, &role.OrgID, &role.Name, &role.FallbackRoleID, &chain, &role.CreatedAt); err != nil {
		if isNoRows(err) {
			return nil, notFound("role")
		}
		return nil, err
	}
	if err := json.Unmarshal([]byte(chain), &role.EscalationRoleIDs); err != nil {
		return nil, err
	}
	if role.EscalationRoleIDs == nil {
		role.EscalationRoleIDs = []string{}
	}
	role.CreatedAt = utc(role.CreatedAt)
	return &role, nil
}

// jsonIDs is a list of ids as JSON text (an array, never null), for a jsonb column.
func jsonIDs(ids []string) string {
	if ids == nil {
		ids = []string{}
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

func (q queries) CreateRole(ctx context.Context, r *wardline.Role) error {
	tag, err := q.db.Exec(ctx, `INSERT INTO roles (id, org_id, name, fallback_role_id, escalation_role_ids, created_at)
		VALUES ($1, $2, $3, $4, $5::text::jsonb, $6) ON CONFLICT DO NOTHING`,
		r.ID, r.OrgID, r.Name, r.FallbackRoleID, jsonIDs(r.EscalationRoleIDs), r.CreatedAt)
	if err == nil && tag.RowsAffected() == 0 {
		return wardline.Errorf(wardline.ECONFLICT, "the organisation has a role of that name")
	}
	return err
}

// UpdateRole checks the name first: a unique violation would abort the whole transaction.
func (q queries) UpdateRole(ctx context.Context, r *wardline.Role) error {
	var taken bool
	if err := q.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM roles WHERE org_id = (SELECT org_id FROM roles WHERE id = $1) AND name = $2 AND id <> $1)`,
		r.ID, r.Name).Scan(&taken); err != nil {
		return err
	}
	if taken {
		return wardline.Errorf(wardline.ECONFLICT, "the organisation has a role of that name")
	}
	tag, err := q.db.Exec(ctx, `UPDATE roles SET name = $1, fallback_role_id = $2, escalation_role_ids = $3::text::jsonb WHERE id = $4`,
		r.Name, r.FallbackRoleID, jsonIDs(r.EscalationRoleIDs), r.ID)
	if isUnique(err) {
		return wardline.Errorf(wardline.ECONFLICT, "the organisation has a role of that name")
	}
	return mustAffect(tag, err, "role")
}

func (q queries) Role(ctx context.Context, id string) (*wardline.Role, error) {
	return scanRole(q.db.QueryRow(ctx, `SELECT `+roleColumns+` FROM roles WHERE id = $1`, id))
}

// Roles pages by (name, id), compared bytewise as SQLite does; the cursor is the last row's pair.
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
	rows, err := q.db.Query(ctx, `SELECT `+roleColumns+` FROM roles
		WHERE org_id = $1 AND ($2 = '%%' OR lower(name) LIKE $2 ESCAPE '\')
		  AND ($3 = '' OR name COLLATE "C" > $4 OR (name = $4 AND id > $3))
		ORDER BY name COLLATE "C", id LIMIT $5`, orgID, like, afterID, afterName, limit+1)
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
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = encodeCursor(out[limit-1].Name, out[limit-1].ID)
	}
	return out, next, nil
}

const holderColumns = `h.id, h.role_id, h.user_id, h.source, h.since, h.until, h.start_applied, h.end_applied`

func scanHolder(r interface{ Scan(...any) error }) (*wardline.RoleHolder, error) {
	var h wardline.RoleHolder
	if err := r.Scan(&h.ID, &h.RoleID, &h.UserID, &h.Source, &h.Since, &h.Until, &h.StartApplied, &h.EndApplied); err != nil {
		return nil, err
	}
	h.Since, h.Until = utc(h.Since), utcPtr(h.Until)
	return &h, nil
}

func (q queries) holders(ctx context.Context, sql string, args ...any) ([]*wardline.RoleHolder, error) {
	rows, err := q.db.Query(ctx, sql, args...)
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

func (q queries) RoleHolders(ctx context.Context, roleIDs []string, at time.Time) (map[string][]*wardline.RoleHolder, error) {
	out := make(map[string][]*wardline.RoleHolder, len(roleIDs))
	if len(roleIDs) == 0 {
		return out, nil
	}
	list, err := q.holders(ctx, `SELECT `+holderColumns+` FROM role_holders h JOIN users u ON u.id = h.user_id
		WHERE h.role_id = ANY($1) AND h.since <= $2 AND (h.until IS NULL OR h.until > $2) AND u.status = 'active'
		ORDER BY h.since, h.user_id, h.id`, roleIDs, at)
	for _, h := range list {
		out[h.RoleID] = append(out[h.RoleID], h)
	}
	return out, err
}

func (q queries) AddRoleHolder(ctx context.Context, h *wardline.RoleHolder, startApplied bool) error {
	_, err := q.db.Exec(ctx, `INSERT INTO role_holders (id, role_id, user_id, source, since, until, start_applied, end_applied)
		VALUES ($1, $2, $3, $4, $5, $6, $7, false)`, h.ID, h.RoleID, h.UserID, h.Source, h.Since, h.Until, startApplied)
	return err
}

func (q queries) EndRoleHoldings(ctx context.Context, roleID, userID string, at time.Time) (int, error) {
	tag, err := q.db.Exec(ctx, `UPDATE role_holders SET until = $1, start_applied = true, end_applied = true
		WHERE role_id = $2 AND user_id = $3 AND since <= $1 AND (until IS NULL OR until > $1)`, at, roleID, userID)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

func (q queries) EndUserRoleHoldings(ctx context.Context, userID string, at time.Time) ([]string, error) {
	roles, err := q.strings(ctx, `SELECT DISTINCT role_id FROM role_holders WHERE user_id = $1 AND (until IS NULL OR until > $2) ORDER BY role_id`, userID, at)
	if err != nil {
		return nil, err
	}
	if _, err := q.db.Exec(ctx, `UPDATE role_holders SET until = $1, start_applied = true, end_applied = true
		WHERE user_id = $2 AND since <= $1 AND (until IS NULL OR until > $1)`, at, userID); err != nil {
		return nil, err
	}
	_, err = q.db.Exec(ctx, `DELETE FROM role_holders WHERE user_id = $1 AND since > $2`, userID, at)
	return roles, err
}

func (q queries) DueRotaChanges(ctx context.Context, now time.Time, limit int) ([]*wardline.RoleHolder, error) {
	return q.holders(ctx, `SELECT `+holderColumns+` FROM role_holders h
		WHERE (NOT h.start_applied AND h.since <= $1) OR (h.source = 'rota' AND NOT h.end_applied AND h.until <= $1)
		ORDER BY h.since, h.id LIMIT $2`, now, clampLimit(limit))
}

// ClaimRotaChange is a conditional update: of the nodes that find a rota change due, the first to
// commit applies it and the others' updates, re-checked on the committed row, match nothing.
func (q queries) ClaimRotaChange(ctx context.Context, holdingID string, start bool) (bool, error) {
	query := `UPDATE role_holders SET end_applied = true WHERE id = $1 AND NOT end_applied`
	if start {
		query = `UPDATE role_holders SET start_applied = true WHERE id = $1 AND NOT start_applied`
	}
	tag, err := q.db.Exec(ctx, query, holdingID)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// RotaHoldings pages by (since, id); the cursor is the last row's pair.
func (q queries) RotaHoldings(ctx context.Context, of wardline.RotaOf, at time.Time, cursor string, limit int) ([]*wardline.RoleHolder, string, error) {
	limit = clampLimit(limit)
	afterAt, afterID, err := timeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	by, id := "role_id", of.RoleID
	if of.RoleID == "" {
		by, id = "user_id", of.UserID
	}
	out, err := q.holders(ctx, `SELECT `+holderColumns+` FROM role_holders h
		WHERE h.`+by+` = $1 AND h.source = 'rota' AND h.until > $2
		  AND ($3 = '' OR h.since > $4 OR (h.since = $4 AND h.id > $3))
		ORDER BY h.since, h.id LIMIT $5`, id, at, afterID, afterAt, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = encodeCursor(strconv.FormatInt(last.Since.UnixMicro(), 10), last.ID)
	}
	return out, next, nil
}

func (q queries) RoleHolding(ctx context.Context, id string) (*wardline.RoleHolder, error) {
	h, err := scanHolder(q.db.QueryRow(ctx, `SELECT `+holderColumns+` FROM role_holders h WHERE h.id = $1`, id))
	if isNoRows(err) {
		return nil, notFound("role holding")
	}
	return h, err
}

func (q queries) CancelRotaHolding(ctx context.Context, id string, at time.Time) error {
	tag, err := q.db.Exec(ctx, `DELETE FROM role_holders WHERE id = $1 AND source = 'rota' AND since > $2`, id, at)
	if err != nil || tag.RowsAffected() > 0 {
		return err
	}
	tag, err = q.db.Exec(ctx, `UPDATE role_holders SET until = $2, start_applied = true, end_applied = true
		WHERE id = $1 AND source = 'rota' AND until > $2`, id, at)
	return mustAffect(tag, err, "rota entry")
}
