// Package risk is the risk register's domain: risks scored on a configurable
// likelihood × impact matrix, treatments, mitigation actions, reviews, escalation
// rules, links to alert matchers, heat-map counts, the audit trail's entry shape and
// the CSV import/export format. It knows nothing of storage or of any UI; the SQLite
// store lives in risk/sqlite.
package risk

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DateLayout is how dates (due, next review, review date) are written everywhere:
// in the database, in CSV files and on the command line.
const DateLayout = "2006-01-02"

// Status is where a risk is in its life.
type Status string

// The statuses of a risk.
const (
	StatusOpen       Status = "open"
	StatusMitigating Status = "mitigating"
	StatusAccepted   Status = "accepted"
	StatusClosed     Status = "closed"
)

// Statuses lists every status in display order.
var Statuses = []Status{StatusOpen, StatusMitigating, StatusAccepted, StatusClosed}

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// Treatment is the chosen response to a risk.
type Treatment string

// The treatments of a risk; the empty treatment means "not decided yet".
const (
	TreatmentNone     Treatment = ""
	TreatmentAvoid    Treatment = "avoid"
	TreatmentMitigate Treatment = "mitigate"
	TreatmentTransfer Treatment = "transfer"
	TreatmentAccept   Treatment = "accept"
)

// Treatments lists the decided treatments.
var Treatments = []Treatment{TreatmentAvoid, TreatmentMitigate, TreatmentTransfer, TreatmentAccept}

// Valid reports whether t is empty or one of Treatments.
func (t Treatment) Valid() bool { return t == TreatmentNone || slices.Contains(Treatments, t) }

// Limits on free text, so one pasted log file cannot bloat the register.
const (
	MaxTitle = 200
	MaxText  = 20000
	MaxShort = 200
	MaxTags  = 32
)

