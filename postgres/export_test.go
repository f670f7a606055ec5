package postgres

import (
	"context"
	"time"

	"wardline"
)

// SetGatherBusy sets how recent the previous commit must be for the writer to gather (tests set
// more, so that a slow machine's pauses between writes do not count as quiet spells).
func SetGatherBusy(s *Store, d time.Duration) { s.gatherBusy.Store(int64(d)) }

// RunOneBatch runs fns as the requests of one batch transaction (as the writer does when they
// arrive together, trying the batch again as it does) and answers each one's error, and the
// batch's.
func RunOneBatch(s *Store, fns ...func(wardline.Tx) error) ([]error, error) {
	ctx := context.Background()
	batch := make([]*writeReq, len(fns))
	for i, fn := range fns {
		batch[i] = &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1), queued: time.Now()}
	}
	results, err := s.tryBatchAgain(ctx, batch, s.opts.LockTimeout)
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(results))
	for i, r := range results {
		errs[i] = r.err
	}
	return errs, nil
}

// ExecInTx runs sql on an Update's transaction (for a statement no query of the store has).
func ExecInTx(ctx context.Context, tx wardline.Tx, sql string, args ...any) error {
	_, err := tx.(*txn).db.Exec(ctx, sql, args...)
	return err
}
