package postgres

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"wardline"
)

// Patients, their timeline, the clinical policy and duty settings (the clinical workflow).

const patientColumns = `id, org_id, nhs_hmac, nhs_sealed, name_sealed, dob_sealed, opted_out, created_at, created_by`

func scanPatient(r interface{ Scan(...any) error }) (*wardline.Patient, error) {
	var p wardline.Patient
	if err := r.Scan(&p.ID, &p.OrgID, &p.NHSHMAC, &p.NHSSealed, &p.NameSealed, &p.DOBSealed, &p.OptedOut, &p.CreatedAt, &p.CreatedBy); err != nil {
		if isNoRows(err) {
			return nil, notFound("patient")
		}
		return nil, err
	}
	p.CreatedAt = utc(p.CreatedAt)
	return &p, nil
}

func (q queries) CreatePatient(ctx context.Context, p *wardline.Patient) error {
	tag, err := q.db.Exec(ctx, `INSERT INTO patients (`+patientColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
		p.ID, p.OrgID, p.NHSHMAC, p.NHSSealed, p.NameSealed, p.DOBSealed, p.OptedOut, p.CreatedAt, p.CreatedBy)
	if err == nil && tag.RowsAffected() == 0 {
		return wardline.Errorf(wardline.ECONFLICT, "the organisation already has a patient with that NHS number")
	}
	return err
}

func (q queries) Patient(ctx context.Context, id string) (*wardline.Patient, error) {
	return scanPatient(q.db.QueryRow(ctx, `SELECT `+patientColumns+` FROM patients WHERE id = $1`, id))
}

func (q queries) PatientByHMAC(ctx context.Context, orgID, nhsHMAC string) (*wardline.Patient, error) {
	return scanPatient(q.db.QueryRow(ctx, `SELECT `+patientColumns+` FROM patients WHERE org_id = $1 AND nhs_hmac = $2`, orgID, nhsHMAC))
}

func (q queries) SetPatientOptOut(ctx context.Context, id string, optedOut bool) error {
	tag, err := q.db.Exec(ctx, `UPDATE patients SET opted_out = $1 WHERE id = $2`, optedOut, id)
	return mustAffect(tag, err, "patient")
}

func (q queries) GrantPatientAccess(ctx context.Context, patientID, userID string, at time.Time) error {
	_, err := q.db.Exec(ctx, `INSERT INTO patient_access (patient_id, user_id, granted_at) VALUES ($1, $2, $3)
		ON CONFLICT (patient_id, user_id) DO UPDATE SET granted_at = GREATEST(patient_access.granted_at, excluded.granted_at)`,
		patientID, userID, at)
	return err
}

func (q queries) CanSeePatient(ctx context.Context, patientID, userID string, grantedSince time.Time) (bool, error) {
	var ok bool
	err := q.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM conversations c JOIN members m ON m.conversation_id = c.id
			WHERE c.patient_id = $1 AND m.user_id = $2)
		OR EXISTS (SELECT 1 FROM patient_access WHERE patient_id = $1 AND user_id = $2 AND granted_at >= $3)`,
		patientID, userID, grantedSince).Scan(&ok)
	return ok, err
}

// qualifiedMessageColumns are messageColumns of the table aliased m.
var qualifiedMessageColumns = "m." + strings.ReplaceAll(messageColumns, ", ", ", m.")

// PatientTimeline pages by (created_at DESC, id DESC); the cursor is the last row's pair.
func (q queries) PatientTimeline(ctx context.Context, patientID, userID, cursor string, limit int) ([]*wardline.Message, string, error) {
	limit = clampLimit(limit)
	afterAt, afterID, err := timeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	rows, err := q.db.Query(ctx, `SELECT `+qualifiedMessageColumns+`
		FROM conversations c
		JOIN members mem ON mem.conversation_id = c.id AND mem.user_id = $1
		JOIN messages m ON m.conversation_id = c.id
		WHERE c.patient_id = $2
		  AND (m.created_at < $3 OR (m.created_at = $3 AND m.id < $4) OR $5 = '')
		ORDER BY m.created_at DESC, m.id DESC LIMIT $6`,
		userID, patientID, afterAt, afterID, cursor, limit+1)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*wardline.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = encodeCursor(strconv.FormatInt(last.CreatedAt.UnixMicro(), 10), last.ID)
	}
	return out, next, nil
}

func (q queries) ClinicalPolicy(ctx context.Context, orgID string) (*wardline.ClinicalPolicy, error) {
	var raw string
	err := q.db.QueryRow(ctx, `SELECT policy::text FROM clinical_policies WHERE org_id = $1`, orgID).Scan(&raw)
	if isNoRows(err) {
		return &wardline.ClinicalPolicy{}, nil
	} else if err != nil {
		return nil, err
	}
	var p wardline.ClinicalPolicy
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

func (q queries) SetClinicalPolicy(ctx context.Context, orgID string, p wardline.ClinicalPolicy) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = q.db.Exec(ctx, `INSERT INTO clinical_policies (org_id, policy) VALUES ($1, $2::text::jsonb)
		ON CONFLICT (org_id) DO UPDATE SET policy = excluded.policy`, orgID, string(b))
	return err
}

func (q queries) DutySettings(ctx context.Context, userIDs []string) (map[string]wardline.DutySetting, error) {
	out := make(map[string]wardline.DutySetting, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	rows, err := q.db.Query(ctx, `SELECT id, duty_status, duty_until, covering_role_id FROM users
		WHERE id = ANY($1) AND duty_status IS NOT NULL`, userIDs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, status string
		var s wardline.DutySetting
		if err := rows.Scan(&id, &status, &s.Until, &s.CoveringRoleID); err != nil {
			return nil, err
		}
		s.Status, s.Until = status, utcPtr(s.Until)
		out[id] = s
	}
	return out, rows.Err()
}

func (q queries) SetDutySetting(ctx context.Context, userID string, s wardline.DutySetting) error {
	var status *string
	if s.Status != "" {
		status = &s.Status
	}
	tag, err := q.db.Exec(ctx, `UPDATE users SET duty_status = $1, duty_until = $2, covering_role_id = $3 WHERE id = $4`,
		status, s.Until, s.CoveringRoleID, userID)
	return mustAffect(tag, err, "user")
}
