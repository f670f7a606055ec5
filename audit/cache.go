package audit

import (
	"context"
	"sync"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
)

// NodeCache remembers the hashes of perfect subtrees, which never change once complete, so that
// after the first proof a server answers the next ones by reading only the few leaves beneath
// nodes it has not met yet: O(log n) node hashes instead of a read of the whole log. Nodes below
// MinLevel are not kept (their leaves are read, 2^MinLevel at most), which bounds the cache to
// about n/2^(MinLevel-1) hashes. It is safe for concurrent use.
type NodeCache struct {
	MinLevel uint

	mu    sync.Mutex
	nodes map[compact.NodeID][]byte
}

// NewNodeCache returns a cache that keeps nodes of level minLevel and above.
func NewNodeCache(minLevel uint) *NodeCache {
	return &NodeCache{MinLevel: minLevel, nodes: map[compact.NodeID][]byte{}}
}

// NodeHash returns the hash of a perfect subtree, from the cache or by hashing its children.
func (c *NodeCache) NodeHash(ctx context.Context, leaves LeafHashReader, id compact.NodeID) ([]byte, error) {
	if id.Level <= c.MinLevel {
		return NodeHash(ctx, leaves, id)
	}
	c.mu.Lock()
	h, ok := c.nodes[id]
	c.mu.Unlock()
	if ok {
		return h, nil
	}
	left, err := c.NodeHash(ctx, leaves, compact.NewNodeID(id.Level-1, id.Index*2))
	if err != nil {
		return nil, err
	}
	right, err := c.NodeHash(ctx, leaves, compact.NewNodeID(id.Level-1, id.Index*2+1))
	if err != nil {
		return nil, err
	}
	h = hasher.HashChildren(left, right)
	c.mu.Lock()
	c.nodes[id] = h
	c.mu.Unlock()
	return h, nil
}

// InclusionProof is InclusionProof through the cache.
func (c *NodeCache) InclusionProof(ctx context.Context, leaves LeafHashReader, index, size uint64) ([][]byte, error) {
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, err
	}
	return c.fetch(ctx, leaves, nodes)
}

// ConsistencyProof is ConsistencyProof through the cache.
func (c *NodeCache) ConsistencyProof(ctx context.Context, leaves LeafHashReader, size1, size2 uint64) ([][]byte, error) {
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, err
	}
	return c.fetch(ctx, leaves, nodes)
}

func (c *NodeCache) fetch(ctx context.Context, leaves LeafHashReader, nodes proof.Nodes) ([][]byte, error) {
	hashes := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		h, err := c.NodeHash(ctx, leaves, id)
		if err != nil {
			return nil, err
		}
		hashes[i] = h
	}
	return nodes.Rehash(hashes, hasher.HashChildren)
}
