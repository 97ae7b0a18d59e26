package cockpit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
)

// Poller refreshes every panel on the clock: all panels at once, at most Concurrency
// queries in flight, each bounded by Timeout. Results land in the hub; a failing source
// turns its panels stale and its chip red, and never stops the other panels.
//
// Two things keep a failing source from being hammered. A source whose every query
// failed (retryably) on two refreshes in a row is considered down: from then on each
// refresh sends it one probe query instead of all its panels' queries, and the first
// probe that succeeds brings every panel back in the same refresh, so recovery shows
// within one interval. And a panel whose query failed for a reason that will not go
// away by itself (bad PromQL, a refused credential: see datasource.Retryable) is not
// retried for HoldConfigErrors, so a typo does not cost a request every interval.
type Poller struct {
	Hub     *Hub
	Clock   clock.Clock
	Sources map[string]datasource.MetricsSource
	Panels  []PanelSpec
	Refresh time.Duration
	Timeout time.Duration
	// Concurrency caps the queries in flight to one source (default 16: a refresh of a
	// typical screen goes out at once, over kept-alive connections).
	Concurrency int
	// HoldConfigErrors is how long a panel with a non-retryable error waits before
	// trying again (default 10 × Refresh, at least 5 minutes).
	HoldConfigErrors time.Duration
	Log              *slog.Logger

	mu      sync.Mutex
	health  map[string]datasource.Health
	sources map[string]*sourceState
	holds   map[int]time.Time // panel → no query before this
	points  map[int]int       // panel → chart width in pixels, as last drawn
}

// SetPoints tells the poller how many pixels wide panel i's chart is, so its range
// query asks for one point per pixel from the next refresh on. Safe from any goroutine.
func (p *Poller) SetPoints(i, pixels int) {
	if pixels <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.points == nil {
		p.points = map[int]int{}
	}
	p.points[i] = pixels
}

type sourceState struct {
	failedRefreshes int // consecutive refreshes in which every query failed retryably
	down            bool
}

// downAfter is how many all-failed refreshes in a row mark a source down.
const downAfter = 2

func (p *Poller) defaults() {
	if p.Refresh <= 0 {
		p.Refresh = 15 * time.Second
	}
	if p.Timeout <= 0 {
		p.Timeout = 10 * time.Second
	}
	if p.Concurrency <= 0 {
		p.Concurrency = 16
	}
	if p.HoldConfigErrors <= 0 {
		p.HoldConfigErrors = max(10*p.Refresh, 5*time.Minute)
	}
	if p.Log == nil {
		p.Log = slog.Default()
	}
}

// Run refreshes at once and then every Refresh until ctx ends. Every source runs on
// its own schedule, so one that hangs until its timeout delays no other.
func (p *Poller) Run(ctx context.Context) {
	p.defaults()
	var wg sync.WaitGroup
	for _, name := range p.sourceNames() {
		sem := make(chan struct{}, p.Concurrency)
		wg.Go(func() {
			t := p.Clock.NewTicker(p.Refresh)
			defer t.Stop()
			for {
				if panels := p.due(name, p.Clock.Now()); len(panels) > 0 {
					p.refreshSource(ctx, name, panels, p.Clock.Now(), sem)
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C():
				}
			}
		})
	}
	wg.Wait()
}

// sourceNames lists the sources the panels use, in panel order.
func (p *Poller) sourceNames() []string {
	var names []string
	for _, spec := range p.Panels {
		if !slices.Contains(names, spec.Source) {
			names = append(names, spec.Source)
		}
	}
	return names
}

// due lists source's panels that are not held back at now.
func (p *Poller) due(source string, now time.Time) []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []int
	for i, spec := range p.Panels {
		if spec.Source != source {
			continue
		}
		if until, held := p.holds[i]; held && now.Before(until) {
			continue
		}
		out = append(out, i)
	}
	return out
}

// RefreshAll queries every panel once (as the rules above allow) and waits for all of
// them. Sources are refreshed side by side; a slow one delays no other.
func (p *Poller) RefreshAll(ctx context.Context) {
	p.defaults()
	now := p.Clock.Now()
	var wg sync.WaitGroup
	for _, name := range p.sourceNames() {
		panels := p.due(name, now)
		if len(panels) == 0 {
			continue
		}
		sem := make(chan struct{}, p.Concurrency) // per source: a slow one holds up no other
		wg.Go(func() { p.refreshSource(ctx, name, panels, now, sem) })
	}
	wg.Wait()
}

