//go:build wardline_slowdisk

package sqlite

import (
	"context"
	"testing"
	"time"

	"wardline"
)

// In the diagnostic build, every commit's sync of the WAL takes at least syncFloor, so no commit
// is faster: the load generator's figures on that build are those of a disk that syncs at most
// about 950 times a second.
func TestSyncFloor(t *testing.T) {
	s := mustOpen(t)
	var commits []time.Duration
	s.CommitObserver = func(d time.Duration) { commits = append(commits, d) }
	ctx := context.Background()
	for i := range 5 {
		err := s.Update(ctx, func(tx wardline.Tx) error {
			q := tx.(*txn).db
			if i == 0 {
				_, err := q.exec(ctx, `CREATE TABLE floor_probe (k INTEGER PRIMARY KEY)`)
				return err
			}
			_, err := q.exec(ctx, `INSERT INTO floor_probe (k) VALUES (?)`, i)
			return err
		})
		if err != nil {
			t.Fatalf("Update %d: %v", i, err)
		}
	}
	if len(commits) != 5 {
		t.Fatalf("observed %d commits, want 5", len(commits))
	}
	for i, d := range commits {
		if d < syncFloor {
			t.Errorf("commit %d took %v, under the floor %v", i, d, syncFloor)
		}
	}
}
