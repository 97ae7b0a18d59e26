package replay

import (
	"context"
	"maps"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
)

// Options tune playback.
type Options struct {
	// Loop starts the scenario over after its duration instead of holding the end state.
	Loop bool
	// Tick is how often, in scenario time, subscribers are told the alert state (default 1s).
	Tick time.Duration
	// ResolvedFor is how long a resolved alert stays listed as resolved (default 5m).
	ResolvedFor time.Duration
	// Lookback is how far an instant query looks back over missing points (default 5m,
	// as Prometheus does).
	Lookback time.Duration
}

// Source plays a Scenario as both a metrics source and an alert source. Scenario time
// zero is Origin; everything is computed from the clock, so pausing, speeding up or
// jumping the clock is all it takes to steer playback, with no drift.
type Source struct {
	name   string
	sc     *Scenario
	clk    clock.Clock
	origin time.Time
	opts   Options
	index  map[string][]int // normalised query → series indices
}

var (
	_ datasource.MetricsSource = (*Source)(nil)
	_ datasource.AlertSource   = (*Source)(nil)
)

// New returns a source named name that plays sc with scenario time zero at origin.
func New(name string, sc *Scenario, clk clock.Clock, origin time.Time, opts Options) *Source {
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	if opts.ResolvedFor <= 0 {
		opts.ResolvedFor = 5 * time.Minute
	}
	if opts.Lookback <= 0 {
		opts.Lookback = 5 * time.Minute
	}
	s := &Source{name: name, sc: sc, clk: clk, origin: origin, opts: opts, index: map[string][]int{}}
	for i, ser := range sc.Series {
		s.index[ser.Query] = append(s.index[ser.Query], i)
	}
	return s
}

// Name is the source's configured name.
func (s *Source) Name() string { return s.name }

// Scenario is what the source plays.
func (s *Source) Scenario() *Scenario { return s.sc }

// Origin is the instant of scenario time zero.
func (s *Source) Origin() time.Time { return s.origin }

// Health is always up: a scenario cannot be unreachable.
func (s *Source) Health() datasource.Health {
	return datasource.Health{Source: s.name, Kind: "replay", State: datasource.HealthUp, LastSuccess: s.clk.Now()}
}

// Offset maps an instant to scenario time and the instant at which that scenario cycle
// began. Before the origin the scenario's first state holds (its steady-state past).
func (s *Source) Offset(t time.Time) (off time.Duration, cycleStart time.Time) {
	off = t.Sub(s.origin)
	if off < 0 {
		return off, s.origin
	}
	if s.opts.Loop && s.sc.Duration > 0 {
		n := off / s.sc.Duration
		return off - n*s.sc.Duration, s.origin.Add(n * s.sc.Duration)
	}
	return off, s.origin
}

// valueAt returns series i's value at t, looking back over missing points like
// Prometheus's instant-vector lookback; ok is false when there is none.
func (s *Source) valueAt(i int, t time.Time) (float64, bool) {
	pts := s.sc.Series[i].Points
	off, _ := s.Offset(t)
	idx := int(off / s.sc.Step)
	if off < 0 {
		idx = 0
	}
	if idx >= len(pts) {
		idx = len(pts) - 1
	}
	back := int(s.opts.Lookback / s.sc.Step)
	for j := idx; j >= 0 && idx-j <= back; j-- {
		p := pts[j]
		switch {
		case p.Stale:
			return 0, false
		case !p.Missing:
			return p.V, true
		}
	}
	return 0, false
}

func (s *Source) labels(i int) map[string]string {
	return maps.Clone(s.sc.Series[i].Labels)
}

// Query answers an instant query whose text matches scenario series.
func (s *Source) Query(ctx context.Context, query string, at time.Time) (datasource.Result, error) {
	if err := ctx.Err(); err != nil {
		return datasource.Result{}, err
	}
	var res datasource.Result
	for _, i := range s.index[NormalizeQuery(query)] {
		if v, ok := s.valueAt(i, at); ok {
			res.Series = append(res.Series, datasource.Series{Labels: s.labels(i), Samples: []datasource.Sample{{T: at, V: v}}})
		}
	}
	return res, nil
}

