// Package incident is incident command's domain: severities, the status lifecycle, roles,
// milestones and the durations they give, the incident and status-update clocks, the
// append-only timeline's entry kinds, status-update drafts, postmortem drafts and the
// MTTA/MTTR figures across incidents. It knows nothing of Fyne or SQLite: stores live in
// subpackages (incident/sqlite), and everything that depends on time takes it as an
// argument.
package incident

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opscockpit/opscockpit/datasource"
)

// Severity is an incident's severity, SEV1 (worst) to SEV4.
type Severity int

// Severities.
const (
	SEV1 Severity = 1
	SEV2 Severity = 2
	SEV3 Severity = 3
	SEV4 Severity = 4
)

// SeverityInfo is one severity's meaning, shown wherever a severity is picked.
type SeverityInfo struct {
	Severity Severity
	Meaning  string
}

// SeverityLevels lists the severities with their usual one-line meanings, worst first.
var SeverityLevels = []SeverityInfo{
	{SEV1, "critical: customer-facing outage, all hands"},
	{SEV2, "major: significant degradation or a key feature down for many customers"},
	{SEV3, "minor: limited impact, a workaround exists, fix within working hours"},
	{SEV4, "low: no customer impact yet, a near miss or cosmetic problem"},
}

// String returns "SEV1" … "SEV4".
func (s Severity) String() string { return "SEV" + strconv.Itoa(int(s)) }

// MarshalText writes "SEV2", so JSON (timeline fields, --json output) reads as people
// say it.
func (s Severity) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("severity %d: %w", int(s), ErrInvalidSeverity)
	}
	return []byte(s.String()), nil
}

// UnmarshalText accepts what ParseSeverity does.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Valid reports whether s is SEV1–SEV4.
func (s Severity) Valid() bool { return s >= SEV1 && s <= SEV4 }

// Meaning is the severity's one-line meaning; "" for an invalid severity.
func (s Severity) Meaning() string {
	if !s.Valid() {
		return ""
	}
	return SeverityLevels[s-1].Meaning
}

// ParseSeverity accepts "SEV2", "sev2" or "2".
func ParseSeverity(s string) (Severity, error) {
	t := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "SEV")
	n, err := strconv.Atoi(t)
	if err != nil || !Severity(n).Valid() {
		return 0, fmt.Errorf("severity %q: %w", s, ErrInvalidSeverity)
	}
	return Severity(n), nil
}

// Status is where an incident stands in its lifecycle.
type Status string

// Statuses, in lifecycle order.
const (
	Investigating Status = "investigating"
	Identified    Status = "identified"
	Mitigated     Status = "mitigated"
	Resolved      Status = "resolved"
)

// Statuses lists the statuses in lifecycle order.
var Statuses = []Status{Investigating, Identified, Mitigated, Resolved}

// ParseStatus accepts a status name in any case.
func ParseStatus(s string) (Status, error) {
	st := Status(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(Statuses, st) {
		return "", fmt.Errorf("status %q: %w", s, ErrInvalidStatus)
	}
	return st, nil
}

func (s Status) rank() int { return slices.Index(Statuses, s) }

// Open reports whether the incident is still being worked on (not resolved).
func (s Status) Open() bool { return s != Resolved }

// CheckTransition says whether an incident may move from one status to another with
// SetStatus. The rules:
//   - forward moves are allowed, skipping is allowed (investigating → mitigated: the
//     fix was found and applied at once; anything → resolved);
//   - from mitigated back to investigating or identified is allowed: the mitigation did
//     not hold, and saying so is better than pretending;
//   - nothing leaves resolved except an explicit Reopen, which lands on the timeline as
//     its own status change (reopen = true) back to investigating;
//   - identified → investigating is refused: a wrong diagnosis is a note or a
//     correction, the status stays where the work is.
//
// Moving to the current status is ErrNoChange.
func CheckTransition(from, to Status) error {
	if from.rank() < 0 || to.rank() < 0 {
		return &TransitionError{From: from, To: to}
	}
	switch {
	case from == to:
		return fmt.Errorf("status is already %s: %w", to, ErrNoChange)
	case from == Resolved:
		return &TransitionError{From: from, To: to, Hint: "reopen it instead"}
	case to.rank() > from.rank():
		return nil
	case from == Mitigated:
		return nil
	}
	return &TransitionError{From: from, To: to}
}

// TransitionError is a status change the lifecycle does not allow; it matches
// ErrInvalidTransition.
type TransitionError struct {
	From, To Status
	Hint     string
}

func (e *TransitionError) Error() string {
	msg := fmt.Sprintf("cannot move an incident from %s to %s", e.From, e.To)
	if e.Hint != "" {
		msg += ": " + e.Hint
	}
	return msg
}

// Is makes errors.Is(err, ErrInvalidTransition) true.
func (e *TransitionError) Is(target error) bool { return target == ErrInvalidTransition }

// Role is an incident role.
type Role string

// Roles.
const (
	Commander Role = "commander"
	OpsLead   Role = "ops"
	CommsLead Role = "comms"
	Scribe    Role = "scribe"
)

// Roles lists the roles in display order.
var Roles = []Role{Commander, OpsLead, CommsLead, Scribe}

// Title is the role's display name.
func (r Role) Title() string {
	switch r {
	case Commander:
		return "Incident commander"
	case OpsLead:
		return "Ops lead"
	case CommsLead:
		return "Comms lead"
	case Scribe:
		return "Scribe"
	}
	return string(r)
}

// ParseRole accepts a role key ("commander", "ops", "comms", "scribe"), also in the
// longer forms "incident-commander", "ic", "ops-lead", "comms-lead".
func ParseRole(s string) (Role, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "commander", "ic", "incident-commander", "incident_commander":
		return Commander, nil
	case "ops", "ops-lead", "ops_lead":
		return OpsLead, nil
	case "comms", "comms-lead", "comms_lead":
		return CommsLead, nil
	case "scribe":
		return Scribe, nil
	}
	return "", fmt.Errorf("role %q: %w", s, ErrInvalidRole)
}

