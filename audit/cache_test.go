package audit

import (
	"context"
	"slices"
	"testing"
)

// The cache answers exactly what the uncached proofs answer, for every size and index, and after
// the first proof it reads few leaves.
func TestNodeCache(t *testing.T) {
	ctx := context.Background()
	leaves := leafHashes(70)
	reads := 0
	read := func(ctx context.Context, begin, end uint64) ([][]byte, error) {
		reads += int(end - begin)
		return LeafHashSlice(leaves)(ctx, begin, end)
	}
	c := NewNodeCache(2)
	for size := uint64(1); size <= uint64(len(leaves)); size++ {
		for i := range size {
			want, _ := InclusionProof(ctx, LeafHashSlice(leaves), i, size)
			got, err := c.InclusionProof(ctx, read, i, size)
			if err != nil || !slices.EqualFunc(got, want, slices.Equal) {
				t.Fatalf("InclusionProof(%d, %d) differs: %v", i, size, err)
			}
			want, _ = ConsistencyProof(ctx, LeafHashSlice(leaves), i+1, size)
			got, err = c.ConsistencyProof(ctx, read, i+1, size)
			if err != nil || !slices.EqualFunc(got, want, slices.Equal) {
				t.Fatalf("ConsistencyProof(%d, %d) differs: %v", i+1, size, err)
			}
		}
	}
	reads = 0
	if _, err := c.ConsistencyProof(ctx, read, 3, 64); err != nil {
		t.Fatal(err)
	}
	if reads > 8 {
		t.Errorf("a proof over cached nodes read %d leaves", reads)
	}
}

// BenchmarkAppendEntry is what the store adds to each audit append for tamper evidence: the
// leaf hash of a typical message.sent entry and its append to the tree.
func BenchmarkAppendEntry(b *testing.B) {
	e := testEvent(1)
	tree := NewTree()
	b.ReportAllocs()
	for i := range b.N {
		e.Seq = int64(i + 1)
		if err := tree.Append(LeafHash(e)); err != nil {
			b.Fatal(err)
		}
	}
}
