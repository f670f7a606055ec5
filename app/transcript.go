package app

import (
	"context"
	"errors"
	"sort"
	"time"

	"wardline"
)

// Transcript is the full record of one conversation for an investigation: every version of every
// message (deleted ones too), who was a member when, who received, read and acknowledged what,
// every audit entry about the conversation, and the signed checkpoint that covers the export.
type Transcript struct {
	Investigation *wardline.Investigation `json:"investigation"`
	GeneratedAt   time.Time               `json:"generated_at"`
	GeneratedBy   string                  `json:"generated_by"`
	Conversation  TranscriptConversation  `json:"conversation"`
	People        []TranscriptPerson      `json:"people"`
	Messages      []TranscriptMessage     `json:"messages"`
	Membership    []TranscriptMembership  `json:"membership"`
	AuditEntries  []*wardline.AuditEvent  `json:"audit_entries"`
	Stamp         *TranscriptStamp        `json:"stamp"`
}

// TranscriptConversation is the conversation as it stands.
type TranscriptConversation struct {
	ID        string             `json:"id"`
	Kind      string             `json:"kind"`
	Title     string             `json:"title"`
	CreatedAt time.Time          `json:"created_at"`
	CreatedBy string             `json:"created_by"`
	PatientID *string            `json:"patient_id"`
	Members   []*wardline.Member `json:"members"`
	LastSeq   int64              `json:"last_seq"`
}

// TranscriptPerson names someone who appears in the transcript.
type TranscriptPerson struct {
	ID           string `json:"id"`
	DisplayName  string `json:"display_name"`
	JobTitle     string `json:"job_title"`
	Profession   string `json:"profession"`
	Registration string `json:"registration"`
	Email        string `json:"email"`
	OrgRole      string `json:"org_role"`
	Status       string `json:"status"`
}

// TranscriptMessage is one message with its history and receipts.
type TranscriptMessage struct {
	ID          string                    `json:"id"`
	Seq         int64                     `json:"seq"`
	SenderID    string                    `json:"sender_id"`
	ClientID    string                    `json:"client_id"`
	Priority    string                    `json:"priority"`
	RequiresAck bool                      `json:"requires_ack"`
	CreatedAt   time.Time                 `json:"created_at"`
	EditedAt    *time.Time                `json:"edited_at"`
	Deleted     bool                      `json:"deleted"`
	Versions    []TranscriptVersion       `json:"versions"`
	Receipts    []wardline.MessageReceipt `json:"receipts"` // when each member's watermarks first covered it, and acks
}

// TranscriptVersion is one text a message had; the last is its current state.
type TranscriptVersion struct {
	Version  int       `json:"version"`
	Body     string    `json:"body"`
	At       time.Time `json:"at"`
	Deleted  bool      `json:"deleted"`
	Shredded bool      `json:"shredded,omitempty"`
}

// TranscriptMembership is one change of who was in the conversation, from the audit log.
type TranscriptMembership struct {
	AuditSeq int64     `json:"audit_seq"`
	At       time.Time `json:"at"`
	Action   string    `json:"action"`
	ByID     string    `json:"by_id"`
	UserIDs  []string  `json:"user_ids"`
}

// TranscriptStamp ties the export to the tamper-evident log: the export's own audit entry, the
// signed checkpoint that covers it, and the proof that the entry is in the checkpoint's tree.
type TranscriptStamp struct {
	ExportAuditSeq int64     `json:"export_audit_seq"`
	LeafHash       []byte    `json:"leaf_hash"`
	InclusionProof [][]byte  `json:"inclusion_proof"`
	Origin         string    `json:"origin"`
	TreeSize       int64     `json:"tree_size"`
	RootHash       []byte    `json:"root_hash"`
	CheckpointTime time.Time `json:"checkpoint_time"`
	Note           string    `json:"signed_note"`
	VerifierKey    string    `json:"verifier_key"`
}

var membershipActions = map[string]bool{
	wardline.ActionConvCreated: true, wardline.ActionMemberAdded: true,
	wardline.ActionMemberRemoved: true, wardline.ActionOwnerChanged: true,
}

