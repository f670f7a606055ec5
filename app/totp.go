package app

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// TOTP as RFC 6238 profiles it for authenticator apps: HMAC-SHA-1, 6 digits, 30-second steps,
// a 160-bit secret written in base32 without padding.
const (
	totpDigits = 6
	totpPeriod = 30 // seconds
	totpSkew   = 1  // steps either side of now that are also accepted
)

var totpEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newTOTPSecret returns a random 20-byte secret (RFC 4226 recommends 160 bits).
func newTOTPSecret() []byte {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

// EncodeTOTPSecret writes a secret as authenticator apps take it: base32, no padding.
func EncodeTOTPSecret(secret []byte) string { return totpEncoding.EncodeToString(secret) }

// DecodeTOTPSecret reads a base32 secret, forgiving spaces, lower case and padding.
func DecodeTOTPSecret(s string) ([]byte, error) {
	s = strings.ToUpper(strings.TrimRight(strings.ReplaceAll(s, " ", ""), "="))
	return totpEncoding.DecodeString(s)
}

// totpStep is the RFC 6238 time step counter of t.
func totpStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// hotp is RFC 4226's HOTP value of counter: dynamic truncation of HMAC-SHA-1, modulo 10^digits.
func hotp(secret []byte, counter int64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	mac := hmac.New(sha1.New, secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

// TOTPCode returns the 6-digit code of secret at t. Tests and the demo use it to act as an
// authenticator app.
func TOTPCode(secret []byte, t time.Time) string { return hotp(secret, totpStep(t), totpDigits) }

// checkTOTP finds the step, within one either side of now and after lastStep, whose code is
// code; 0 when none is. Steps at or before lastStep are refused, so no code works twice.
func checkTOTP(secret []byte, code string, now time.Time, lastStep int64) int64 {
	code = normalizeCode(code)
	if len(code) != totpDigits {
		return 0
	}
	var found int64
	cur := totpStep(now)
	for step := cur - totpSkew; step <= cur+totpSkew; step++ {
		// Compare every candidate, matched or not, so the time taken says nothing.
		ok := subtle.ConstantTimeCompare([]byte(hotp(secret, step, totpDigits)), []byte(code)) == 1
		if ok && step > lastStep && found == 0 {
			found = step
		}
	}
	return found
}

// checkTOTPFormat refuses what cannot be a code (6 ASCII digits, spaces and dashes aside): bad
// input, answered 400 and not counted as a wrong answer.
func checkTOTPFormat(code string) error {
	c := normalizeCode(code)
	if c == "" {
		return errInvalid("code is required")
	}
	if len(c) != totpDigits || strings.Trim(c, "0123456789") != "" {
		return errInvalid("code must be the 6 digits your authenticator app shows")
	}
	return nil
}

// normalizeCode drops the spaces and dashes people type into codes.
func normalizeCode(s string) string {
	return strings.NewReplacer(" ", "", "-", "", "\t", "").Replace(strings.TrimSpace(s))
}

// otpauthURL is the key URI authenticator apps read from a QR code (Google Authenticator's
// "Key Uri Format"): issuer and account label, secret and the RFC 6238 parameters.
func otpauthURL(issuer, account string, secret []byte) string {
	label := url.PathEscape(issuer) + ":" + url.PathEscape(account)
	v := url.Values{}
	v.Set("secret", EncodeTOTPSecret(secret))
	v.Set("issuer", issuer)
	v.Set("algorithm", "SHA1")
	v.Set("digits", fmt.Sprint(totpDigits))
	v.Set("period", fmt.Sprint(totpPeriod))
	return "otpauth://totp/" + label + "?" + v.Encode()
}
