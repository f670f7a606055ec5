package main

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// storeStats is what the load generator reads of the store from the servers' /metrics, summed
// over nodes: Update calls and transactions (the group-commit histogram), and the times a
// SQLite WAL was made to start over (each a pause of every write).
type storeStats struct {
	calls, commits, walRestarts float64
	// The server's own view of the latency, from two of its histograms: message POSTs answered
	// 201 (all, and within 20 ms) and frames written to streams (all, and within 10 ms of their
	// event's publish).
	sends, sendsIn20ms, frames, framesIn10ms float64
	// Where the server's writes spent their time, from the stores' per-write histograms: all
	// writes, those that waited under 5 ms for their group commit to begin, and those whose
	// group commit took under 10 ms.
	writes, writesQueuedIn5ms, writesBatchIn10ms float64
	// A SQLite server's COMMITs alone (WAL frames written and synced: mostly the disk): all, and
	// those that took over 20 ms.
	syncs, syncsIn20ms float64
}

// The histogram series storeStats.add reads: their buckets are cumulative, so the one at the
// bound counts everything at or under it.
const (
	sendSeries  = `wardline_http_request_duration_seconds_bucket{method="POST",route="POST /api/v1/conversations/{id}/messages",status="201",le=`
	frameSeries = `wardline_fanout_seconds_bucket{le=`
	queueSeries = `wardline_store_write_queued_seconds_bucket{le=`
	batchSeries = `wardline_store_write_batch_seconds_bucket{le=`
	syncSeries  = `wardline_store_commit_seconds_bucket{le=`
)

// add takes one line of the Prometheus text format into st; groupCommits reports that it was
// the group-commit histogram's, which tells that the server exposes the store's figures at all.
func (st *storeStats) add(line string) (groupCommits bool) {
	i := strings.LastIndexByte(line, ' ') // a label value may hold spaces (a route)
	if i < 0 {
		return false
	}
	name, val := line[:i], line[i+1:]
	v, err := strconv.ParseFloat(val, 64)
	if err != nil {
		return false
	}
	switch name {
	case "wardline_store_commit_batch_size_sum":
		st.calls += v
		return true
	case "wardline_store_commit_batch_size_count":
		st.commits += v
	case "wardline_store_wal_restarts_total":
		st.walRestarts += v
	case sendSeries + `"+Inf"}`:
		st.sends += v
	case sendSeries + `"0.02"}`:
		st.sendsIn20ms += v
	case frameSeries + `"+Inf"}`:
		st.frames += v
	case frameSeries + `"0.01"}`:
		st.framesIn10ms += v
	case queueSeries + `"+Inf"}`:
		st.writes += v
	case queueSeries + `"0.005"}`:
		st.writesQueuedIn5ms += v
	case batchSeries + `"0.01"}`:
		st.writesBatchIn10ms += v
	case syncSeries + `"+Inf"}`:
		st.syncs += v
	case syncSeries + `"0.02"}`:
		st.syncsIn20ms += v
	}
	return false
}

// commitStats reads storeStats from each node's Prometheus /metrics, when the server exposes
// one (ok).
func (b *Bench) commitStats() (st storeStats, ok bool) {
	for _, base := range b.cfg.URLs {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/metrics", nil)
		res, err := b.api.HTTP.Do(req)
		if err != nil {
			cancel()
			continue
		}
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if st.add(sc.Text()) {
				ok = true
			}
		}
		res.Body.Close()
		cancel()
	}
	return st, ok
}
