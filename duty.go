package wardline

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // working hours name a time zone; servers in containers often lack zoneinfo
)

// Duty statuses (User.DutyStatus).
const (
	DutyOn    = "on_duty"
	DutyOff   = "off_duty"
	DutyLeave = "on_leave"
)

// ValidDutyStatus reports whether s is a duty status.
func ValidDutyStatus(s string) bool { return s == DutyOn || s == DutyOff || s == DutyLeave }

// DutySetting is a status someone set for themselves (PUT /me/status), or that a rota set: it
// holds until Until (nil: until changed), after which working hours decide again.
type DutySetting struct {
	Status         string     `json:"status"`
	Until          *time.Time `json:"until"`
	CoveringRoleID *string    `json:"covering_role_id"`
}

// EffectiveDuty is the status of someone at now: what they (or a rota) set, while it lasts;
// otherwise the organisation's working hours, if it has any; otherwise on duty.
func EffectiveDuty(status string, until *time.Time, wh *WorkingHours, now time.Time) string {
	if status != "" && (until == nil || now.Before(*until)) {
		return status
	}
	if wh != nil && !wh.Contains(now) {
		return DutyOff
	}
	return DutyOn
}

// Conversation categories every organisation has; an organisation may add its own.
var BuiltinCategories = []string{"clinical", "handover", "referral", "admin", "social"}

// Conversation statuses.
const (
	ConvOpen     = "open"
	ConvResolved = "resolved"
)

var categoryPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// ClinicalPolicy is what an organisation sets for its clinical workflow. Zero fields take the
// defaults (Normalize).
type ClinicalPolicy struct {
	Escalation EscalationPolicy `json:"escalation"`
	// Categories are the organisation's own conversation categories, beside BuiltinCategories.
	Categories []string `json:"categories"`
	// WorkingHours, when set, make people without a status of their own off duty outside them.
	WorkingHours *WorkingHours `json:"working_hours"`
	// AlertOffDuty: urgent and emergency messages alert an off-duty recipient as well as going to
	// the covering role (by default they reach the person silently).
	AlertOffDuty bool `json:"alert_off_duty"`
	// CoveringRoleID covers for anyone off duty who has not named a covering role of their own.
	CoveringRoleID *string `json:"covering_role_id"`
}

// EscalationPolicy says when an unacknowledged urgent or emergency message escalates, and how
// many times.
type EscalationPolicy struct {
	UrgentAfterMinutes    int `json:"urgent_after_minutes"`
	EmergencyAfterMinutes int `json:"emergency_after_minutes"`
	// Steps is the last step: after it the escalation is exhausted.
	Steps int `json:"steps"`
}

// DefaultEscalation is the escalation policy of an organisation that set none.
var DefaultEscalation = EscalationPolicy{UrgentAfterMinutes: 5, EmergencyAfterMinutes: 2, Steps: 3}

// Interval is how long a message of the given priority waits for acknowledgement before each step;
// zero for a priority that does not escalate.
func (p EscalationPolicy) Interval(priority string) time.Duration {
	switch priority {
	case PriorityUrgent:
		return time.Duration(p.UrgentAfterMinutes) * time.Minute
	case PriorityEmergency:
		return time.Duration(p.EmergencyAfterMinutes) * time.Minute
	}
	return 0
}

// WorkingHours are an organisation's default day: someone with no status of their own is on duty
// from Start to End (local time in TimeZone) on Weekdays (1 Monday ... 7 Sunday; empty: every
// day). An End before Start is a night that ends the next morning.
type WorkingHours struct {
	Start    string `json:"start"` // "08:00"
	End      string `json:"end"`   // "18:00"
	TimeZone string `json:"time_zone"`
	Weekdays []int  `json:"weekdays"`

	loc        *time.Location
	start, end int // minutes after midnight
}

