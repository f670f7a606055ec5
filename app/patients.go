package app

import (
	"context"
	"errors"
	"time"

	"wardline"
	"wardline/audit"
)

// PatientService registers and finds patients, and shows a patient's timeline. A patient is seen
// only by members of a conversation about them and by whoever registered or looked them up in the
// last 24 hours; everyone else gets ENOTFOUND. Every view is audited, by ids only: a search that
// found nobody is recorded by the HMAC of the NHS number, never the number.
type PatientService struct{ *deps }

var _ wardline.PatientService = (*PatientService)(nil)

// patientAAD binds a sealed patient field to its patient and column.
func patientAAD(id, column string) []byte { return wardline.AAD("patients", id, column) }

// sealPatient seals the identifiers and demographics under the patient's own data key.
func (d *deps) sealPatient(ctx context.Context, p *wardline.Patient) error {
	var err error
	if p.NHSSealed, err = d.keys.Seal(ctx, p.ID, patientAAD(p.ID, "nhs_number"), []byte(p.NHSNumber)); err != nil {
		return err
	}
	if p.NameSealed, err = d.keys.Seal(ctx, p.ID, patientAAD(p.ID, "name"), []byte(p.Name)); err != nil {
		return err
	}
	p.DOBSealed, err = d.keys.Seal(ctx, p.ID, patientAAD(p.ID, "date_of_birth"), []byte(p.DateOfBirth))
	return err
}

// openPatient fills the plaintext fields; a shredded patient has none.
func (d *deps) openPatient(ctx context.Context, p *wardline.Patient) error {
	fields := []struct {
		column string
		sealed []byte
		into   *string
	}{
		{"nhs_number", p.NHSSealed, &p.NHSNumber},
		{"name", p.NameSealed, &p.Name},
		{"date_of_birth", p.DOBSealed, &p.DateOfBirth},
	}
	for _, f := range fields {
		b, err := d.keys.Open(ctx, p.ID, patientAAD(p.ID, f.column), f.sealed)
		if errors.Is(err, wardline.ErrContentDestroyed) {
			p.NHSNumber, p.Name, p.DateOfBirth, p.Shredded = "", "", "", true
			return nil
		} else if err != nil {
			return err
		}
		*f.into = string(b)
	}
	return nil
}

func (s *PatientService) nhsHMAC(ctx context.Context, orgID, nhs string) (string, error) {
	return s.keys.IdentifierHMAC(ctx, orgID, audit.IdentNHSNumber, nhs)
}

// found answers a patient the caller has proved they know (NHS number and date of birth): they may
// see the patient for the next 24 hours. The grant and the audit event commit together.
func (s *PatientService) found(ctx context.Context, a *wardline.Actor, p *wardline.Patient, action, hmac string) error {
	ev := s.auditEvent(ctx, action, "patient", p.ID)
	ev.Detail = map[string]any{wardline.DetailPatientHMAC: hmac}
	now := s.now()
	return s.store.Update(ctx, func(tx wardline.Tx) error {
		if err := tx.GrantPatientAccess(ctx, p.ID, a.User.ID, now); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	})
}

// missed audits a search that found nobody (or the wrong date of birth), by the number's HMAC.
func (s *PatientService) missed(ctx context.Context, action, hmac, reason string) error {
	ev := s.auditEvent(ctx, action, "patient", "")
	ev.Outcome = wardline.OutcomeFailure
	ev.Detail = map[string]any{wardline.DetailPatientHMAC: hmac, "reason": reason}
	return s.store.Update(ctx, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) })
}

