package app

import (
	"context"
	"crypto/ed25519"

	"wardline"
	"wardline/audit"
	"wardline/keyring"
)

// SignedCheckpoint is a checkpoint as the API shows it: the signed note, its parts, and the key
// that verifies it in the signed-note verifier form.
type SignedCheckpoint struct {
	*wardline.AuditCheckpoint
	Origin      string
	VerifierKey string
}

func (d *deps) signed(ctx context.Context, c *wardline.AuditCheckpoint) (*SignedCheckpoint, error) {
	if d.auditKeys == nil {
		return nil, wardline.Errorf(wardline.ENOTFOUND, "this server signs no checkpoints")
	}
	pub, err := d.auditKeys.CheckpointPublicKey(ctx, false)
	if err != nil {
		return nil, err
	}
	origin := keyring.CheckpointOrigin(pub)
	return &SignedCheckpoint{AuditCheckpoint: c, Origin: origin, VerifierKey: audit.VerifierKey(origin, pub)}, nil
}

// LatestCheckpoint returns the newest signed checkpoint of the log. Anyone may ask: it holds the
// log's size and root hash, nothing of any entry.
func (s *AuditService) LatestCheckpoint(ctx context.Context) (*SignedCheckpoint, error) {
	c, err := s.store.LatestAuditCheckpoint(ctx)
	if isNotFound(err) {
		return nil, wardline.Errorf(wardline.ENOTFOUND, "the audit log has no checkpoint yet")
	} else if err != nil {
		return nil, err
	}
	return s.signed(ctx, c)
}

// ConsistencyProof proves that the log of size from is a prefix of the log at the signed
// checkpoint of size to: whoever kept an older checkpoint can check that nothing was rewritten
// since, only appended. to must be the size of a stored checkpoint; 0 means the newest.
func (s *AuditService) ConsistencyProof(ctx context.Context, from, to int64) ([][]byte, *SignedCheckpoint, error) {
	var c *wardline.AuditCheckpoint
	var err error
	if to == 0 {
		c, err = s.store.LatestAuditCheckpoint(ctx)
	} else {
		c, err = s.store.AuditCheckpointBySize(ctx, to)
	}
	if isNotFound(err) {
		return nil, nil, wardline.Errorf(wardline.ENOTFOUND, "no signed checkpoint of that size")
	} else if err != nil {
		return nil, nil, err
	}
	if from < 1 || from > c.Size {
		return nil, nil, errInvalid("from must be between 1 and the checkpoint's size")
	}
	proof, err := s.nodes.ConsistencyProof(ctx, s.leafReader(), uint64(from), uint64(c.Size))
	if err != nil {
		return nil, nil, err
	}
	sc, err := s.signed(ctx, c)
	return proof, sc, err
}

// InclusionProof proves that the entry seq of the officer's organisation is in the log at the
// signed checkpoint of size size (0: the newest). The proof is audited.
func (s *AuditService) InclusionProof(ctx context.Context, seq, size int64) (*wardline.AuditEvent, []byte, [][]byte, *SignedCheckpoint, error) {
	a, err := requireAuditor(ctx)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if seq < 1 || size < 0 {
		return nil, nil, nil, nil, errInvalid("seq must be at least 1")
	}
	events, err := s.store.AuditEvents(ctx, wardline.AuditFilter{OrgID: a.User.OrgID, AfterSeq: seq - 1, BeforeSeq: seq + 1, Limit: 1})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if len(events) == 0 {
		return nil, nil, nil, nil, wardline.Errorf(wardline.ENOTFOUND, "no such entry in your organisation's log")
	}
	var c *wardline.AuditCheckpoint
	if size == 0 {
		c, err = s.store.LatestAuditCheckpoint(ctx)
	} else {
		c, err = s.store.AuditCheckpointBySize(ctx, size)
	}
	if isNotFound(err) {
		return nil, nil, nil, nil, wardline.Errorf(wardline.ENOTFOUND, "no signed checkpoint of that size")
	} else if err != nil {
		return nil, nil, nil, nil, err
	}
	if c.Size < seq {
		return nil, nil, nil, nil, errInvalid("the checkpoint does not cover that entry yet; ask again after the next one")
	}
	leaves, err := s.store.AuditLeafHashes(ctx, seq-1, seq)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	proof, err := s.nodes.InclusionProof(ctx, s.leafReader(), uint64(seq-1), uint64(c.Size))
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ev := s.auditEvent(ctx, wardline.ActionAuditEntryProved, "audit", "")
	ev.Detail = map[string]any{"seq": seq, "size": c.Size}
	if err := s.store.Update(ctx, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) }); err != nil {
		return nil, nil, nil, nil, err
	}
	sc, err := s.signed(ctx, c)
	return events[0], leaves[0], proof, sc, err
}

// CheckpointPublicKey returns the key that verifies the log's checkpoints.
func (s *AuditService) CheckpointPublicKey(ctx context.Context) (ed25519.PublicKey, error) {
	if s.auditKeys == nil {
		return nil, wardline.Errorf(wardline.ENOTFOUND, "this server signs no checkpoints")
	}
	return s.auditKeys.CheckpointPublicKey(ctx, false)
}
