package audit

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"testing"
)

func flipped(p [][]byte, i int) [][]byte {
	out := make([][]byte, len(p))
	copy(out, p)
	out[i] = bytes.Clone(p[i])
	out[i][0] ^= 1
	return out
}

func TestInclusionProof(t *testing.T) {
	ctx := context.Background()
	leaves := leafHashes(40)
	read := LeafHashSlice(leaves)
	for size := uint64(1); size <= uint64(len(leaves)); size++ {
		root := naiveRoot(leaves[:size])
		for index := range size {
			p, err := InclusionProof(ctx, read, index, size)
			if err != nil {
				t.Fatalf("InclusionProof(%d, %d): %v", index, size, err)
			}
			if err := VerifyInclusion(leaves[index], index, size, p, root); err != nil {
				t.Fatalf("VerifyInclusion(%d, %d): %v", index, size, err)
			}
			for i := range p {
				if VerifyInclusion(leaves[index], index, size, flipped(p, i), root) == nil {
					t.Fatalf("(%d, %d): proof with element %d altered verified", index, size, i)
				}
			}
			if VerifyInclusion(leaves[(index+1)%size], index, size, p, root) == nil && size > 1 {
				t.Fatalf("(%d, %d): proof verified for another leaf", index, size)
			}
			if VerifyInclusion(leaves[index], index, size, p, naiveRoot(leaves[:size-1])) == nil && size > 1 {
				t.Fatalf("(%d, %d): proof verified against another root", index, size)
			}
		}
	}
}

func TestConsistencyProof(t *testing.T) {
	ctx := context.Background()
	leaves := leafHashes(40)
	read := LeafHashSlice(leaves)
	for size2 := uint64(1); size2 <= uint64(len(leaves)); size2++ {
		root2 := naiveRoot(leaves[:size2])
		for size1 := uint64(1); size1 <= size2; size1++ {
			root1 := naiveRoot(leaves[:size1])
			p, err := ConsistencyProof(ctx, read, size1, size2)
			if err != nil {
				t.Fatalf("ConsistencyProof(%d, %d): %v", size1, size2, err)
			}
			if err := VerifyConsistency(size1, size2, p, root1, root2); err != nil {
				t.Fatalf("VerifyConsistency(%d, %d): %v", size1, size2, err)
			}
			for i := range p {
				if VerifyConsistency(size1, size2, flipped(p, i), root1, root2) == nil {
					t.Fatalf("(%d, %d): proof with element %d altered verified", size1, size2, i)
				}
			}
			if size1 < size2 {
				// A log that rewrote its first entry cannot prove it only grew.
				forked := append([][]byte{naiveLeaf([]byte("forged"))}, leaves[1:size2]...)
				if VerifyConsistency(size1, size2, p, root1, naiveRoot(forked)) == nil {
					t.Fatalf("(%d, %d): proof verified against a forked tree", size1, size2)
				}
			}
		}
	}
}

// TestProofs_Large crosses NodeHash's read batches and checks proofs against a Tree.
func TestProofs_Large(t *testing.T) {
	ctx := context.Background()
	leaves := leafHashes(10_000)
	var reads int
	read := func(ctx context.Context, begin, end uint64) ([][]byte, error) {
		reads += int(end - begin)
		return LeafHashSlice(leaves)(ctx, begin, end)
	}
	roots := map[uint64][]byte{}
	tree := NewTree()
	for _, l := range leaves {
		_ = tree.Append(l)
		roots[tree.Size()] = tree.Root()
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		size2 := 1 + rng.Uint64N(uint64(len(leaves)))
		size1 := 1 + rng.Uint64N(size2)
		index := rng.Uint64N(size2)
		reads = 0
		p, err := InclusionProof(ctx, read, index, size2)
		if err != nil {
			t.Fatal(err)
		}
		if reads > int(size2) {
			t.Errorf("inclusion proof in a tree of %d read %d leaves", size2, reads)
		}
		if err := VerifyInclusion(leaves[index], index, size2, p, roots[size2]); err != nil {
			t.Fatalf("VerifyInclusion(%d, %d): %v", index, size2, err)
		}
		p, err = ConsistencyProof(ctx, read, size1, size2)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyConsistency(size1, size2, p, roots[size1], roots[size2]); err != nil {
			t.Fatalf("VerifyConsistency(%d, %d): %v", size1, size2, err)
		}
	}
}

func TestProofs_BadInput(t *testing.T) {
	ctx := context.Background()
	read := LeafHashSlice(leafHashes(10))
	if _, err := InclusionProof(ctx, read, 10, 10); err == nil {
		t.Error("InclusionProof of a leaf beyond the tree succeeded")
	}
	if _, err := ConsistencyProof(ctx, read, 5, 4); err == nil {
		t.Error("ConsistencyProof from a larger to a smaller tree succeeded")
	}
	if _, err := InclusionProof(ctx, read, 3, 11); err == nil {
		t.Error("InclusionProof in a tree larger than the leaves held succeeded")
	}
	short := func(context.Context, uint64, uint64) ([][]byte, error) { return leafHashes(1), nil }
	if _, err := InclusionProof(ctx, short, 0, 8); err == nil {
		t.Error("InclusionProof with a reader returning too few hashes succeeded")
	}
	failing := func(context.Context, uint64, uint64) ([][]byte, error) { return nil, errors.New("db gone") }
	if _, err := ConsistencyProof(ctx, failing, 3, 8); err == nil {
		t.Error("ConsistencyProof with a failing reader succeeded")
	}
}