// Risk is one entry of the register. Dates (Due, NextReview) carry only a day; the
// zero time means "not set". Residual likelihood and impact of 0 mean "not assessed
// yet", and the residual score then equals the inherent one.
type Risk struct {
	ID                 int64     `json:"id"`
	Title              string    `json:"title"`
	Description        string    `json:"description,omitempty"`
	Category           string    `json:"category,omitempty"`
	Service            string    `json:"service,omitempty"`
	Owner              string    `json:"owner"`
	Likelihood         int       `json:"likelihood"`
	Impact             int       `json:"impact"`
	ResidualLikelihood int       `json:"residual_likelihood,omitempty"`
	ResidualImpact     int       `json:"residual_impact,omitempty"`
	Treatment          Treatment `json:"treatment,omitempty"`
	TreatmentRationale string    `json:"treatment_rationale,omitempty"`
	Status             Status    `json:"status"`
	// Escalation is the name of the escalation level the risk currently sits at
	// (one of Policy.Levels); it changes only through an escalation with a note.
	Escalation string    `json:"escalation"`
	Due        time.Time `json:"due,omitzero"`
	NextReview time.Time `json:"next_review,omitzero"`
	Tags       []string  `json:"tags,omitempty"`

	// Materialising is set while an alert matching one of the risk's links fires.
	Materialising  bool      `json:"materialising"`
	MaterialisedAt time.Time `json:"materialised_at,omitzero"`

	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	CreatedBy string    `json:"created_by,omitempty"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	// Rev counts the risk's saved edits; an update carrying a stale Rev is refused
	// with ErrConflict so two editors (GUI and CLI) cannot silently overwrite each other.
	Rev int64 `json:"rev"`

	// OpenActions and OverdueActions are derived by the store when it reads a risk.
	OpenActions    int `json:"open_actions"`
	OverdueActions int `json:"overdue_actions"`
}

// Score is likelihood × impact.
func (r Risk) Score() int { return r.Likelihood * r.Impact }

// ResidualCell is the residual (likelihood, impact), falling back to the inherent
// values where the residual ones are not assessed.
func (r Risk) ResidualCell() (l, i int) {
	l, i = r.ResidualLikelihood, r.ResidualImpact
	if l == 0 {
		l = r.Likelihood
	}
	if i == 0 {
		i = r.Impact
	}
	return l, i
}

// ResidualScore is the residual likelihood × impact.
func (r Risk) ResidualScore() int {
	l, i := r.ResidualCell()
	return l * i
}

// Level is the inherent level of r on m.
func (r Risk) Level(m Matrix) Level { return m.Level(r.Likelihood, r.Impact) }

// ResidualLevel is the residual level of r on m.
func (r Risk) ResidualLevel(m Matrix) Level { return m.Level(r.ResidualCell()) }

// ReviewOverdue reports whether the next review date has passed (today is not late).
func (r Risk) ReviewOverdue(now time.Time) bool {
	return r.Status != StatusClosed && dayBefore(r.NextReview, now)
}

// DueOverdue reports whether the risk's due date has passed while it is still open.
func (r Risk) DueOverdue(now time.Time) bool {
	return r.Status != StatusClosed && dayBefore(r.Due, now)
}

// Overdue reports whether anything about r is late: its review, its due date, or
// one of its actions (as counted by the store in OverdueActions).
func (r Risk) Overdue(now time.Time) bool {
	return r.ReviewOverdue(now) || r.DueOverdue(now) || (r.Status != StatusClosed && r.OverdueActions > 0)
}

// dayBefore reports whether the day d is set and strictly before now's day.
func dayBefore(d, now time.Time) bool {
	return !d.IsZero() && FormatDate(d) < FormatDate(now)
}

// FormatDate writes d as YYYY-MM-DD, or "" for the zero time.
func FormatDate(d time.Time) string {
	if d.IsZero() {
		return ""
	}
	return d.Format(DateLayout)
}

// ParseDate reads YYYY-MM-DD ("" is the zero time) as a UTC day.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	d, err := time.Parse(DateLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date like 2025-01-31", s)
	}
	return d, nil
}

// Action is a mitigation action of a risk.
type Action struct {
	ID      int64        `json:"id"`
	RiskID  int64        `json:"risk_id"`
	Title   string       `json:"title"`
	Owner   string       `json:"owner"`
	Due     time.Time    `json:"due,omitzero"`
	Status  ActionStatus `json:"status"`
	Created time.Time    `json:"created"`
	Updated time.Time    `json:"updated"`
}

// ActionStatus is where a mitigation action is.
type ActionStatus string

// The statuses of an action.
const (
	ActionOpen       ActionStatus = "open"
	ActionInProgress ActionStatus = "in_progress"
	ActionDone       ActionStatus = "done"
	ActionCancelled  ActionStatus = "cancelled"
)

// ActionStatuses lists every action status.
var ActionStatuses = []ActionStatus{ActionOpen, ActionInProgress, ActionDone, ActionCancelled}

// Valid reports whether s is one of ActionStatuses.
func (s ActionStatus) Valid() bool { return slices.Contains(ActionStatuses, s) }

// Finished reports whether the action needs no more work.
func (s ActionStatus) Finished() bool { return s == ActionDone || s == ActionCancelled }

// Overdue reports whether the action is unfinished after its due day.
func (a Action) Overdue(now time.Time) bool { return !a.Status.Finished() && dayBefore(a.Due, now) }

// Validate checks an action before it is saved.
func (a Action) Validate() error {
	var v ValidationError
	v.text("title", a.Title, MaxTitle, true)
	v.text("owner", a.Owner, MaxShort, true)
	if !a.Status.Valid() {
		v.Add("status", fmt.Sprintf("%q is not one of %s", a.Status, joinQuoted(ActionStatuses)))
	}
	return v.Err()
}

// Review is the record of one review of a risk.
type Review struct {
	ID        int64     `json:"id"`
	RiskID    int64     `json:"risk_id"`
	Date      time.Time `json:"date"`
	Reviewers []string  `json:"reviewers"`
	Decision  string    `json:"decision"`
	Notes     string    `json:"notes,omitempty"`
	// NextReview, when set, becomes the risk's next review date.
	NextReview time.Time `json:"next_review,omitzero"`
	By         string    `json:"by"`
	Created    time.Time `json:"created"`
}

// Validate checks a review before it is saved.
func (rv Review) Validate() error {
	var v ValidationError
	if rv.Date.IsZero() {
		v.Add("date", "must be set")
	}
	if len(rv.Reviewers) == 0 {
		v.Add("reviewers", "must name at least one reviewer")
	}
	for _, p := range rv.Reviewers {
		v.text("reviewers", p, MaxShort, true)
	}
	v.text("decision", rv.Decision, MaxShort, true)
	v.text("notes", rv.Notes, MaxText, false)
	return v.Err()
}

// Escalation is one confirmed move of a risk between escalation levels.
type Escalation struct {
	ID     int64     `json:"id"`
	RiskID int64     `json:"risk_id"`
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Note   string    `json:"note"`
	// Rule names the rule that proposed the escalation, "" when done by hand.
	Rule string `json:"rule,omitempty"`
}

// Link ties a risk to an alert matcher in Alertmanager syntax.
type Link struct {
	ID       int64     `json:"id"`
	RiskID   int64     `json:"risk_id"`
	Matchers string    `json:"matchers"`
	Created  time.Time `json:"created"`
}

// Materialisation records that an alert matching a risk's link fired.
type Materialisation struct {
	ID          int64             `json:"id"`
	RiskID      int64             `json:"risk_id"`
	Fingerprint string            `json:"fingerprint"`
	AlertName   string            `json:"alertname"`
	Labels      map[string]string `json:"labels"`
	StartsAt    time.Time         `json:"starts_at"`
	Seen        time.Time         `json:"seen"`
}

// AuditEntry is one row of the append-only, hash-chained audit trail: who changed
// which field of what, when, from what to what.
type AuditEntry struct {
	Seq      int64     `json:"seq"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Entity   string    `json:"entity"` // risk, action, review, escalation, link
	EntityID int64     `json:"entity_id"`
	RiskID   int64     `json:"risk_id"`
	Field    string    `json:"field"`
	Old      string    `json:"old"`
	New      string    `json:"new"`
	PrevHash string    `json:"prev_hash"`
	Hash     string    `json:"hash"`
}

