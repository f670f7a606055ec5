package http

import "net/http"

type shredRequest struct {
	Justification string `json:"justification"`
}

func (s *Server) handleShredConversation(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req shredRequest
	if err := s.decode(r, &req, func() error { return s.app.Conversations.Shred(r.Context(), id, "") }); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.app.Conversations.Shred(r.Context(), id, req.Justification); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
