package cockpit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func alert(fp, sev string, state datasource.AlertState, start, updated time.Duration) datasource.Alert {
	return datasource.Alert{
		Fingerprint: fp, State: state,
		Labels:   map[string]string{"alertname": "A" + fp, "severity": sev},
		StartsAt: t0.Add(start), UpdatedAt: t0.Add(updated),
	}
}

func fps(s *Snapshot) string {
	var out []string
	for _, a := range s.Alerts {
		out = append(out, a.Fingerprint)
	}
	return strings.Join(out, ",")
}

func TestAlertOrderingAndDedup(t *testing.T) {
	h := NewHub(clock.NewFake(t0), HubOptions{})
	h.ApplyAlerts(datasource.AlertEvent{Kind: datasource.Snapshot, Source: "am1", Alerts: []datasource.Alert{
		alert("w-old", "warning", datasource.StateFiring, 0, 0),
		alert("c-new", "critical", datasource.StateFiring, 5*time.Minute, 0),
		alert("c-old", "critical", datasource.StateFiring, time.Minute, 0),
		alert("res", "critical", datasource.StateResolved, 0, 0),
		alert("sil", "critical", datasource.StateSuppressed, 0, 0),
		alert("none", "", datasource.StateFiring, 0, 0),
	}})
	// the HA peer reports the same alert, newer: one row, newest wins
	dup := alert("w-old", "warning", datasource.StateResolved, 0, time.Minute)
	h.ApplyAlerts(datasource.AlertEvent{Kind: datasource.Snapshot, Source: "am2", Alerts: []datasource.Alert{dup}})
	s := h.Publish()
	if got, want := fps(s), "c-old,c-new,none,sil,res,w-old"; got != want {
		t.Fatalf("order = %s, want %s", got, want)
	}
	if s.Alerts[5].State != datasource.StateResolved || s.Alerts[5].Source != "am2" {
		t.Fatalf("newest state did not win: %+v", s.Alerts[5])
	}
	c := s.AlertCounts()
	if c.Firing != 3 || c.Critical != 2 || c.Resolved != 2 || c.Suppressed != 1 {
		t.Fatalf("counts = %+v", c)
	}
}

func TestDeltaIsIdempotentAndOutOfOrderSafe(t *testing.T) {
	h := NewHub(clock.NewFake(t0), HubOptions{})
	newer := alert("x", "critical", datasource.StateResolved, 0, 2*time.Minute)
	older := alert("x", "critical", datasource.StateFiring, 0, time.Minute)
	for range 3 { // replayed batches
		h.ApplyAlerts(datasource.AlertEvent{Kind: datasource.Delta, Source: "wh", Alerts: []datasource.Alert{newer}})
		h.ApplyAlerts(datasource.AlertEvent{Kind: datasource.Delta, Source: "wh", Alerts: []datasource.Alert{older}, Truncated: 7})
	}
	s := h.Publish()
	if len(s.Alerts) != 1 || s.Alerts[0].State != datasource.StateResolved {
		t.Fatalf("alerts = %+v", s.Alerts)
	}
	if s.Truncated != 7 {
		t.Fatalf("truncated = %d", s.Truncated)
	}
	// a snapshot replaces what the source said before
	h.ApplyAlerts(datasource.AlertEvent{Kind: datasource.Snapshot, Source: "wh"})
	if s := h.Publish(); len(s.Alerts) != 0 {
		t.Fatalf("snapshot did not replace: %+v", s.Alerts)
	}
}

