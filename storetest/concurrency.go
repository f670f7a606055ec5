package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"wardline"
)

func testConcurrency(t *testing.T, open opener) {
	// Many senders into one conversation, as in a busy ward group: every committed message gets
	// its own seq and together they are 1..n with no gap (API.md "seq ... has no gaps").
	t.Run("NextSeq", func(t *testing.T) {
		t.Parallel()
		const senders, each = 16, 25
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)

		var wg sync.WaitGroup
		errs := make(chan error, senders*each)
		sent := make([][]*wardline.Message, senders)
		for g := range senders {
			wg.Go(func() {
				for i := range each {
					var m *wardline.Message
					err := s.Update(ctx, func(tx wardline.Tx) error {
						seq, err := tx.NextSeq(ctx, f.Conv.ID, at(g*100+i))
						if err != nil {
							return err
						}
						m = NewMessage(f.Conv.ID, f.Bob.ID, seq, at(g*100+i))
						return tx.InsertMessage(ctx, m)
					})
					if err != nil {
						errs <- fmt.Errorf("sender %d, message %d: %w", g, i, err)
						continue
					}
					sent[g] = append(sent[g], m)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("Update: %v", err)
		}

		got, more, err := s.Messages(ctx, f.Conv.ID, wardline.HistoryQuery{Forward: true, Limit: senders * each})
		if err != nil {
			t.Fatalf("Messages: %v", err)
		}
		if want := span(1, senders*each); !slices.Equal(seqs(got), want) || more {
			t.Errorf("seqs: got %d messages %v, more %v; want exactly 1..%d", len(got), seqs(got), more, senders*each)
		}
		stored := map[string]int64{}
		for _, m := range got {
			stored[m.ID] = m.Seq
		}
		for g := range sent {
			for _, m := range sent[g] {
				if seq, ok := stored[m.ID]; !ok || seq != m.Seq {
					t.Errorf("message %s of sender %d: stored at seq %d (found %v), want %d", m.ID, g, seq, ok, m.Seq)
				}
			}
		}
		if c := mustConversation(t, s, f.Conv.ID); c.LastSeq != senders*each {
			t.Errorf("LastSeq: got %d, want %d", c.LastSeq, senders*each)
		}
	})

	// Concurrent Updates that fail leave nothing behind and take nothing from the ones that
	// succeed, even when a store runs them in one database transaction.
	t.Run("FailuresIsolated", func(t *testing.T) {
		t.Parallel()
		const n = 40
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		errFail := errors.New("fail on purpose")

		var wg sync.WaitGroup
		results := make([]error, n)
		msgs := make([]*wardline.Message, n)
		for i := range n {
			wg.Go(func() {
				results[i] = s.Update(ctx, func(tx wardline.Tx) error {
					seq, err := tx.NextSeq(ctx, f.Conv.ID, at(i))
					if err != nil {
						return err
					}
					msgs[i] = NewMessage(f.Conv.ID, f.Bob.ID, seq, at(i))
					if err := tx.InsertMessage(ctx, msgs[i]); err != nil {
						return err
					}
					if err := tx.AppendAudit(ctx, NewAuditEvent(f.Org.ID, f.Bob.ID, wardline.ActionMessageSent, at(i))); err != nil {
						return err
					}
					if i%2 == 1 {
						return errFail
					}
					return nil
				})
			})
		}
		wg.Wait()

		committed := 0
		for i, err := range results {
			switch {
			case i%2 == 1 && !errors.Is(err, errFail):
				t.Errorf("Update %d: got %v, want its fn's error", i, err)
			case i%2 == 0 && err != nil:
				t.Errorf("Update %d: %v", i, err)
			case i%2 == 0:
				committed++
			}
		}
		got, _, err := s.Messages(ctx, f.Conv.ID, wardline.HistoryQuery{Forward: true, Limit: n})
		if err != nil {
			t.Fatalf("Messages: %v", err)
		}
		if want := span(1, int64(committed)); !slices.Equal(seqs(got), want) {
			t.Errorf("seqs: got %v, want %v", seqs(got), want)
		}
		stored := map[string]bool{}
		for _, m := range got {
			stored[m.ID] = true
		}
		for i, m := range msgs {
			if m != nil && stored[m.ID] != (i%2 == 0) {
				t.Errorf("message of Update %d stored: got %v, want %v", i, stored[m.ID], i%2 == 0)
			}
		}
		events, err := s.AuditEvents(ctx, wardline.AuditFilter{OrgID: f.Org.ID})
		if err != nil {
			t.Fatalf("AuditEvents: %v", err)
		}
		if want := span(1, int64(committed)); !slices.Equal(auditSeqs(events), want) {
			t.Errorf("audit seqs: got %v, want %v", auditSeqs(events), want)
		}
	})
}
