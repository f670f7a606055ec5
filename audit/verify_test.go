package audit

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"wardline"
)

func verify(entries []Entry, cps []*Checkpoint, pub []byte) (Result, error) {
	return Verify(context.Background(), &SliceIterator{Entries: entries}, cps, pub)
}

func TestVerify_OK(t *testing.T) {
	pub, priv := testKey("log")
	log := testLog(100)
	cps := checkpointsAt(t, log, priv, 0, 1, 50, 64, 64, 90)

	res, err := verify(log, cps, pub)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if res.Entries != 100 || res.Checkpoints != 6 || res.Covered != 90 {
		t.Errorf("Result = %+v, want 100 entries, 6 checkpoints, 90 covered", res)
	}
	if got, want := res.Root, checkpointsAt(t, log, priv, 100)[0].Root; string(got) != string(want) {
		t.Errorf("Root = %x, want %x", got, want)
	}

	t.Run("NoStoredHashes", func(t *testing.T) {
		bare := slices.Clone(log)
		for i := range bare {
			bare[i].StoredLeafHash = nil
		}
		if _, err := verify(bare, cps, pub); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("CheckpointsInAnyOrder", func(t *testing.T) {
		shuffled := []*Checkpoint{cps[3], cps[0], cps[5], cps[1], cps[4], cps[2]}
		if _, err := verify(log, shuffled, pub); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		res, err := verify(nil, checkpointsAt(t, nil, priv, 0), pub)
		if err != nil || res.Entries != 0 || res.Checkpoints != 1 {
			t.Fatalf("Verify of an empty log = %+v, %v", res, err)
		}
	})
}

func TestVerifyError_Message(t *testing.T) {
	err := error(&VerifyError{Seq: 42, Reason: "altered (leaf hash mismatch)"})
	if got, want := err.Error(), "entry 42: altered (leaf hash mismatch)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestVerify_Tampered makes each kind of change an attacker with write access to the database
// might make, and checks that Verify names the entry (or checkpoint) the change begins at.
func TestVerify_Tampered(t *testing.T) {
	const n, k = 200, 77
	pub, priv := testKey("log")
	_, otherPriv := testKey("attacker")

	rehash := func(log []Entry) { // rewrite stored hashes to match, as a careful attacker would
		for i := range log {
			log[i].StoredLeafHash = LeafHash(log[i].Event)
		}
	}
	renumber := func(log []Entry) {
		for i := range log {
			e := *log[i].Event
			e.Seq = int64(i + 1)
			log[i].Event = &e
		}
	}
	alter := func(log []Entry, seq int) {
		e := *log[seq-1].Event
		e.ActorID = "someone-else"
		log[seq-1].Event = &e
	}

	tests := []struct {
		name       string
		sizes      []int // checkpoint sizes, ascending
		tamper     func(log []Entry, cps []*Checkpoint) ([]Entry, []*Checkpoint)
		seq        int64  // the entry the error must name; 0 for a checkpoint
		reason     string // a word the reason must hold
		checkpoint uint64 // size of the checkpoint it must name, when seq is 0
	}{
		{"AlteredField", []int{100, 200}, func(log []Entry, cps []*Checkpoint) ([]Entry, []*Checkpoint) {
			alter(log, k)
			return log, cps
		}, k, "leaf hash mismatch", 0},
		{"AlteredStoredHash", []int{100, 200}, func(log []Entry, cps []*Checkpoint) ([]Entry, []*Checkpoint) {
			log[k-1].StoredLeafHash = LeafHash(testEvent(9999))
			return log, cps
		}, k, "leaf hash mismatch", 0},
		{"AlteredAndRehashed", []int{k - 1, 150}, func(log []Entry, cps []*Checkpoint) ([]Entry, []*Checkpoint) {
			alter(log, k)
			rehash(log)
			return log, cps
		}, k, "tree root", 0},
		{"AlteredWithoutStoredHashes", []int{10, k - 1, 150, 200}, func(log []Entry, cps []*Checkpoint) ([]Entry, []*Checkpoint) {
			alter(log, k)
			for i := range log {
				log[i].StoredLeafHash = nil
			}
			return log, cps
		}, k, "tree root", 0},
		{"Deleted", []int{100}, func(log []Entry, cps []*Checkpoint) ([]Entry, []*Checkpoint) {
			return slices.Delete(log, k-1, k), cps
		}, k, "missing", 0},
		{"DeletedAndRenumbered", []int{k - 1, 150}, func(log []Entry, cps []*Checkpoint) ([]Entry, []*Checkpoint) {
			log = slices.Delete(log, k-1, k)
			renumber(log)
			rehash(log)
			return log, cps
		}, k, "tree root", 0},
		{"InsertedDuplicateSeq", []int{100}, func(log []Entry, cps []*Checkpoint) ([]Entry, []*Checkpoint) {
			fake := testEvent(k)
			fake.Action = wardline.ActionUserReinstated
			return slices.Insert(log, k, Entry{Event: fake, StoredLeafHash: LeafHash(fake)}), cps
		}, k, "duplicated", 0},
		{"InsertedAndRenumbered", []int{k - 1, 150}, func(log []Entry, cps []*Checkpoint) ([]Entry, []*Checkpoint) {
			log = slices.Insert(log, k-1, Entry{Event: testEvent(0)})
			renumber(log)
			rehash(log)
			return log, cps
		}, k, "tree root", 0},
		{"InsertedAtTheEnd", []int{n}, func(log []Entry, cps []*Checkpoint) ([]Entry, []*Checkpoint) {
			// An entry appended after the last checkpoint is indistinguishable from a real one,
			// but one given an old seq is not.
			return append(log, Entry{Event: testEvent(k)}), cps
		}, k, "out of order", 0},
		{"Swapped", []int{100}, func(log []Entry, cps []*Checkpoint) ([]Entry, []*Checkpoint) {
			log[k-1], log[k] = log[k], log[k-1]
			return log, cps
		}, k, "out of order", 0},
		{"SwappedAndRenumbered", []int{k - 1, 100}, func(log []Entry, cps []*Checkpoint) ([]Entry, []*Checkpoint) {
			log[k-1], log[k] = log[k], log[k-1]
			renumber(log)
			rehash(log)
			return log, cps
		}, k, "tree root", 0},
		{"MovedFurther", []int{100}, func(log []Entry, cps []*Checkpoint) ([]Entry, []*Checkpoint) {
			moved := log[k-1]
			log = slices.Delete(log, k-1, k)
			return slices.Insert(log, k+5, moved), cps
		}, k, "missing", 0},
		{"SeqZero", []int{100}, func(log []Entry, cps []*Checkpoint) ([]Entry, []*Checkpoint) {
			e := *log[0].Event
			e.Seq = 0
			log[0].Event = &e
			return log, cps
		}, 1, "invalid seq", 0},
		{"Truncated", []int{50, 150}, func(log []Entry, cps []*Checkpoint) ([]Entry, []*Checkpoint) {
			return log[:k-1], cps
		}, k, "truncated", 0},
		{"TruncatedEverything", []int{50}, func(log []Entry, cps []*Checkpoint) ([]Entry, []*Checkpoint) {
			return nil, cps
		}, 1, "truncated", 0},
		{"CheckpointAltered", []int{50, 150}, func(log []Entry, cps []*Checkpoint) ([]Entry, []*Checkpoint) {
			cps[1].Size = 151
			return log, cps
		}, 0, "signature", 151},
		{"CheckpointForged", []int{50, 150}, func(log []Entry, cps []*Checkpoint) ([]Entry, []*Checkpoint) {
			_ = SignCheckpoint(otherPriv, cps[1])
			return log, cps
		}, 0, "signed by key", 150},
		{"CheckpointForgedWithCopiedKeyID", []int{50, 150}, func(log []Entry, cps []*Checkpoint) ([]Entry, []*Checkpoint) {
			keyID := cps[1].KeyID
			_ = SignCheckpoint(otherPriv, cps[1])
			cps[1].KeyID = keyID
			return log, cps
		}, 0, "signature", 150},
		{"LogRolledBack", []int{50, 150}, func(log []Entry, cps []*Checkpoint) ([]Entry, []*Checkpoint) {
			// The server, or a thief of its key, signs a smaller log after a larger one.
			c := checkpointsAt(t, log, priv, 100)[0]
			c.Time = cps[1].Time.Add(time.Hour)
			_ = SignCheckpoint(priv, c)
			return log, append(cps, c)
		}, 0, "rolled back", 100},
		{"LogForked", []int{50, 150}, func(log []Entry, cps []*Checkpoint) ([]Entry, []*Checkpoint) {
			c := *cps[1]
			c.Root = LeafHash(testEvent(1))
			c.Time = c.Time.Add(time.Hour)
			_ = SignCheckpoint(priv, &c)
			return log, append(cps, &c)
		}, 0, "forked", 150},
		{"CheckpointOfAnotherLog", []int{50, 150}, func(log []Entry, cps []*Checkpoint) ([]Entry, []*Checkpoint) {
			cps[1].Origin = "elsewhere.test/audit"
			_ = SignCheckpoint(priv, cps[1])
			return log, cps
		}, 0, "names log", 150},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, cps := tt.tamper(testLog(n), checkpointsAt(t, testLog(n), priv, tt.sizes...))
			_, err := verify(log, cps, pub)
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("Verify = %v, want a *VerifyError", err)
			}
			if ve.Seq != tt.seq || !strings.Contains(ve.Reason, tt.reason) {
				t.Fatalf("Verify = %q, want entry %d and %q", err, tt.seq, tt.reason)
			}
			if tt.seq == 0 && (ve.Checkpoint == nil || ve.Checkpoint.Size != tt.checkpoint ||
				!strings.HasPrefix(err.Error(), "checkpoint at size ")) {
				t.Fatalf("Verify = %q, want it to name the checkpoint at size %d", err, tt.checkpoint)
			}
			if tt.seq != 0 && !strings.HasPrefix(err.Error(), "entry ") {
				t.Fatalf("Verify = %q, want it to begin by naming the entry", err)
			}
		})
	}
}

