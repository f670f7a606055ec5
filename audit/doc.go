// Package audit makes Wardline's audit log tamper-evident, in the manner of Certificate
// Transparency: each event is a leaf of an RFC 6962 Merkle tree, signed checkpoints commit to the
// tree's size and root, and an offline verifier names the first entry that was altered, deleted,
// inserted or reordered. It also HMACs identifiers so that auditors can search for a patient
// without the log holding who the patient is. It holds no database code.
package audit
