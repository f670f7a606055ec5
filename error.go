package wardline

import (
	"errors"
	"fmt"
)

// Error codes, one per API error code (API.md "Conventions"). The HTTP layer maps them to statuses
// in one place.
const (
	EINVALID         = "invalid"
	EUNAUTHENTICATED = "unauthenticated"
	EMFAREQUIRED     = "mfa_required"
	EFORBIDDEN       = "forbidden"
	ENOTFOUND        = "not_found"
	ECONFLICT        = "conflict"
	ETOOLARGE        = "too_large"
	ELOCKED          = "locked"
	ERATELIMITED     = "rate_limited"
	EINTERNAL        = "internal"
)

// Error is an error a user may see: a code from the list above and a message safe to show.
// Anything else that escapes a service is an internal error whose text is logged, never shown.
type Error struct {
	Code    string
	Message string
	// TriesLeft, when set, is how many more wrong answers the caller has before it is stopped
	// (a PIN or passkey unlock): clients show it without reading it out of Message.
	TriesLeft *int
}

func (e *Error) Error() string {
	return fmt.Sprintf("wardline error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithTriesLeft sets TriesLeft and returns e.
func (e *Error) WithTriesLeft(n int) *Error {
	e.TriesLeft = &n
	return e
}

// ErrorTriesLeft returns the TriesLeft of the first *Error in err's chain, or nil.
func ErrorTriesLeft(err error) *int {
	var e *Error
	if errors.As(err, &e) {
		return e.TriesLeft
	}
	return nil
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other error,
// and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-visible message of err; internal errors say only "internal error".
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
