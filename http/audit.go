package http

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"wardline"
	"wardline/app"
)

// auditSearchRequest is a search of the log. The NHS number travels in the body, never in a URL.
type auditSearchRequest struct {
	ActorID        string     `json:"actor_id"`
	ActorEmail     string     `json:"actor_email"`
	ConversationID string     `json:"conversation_id"`
	NHSNumber      string     `json:"nhs_number"`
	Action         string     `json:"action"`
	Since          *time.Time `json:"since"`
	Until          *time.Time `json:"until"`
	Cursor         string     `json:"cursor"`
	Limit          int        `json:"limit"`
	Format         string     `json:"format"` // exports only
}

func (q auditSearchRequest) search() wardline.AuditSearch {
	s := wardline.AuditSearch{ActorID: q.ActorID, ActorEmail: q.ActorEmail, ConversationID: q.ConversationID,
		PatientNHSNumber: q.NHSNumber, Action: q.Action, Cursor: q.Cursor, Limit: q.Limit}
	if q.Since != nil {
		s.Since = *q.Since
	}
	if q.Until != nil {
		s.Until = *q.Until
	}
	return s
}

func (s *Server) handleAuditSearch(w http.ResponseWriter, r *http.Request) {
	var req auditSearchRequest
	probe := func() error {
		_, _, err := s.app.Audit.Search(r.Context(), wardline.AuditSearch{Limit: -1})
		return err
	}
	if err := s.decode(r, &req, probe); err != nil {
		s.Error(w, r, err)
		return
	}
	if req.Format != "" {
		s.Error(w, r, probeFirst(wardline.Errorf(wardline.EINVALID, "format belongs to exports"), probe))
		return
	}
	events, next, err := s.app.Audit.Search(r.Context(), req.search())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(events, next))
}

// csvSafe keeps a spreadsheet from reading a cell as a formula (CSV injection).
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

func (s *Server) handleAuditExport(w http.ResponseWriter, r *http.Request) {
	var req auditSearchRequest
	if err := s.decode(r, &req, func() error {
		_, err := s.app.Audit.Export(r.Context(), wardline.AuditSearch{}, "-")
		return err
	}); err != nil {
		s.Error(w, r, err)
		return
	}
	events, err := s.app.Audit.Export(r.Context(), req.search(), req.Format)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	name := "wardline-audit-" + time.Now().UTC().Format("20060102T150405Z")
	if req.Format == "json" {
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.json"`)
		if events == nil {
			events = []*wardline.AuditEvent{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"items": events})
		return
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write([]string{"seq", "at", "org_id", "actor_id", "session_id", "source_addr", "action", "target_type", "target_id",
		"conversation_id", "outcome", "justification", "detail"})
	for _, e := range events {
		detail := ""
		if len(e.Detail) > 0 {
			b, _ := json.Marshal(e.Detail)
			detail = string(b)
		}
		_ = cw.Write([]string{fmt.Sprint(e.Seq), e.At.UTC().Format(time.RFC3339Nano), e.OrgID, e.ActorID, e.SessionID, csvSafe(e.Addr),
			csvSafe(e.Action), csvSafe(e.TargetType), csvSafe(e.TargetID), e.ConversationID, csvSafe(e.Outcome), csvSafe(e.Justification), csvSafe(detail)})
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

type checkpointResponse struct {
	Origin      string    `json:"origin"`
	Size        int64     `json:"size"`
	RootHash    string    `json:"root_hash"`
	Time        time.Time `json:"time"`
	SignedNote  string    `json:"signed_note"`
	VerifierKey string    `json:"verifier_key"`
}

func newCheckpointResponse(c *app.SignedCheckpoint) checkpointResponse {
	return checkpointResponse{Origin: c.Origin, Size: c.Size, RootHash: base64.StdEncoding.EncodeToString(c.Root), Time: c.At,
		SignedNote: c.Note, VerifierKey: c.VerifierKey}
}

func b64s(hs [][]byte) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = base64.StdEncoding.EncodeToString(h)
	}
	return out
}

func (s *Server) handleAuditCheckpoint(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		s.Error(w, r, err)
		return
	}
	c, err := s.app.Audit.LatestCheckpoint(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newCheckpointResponse(c))
}

func (s *Server) handleConsistencyProof(w http.ResponseWriter, r *http.Request) {
	p, err := parseQuery(r, "from", "to")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	from, err := p.int64("from")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	to, err := p.int64("to")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	proof, c, err := s.app.Audit.ConsistencyProof(r.Context(), from, to)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": c.Size, "proof": b64s(proof), "checkpoint": newCheckpointResponse(c)})
}

