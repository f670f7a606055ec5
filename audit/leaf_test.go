package audit

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/rfc6962"

	"wardline"
)

// TestLeafData_Golden pins the encoding byte by byte: changing it would orphan every signed
// checkpoint ever made, so it may change only under a new version prefix.
func TestLeafData_Golden(t *testing.T) {
	e := &wardline.AuditEvent{
		Seq:    1,
		At:     time.Unix(0, 1000).In(time.FixedZone("BST", 3600)),
		ID:     "a",
		Action: "x",
		Detail: map[string]any{"s": "é\n", "n": 5},
	}
	var want []byte
	want = append(want, "wardline.audit.v1\x00"...)
	want = append(want, 0, 0, 0, 0, 0, 0, 0, 1) // Seq
	want = append(want, 0, 0, 0, 0, 0, 0, 0, 1) // At: 1 µs after the epoch
	want = append(want, 1, 'a')                 // ID
	want = append(want, 0, 0, 0, 0)             // OrgID, ActorID, SessionID, Addr
	want = append(want, 1, 'x')                 // Action
	want = append(want, 0, 0, 0, 0, 0)          // TargetType, TargetID, ConversationID, Outcome, Justification
	want = append(want, 2)                      // two Detail keys, sorted
	want = append(want, 1, 'n', 1, '5')
	want = append(want, 1, 's', 6, '"', 0xc3, 0xa9, '\\', 'n', '"')
	if got := LeafData(e); !bytes.Equal(got, want) {
		t.Fatalf("LeafData:\n got %q\nwant %q", got, want)
	}
	if got, want := LeafHash(e), naiveLeaf(want); !bytes.Equal(got, want) {
		t.Fatalf("LeafHash = %x, want %x", got, want)
	}
	if got, want := LeafHash(e), rfc6962.DefaultHasher.HashLeaf(LeafData(e)); !bytes.Equal(got, want) {
		t.Fatalf("LeafHash = %x, want the rfc6962 hasher's %x", got, want)
	}
}

func TestLeafData_EveryFieldChangesIt(t *testing.T) {
	tests := []struct {
		field  string // the AuditEvent field the case changes
		name   string
		change func(e *wardline.AuditEvent)
	}{
		{"Seq", "Seq", func(e *wardline.AuditEvent) { e.Seq++ }},
		{"At", "At by a microsecond", func(e *wardline.AuditEvent) { e.At = e.At.Add(time.Microsecond) }},
		{"At", "At by a day", func(e *wardline.AuditEvent) { e.At = e.At.AddDate(0, 0, 1) }},
		{"ID", "ID", func(e *wardline.AuditEvent) { e.ID += "0" }},
		{"OrgID", "OrgID", func(e *wardline.AuditEvent) { e.OrgID = "other" }},
		{"ActorID", "ActorID", func(e *wardline.AuditEvent) { e.ActorID = "" }},
		{"SessionID", "SessionID", func(e *wardline.AuditEvent) { e.SessionID = "s2" }},
		{"Addr", "Addr", func(e *wardline.AuditEvent) { e.Addr = "10.1.2.4" }},
		{"Action", "Action", func(e *wardline.AuditEvent) { e.Action = wardline.ActionMessageDeleted }},
		{"TargetType", "TargetType", func(e *wardline.AuditEvent) { e.TargetType = "user" }},
		{"TargetID", "TargetID", func(e *wardline.AuditEvent) { e.TargetID = "t" }},
		{"ConversationID", "ConversationID", func(e *wardline.AuditEvent) { e.ConversationID = "" }},
		{"Outcome", "Outcome", func(e *wardline.AuditEvent) { e.Outcome = wardline.OutcomeDenied }},
		{"Justification", "Justification", func(e *wardline.AuditEvent) { e.Justification = "IG case 7" }},
		{"Detail", "value", func(e *wardline.AuditEvent) { e.Detail["count"] = 2 }},
		{"Detail", "value type", func(e *wardline.AuditEvent) { e.Detail["count"] = "1" }},
		{"Detail", "value to null", func(e *wardline.AuditEvent) { e.Detail["count"] = nil }},
		{"Detail", "key added", func(e *wardline.AuditEvent) { e.Detail["from_seq"] = 1 }},
		{"Detail", "key removed", func(e *wardline.AuditEvent) { delete(e.Detail, "count") }},
		{"Detail", "key renamed", func(e *wardline.AuditEvent) { e.Detail["count2"] = e.Detail["count"]; delete(e.Detail, "count") }},
		{"Detail", "nested value", func(e *wardline.AuditEvent) { e.Detail["ids"] = []string{"a", "c"} }},
		{"Detail", "fraction", func(e *wardline.AuditEvent) { e.Detail["count"] = 1.5 }},
		{"Detail", "all removed", func(e *wardline.AuditEvent) { e.Detail = nil }},
	}

	// Every field of AuditEvent must have a case, so that a field added later is covered.
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.field] = true
	}
	for _, f := range reflect.VisibleFields(reflect.TypeFor[wardline.AuditEvent]()) {
		if !covered[f.Name] {
			t.Errorf("no case changes AuditEvent.%s", f.Name)
		}
	}

	base := func() *wardline.AuditEvent {
		e := testEvent(42)
		e.Justification = "audit review"
		e.Detail["ids"] = []string{"a", "b"}
		return e
	}
	orig := LeafData(base())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := base()
			tt.change(e)
			if bytes.Equal(LeafData(e), orig) {
				t.Fatal("LeafData did not change")
			}
			if bytes.Equal(LeafHash(e), LeafHash(base())) {
				t.Fatal("LeafHash did not change")
			}
		})
	}
}

