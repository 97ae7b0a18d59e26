package cockpit

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
)

// BenchmarkSnapshotCost measures building one snapshot of 2,000 alerts from 2 sources
// and 12 panels, against the least any snapshot must do: copy the alerts and sort them
// for display. The ratio is the hub's overhead on top of that. "alerts" rebuilds the
// merged alert list as after every alert event; "panels" is a panel-only change, which
// reuses the sorted list of the previous snapshot.
func BenchmarkSnapshotCost(b *testing.B) {
	b.Run("alerts", func(b *testing.B) { benchSnapshot(b, true) })
	b.Run("panels", func(b *testing.B) { benchSnapshot(b, false) })
}

func benchSnapshot(b *testing.B, alertsChanged bool) {
	const n = 2000
	clk := clock.NewFake(t0)
	panels := make([]PanelSpec, 12)
	h := NewHub(clk, HubOptions{Panels: panels})
	var all []datasource.Alert
	for _, src := range []string{"am-1", "am-2"} {
		alerts := make([]datasource.Alert, n/2)
		for i := range alerts {
			alerts[i] = datasource.Alert{
				Fingerprint: fmt.Sprintf("%s-%06d", src, i), State: datasource.StateFiring,
				Labels:   map[string]string{"alertname": fmt.Sprint("A", i%40), "severity": []string{"critical", "warning", "info"}[i%3]},
				StartsAt: t0.Add(-time.Duration(i) * time.Second), UpdatedAt: t0,
			}
		}
		all = append(all, alerts...)
		h.ApplyAlerts(datasource.AlertEvent{Kind: datasource.Snapshot, Source: src, Alerts: alerts})
	}
	for i := range panels {
		h.SetPanel(i, datasource.Result{Series: []datasource.Series{{Samples: make([]datasource.Sample, 600)}}}, nil)
	}

	h.Publish() // the first build merges everything
	var ours, base time.Duration
	b.ResetTimer()
	for range b.N {
		h.mu.Lock()
		h.alertsDirty = alertsChanged
		h.mu.Unlock()
		t := time.Now()
		h.markDirty()
		if s := h.Publish(); len(s.Alerts) != n {
			b.Fatalf("%d alerts", len(s.Alerts))
		}
		ours += time.Since(t)

		t = time.Now()
		c := slices.Clone(all)
		slices.SortFunc(c, CompareAlerts)
		base += time.Since(t)
	}
	b.ReportMetric(float64(ours)/float64(base), "ratio")
	b.ReportMetric(float64(ours)/float64(b.N)/1e6, "ms")
}

// slowSource answers every query after a fixed per-query latency, like a real server.
type slowSource struct {
	fakeMetrics
	latency map[string]time.Duration
}

func (s *slowSource) Query(ctx context.Context, q string, at time.Time) (datasource.Result, error) {
	select {
	case <-time.After(s.latency[q]):
	case <-ctx.Done():
		return datasource.Result{}, ctx.Err()
	}
	return datasource.Result{Series: []datasource.Series{{Samples: []datasource.Sample{{T: at, V: 1}}}}}, nil
}

// BenchmarkP5FanOut refreshes 12 panels against one source whose queries take 10–32 ms
// each (QUALITY.md P5) and compares the whole refresh with the slowest query alone:
// a good fan-out costs little more than its slowest member.
func BenchmarkP5FanOut(b *testing.B) {
	clk := clock.NewFake(t0)
	src := &slowSource{fakeMetrics: fakeMetrics{name: "prom"}, latency: map[string]time.Duration{}}
	var specs []PanelSpec
	for i := range 12 {
		q := fmt.Sprintf("q%d", i)
		src.latency[q] = time.Duration(10+2*i) * time.Millisecond
		specs = append(specs, PanelSpec{Title: q, Type: PanelStat, Source: "prom", Query: q})
	}
	slowest := specs[11].Query
	p := &Poller{Hub: NewHub(clk, HubOptions{Panels: specs}), Clock: clk, Panels: specs,
		Sources: map[string]datasource.MetricsSource{"prom": src}}
	ctx := context.Background()
	var ours, base time.Duration
	b.ResetTimer()
	for range b.N {
		t := time.Now()
		p.RefreshAll(ctx)
		ours += time.Since(t)
		t = time.Now()
		_, _ = src.Query(ctx, slowest, t0)
		base += time.Since(t)
	}
	b.ReportMetric(float64(ours)/float64(base), "ratio")
	b.ReportMetric(float64(ours)/float64(b.N)/1e6, "ms")
}