// Transcript exports the conversation of an open investigation, to the officer who opened it.
// The export is audited (with how many messages it holds) before it is returned, and a
// checkpoint is signed at once so that the stamp covers the export itself.
func (s *AuditService) Transcript(ctx context.Context, invID, format string) (*Transcript, error) {
	a, err := requireAuditor(ctx)
	if err != nil {
		return nil, err
	}
	inv, err := s.orgInvestigation(ctx, a, invID)
	if err != nil {
		return nil, err
	}
	if inv.OpenedBy != a.User.ID {
		return nil, wardline.Errorf(wardline.EFORBIDDEN, "only the officer who opened the investigation may export its transcript; open your own, with your reasons")
	}
	if inv.Status != wardline.InvestigationOpen {
		return nil, wardline.Errorf(wardline.ECONFLICT, "the investigation is closed")
	}
	if format != "json" && format != "pdf" {
		return nil, errInvalid("format must be json or pdf")
	}
	t, err := s.buildTranscript(ctx, inv)
	if err != nil {
		return nil, err
	}
	t.GeneratedBy = a.User.ID
	versions := 0
	for _, m := range t.Messages {
		versions += len(m.Versions)
	}
	ev := s.auditEvent(ctx, wardline.ActionTranscriptExport, "investigation", inv.ID)
	ev.ConversationID = inv.ConversationID
	ev.Detail = map[string]any{wardline.DetailCount: len(t.Messages), "versions": versions, "format": format,
		"audit_entries": len(t.AuditEntries)}
	if err := s.store.Update(ctx, func(tx wardline.Tx) error { return tx.AppendAudit(ctx, ev) }); err != nil {
		return nil, err
	}
	t.GeneratedAt = ev.At
	if s.auditKeys != nil {
		if t.Stamp, err = s.stamp(ctx, ev.Seq); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (s *AuditService) stamp(ctx context.Context, seq int64) (*TranscriptStamp, error) {
	c, err := s.checkpoints.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	if c == nil || c.Size < seq {
		return nil, errors.New("app: the new checkpoint does not cover the export")
	}
	leaves, err := s.store.AuditLeafHashes(ctx, seq-1, seq)
	if err != nil {
		return nil, err
	}
	proof, err := s.nodes.InclusionProof(ctx, s.leafReader(), uint64(seq-1), uint64(c.Size))
	if err != nil {
		return nil, err
	}
	sc, err := s.signed(ctx, c)
	if err != nil {
		return nil, err
	}
	return &TranscriptStamp{ExportAuditSeq: seq, LeafHash: leaves[0], InclusionProof: proof, Origin: sc.Origin,
		TreeSize: c.Size, RootHash: c.Root, CheckpointTime: c.At, Note: c.Note, VerifierKey: sc.VerifierKey}, nil
}

func (s *AuditService) buildTranscript(ctx context.Context, inv *wardline.Investigation) (*Transcript, error) {
	c, err := s.store.Conversation(ctx, inv.ConversationID)
	if err != nil {
		return nil, err
	}
	if err := s.openTitle(ctx, c); err != nil {
		return nil, err
	}
	t := &Transcript{Investigation: inv, Conversation: TranscriptConversation{ID: c.ID, Kind: c.Kind, Title: c.Title,
		CreatedAt: c.CreatedAt, CreatedBy: c.CreatedBy, PatientID: c.PatientID, Members: c.Members, LastSeq: c.LastSeq}}
	people := map[string]bool{c.CreatedBy: true}
	for _, m := range c.Members {
		people[m.UserID] = true
	}

	var msgs []*wardline.Message
	for after := int64(0); ; {
		page, more, err := s.store.Messages(ctx, c.ID, wardline.HistoryQuery{Forward: true, AfterSeq: after, Limit: 500})
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, page...)
		if !more || len(page) == 0 {
			break
		}
		after = page[len(page)-1].Seq
	}
	old, err := s.store.ConversationVersions(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	byMsg := map[string][]*wardline.MessageVersion{}
	for _, v := range old {
		byMsg[v.MessageID] = append(byMsg[v.MessageID], v)
	}
	marks, err := s.store.WatermarkAdvances(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	acks, err := s.store.Acks(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	// Watermarks only rise, so each person's advances of one kind are in seq order: the first
	// that covers a message is found by binary search.
	type key struct{ user, kind string }
	advances := map[key][]*wardline.WatermarkAdvance{}
	for _, w := range marks {
		advances[key{w.UserID, w.Kind}] = append(advances[key{w.UserID, w.Kind}], w)
		people[w.UserID] = true
	}
	acked := map[[2]string]time.Time{}
	for _, ak := range acks {
		acked[[2]string{ak.MessageID, ak.UserID}] = ak.At
		people[ak.UserID] = true
	}
	covered := func(user, kind string, seq int64) *time.Time {
		list := advances[key{user, kind}]
		i := sort.Search(len(list), func(i int) bool { return list[i].Seq >= seq })
		if i == len(list) {
			return nil
		}
		at := list[i].At
		return &at
	}

	for _, m := range msgs {
		people[m.SenderID] = true
		tm := TranscriptMessage{ID: m.ID, Seq: m.Seq, SenderID: m.SenderID, ClientID: m.ClientID, Priority: m.Priority,
			RequiresAck: m.RequiresAck, CreatedAt: m.CreatedAt, EditedAt: m.EditedAt, Deleted: m.Deleted}
		for _, v := range byMsg[m.ID] {
			body, shredded, err := s.openVersion(ctx, c.ID, m.ID, v.Version, v.BodySealed, v.Deleted)
			if err != nil {
				return nil, err
			}
			tm.Versions = append(tm.Versions, TranscriptVersion{Version: v.Version, Body: body, At: v.At, Deleted: v.Deleted, Shredded: shredded})
		}
		cur := m.CreatedAt
		if m.EditedAt != nil {
			cur = *m.EditedAt
		}
		body, shredded, err := s.openVersion(ctx, c.ID, m.ID, m.Version, m.BodySealed, m.Deleted)
		if err != nil {
			return nil, err
		}
		tm.Versions = append(tm.Versions, TranscriptVersion{Version: m.Version, Body: body, At: cur, Deleted: m.Deleted, Shredded: shredded})
		t.Messages = append(t.Messages, tm)
	}

	f := wardline.AuditFilter{OrgID: inv.OrgID, ConversationID: c.ID, Limit: 1000}
	for {
		page, err := s.store.AuditEvents(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			t.AuditEntries = append(t.AuditEntries, e)
			if e.ActorID != "" {
				people[e.ActorID] = true
			}
			if !membershipActions[e.Action] || e.Outcome != wardline.OutcomeSuccess {
				continue
			}
			mc := TranscriptMembership{AuditSeq: e.Seq, At: e.At, Action: e.Action, ByID: e.ActorID}
			if e.Action == wardline.ActionConvCreated {
				if ids, ok := e.Detail["members"].([]any); ok {
					for _, id := range ids {
						if s, ok := id.(string); ok {
							mc.UserIDs = append(mc.UserIDs, s)
						}
					}
				}
			} else {
				mc.UserIDs = []string{e.TargetID}
			}
			for _, id := range mc.UserIDs {
				people[id] = true
			}
			t.Membership = append(t.Membership, mc)
		}
		if len(page) < f.Limit {
			break
		}
		f.AfterSeq = page[len(page)-1].Seq
	}

	// Receipts: everyone who was ever a member, or has a watermark or an acknowledgement here.
	var recipients []string
	for id := range people {
		recipients = append(recipients, id)
	}
	sort.Strings(recipients)
	for i := range t.Messages {
		m := &t.Messages[i]
		for _, u := range recipients {
			if u == m.SenderID {
				continue
			}
			r := wardline.MessageReceipt{UserID: u, DeliveredAt: covered(u, wardline.ReceiptDelivered, m.Seq), ReadAt: covered(u, wardline.ReceiptRead, m.Seq)}
			if at, ok := acked[[2]string{m.ID, u}]; ok {
				r.AckedAt = &at
			}
			if r.DeliveredAt != nil || r.ReadAt != nil || r.AckedAt != nil {
				m.Receipts = append(m.Receipts, r)
			}
		}
	}

	for _, id := range recipients {
		if !wardline.ValidID(id) {
			continue
		}
		u, err := s.store.User(ctx, id)
		if isNotFound(err) {
			continue
		} else if err != nil {
			return nil, err
		}
		t.People = append(t.People, TranscriptPerson{ID: u.ID, DisplayName: u.DisplayName, JobTitle: u.JobTitle, Profession: u.Profession,
			Registration: u.Registration, Email: u.Email, OrgRole: u.OrgRole, Status: u.Status})
	}
	return t, nil
}

// openVersion opens one sealed text of a message; a shredded conversation has none left.
func (s *AuditService) openVersion(ctx context.Context, convID, msgID string, version int, sealed []byte, deleted bool) (string, bool, error) {
	if deleted || len(sealed) == 0 {
		return "", false, nil
	}
	b, err := s.keys.Open(ctx, convID, bodyAAD(msgID, version), sealed)
	if errors.Is(err, wardline.ErrContentDestroyed) {
		return "", true, nil
	} else if err != nil {
		return "", false, err
	}
	return string(b), false, nil
}
