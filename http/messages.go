package http

import (
	"net/http"

	"wardline"
)

func (s *Server) handleSend(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req wardline.NewMessage
	if err := s.decode(r, &req, func() error {
		_, err := s.app.Messages.Send(r.Context(), id, wardline.NewMessage{})
		return err
	}); err != nil {
		s.Error(w, r, err)
		return
	}
	res, err := s.app.Messages.Send(r.Context(), id, req)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	writeJSON(w, status, sendResponse{Message: res.Message, Warnings: res.Warnings})
}

// sendResponse is the Message with the sender's warnings beside its fields (API.md "Escalation
// and duty"): clients reading a Message still find one.
type sendResponse struct {
	*wardline.Message
	Warnings []*wardline.Warning `json:"warnings"`
}

type historyResponse struct {
	Items   []*wardline.Message `json:"items"`
	HasMore bool                `json:"has_more"`
}

func (s *Server) handleHistory(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q, err := historyQuery(r)
	if err != nil {
		s.Error(w, r, probeFirst(err, func() error {
			_, _, e := s.app.Messages.History(r.Context(), id, wardline.HistoryQuery{Limit: -1})
			return e
		}))
		return
	}
	msgs, more, err := s.app.Messages.History(r.Context(), id, q)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if msgs == nil {
		msgs = []*wardline.Message{}
	}
	writeJSON(w, http.StatusOK, historyResponse{Items: msgs, HasMore: more})
}

func historyQuery(r *http.Request) (wardline.HistoryQuery, error) {
	p, err := parseQuery(r, "after_seq", "before_seq", "limit")
	if err != nil {
		return wardline.HistoryQuery{}, err
	}
	q := wardline.HistoryQuery{Forward: p.has("after_seq"), Limit: p.limit}
	if q.AfterSeq, err = p.int64("after_seq"); err != nil {
		return q, err
	}
	if q.BeforeSeq, err = p.int64("before_seq"); err != nil {
		return q, err
	}
	if p.has("before_seq") && q.BeforeSeq == 0 {
		return q, wardline.Errorf(wardline.EINVALID, "before_seq must be at least 1")
	}
	if p.has("after_seq") && p.has("before_seq") {
		return q, wardline.Errorf(wardline.EINVALID, "give after_seq or before_seq, not both")
	}
	return q, nil
}

type editRequest struct {
	Body string `json:"body"`
}

func (s *Server) handleEdit(w http.ResponseWriter, r *http.Request) {
	id, mid := r.PathValue("id"), r.PathValue("message_id")
	var req editRequest
	if err := s.decode(r, &req, func() error {
		_, err := s.app.Messages.Edit(r.Context(), id, mid, "")
		return err
	}); err != nil {
		s.Error(w, r, err)
		return
	}
	m, err := s.app.Messages.Edit(r.Context(), id, mid, req.Body)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	if err := noBody(r); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.app.Messages.Delete(r.Context(), r.PathValue("id"), r.PathValue("message_id")); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type readRequest struct {
	Seq *int64 `json:"seq"`
}

func (s *Server) handleMarkRead(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req readRequest
	probe := func() error { return s.app.Messages.MarkRead(r.Context(), id, -1) }
	if err := s.decode(r, &req, probe); err != nil {
		s.Error(w, r, err)
		return
	}
	if req.Seq == nil {
		s.Error(w, r, probeFirst(wardline.Errorf(wardline.EINVALID, "seq is required"), probe))
		return
	}
	if err := s.app.Messages.MarkRead(r.Context(), id, *req.Seq); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleAck(w http.ResponseWriter, r *http.Request) {
	if err := noBody(r); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.app.Messages.Acknowledge(r.Context(), r.PathValue("id"), r.PathValue("message_id")); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type receiptsResponse struct {
	Items []*wardline.MessageReceipt `json:"items"`
}

func (s *Server) handleReceipts(w http.ResponseWriter, r *http.Request) {
	items, err := s.app.Messages.Receipts(r.Context(), r.PathValue("id"), r.PathValue("message_id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if items == nil {
		items = []*wardline.MessageReceipt{}
	}
	writeJSON(w, http.StatusOK, receiptsResponse{Items: items})
}
