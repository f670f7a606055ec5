package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"wardline/audit"
)

// auditLog is the writer's knowledge of the audit log's Merkle tree: how many entries are
// committed and the tree over them. Only the writer goroutine touches it.
type auditLog struct {
	size int64
	tree *audit.Tree
}

// auditBatch is the log as one group-committed transaction grows it. Savepoints that succeed
// add their leaves here; one that rolls back adds nothing, so its seqs are used by the next.
// The tree is cloned on the first append, so a batch that appends nothing costs nothing, and a
// failed COMMIT leaves the committed tree as it was.
type auditBatch struct {
	base    *auditLog
	size    int64
	tree    *audit.Tree // nil until the first append
	hashing bool
}

// newAuditBatch starts a batch; hashing is false only in benchmarks that measure what the leaf
// hashes and the tree cost.
func newAuditBatch(base *auditLog, hashing bool) *auditBatch {
	return &auditBatch{base: base, size: base.size, hashing: hashing}
}

// nextSeq is the seq of the next entry, given how many the current savepoint already appended.
func (b *auditBatch) nextSeq(pending int) int64 { return b.size + int64(pending) + 1 }

// release adds a finished savepoint's leaves.
func (b *auditBatch) release(leaves [][]byte) error {
	if len(leaves) == 0 {
		return nil
	}
	if b.hashing {
		if b.tree == nil {
			b.tree = b.base.tree.Clone()
		}
		for _, l := range leaves {
			if err := b.tree.Append(l); err != nil {
				return err
			}
		}
	}
	b.size += int64(len(leaves))
	return nil
}

func (b *auditBatch) grew() bool { return b.size != b.base.size }

// persist writes the tree state in the batch's transaction: one statement per batch.
func (b *auditBatch) persist(ctx context.Context, q queries) error {
	if !b.grew() {
		return nil
	}
	tree := b.tree
	if tree == nil {
		tree = b.base.tree // hashing off: the state is not kept up to date
	}
	state, err := tree.MarshalBinary()
	if err != nil {
		return err
	}
	_, err = q.db.exec(ctx, `UPDATE audit_tree SET size = ?, state = ? WHERE id = 1`, b.size, state)
	return err
}

// committed is the log once the batch's COMMIT succeeded.
func (b *auditBatch) committed() *auditLog {
	if !b.grew() {
		return b.base
	}
	tree := b.tree
	if tree == nil {
		tree = b.base.tree
	}
	return &auditLog{size: b.size, tree: tree}
}

// syncAuditLog makes the writer's log agree with the database at the start of a batch, inside
// its transaction: another process (an admin command run beside the server) may have appended
// since. It costs one small query per batch, not per entry.
func (s *Store) syncAuditLog(ctx context.Context) error {
	var size int64
	var state []byte
	if err := s.wq.db.queryRow(ctx, `SELECT size, state FROM audit_tree WHERE id = 1`).Scan(&size, &state); err != nil {
		return fmt.Errorf("read audit tree state: %w", err)
	}
	if s.alog != nil && size == s.alog.size {
		return nil
	}
	t := audit.NewTree()
	if err := t.UnmarshalBinary(state); err != nil {
		return err
	}
	if t.Size() != uint64(size) {
		return fmt.Errorf("audit tree state holds %d leaves but says %d", t.Size(), size)
	}
	s.alog = &auditLog{size: size, tree: t}
	return nil
}

// CheckAuditLog reports a database whose log holds entries beyond its tree: they were written
// by something other than Wardline, and appending after them would fail on every request, so a
// server refuses to start on it. A log that ends before its tree (a truncated tail) is left for
// `wardline audit verify` to name; new entries then continue after the gap, which keeps the
// damage visible.
func (s *Store) CheckAuditLog(ctx context.Context) error {
	var size int64
	var maxSeq sql.NullInt64
	if err := s.rdb.QueryRowContext(ctx, `SELECT size FROM audit_tree WHERE id = 1`).Scan(&size); err != nil {
		return fmt.Errorf("read audit tree state: %w", err)
	}
	if err := s.rdb.QueryRowContext(ctx, `SELECT MAX(seq) FROM audit_events`).Scan(&maxSeq); err != nil {
		return err
	}
	if maxSeq.Int64 > size {
		return fmt.Errorf("the audit log holds entries up to %d but its Merkle tree covers %d: entries were written outside Wardline; run `wardline audit verify` and investigate before serving", maxSeq.Int64, size)
	}
	return nil
}

// backfillAuditLeaves hashes the entries written before leaf hashes existed (migration 0002)
// and builds the tree over them, in the migration's transaction.
func backfillAuditLeaves(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_events ORDER BY seq`)
	if err != nil {
		return err
	}
	tree := audit.NewTree()
	type leaf struct {
		seq  int64
		hash []byte
	}
	var leaves []leaf
	for rows.Next() {
		e, err := scanAuditEvent(rows)
		if err != nil {
			rows.Close()
			return err
		}
		if e.Seq != int64(tree.Size())+1 {
			rows.Close()
			return fmt.Errorf("audit log has a gap before entry %d; it cannot be given a Merkle tree", e.Seq)
		}
		h := audit.LeafHash(e)
		if err := tree.Append(h); err != nil {
			rows.Close()
			return err
		}
		leaves = append(leaves, leaf{e.Seq, h})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, l := range leaves {
		if _, err := tx.ExecContext(ctx, `UPDATE audit_events SET leaf_hash = ? WHERE seq = ?`, l.hash, l.seq); err != nil {
			return err
		}
	}
	state, err := tree.MarshalBinary()
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE audit_tree SET size = ?, state = ? WHERE id = 1`, tree.Size(), state)
	return err
}
