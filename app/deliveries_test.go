package app

import (
	"testing"
	"time"
)

func TestFlushWaitSpacesFlushesUnderLoad(t *testing.T) {
	base := 250 * time.Millisecond
	for _, c := range []struct {
		n    int
		want time.Duration
	}{
		{0, base},
		{1, base},
		{flushLoad, base},
		{2 * flushLoad, 2 * base},
		{3 * flushLoad, 3 * base},
		{4 * flushLoad, 4 * base},
		{100 * flushLoad, 4 * base}, // never more than 4×base: a tick is at most a second late
	} {
		if got := flushWait(base, c.n); got != c.want {
			t.Errorf("flushWait(%v, %d) = %v, want %v", base, c.n, got, c.want)
		}
	}
}

// FlushChunkSize is flushChunkSize, for the external tests.
const FlushChunkSize = flushChunkSize
