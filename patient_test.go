package wardline_test

import (
	"testing"
	"time"

	"wardline"
)

func TestNormalizeNHSNumber(t *testing.T) {
	cases := []struct {
		name, in, want string // want "" means invalid
	}{
		{"valid", "9434765919", "9434765919"},
		{"valid with spaces as shown", "943 476 5919", "9434765919"},
		{"valid with stray spaces", " 94 3476591 9 ", "9434765919"},
		{"valid, check digit 0 (remainder 0)", "4860129040", "4860129040"},
		{"valid, another", "4010232137", "4010232137"},
		{"wrong check digit", "9434765918", ""},
		{"digits swapped", "9434765991", ""},
		{"remainder 10: no check digit fits", "1234567890", ""},
		{"remainder 10, any last digit", "1234567891", ""},
		{"too short", "943476591", ""},
		{"too long", "94347659190", ""},
		{"empty", "", ""},
		{"letters", "94347659AB", ""},
		{"hyphens are not spaces", "943-476-5919", ""},
		{"tabs are not spaces", "943\t476\t5919", ""},
		{"unicode digits", "９４３４７６５９１９", ""},
		{"minus sign", "-943476591", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := wardline.NormalizeNHSNumber(tc.in)
			if tc.want == "" {
				if wardline.ErrorCode(err) != wardline.EINVALID {
					t.Fatalf("NormalizeNHSNumber(%q) = %q, %v; want an invalid error", tc.in, got, err)
				}
				if msg := wardline.ErrorMessage(err); len(tc.in) > 3 && contains(msg, tc.in) {
					t.Fatalf("the error echoes the number: %q", msg)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("NormalizeNHSNumber(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestNHSCheckDigit(t *testing.T) {
	for nine, want := range map[string]int{"943476591": 9, "401023213": 7, "486012904": 0, "123456789": -1, "12345678": -1, "12345678x": -1} {
		if got := wardline.NHSCheckDigit(nine); got != want {
			t.Errorf("NHSCheckDigit(%q) = %d, want %d", nine, got, want)
		}
	}
	if got := wardline.FormatNHSNumber("9434765919"); got != "943 476 5919" {
		t.Errorf("FormatNHSNumber = %q", got)
	}
}

func TestNewPatientValidate(t *testing.T) {
	now := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	ok := wardline.NewPatient{NHSNumber: "943 476 5919", Name: "  Ada Lovelace ", DateOfBirth: "1945-03-10"}
	if err := ok.Validate(now); err != nil || ok.NHSNumber != "9434765919" || ok.Name != "Ada Lovelace" {
		t.Fatalf("valid patient: %+v, %v", ok, err)
	}
	for name, n := range map[string]wardline.NewPatient{
		"bad number":         {NHSNumber: "9434765918", Name: "A", DateOfBirth: "1945-03-10"},
		"no name":            {NHSNumber: "9434765919", Name: "  ", DateOfBirth: "1945-03-10"},
		"long name":          {NHSNumber: "9434765919", Name: string(make([]byte, 201)), DateOfBirth: "1945-03-10"},
		"date format":        {NHSNumber: "9434765919", Name: "A", DateOfBirth: "10/03/1945"},
		"not a date":         {NHSNumber: "9434765919", Name: "A", DateOfBirth: "1945-02-30"},
		"born in the future": {NHSNumber: "9434765919", Name: "A", DateOfBirth: "2026-01-06"},
		"too long ago":       {NHSNumber: "9434765919", Name: "A", DateOfBirth: "1879-12-31"},
	} {
		if err := n.Validate(now); wardline.ErrorCode(err) != wardline.EINVALID {
			t.Errorf("%s: got %v, want invalid", name, err)
		}
	}
}

func TestEffectiveDuty(t *testing.T) {
	wh := &wardline.WorkingHours{Start: "08:00", End: "18:00", TimeZone: "Europe/London", Weekdays: []int{1, 2, 3, 4, 5}}
	if err := wh.Prepare(); err != nil {
		t.Fatal(err)
	}
	night := &wardline.WorkingHours{Start: "20:00", End: "08:00", TimeZone: "Europe/London", Weekdays: []int{1}}
	if err := night.Prepare(); err != nil {
		t.Fatal(err)
	}
	monday := func(h, m int) time.Time { return time.Date(2026, 7, 6, h, m, 0, 0, time.UTC) } // BST: local = UTC+1
	later := monday(23, 0)
	cases := []struct {
		name   string
		status string
		until  *time.Time
		wh     *wardline.WorkingHours
		at     time.Time
		want   string
	}{
		{"nothing set, no working hours", "", nil, nil, monday(3, 0), wardline.DutyOn},
		{"inside working hours (09:00 BST)", "", nil, wh, monday(8, 0), wardline.DutyOn},
		{"before working hours (07:59 BST)", "", nil, wh, monday(6, 59), wardline.DutyOff},
		{"at the end of working hours", "", nil, wh, monday(17, 0), wardline.DutyOff},
		{"weekend", "", nil, wh, monday(10, 0).AddDate(0, 0, -1), wardline.DutyOff},
		{"set off duty, within working hours", wardline.DutyOff, nil, wh, monday(10, 0), wardline.DutyOff},
		{"set on leave until later", wardline.DutyLeave, &later, nil, monday(10, 0), wardline.DutyLeave},
		{"a setting that has ended", wardline.DutyOn, &later, wh, later.Add(time.Hour), wardline.DutyOff},
		{"night shift evening", "", nil, night, monday(21, 0), wardline.DutyOn},
		{"night shift next morning", "", nil, night, monday(5, 0).AddDate(0, 0, 1), wardline.DutyOn},
		{"night shift, not its night", "", nil, night, monday(21, 0).AddDate(0, 0, 1), wardline.DutyOff},
	}
	for _, tc := range cases {
		if got := wardline.EffectiveDuty(tc.status, tc.until, tc.wh, tc.at); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestClinicalPolicyNormalize(t *testing.T) {
	var p wardline.ClinicalPolicy
	if err := p.Normalize(); err != nil || p.Escalation != wardline.DefaultEscalation {
		t.Fatalf("defaults: %+v, %v", p.Escalation, err)
	}
	if !p.HasCategory("handover") || p.HasCategory("theatres") {
		t.Fatal("built-in categories")
	}
	for name, bad := range map[string]wardline.ClinicalPolicy{
		"minutes":            {Escalation: wardline.EscalationPolicy{UrgentAfterMinutes: 1441}},
		"steps":              {Escalation: wardline.EscalationPolicy{Steps: 11}},
		"category shape":     {Categories: []string{"Theatres!"}},
		"built-in category":  {Categories: []string{"clinical"}},
		"repeated category":  {Categories: []string{"x", "x"}},
		"working hours":      {WorkingHours: &wardline.WorkingHours{Start: "8am", End: "18:00"}},
		"time zone":          {WorkingHours: &wardline.WorkingHours{Start: "08:00", End: "18:00", TimeZone: "Mars/Olympus"}},
		"weekday":            {WorkingHours: &wardline.WorkingHours{Start: "08:00", End: "18:00", Weekdays: []int{0}}},
		"covering role id":   {CoveringRoleID: ptr("ward 7")},
		"same start and end": {WorkingHours: &wardline.WorkingHours{Start: "08:00", End: "08:00"}},
	} {
		if err := bad.Normalize(); wardline.ErrorCode(err) != wardline.EINVALID {
			t.Errorf("%s: got %v, want invalid", name, err)
		}
	}
}

func ptr[T any](v T) *T { return &v }