func (s *Server) handleInclusionProof(w http.ResponseWriter, r *http.Request) {
	p, err := parseQuery(r, "seq", "size")
	var seq, size int64
	if err == nil {
		seq, err = p.int64("seq")
	}
	if err == nil {
		size, err = p.int64("size")
	}
	if err != nil {
		s.Error(w, r, probeFirst(err, func() error {
			_, _, _, _, e := s.app.Audit.InclusionProof(r.Context(), 0, 0)
			return e
		}))
		return
	}
	e, leaf, proof, c, err := s.app.Audit.InclusionProof(r.Context(), seq, size)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"entry": e, "leaf_index": seq - 1, "leaf_hash": base64.StdEncoding.EncodeToString(leaf),
		"proof": b64s(proof), "checkpoint": newCheckpointResponse(c)})
}

type openInvestigationRequest struct {
	ConversationID string `json:"conversation_id"`
	Justification  string `json:"justification"`
}

func (s *Server) handleOpenInvestigation(w http.ResponseWriter, r *http.Request) {
	var req openInvestigationRequest
	if err := s.decode(r, &req, func() error {
		_, err := s.app.Audit.OpenInvestigation(r.Context(), "", "")
		if wardline.ErrorCode(err) == wardline.ENOTFOUND {
			return nil // the probe names no conversation: only 401/403 may win over the 400
		}
		return err
	}); err != nil {
		s.Error(w, r, err)
		return
	}
	inv, err := s.app.Audit.OpenInvestigation(r.Context(), req.ConversationID, req.Justification)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, inv)
}

func (s *Server) handleListInvestigations(w http.ResponseWriter, r *http.Request) {
	servePage(s, w, r, s.app.Audit.Investigations)
}

type investigationResponse struct {
	*wardline.Investigation
	Exports []*wardline.AuditEvent `json:"exports"`
}

func (s *Server) handleGetInvestigation(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		s.Error(w, r, err)
		return
	}
	v, err := s.app.Audit.Investigation(r.Context(), r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if v.Exports == nil {
		v.Exports = []*wardline.AuditEvent{}
	}
	writeJSON(w, http.StatusOK, investigationResponse{Investigation: v.Investigation, Exports: v.Exports})
}

func (s *Server) handleCloseInvestigation(w http.ResponseWriter, r *http.Request) {
	if err := noBody(r); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.app.Audit.CloseInvestigation(r.Context(), r.PathValue("id")); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleTranscript(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	p, err := parseQuery(r, "format")
	format := "json"
	if err == nil && p.has("format") {
		format = p.str("format")
	}
	if err == nil && format != "json" && format != "pdf" {
		err = wardline.Errorf(wardline.EINVALID, "format must be json or pdf")
	}
	if err != nil {
		s.Error(w, r, probeFirst(err, func() error {
			_, e := s.app.Audit.Transcript(r.Context(), id, "-")
			return e
		}))
		return
	}
	t, err := s.app.Audit.Transcript(r.Context(), id, format)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	name := "wardline-transcript-" + t.Investigation.ID
	if format == "json" {
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.json"`)
		writeJSON(w, http.StatusOK, t)
		return
	}
	b, err := app.TranscriptPDF(t)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.pdf"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func (s *Server) handleListAlerts(w http.ResponseWriter, r *http.Request) {
	p, err := parseQuery(r, "kind", "cursor", "limit")
	if err != nil {
		s.Error(w, r, probeFirst(err, func() error {
			_, _, e := s.app.Audit.Alerts(r.Context(), "-", "", 0)
			return e
		}))
		return
	}
	alerts, next, err := s.app.Audit.Alerts(r.Context(), p.str("kind"), p.str("cursor"), p.limit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(alerts, next))
}

func (s *Server) handleGetAlertPolicy(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		s.Error(w, r, err)
		return
	}
	p, err := s.app.Audit.AlertPolicy(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) handleSetAlertPolicy(w http.ResponseWriter, r *http.Request) {
	var req wardline.AlertPolicy
	if err := s.decode(r, &req, func() error {
		_, err := s.app.Audit.SetAlertPolicy(r.Context(), wardline.AlertPolicy{ConversationsPerHour: -1, WorkingHours: "-"})
		return err
	}); err != nil {
		s.Error(w, r, err)
		return
	}
	p, err := s.app.Audit.SetAlertPolicy(r.Context(), req)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}