func (p *Poller) refreshSource(ctx context.Context, name string, panels []int, now time.Time, sem chan struct{}) {
	p.mu.Lock()
	if p.sources == nil {
		p.sources = map[string]*sourceState{}
	}
	st := p.sources[name]
	if st == nil {
		st = &sourceState{}
		p.sources[name] = st
	}
	down := st.down
	p.mu.Unlock()

	if down { // one probe; the rest only if it gets through
		err := p.runPanels(ctx, panels[:1], now, sem)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			for _, i := range panels[1:] {
				p.Hub.SetPanel(i, datasource.Result{}, fmt.Errorf("source %s is down; probing it every %s: %w", name, p.Refresh, err))
			}
			return
		}
		p.Log.Info("source is back", "source", name)
		p.mu.Lock()
		st.down, st.failedRefreshes = false, 0
		p.mu.Unlock()
		panels = panels[1:]
	}
	err := p.runPanels(ctx, panels, now, sem)
	if ctx.Err() != nil || len(panels) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		st.failedRefreshes = 0
		return
	}
	st.failedRefreshes++
	if st.failedRefreshes >= downAfter && !st.down {
		st.down = true
		p.Log.Warn("source is down; probing with one query per refresh", "source", name, "err", err)
	}
}

// runPanels queries the given panels concurrently and records the results. It returns
// an error only when every one of them failed retryably (the source itself looks
// broken), namely the last such error.
func (p *Poller) runPanels(ctx context.Context, panels []int, now time.Time, sem chan struct{}) error {
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		failed  int
		lastErr error
	)
	for _, i := range panels {
		spec := p.Panels[i]
		p.mu.Lock()
		if n, ok := p.points[i]; ok {
			spec.Points = n
		}
		p.mu.Unlock()
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			res, err := p.queryPanel(ctx, spec, now)
			if ctx.Err() != nil {
				return // shutting down: not a source failure
			}
			p.Hub.SetPanel(i, res, err)
			if err == nil {
				return
			}
			if !datasource.Retryable(err) {
				p.mu.Lock()
				if p.holds == nil {
					p.holds = map[int]time.Time{}
				}
				p.holds[i] = now.Add(p.HoldConfigErrors)
				p.mu.Unlock()
				p.Log.Warn("panel query refused; not retrying it for a while", "panel", spec.Title, "retry_after", p.HoldConfigErrors, "err", err)
				return
			}
			mu.Lock()
			failed++
			lastErr = err
			mu.Unlock()
		})
	}
	wg.Wait()
	if failed > 0 && failed == len(panels) {
		return lastErr
	}
	return nil
}

