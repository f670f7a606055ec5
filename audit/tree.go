package audit

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

// HashSize is the size of every leaf, node and root hash: SHA-256.
const HashSize = 32

var hasher = rfc6962.DefaultHasher

var rangeFactory = &compact.RangeFactory{Hash: hasher.HashChildren}

// Tree is the incremental state of the log's Merkle tree: the roots of the perfect subtrees that
// cover its leaves (a compact range), one hash per set bit of its size, so at most 64 hashes.
// A server keeps it in memory, appends each new entry's leaf hash, and persists it with
// MarshalBinary so that it can resume after a restart without reading the whole log again.
// The zero Tree is an empty tree. A Tree is not safe for concurrent use.
type Tree struct {
	r *compact.Range
}

// NewTree returns an empty tree.
func NewTree() *Tree { return &Tree{r: rangeFactory.NewEmptyRange(0)} }

func (t *Tree) rng() *compact.Range {
	if t.r == nil {
		t.r = rangeFactory.NewEmptyRange(0)
	}
	return t.r
}

// Append adds the next leaf, given its leaf hash (LeafHash of the next entry).
func (t *Tree) Append(leafHash []byte) error {
	if len(leafHash) != HashSize {
		return fmt.Errorf("audit: leaf hash is %d bytes, want %d", len(leafHash), HashSize)
	}
	// The range keeps the slice, so it must not share memory with the caller's.
	return t.rng().Append(append([]byte(nil), leafHash...), nil)
}

// Size is the number of leaves in the tree.
func (t *Tree) Size() uint64 { return t.rng().End() }

// Root returns the RFC 6962 root hash of the tree; for an empty tree, SHA-256 of nothing.
func (t *Tree) Root() []byte {
	root, err := t.rng().GetRootHash(nil)
	if err != nil {
		// The range always begins at 0, the only condition GetRootHash checks.
		panic("audit: " + err.Error())
	}
	if root == nil {
		return hasher.EmptyRoot()
	}
	return root
}

// Clone returns an independent copy of t, for example to append a batch of entries inside a
// transaction that may yet roll back.
func (t *Tree) Clone() *Tree {
	r := t.rng()
	hashes := make([][]byte, len(r.Hashes()))
	for i, h := range r.Hashes() {
		hashes[i] = append([]byte(nil), h...)
	}
	c, err := rangeFactory.NewRange(0, r.End(), hashes)
	if err != nil {
		panic("audit: " + err.Error()) // the hashes came from a valid range
	}
	return &Tree{r: c}
}

// treeStateVersion starts a marshalled Tree.
const treeStateVersion = 1

// MarshalBinary encodes the tree state: a version byte (1), the size as 8 bytes big-endian, and
// the compact range's hashes, left to right, 32 bytes each.
func (t *Tree) MarshalBinary() ([]byte, error) {
	r := t.rng()
	b := make([]byte, 0, 9+len(r.Hashes())*HashSize)
	b = append(b, treeStateVersion)
	b = binary.BigEndian.AppendUint64(b, r.End())
	for _, h := range r.Hashes() {
		b = append(b, h...)
	}
	return b, nil
}

// UnmarshalBinary restores a state that MarshalBinary encoded, replacing t's.
func (t *Tree) UnmarshalBinary(b []byte) error {
	if len(b) < 9 || b[0] != treeStateVersion {
		return errors.New("audit: tree state: not a version 1 tree state")
	}
	size := binary.BigEndian.Uint64(b[1:9])
	rest := b[9:]
	if want := compact.RangeSize(0, size) * HashSize; len(rest) != want {
		return fmt.Errorf("audit: tree state: %d bytes of hashes for size %d, want %d", len(rest), size, want)
	}
	hashes := make([][]byte, 0, len(rest)/HashSize)
	for i := 0; i < len(rest); i += HashSize {
		hashes = append(hashes, append([]byte(nil), rest[i:i+HashSize]...))
	}
	r, err := rangeFactory.NewRange(0, size, hashes)
	if err != nil {
		return fmt.Errorf("audit: tree state: %w", err)
	}
	t.r = r
	return nil
}
