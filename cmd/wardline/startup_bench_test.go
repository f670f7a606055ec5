package main

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// BenchmarkStartToReady measures DESIGN.md's "start to ready in < 1 s on an empty data
// directory": from starting `wardline serve` on a new, empty data directory (its master key made,
// the database created and migrated) to the first 200 from /readyz. It reports the median in
// ms-to-ready (ns/op also counts stopping the process).
//
//	go test ./cmd/wardline -run '^$' -bench StartToReady -benchtime 20x
func BenchmarkStartToReady(b *testing.B) {
	if _, err := buildBinary(); err != nil {
		b.Fatal(err)
	}
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		p := startProcess(b, b.TempDir())
		if !waitReady(p.url, http.StatusOK, 20*time.Second, time.Millisecond) {
			b.Fatalf("not ready after %v", time.Since(start))
		}
		took = append(took, time.Since(start))
		p.cmd.Process.Kill()
		p.wait()
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2])/1e6, "ms-to-ready")
	b.ReportMetric(float64(took[len(took)-1])/1e6, "max-ms-to-ready")
}
