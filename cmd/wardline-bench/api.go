package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// API is a small client of the Wardline API contract (API.md): only what the benchmark needs.
type API struct {
	HTTP *http.Client
}

func newAPI(insecure bool, conns int) *API {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
		ForceAttemptHTTP2:   false,                                     // one request per connection at a time, as many clients do
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: insecure}, //nolint:gosec // --insecure, for self-signed test servers
	}
	return &API{HTTP: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// APIError is an answer other than the one expected.
type APIError struct {
	Status   int
	Code     string
	Msg      string
	MFAToken string // with mfa_required: the token to answer the challenge with
}

func (e *APIError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Msg)
}

// do sends a JSON request and decodes a JSON answer into out (when not nil). Any status outside
// 2xx is an *APIError; a transport failure is returned as is.
func (a *API) do(ctx context.Context, method, url, token string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return 0, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := a.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, err
	}
	if res.StatusCode/100 != 2 {
		var e struct {
			Error    struct{ Code, Message string } `json:"error"`
			MFAToken string                         `json:"mfa_token"`
		}
		_ = json.Unmarshal(data, &e)
		return res.StatusCode, &APIError{Status: res.StatusCode, Code: e.Error.Code, Msg: e.Error.Message, MFAToken: e.MFAToken}
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return res.StatusCode, fmt.Errorf("decode %s %s: %w", method, url, err)
		}
	}
	return res.StatusCode, nil
}

type loginAnswer struct {
	Token                  string `json:"token"`
	PasswordChangeRequired bool   `json:"password_change_required"`
	MFAEnrollmentRequired  bool   `json:"mfa_enrollment_required"`
	User                   struct {
		ID string `json:"id"`
	} `json:"user"`
}

func (a *API) Login(ctx context.Context, base, email, password string) (*loginAnswer, error) {
	var out loginAnswer
	_, err := a.do(ctx, "POST", base+"/api/v1/auth/login", "", map[string]string{"email": email, "password": password}, &out)
	return &out, err
}

func (a *API) ChangePassword(ctx context.Context, base, token, current, next string) error {
	_, err := a.do(ctx, "POST", base+"/api/v1/me/password", token, map[string]string{"current_password": current, "new_password": next}, nil)
	return err
}

// FirstSignIn changes an initial password, signs in with the new one and, where the
// organisation requires a second factor, enrols TOTP. It returns the working token and the TOTP
// secret (empty when none was needed) with the last step used.
func (a *API) FirstSignIn(ctx context.Context, base, email, initial, password string) (l *loginAnswer, secret string, step int64, err error) {
	if l, err = a.Login(ctx, base, email, initial); err != nil {
		return nil, "", 0, fmt.Errorf("sign in with the initial password: %w", err)
	}
	if l.PasswordChangeRequired {
		if err := a.ChangePassword(ctx, base, l.Token, initial, password); err != nil {
			return nil, "", 0, fmt.Errorf("change the initial password: %w", err)
		}
		if l, err = a.Login(ctx, base, email, password); err != nil {
			return nil, "", 0, fmt.Errorf("sign in with the new password: %w", err)
		}
	}
	if l.MFAEnrollmentRequired {
		if secret, step, err = a.enrolTOTP(ctx, base, l.Token); err != nil {
			return nil, "", 0, err
		}
	}
	return l, secret, step, nil
}

func (a *API) CreateUser(ctx context.Context, base, token, email, name string) (id, initial string, err error) {
	var out struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		InitialPassword string `json:"initial_password"`
	}
	in := map[string]string{"email": email, "display_name": name, "job_title": "Staff Nurse", "profession": "Nursing", "org_role": "member"}
	_, err = a.do(ctx, "POST", base+"/api/v1/admin/users", token, in, &out)
	return out.User.ID, out.InitialPassword, err
}

func (a *API) CreateGroup(ctx context.Context, base, token, title string, members []string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	in := map[string]any{"kind": "group", "title": title, "member_ids": members}
	_, err := a.do(ctx, "POST", base+"/api/v1/conversations", token, in, &out)
	return out.ID, err
}

// LastSeq returns a conversation's last seq, as seen by a member.
func (a *API) LastSeq(ctx context.Context, base, token, conv string) (int64, error) {
	var out struct {
		LastSeq int64 `json:"last_seq"`
	}
	_, err := a.do(ctx, "GET", base+"/api/v1/conversations/"+conv, token, nil, &out)
	return out.LastSeq, err
}

// Me checks that a token still works.
func (a *API) Me(ctx context.Context, base, token string) error {
	_, err := a.do(ctx, "GET", base+"/api/v1/me", token, nil, nil)
	return err
}
