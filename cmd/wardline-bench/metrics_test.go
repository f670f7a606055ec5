package main

import "testing"

// The load generator reads the server's group commits and its own view of the latency from
// /metrics lines as the server writes them (these are copied from a run).
func TestStoreStatsFromMetrics(t *testing.T) {
	var st storeStats
	counted := false
	for _, line := range []string{
		`# HELP wardline_fanout_seconds From an event's publish (on any node) to its frame written to a member's stream on this node.`,
		`wardline_fanout_seconds_bucket{le="0.005"} 219000`,
		`wardline_fanout_seconds_bucket{le="0.01"} 220158`,
		`wardline_fanout_seconds_bucket{le="+Inf"} 220720`,
		`wardline_http_request_duration_seconds_bucket{method="POST",route="POST /api/v1/conversations/{id}/messages",status="201",le="0.02"} 21417`,
		`wardline_http_request_duration_seconds_bucket{method="POST",route="POST /api/v1/conversations/{id}/messages",status="201",le="+Inf"} 22072`,
		`wardline_http_request_duration_seconds_bucket{method="POST",route="POST /api/v1/conversations/{id}/messages",status="409",le="+Inf"} 3`,
		`wardline_http_request_duration_seconds_bucket{method="GET",route="GET /api/v1/me",status="200",le="+Inf"} 9`,
		`wardline_store_commit_batch_size_sum 48000`,
		`wardline_store_commit_batch_size_count 12000`,
		`wardline_store_wal_restarts_total 2`,
		`wardline_store_write_queued_seconds_bucket{le="0.005"} 40000`,
		`wardline_store_write_queued_seconds_bucket{le="+Inf"} 48000`,
		`wardline_store_write_batch_seconds_bucket{le="0.005"} 30000`,
		`wardline_store_write_batch_seconds_bucket{le="0.01"} 47000`,
		`wardline_store_write_batch_seconds_bucket{le="+Inf"} 48000`,
		`wardline_store_commit_seconds_bucket{le="0.01"} 11900`,
		`wardline_store_commit_seconds_bucket{le="0.02"} 11990`,
		`wardline_store_commit_seconds_bucket{le="+Inf"} 12000`,
		`garbage`,
	} {
		if st.add(line) {
			counted = true
		}
	}
	want := storeStats{calls: 48000, commits: 12000, walRestarts: 2, sends: 22072, sendsIn20ms: 21417, frames: 220720, framesIn10ms: 220158,
		writes: 48000, writesQueuedIn5ms: 40000, writesBatchIn10ms: 47000, syncs: 12000, syncsIn20ms: 11990}
	if st != want || !counted {
		t.Errorf("read %+v (group commits seen: %v), want %+v", st, counted, want)
	}
}