type failingIterator struct{ after int }

func (it *failingIterator) Next() (Entry, error) {
	if it.after == 0 {
		return Entry{}, errors.New("disk on fire")
	}
	it.after--
	return Entry{Event: testEvent(int64(100 - it.after))}, nil
}

func TestVerify_ReadError(t *testing.T) {
	pub, _ := testKey("log")
	_, err := Verify(context.Background(), &failingIterator{after: 0}, nil, pub)
	var ve *VerifyError
	if err == nil || errors.As(err, &ve) || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("Verify = %v, want the read error and no *VerifyError", err)
	}
}

func TestVerify_Cancelled(t *testing.T) {
	pub, _ := testKey("log")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Verify(ctx, &SliceIterator{Entries: testLog(10)}, nil, pub); !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify = %v, want context.Canceled", err)
	}
}

// syntheticLog yields entries 1..n from one reused event, as a database cursor scanning into
// one struct would, with stored hashes computed beforehand.
type syntheticLog struct {
	hashes [][]byte
	e      wardline.AuditEvent
	next   int
}

func (s *syntheticLog) Next() (Entry, error) {
	if s.next == len(s.hashes) {
		return Entry{}, io.EOF
	}
	s.next++
	setSynthetic(&s.e, s.next)
	return Entry{Event: &s.e, StoredLeafHash: s.hashes[s.next-1]}, nil
}

