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

// Patients, their timeline, the clinical policy and duty settings (the clinical workflow).

const patientColumns = `id, org_id, nhs_hmac, nhs_sealed, name_sealed, dob_sealed, opted_out, created_at, created_by`

func scanPatient(r interface{ Scan(...any) error }) (*wardline.Patient, error) {
	var p wardline.Patient
	var created int64
	if err := r.Scan(&p.ID, &p.OrgID, &p.NHSHMAC, &p.NHSSealed, &p.NameSealed, &p.DOBSealed, &p.OptedOut, &created, &p.CreatedBy); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("patient")
		}
		return nil, err
	}
	p.CreatedAt = fromMicros(created)
	return &p, nil
}

func (q queries) CreatePatient(ctx context.Context, p *wardline.Patient) error {
	_, err := q.db.exec(ctx, `INSERT INTO patients (`+patientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.OrgID, p.NHSHMAC, p.NHSSealed, p.NameSealed, p.DOBSealed, p.OptedOut, micros(p.CreatedAt), p.CreatedBy)
	if isUnique(err) {
		return wardline.Errorf(wardline.ECONFLICT, "the organisation already has a patient with that NHS number")
	}
	return err
}

func (q queries) Patient(ctx context.Context, id string) (*wardline.Patient, error) {
	return scanPatient(q.db.queryRow(ctx, `SELECT `+patientColumns+` FROM patients WHERE id = ?`, id))
}

func (q queries) PatientByHMAC(ctx context.Context, orgID, nhsHMAC string) (*wardline.Patient, error) {
	return scanPatient(q.db.queryRow(ctx, `SELECT `+patientColumns+` FROM patients WHERE org_id = ? AND nhs_hmac = ?`, orgID, nhsHMAC))
}

func (q queries) SetPatientOptOut(ctx context.Context, id string, optedOut bool) error {
	res, err := q.db.exec(ctx, `UPDATE patients SET opted_out = ? WHERE id = ?`, optedOut, id)
	return mustAffect(res, err, "patient")
}

func (q queries) GrantPatientAccess(ctx context.Context, patientID, userID string, at time.Time) error {
	_, err := q.db.exec(ctx, `INSERT INTO patient_access (patient_id, user_id, granted_at) VALUES (?, ?, ?)
		ON CONFLICT (patient_id, user_id) DO UPDATE SET granted_at = max(granted_at, excluded.granted_at)`,
		patientID, userID, micros(at))
	return err
}

func (q queries) CanSeePatient(ctx context.Context, patientID, userID string, grantedSince time.Time) (bool, error) {
	var ok bool
	err := q.db.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM conversations c JOIN members m ON m.conversation_id = c.id
			WHERE c.patient_id = ? AND m.user_id = ?)
		OR EXISTS (SELECT 1 FROM patient_access WHERE patient_id = ? AND user_id = ? AND granted_at >= ?)`,
		patientID, userID, patientID, userID, micros(grantedSince)).Scan(&ok)
	return ok, err
}

// qualifiedMessageColumns are messageColumns of the table aliased m.
var qualifiedMessageColumns = "m." + strings.ReplaceAll(messageColumns, ", ", ", m.")

// PatientTimeline pages by (created_at DESC, id DESC); the cursor is the last row's pair.
func (q queries) PatientTimeline(ctx context.Context, patientID, userID, cursor string, limit int) ([]*wardline.Message, string, error) {
	limit = clampLimit(limit)
	afterAt, afterID, err := decodeTimeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	rows, err := q.db.query(ctx, `SELECT `+qualifiedMessageColumns+`
		FROM conversations c
		JOIN members mem ON mem.conversation_id = c.id AND mem.user_id = ?
		JOIN messages m ON m.conversation_id = c.id
		WHERE c.patient_id = ?
		  AND (? = 0 OR m.created_at < ? OR (m.created_at = ? AND m.id < ?))
		ORDER BY m.created_at DESC, m.id DESC LIMIT ?`,
		userID, patientID, cursor != "", afterAt, afterAt, afterID, limit+1)
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
	out, next := nextPage(out, limit, func(m *wardline.Message) string { return timeCursor(m.CreatedAt, m.ID) })
	return out, next, nil
}

func (q queries) ClinicalPolicy(ctx context.Context, orgID string) (*wardline.ClinicalPolicy, error) {
	var raw string
	err := q.db.queryRow(ctx, `SELECT policy FROM clinical_policies WHERE org_id = ?`, orgID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
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
	_, err = q.db.exec(ctx, `INSERT INTO clinical_policies (org_id, policy) VALUES (?, ?)
		ON CONFLICT (org_id) DO UPDATE SET policy = excluded.policy`, orgID, string(b))
	return err
}

func (q queries) DutySettings(ctx context.Context, userIDs []string) (map[string]wardline.DutySetting, error) {
	out := make(map[string]wardline.DutySetting, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	ids, _ := json.Marshal(userIDs)
	rows, err := q.db.query(ctx, `SELECT id, duty_status, duty_until, covering_role_id FROM users
		WHERE id IN (SELECT value FROM json_each(?)) AND duty_status IS NOT NULL`, string(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var status, covering sql.NullString
		var until sql.NullInt64
		if err := rows.Scan(&id, &status, &until, &covering); err != nil {
			return nil, err
		}
		out[id] = wardline.DutySetting{Status: status.String, Until: fromNullMicros(until), CoveringRoleID: nullString(covering)}
	}
	return out, rows.Err()
}

func (q queries) SetDutySetting(ctx context.Context, userID string, s wardline.DutySetting) error {
	var status any
	if s.Status != "" {
		status = s.Status
	}
	res, err := q.db.exec(ctx, `UPDATE users SET duty_status = ?, duty_until = ?, covering_role_id = ? WHERE id = ?`,
		status, nullMicros(s.Until), s.CoveringRoleID, userID)
	return mustAffect(res, err, "user")
}
