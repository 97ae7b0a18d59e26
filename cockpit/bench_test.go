package cockpit

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
)

// BenchmarkSnapshotCost measures building one snapshot of 2,000 alerts from 2 sources
// and 12 panels, against the least any snapshot must do: copy the alerts and sort them
// for display. The ratio is the hub's overhead on top of that.
func BenchmarkSnapshotCost(b *testing.B) {
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

	var ours, base time.Duration
	b.ResetTimer()
	for range b.N {
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
