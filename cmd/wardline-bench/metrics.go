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
			name, val, found := strings.Cut(sc.Text(), " ")
			if !found {
				continue
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
			if err != nil {
				continue
			}
			switch name {
			case "wardline_store_commit_batch_size_sum":
				st.calls += v
				ok = true
			case "wardline_store_commit_batch_size_count":
				st.commits += v
			case "wardline_store_wal_restarts_total":
				st.walRestarts += v
			}
		}
		res.Body.Close()
		cancel()
	}
	return st, ok
}
