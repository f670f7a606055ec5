package http

import (
	"net/http"

	"wardline"
)

func (s *Server) handleCreateConversation(w http.ResponseWriter, r *http.Request) {
	var req wardline.NewConversation
	if err := s.decode(r, &req, func() error {
		_, _, err := s.app.Conversations.CreateConversation(r.Context(), wardline.NewConversation{})
		return err
	}); err != nil {
		s.Error(w, r, err)
		return
	}
	c, created, err := s.app.Conversations.CreateConversation(r.Context(), req)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, c)
}

func (s *Server) handleListConversations(w http.ResponseWriter, r *http.Request) {
	servePage(s, w, r, s.app.Conversations.Conversations)
}

func (s *Server) handleGetConversation(w http.ResponseWriter, r *http.Request) {
	c, err := s.app.Conversations.Conversation(r.Context(), r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

type addMemberRequest struct {
	UserID string `json:"user_id"`
}

func (s *Server) handleAddMember(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req addMemberRequest
	if err := s.decode(r, &req, func() error { return s.app.Conversations.AddMember(r.Context(), id, "") }); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.app.Conversations.AddMember(r.Context(), id, req.UserID); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleRemoveMember(w http.ResponseWriter, r *http.Request) {
	if err := noBody(r); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.app.Conversations.RemoveMember(r.Context(), r.PathValue("id"), r.PathValue("user_id")); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
