package main

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// commitStats reads the group-commit histogram from each node's Prometheus /metrics, when the
// server exposes one: how many Update calls and how many transactions so far, summed over nodes.
func (b *Bench) commitStats() (calls, commits float64, ok bool) {
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
				calls += v
				ok = true
			case "wardline_store_commit_batch_size_count":
				commits += v
			}
		}
		res.Body.Close()
		cancel()
	}
	return calls, commits, ok
}
