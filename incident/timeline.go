package incident

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Kind is a timeline entry's kind.
type Kind string

// Timeline entry kinds. Each kind's structured fields are the type named beside it.
const (
	KindAlertFiring      Kind = "alert_firing"       // AlertFields
	KindAlertResolved    Kind = "alert_resolved"     // AlertFields
	KindAck              Kind = "ack"                // AckFields
	KindSilence          Kind = "silence"            // SilenceFields
	KindRunbookStep      Kind = "runbook_step"       // RunbookStepFields
	KindRiskChange       Kind = "risk_change"        // RiskFields
	KindNote             Kind = "note"               // none
	KindDecision         Kind = "decision"           // DecisionFields
	KindStatusChange     Kind = "status_change"      // StatusFields
	KindRoleChange       Kind = "role_change"        // RoleFields
	KindMilestoneSet     Kind = "milestone_set"      // MilestoneFields
	KindSeverityChange   Kind = "severity_change"    // SeverityFields
	KindStatusUpdateSent Kind = "status_update_sent" // StatusUpdate
	KindCorrection       Kind = "correction"         // CorrectionFields
)

// Kinds lists every entry kind.
var Kinds = []Kind{
	KindAlertFiring, KindAlertResolved, KindAck, KindSilence, KindRunbookStep, KindRiskChange,
	KindNote, KindDecision, KindStatusChange, KindRoleChange, KindMilestoneSet,
	KindSeverityChange, KindStatusUpdateSent, KindCorrection,
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// ParseKind accepts a kind name.
func ParseKind(s string) (Kind, error) {
	if k := Kind(s); k.Valid() {
		return k, nil
	}
	return "", fmt.Errorf("kind %q: %w", s, ErrInvalidKind)
}

// Entry is one line of an incident's timeline. Entries are never edited or deleted: a
// mistake is fixed by a correction entry pointing at it (Corrects), and readers see
// the newest correction in CorrectedBy.
type Entry struct {
	ID         int64
	IncidentID int64
	At         time.Time
	Author     string
	Kind       Kind
	Text       string
	// Fields are the kind's structured fields as JSON ({} when the kind has none).
	Fields json.RawMessage
	// Corrects is the entry a correction corrects; 0 for other kinds.
	Corrects int64
	// CorrectedBy is the newest correction of this entry; 0 when none. Filled by reads.
	CorrectedBy int64
}

// Decode unmarshals the entry's fields into v (one of the …Fields types).
func (e Entry) Decode(v any) error {
	if len(e.Fields) == 0 {
		return nil
	}
	if err := json.Unmarshal(e.Fields, v); err != nil {
		return fmt.Errorf("timeline entry %d (%s) fields: %w", e.ID, e.Kind, err)
	}
	return nil
}

// AlertFields are an alert_firing or alert_resolved entry's fields.
type AlertFields struct {
	Fingerprint string            `json:"fingerprint"`
	Alertname   string            `json:"alertname"`
	Severity    string            `json:"severity,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Summary     string            `json:"summary,omitempty"`
	StartsAt    time.Time         `json:"starts_at,omitzero"`
	EndsAt      time.Time         `json:"ends_at,omitzero"`
	Source      string            `json:"source,omitempty"`
}

// AckFields are an ack entry's fields.
type AckFields struct {
	Fingerprint string `json:"fingerprint"`
	Alertname   string `json:"alertname"`
	Comment     string `json:"comment,omitempty"`
}

// SilenceFields are a silence entry's fields.
type SilenceFields struct {
	SilenceID string    `json:"silence_id"`
	Matchers  string    `json:"matchers"`
	Until     time.Time `json:"until,omitzero"`
}

// RunbookStepFields are a runbook_step entry's fields.
type RunbookStepFields struct {
	Runbook string `json:"runbook"`
	StepID  string `json:"step_id"`
	Step    string `json:"step"`
	Checked bool   `json:"checked"`
}

// RiskFields are a risk_change entry's fields.
type RiskFields struct {
	RiskID string `json:"risk_id"`
	Change string `json:"change"`
}

// DecisionFields are a decision entry's fields: the entry's text is what was decided.
type DecisionFields struct {
	Because string `json:"because"`
}

// StatusFields are a status_change entry's fields. The declaration is the status
// change from "" to investigating; a reopen is Reopen = true.
type StatusFields struct {
	From   Status `json:"from"`
	To     Status `json:"to"`
	Reopen bool   `json:"reopen,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// RoleFields are a role_change entry's fields ("" = unassigned).
type RoleFields struct {
	Role Role   `json:"role"`
	From string `json:"from"`
	To   string `json:"to"`
}

// MilestoneFields are a milestone_set entry's fields: a milestone set by hand.
type MilestoneFields struct {
	Milestone MilestoneKind `json:"milestone"`
	At        time.Time     `json:"at"`
	Previous  time.Time     `json:"previous,omitzero"`
	Reason    string        `json:"reason"`
}

// SeverityFields are a severity_change entry's fields.
type SeverityFields struct {
	From   Severity `json:"from"`
	To     Severity `json:"to"`
	Reason string   `json:"reason,omitempty"`
}

// CorrectionFields are a correction entry's fields.
type CorrectionFields struct {
	Corrects int64 `json:"corrects"`
}

// MarshalFields encodes a kind's fields; nil gives {}.
func MarshalFields(v any) (json.RawMessage, error) {
	if v == nil {
		return json.RawMessage("{}"), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode timeline fields: %w", err)
	}
	return b, nil
}

// TimelineQuery selects a page of a timeline. Pages are ordered by (At, ID), oldest
// first, or newest first with Desc; After continues from the last entry of the previous
// page.
type TimelineQuery struct {
	Kinds []Kind // empty: every kind
	Limit int    // 0: DefaultPageSize; capped at MaxPageSize
	Desc  bool
	After *Cursor
}

// Page sizes.
const (
	DefaultPageSize = 100
	MaxPageSize     = 10_000
)

// Cursor is a position in a timeline ordering.
type Cursor struct {
	At time.Time
	ID int64
}

// TimelinePage is one page of a timeline.
type TimelinePage struct {
	Entries []Entry
	// Next continues after this page; nil on the last page.
	Next *Cursor
	// Total is how many entries match the query's kinds, across all pages.
	Total int
}