func TestPanelStatesKeepLastGoodValue(t *testing.T) {
	clk := clock.NewFake(t0)
	h := NewHub(clk, HubOptions{Panels: []PanelSpec{{Title: "p"}}})
	if st := h.Snapshot().Panels[0].Status; st != StatusLoading {
		t.Fatalf("initial = %s", st)
	}
	good := datasource.Result{Series: []datasource.Series{{Samples: []datasource.Sample{{T: t0, V: 1}}}}}
	steps := []struct {
		res    datasource.Result
		err    error
		want   PanelStatus
		stale  time.Time
		errMsg string
	}{
		{err: errors.New("boom"), want: StatusError, errMsg: "boom"},
		{res: good, want: StatusOK},
		{err: errors.New("503"), want: StatusStale, stale: t0.Add(3 * time.Minute), errMsg: "503"},
		{err: errors.New("503 again"), want: StatusStale, stale: t0.Add(3 * time.Minute), errMsg: "503 again"},
		{res: datasource.Result{Series: good.Series, Warnings: []string{"partial"}}, want: StatusPartial},
		{res: datasource.Result{}, want: StatusNoData},
		{err: errors.New(strings.Repeat("é", 2000)), want: StatusStale},
	}
	for i, st := range steps {
		clk.Advance(time.Minute)
		h.SetPanel(0, st.res, st.err)
		p := h.Publish().Panels[0]
		if p.Status != st.want {
			t.Fatalf("step %d: status %s, want %s", i, p.Status, st.want)
		}
		if st.want == StatusStale && !st.stale.IsZero() {
			if !p.StaleSince.Equal(st.stale) || len(p.Result.Series) != 1 {
				t.Fatalf("step %d: stale since %s with %d series", i, p.StaleSince, len(p.Result.Series))
			}
		}
		if st.errMsg != "" && p.Err != st.errMsg {
			t.Fatalf("step %d: err %q", i, p.Err)
		}
		if len(p.Err) > MaxErrorLen {
			t.Fatalf("step %d: error not truncated (%d bytes)", i, len(p.Err))
		}
	}
	h.SetPanel(5, good, nil) // out of range: ignored
}

func TestSnapshotsAreImmutable(t *testing.T) {
	h := NewHub(clock.NewFake(t0), HubOptions{Panels: []PanelSpec{{Title: "p"}}})
	h.ApplyAlerts(datasource.AlertEvent{Source: "a", Alerts: []datasource.Alert{alert("1", "critical", datasource.StateFiring, 0, 0)}})
	s1 := h.Publish()
	h.SetPanel(0, datasource.Result{}, errors.New("x"))
	h.ApplyAlerts(datasource.AlertEvent{Source: "a"})
	s2 := h.Publish()
	if len(s1.Alerts) != 1 || s1.Panels[0].Status != StatusLoading {
		t.Fatalf("old snapshot changed: %+v", s1)
	}
	if s2.Version <= s1.Version || len(s2.Alerts) != 0 {
		t.Fatalf("new snapshot wrong: v%d %+v", s2.Version, s2.Alerts)
	}
	if h.Publish() != s2 {
		t.Fatal("publish without changes built a new snapshot")
	}
}

func TestProducersNeverBlockOnSlowSubscribers(t *testing.T) {
	h := NewHub(clock.NewFake(t0), HubOptions{Panels: []PanelSpec{{Title: "p"}}})
	slow := h.Subscribe() // never read
	defer slow.Close()
	done := make(chan struct{})
	stop := make(chan struct{})
	go h.Run(stop)
	defer close(stop)
	go func() {
		defer close(done)
		for i := range 10000 {
			h.ApplyAlerts(datasource.AlertEvent{Kind: datasource.Delta, Source: "s", Alerts: []datasource.Alert{alert(fmt.Sprint(i%50), "warning", datasource.StateFiring, 0, time.Duration(i))}})
			h.SetPanel(0, datasource.Result{}, nil)
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("producer blocked behind a subscriber that never reads")
	}
	// the slow subscriber holds exactly one snapshot; after the producer stops the
	// newest one reaches it
	deadline := time.After(5 * time.Second)
	for {
		var s *Snapshot
		select {
		case s = <-slow.C():
		case <-deadline:
			t.Fatal("latest snapshot never delivered")
		}
		if len(s.Alerts) == 50 && s.Version == h.Snapshot().Version {
			return
		}
	}
}

func TestSubscribersSeeVersionsInOrder(t *testing.T) {
	h := NewHub(clock.NewFake(t0), HubOptions{})
	sub := h.Subscribe()
	defer sub.Close()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				h.SetHealth(datasource.Health{Source: fmt.Sprint(w), State: datasource.HealthUp, LastSuccess: t0.Add(time.Duration(i))})
				h.Publish()
			}
		}()
	}
	var last uint64
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	for {
		select {
		case s := <-sub.C():
			if s.Version < last {
				t.Fatalf("version went back: %d after %d", s.Version, last)
			}
			last = s.Version
		case <-finished:
			if s := h.Snapshot(); len(s.Sources) != 4 || s.Sources[0].Source != "0" {
				t.Fatalf("sources = %+v", s.Sources)
			}
			return
		}
	}
}