func parseClock(s string) (int, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil || t.Format("15:04") != s {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// Prepare checks w and readies it for Contains.
func (w *WorkingHours) Prepare() error {
	var ok bool
	if w.start, ok = parseClock(w.Start); !ok {
		return Errorf(EINVALID, "working_hours.start must be HH:MM")
	}
	if w.end, ok = parseClock(w.End); !ok {
		return Errorf(EINVALID, "working_hours.end must be HH:MM")
	}
	if w.start == w.end {
		return Errorf(EINVALID, "working_hours must not start and end at the same time")
	}
	if w.TimeZone == "" {
		w.TimeZone = "Europe/London"
	}
	loc, err := time.LoadLocation(w.TimeZone)
	if err != nil || strings.Contains(w.TimeZone, "..") {
		return Errorf(EINVALID, "working_hours.time_zone must be an IANA time zone such as Europe/London")
	}
	w.loc = loc
	if len(w.Weekdays) > 7 {
		return Errorf(EINVALID, "working_hours.weekdays takes at most 7 days")
	}
	for _, d := range w.Weekdays {
		if d < 1 || d > 7 {
			return Errorf(EINVALID, "working_hours.weekdays are 1 (Monday) to 7 (Sunday)")
		}
	}
	return nil
}

func (w *WorkingHours) onDay(t time.Time) bool {
	if len(w.Weekdays) == 0 {
		return true
	}
	d := int(t.Weekday())
	if d == 0 {
		d = 7
	}
	return slices.Contains(w.Weekdays, d)
}

// Contains reports whether t falls within the working hours. Call Prepare first.
func (w *WorkingHours) Contains(t time.Time) bool {
	if w.loc == nil {
		if err := w.Prepare(); err != nil {
			return true // an unusable window protects nobody rather than silencing everyone
		}
	}
	lt := t.In(w.loc)
	m := lt.Hour()*60 + lt.Minute()
	if w.start < w.end {
		return w.onDay(lt) && m >= w.start && m < w.end
	}
	// A night: the evening of a working day, or the morning after one.
	return (w.onDay(lt) && m >= w.start) || (w.onDay(lt.AddDate(0, 0, -1)) && m < w.end)
}

// Normalize fills the defaults in and checks p.
func (p *ClinicalPolicy) Normalize() error {
	e := &p.Escalation
	if e.UrgentAfterMinutes == 0 {
		e.UrgentAfterMinutes = DefaultEscalation.UrgentAfterMinutes
	}
	if e.EmergencyAfterMinutes == 0 {
		e.EmergencyAfterMinutes = DefaultEscalation.EmergencyAfterMinutes
	}
	if e.Steps == 0 {
		e.Steps = DefaultEscalation.Steps
	}
	if e.UrgentAfterMinutes < 1 || e.UrgentAfterMinutes > 1440 || e.EmergencyAfterMinutes < 1 || e.EmergencyAfterMinutes > 1440 {
		return Errorf(EINVALID, "escalation minutes must be between 1 and 1440")
	}
	if e.Steps < 1 || e.Steps > 10 {
		return Errorf(EINVALID, "escalation.steps must be between 1 and 10")
	}
	if len(p.Categories) > 50 {
		return Errorf(EINVALID, "at most 50 categories of the organisation's own")
	}
	seen := map[string]bool{}
	for _, c := range p.Categories {
		if !categoryPattern.MatchString(c) {
			return Errorf(EINVALID, "a category is 1 to 40 lower-case letters, digits, - or _")
		}
		if seen[c] || slices.Contains(BuiltinCategories, c) {
			return Errorf(EINVALID, "categories must not repeat or name a built-in category")
		}
		seen[c] = true
	}
	if p.Categories == nil {
		p.Categories = []string{}
	}
	if p.WorkingHours != nil {
		if err := p.WorkingHours.Prepare(); err != nil {
			return err
		}
	}
	if p.CoveringRoleID != nil && !ValidID(*p.CoveringRoleID) {
		return Errorf(EINVALID, "covering_role_id must be a role id")
	}
	return nil
}

// HasCategory reports whether c is a category of the organisation (built in or its own).
func (p *ClinicalPolicy) HasCategory(c string) bool {
	return slices.Contains(BuiltinCategories, c) || slices.Contains(p.Categories, c)
}

// ClinicalPolicyService reads and sets the organisation's clinical policy and the caller's duty.
type ClinicalPolicyService interface {
	ClinicalPolicy(ctx context.Context) (*ClinicalPolicy, error)
	SetClinicalPolicy(ctx context.Context, p ClinicalPolicy) (*ClinicalPolicy, error)
	SetDutyStatus(ctx context.Context, s DutySetting) error
}