// Register adds a patient to the organisation, or answers the one already registered under that
// NHS number when the date of birth matches (created false); ECONFLICT when it does not.
func (s *PatientService) Register(ctx context.Context, n wardline.NewPatient) (*wardline.Patient, bool, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, false, err
	}
	if err := n.Validate(s.now()); err != nil {
		return nil, false, err
	}
	hmac, err := s.nhsHMAC(ctx, a.User.OrgID, n.NHSNumber)
	if err != nil {
		return nil, false, err
	}
	for attempt := 0; ; attempt++ {
		p, err := s.store.PatientByHMAC(ctx, a.User.OrgID, hmac)
		if err == nil {
			if err := s.openPatient(ctx, p); err != nil {
				return nil, false, err
			}
			if p.Shredded || p.DateOfBirth != n.DateOfBirth {
				if err := s.missed(ctx, wardline.ActionPatientMatched, hmac, "date_of_birth differs"); err != nil {
					return nil, false, err
				}
				return nil, false, wardline.Errorf(wardline.ECONFLICT, "a patient with this NHS number is registered with another date of birth")
			}
			return p, false, s.found(ctx, a, p, wardline.ActionPatientMatched, hmac)
		} else if !isNotFound(err) {
			return nil, false, err
		}
		now := s.now()
		p = &wardline.Patient{
			ID: wardline.NewID(), OrgID: a.User.OrgID, NHSNumber: n.NHSNumber, Name: n.Name, DateOfBirth: n.DateOfBirth,
			OptedOut: n.OptedOut, NHSHMAC: hmac, CreatedAt: now, CreatedBy: a.User.ID,
		}
		key, err := s.keys.NewDataKey(ctx, p.OrgID, p.ID)
		if err != nil {
			return nil, false, err
		}
		if err := s.sealPatient(ctx, p); err != nil {
			return nil, false, err
		}
		ev := s.auditEvent(ctx, wardline.ActionPatientRegistered, "patient", p.ID)
		ev.Detail = map[string]any{wardline.DetailPatientHMAC: hmac, "opted_out": p.OptedOut}
		err = s.store.Update(ctx, func(tx wardline.Tx) error {
			if err := tx.InsertKey(ctx, key); err != nil {
				return err
			}
			if err := tx.CreatePatient(ctx, p); err != nil {
				return err
			}
			if err := tx.GrantPatientAccess(ctx, p.ID, a.User.ID, now); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, ev)
		})
		if wardline.ErrorCode(err) == wardline.ECONFLICT && attempt == 0 {
			s.keys.Forget(p.ID) // someone registered the same number at once: answer theirs
			continue
		} else if err != nil {
			return nil, false, err
		}
		return p, true, nil
	}
}

// Lookup finds a patient by NHS number and date of birth; both must match, or it is not found.
func (s *PatientService) Lookup(ctx context.Context, l wardline.PatientLookup) (*wardline.Patient, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := l.Validate(s.now()); err != nil {
		return nil, err
	}
	hmac, err := s.nhsHMAC(ctx, a.User.OrgID, l.NHSNumber)
	if err != nil {
		return nil, err
	}
	notFound := wardline.Errorf(wardline.ENOTFOUND, "no patient with that NHS number and date of birth")
	p, err := s.store.PatientByHMAC(ctx, a.User.OrgID, hmac)
	if isNotFound(err) {
		if err := s.missed(ctx, wardline.ActionPatientLookedUp, hmac, "not registered"); err != nil {
			return nil, err
		}
		return nil, notFound
	} else if err != nil {
		return nil, err
	}
	if err := s.openPatient(ctx, p); err != nil {
		return nil, err
	}
	if p.Shredded || p.DateOfBirth != l.DateOfBirth {
		if err := s.missed(ctx, wardline.ActionPatientLookedUp, hmac, "date_of_birth differs"); err != nil {
			return nil, err
		}
		return nil, notFound
	}
	return p, s.found(ctx, a, p, wardline.ActionPatientLookedUp, hmac)
}

// patientEvent is the audit entry of something done to a patient the caller can see: the
// patient's id as target and the HMAC of their NHS number under wardline.DetailPatientHMAC, the
// key IG officers' searches by NHS number look for (never the number itself).
func (s *PatientService) patientEvent(ctx context.Context, action string, p *wardline.Patient) (*wardline.AuditEvent, error) {
	hmac := p.NHSHMAC
	if hmac == "" {
		var err error
		if hmac, err = s.nhsHMAC(ctx, p.OrgID, p.NHSNumber); err != nil {
			return nil, err
		}
	}
	ev := s.auditEvent(ctx, action, "patient", p.ID)
	ev.Detail = map[string]any{wardline.DetailPatientHMAC: hmac}
	return ev, nil
}

// visiblePatient loads a patient the caller may see; anyone else gets ENOTFOUND.
func (d *deps) visiblePatient(ctx context.Context, a *wardline.Actor, id string) (*wardline.Patient, error) {
	p, _, err := d.visiblePatientOn(ctx, a, id)
	return p, err
}