type fakeMetrics struct {
	name  string
	mu    sync.Mutex
	fail  error
	panic bool
	calls int
	block bool
}

func (f *fakeMetrics) Name() string { return f.name }
func (f *fakeMetrics) Health() datasource.Health {
	return datasource.Health{Source: f.name, Kind: "fake"}
}
func (f *fakeMetrics) Query(ctx context.Context, q string, at time.Time) (datasource.Result, error) {
	f.mu.Lock()
	f.calls++
	fail, pnc, block := f.fail, f.panic, f.block
	f.mu.Unlock()
	if pnc {
		panic("kaboom")
	}
	if block {
		<-ctx.Done()
		return datasource.Result{}, ctx.Err()
	}
	if fail != nil {
		return datasource.Result{}, fail
	}
	return datasource.Result{Series: []datasource.Series{{Samples: []datasource.Sample{{T: at, V: 42}}}}}, nil
}
func (f *fakeMetrics) QueryRange(ctx context.Context, q string, r datasource.Range) (datasource.Result, error) {
	return f.Query(ctx, q, r.End)
}

func TestPollerIsolatesFailures(t *testing.T) {
	clk := clock.NewFake(t0)
	good, bad, wild, slow := &fakeMetrics{name: "good"}, &fakeMetrics{name: "bad", fail: errors.New("503 Service Unavailable")}, &fakeMetrics{name: "wild", panic: true}, &fakeMetrics{name: "slow", block: true}
	specs := []PanelSpec{
		{Title: "g", Source: "good", Type: PanelStat},
		{Title: "b", Source: "bad", Type: PanelStat},
		{Title: "w", Source: "wild", Type: PanelTimeseries},
		{Title: "s", Source: "slow", Type: PanelStat},
		{Title: "missing", Source: "nope", Type: PanelStat},
	}
	h := NewHub(clk, HubOptions{Panels: specs})
	p := &Poller{Hub: h, Clock: clk, Panels: specs, Timeout: 50 * time.Millisecond,
		Sources: map[string]datasource.MetricsSource{"good": good, "bad": bad, "wild": wild, "slow": slow}}
	p.RefreshAll(context.Background())
	s := h.Publish()
	want := []PanelStatus{StatusOK, StatusError, StatusError, StatusError, StatusError}
	for i, w := range want {
		if s.Panels[i].Status != w {
			t.Errorf("panel %s: %s (%s), want %s", specs[i].Title, s.Panels[i].Status, s.Panels[i].Err, w)
		}
	}
	if !strings.Contains(s.Panels[2].Err, "kaboom") || !strings.Contains(s.Panels[3].Err, "timed out") || !strings.Contains(s.Panels[4].Err, "unknown source") {
		t.Errorf("errors: %q / %q / %q", s.Panels[2].Err, s.Panels[3].Err, s.Panels[4].Err)
	}
	health := map[string]datasource.Health{}
	for _, hl := range s.Sources {
		health[hl.Source] = hl
	}
	if health["good"].State != datasource.HealthUp || health["bad"].State != datasource.HealthDown || !health["bad"].ErrorSince.Equal(t0) {
		t.Errorf("health = %+v", health)
	}
	// recovery: the bad source comes back and its panel is fresh again in one refresh
	bad.mu.Lock()
	bad.fail = nil
	bad.mu.Unlock()
	clk.Advance(time.Minute)
	p.RefreshAll(context.Background())
	if s := h.Publish(); s.Panels[1].Status != StatusOK {
		t.Errorf("after recovery: %s", s.Panels[1].Status)
	}
}