// AuditQuery selects audit rows; zero fields do not filter.
type AuditQuery struct {
	RiskID int64
	Since  time.Time
	// Limit keeps the newest Limit rows (0: all).
	Limit int
}

// Detail is a risk with everything attached to it, as `risk show` prints it.
type Detail struct {
	Risk             Risk              `json:"risk"`
	Actions          []Action          `json:"actions"`
	Reviews          []Review          `json:"reviews"`
	Escalations      []Escalation      `json:"escalations"`
	Links            []Link            `json:"links"`
	Materialisations []Materialisation `json:"materialisations"`
	Audit            []AuditEntry      `json:"audit"`
}

// Errors the store returns for the UI and CLI to tell apart with errors.Is.
var (
	// ErrNotFound means no risk (or action) has the given id.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the risk changed since it was read (another window or the CLI).
	ErrConflict = errors.New("changed by someone else since it was read; reload and retry")
	// ErrNotSaved means storage failed (disk full, read-only, I/O error, locked): the
	// change was not written at all and can be retried as it is.
	ErrNotSaved = errors.New("NOT SAVED")
	// ErrTampered means the audit trail does not verify; see *TamperError.
	ErrTampered = errors.New("audit trail tampered with")
)

// TamperError names the first audit row that does not verify.
type TamperError struct {
	Seq    int64
	Reason string
}

func (e *TamperError) Error() string {
	return fmt.Sprintf("audit trail tampered with at row %d: %s", e.Seq, e.Reason)
}

// Unwrap makes errors.Is(err, ErrTampered) true.
func (e *TamperError) Unwrap() error { return ErrTampered }

