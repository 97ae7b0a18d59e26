package ui

import (
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/datasource"
)

func stormView(b *testing.B, n int) (*cockpit.Hub, *Cockpit, []datasource.Alert) {
	b.Helper()
	a := test.NewApp()
	b.Cleanup(a.Quit)
	a.Settings().SetTheme(NewTheme(false))
	now := time.Now()
	clk := clock.NewFake(now)
	hub := cockpit.NewHub(clk, cockpit.HubOptions{AlertFeeds: 1})
	alerts := stormAlerts(n, now)
	hub.ApplyAlerts(datasource.AlertEvent{Kind: datasource.Snapshot, Source: "am", Alerts: alerts})
	view := New(Deps{Hub: hub, Clock: clk})
	w := test.NewWindow(view.Content())
	b.Cleanup(w.Close)
	w.Resize(fyne.NewSize(1920, 1080))
	view.Apply(hub.Publish())
	return hub, view, alerts
}

// BenchmarkP3AlertScroll scrolls the alert list one row at a time with 100,000 alerts
// and, in the same run, with 100 (QUALITY.md P3): a virtualised list costs the same
// per step whatever its length.
func BenchmarkP3AlertScroll(b *testing.B) {
	step := func(n int) time.Duration {
		_, view, _ := stormView(b, n)
		l, h := view.alerts.list, view.alerts.rowHeight
		rows := min(n, 100) - 12 // stay within a range both lists can scroll
		start := time.Now()
		for i := range b.N {
			l.ScrollToOffset(float32(i%rows) * h)
		}
		return time.Since(start)
	}
	small := step(100)
	large := step(100_000)
	b.ReportMetric(float64(large)/float64(small), "ratio")
	b.ReportMetric(float64(large)/float64(b.N)/1e6, "ms")
}

// BenchmarkP2AlertStorm keeps 10,000 alerts live with 1,000 updates a second (QUALITY.md
// P2): each iteration is 100 ms of updates (100 alerts change state), then one
// snapshot published and applied. It reports the p99 of the UI's work per refresh and
// of arrival → visible (first update of the batch to the end of the apply).
func BenchmarkP2AlertStorm(b *testing.B) {
	hub, view, alerts := stormView(b, 10_000)
	var ui, visible []time.Duration
	b.ResetTimer()
	for i := range b.N {
		arrival := time.Now()
		for j := range 100 {
			a := alerts[(i*100+j)%len(alerts)]
			if a.State == datasource.StateFiring {
				a.State = datasource.StateSuppressed
			} else {
				a.State = datasource.StateFiring
			}
			a.UpdatedAt = a.UpdatedAt.Add(time.Duration(i+1) * time.Millisecond)
			alerts[(i*100+j)%len(alerts)] = a
			hub.ApplyAlerts(datasource.AlertEvent{Kind: datasource.Delta, Source: "am", Alerts: []datasource.Alert{a}})
		}
		s := hub.Publish()
		start := time.Now()
		view.Apply(s)
		done := time.Now()
		ui = append(ui, done.Sub(start))
		visible = append(visible, done.Sub(arrival))
	}
	b.StopTimer()
	p99 := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[min(len(d)-1, len(d)*99/100)]) / 1e6
	}
	b.ReportMetric(p99(ui), "ui-p99-ms")
	b.ReportMetric(p99(visible), "visible-p99-ms")
}