// visiblePatientOn is visiblePatient that also says on what grounds the caller sees the patient:
// a conversation about them (wardline.PatientAccessMember), or only having registered or looked
// them up in the last 24 hours (wardline.PatientAccessLookup), which the audit log records and the
// "patient read outside any conversation" alert watches.
func (d *deps) visiblePatientOn(ctx context.Context, a *wardline.Actor, id string) (*wardline.Patient, string, error) {
	notFound := wardline.Errorf(wardline.ENOTFOUND, "patient not found")
	if !wardline.ValidID(id) {
		return nil, "", notFound
	}
	p, err := d.store.Patient(ctx, id)
	if isNotFound(err) || (err == nil && p.OrgID != a.User.OrgID) {
		return nil, "", notFound
	} else if err != nil {
		return nil, "", err
	}
	now := d.now()
	// Grants from the future count for nobody, so this asks about conversations alone.
	member, err := d.store.CanSeePatient(ctx, p.ID, a.User.ID, now.Add(time.Hour))
	if err != nil {
		return nil, "", err
	}
	grounds := wardline.PatientAccessMember
	if !member {
		ok, err := d.store.CanSeePatient(ctx, p.ID, a.User.ID, now.Add(-wardline.PatientAccessWindow))
		if err != nil {
			return nil, "", err
		}
		if !ok {
			return nil, "", notFound
		}
		grounds = wardline.PatientAccessLookup
	}
	return p, grounds, d.openPatient(ctx, p)
}

// Patient shows one patient to someone who may see them, audited.
func (s *PatientService) Patient(ctx context.Context, id string) (*wardline.Patient, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	p, grounds, err := s.visiblePatientOn(ctx, a, id)
	if err != nil {
		return nil, err
	}
	ev, err := s.patientEvent(ctx, wardline.ActionPatientViewed, p)
	if err != nil {
		return nil, err
	}
	ev.Detail[wardline.DetailPatientAccess] = grounds
	if err := s.store.Update(ctx, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) }); err != nil {
		return nil, err
	}
	return p, nil
}

// UpdatePatient records a change of the national data opt-out.
func (s *PatientService) UpdatePatient(ctx context.Context, id string, u wardline.PatientUpdate) (*wardline.Patient, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.visiblePatient(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if u.OptedOut == nil {
		return nil, errInvalid("opted_out is required")
	}
	ev, err := s.patientEvent(ctx, wardline.ActionPatientUpdated, p)
	if err != nil {
		return nil, err
	}
	ev.Detail["opted_out"] = *u.OptedOut
	if err := s.store.Update(ctx, func(tx wardline.Tx) error {
		if err := tx.SetPatientOptOut(ctx, p.ID, *u.OptedOut); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	}); err != nil {
		return nil, err
	}
	p.OptedOut = *u.OptedOut
	return p, nil
}

// Timeline pages, newest first, through the messages about a patient in the caller's
// conversations. The view is audited (which conversations and how many messages) before it
// returns.
func (s *PatientService) Timeline(ctx context.Context, id, cursor string, limit int) ([]*wardline.Message, string, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, "", err
	}
	p, grounds, err := s.visiblePatientOn(ctx, a, id)
	if err != nil {
		return nil, "", err
	}
	if limit < 0 || limit > wardline.MaxPageSize {
		return nil, "", errInvalid("limit must be between 1 and 200")
	}
	msgs, next, err := s.store.PatientTimeline(ctx, p.ID, a.User.ID, cursor, limit)
	if err != nil {
		return nil, "", err
	}
	convs := []string{}
	seen := map[string]bool{}
	for _, m := range msgs {
		if err := s.openBody(ctx, m); err != nil {
			return nil, "", err
		}
		if !seen[m.ConversationID] {
			seen[m.ConversationID] = true
			convs = append(convs, m.ConversationID)
		}
	}
	if err := s.attachEscalations(ctx, s.store, msgs); err != nil {
		return nil, "", err
	}
	ev, err := s.patientEvent(ctx, wardline.ActionPatientTimelineViewed, p)
	if err != nil {
		return nil, "", err
	}
	ev.Detail[wardline.DetailPatientAccess] = grounds
	ev.Detail["count"], ev.Detail["conversations"] = len(msgs), convs
	if err := s.store.Update(ctx, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) }); err != nil {
		return nil, "", err
	}
	return msgs, next, nil
}
