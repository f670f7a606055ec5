package wardline

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// Patient is a person the organisation's staff talk about. The NHS number, name and date of birth
// are plaintext in memory only: the store holds them sealed under the patient's own data key (so
// that erasing one patient is destroying one key) and finds a patient by NHSHMAC, a keyed hash.
type Patient struct {
	ID          string `json:"id"`
	NHSNumber   string `json:"nhs_number"`    // 10 digits, no spaces
	Name        string `json:"name"`          //
	DateOfBirth string `json:"date_of_birth"` // YYYY-MM-DD
	OptedOut    bool   `json:"opted_out"`     // national data opt-out

	OrgID      string    `json:"-"`
	CreatedAt  time.Time `json:"-"`
	CreatedBy  string    `json:"-"`
	NHSHMAC    string    `json:"-"` // IdentifierHMAC of the NHS number under the organisation's key
	NHSSealed  []byte    `json:"-"`
	NameSealed []byte    `json:"-"`
	DOBSealed  []byte    `json:"-"`
	// Shredded is set when the patient's key was destroyed: the identifiers no longer exist.
	Shredded bool `json:"-"`
}

// NHS numbers: ten digits, the last a Modulus 11 check digit over the first nine (weights 10 to 2).
// See the NHS Data Dictionary, "NHS Number".

// NormalizeNHSNumber returns the ten digits of s, which may be written with spaces (as clients
// show it, "943 476 5919"), or EINVALID when s is not a valid NHS number. The error never echoes
// the input.
func NormalizeNHSNumber(s string) (string, error) {
	digits := strings.Map(func(r rune) rune {
		if r == ' ' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if len(digits) != 10 {
		return "", Errorf(EINVALID, "nhs_number must be 10 digits")
	}
	for i := 0; i < 10; i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return "", Errorf(EINVALID, "nhs_number must be 10 digits")
		}
	}
	if NHSCheckDigit(digits[:9]) != int(digits[9]-'0') {
		return "", Errorf(EINVALID, "nhs_number fails the Modulus 11 check")
	}
	return digits, nil
}

// NHSCheckDigit returns the Modulus 11 check digit of nine digits, or -1 when there is none (a
// remainder that gives 10: no NHS number starts with those nine digits).
func NHSCheckDigit(nine string) int {
	if len(nine) != 9 {
		return -1
	}
	sum := 0
	for i := 0; i < 9; i++ {
		d := int(nine[i] - '0')
		if d < 0 || d > 9 {
			return -1
		}
		sum += d * (10 - i)
	}
	check := 11 - sum%11
	switch check {
	case 11:
		return 0
	case 10:
		return -1
	}
	return check
}

// FormatNHSNumber writes ten digits the way people read them: "943 476 5919".
func FormatNHSNumber(digits string) string {
	if len(digits) != 10 {
		return digits
	}
	return digits[:3] + " " + digits[3:6] + " " + digits[6:]
}

// MaxPatientNameLength bounds a patient's name, in Unicode characters.
const MaxPatientNameLength = 200

// ParseDateOfBirth checks a YYYY-MM-DD date that may be someone's birthday at now: not in the
// future and not before 1880.
func ParseDateOfBirth(s string, now time.Time) (string, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil || d.Format(time.DateOnly) != s {
		return "", Errorf(EINVALID, "date_of_birth must be a date, YYYY-MM-DD")
	}
	if d.Year() < 1880 || d.After(now) {
		return "", Errorf(EINVALID, "date_of_birth must be a past date")
	}
	return s, nil
}

// NewPatient is what a client supplies to register a patient.
type NewPatient struct {
	NHSNumber   string `json:"nhs_number"`
	Name        string `json:"name"`
	DateOfBirth string `json:"date_of_birth"`
	OptedOut    bool   `json:"opted_out"`
}

// Validate normalises n and reports the first thing wrong with it, as of now.
func (n *NewPatient) Validate(now time.Time) error {
	var err error
	if n.NHSNumber, err = NormalizeNHSNumber(n.NHSNumber); err != nil {
		return err
	}
	n.Name = strings.TrimSpace(n.Name)
	if n.Name == "" || !utf8.ValidString(n.Name) {
		return Errorf(EINVALID, "name is required")
	}
	if utf8.RuneCountInString(n.Name) > MaxPatientNameLength {
		return Errorf(EINVALID, "name must be at most %d characters", MaxPatientNameLength)
	}
	n.DateOfBirth, err = ParseDateOfBirth(n.DateOfBirth, now)
	return err
}

// PatientLookup finds a registered patient: both the NHS number and the date of birth must match.
type PatientLookup struct {
	NHSNumber   string `json:"nhs_number"`
	DateOfBirth string `json:"date_of_birth"`
}

// Validate normalises l.
func (l *PatientLookup) Validate(now time.Time) error {
	var err error
	if l.NHSNumber, err = NormalizeNHSNumber(l.NHSNumber); err != nil {
		return err
	}
	l.DateOfBirth, err = ParseDateOfBirth(l.DateOfBirth, now)
	return err
}

// PatientUpdate changes what may change about a patient: the national data opt-out.
type PatientUpdate struct {
	OptedOut *bool `json:"opted_out"`
}

// PatientAccessWindow is how long registering or looking a patient up lets someone see them
// without being in a conversation about them.
const PatientAccessWindow = 24 * time.Hour

// PatientService registers and finds patients and shows their timelines.
type PatientService interface {
	Register(ctx context.Context, n NewPatient) (p *Patient, created bool, err error)
	Lookup(ctx context.Context, l PatientLookup) (*Patient, error)
	Patient(ctx context.Context, id string) (*Patient, error)
	UpdatePatient(ctx context.Context, id string, u PatientUpdate) (*Patient, error)
	Timeline(ctx context.Context, id, cursor string, limit int) ([]*Message, string, error)
}

// Audit actions of the clinical workflow.
const (
	ActionPatientRegistered     = "patient.registered"
	ActionPatientMatched        = "patient.matched" // a registration that found the patient already there
	ActionPatientLookedUp       = "patient.looked_up"
	ActionPatientViewed         = "patient.viewed"
	ActionPatientUpdated        = "patient.updated"
	ActionPatientTimelineViewed = "patient.timeline_viewed"
	ActionConvUpdated           = "conversation.updated"
	ActionRoleCreated           = "role.created"
	ActionRoleUpdated           = "role.updated"
	ActionRoleTaken             = "role.taken"
	ActionRoleReleased          = "role.released"
	ActionRoleHandedOver        = "role.handed_over"
	ActionRotaEntryCreated      = "role.rota_entry_created"
	ActionRotaStarted           = "role.rota_started"
	ActionRotaEnded             = "role.rota_ended"
	ActionRotaEntryCancelled    = "role.rota_entry_cancelled"
	ActionEscalationStep        = "message.escalated"
	ActionMessageForwarded      = "message.forwarded_to_cover"
	ActionDutyStatusSet         = "user.duty_status_set"
	ActionClinicalPolicySet     = "admin.clinical_policy_set"
)
