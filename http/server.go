package http

import (
	"context"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"wardline"
	"wardline/app"
)

// Route is one endpoint. The table of routes is the router and what the OpenAPI test checks the
// served document against.
type Route struct {
	Method  string
	Path    string
	Auth    bool // requires a signed-in caller
	handler func(http.ResponseWriter, *http.Request)
}

// Server serves the API, the event stream and the web app.
type Server struct {
	app    *app.App
	store  wardline.Store
	bus    wardline.EventBus
	log    *slog.Logger
	hub    *Hub
	mux    *http.ServeMux
	routes []Route
	web    fs.FS // the built web app, or nil
	hsts   bool
	// metrics are served at /metrics; always present (NewServer makes them when not given).
	metrics *Metrics
}

// Options configure a Server.
type Options struct {
	// TLS reports whether the server is reached over HTTPS (HSTS is sent then).
	TLS bool
	// Web is the built web app; nil serves a page saying how to build it.
	Web fs.FS
	// OriginPatterns are extra origins allowed to open the event stream (the server's own host is
	// always allowed).
	OriginPatterns []string
	// WS tunes the event stream; zero values take defaults.
	WS WSOptions
	// Metrics are the node's instruments (nil: the server makes its own).
	Metrics *Metrics
}

// NewServer builds the HTTP handler for a node.
func NewServer(a *app.App, store wardline.Store, bus wardline.EventBus, log *slog.Logger, opts Options) *Server {
	s := &Server{app: a, store: store, bus: bus, log: log, web: opts.Web, hsts: opts.TLS, mux: http.NewServeMux(), metrics: opts.Metrics}
	if s.metrics == nil {
		s.metrics = NewMetrics()
	}
	s.hub = newHub(s, opts.WS, opts.OriginPatterns)
	s.metrics.connectionsFn = func() float64 { return float64(s.hub.Connections()) }
	s.routes = s.routeTable()
	for _, rt := range s.routes {
		h := rt.handler
		if rt.Auth {
			h = s.authenticated(h)
		}
		s.mux.HandleFunc(rt.Method+" "+rt.Path, h)
	}
	s.mux.HandleFunc("/", s.handleFallback)
	return s
}

// handleFallback answers what no route matched: the API's 404 under /api/, otherwise the web app.
func (s *Server) handleFallback(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		s.Error(w, r, wardline.Errorf(wardline.ENOTFOUND, "no such endpoint"))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.Error(w, r, wardline.Errorf(wardline.EINVALID, "method not allowed"))
		return
	}
	s.handleWeb(w, r)
}

// Routes returns the route table.
func (s *Server) Routes() []Route { return s.routes }

// Hub returns the node's event-stream hub.
func (s *Server) Hub() *Hub { return s.hub }

