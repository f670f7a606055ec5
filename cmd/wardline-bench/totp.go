package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // RFC 6238 TOTP, as API.md specifies
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Organisations require a second factor by default (API.md, strong authentication), so each
// bench user enrols TOTP at first sign-in and answers the mfa_required challenge later; the secret
// and the last step used are kept in the state file.

// totpCode is the RFC 6238 code (SHA-1, 6 digits) of a base32 secret at a 30-second step.
func totpCode(secret string, step int64) (string, error) {
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(strings.TrimRight(secret, "=")))
	if err != nil {
		return "", fmt.Errorf("TOTP secret: %w", err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := (binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff) % 1000000
	return fmt.Sprintf("%06d", v), nil
}

// nextTOTP returns a code the server has not seen: a step after *last, within one of now (the
// server accepts the previous, current and next step, each once), waiting if it must.
func nextTOTP(ctx context.Context, secret string, last *int64) (string, error) {
	for {
		now := time.Now().Unix() / 30
		step := max(now, *last+1)
		if step <= now+1 {
			*last = step
			return totpCode(secret, step)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(time.Until(time.Unix((step-1)*30, 0))):
		}
	}
}

// enrolTOTP adds a TOTP factor to a signed-in user whose organisation requires one; the token
// then works fully.
func (a *API) enrolTOTP(ctx context.Context, base, token string) (secret string, step int64, err error) {
	var begin struct {
		Secret string `json:"secret"`
	}
	if _, err := a.do(ctx, "POST", base+"/api/v1/me/totp", token, nil, &begin); err != nil {
		return "", 0, fmt.Errorf("begin TOTP enrolment: %w", err)
	}
	code, err := nextTOTP(ctx, begin.Secret, &step)
	if err != nil {
		return "", 0, err
	}
	if _, err := a.do(ctx, "POST", base+"/api/v1/me/totp/confirm", token, map[string]string{"code": code}, nil); err != nil {
		return "", 0, fmt.Errorf("confirm TOTP: %w", err)
	}
	return begin.Secret, step, nil
}

// SignIn signs in with a password and, when asked, a TOTP code from secret.
func (a *API) SignIn(ctx context.Context, base, email, password, secret string, lastStep *int64) (*loginAnswer, error) {
	l, err := a.Login(ctx, base, email, password)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "mfa_required" {
		return l, err
	}
	if secret == "" {
		return nil, fmt.Errorf("%s: a second factor is required and the bench has no TOTP secret for this account", email)
	}
	code, err := nextTOTP(ctx, secret, lastStep)
	if err != nil {
		return nil, err
	}
	var out loginAnswer
	_, err = a.do(ctx, "POST", base+"/api/v1/auth/mfa/totp", "", map[string]string{"mfa_token": ae.MFAToken, "code": code}, &out)
	return &out, err
}
