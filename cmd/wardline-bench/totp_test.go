package main

import (
	"context"
	"testing"
	"time"
)

// RFC 6238 appendix B (SHA-1), truncated to 6 digits.
func TestTOTPCode(t *testing.T) {
	const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // "12345678901234567890"
	for _, tc := range []struct {
		unix int64
		want string
	}{{59, "287082"}, {1111111109, "081804"}, {1234567890, "005924"}, {2000000000, "279037"}} {
		if got, err := totpCode(secret, tc.unix/30); err != nil || got != tc.want {
			t.Errorf("at %d: got %q, %v; want %q", tc.unix, got, err, tc.want)
		}
	}
}

func TestNextTOTPNeverRepeatsAStep(t *testing.T) {
	now := time.Now().Unix() / 30
	last := now // the current step was just used
	if _, err := nextTOTP(context.Background(), "GEZDGNBVGY3TQOJQ", &last); err != nil || last != now+1 {
		t.Errorf("got step %d, %v; want the next step %d", last, err, now+1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := nextTOTP(ctx, "GEZDGNBVGY3TQOJQ", &last); err == nil && last > time.Now().Unix()/30+1 {
		t.Errorf("used step %d, beyond the next one", last)
	}
}
