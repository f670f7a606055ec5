package wardline

import (
	"fmt"
	"strings"
	"time"
)

// EventAlert is the event-stream type that tells an organisation's auditors of a new alert.
const EventAlert = "alert"

// Alert kinds: each names one pattern of access that IG officers want to hear about at once.
const (
	AlertManyConversations = "many_conversations_read" // one person read many conversations in an hour
	AlertManyPatients      = "many_patients_read"      // one person read many patients' records in an hour
	AlertOffHours          = "access_outside_hours"    // content or patient data read outside working hours
	AlertBulkExport        = "bulk_export"             // one person exported many items in an hour
	AlertFailedSignIns     = "failed_sign_ins_account" // many failed sign-ins for one account in an hour
	AlertFailedSignInsAddr = "failed_sign_ins_address" // many failed sign-ins from one address in an hour
	AlertNewDevice         = "new_device"              // a sign-in from a device not seen for this person
	AlertPatientNoConv     = "patient_read_outside_conversation"
)

// AlertKinds lists every kind, in the order the API documents them.
var AlertKinds = []string{AlertManyConversations, AlertManyPatients, AlertOffHours, AlertBulkExport,
	AlertFailedSignIns, AlertFailedSignInsAddr, AlertNewDevice, AlertPatientNoConv}

// Alert is one raised alert. It names people and counts, never content or patients.
type Alert struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"org_id"`
	Kind      string    `json:"kind"`
	At        time.Time `json:"at"`
	UserID    string    `json:"user_id"`     // whom it concerns; "" for an address
	Addr      string    `json:"source_addr"` // the source address, where it matters
	TargetID  string    `json:"target_id"`   // the patient read, the device fingerprint; or ""
	Count     int       `json:"count"`       // what was counted in the window
	Threshold int       `json:"threshold"`   // the organisation's threshold it reached
	AuditSeq  int64     `json:"audit_seq"`   // the entry that raised it
	Message   string    `json:"message"`
}

// AlertFilter selects alerts of one organisation, newest first.
type AlertFilter struct {
	OrgID  string
	Kind   string
	UserID string
	Since  time.Time
	Cursor string
	Limit  int
}

// AlertPolicy is what an organisation sets for its alerts. Zero fields take the defaults of
// DefaultAlertPolicy; Normalize fills them in. Thresholds count within one hour.
type AlertPolicy struct {
	ConversationsPerHour  int      `json:"conversations_read_per_hour"`
	PatientsPerHour       int      `json:"patients_read_per_hour"`
	ExportItemsPerHour    int      `json:"export_items_per_hour"`
	FailedSignInsAccount  int      `json:"failed_sign_ins_per_account"`
	FailedSignInsAddress  int      `json:"failed_sign_ins_per_address"`
	WorkingHours          string   `json:"working_hours"` // "HH:MM-HH:MM" local time; may wrap midnight
	TimeZone              string   `json:"time_zone"`     // IANA name
	Disabled              []string `json:"disabled"`      // alert kinds the organisation turned off
	CooldownMinutesPerKey int      `json:"cooldown_minutes"`
}

// DefaultAlertPolicy is what an organisation gets until it says otherwise. The numbers are
// far above what a clinician's normal day produces (a ward nurse opens a dozen conversations in
// an hour), so that an alert means something.
var DefaultAlertPolicy = AlertPolicy{
	ConversationsPerHour:  40,
	PatientsPerHour:       25,
	ExportItemsPerHour:    5000,
	FailedSignInsAccount:  5,
	FailedSignInsAddress:  20,
	WorkingHours:          "07:00-20:00",
	TimeZone:              "Europe/London",
	CooldownMinutesPerKey: 60,
}

// MaxAlertThreshold bounds every threshold.
const MaxAlertThreshold = 1_000_000

// Normalize fills unset fields with the defaults.
func (p AlertPolicy) Normalize() AlertPolicy {
	d := DefaultAlertPolicy
	def := func(v *int, dv int) {
		if *v <= 0 {
			*v = dv
		}
	}
	def(&p.ConversationsPerHour, d.ConversationsPerHour)
	def(&p.PatientsPerHour, d.PatientsPerHour)
	def(&p.ExportItemsPerHour, d.ExportItemsPerHour)
	def(&p.FailedSignInsAccount, d.FailedSignInsAccount)
	def(&p.FailedSignInsAddress, d.FailedSignInsAddress)
	def(&p.CooldownMinutesPerKey, d.CooldownMinutesPerKey)
	if p.WorkingHours == "" {
		p.WorkingHours = d.WorkingHours
	}
	if p.TimeZone == "" {
		p.TimeZone = d.TimeZone
	}
	if p.Disabled == nil {
		p.Disabled = []string{}
	}
	return p
}

// Validate reports the first thing wrong with p (after Normalize) as an EINVALID error.
func (p AlertPolicy) Validate() error {
	for name, v := range map[string]int{
		"conversations_read_per_hour": p.ConversationsPerHour, "patients_read_per_hour": p.PatientsPerHour,
		"export_items_per_hour": p.ExportItemsPerHour, "failed_sign_ins_per_account": p.FailedSignInsAccount,
		"failed_sign_ins_per_address": p.FailedSignInsAddress, "cooldown_minutes": p.CooldownMinutesPerKey,
	} {
		if v < 1 || v > MaxAlertThreshold {
			return Errorf(EINVALID, "%s must be between 1 and %d", name, MaxAlertThreshold)
		}
	}
	if p.CooldownMinutesPerKey > 24*60 {
		return Errorf(EINVALID, "cooldown_minutes must be at most a day (1440)")
	}
	if _, _, err := ParseWorkingHours(p.WorkingHours); err != nil {
		return err
	}
	if _, err := time.LoadLocation(p.TimeZone); err != nil || p.TimeZone == "Local" {
		return Errorf(EINVALID, "time_zone must be an IANA time zone name such as Europe/London")
	}
	for _, k := range p.Disabled {
		if !p.known(k) {
			return Errorf(EINVALID, "disabled names an unknown alert kind")
		}
	}
	return nil
}

func (AlertPolicy) known(kind string) bool {
	for _, k := range AlertKinds {
		if k == kind {
			return true
		}
	}
	return false
}

// Enabled reports whether the organisation wants alerts of kind.
func (p AlertPolicy) Enabled(kind string) bool {
	for _, k := range p.Disabled {
		if k == kind {
			return false
		}
	}
	return true
}

// ParseWorkingHours reads "HH:MM-HH:MM" into minutes after midnight. An end before the start
// wraps past midnight (a night team's "20:00-08:00").
func ParseWorkingHours(s string) (start, end int, err error) {
	bad := Errorf(EINVALID, "working_hours must look like 07:00-20:00")
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, bad
	}
	parse := func(v string) (int, bool) {
		var h, m int
		if len(v) != 5 || v[2] != ':' {
			return 0, false
		}
		if _, err := fmt.Sscanf(v, "%02d:%02d", &h, &m); err != nil || h > 23 || m > 59 || h < 0 || m < 0 {
			return 0, false
		}
		return h*60 + m, true
	}
	var okA, okB bool
	if start, okA = parse(a); !okA {
		return 0, 0, bad
	}
	if end, okB = parse(b); !okB || start == end {
		return 0, 0, bad
	}
	return start, end, nil
}

// WithinWorkingHours reports whether t falls in the window [start, end) minutes of local time.
func WithinWorkingHours(t time.Time, loc *time.Location, start, end int) bool {
	lt := t.In(loc)
	m := lt.Hour()*60 + lt.Minute()
	if start < end {
		return m >= start && m < end
	}
	return m >= start || m < end
}
