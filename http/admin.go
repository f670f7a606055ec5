package http

import (
	"net/http"

	"wardline"
)

type createUserResponse struct {
	User            *wardline.User `json:"user"`
	InitialPassword string         `json:"initial_password"`
}

func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	var req wardline.NewUser
	if err := s.decode(r, &req, func() error {
		_, _, err := s.app.Users.CreateUser(r.Context(), wardline.NewUser{})
		return err
	}); err != nil {
		s.Error(w, r, err)
		return
	}
	u, pw, err := s.app.Users.CreateUser(r.Context(), req)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, createUserResponse{User: u, InitialPassword: pw})
}

type listResponse[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func newList[T any](items []T, next string) listResponse[T] {
	if items == nil {
		items = []T{}
	}
	l := listResponse[T]{Items: items}
	if next != "" {
		l.NextCursor = &next
	}
	return l
}

func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request) {
	p, err := parseQuery(r, "q", "status", "cursor", "limit")
	if err != nil {
		s.Error(w, r, probeFirst(err, func() error {
			_, _, e := s.app.Users.FindUsers(r.Context(), wardline.UserFilter{Status: "-"})
			return e
		}))
		return
	}
	users, next, err := s.app.Users.FindUsers(r.Context(), wardline.UserFilter{Query: p.str("q"), Status: p.str("status"), Cursor: p.str("cursor"), Limit: p.limit})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(users, next))
}

func (s *Server) userAction(action func(*Server, *http.Request, string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := noBody(r); err != nil {
			s.Error(w, r, err)
			return
		}
		if err := action(s, r, r.PathValue("id")); err != nil {
			s.Error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) handleSuspend(w http.ResponseWriter, r *http.Request) {
	s.userAction(func(s *Server, r *http.Request, id string) error { return s.app.Users.Suspend(r.Context(), id) })(w, r)
}

func (s *Server) handleReinstate(w http.ResponseWriter, r *http.Request) {
	s.userAction(func(s *Server, r *http.Request, id string) error { return s.app.Users.Reinstate(r.Context(), id) })(w, r)
}

func (s *Server) handleOffboard(w http.ResponseWriter, r *http.Request) {
	s.userAction(func(s *Server, r *http.Request, id string) error { return s.app.Users.Offboard(r.Context(), id) })(w, r)
}

func (s *Server) handleDirectory(w http.ResponseWriter, r *http.Request) {
	p, err := parseQuery(r, "q", "cursor", "limit")
	if err != nil {
		s.Error(w, r, probeFirst(err, func() error {
			_, _, e := s.app.Users.Directory(r.Context(), "", "!", 0)
			return e
		}))
		return
	}
	items, next, err := s.app.Users.Directory(r.Context(), p.str("q"), p.str("cursor"), p.limit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(items, next))
}