// QueryRange answers a range query; a step with no value is a NaN sample (a gap).
func (s *Source) QueryRange(ctx context.Context, query string, r datasource.Range) (datasource.Result, error) {
	if err := ctx.Err(); err != nil {
		return datasource.Result{}, err
	}
	if r.Step <= 0 || r.End.Before(r.Start) {
		return datasource.Result{}, nil
	}
	var res datasource.Result
	n := int(r.End.Sub(r.Start)/r.Step) + 1
	for _, i := range s.index[NormalizeQuery(query)] {
		samples := make([]datasource.Sample, 0, n)
		seen := false
		for t := r.Start; !t.After(r.End); t = t.Add(r.Step) {
			v, ok := s.valueAt(i, t)
			if !ok {
				v = math.NaN()
			}
			seen = seen || ok
			samples = append(samples, datasource.Sample{T: t, V: v})
		}
		if seen {
			res.Series = append(res.Series, datasource.Series{Labels: s.labels(i), Samples: samples})
		}
	}
	return res, nil
}

// AlertsAt is the alert state at t: firing alerts, and alerts resolved within
// ResolvedFor, newest first within the script order.
func (s *Source) AlertsAt(t time.Time) []datasource.Alert {
	off, cycle := s.Offset(t)
	var out []datasource.Alert
	for _, a := range s.sc.Alerts {
		if off < a.At {
			continue
		}
		al := datasource.Alert{
			Fingerprint:  a.fingerprint,
			Labels:       maps.Clone(a.Labels),
			Annotations:  maps.Clone(a.Annotations),
			State:        datasource.StateFiring,
			StartsAt:     cycle.Add(a.At),
			UpdatedAt:    t,
			GeneratorURL: a.GeneratorURL,
			Source:       s.name,
		}
		if a.Resolve > 0 && off >= a.Resolve {
			if off-a.Resolve >= s.opts.ResolvedFor {
				continue
			}
			al.State = datasource.StateResolved
			al.EndsAt = cycle.Add(a.Resolve)
		}
		out = append(out, al)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartsAt.After(out[j].StartsAt) })
	return out
}

// Subscribe delivers the alert state as a Snapshot event at once and then whenever it
// changes. A slow reader only ever finds the newest snapshot waiting: older ones are
// replaced, never queued, so the source never blocks.
func (s *Source) Subscribe(ctx context.Context) (datasource.Subscription, error) {
	ctx, cancel := context.WithCancel(ctx)
	sub := &subscription{c: make(chan datasource.AlertEvent, 1), cancel: cancel, done: make(chan struct{})}
	go s.play(ctx, sub)
	return sub, nil
}

func (s *Source) play(ctx context.Context, sub *subscription) {
	defer close(sub.done)
	defer close(sub.c)
	tick := s.clk.NewTicker(s.opts.Tick)
	defer tick.Stop()
	last, first := "", true
	for {
		alerts := s.AlertsAt(s.clk.Now())
		if sig := signature(alerts); first || sig != last {
			last, first = sig, false
			ev := datasource.AlertEvent{Kind: datasource.Snapshot, Source: s.name, Alerts: alerts}
			for sent := false; !sent; {
				select {
				case sub.c <- ev:
					sent = true
				case <-ctx.Done():
					return
				default:
					select { // replace the unread older snapshot
					case <-sub.c:
					default:
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C():
		}
	}
}

func signature(alerts []datasource.Alert) string {
	b := make([]byte, 0, len(alerts)*24)
	for _, a := range alerts {
		b = append(b, a.Fingerprint...)
		b = append(b, a.State...)
		b = a.StartsAt.AppendFormat(b, time.RFC3339)
		b = append(b, ';')
	}
	return string(b)
}

type subscription struct {
	c      chan datasource.AlertEvent
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

func (s *subscription) C() <-chan datasource.AlertEvent { return s.c }
func (s *subscription) Err() error                      { return nil }
func (s *subscription) Close() {
	s.once.Do(s.cancel)
	<-s.done
}