func setSynthetic(e *wardline.AuditEvent, seq int) {
	if e.ID == "" {
		*e = *testEvent(1)
	}
	e.Seq = int64(seq)
	e.At = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(seq) * time.Millisecond)
	e.Detail["seq"] = seq
}

var benchLog struct {
	once   sync.Once
	hashes [][]byte
	cps    []*Checkpoint
}

func BenchmarkVerify(b *testing.B) {
	const n = 1_000_000
	pub, priv := testKey("log")
	benchLog.once.Do(func() {
		var e wardline.AuditEvent
		tree := NewTree()
		for i := 1; i <= n; i++ {
			setSynthetic(&e, i)
			h := LeafHash(&e)
			benchLog.hashes = append(benchLog.hashes, h)
			_ = tree.Append(h)
			if i%10_000 == 0 { // a checkpoint every 10,000 entries
				c := &Checkpoint{Origin: testOrigin, Size: uint64(i), Root: tree.Root(), Time: e.At}
				_ = SignCheckpoint(priv, c)
				benchLog.cps = append(benchLog.cps, c)
			}
		}
	})
	b.ResetTimer()
	for b.Loop() {
		res, err := Verify(context.Background(), &syntheticLog{hashes: benchLog.hashes}, benchLog.cps, pub)
		if err != nil || res.Entries != n || res.Checkpoints != n/10_000 {
			b.Fatalf("Verify = %+v, %v", res, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
}
