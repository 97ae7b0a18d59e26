package incident

import (
	"fmt"
	"strings"
	"time"
)

// UpdatePolicy says how often status updates are due and when the timer turns amber.
type UpdatePolicy struct {
	// Every is the default interval between status updates (DefaultUpdateEvery if 0).
	Every time.Duration
	// PerSeverity overrides Every for some severities (e.g. SEV1: 15m).
	PerSeverity map[Severity]time.Duration
	// AmberFraction is the share of the interval, at its end, shown amber
	// (DefaultAmberFraction if 0).
	AmberFraction float64
}

// Defaults of UpdatePolicy.
const (
	DefaultUpdateEvery   = 30 * time.Minute
	DefaultAmberFraction = 0.2
)

// Interval is the status-update interval for a severity.
func (p UpdatePolicy) Interval(s Severity) time.Duration {
	if d, ok := p.PerSeverity[s]; ok && d > 0 {
		return d
	}
	if p.Every > 0 {
		return p.Every
	}
	return DefaultUpdateEvery
}

func (p UpdatePolicy) amber() float64 {
	if p.AmberFraction > 0 && p.AmberFraction < 1 {
		return p.AmberFraction
	}
	return DefaultAmberFraction
}

// UpdateState is the next-status-update timer's colour.
type UpdateState string

// Update timer states.
const (
	UpdateOff   UpdateState = "off"   // resolved: no more updates due
	UpdateOK    UpdateState = "ok"    // plenty of time
	UpdateAmber UpdateState = "amber" // in the last AmberFraction of the interval
	UpdateRed   UpdateState = "red"   // overdue
)

// ClockState is what the incident clocks show at one instant.
type ClockState struct {
	// SinceDetection and SinceDeclaration run until the incident is resolved, then
	// stay at their final values.
	SinceDetection   time.Duration
	SinceDeclaration time.Duration
	// NextUpdateAt is when the next status update is due: the last sent update (or
	// the declaration) plus the severity's interval. Zero when resolved.
	NextUpdateAt time.Time
	// UpdateIn is the time left until NextUpdateAt; negative when overdue.
	UpdateIn time.Duration
	Update   UpdateState
}

// Clocks is the incident's clocks at now: a pure function, so the UI calls it on every
// tick and tests call it with any instant.
func Clocks(inc Incident, p UpdatePolicy, now time.Time) ClockState {
	var cs ClockState
	end := now
	if resolved, ok := inc.Milestones.At(MilestoneResolved); ok && inc.Status == Resolved && resolved.Before(now) {
		end = resolved
	}
	if t, ok := inc.Milestones.Origin(); ok && end.After(t) {
		cs.SinceDetection = end.Sub(t)
	}
	if t, ok := inc.Milestones.At(MilestoneDeclared); ok && end.After(t) {
		cs.SinceDeclaration = end.Sub(t)
	}
	if inc.Status == Resolved {
		cs.Update = UpdateOff
		return cs
	}
	every := p.Interval(inc.Severity)
	last := inc.LastUpdateAt
	if last.IsZero() {
		last = inc.DeclaredAt()
	}
	cs.NextUpdateAt = last.Add(every)
	cs.UpdateIn = cs.NextUpdateAt.Sub(now)
	switch {
	case cs.UpdateIn <= 0:
		cs.Update = UpdateRed
	case float64(cs.UpdateIn) <= p.amber()*float64(every):
		cs.Update = UpdateAmber
	default:
		cs.Update = UpdateOK
	}
	return cs
}

// StatusUpdate is a status update to stakeholders, drafted from a template and edited
// by the comms lead before it is sent.
type StatusUpdate struct {
	Happening    string    `json:"happening"`
	Impact       string    `json:"impact"`
	Doing        string    `json:"doing"`
	NextUpdateAt time.Time `json:"next_update_at"`
}

// DraftStatusUpdate prefills a status update from the incident's state; the sections
// only a human can write are left as bracketed prompts.
func DraftStatusUpdate(inc Incident, p UpdatePolicy, now time.Time) StatusUpdate {
	happening := fmt.Sprintf("%s (%s, %s). Status: %s.", inc.Title, inc.Severity, inc.Severity.Meaning(), inc.Status)
	if len(inc.Services) > 0 {
		happening += " Affected services: " + strings.Join(inc.Services, ", ") + "."
	}
	doing := "[What the team is doing now and what comes next.]"
	switch inc.Status {
	case Investigating:
		doing = "We are investigating the cause. [Current line of investigation.]"
	case Identified:
		doing = "The cause is identified and we are working on a fix. [The cause, the fix.]"
	case Mitigated:
		doing = "A mitigation is in place and we are watching recovery. [What was done.]"
	case Resolved:
		doing = "The incident is resolved. A postmortem will follow."
	}
	return StatusUpdate{
		Happening:    happening,
		Impact:       "[Who is affected and how: which customers, which features, since when.]",
		Doing:        doing,
		NextUpdateAt: now.Add(p.Interval(inc.Severity)),
	}
}

// Text renders the update for pasting into a chat or an email.
func (u StatusUpdate) Text(inc Incident) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s: %s, %s\n\n", inc.Severity, inc.Ref(), inc.Title, inc.Status)
	fmt.Fprintf(&b, "What is happening: %s\n\n", strings.TrimSpace(u.Happening))
	fmt.Fprintf(&b, "Customer impact: %s\n\n", strings.TrimSpace(u.Impact))
	fmt.Fprintf(&b, "What we are doing: %s\n\n", strings.TrimSpace(u.Doing))
	if u.NextUpdateAt.IsZero() {
		b.WriteString("Next update: when the situation changes.\n")
	} else {
		fmt.Fprintf(&b, "Next update at: %s\n", u.NextUpdateAt.UTC().Format("15:04 MST, 2 Jan 2006"))
	}
	return b.String()
}
