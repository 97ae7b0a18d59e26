package ui

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/incident"
)

// timelineView is the commander layout with an incident of n timeline entries.
func timelineView(b *testing.B, n int) (*Cockpit, fyne.Window) {
	b.Helper()
	a := test.NewApp()
	b.Cleanup(a.Quit)
	a.Settings().SetTheme(NewTheme(false))
	now := time.Now()
	clk := clock.NewFake(now)
	hub := cockpit.NewHub(clk, cockpit.HubOptions{AlertFeeds: 1})
	kinds := []incident.Kind{incident.KindNote, incident.KindAlertFiring, incident.KindRunbookStep, incident.KindDecision, incident.KindAck}
	tl := make([]incident.Entry, n)
	for i := range tl {
		tl[i] = incident.Entry{ID: int64(i + 1), IncidentID: 1, At: now.Add(time.Duration(i-n) * time.Second), Author: "alice",
			Kind: kinds[i%len(kinds)], Text: fmt.Sprintf("timeline entry %d: rolled back the canary, error rate falling", i)}
	}
	inc := incident.Incident{ID: 1, Title: "Checkout errors", Severity: incident.SEV2, Status: incident.Identified,
		Milestones: incident.Milestones{incident.MilestoneDeclared: {Kind: incident.MilestoneDeclared, At: now.Add(-time.Hour)}}}
	hub.SetIncident(&cockpit.IncidentState{Active: true, Incident: inc, Timeline: tl})
	view := New(Deps{Hub: hub, Clock: clk, Headless: true})
	w := test.NewWindow(view.Content())
	b.Cleanup(w.Close)
	w.Resize(fyne.NewSize(1920, 1080))
	view.Apply(hub.Publish())
	return view, w
}

func p99(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)*99/100]
}

// BenchmarkTimelineScrollAndFilter: an incident timeline of 10,000 entries scrolled a
// row per frame and filtered by kind (the UI goroutine's work for that frame); the
// UI work per frame must stay p99 ≤ 10 ms (issue #7), and, as a virtualised list,
// cost about what 100 entries do (ratio measured in the same run).
func BenchmarkTimelineScrollAndFilter(b *testing.B) {
	run := func(n int) (scroll, filter time.Duration) {
		view, _ := timelineView(b, n)
		iv := view.incidentV
		var ss, fs []time.Duration
		for i := range b.N {
			start := time.Now()
			iv.list.ScrollToOffset(float32(i%80) * 30) // lays out and fills the rows now visible
			ss = append(ss, time.Since(start))
			start = time.Now()
			iv.filter.SetSelectedIndex(i % len(tlFilters)) // re-filters and refreshes the list
			fs = append(fs, time.Since(start))
		}
		return p99(ss), p99(fs)
	}
	s100, f100 := run(100)
	s10k, f10k := run(10_000)
	b.ReportMetric(float64(s10k.Microseconds())/1000, "scroll-p99-ms")
	b.ReportMetric(float64(f10k.Microseconds())/1000, "filter-p99-ms")
	b.ReportMetric(float64(s10k)/float64(s100), "scroll-ratio-vs-100")
	b.ReportMetric(float64(f10k)/float64(f100), "filter-ratio-vs-100")
}
