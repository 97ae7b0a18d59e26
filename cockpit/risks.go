package cockpit

import (
	"context"
	"hash/fnv"
	"log/slog"
	"slices"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/matcher"
	"github.com/opscockpit/opscockpit/risk"
)

// RiskState is the risk register's side of a snapshot: enough for the screen to know
// when to re-read the register, and what must be on screen whatever the filter: risks
// whose linked alerts are firing, and escalations waiting for a person.
type RiskState struct {
	Version       int64
	Materialising []risk.Risk
	Proposals     []risk.Proposal
	// Err is the last failure reading the register ("" when fine): shown, never hidden.
	Err string
	// Backup, when the register file was found damaged (and left untouched), is the
	// newest backup a person may restore it from.
	Backup string
	// Alerts names, per materialising risk ID, the firing alerts that match its links.
	Alerts map[int64][]string
}

// RiskStore is the register as the cockpit follows it (risk/sqlite.Store, adapted).
type RiskStore interface {
	Version(ctx context.Context) (int64, error)
	// RecordFiring flags the risks whose linked alerts are among the firing ones and
	// clears the others, recording each change.
	RecordFiring(ctx context.Context, firing []datasource.Alert) error
	Materialising(ctx context.Context) ([]risk.Risk, error)
	// Links lists a risk's alert links (Alertmanager matchers).
	Links(ctx context.Context, riskID int64) ([]risk.Link, error)
	Proposals(ctx context.Context) ([]risk.Proposal, error)
}

// RiskFollowOptions tune FollowRisks.
type RiskFollowOptions struct {
	Every time.Duration // default 1s
	Poke  <-chan struct{}
	Log   *slog.Logger
}

// FollowRisks keeps the hub's risk state in step with the register until ctx ends, and
// feeds it the firing alerts whenever they change, so a risk is flagged materialising
// within a refresh of its alert firing (and the flag recorded in its audit trail).
func FollowRisks(ctx context.Context, hub *Hub, st RiskStore, clk clock.Clock, o RiskFollowOptions) {
	if o.Every <= 0 {
		o.Every = time.Second
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	tick := clk.NewTicker(o.Every)
	defer tick.Stop()
	var (
		last       *RiskState
		lastFiring uint64
		fed        bool
	)
	for {
		snap := hub.Snapshot()
		var firing []datasource.Alert
		h := fnv.New64a()
		for _, a := range snap.Alerts {
			if a.State == datasource.StateFiring {
				firing = append(firing, a)
				h.Write([]byte(a.Fingerprint))
			}
		}
		if sum := h.Sum64(); !fed || sum != lastFiring {
			if err := st.RecordFiring(ctx, firing); err != nil {
				if ctx.Err() == nil {
					o.Log.Warn("firing alerts not matched against risks", "err", err)
				}
			} else {
				lastFiring, fed = sum, true
			}
		}
		next := &RiskState{}
		v, err := st.Version(ctx)
		if err == nil && last != nil && last.Err == "" && v == last.Version {
			next = nil // nothing changed
		} else if err == nil {
			next.Version = v
			if next.Materialising, err = st.Materialising(ctx); err == nil {
				next.Proposals, err = st.Proposals(ctx)
			}
			if err == nil {
				next.Alerts, err = matchingAlerts(ctx, st, next.Materialising, firing)
			}
		}
		if err != nil && ctx.Err() == nil {
			o.Log.Warn("risk register unreadable", "err", err)
			next = &RiskState{Err: Truncate(err.Error(), MaxErrorLen)}
			if last != nil {
				next.Version, next.Materialising, next.Proposals = last.Version, last.Materialising, last.Proposals
			}
		}
		if next != nil && ctx.Err() == nil {
			if last == nil || next.Version != last.Version || next.Err != last.Err ||
				!slices.EqualFunc(next.Materialising, last.Materialising, func(a, b risk.Risk) bool { return a.ID == b.ID }) {
				hub.SetRisks(next)
			}
			last = next
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C():
		case <-o.Poke:
		}
	}
}

// matchingAlerts names, for each materialising risk, the firing alerts its links match.
func matchingAlerts(ctx context.Context, st RiskStore, risks []risk.Risk, firing []datasource.Alert) (map[int64][]string, error) {
	out := map[int64][]string{}
	for _, r := range risks {
		links, err := st.Links(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, l := range links {
			ms, err := matcher.Parse(l.Matchers)
			if err != nil {
				continue
			}
			for _, a := range firing {
				if n := a.Name(); ms.Matches(a.Labels) && !seen[n] {
					seen[n] = true
					out[r.ID] = append(out[r.ID], n)
				}
			}
		}
	}
	return out, nil
}
