package incident

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// MilestoneKind names a milestone.
type MilestoneKind string

// Milestones, in the order they normally happen. Started (impact began) is only ever
// set by hand: no signal says when impact began before the first alert.
const (
	MilestoneStarted      MilestoneKind = "started"
	MilestoneDetected     MilestoneKind = "detected"
	MilestoneAcknowledged MilestoneKind = "acknowledged"
	MilestoneDeclared     MilestoneKind = "declared"
	MilestoneMitigated    MilestoneKind = "mitigated"
	MilestoneResolved     MilestoneKind = "resolved"
)

// MilestoneKinds lists the milestones in order.
var MilestoneKinds = []MilestoneKind{MilestoneStarted, MilestoneDetected, MilestoneAcknowledged, MilestoneDeclared, MilestoneMitigated, MilestoneResolved}

// ParseMilestone accepts a milestone name.
func ParseMilestone(s string) (MilestoneKind, error) {
	k := MilestoneKind(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(MilestoneKinds, k) {
		return "", fmt.Errorf("milestone %q: %w", s, ErrInvalidMilestone)
	}
	return k, nil
}

// Milestone is one milestone's time. Automatic milestones come from the data (the first
// related alert's startsAt, the first ack, status changes); a milestone set by hand
// (Manual) carries a reason, is recorded on the timeline, and wins over later automatic
// values.
type Milestone struct {
	Kind   MilestoneKind
	At     time.Time
	Manual bool
	Reason string
	By     string
}

// Milestones are an incident's milestones by kind; a missing kind is not reached (or
// not known).
type Milestones map[MilestoneKind]Milestone

// At is the milestone's time and whether it is set.
func (m Milestones) At(k MilestoneKind) (time.Time, bool) {
	ms, ok := m[k]
	return ms.At, ok && !ms.At.IsZero()
}

// Span is a duration between two milestones; Known is false when either is missing or
// they are in the wrong order (a hand edit that needs another look).
type Span struct {
	D     time.Duration
	Known bool
}

// String is "12m30s", or "—" when unknown.
func (s Span) String() string {
	if !s.Known {
		return "—"
	}
	return FormatDuration(s.D)
}

// Durations are the figures a postmortem and MTTx statistics use.
//
//   - TimeToDetect: started → detected (known only when impact start was set by hand);
//   - TimeToAcknowledge, TimeToDeclare, TimeToMitigate, TimeToResolve: from the origin
//     (detected, or declared when nothing was detected) to that milestone.
type Durations struct {
	TimeToDetect      Span
	TimeToAcknowledge Span
	TimeToDeclare     Span
	TimeToMitigate    Span
	TimeToResolve     Span
}

// Origin is when the incident's clock starts: detection, else declaration.
func (m Milestones) Origin() (time.Time, bool) {
	if t, ok := m.At(MilestoneDetected); ok {
		return t, true
	}
	return m.At(MilestoneDeclared)
}

// Durations computes the milestone durations.
func (m Milestones) Durations() Durations {
	span := func(from time.Time, fromOK bool, to MilestoneKind) Span {
		t, ok := m.At(to)
		if !fromOK || !ok || t.Before(from) {
			return Span{}
		}
		return Span{D: t.Sub(from), Known: true}
	}
	origin, ok := m.Origin()
	started, sok := m.At(MilestoneStarted)
	return Durations{
		TimeToDetect:      span(started, sok, MilestoneDetected),
		TimeToAcknowledge: span(origin, ok, MilestoneAcknowledged),
		TimeToDeclare:     span(origin, ok, MilestoneDeclared),
		TimeToMitigate:    span(origin, ok, MilestoneMitigated),
		TimeToResolve:     span(origin, ok, MilestoneResolved),
	}
}

// FormatDuration writes a duration the way a war room reads it: "45s", "12m05s",
// "3h07m", "2d04h".
func FormatDuration(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	d = d.Truncate(time.Second)
	h, m, s := int(d/time.Hour), int(d/time.Minute)%60, int(d/time.Second)%60
	switch {
	case h >= 48:
		return fmt.Sprintf("%s%dd%02dh", sign, h/24, h%24)
	case h > 0:
		return fmt.Sprintf("%s%dh%02dm", sign, h, m)
	case m > 0:
		return fmt.Sprintf("%s%dm%02ds", sign, m, s)
	}
	return fmt.Sprintf("%s%ds", sign, s)
}
