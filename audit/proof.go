package audit

import (
	"context"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
)

// LeafHashReader returns the leaf hashes of leaves [begin, end) in order. Leaf i is the entry
// with Seq i+1; a server reads them from its stored leaf hashes.
type LeafHashReader func(ctx context.Context, begin, end uint64) ([][]byte, error)

// LeafHashSlice is a LeafHashReader over leaf hashes held in memory.
func LeafHashSlice(hashes [][]byte) LeafHashReader {
	return func(_ context.Context, begin, end uint64) ([][]byte, error) {
		if begin > end || end > uint64(len(hashes)) {
			return nil, fmt.Errorf("audit: leaves [%d, %d) are beyond the %d held", begin, end, len(hashes))
		}
		return hashes[begin:end], nil
	}
}

// readBatch is how many leaf hashes NodeHash asks for at a time.
const readBatch = 4096

// NodeHash returns the hash of a node of the tree (the root of a perfect subtree) by reading
// and hashing every leaf beneath it: O(2^level) work. Proofs need a few such nodes whose
// subtrees do not overlap, so a proof costs at most one read of each leaf of the tree. A cache
// of node hashes (tiles) would make it O(log n); this is simple and enough for now.
func NodeHash(ctx context.Context, leaves LeafHashReader, id compact.NodeID) ([]byte, error) {
	begin, end := id.Coverage()
	r := rangeFactory.NewEmptyRange(begin)
	for b := begin; b < end; b += readBatch {
		e := min(b+readBatch, end)
		hs, err := leaves(ctx, b, e)
		if err != nil {
			return nil, err
		}
		if uint64(len(hs)) != e-b {
			return nil, fmt.Errorf("audit: read %d leaf hashes of [%d, %d), want %d", len(hs), b, e, e-b)
		}
		for _, h := range hs {
			if len(h) != HashSize {
				return nil, fmt.Errorf("audit: leaf hash is %d bytes, want %d", len(h), HashSize)
			}
			if err := r.Append(h, nil); err != nil {
				return nil, err
			}
		}
	}
	if got := r.Hashes(); len(got) == 1 {
		return append([]byte(nil), got[0]...), nil // not the reader's memory
	}
	return nil, fmt.Errorf("audit: node %d/%d did not hash to one subtree", id.Level, id.Index)
}

// InclusionProof returns the RFC 6962 proof that leaf index (the entry with Seq index+1) is in
// the tree of the first size leaves.
func InclusionProof(ctx context.Context, leaves LeafHashReader, index, size uint64) ([][]byte, error) {
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("audit: inclusion proof: %w", err)
	}
	return fetchProof(ctx, leaves, nodes)
}

// ConsistencyProof returns the RFC 6962 proof that the tree of size1 leaves is a prefix of the
// tree of size2 leaves: that the log only grew between two checkpoints.
func ConsistencyProof(ctx context.Context, leaves LeafHashReader, size1, size2 uint64) ([][]byte, error) {
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, fmt.Errorf("audit: consistency proof: %w", err)
	}
	return fetchProof(ctx, leaves, nodes)
}

func fetchProof(ctx context.Context, leaves LeafHashReader, nodes proof.Nodes) ([][]byte, error) {
	hashes := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		h, err := NodeHash(ctx, leaves, id)
		if err != nil {
			return nil, err
		}
		hashes[i] = h
	}
	return nodes.Rehash(hashes, hasher.HashChildren)
}

// VerifyInclusion checks an inclusion proof of the leaf with the given hash against the root
// of the tree of the given size.
func VerifyInclusion(leafHash []byte, index, size uint64, p [][]byte, root []byte) error {
	return proof.VerifyInclusion(hasher, index, size, leafHash, p, root)
}

// VerifyConsistency checks a consistency proof between two tree sizes and their roots.
func VerifyConsistency(size1, size2 uint64, p [][]byte, root1, root2 []byte) error {
	return proof.VerifyConsistency(hasher, size1, size2, p, root1, root2)
}