func TestRangeForAlignsAndCapsPoints(t *testing.T) {
	spec := PanelSpec{Range: 30 * time.Minute, Points: 600}
	r := RangeFor(spec, t0.Add(7*time.Second))
	if r.Step != 3*time.Second || !r.End.Equal(t0.Add(6*time.Second)) || r.End.Sub(r.Start) != 30*time.Minute {
		t.Fatalf("range = %+v", r)
	}
	r = RangeFor(PanelSpec{Range: 30 * 24 * time.Hour, Points: 1e6}, t0)
	if n := int(r.End.Sub(r.Start) / r.Step); n > 11000 {
		t.Fatalf("%d points exceeds Prometheus's limit", n)
	}
	if r := RangeFor(PanelSpec{Range: time.Second, Points: 600}, t0); r.Step != time.Second {
		t.Fatalf("step below 1s: %s", r.Step)
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct{ got, want string }{
		{LegendName("{{version}} ({{ zone }})", map[string]string{"version": "v2", "zone": "eu"}), "v2 (eu)"},
		{LegendName("", map[string]string{"version": "v2"}), "v2"},
		{LegendName("", map[string]string{"b": "2", "a": "1", "__name__": "x"}), "a=1, b=2"},
		{LegendName("", nil), "value"},
		{LegendName("{{unclosed", nil), "{{unclosed"},
		{HumanDuration(45 * time.Second), "45s"},
		{HumanDuration(12 * time.Minute), "12m"},
		{HumanDuration(65 * time.Minute), "1h05m"},
		{HumanDuration(51 * time.Hour), "2d3h"},
		{HumanDuration(-time.Second), "0s"},
		{ClockOffset(252 * time.Second), "04:12"},
		{ClockOffset(-5 * time.Second), "-00:05"},
		{ClockOffset(3725 * time.Second), "1:02:05"},
		{Truncate("héllo", 4), "h…"},
		{Truncate("ok", 4), "ok"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}

type refused struct{}

func (refused) Error() string   { return "400 bad_data: parse error at char 5" }
func (refused) Retryable() bool { return false }

func (f *fakeMetrics) setFail(err error) {
	f.mu.Lock()
	f.fail = err
	f.mu.Unlock()
}

func (f *fakeMetrics) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func TestPollerBacksOffADownSourceAndRecoversInOneInterval(t *testing.T) {
	clk := clock.NewFake(t0)
	src := &fakeMetrics{name: "prom"}
	specs := make([]PanelSpec, 5)
	for i := range specs {
		specs[i] = PanelSpec{Title: fmt.Sprint("p", i), Source: "prom", Type: PanelStat}
	}
	h := NewHub(clk, HubOptions{Panels: specs})
	p := &Poller{Hub: h, Clock: clk, Panels: specs, Refresh: 15 * time.Second, Sources: map[string]datasource.MetricsSource{"prom": src}}
	refresh := func() {
		clk.Advance(15 * time.Second)
		p.RefreshAll(context.Background())
	}
	refresh() // healthy: 5 queries
	src.setFail(errors.New("503 Service Unavailable"))
	refresh() // 5 failing queries
	refresh() // 5 failing queries: now down
	before := src.callCount()
	for range 10 { // ten refreshes while down: one probe each
		refresh()
	}
	if got := src.callCount() - before; got != 10 {
		t.Fatalf("%d queries in 10 refreshes of a down source, want 10 probes", got)
	}
	s := h.Publish()
	for _, ps := range s.Panels {
		if ps.Status != StatusStale || !strings.Contains(ps.Err, "503") {
			t.Fatalf("panel %s: %s %q", ps.Spec.Title, ps.Status, ps.Err)
		}
	}
	src.setFail(nil)
	refresh() // the probe succeeds and every panel is fresh in this same refresh
	for _, ps := range h.Publish().Panels {
		if ps.Status != StatusOK {
			t.Fatalf("after recovery panel %s is %s", ps.Spec.Title, ps.Status)
		}
	}
}

func TestPollerDoesNotHotRetryConfigErrors(t *testing.T) {
	clk := clock.NewFake(t0)
	src := &fakeMetrics{name: "prom", fail: refused{}}
	specs := []PanelSpec{{Title: "typo", Source: "prom", Type: PanelStat}}
	h := NewHub(clk, HubOptions{Panels: specs})
	p := &Poller{Hub: h, Clock: clk, Panels: specs, Refresh: 15 * time.Second, Sources: map[string]datasource.MetricsSource{"prom": src}}
	p.RefreshAll(context.Background())
	for range 19 { // 19 × 15 s < 5 min hold
		clk.Advance(15 * time.Second)
		p.RefreshAll(context.Background())
	}
	if n := src.callCount(); n != 1 {
		t.Fatalf("bad query sent %d times in under 5 minutes", n)
	}
	if s := h.Publish(); s.Panels[0].Status != StatusError || !strings.Contains(s.Panels[0].Err, "bad_data") {
		t.Fatalf("panel = %+v", s.Panels[0])
	}
	clk.Advance(time.Minute) // hold over: tried again
	p.RefreshAll(context.Background())
	if n := src.callCount(); n != 2 {
		t.Fatalf("after the hold: %d calls", n)
	}
}

type rangeRecorder struct {
	fakeMetrics
	mu   sync.Mutex
	last datasource.Range
}

func (r *rangeRecorder) QueryRange(ctx context.Context, q string, rg datasource.Range) (datasource.Result, error) {
	r.mu.Lock()
	r.last = rg
	r.mu.Unlock()
	return r.fakeMetrics.QueryRange(ctx, q, rg)
}

func TestPollerAsksOnePointPerPixel(t *testing.T) {
	clk := clock.NewFake(t0)
	src := &rangeRecorder{fakeMetrics: fakeMetrics{name: "p"}}
	specs := []PanelSpec{{Title: "c", Source: "p", Type: PanelTimeseries, Range: 30 * time.Minute, Points: 600}}
	p := &Poller{Hub: NewHub(clk, HubOptions{Panels: specs}), Clock: clk, Panels: specs, Sources: map[string]datasource.MetricsSource{"p": src}}
	p.RefreshAll(context.Background())
	if src.last.Step != 3*time.Second {
		t.Fatalf("default step %s", src.last.Step)
	}
	p.SetPoints(0, 900) // the chart is 900 px wide
	p.RefreshAll(context.Background())
	if src.last.Step != 2*time.Second {
		t.Fatalf("step for 900 px = %s, want 2s", src.last.Step)
	}
}

// A subscriber that joins while snapshots are being published must still end up with
// the newest one.
func TestSubscribeDuringPublishGetsTheNewest(t *testing.T) {
	for range 200 {
		h := NewHub(clock.NewFake(t0), HubOptions{})
		done := make(chan uint64)
		go func() {
			var last uint64
			for i := range 20 {
				h.SetHealth(datasource.Health{Source: "s", LastSuccess: t0.Add(time.Duration(i))})
				last = h.Publish().Version
			}
			done <- last
		}()
		sub := h.Subscribe()
		last := <-done
		var got uint64
		for got < last {
			select {
			case s := <-sub.C():
				got = s.Version
			case <-time.After(2 * time.Second):
				t.Fatalf("subscriber stuck at v%d, newest is v%d", got, last)
			}
		}
		sub.Close()
	}
}

func TestAHungSourceDelaysNoOther(t *testing.T) {
	clk := clock.NewFake(t0)
	good, hung := &fakeMetrics{name: "good"}, &fakeMetrics{name: "hung", block: true}
	specs := []PanelSpec{{Title: "g", Source: "good", Type: PanelStat}, {Title: "h", Source: "hung", Type: PanelStat}}
	p := &Poller{Hub: NewHub(clk, HubOptions{Panels: specs}), Clock: clk, Panels: specs, Refresh: 15 * time.Second, Timeout: time.Hour,
		Sources: map[string]datasource.MetricsSource{"good": good, "hung": hung}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	waitFor(t, "first refresh", func() bool { return good.callCount() == 1 && hung.callCount() == 1 })
	for i := 2; i <= 4; i++ {
		clk.BlockUntil(2)
		clk.Advance(15 * time.Second)
		waitFor(t, fmt.Sprintf("refresh %d of the good source while the other hangs", i), func() bool { return good.callCount() == i })
	}
	cancel()
	<-done
}