func (s *Server) routeTable() []Route {
	return []Route{
		{"GET", "/healthz", false, s.handleHealth},
		{"GET", "/readyz", false, s.handleReady},
		{"GET", "/api/v1/openapi.json", false, s.handleOpenAPI},
		{"GET", "/metrics", false, s.handleMetrics},

		{"POST", "/api/v1/auth/login", false, s.handleLogin},
		{"POST", "/api/v1/auth/logout", true, s.handleLogout},
		{"GET", "/api/v1/me", true, s.handleMe},
		{"POST", "/api/v1/me/password", true, s.handleChangePassword},

		{"POST", "/api/v1/admin/users", true, s.handleCreateUser},
		{"GET", "/api/v1/admin/users", true, s.handleListUsers},
		{"POST", "/api/v1/admin/users/{id}/suspend", true, s.handleSuspend},
		{"POST", "/api/v1/admin/users/{id}/reinstate", true, s.handleReinstate},
		{"POST", "/api/v1/admin/users/{id}/offboard", true, s.handleOffboard},

		{"POST", "/api/v1/admin/conversations/{id}/shred", true, s.handleShredConversation},

		{"GET", "/api/v1/directory", true, s.handleDirectory},

		{"POST", "/api/v1/conversations", true, s.handleCreateConversation},
		{"GET", "/api/v1/conversations", true, s.handleListConversations},
		{"GET", "/api/v1/conversations/{id}", true, s.handleGetConversation},
		{"POST", "/api/v1/conversations/{id}/members", true, s.handleAddMember},
		{"DELETE", "/api/v1/conversations/{id}/members/{user_id}", true, s.handleRemoveMember},

		{"POST", "/api/v1/conversations/{id}/messages", true, s.handleSend},
		{"GET", "/api/v1/conversations/{id}/messages", true, s.handleHistory},
		{"PATCH", "/api/v1/conversations/{id}/messages/{message_id}", true, s.handleEdit},
		{"DELETE", "/api/v1/conversations/{id}/messages/{message_id}", true, s.handleDelete},
		{"POST", "/api/v1/conversations/{id}/read", true, s.handleMarkRead},
		{"POST", "/api/v1/conversations/{id}/messages/{message_id}/ack", true, s.handleAck},
		{"GET", "/api/v1/conversations/{id}/messages/{message_id}/receipts", true, s.handleReceipts},

		// Strong authentication (auth).
		{"POST", "/api/v1/auth/mfa/totp", false, s.handleMFATOTP},
		{"POST", "/api/v1/auth/mfa/recovery", false, s.handleMFARecovery},
		{"POST", "/api/v1/auth/mfa/webauthn/begin", false, s.handleMFAWebAuthnBegin},
		{"POST", "/api/v1/auth/mfa/webauthn/finish", false, s.handleMFAWebAuthnFinish},
		{"POST", "/api/v1/auth/passkey/begin", false, s.handlePasskeyLoginBegin},
		{"POST", "/api/v1/auth/passkey/finish", false, s.handlePasskeyLoginFinish},
		{"GET", "/api/v1/me/security", true, s.handleSecurity},
		{"POST", "/api/v1/me/totp", true, s.handleBeginTOTP},
		{"POST", "/api/v1/me/totp/confirm", true, s.handleConfirmTOTP},
		{"DELETE", "/api/v1/me/totp", true, s.handleRemoveTOTP},
		{"POST", "/api/v1/me/recovery-codes", true, s.handleNewRecoveryCodes},
		{"POST", "/api/v1/me/passkeys/begin", true, s.handlePasskeyRegisterBegin},
		{"POST", "/api/v1/me/passkeys/finish", true, s.handlePasskeyRegisterFinish},
		{"GET", "/api/v1/me/passkeys", true, s.handleListPasskeys},
		{"DELETE", "/api/v1/me/passkeys/{id}", true, s.handleRemovePasskey},
		{"PUT", "/api/v1/me/pin", true, s.handleSetPIN},
		{"DELETE", "/api/v1/me/pin", true, s.handleRemovePIN},
		{"POST", "/api/v1/me/lock", true, s.handleLock},
		{"POST", "/api/v1/me/unlock/begin", true, s.handleUnlockBegin},
		{"POST", "/api/v1/me/unlock", true, s.handleUnlock},
		{"GET", "/api/v1/me/sessions", true, s.handleMySessions},
		{"DELETE", "/api/v1/me/sessions/{id}", true, s.handleEndMySession},
		{"POST", "/api/v1/me/sessions/revoke-all", true, s.handleEndAllMySessions},
		{"GET", "/api/v1/admin/users/{id}/sessions", true, s.handleUserSessions},
		{"DELETE", "/api/v1/admin/users/{id}/sessions/{session_id}", true, s.handleEndUserSession},
		{"POST", "/api/v1/admin/users/{id}/sessions/revoke-all", true, s.handleEndAllUserSessions},
		{"POST", "/api/v1/admin/users/{id}/reset-password", true, s.handleResetPassword},
		{"POST", "/api/v1/admin/users/{id}/reset-mfa", true, s.handleResetMFA},
		{"GET", "/api/v1/admin/policy", true, s.handleGetPolicy},
		{"PATCH", "/api/v1/admin/policy", true, s.handleSetPolicy},

		// Clinical workflow.
		{"POST", "/api/v1/patients", true, s.handleRegisterPatient},
		{"POST", "/api/v1/patients/lookup", true, s.handleLookupPatient},
		{"GET", "/api/v1/patients/{id}", true, s.handleGetPatient},
		{"PATCH", "/api/v1/patients/{id}", true, s.handleUpdatePatient},
		{"GET", "/api/v1/patients/{id}/timeline", true, s.handlePatientTimeline},
		{"PATCH", "/api/v1/conversations/{id}", true, s.handleUpdateConversation},
		{"GET", "/api/v1/roles", true, s.handleListRoles},
		{"POST", "/api/v1/admin/roles", true, s.handleCreateRole},
		{"PATCH", "/api/v1/admin/roles/{id}", true, s.handleUpdateRole},
		{"POST", "/api/v1/admin/roles/{id}/rota", true, s.handleAddRotaEntry},
		{"DELETE", "/api/v1/admin/roles/{id}/rota/{entry_id}", true, s.handleCancelRotaEntry},
		{"GET", "/api/v1/roles/{id}/rota", true, s.handleRota},
		{"GET", "/api/v1/me/rota", true, s.handleMyRota},
		{"POST", "/api/v1/roles/{id}/take", true, s.handleTakeRole},
		{"POST", "/api/v1/roles/{id}/release", true, s.handleReleaseRole},
		{"POST", "/api/v1/roles/{id}/handover", true, s.handleHandoverRole},
		{"POST", "/api/v1/roles/{id}/messages", true, s.handleSendToRole},
		{"PUT", "/api/v1/me/status", true, s.handleSetDutyStatus},
		{"GET", "/api/v1/clinical-policy", true, s.handleGetClinicalPolicy},
		{"PUT", "/api/v1/admin/clinical-policy", true, s.handleSetClinicalPolicy},

		{"GET", "/api/v1/events", false, s.hub.handleEvents},

		// The audit log: IG officers' search, export, investigations and alerts; anyone's
		// checkpoints and consistency proofs (hashes only).
		{"POST", "/api/v1/audit/search", true, s.handleAuditSearch},
		{"POST", "/api/v1/audit/export", true, s.handleAuditExport},
		{"GET", "/api/v1/audit/checkpoint", false, s.handleAuditCheckpoint},
		{"GET", "/api/v1/audit/proof/consistency", false, s.handleConsistencyProof},
		{"GET", "/api/v1/audit/proof/inclusion", true, s.handleInclusionProof},
		{"POST", "/api/v1/audit/investigations", true, s.handleOpenInvestigation},
		{"GET", "/api/v1/audit/investigations", true, s.handleListInvestigations},
		{"GET", "/api/v1/audit/investigations/{id}", true, s.handleGetInvestigation},
		{"POST", "/api/v1/audit/investigations/{id}/close", true, s.handleCloseInvestigation},
		{"GET", "/api/v1/audit/investigations/{id}/transcript", true, s.handleTranscript},
		{"GET", "/api/v1/audit/alerts", true, s.handleListAlerts},
		{"GET", "/api/v1/audit/alert-policy", true, s.handleGetAlertPolicy},
		{"PUT", "/api/v1/audit/alert-policy", true, s.handleSetAlertPolicy},
	}
}