// TestLeafData_FieldBoundaries checks that bytes cannot move between neighbouring fields.
func TestLeafData_FieldBoundaries(t *testing.T) {
	a, b := testEvent(1), testEvent(1)
	a.ID, a.OrgID = "ab", "c"
	b.ID, b.OrgID = "a", "bc"
	if bytes.Equal(LeafData(a), LeafData(b)) {
		t.Error("moving a byte from ID to OrgID left LeafData unchanged")
	}
	a.Detail, b.Detail = map[string]any{"ab": "c"}, map[string]any{"a": "bc"}
	if bytes.Equal(LeafData(a), LeafData(b)) {
		t.Error("moving a byte from a Detail key to its value left LeafData unchanged")
	}
}

// TestLeafData_SameEvent checks that representations of one event that a store may hand back
// encode alike, so that a verifier recomputes the hash the writer computed.
func TestLeafData_SameEvent(t *testing.T) {
	orig := testEvent(7)
	orig.At = orig.At.Add(123 * time.Microsecond)
	orig.Detail = map[string]any{
		"from_seq": int64(3), "count": 20, "ratio": 0.25, "big": int64(1) << 40,
		"ids": []string{"x", "y"}, "nested": map[string]int{"b": 2, "a": 1},
		"label": "<a&b> \u2028 \"q\"", "ok": true, "none": nil, "f32": float32(0.1),
	}
	want := LeafData(orig)

	tests := []struct {
		name string
		e    func() *wardline.AuditEvent
	}{
		{"nanoseconds beyond the microsecond", func() *wardline.AuditEvent {
			e := *orig
			e.At = e.At.Add(999 * time.Nanosecond)
			return &e
		}},
		{"another time zone", func() *wardline.AuditEvent {
			e := *orig
			e.At = e.At.In(time.FixedZone("X", -5*3600))
			return &e
		}},
		{"JSON round trip with float64 numbers", func() *wardline.AuditEvent {
			return jsonRoundTrip(t, orig, false)
		}},
		{"JSON round trip with json.Number", func() *wardline.AuditEvent {
			return jsonRoundTrip(t, orig, true)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LeafData(tt.e()); !bytes.Equal(got, want) {
				t.Fatalf("LeafData differs:\n got %q\nwant %q", got, want)
			}
		})
	}

	empty, none := testEvent(1), testEvent(1)
	empty.Detail, none.Detail = map[string]any{}, nil
	if !bytes.Equal(LeafData(empty), LeafData(none)) {
		t.Error("an empty and a nil Detail encode differently")
	}
}

func jsonRoundTrip(t *testing.T, e *wardline.AuditEvent, useNumber bool) *wardline.AuditEvent {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if useNumber {
		d.UseNumber()
	}
	var out wardline.AuditEvent
	if err := d.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func TestLeafData_CanonicalNumbers(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{5, "5"}, {int64(-5), "-5"}, {5.0, "5"}, {json.Number("5.0"), "5"}, {json.Number("5e0"), "5"},
		{json.Number("-0"), "0"}, {0.25, "0.25"}, {json.Number("2.5e-1"), "0.25"},
		{uint64(1) << 63, "9223372036854775808"}, {1e21, "1e+21"}, {float32(0.1), "0.1"},
		{"a\"\\\x01/<", `"a\"\\\u0001/<"`}, {"\xff", "\"\ufffd\""},
		{[]int{2, 1}, "[2,1]"}, {map[string]any{"b": 1, "a": []any{}}, `{"a":[],"b":1}`},
		{struct{ B, A int }{1, 2}, `{"A":2,"B":1}`},
	}
	for _, tt := range tests {
		if got := string(appendCanonicalValue(nil, tt.v)); got != tt.want {
			t.Errorf("canonical JSON of %#v = %s, want %s", tt.v, got, tt.want)
		}
	}
}

func BenchmarkLeafHash(b *testing.B) {
	e := testEvent(123456)
	b.ReportAllocs()
	for b.Loop() {
		LeafHash(e)
	}
}
