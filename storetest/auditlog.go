package storetest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"wardline"
	"wardline/audit"
)

// treeOf returns the stored tree state as an audit.Tree.
func treeOf(tb testing.TB, s wardline.Store) *audit.Tree {
	tb.Helper()
	size, state, err := s.AuditTreeState(context.Background())
	if err != nil {
		tb.Fatalf("AuditTreeState: %v", err)
	}
	t := audit.NewTree()
	if err := t.UnmarshalBinary(state); err != nil {
		tb.Fatalf("tree state: %v", err)
	}
	if t.Size() != uint64(size) {
		tb.Fatalf("tree state holds %d leaves, says %d", t.Size(), size)
	}
	return t
}

// allEntries reads the whole log with AuditEntries, a page at a time.
func allEntries(tb testing.TB, s wardline.Store) []*wardline.AuditEntry {
	tb.Helper()
	var out []*wardline.AuditEntry
	for after := int64(0); ; {
		page, err := s.AuditEntries(context.Background(), after, 3)
		if err != nil {
			tb.Fatalf("AuditEntries: %v", err)
		}
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		after = page[len(page)-1].Event.Seq
	}
}

func testAuditLog(t *testing.T, open opener) {
	// Every entry carries the RFC 6962 leaf hash of its canonical encoding, computed as it was
	// appended, and the stored tree is the tree of those leaves: audit.Verify accepts the log.
	t.Run("LeafHashesAndTree", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		if got := treeOf(t, s); got.Size() != 0 {
			t.Fatalf("empty store: tree size %d", got.Size())
		}
		for i := range 7 {
			e := NewAuditEvent(f.Org.ID, f.Alice.ID, wardline.ActionHistoryRead, at(i))
			e.Detail = map[string]any{"count": i, "from_seq": int64(1), "ranges": map[string][2]int64{"c": {1, 2}}}
			MustAppendAudit(t, s, e)
		}
		entries := allEntries(t, s)
		if len(entries) != 7 {
			t.Fatalf("AuditEntries: got %d, want 7", len(entries))
		}
		want := audit.NewTree()
		var iter audit.SliceIterator
		for _, en := range entries {
			if h := audit.LeafHash(en.Event); !bytes.Equal(h, en.LeafHash) {
				t.Errorf("entry %d: stored leaf hash differs from the hash of the event read back", en.Event.Seq)
			}
			_ = want.Append(en.LeafHash)
			iter.Entries = append(iter.Entries, audit.Entry{Event: en.Event, StoredLeafHash: en.LeafHash})
		}
		got := treeOf(t, s)
		if got.Size() != 7 || !bytes.Equal(got.Root(), want.Root()) {
			t.Errorf("stored tree: size %d root %x, want 7 and %x", got.Size(), got.Root(), want.Root())
		}
		if _, err := audit.Verify(ctx, &iter, nil, nil); err != nil {
			t.Errorf("Verify: %v", err)
		}
		hashes, err := s.AuditLeafHashes(ctx, 2, 5)
		if err != nil || len(hashes) != 3 || !bytes.Equal(hashes[0], entries[2].LeafHash) {
			t.Errorf("AuditLeafHashes(2, 5): got %d hashes, %v", len(hashes), err)
		}
	})

	// The alerts of a cluster read only the entries they count, and carry on from "through".
	t.Run("AuditEventsMatching", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		got, through, err := s.AuditEventsMatching(ctx, 0, []string{wardline.ActionLoginFailed}, "patient", 10)
		if err != nil || len(got) != 0 || through != 0 {
			t.Fatalf("empty log: %d entries through %d, %v", len(got), through, err)
		}
		patient := NewAuditEvent(f.Org.ID, f.Alice.ID, "patient.viewed", at(3))
		patient.TargetType = "patient"
		for _, e := range []*wardline.AuditEvent{
			NewAuditEvent(f.Org.ID, f.Alice.ID, wardline.ActionMessageSent, at(0)), // 1
			NewAuditEvent(f.Org.ID, f.Alice.ID, wardline.ActionLoginFailed, at(1)), // 2
			NewAuditEvent(f.Org.ID, f.Alice.ID, wardline.ActionMessageSent, at(2)), // 3
			patient, // 4
			NewAuditEvent(f.Org.ID, f.Bob.ID, wardline.ActionLoginSucceeded, at(4)), // 5
			NewAuditEvent(f.Org.ID, f.Bob.ID, wardline.ActionMessageSent, at(5)),    // 6
		} {
			MustAppendAudit(t, s, e)
		}
		actions := []string{wardline.ActionLoginFailed, wardline.ActionLoginSucceeded}
		seqs := func(es []*wardline.AuditEvent) (out []int64) {
			for _, e := range es {
				out = append(out, e.Seq)
			}
			return out
		}
		got, through, err = s.AuditEventsMatching(ctx, 0, actions, "patient", 10)
		if err != nil || !slices.Equal(seqs(got), []int64{2, 4, 5}) || through != 6 {
			t.Fatalf("all: seqs %v through %d (%v), want [2 4 5] through 6", seqs(got), through, err)
		}
		AssertSame(t, "matching entry", got[1], patient)
		// A full page says how far it read; the next call goes on from there.
		got, through, _ = s.AuditEventsMatching(ctx, 0, actions, "patient", 2)
		if !slices.Equal(seqs(got), []int64{2, 4}) || through != 4 {
			t.Errorf("page of 2: seqs %v through %d, want [2 4] through 4", seqs(got), through)
		}
		got, through, _ = s.AuditEventsMatching(ctx, through, actions, "patient", 2)
		if !slices.Equal(seqs(got), []int64{5}) || through != 6 {
			t.Errorf("next page: seqs %v through %d, want [5] through 6", seqs(got), through)
		}
		got, through, _ = s.AuditEventsMatching(ctx, 6, actions, "patient", 2)
		if len(got) != 0 || through != 6 {
			t.Errorf("at the end: %d entries through %d", len(got), through)
		}
		got, _, _ = s.AuditEventsMatching(ctx, 0, nil, "nothing", 10)
		if len(got) != 0 {
			t.Errorf("no actions, no such target type: %d entries", len(got))
		}
	})

	t.Run("RollbackLeavesTreeAlone", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		MustAppendAudit(t, s, NewAuditEvent(f.Org.ID, f.Alice.ID, wardline.ActionLoginSucceeded, at(0)))
		before := treeOf(t, s)
		errNo := errors.New("no")
		_ = s.Update(ctx, func(tx wardline.Tx) error {
			_ = tx.AppendAudit(ctx, NewAuditEvent(f.Org.ID, f.Alice.ID, wardline.ActionMessageSent, at(1)))
			return errNo
		})
		after := treeOf(t, s)
		if after.Size() != 1 || !bytes.Equal(before.Root(), after.Root()) {
			t.Errorf("tree after a rolled-back append: size %d, want 1 and the same root", after.Size())
		}
	})

	// Concurrent writers share transactions (group commit) and some roll back: the log stays
	// gapless, and the tree agrees with the entries.
	t.Run("ConcurrentAppends", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		var wg sync.WaitGroup
		errNo := errors.New("no")
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 25 {
					_ = s.Update(ctx, func(tx wardline.Tx) error {
						if err := tx.AppendAudit(ctx, NewAuditEvent(f.Org.ID, f.Bob.ID, wardline.ActionMessageSent, at(w*100+i))); err != nil {
							return err
						}
						if i%5 == 0 {
							return errNo
						}
						return nil
					})
				}
			}()
		}
		wg.Wait()
		entries := allEntries(t, s)
		if len(entries) != 8*20 {
			t.Fatalf("entries: got %d, want %d", len(entries), 8*20)
		}
		want := audit.NewTree()
		for i, en := range entries {
			if en.Event.Seq != int64(i+1) {
				t.Fatalf("entry %d has seq %d", i+1, en.Event.Seq)
			}
			_ = want.Append(en.LeafHash)
		}
		if got := treeOf(t, s); !bytes.Equal(got.Root(), want.Root()) || got.Size() != want.Size() {
			t.Errorf("tree does not match the entries")
		}
	})

	t.Run("Checkpoints", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		_, err := s.LatestAuditCheckpoint(ctx)
		AssertCode(t, err, wardline.ENOTFOUND)
		cps := []*wardline.AuditCheckpoint{
			{Size: 3, Root: bytes.Repeat([]byte{3}, 32), At: at(10), Note: "three"},
			{Size: 9, Root: bytes.Repeat([]byte{9}, 32), At: at(70), Note: "nine"},
			{Size: 5, Root: bytes.Repeat([]byte{5}, 32), At: at(40), Note: "five"},
		}
		MustUpdate(t, s, func(tx wardline.Tx) error {
			for _, c := range cps {
				if err := tx.InsertAuditCheckpoint(ctx, c); err != nil {
					return err
				}
			}
			return nil
		})
		all, err := s.AuditCheckpoints(ctx)
		if err != nil || len(all) != 3 {
			t.Fatalf("AuditCheckpoints: %d, %v", len(all), err)
		}
		AssertSame(t, "first checkpoint", all[0], cps[0])
		latest, err := s.LatestAuditCheckpoint(ctx)
		if err != nil || latest.Size != 9 {
			t.Errorf("LatestAuditCheckpoint: %+v, %v", latest, err)
		}
		five, err := s.AuditCheckpointBySize(ctx, 5)
		if err != nil || five.Note != "five" {
			t.Errorf("AuditCheckpointBySize(5): %+v, %v", five, err)
		}
		_, err = s.AuditCheckpointBySize(ctx, 4)
		AssertCode(t, err, wardline.ENOTFOUND)
		before, err := s.AuditCheckpointBefore(ctx, at(50))
		if err != nil || before.Size != 5 {
			t.Errorf("AuditCheckpointBefore: %+v, %v", before, err)
		}
		_, err = s.AuditCheckpointBefore(ctx, at(10))
		AssertCode(t, err, wardline.ENOTFOUND)
	})

	t.Run("SearchByPatientAndTarget", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		var events []*wardline.AuditEvent
		for i := range 6 {
			e := NewAuditEvent(f.Org.ID, f.Alice.ID, wardline.ActionHistoryRead, at(i))
			if i%2 == 0 {
				e.Detail = map[string]any{wardline.DetailPatientHMAC: "abc"}
			}
			events = append(events, e)
		}
		MustAppendAudit(t, s, events...)
		got, err := s.AuditEvents(ctx, wardline.AuditFilter{OrgID: f.Org.ID, PatientHMAC: "abc"})
		if err != nil || !slices.Equal(auditSeqs(got), []int64{1, 3, 5}) {
			t.Errorf("by patient: %v, %v", auditSeqs(got), err)
		}
		got, _ = s.AuditEvents(ctx, wardline.AuditFilter{OrgID: f.Org.ID, TargetID: events[3].TargetID})
		if !slices.Equal(auditSeqs(got), []int64{4}) {
			t.Errorf("by target: %v", auditSeqs(got))
		}
		got, _ = s.AuditEvents(ctx, wardline.AuditFilter{OrgID: f.Org.ID, Desc: true, BeforeSeq: 5, Limit: 2})
		if !slices.Equal(auditSeqs(got), []int64{4, 3}) {
			t.Errorf("newest first before 5: %v", auditSeqs(got))
		}
	})

	t.Run("Investigations", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		var invs []*wardline.Investigation
		for i := range 3 {
			invs = append(invs, &wardline.Investigation{ID: wardline.NewID(), OrgID: f.Org.ID, ConversationID: f.Conv.ID,
				OpenedBy: f.Carol.ID, OpenedAt: at(i), Justification: "complaint ref 42", Status: wardline.InvestigationOpen})
		}
		MustUpdate(t, s, func(tx wardline.Tx) error {
			for _, inv := range invs {
				if err := tx.CreateInvestigation(ctx, inv); err != nil {
					return err
				}
			}
			return nil
		})
		got, err := s.Investigation(ctx, invs[1].ID)
		if err != nil {
			t.Fatal(err)
		}
		AssertSame(t, "Investigation", got, invs[1])
		page, next, err := s.Investigations(ctx, f.Org.ID, "", 2)
		if err != nil || len(page) != 2 || page[0].ID != invs[2].ID || next == "" {
			t.Fatalf("Investigations page 1: %v, %q, %v", ids(page, func(i *wardline.Investigation) string { return i.ID }), next, err)
		}
		page, next, _ = s.Investigations(ctx, f.Org.ID, next, 2)
		if len(page) != 1 || page[0].ID != invs[0].ID || next != "" {
			t.Errorf("Investigations page 2: %d items, next %q", len(page), next)
		}
		MustUpdate(t, s, func(tx wardline.Tx) error { return tx.CloseInvestigation(ctx, invs[0].ID, f.Carol.ID, at(9)) })
		got, _ = s.Investigation(ctx, invs[0].ID)
		if got.Status != wardline.InvestigationClosed || got.ClosedAt == nil || !got.ClosedAt.Equal(at(9)) || got.ClosedBy != f.Carol.ID {
			t.Errorf("closed: %+v", got)
		}
		err = s.Update(ctx, func(tx wardline.Tx) error { return tx.CloseInvestigation(ctx, invs[0].ID, f.Carol.ID, at(10)) })
		AssertCode(t, err, wardline.ENOTFOUND)
		_, err = s.Investigation(ctx, wardline.NewID())
		AssertCode(t, err, wardline.ENOTFOUND)
	})

	t.Run("Alerts", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		other := MustCreateOrg(t, s, "Southgate")
		var alerts []*wardline.Alert
		for i := range 4 {
			a := &wardline.Alert{ID: wardline.NewID(), OrgID: f.Org.ID, Kind: wardline.AlertNewDevice, At: at(i), UserID: f.Alice.ID,
				Addr: "10.0.0.1", Count: i, Threshold: 1, AuditSeq: int64(i + 1), Message: "m"}
			if i == 2 {
				a.Kind, a.UserID = wardline.AlertFailedSignInsAddr, ""
			}
			alerts = append(alerts, a)
		}
		alerts = append(alerts, &wardline.Alert{ID: wardline.NewID(), OrgID: other.ID, Kind: wardline.AlertNewDevice, At: at(5)})
		MustUpdate(t, s, func(tx wardline.Tx) error {
			for _, a := range alerts {
				if err := tx.InsertAlert(ctx, a); err != nil {
					return err
				}
			}
			return nil
		})
		got, next, err := s.Alerts(ctx, wardline.AlertFilter{OrgID: f.Org.ID, Limit: 3})
		if err != nil || len(got) != 3 || got[0].ID != alerts[3].ID || next == "" {
			t.Fatalf("Alerts: %d, %q, %v", len(got), next, err)
		}
		AssertSame(t, "Alert", got[0], alerts[3])
		got, next, _ = s.Alerts(ctx, wardline.AlertFilter{OrgID: f.Org.ID, Limit: 3, Cursor: next})
		if len(got) != 1 || got[0].ID != alerts[0].ID || next != "" {
			t.Errorf("Alerts page 2: %d, %q", len(got), next)
		}
		got, _, _ = s.Alerts(ctx, wardline.AlertFilter{OrgID: f.Org.ID, Kind: wardline.AlertFailedSignInsAddr})
		if len(got) != 1 || got[0].ID != alerts[2].ID {
			t.Errorf("Alerts by kind: %d", len(got))
		}
		got, _, _ = s.Alerts(ctx, wardline.AlertFilter{OrgID: f.Org.ID, Since: at(3)})
		if len(got) != 1 {
			t.Errorf("Alerts since: %d", len(got))
		}
		// The nodes of a cluster each try to store the alert a shared entry trips: the second is
		// refused, and nothing of its transaction stays.
		again := *alerts[1]
		again.Message = "raised twice"
		err = s.Update(ctx, func(tx wardline.Tx) error {
			if err := tx.InsertAlert(ctx, &again); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, &wardline.AuditEvent{ID: wardline.NewID(), At: at(6), OrgID: f.Org.ID,
				Action: wardline.ActionAlertRaised, TargetType: "alert", TargetID: again.ID, Outcome: wardline.OutcomeSuccess})
		})
		AssertCode(t, err, wardline.ECONFLICT)
		got, _, _ = s.Alerts(ctx, wardline.AlertFilter{OrgID: f.Org.ID})
		if len(got) != 4 {
			t.Errorf("after a second insert of one alert: %d alerts, want 4", len(got))
		}
	})

	t.Run("KnownDevices", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		add := func(fp string) (bool, int) {
			var added bool
			var before int
			MustUpdate(t, s, func(tx wardline.Tx) error {
				var err error
				added, before, err = tx.AddKnownDevice(ctx, f.Alice.ID, fp, at(0))
				return err
			})
			return added, before
		}
		if a, b := add("firefox/linux"); !a || b != 0 {
			t.Errorf("first device: added %v, before %d", a, b)
		}
		if a, b := add("firefox/linux"); a || b != 1 {
			t.Errorf("same device: added %v, before %d", a, b)
		}
		if a, b := add("safari/ios"); !a || b != 1 {
			t.Errorf("second device: added %v, before %d", a, b)
		}
	})

	t.Run("TranscriptSources", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		msgs := MustSendMessages(t, s, f.Conv.ID, f.Alice.ID, 2, at(0))
		MustUpdate(t, s, func(tx wardline.Tx) error {
			if _, err := tx.AdvanceWatermark(ctx, f.Conv.ID, f.Bob.ID, wardline.ReceiptDelivered, 1, at(5)); err != nil {
				return err
			}
			if _, err := tx.AdvanceWatermark(ctx, f.Conv.ID, f.Bob.ID, wardline.ReceiptRead, 2, at(6)); err != nil {
				return err
			}
			if _, err := tx.InsertAck(ctx, f.Conv.ID, msgs[0].ID, f.Bob.ID, at(7)); err != nil {
				return err
			}
			m := *msgs[1]
			m.Version, m.BodySealed = 2, []byte("v2")
			edited := at(8)
			m.EditedAt = &edited
			return tx.ReviseMessage(ctx, &m, &wardline.MessageVersion{MessageID: m.ID, Version: 1, BodySealed: msgs[1].BodySealed, At: msgs[1].CreatedAt})
		})
		wm, err := s.WatermarkAdvances(ctx, f.Conv.ID)
		if err != nil || len(wm) < 2 {
			t.Fatalf("WatermarkAdvances: %d, %v", len(wm), err)
		}
		var sawRead bool
		for _, w := range wm {
			if w.UserID == f.Bob.ID && w.Kind == wardline.ReceiptRead && w.Seq == 2 && w.At.Equal(at(6)) {
				sawRead = true
			}
		}
		if !sawRead {
			t.Errorf("WatermarkAdvances lacks Bob's read of 2")
		}
		acks, err := s.Acks(ctx, f.Conv.ID)
		if err != nil || len(acks) != 1 || acks[0].MessageID != msgs[0].ID || !acks[0].At.Equal(at(7)) {
			t.Errorf("Acks: %+v, %v", acks, err)
		}
		vs, err := s.ConversationVersions(ctx, f.Conv.ID)
		if err != nil || len(vs) != 1 || vs[0].MessageID != msgs[1].ID || vs[0].Version != 1 {
			t.Errorf("ConversationVersions: %+v, %v", vs, err)
		}
		auditors, err := s.UsersWithRole(ctx, f.Org.ID, wardline.OrgRoleMember)
		if err != nil || len(auditors) == 0 {
			t.Errorf("UsersWithRole: %v, %v", auditors, err)
		}
	})
}
