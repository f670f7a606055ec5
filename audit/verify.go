package audit

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"wardline"
)

// Entry is one stored audit entry: the event and the leaf hash the store recorded when it was
// appended (nil if the store keeps none).
type Entry struct {
	Event          *wardline.AuditEvent
	StoredLeafHash []byte
}

// EntryIterator yields a log's entries in stored order. Next returns io.EOF after the last one.
type EntryIterator interface {
	Next() (Entry, error)
}

// SliceIterator yields the entries of a slice.
type SliceIterator struct {
	Entries []Entry
}

// Next returns the next entry of the slice, or io.EOF.
func (it *SliceIterator) Next() (Entry, error) {
	if len(it.Entries) == 0 {
		return Entry{}, io.EOF
	}
	e := it.Entries[0]
	it.Entries = it.Entries[1:]
	return e, nil
}

// Result is what Verify checked.
type Result struct {
	Entries     int    // entries read
	Checkpoints int    // checkpoints whose signature and root were verified
	Covered     uint64 // entries covered by the largest verified checkpoint; later ones are unanchored
	Root        []byte // root of the tree of every entry read
}

// VerifyError names the first thing found wrong with a log: an entry (by Seq) and, where one is
// involved, the checkpoint that revealed it.
type VerifyError struct {
	Seq        int64       // first bad entry; 0 when the fault lies in a checkpoint alone
	Checkpoint *Checkpoint // the checkpoint involved, if any
	Reason     string
}

func (e *VerifyError) Error() string {
	if e.Seq == 0 && e.Checkpoint != nil {
		return fmt.Sprintf("checkpoint at size %d (%s): %s",
			e.Checkpoint.Size, e.Checkpoint.Time.Format(timeLayout), e.Reason)
	}
	return fmt.Sprintf("entry %d: %s", e.Seq, e.Reason)
}

// Verify reads every entry of a log and checks that the log is complete and unaltered:
//
//   - seqs run 1, 2, 3... with no gap (a deleted entry), duplicate (an inserted one) or
//     step back (reordered entries);
//   - each entry's recomputed leaf hash equals the stored one, where the store keeps one;
//   - every checkpoint is signed by pub, all name one origin, and none taken later covers fewer
//     entries than one taken earlier (the log was rolled back);
//   - the tree of the entries has each checkpoint's root at its size, and no checkpoint covers
//     more entries than the log holds (a truncated tail).
//
// It returns the first fault as a *VerifyError naming the entry. When only a checkpoint root
// reveals the change (the stored leaf hashes were rewritten to match), the fault lies somewhere
// between the previous good checkpoint and that one, and Verify names the first entry after the
// previous good checkpoint: frequent checkpoints narrow the search. Other errors come from
// reading entries. Verify holds only the compact range in memory, whatever the log's length.
func Verify(ctx context.Context, entries EntryIterator, checkpoints []*Checkpoint, pub ed25519.PublicKey) (Result, error) {
	var res Result
	cps, err := checkCheckpoints(checkpoints, pub)
	if err != nil {
		return res, err
	}

	var (
		tree     = NewTree()
		want     = int64(1) // the seq the next entry must have
		goodSize uint64     // size of the last checkpoint the tree matched
		buf      = make([]byte, 0, 512)
		h        = sha256.New()
	)
	// checkRoots compares the tree with the checkpoints at its current size.
	checkRoots := func() error {
		for len(cps) > 0 && cps[0].Size == tree.Size() {
			c := cps[0]
			if !bytes.Equal(tree.Root(), c.Root) {
				return &VerifyError{Seq: int64(goodSize) + 1, Checkpoint: c, Reason: fmt.Sprintf(
					"altered (tree root at size %d differs from the signed checkpoint; the change lies in entries %d..%d)",
					c.Size, goodSize+1, c.Size)}
			}
			goodSize = c.Size
			res.Checkpoints++
			res.Covered = c.Size
			cps = cps[1:]
		}
		return nil
	}
	if err := checkRoots(); err != nil {
		return res, err
	}
	for {
		if res.Entries%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return res, err
			}
		}
		ent, err := entries.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return res, fmt.Errorf("audit: reading entry after %d: %w", want-1, err)
		}
		e := ent.Event
		if e == nil {
			return res, &VerifyError{Seq: want, Reason: "unreadable (no event)"}
		}
		switch {
		case e.Seq == want:
		case e.Seq < 1:
			return res, &VerifyError{Seq: want, Reason: fmt.Sprintf("stored with invalid seq %d", e.Seq)}
		case e.Seq > want:
			// A gap: entry want is either missing or stored further on. One step of lookahead
			// tells a swap of neighbours from a deletion.
			next, err := entries.Next()
			if err == nil && next.Event != nil && next.Event.Seq == want {
				return res, &VerifyError{Seq: want, Reason: fmt.Sprintf("out of order (stored after entry %d)", e.Seq)}
			} else if err != nil && !errors.Is(err, io.EOF) {
				return res, fmt.Errorf("audit: reading entry after %d: %w", e.Seq, err)
			}
			return res, &VerifyError{Seq: want, Reason: fmt.Sprintf("missing (deleted or moved; the next stored entry is %d)", e.Seq)}
		case e.Seq == want-1:
			return res, &VerifyError{Seq: e.Seq, Reason: "duplicated (an entry was inserted with the same seq)"}
		default:
			return res, &VerifyError{Seq: e.Seq, Reason: fmt.Sprintf("out of order (stored after entry %d)", want-1)}
		}

		buf = appendLeafData(buf[:0], e)
		h.Reset()
		h.Write([]byte{0}) // RFC 6962 leaf prefix
		h.Write(buf)
		leaf := h.Sum(make([]byte, 0, HashSize))
		if ent.StoredLeafHash != nil && !bytes.Equal(leaf, ent.StoredLeafHash) {
			return res, misplaced(e, ent.StoredLeafHash)
		}
		if err := tree.r.Append(leaf, nil); err != nil {
			return res, err
		}
		res.Entries++
		want++
		if err := checkRoots(); err != nil {
			return res, err
		}
	}
	res.Root = tree.Root()
	if len(cps) > 0 {
		c := cps[len(cps)-1]
		return res, &VerifyError{Seq: want, Checkpoint: c, Reason: fmt.Sprintf(
			"missing (the log ends at entry %d but a signed checkpoint covers %d entries: truncated)", want-1, c.Size)}
	}
	return res, nil
}

