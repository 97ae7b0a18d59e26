package cockpit

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/incident"
)

// IncidentState is the incident side of a snapshot: the incident being worked (if any),
// its whole timeline, and the record across incidents. It is immutable once published.
type IncidentState struct {
	// Active is false when no incident is open (Incident is then the zero value).
	Active   bool
	Incident incident.Incident
	// Timeline is every entry of the active incident, oldest first.
	Timeline []incident.Entry
	// Actions are the incident's postmortem action items.
	Actions []incident.ActionItem
	Policy  incident.UpdatePolicy
	// Recent are the latest incidents, newest first, for the history view.
	Recent []incident.Incident
	// RecentNames are people recently given roles, for the role pickers.
	RecentNames []string
	// Stats are MTTA/MTTR over StatsWindow up to the snapshot.
	Stats       incident.Stats
	StatsWindow time.Duration
	// Version is the store's change counter this state was read at.
	Version int64
	// Err is the last failure reading the store ("" when fine): shown, never hidden.
	Err string
}

// IncidentStore is what the cockpit reads incidents from and records alert changes
// into (incident/sqlite.Store).
type IncidentStore interface {
	Version(ctx context.Context) (int64, error)
	Active(ctx context.Context, selected int64) (incident.Incident, bool, error)
	AllTimeline(ctx context.Context, id int64) ([]incident.Entry, error)
	Actions(ctx context.Context, id int64) ([]incident.ActionItem, error)
	Stats(ctx context.Context, from, to time.Time) (incident.Stats, error)
	Recent(ctx context.Context, n int) ([]incident.Incident, error)
	RecentNames(ctx context.Context, n int) ([]string, error)
	RecordAlertEvents(ctx context.Context, id int64, alerts []datasource.Alert, at time.Time) error
}

// IncidentFollowOptions tune FollowIncidents.
type IncidentFollowOptions struct {
	// Every is how often the store's change counter is checked (default 1s): a note
	// logged from a terminal shows on the wall within this.
	Every time.Duration
	// Poke, when it receives, checks at once (after a write from this cockpit).
	Poke <-chan struct{}
	// Selected is the incident the person picked (0: the newest open one).
	Selected func() int64
	// Policy is the status-update policy shown with the clocks.
	Policy incident.UpdatePolicy
	// StatsWindow is the period MTTA/MTTR are computed over (default 30 days).
	StatsWindow time.Duration
	Log         *slog.Logger
}

// FollowIncidents keeps the hub's incident state in step with the store until ctx ends:
// it re-reads the active incident and its timeline whenever the store changes (from this
// process or another, such as a scribe's CLI), and records the firing and resolving of
// the incident's linked alerts on its timeline as the hub sees them.
func FollowIncidents(ctx context.Context, hub *Hub, st IncidentStore, clk clock.Clock, o IncidentFollowOptions) {
	if o.Every <= 0 {
		o.Every = time.Second
	}
	if o.StatsWindow <= 0 {
		o.StatsWindow = 30 * 24 * time.Hour
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	selected := func() int64 {
		if o.Selected == nil {
			return 0
		}
		return o.Selected()
	}
	tick := clk.NewTicker(o.Every)
	defer tick.Stop()
	var (
		last      *IncidentState
		lastSel   int64 = -1
		lastAlert       = map[string]datasource.AlertState{} // linked fingerprint → state recorded
		lastID    int64
	)
	refresh := func() {
		now := clk.Now()
		v, err := st.Version(ctx)
		if err != nil {
			if ctx.Err() == nil {
				o.Log.Warn("incident store unreadable", "err", err)
				next := &IncidentState{Policy: o.Policy, StatsWindow: o.StatsWindow, Err: Truncate(err.Error(), MaxErrorLen)}
				if last != nil {
					cp := *last
					cp.Err = next.Err
					next = &cp
				}
				last = next
				hub.SetIncident(next)
			}
			return
		}
		sel := selected()
		if last != nil && last.Err == "" && v == last.Version && sel == lastSel {
			return
		}
		next := &IncidentState{Version: v, Policy: o.Policy, StatsWindow: o.StatsWindow}
		inc, ok, err := st.Active(ctx, sel)
		if err == nil && ok {
			next.Active, next.Incident = true, inc
			if next.Timeline, err = st.AllTimeline(ctx, inc.ID); err == nil {
				next.Actions, err = st.Actions(ctx, inc.ID)
			}
		}
		if err == nil {
			next.Stats, err = st.Stats(ctx, now.Add(-o.StatsWindow), now)
		}
		if err == nil {
			next.Recent, err = st.Recent(ctx, 12)
		}
		if err == nil {
			next.RecentNames, err = st.RecentNames(ctx, 20)
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			o.Log.Warn("incident not read", "err", err)
			next.Err = Truncate(err.Error(), MaxErrorLen)
		}
		if next.Incident.ID != lastID {
			lastAlert = map[string]datasource.AlertState{}
			lastID = next.Incident.ID
		}
		last, lastSel = next, sel
		hub.SetIncident(next)
	}
	// record notes the linked alerts' changes on the active incident's timeline.
	record := func() {
		if last == nil || !last.Active || last.Incident.Status == incident.Resolved || len(last.Incident.Alerts) == 0 {
			return
		}
		snap := hub.Snapshot()
		var changed []datasource.Alert
		for _, a := range snap.Alerts {
			if !slices.Contains(last.Incident.Alerts, a.Fingerprint) {
				continue
			}
			if prev, seen := lastAlert[a.Fingerprint]; !seen || prev != a.State {
				changed = append(changed, a)
			}
		}
		if len(changed) == 0 {
			return
		}
		if err := st.RecordAlertEvents(ctx, last.Incident.ID, changed, clk.Now()); err != nil {
			if ctx.Err() == nil {
				o.Log.Warn("alert changes not recorded on the incident timeline", "incident", last.Incident.Ref(), "err", err)
			}
			return
		}
		for _, a := range changed {
			lastAlert[a.Fingerprint] = a.State
		}
	}
	refresh()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C():
		case <-o.Poke:
		}
		record()
		refresh()
	}
}