// ServeHTTP applies the headers and limits every response gets, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	if s.hsts {
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		h.Set("Cache-Control", "no-store")
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(sw, r)
	if r.Pattern != "GET /api/v1/events" { // a stream's lifetime is no request latency
		s.metrics.observeRequest(r, sw.status, time.Since(start))
	}
	if r.URL.Path != "/healthz" && r.URL.Path != "/readyz" {
		// The route pattern, not the path: no ids or queries beyond what the pattern names.
		s.log.Debug("request", "method", r.Method, "route", r.Pattern, "status", sw.status, "duration", time.Since(start))
	}
}

// contentSecurityPolicy allows the web app's own scripts, styles and connections and nothing else.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; manifest-src 'self'; worker-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController (and the WebSocket upgrade) reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

const sessionCookie = "wardline_session"
const csrfHeader = "X-Wardline-CSRF"

// clientAddr is the request's source address, for the audit log and rate limits.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// credentials finds the caller's token: a bearer token counts over the cookie.
func credentials(r *http.Request) (token string, byCookie bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t), false
		}
		return "", false
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		return c.Value, true
	}
	return "", false
}

// authenticate resolves the caller; a cookie-authenticated change must carry the CSRF header.
func (s *Server) authenticate(r *http.Request) (*wardline.Actor, error) {
	token, byCookie := credentials(r)
	if token == "" {
		return nil, wardline.Errorf(wardline.EUNAUTHENTICATED, "sign in first")
	}
	actor, err := s.app.Auth.Authenticate(r.Context(), token, clientAddr(r))
	if err != nil {
		return nil, err
	}
	if byCookie && r.Method != http.MethodGet && r.Method != http.MethodHead && r.Header.Get(csrfHeader) != "1" {
		return nil, wardline.Errorf(wardline.EFORBIDDEN, "missing the %s header", csrfHeader)
	}
	actor.Device = r.UserAgent()
	return actor, nil
}

func (s *Server) authenticated(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		actor, err := s.authenticate(r)
		if err != nil {
			if _, byCookie := credentials(r); byCookie && wardline.ErrorCode(err) == wardline.EUNAUTHENTICATED {
				clearSessionCookie(w) // the session has ended: the browser need not keep a dead token
			}
			s.Error(w, r, err)
			return
		}
		h(w, r.WithContext(wardline.NewContextWithActor(r.Context(), actor)))
	}
}

// anonymousContext carries the source address for calls made before sign-in.
func anonymousContext(r *http.Request) context.Context {
	return wardline.NewContextWithActor(r.Context(), &wardline.Actor{Addr: clientAddr(r), Device: r.UserAgent()})
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"store": "ok", "bus": "ok"}
	status := http.StatusOK
	if err := s.store.Ping(ctx); err != nil {
		checks["store"], status = "unavailable", http.StatusServiceUnavailable
	}
	if err := s.bus.Ping(ctx); err != nil {
		checks["bus"], status = "unavailable", http.StatusServiceUnavailable
	}
	st := "ok"
	if status != http.StatusOK {
		st = "unavailable"
	}
	writeJSON(w, status, map[string]any{"status": st, "checks": checks})
}

// Close closes every event stream (telling clients to reconnect elsewhere) and stops the hub.
func (s *Server) Close() { s.hub.Close() }
