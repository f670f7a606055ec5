package http

import (
	"context"
	"net/http"
	"time"

	"wardline"
)

// The clinical workflow: patients, conversation tracking, roles and rotas, duty and the clinical
// policy. Patient identifiers travel only in bodies, never in paths or query strings.

func (s *Server) handleRegisterPatient(w http.ResponseWriter, r *http.Request) {
	var req wardline.NewPatient
	if err := s.decode(r, &req, func() error {
		_, _, err := s.app.Patients.Register(r.Context(), wardline.NewPatient{})
		return err
	}); err != nil {
		s.Error(w, r, err)
		return
	}
	p, created, err := s.app.Patients.Register(r.Context(), req)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, p)
}

func (s *Server) handleLookupPatient(w http.ResponseWriter, r *http.Request) {
	var req wardline.PatientLookup
	if err := s.decode(r, &req, func() error {
		_, err := s.app.Patients.Lookup(r.Context(), wardline.PatientLookup{})
		return err
	}); err != nil {
		s.Error(w, r, err)
		return
	}
	p, err := s.app.Patients.Lookup(r.Context(), req)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) handleGetPatient(w http.ResponseWriter, r *http.Request) {
	p, err := s.app.Patients.Patient(r.Context(), r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) handleUpdatePatient(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req wardline.PatientUpdate
	if err := s.decode(r, &req, func() error {
		_, err := s.app.Patients.UpdatePatient(r.Context(), id, wardline.PatientUpdate{})
		return err
	}); err != nil {
		s.Error(w, r, err)
		return
	}
	p, err := s.app.Patients.UpdatePatient(r.Context(), id, req)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) handlePatientTimeline(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	p, err := parseQuery(r, "cursor", "limit")
	if err != nil {
		s.Error(w, r, probeFirst(err, func() error {
			_, _, e := s.app.Patients.Timeline(r.Context(), id, "", -1)
			return e
		}))
		return
	}
	msgs, next, err := s.app.Patients.Timeline(r.Context(), id, p.str("cursor"), p.limit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(msgs, next))
}

func (s *Server) handleUpdateConversation(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req wardline.ConversationPatch
	if err := s.decode(r, &req, func() error {
		_, err := s.app.Conversations.UpdateConversation(r.Context(), id, wardline.ConversationPatch{})
		return err
	}); err != nil {
		s.Error(w, r, err)
		return
	}
	c, err := s.app.Conversations.UpdateConversation(r.Context(), id, req)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) handleListRoles(w http.ResponseWriter, r *http.Request) {
	servePage(s, w, r, s.app.Roles.Roles)
}

func (s *Server) handleCreateRole(w http.ResponseWriter, r *http.Request) {
	var req wardline.NewRole
	if err := s.decode(r, &req, func() error {
		_, err := s.app.Roles.CreateRole(r.Context(), wardline.NewRole{})
		return err
	}); err != nil {
		s.Error(w, r, err)
		return
	}
	role, err := s.app.Roles.CreateRole(r.Context(), req)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, role)
}

func (s *Server) handleUpdateRole(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req wardline.RolePatch
	if err := s.decode(r, &req, func() error {
		_, err := s.app.Roles.UpdateRole(r.Context(), id, wardline.RolePatch{})
		return err
	}); err != nil {
		s.Error(w, r, err)
		return
	}
	role, err := s.app.Roles.UpdateRole(r.Context(), id, req)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, role)
}

func (s *Server) handleTakeRole(w http.ResponseWriter, r *http.Request) {
	s.userAction(func(s *Server, r *http.Request, id string) error { return s.app.Roles.Take(r.Context(), id) })(w, r)
}

func (s *Server) handleReleaseRole(w http.ResponseWriter, r *http.Request) {
	s.userAction(func(s *Server, r *http.Request, id string) error { return s.app.Roles.Release(r.Context(), id) })(w, r)
}

type handoverRequest struct {
	ToUserID string `json:"to_user_id"`
}

func (s *Server) handleHandoverRole(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req handoverRequest
	if err := s.decode(r, &req, func() error { return s.app.Roles.Handover(r.Context(), id, "") }); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.app.Roles.Handover(r.Context(), id, req.ToUserID); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleAddRotaEntry(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req wardline.NewRotaEntry
	if err := s.decode(r, &req, func() error {
		_, err := s.app.Roles.AddRotaEntry(r.Context(), id, wardline.NewRotaEntry{})
		return err
	}); err != nil {
		s.Error(w, r, err)
		return
	}
	e, err := s.app.Roles.AddRotaEntry(r.Context(), id, req)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, e)
}

func (s *Server) handleRota(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	servePage(s, w, r, func(ctx context.Context, cursor string, limit int) ([]*wardline.RotaEntry, string, error) {
		return s.app.Roles.Rota(ctx, id, cursor, limit)
	})
}

func (s *Server) handleMyRota(w http.ResponseWriter, r *http.Request) {
	servePage(s, w, r, s.app.Roles.MyRota)
}

func (s *Server) handleCancelRotaEntry(w http.ResponseWriter, r *http.Request) {
	if err := s.app.Roles.CancelRotaEntry(r.Context(), r.PathValue("id"), r.PathValue("entry_id")); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleSendToRole(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req wardline.NewMessage
	if err := s.decode(r, &req, func() error {
		_, err := s.app.Roles.SendToRole(r.Context(), id, wardline.NewMessage{})
		return err
	}); err != nil {
		s.Error(w, r, err)
		return
	}
	res, err := s.app.Roles.SendToRole(r.Context(), id, req)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	writeJSON(w, status, res)
}

type dutyRequest struct {
	Status         string     `json:"status"`
	Until          *time.Time `json:"until"`
	CoveringRoleID *string    `json:"covering_role_id"`
}

func (s *Server) handleSetDutyStatus(w http.ResponseWriter, r *http.Request) {
	var req dutyRequest
	if err := s.decode(r, &req, func() error { return s.app.Clinical.SetDutyStatus(r.Context(), wardline.DutySetting{}) }); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.app.Clinical.SetDutyStatus(r.Context(), wardline.DutySetting{Status: req.Status, Until: req.Until, CoveringRoleID: req.CoveringRoleID}); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleGetClinicalPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := s.app.Clinical.ClinicalPolicy(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) handleSetClinicalPolicy(w http.ResponseWriter, r *http.Request) {
	var req wardline.ClinicalPolicy
	if err := s.decode(r, &req, func() error {
		_, err := s.app.Clinical.SetClinicalPolicy(r.Context(), wardline.ClinicalPolicy{Escalation: wardline.EscalationPolicy{Steps: -1}})
		return err
	}); err != nil {
		s.Error(w, r, err)
		return
	}
	p, err := s.app.Clinical.SetClinicalPolicy(r.Context(), req)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}
