// Package cockpit is the toolkit-free model of the command center: it fans the sources
// in (metric panels pulled on a clock, alert feeds pushed), joins them into one
// situation, and publishes immutable snapshots to any number of subscribers without
// ever letting a slow subscriber hold back a producer.
package cockpit

import (
	"time"

	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/history"
)

// PanelType is how a panel shows its query.
type PanelType string

// Panel types.
const (
	PanelStat       PanelType = "stat"
	PanelTimeseries PanelType = "timeseries"
	PanelSLO        PanelType = "slo"
)

// Threshold colours a value at or above Value.
type Threshold struct {
	Value float64
	Color string // green | amber | red | blue | #rrggbb
}

// PanelSpec is one configured panel.
type PanelSpec struct {
	Title      string
	Type       PanelType
	Source     string
	Query      string
	Unit       string
	Decimals   int // < 0: automatic
	Thresholds []Threshold
	Legend     string // label template such as "{{version}}"
	Min, Max   *float64
	Range      time.Duration // timeseries window
	Row        string
	// Points is how many points a range query asks for (one per pixel of the chart).
	Points int
	// Objective is an SLO panel's target in percent (99.9) over Window (default 30d);
	// its Query is a ratio of bad to all events with $window as the rate window.
	Objective float64
	Window    time.Duration
}

// PanelStatus is a panel's visible state; each one looks different on screen.
type PanelStatus string

// Panel states.
const (
	StatusLoading PanelStatus = "loading"
	StatusOK      PanelStatus = "ok"
	StatusNoData  PanelStatus = "no data"
	StatusPartial PanelStatus = "partial"
	StatusStale   PanelStatus = "stale"
	StatusError   PanelStatus = "error"
)

// PanelState is a panel's latest data and condition. On failure the last good Result is
// kept and the status turns stale, so a flaky source never blanks a panel.
type PanelState struct {
	Spec       PanelSpec
	Status     PanelStatus
	Result     datasource.Result
	Err        string
	UpdatedAt  time.Time // last good result
	StaleSince time.Time // first failure after a good result
}

// ScenarioState tells where a replayed scenario is; zero when none is playing.
type ScenarioState struct {
	Name     string
	Offset   time.Duration
	Duration time.Duration
	Speed    float64
	Paused   bool
}

// Snapshot is one immutable view of the whole situation. Nothing in it is shared with
// the hub's working state: readers need no lock and may keep it as long as they like.
type Snapshot struct {
	Version  uint64
	At       time.Time
	Title    string
	Scenario ScenarioState
	Panels   []PanelState
	// Alerts are deduplicated by fingerprint: firing before suppressed before resolved,
	// then by severity, then oldest first.
	Alerts []datasource.Alert
	// Truncated counts alerts the sources reported but did not send.
	Truncated int
	// AlertFeeds is how many alert sources are configured (0: alerts are not watched).
	AlertFeeds int
	// LastFeed is when an alert source last delivered anything (or when watching began);
	// see FeedSilent.
	LastFeed        time.Time
	FeedSilentAfter time.Duration
	// Acks is the newest acknowledgement per fingerprint.
	Acks    map[string]history.Ack
	Sources []datasource.Health
	// Incident is the incident the cockpit is working (nil: incidents are not tracked).
	Incident *IncidentState
	// Risks is the risk register's state (nil: no register is open).
	Risks *RiskState
}

// Counts of alerts by condition.
type Counts struct {
	Firing, Critical, Warning, Suppressed, Resolved int
}

// AlertCounts tallies the snapshot's alerts.
func (s *Snapshot) AlertCounts() Counts {
	var c Counts
	for _, a := range s.Alerts {
		switch a.State {
		case datasource.StateFiring:
			c.Firing++
			switch datasource.SeverityRank(a.Severity()) {
			case 0:
				c.Critical++
			case 1, 2:
				c.Warning++
			}
		case datasource.StateSuppressed:
			c.Suppressed++
		case datasource.StateResolved:
			c.Resolved++
		}
	}
	return c
}

// FeedSilent reports whether, at now, the alert sources have been silent long enough
// that the alert list may be out of date, whatever it says. The screen asks it every
// second, so the banner appears on time even when nothing else changes.
func (s *Snapshot) FeedSilent(now time.Time) bool {
	return s.AlertFeeds > 0 && s.FeedSilentAfter > 0 && now.Sub(s.LastFeed) >= s.FeedSilentAfter
}