// checkCheckpoints verifies each checkpoint's signature and that they agree with one another,
// and returns them sorted by size.
func checkCheckpoints(checkpoints []*Checkpoint, pub ed25519.PublicKey) ([]*Checkpoint, error) {
	for _, c := range checkpoints {
		if err := VerifyCheckpoint(pub, c); err != nil {
			return nil, &VerifyError{Checkpoint: c, Reason: strings.TrimPrefix(err.Error(), "audit: ")}
		}
		if c.Origin != checkpoints[0].Origin {
			return nil, &VerifyError{Checkpoint: c, Reason: fmt.Sprintf(
				"names log %q, but the first checkpoint names %q", c.Origin, checkpoints[0].Origin)}
		}
	}
	// In the order they were made, sizes never fall: a log only grows.
	byTime := slices.Clone(checkpoints)
	slices.SortStableFunc(byTime, func(a, b *Checkpoint) int { return a.Time.Compare(b.Time) })
	for i := 1; i < len(byTime); i++ {
		if prev, c := byTime[i-1], byTime[i]; c.Size < prev.Size {
			return nil, &VerifyError{Checkpoint: c, Reason: fmt.Sprintf(
				"covers %d entries, fewer than the %d of the earlier checkpoint made %s: the log was rolled back",
				c.Size, prev.Size, prev.Time.Format(timeLayout))}
		}
	}
	bySize := slices.Clone(checkpoints)
	slices.SortStableFunc(bySize, func(a, b *Checkpoint) int { return cmp.Compare(a.Size, b.Size) })
	for i := 1; i < len(bySize); i++ {
		if prev, c := bySize[i-1], bySize[i]; c.Size == prev.Size && !bytes.Equal(c.Root, prev.Root) {
			return nil, &VerifyError{Checkpoint: c,
				Reason: "root differs from another signed checkpoint of the same size: the log forked"}
		}
	}
	return bySize, nil
}

// misplaced explains a leaf hash mismatch. In a store whose rows carry their seq, entries cannot
// be reordered or inserted without renumbering, and a renumbered entry keeps the hash of its old
// place: the stored hash then matches the entry at a neighbouring seq, which says what happened.
func misplaced(e *wardline.AuditEvent, stored []byte) *VerifyError {
	at := func(seq int64) []byte {
		c := *e
		c.Seq = seq
		return LeafHash(&c)
	}
	switch {
	case bytes.Equal(at(e.Seq+1), stored):
		return &VerifyError{Seq: e.Seq, Reason: fmt.Sprintf(
			"out of place (its stored hash is that of entry %d: entries were reordered, or one before it was deleted and the rest renumbered)", e.Seq+1)}
	case e.Seq > 1 && bytes.Equal(at(e.Seq-1), stored):
		return &VerifyError{Seq: e.Seq - 1, Reason: fmt.Sprintf(
			"inserted (the entries after it were renumbered to make room: entry %d holds the stored hash of entry %d)", e.Seq, e.Seq-1)}
	}
	return &VerifyError{Seq: e.Seq, Reason: "altered (leaf hash mismatch)"}
}