// queryPanel runs one panel's query, turning a panic inside a source into an error on
// that panel alone.
func (p *Poller) queryPanel(ctx context.Context, spec PanelSpec, now time.Time) (res datasource.Result, err error) {
	src, ok := p.Sources[spec.Source]
	if !ok {
		return res, configError{fmt.Errorf("panel %q: source %q: %w", spec.Title, spec.Source, datasource.ErrUnknownSource)}
	}
	defer func() {
		if r := recover(); r != nil {
			p.Log.Error("source panicked", "source", spec.Source, "panel", spec.Title, "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("source %s failed internally: %v", spec.Source, r)
		}
		p.recordHealth(src, err, now)
	}()
	qctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	switch spec.Type {
	case PanelTimeseries:
		res, err = src.QueryRange(qctx, spec.Query, RangeFor(spec, now))
	case PanelSLO:
		res, err = querySLO(qctx, src, spec, now)
	default:
		res, err = src.Query(qctx, spec.Query, now)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("query timed out after %s: %w", p.Timeout, err)
	}
	return res, err
}

func (p *Poller) recordHealth(src datasource.MetricsSource, err error, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.health == nil {
		p.health = map[string]datasource.Health{}
	}
	h := src.Health()
	prev, seen := p.health[src.Name()]
	if !seen {
		prev = h
	}
	if err != nil {
		h.State, h.LastError, h.LastSuccess = datasource.HealthDown, Truncate(err.Error(), MaxErrorLen), prev.LastSuccess
		h.ErrorSince = prev.ErrorSince
		if h.ErrorSince.IsZero() {
			h.ErrorSince = now
		}
	} else {
		h.State, h.LastSuccess, h.LastError, h.ErrorSince = datasource.HealthUp, now, "", time.Time{}
	}
	if h.Source == "" {
		h.Source = src.Name()
	}
	p.health[src.Name()] = h
	p.Hub.SetHealth(h)
}

// RangeFor is the window and step of a timeseries panel's range query at now: one point
// per requested pixel, with start and end aligned to the step so that successive
// refreshes ask for the same grid (and caches upstream can answer).
func RangeFor(spec PanelSpec, now time.Time) datasource.Range {
	window := spec.Range
	if window <= 0 {
		window = 30 * time.Minute
	}
	points := spec.Points
	if points <= 0 {
		points = 600
	}
	points = min(points, 11000) // Prometheus refuses more than 11,000 points
	step := window / time.Duration(points)
	if r := step % time.Second; r != 0 { // round up: never more points than asked for
		step += time.Second - r
	}
	step = max(step, time.Second)
	end := now.Truncate(step)
	return datasource.Range{Start: end.Add(-window), End: end, Step: step}
}

// FollowAlerts keeps a subscription to src open until ctx ends, feeding the hub and
// resubscribing with capped backoff (on the clock) when the feed ends.
func FollowAlerts(ctx context.Context, hub *Hub, clk clock.Clock, src datasource.AlertSource, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	backoff := time.Second
	for ctx.Err() == nil {
		err := followOnce(ctx, hub, clk, src)
		if ctx.Err() != nil {
			return
		}
		h := src.Health()
		h.Source, h.State = src.Name(), datasource.HealthDown
		if err != nil {
			h.LastError = Truncate(err.Error(), MaxErrorLen)
		}
		if h.ErrorSince.IsZero() {
			h.ErrorSince = clk.Now()
		}
		hub.SetHealth(h)
		log.Warn("alert feed ended; resubscribing", "source", src.Name(), "err", err, "backoff", backoff)
		t := clk.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		backoff = min(backoff*2, time.Minute)
	}
}

func followOnce(ctx context.Context, hub *Hub, clk clock.Clock, src datasource.AlertSource) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("alert source %s failed internally: %v", src.Name(), r)
		}
	}()
	sub, err := src.Subscribe(ctx)
	if err != nil {
		return fmt.Errorf("subscribe to %s: %w", src.Name(), err)
	}
	defer sub.Close()
	// A source can be down without its feed ending (a poller whose every peer fails
	// simply sends nothing), so its own health is read on a timer too, not only when an
	// event arrives.
	tick := clk.NewTicker(healthEvery)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-sub.C():
			if !ok {
				return sub.Err()
			}
			if ev.Source == "" {
				ev.Source = src.Name()
			}
			hub.ApplyAlerts(ev)
			publishHealth(hub, clk, src, true)
		case <-tick.C():
			publishHealth(hub, clk, src, false)
		}
	}
}

// healthEvery is how often a live alert source's health (and its peers') is read.
const healthEvery = 5 * time.Second

// publishHealth copies a source's own view of its health to the hub, and its peers'
// when it has several (HA Alertmanagers). A source that cannot say (unknown) is taken
// to be up when it has just delivered.
func publishHealth(hub *Hub, clk clock.Clock, src datasource.AlertSource, delivered bool) {
	h := src.Health()
	h.Source = cmp.Or(h.Source, src.Name())
	if h.State == "" || h.State == datasource.HealthUnknown {
		if !delivered {
			return
		}
		h.State, h.LastSuccess = datasource.HealthUp, clk.Now()
	}
	hub.SetHealth(h)
	if p, ok := src.(interface{ PeerHealth() []datasource.Health }); ok {
		for _, ph := range p.PeerHealth() {
			hub.SetHealth(ph)
		}
	}
}

// configError marks a failure that no retry will fix.
type configError struct{ error }

func (e configError) Unwrap() error   { return e.error }
func (e configError) Retryable() bool { return false }

// querySLO asks for the error ratio over every SLO window and returns one series per
// window, labelled window="5m" and so on. Any failure fails the panel: half an SLO is
// worse than a stale one.
func querySLO(ctx context.Context, src datasource.MetricsSource, spec PanelSpec, now time.Time) (datasource.Result, error) {
	var out datasource.Result
	for _, w := range SLOWindows(spec.objectiveWindow()) {
		r, err := src.Query(ctx, SLOQuery(spec.Query, w), now)
		if err != nil {
			return datasource.Result{}, fmt.Errorf("SLO window %s: %w", PromDuration(w), err)
		}
		out.Warnings = append(out.Warnings, r.Warnings...)
		if len(r.Series) == 0 || len(r.Series[0].Samples) == 0 {
			continue
		}
		out.Series = append(out.Series, datasource.Series{
			Labels:  map[string]string{sloWindowLabel: PromDuration(w)},
			Samples: r.Series[0].Samples[len(r.Series[0].Samples)-1:],
		})
	}
	return out, nil
}
