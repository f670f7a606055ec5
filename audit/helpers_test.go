package audit

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"wardline"
)

const testOrigin = "wardline.test/audit"

// testEvent returns a plausible event with every field set.
func testEvent(seq int64) *wardline.AuditEvent {
	return &wardline.AuditEvent{
		Seq:            seq,
		ID:             fmt.Sprintf("0190a1b2-0000-7000-8000-%012d", seq),
		At:             time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(seq) * 1500 * time.Microsecond),
		OrgID:          "0190a1b2-0000-7000-8000-00000000000a",
		ActorID:        fmt.Sprintf("0190a1b2-0000-7000-8000-%012d", 1000+seq%7),
		SessionID:      "0190a1b2-0000-7000-8000-00000000000b",
		Addr:           "10.1.2.3",
		Action:         wardline.ActionMessageSent,
		TargetType:     "message",
		TargetID:       fmt.Sprintf("0190a1b2-0000-7000-8000-%012d", 5000+seq),
		ConversationID: "0190a1b2-0000-7000-8000-00000000000c",
		Outcome:        wardline.OutcomeSuccess,
		Justification:  "",
		Detail:         map[string]any{"seq": seq, "count": 1},
	}
}

// testLog is a log of n entries with stored leaf hashes.
func testLog(n int) []Entry {
	entries := make([]Entry, n)
	for i := range entries {
		e := testEvent(int64(i + 1))
		entries[i] = Entry{Event: e, StoredLeafHash: LeafHash(e)}
	}
	return entries
}

// testKey returns a deterministic key pair named by seed.
func testKey(seed string) (ed25519.PublicKey, ed25519.PrivateKey) {
	s := sha256.Sum256([]byte(seed))
	priv := ed25519.NewKeyFromSeed(s[:])
	return priv.Public().(ed25519.PublicKey), priv
}

// checkpointsAt signs checkpoints of entries at each of the given sizes.
func checkpointsAt(tb testing.TB, entries []Entry, priv ed25519.PrivateKey, sizes ...int) []*Checkpoint {
	tb.Helper()
	var cps []*Checkpoint
	tree := NewTree()
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, size := range sizes {
		for tree.Size() < uint64(size) {
			if err := tree.Append(LeafHash(entries[tree.Size()].Event)); err != nil {
				tb.Fatal(err)
			}
		}
		if tree.Size() != uint64(size) {
			tb.Fatalf("checkpoint sizes must ascend, got %v", sizes)
		}
		at = at.Add(time.Minute)
		c := &Checkpoint{Origin: testOrigin, Size: uint64(size), Root: tree.Root(), Time: at}
		if err := SignCheckpoint(priv, c); err != nil {
			tb.Fatal(err)
		}
		cps = append(cps, c)
	}
	return cps
}

// naiveRoot is RFC 6962's Merkle Tree Hash (section 2.1), written straight from the definition.
func naiveRoot(leaves [][]byte) []byte {
	switch n := len(leaves); n {
	case 0:
		s := sha256.Sum256(nil)
		return s[:]
	case 1:
		return leaves[0]
	default:
		k := 1
		for k*2 < n {
			k *= 2
		}
		s := sha256.Sum256(append(append([]byte{1}, naiveRoot(leaves[:k])...), naiveRoot(leaves[k:])...))
		return s[:]
	}
}

// naiveLeaf is RFC 6962's leaf hash: SHA-256(0x00 || data).
func naiveLeaf(data []byte) []byte {
	s := sha256.Sum256(append([]byte{0}, data...))
	return s[:]
}

func leafHashes(n int) [][]byte {
	hs := make([][]byte, n)
	for i := range hs {
		hs[i] = naiveLeaf(fmt.Appendf(nil, "leaf %d", i))
	}
	return hs
}