// FieldError is one problem with one field.
type FieldError struct {
	Field string `json:"field"`
	Msg   string `json:"message"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Msg }

// ValidationError lists every problem found in one record, so a form can mark all
// of its bad fields at once.
type ValidationError struct {
	Problems []FieldError
}

// Add records a problem with a field.
func (v *ValidationError) Add(field, msg string) {
	v.Problems = append(v.Problems, FieldError{Field: field, Msg: msg})
}

// Err returns v as an error, or nil if no problem was found.
func (v *ValidationError) Err() error {
	if len(v.Problems) == 0 {
		return nil
	}
	return v
}

func (v *ValidationError) Error() string {
	parts := make([]string, len(v.Problems))
	for i, p := range v.Problems {
		parts[i] = p.Error()
	}
	return strings.Join(parts, "; ")
}

// Field returns the message for field, or "" if it has no problem.
func (v *ValidationError) Field(field string) string {
	for _, p := range v.Problems {
		if p.Field == field {
			return p.Msg
		}
	}
	return ""
}

func (v *ValidationError) text(field, s string, max int, required bool) {
	switch {
	case required && strings.TrimSpace(s) == "":
		v.Add(field, "must not be empty")
	case !utf8.ValidString(s):
		v.Add(field, "is not valid UTF-8")
	case utf8.RuneCountInString(s) > max:
		v.Add(field, fmt.Sprintf("is %d characters, more than the %d allowed", utf8.RuneCountInString(s), max))
	case strings.ContainsRune(s, 0):
		v.Add(field, "contains a NUL character")
	}
}

// Validate checks r against the matrix m (scale of likelihood and impact) and the
// escalation levels (an empty Escalation is allowed: the store sets the first level).
func (r Risk) Validate(m Matrix, levels []string) error {
	var v ValidationError
	v.text("title", r.Title, MaxTitle, true)
	if strings.ContainsAny(r.Title, "\r\n") {
		v.Add("title", "must be a single line")
	}
	v.text("description", r.Description, MaxText, false)
	v.text("category", r.Category, MaxShort, false)
	v.text("service", r.Service, MaxShort, false)
	v.text("owner", r.Owner, MaxShort, true)
	nl, ni := m.Size()
	scale := func(field string, x, max int, optional bool) {
		if optional && x == 0 {
			return
		}
		if x < 1 || x > max {
			v.Add(field, fmt.Sprintf("%d is outside the matrix scale 1..%d", x, max))
		}
	}
	scale("likelihood", r.Likelihood, nl, false)
	scale("impact", r.Impact, ni, false)
	scale("residual_likelihood", r.ResidualLikelihood, nl, true)
	scale("residual_impact", r.ResidualImpact, ni, true)
	if !r.Treatment.Valid() {
		v.Add("treatment", fmt.Sprintf("%q is not one of %s", r.Treatment, joinQuoted(Treatments)))
	}
	v.text("treatment_rationale", r.TreatmentRationale, MaxText, r.Treatment == TreatmentAccept)
	if !r.Status.Valid() {
		v.Add("status", fmt.Sprintf("%q is not one of %s", r.Status, joinQuoted(Statuses)))
	}
	if r.Escalation != "" && len(levels) > 0 && !slices.Contains(levels, r.Escalation) {
		v.Add("escalation", fmt.Sprintf("%q is not one of %s", r.Escalation, joinQuoted(levels)))
	}
	if len(r.Tags) > MaxTags {
		v.Add("tags", fmt.Sprintf("%d tags, more than the %d allowed", len(r.Tags), MaxTags))
	}
	for _, t := range r.Tags {
		v.text("tags", t, 64, true)
		if strings.ContainsAny(t, ";\r\n") {
			v.Add("tags", fmt.Sprintf("tag %q must not contain ';' or a line break", t))
		}
	}
	return v.Err()
}

func joinQuoted[T ~string](xs []T) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(string(x))
	}
	return strings.Join(q, ", ")
}

// EditableFields are the fields `risk update --FIELD VALUE`, Set and the CSV importer
// accept. Escalation is set only on create or import; afterwards it moves through
// an escalation with a note.
var EditableFields = []string{
	"title", "description", "category", "service", "owner", "likelihood", "impact",
	"residual_likelihood", "residual_impact", "treatment", "treatment_rationale",
	"status", "due", "next_review", "tags",
}

// Set parses value into the named field of r. Numbers and dates are checked for
// form here; ranges are checked by Validate.
func (r *Risk) Set(field, value string) error {
	num := func(p *int) error {
		s := strings.TrimSpace(value)
		if s == "" {
			*p = 0
			return nil
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%s: %q is not a whole number", field, value)
		}
		*p = n
		return nil
	}
	date := func(p *time.Time) error {
		d, err := ParseDate(value)
		if err != nil {
			return fmt.Errorf("%s: %v", field, err)
		}
		*p = d
		return nil
	}
	switch field {
	case "title":
		r.Title = strings.TrimSpace(value)
	case "description":
		r.Description = value
	case "category":
		r.Category = strings.TrimSpace(value)
	case "service":
		r.Service = strings.TrimSpace(value)
	case "owner":
		r.Owner = strings.TrimSpace(value)
	case "likelihood":
		return num(&r.Likelihood)
	case "impact":
		return num(&r.Impact)
	case "residual_likelihood":
		return num(&r.ResidualLikelihood)
	case "residual_impact":
		return num(&r.ResidualImpact)
	case "treatment":
		r.Treatment = Treatment(strings.ToLower(strings.TrimSpace(value)))
	case "treatment_rationale":
		r.TreatmentRationale = value
	case "status":
		r.Status = Status(strings.ToLower(strings.TrimSpace(value)))
	case "escalation":
		r.Escalation = strings.TrimSpace(value)
	case "due":
		return date(&r.Due)
	case "next_review":
		return date(&r.NextReview)
	case "tags":
		r.Tags = ParseTags(value)
	default:
		return fmt.Errorf("%s: unknown field (known: %s)", field, strings.Join(EditableFields, ", "))
	}
	return nil
}

// ParseTags splits "a; b;c" into tags, dropping empty ones and duplicates.
func ParseTags(s string) []string {
	var out []string
	for t := range strings.SplitSeq(s, ";") {
		t = strings.TrimSpace(t)
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// FieldValues renders the audited fields of r as text, the form the audit trail
// records old and new values in.
func (r Risk) FieldValues() map[string]string {
	itoa := strconv.Itoa
	return map[string]string{
		"title":               r.Title,
		"description":         r.Description,
		"category":            r.Category,
		"service":             r.Service,
		"owner":               r.Owner,
		"likelihood":          itoa(r.Likelihood),
		"impact":              itoa(r.Impact),
		"residual_likelihood": itoa(r.ResidualLikelihood),
		"residual_impact":     itoa(r.ResidualImpact),
		"treatment":           string(r.Treatment),
		"treatment_rationale": r.TreatmentRationale,
		"status":              string(r.Status),
		"escalation":          r.Escalation,
		"due":                 FormatDate(r.Due),
		"next_review":         FormatDate(r.NextReview),
		"tags":                strings.Join(r.Tags, ";"),
	}
}

// AuditedFields lists the fields FieldValues renders, in a stable order.
var AuditedFields = append(slices.Clone(EditableFields), "escalation")

// Change is one field's move from Old to New.
type Change struct {
	Field string
	Old   string
	New   string
}

// Diff lists the audited fields that differ between a and b, in AuditedFields order.
func Diff(a, b Risk) []Change {
	av, bv := a.FieldValues(), b.FieldValues()
	var out []Change
	for _, f := range AuditedFields {
		if av[f] != bv[f] {
			out = append(out, Change{Field: f, Old: av[f], New: bv[f]})
		}
	}
	return out
}