// Incident is one incident's current state. Its history is the timeline.
type Incident struct {
	ID         int64
	Title      string
	Severity   Severity
	Status     Status
	Services   []string
	Roles      map[Role]string // role → name; a missing role is unassigned
	DeclaredBy string
	Milestones Milestones
	// LastUpdateAt is when the last status update was sent; zero when none was.
	LastUpdateAt time.Time
	// Alerts are the fingerprints of the alerts linked to the incident.
	Alerts []string
}

// DeclaredAt is the declared milestone.
func (inc Incident) DeclaredAt() time.Time { return inc.Milestones[MilestoneDeclared].At }

// Ref is the short reference people say: "INC-12".
func (inc Incident) Ref() string { return "INC-" + strconv.FormatInt(inc.ID, 10) }

// ActionItem is a postmortem follow-up. RiskID is set when the action became a risk in
// the risk register.
type ActionItem struct {
	ID         int64
	IncidentID int64
	Title      string
	Owner      string
	Due        time.Time // zero: no due date
	RiskID     string
	CreatedAt  time.Time
	CreatedBy  string
}

// Domain errors, matched with errors.Is.
var (
	ErrNotFound          = errors.New("no such incident")
	ErrEntryNotFound     = errors.New("no such timeline entry")
	ErrActionNotFound    = errors.New("no such action item")
	ErrInvalidSeverity   = errors.New("severity must be SEV1, SEV2, SEV3 or SEV4")
	ErrInvalidStatus     = errors.New("status must be investigating, identified, mitigated or resolved")
	ErrInvalidRole       = errors.New("role must be commander, ops, comms or scribe")
	ErrInvalidTransition = errors.New("status change not allowed")
	ErrNoChange          = errors.New("nothing changes")
	ErrNotResolved       = errors.New("only a resolved incident can be reopened")
	ErrReasonRequired    = errors.New("a reason is required")
	ErrEmpty             = errors.New("text is required")
	ErrInvalidMilestone  = errors.New("milestone must be started, detected, acknowledged, declared, mitigated or resolved")
	ErrInvalidKind       = errors.New("unknown timeline entry kind")
)

// Declaration is what it takes to declare an incident, by hand or from alerts.
type Declaration struct {
	Title    string
	Severity Severity
	Services []string
	// Alerts that prompted the declaration; the earliest StartsAt becomes the detected
	// milestone and each lands on the timeline as alert_firing.
	Alerts []datasource.Alert
	Roles  map[Role]string
	By     string
	At     time.Time
}

// Normalize fills what a declaration from alerts leaves implicit (the title from the
// first alert's summary or name, services from the alerts' service labels) and
// validates the rest.
func (d Declaration) Normalize() (Declaration, error) {
	d.Title = strings.TrimSpace(d.Title)
	if d.Title == "" && len(d.Alerts) > 0 {
		a := d.Alerts[0]
		d.Title = firstNonEmpty(a.Annotations["summary"], a.Labels["alertname"])
	}
	if d.Title == "" {
		return d, fmt.Errorf("declare: title: %w", ErrEmpty)
	}
	if !d.Severity.Valid() {
		return d, fmt.Errorf("declare: %w", ErrInvalidSeverity)
	}
	if d.At.IsZero() {
		return d, errors.New("declare: no declaration time")
	}
	if len(d.Services) == 0 {
		for _, a := range d.Alerts {
			if s := firstNonEmpty(a.Labels["service"], a.Labels["app"], a.Labels["job"]); s != "" {
				d.Services = append(d.Services, s)
			}
		}
	}
	d.Services = cleanList(d.Services)
	for r := range d.Roles {
		if _, err := ParseRole(string(r)); err != nil {
			return d, fmt.Errorf("declare: %w", err)
		}
	}
	return d, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x = strings.TrimSpace(x); x != "" {
			return x
		}
	}
	return ""
}

// cleanList trims, drops empties and duplicates, keeping first-seen order.
func cleanList(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
