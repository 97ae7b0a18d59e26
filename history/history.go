// Package history is the memory of the alert feed: every state change of every alert,
// and the team's acknowledgements, so "what fired last night", time to acknowledge and
// flapping need no server of their own. Stores live in subpackages (history/sqlite).
package history

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/opscockpit/opscockpit/datasource"
)

// StateGone marks an alert that left the feed without a resolved notice (expired or
// deleted upstream).
const StateGone datasource.AlertState = "gone"

// Event is one state change of one alert.
type Event struct {
	At          time.Time
	Fingerprint string
	Name        string
	Severity    string
	Source      string
	State       datasource.AlertState // firing, suppressed, resolved or gone
	Labels      map[string]string
}

// Ack is a team's acknowledgement of an alert: who took it, when, and why.
type Ack struct {
	Fingerprint string
	Name        string
	By          string
	At          time.Time
	Comment     string
	SilenceID   string // set when the ack was mirrored as an Alertmanager silence
}

// Store keeps events and acks.
type Store interface {
	Append(ctx context.Context, events []Event) error
	PutAck(ctx context.Context, a Ack) error
	// Acks returns the newest ack per fingerprint made at or after since.
	Acks(ctx context.Context, since time.Time) (map[string]Ack, error)
	Events(ctx context.Context, from, to time.Time) ([]Event, error)
	Prune(ctx context.Context, before time.Time) (int64, error)
}

// Tracker turns successive full alert lists into state-change events. It is not safe
// for concurrent use; one recorder goroutine owns it.
type Tracker struct {
	last map[string]datasource.Alert
}

// Observe compares alerts (the whole current list) with the previous call's and
// returns what changed, stamped at now. The first call reports every alert.
func (t *Tracker) Observe(alerts []datasource.Alert, now time.Time) []Event {
	cur := make(map[string]datasource.Alert, len(alerts))
	var out []Event
	for _, a := range alerts {
		cur[a.Fingerprint] = a
		if prev, ok := t.last[a.Fingerprint]; ok && prev.State == a.State {
			continue
		}
		at := now
		switch {
		case a.State == datasource.StateResolved && !a.EndsAt.IsZero():
			at = a.EndsAt
		case a.State == datasource.StateFiring && !a.StartsAt.IsZero() && t.last == nil:
			at = a.StartsAt // what was already firing when we started watching
		}
		out = append(out, eventOf(a, a.State, at))
	}
	for fp, prev := range t.last {
		if _, ok := cur[fp]; !ok && prev.State != datasource.StateResolved {
			out = append(out, eventOf(prev, StateGone, now))
		}
	}
	t.last = cur
	slices.SortStableFunc(out, func(a, b Event) int { return a.At.Compare(b.At) })
	return out
}

func eventOf(a datasource.Alert, st datasource.AlertState, at time.Time) Event {
	return Event{At: at, Fingerprint: a.Fingerprint, Name: a.Name(), Severity: a.Severity(), Source: a.Source, State: st, Labels: maps.Clone(a.Labels)}
}

// AlertStats summarises one alert name over a span of events.
type AlertStats struct {
	Name      string
	Fired     int           // times it started firing
	Flaps     int           // times it fired again after resolving within the span
	FiringFor time.Duration // total time spent firing (up to the span's end)
}

// Summarise counts firings, flaps and firing time per alert name in events (ordered by
// time), as of end.
func Summarise(events []Event, end time.Time) []AlertStats {
	type fpState struct {
		firing   bool
		since    time.Time
		resolved bool
	}
	byName := map[string]*AlertStats{}
	states := map[string]*fpState{}
	for _, e := range events {
		s := byName[e.Name]
		if s == nil {
			s = &AlertStats{Name: e.Name}
			byName[e.Name] = s
		}
		st := states[e.Fingerprint]
		if st == nil {
			st = &fpState{}
			states[e.Fingerprint] = st
		}
		switch {
		case e.State == datasource.StateFiring && !st.firing:
			s.Fired++
			if st.resolved {
				s.Flaps++
			}
			st.firing, st.since = true, e.At
		case e.State != datasource.StateFiring && st.firing:
			s.FiringFor += e.At.Sub(st.since)
			st.firing = false
			st.resolved = e.State == datasource.StateResolved || e.State == StateGone
		}
	}
	for fp, st := range states {
		if st.firing {
			for _, e := range events {
				if e.Fingerprint == fp {
					byName[e.Name].FiringFor += end.Sub(st.since)
					break
				}
			}
		}
	}
	out := make([]AlertStats, 0, len(byName))
	for _, s := range byName {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b AlertStats) int { return b.Fired - a.Fired })
	return out
}
