package app

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
)

// TranscriptPDF renders a transcript for printing: a cover with the case and the checkpoint that
// stamps it, then every message with each of its versions and receipts, the membership changes,
// and the audit entries. The JSON transcript is the authoritative record; the PDF shows the same
// facts for people. Text uses the Go fonts, embedded (Latin, Greek, Cyrillic and common
// symbols); a character outside them prints as a blank.
func TranscriptPDF(t *Transcript) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(true)
	pdf.SetCreationDate(t.GeneratedAt)
	pdf.SetModificationDate(t.GeneratedAt)
	pdf.SetTitle("Wardline investigation transcript "+t.Investigation.ID, true)
	pdf.SetCreator("Wardline", true)
	pdf.AddUTF8FontFromBytes("go", "", goregular.TTF)
	pdf.AddUTF8FontFromBytes("go", "B", gobold.TTF)
	pdf.AddUTF8FontFromBytes("gomono", "", gomono.TTF)
	pdf.SetMargins(15, 15, 15)
	pdf.SetAutoPageBreak(true, 18)
	pdf.AliasNbPages("{nb}")
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont("go", "", 7)
		pdf.SetTextColor(90, 90, 90)
		pdf.CellFormat(0, 5, fmt.Sprintf("Investigation %s · conversation %s · OFFICIAL-SENSITIVE · page %d of {nb}",
			t.Investigation.ID, t.Conversation.ID, pdf.PageNo()), "", 0, "C", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})
	names := map[string]string{}
	for _, p := range t.People {
		names[p.ID] = p.DisplayName
		if p.JobTitle != "" {
			names[p.ID] += " (" + p.JobTitle + ")"
		}
	}
	who := func(id string) string {
		if id == "" {
			return "system"
		}
		if n, ok := names[id]; ok {
			return n
		}
		return id
	}
	ts := func(tm time.Time) string { return tm.UTC().Format("2006-01-02 15:04:05.000000 UTC") }
	tsp := func(tm *time.Time) string {
		if tm == nil {
			return "—"
		}
		return ts(*tm)
	}
	heading := func(s string) {
		pdf.Ln(3)
		pdf.SetFont("go", "B", 13)
		pdf.MultiCell(0, 7, s, "B", "L", false)
		pdf.Ln(1)
	}
	field := func(label, value string) {
		pdf.SetFont("go", "B", 9)
		pdf.CellFormat(45, 5, label, "", 0, "L", false, 0, "")
		pdf.SetFont("go", "", 9)
		pdf.MultiCell(0, 5, value, "", "L", false)
	}
	mono := func(s string) {
		pdf.SetFont("gomono", "", 7)
		pdf.MultiCell(0, 3.5, s, "", "L", false)
	}

	pdf.AddPage()
	pdf.SetFont("go", "B", 16)
	pdf.MultiCell(0, 8, "Investigation transcript", "", "L", false)
	pdf.SetFont("go", "", 9)
	pdf.MultiCell(0, 5, "Produced by Wardline for an information governance investigation. It holds the full record of one conversation, including edited and deleted text. Handle as OFFICIAL-SENSITIVE.", "", "L", false)
	heading("Case")
	inv := t.Investigation
	field("Investigation", inv.ID)
	field("Opened by", who(inv.OpenedBy)+" at "+ts(inv.OpenedAt))
	field("Justification", inv.Justification)
	field("Exported by", who(t.GeneratedBy)+" at "+ts(t.GeneratedAt))
	heading("Conversation")
	c := t.Conversation
	field("Conversation", c.ID)
	field("Kind", c.Kind)
	field("Title", c.Title)
	field("Created", ts(c.CreatedAt)+" by "+who(c.CreatedBy))
	if c.PatientID != nil {
		field("Patient record", *c.PatientID)
	}
	field("Messages", fmt.Sprintf("%d (last seq %d)", len(t.Messages), c.LastSeq))
	var members []string
	for _, m := range c.Members {
		members = append(members, fmt.Sprintf("%s, %s since %s", who(m.UserID), m.Role, ts(m.JoinedAt)))
	}
	field("Members now", strings.Join(members, "\n"))

	heading("Tamper evidence")
	if s := t.Stamp; s != nil {
		pdf.SetFont("go", "", 9)
		pdf.MultiCell(0, 5, fmt.Sprintf("This export is entry %d of the audit log. The log's signed checkpoint below covers its first %d entries, this export's included; the inclusion proof shows the entry is in that tree. Check it with the verifier key, or ask the server for a consistency proof from this checkpoint to a later one to see that the log has only grown since.", s.ExportAuditSeq, s.TreeSize), "", "L", false)
		field("Log", s.Origin)
		field("Tree size", fmt.Sprint(s.TreeSize))
		field("Root hash", base64.StdEncoding.EncodeToString(s.RootHash))
		field("Checkpoint time", ts(s.CheckpointTime))
		field("Export entry", fmt.Sprintf("%d, leaf hash %s", s.ExportAuditSeq, base64.StdEncoding.EncodeToString(s.LeafHash)))
		field("Verifier key", s.VerifierKey)
		pdf.Ln(1)
		mono("Signed checkpoint:\n" + s.Note)
		var proof []string
		for _, h := range s.InclusionProof {
			proof = append(proof, base64.StdEncoding.EncodeToString(h))
		}
		mono("Inclusion proof:\n" + strings.Join(proof, "\n"))
	} else {
		field("Checkpoint", "none: this server signs no checkpoints")
	}

	heading("Membership changes")
	for _, mc := range t.Membership {
		var ids []string
		for _, id := range mc.UserIDs {
			ids = append(ids, who(id))
		}
		field(ts(mc.At), fmt.Sprintf("%s by %s: %s (audit entry %d)", mc.Action, who(mc.ByID), strings.Join(ids, ", "), mc.AuditSeq))
	}

	heading("Messages")
	for _, m := range t.Messages {
		pdf.SetFont("go", "B", 10)
		flags := m.Priority
		if m.RequiresAck {
			flags += ", acknowledgement required"
		}
		if m.Deleted {
			flags += ", DELETED"
		}
		pdf.MultiCell(0, 6, fmt.Sprintf("#%d  %s  —  %s  [%s]", m.Seq, who(m.SenderID), ts(m.CreatedAt), flags), "T", "L", false)
		for _, v := range m.Versions {
			label := fmt.Sprintf("version %d, %s", v.Version, ts(v.At))
			body := v.Body
			switch {
			case v.Shredded:
				body = "[content destroyed: the conversation's key was shredded]"
			case v.Deleted:
				body = "[deleted]"
			}
			pdf.SetFont("go", "B", 8)
			pdf.MultiCell(0, 4, label, "", "L", false)
			pdf.SetFont("go", "", 9)
			pdf.MultiCell(0, 4.5, body, "", "L", false)
		}
		if len(m.Receipts) > 0 {
			pdf.SetFont("go", "", 7.5)
			for _, r := range m.Receipts {
				pdf.MultiCell(0, 3.8, fmt.Sprintf("  %s: delivered %s · read %s · acknowledged %s", who(r.UserID), tsp(r.DeliveredAt), tsp(r.ReadAt), tsp(r.AckedAt)), "", "L", false)
			}
		}
		pdf.Ln(1)
	}

	heading("People")
	for _, p := range t.People {
		field(p.DisplayName, fmt.Sprintf("%s · %s · %s · %s · %s · %s", p.ID, p.JobTitle, p.Profession, p.Registration, p.OrgRole, p.Status))
	}

	heading("Audit entries about this conversation")
	pdf.SetFont("go", "", 7.5)
	for _, e := range t.AuditEntries {
		pdf.MultiCell(0, 3.8, fmt.Sprintf("%d  %s  %s  %s  %s %s  %s", e.Seq, ts(e.At), who(e.ActorID), e.Action, e.TargetType, e.TargetID, e.Outcome), "", "L", false)
	}

	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("render transcript PDF: %w", err)
	}
	return buf.Bytes(), nil
}
