package http

import (
	"net/http"
	"time"

	"wardline"
)

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Org      string `json:"org,omitempty"` // for an address held in several organisations
}

type loginResponse struct {
	Token                  string         `json:"token,omitempty"`
	ExpiresAt              time.Time      `json:"expires_at"`
	User                   *wardline.User `json:"user"`
	PasswordChangeRequired bool           `json:"password_change_required,omitempty"`
	MFAEnrollmentRequired  bool           `json:"mfa_enrollment_required,omitempty"`
	LockIdleSeconds        int            `json:"lock_idle_seconds,omitempty"`
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := s.decode(r, &req, nil); err != nil {
		s.Error(w, r, err)
		return
	}
	res, err := s.app.Auth.LoginAt(anonymousContext(r), req.Org, req.Email, req.Password)
	if err != nil {
		s.loginError(w, r, err)
		return
	}
	s.writeLogin(w, r, res)
}

func clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if err := noBody(r); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.app.Auth.Logout(r.Context()); err != nil {
		s.Error(w, r, err)
		return
	}
	clearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
}

type meResponse struct {
	*wardline.User
	PasswordChangeRequired bool `json:"password_change_required,omitempty"`
	MFAEnrollmentRequired  bool `json:"mfa_enrollment_required,omitempty"`
	Locked                 bool `json:"locked,omitempty"`
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	u, err := s.app.Users.Me(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	a := wardline.ActorFromContext(r.Context())
	writeJSON(w, http.StatusOK, meResponse{User: u, PasswordChangeRequired: a.Session.PasswordChangeRequired,
		MFAEnrollmentRequired: a.Session.MFAEnrollmentRequired, Locked: a.Session.Locked()})
}

type passwordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

func (s *Server) handleChangePassword(w http.ResponseWriter, r *http.Request) {
	var req passwordRequest
	if err := s.decode(r, &req, nil); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.app.Auth.ChangePassword(r.Context(), req.CurrentPassword, req.NewPassword); err != nil {
		s.Error(w, r, err)
		return
	}
	clearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
}
