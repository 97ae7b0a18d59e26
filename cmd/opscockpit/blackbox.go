package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"testing/fstest"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/config"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/incident"
	"github.com/opscockpit/opscockpit/incident/bundle"
	"github.com/opscockpit/opscockpit/runbooks"
)

// BundleSource is the name of the metrics source a reopened black box plays.
const BundleSource = "black box"

// bundleSource answers queries from the metric windows a black box recorded: the same
// panel queries, over the incident window only. Nothing is fetched.
type bundleSource struct {
	series map[string][]datasource.Series // query → series
}

var _ datasource.MetricsSource = (*bundleSource)(nil)

func (b *bundleSource) Name() string { return BundleSource }
func (b *bundleSource) Health() datasource.Health {
	return datasource.Health{Source: BundleSource, Kind: "bundle", State: datasource.HealthUp}
}

// valueAt is the newest sample at or before t within lookback.
func valueAt(s []datasource.Sample, t time.Time) (float64, bool) {
	i := sort.Search(len(s), func(i int) bool { return s[i].T.After(t) })
	for j := i - 1; j >= 0; j-- {
		if t.Sub(s[j].T) > 5*time.Minute {
			break
		}
		if !math.IsNaN(s[j].V) {
			return s[j].V, true
		}
	}
	return 0, false
}

func (b *bundleSource) Query(ctx context.Context, q string, at time.Time) (datasource.Result, error) {
	var res datasource.Result
	for _, s := range b.series[q] {
		if v, ok := valueAt(s.Samples, at); ok {
			res.Series = append(res.Series, datasource.Series{Labels: s.Labels, Samples: []datasource.Sample{{T: at, V: v}}})
		}
	}
	return res, nil
}

func (b *bundleSource) QueryRange(ctx context.Context, q string, r datasource.Range) (datasource.Result, error) {
	var res datasource.Result
	if r.Step <= 0 || r.End.Before(r.Start) {
		return res, nil
	}
	for _, s := range b.series[q] {
		out := datasource.Series{Labels: s.Labels}
		seen := false
		for t := r.Start; !t.After(r.End); t = t.Add(r.Step) {
			v, ok := valueAt(s.Samples, t)
			if !ok {
				v = math.NaN()
			}
			seen = seen || ok
			out.Samples = append(out.Samples, datasource.Sample{T: t, V: v})
		}
		if seen {
			res.Series = append(res.Series, out)
		}
	}
	return res, nil
}

// bundleSystem builds a read-only cockpit of a black box: its panels over the incident
// window, its incident and whole timeline, and the runbooks it used, on a clock held at
// the end of the incident. It opens no database and reaches no network.
func bundleSystem(path string) (*system, *bundle.Bundle, error) {
	b, err := bundle.Open(path)
	if err != nil {
		return nil, nil, err
	}
	inc := b.Incident
	from, end := bundle.Window(inc, 15*time.Minute, 15*time.Minute, b.ExportedAt)
	if !end.After(from) {
		end = from.Add(time.Hour)
	}
	clk := clock.NewFake(end)
	cfg := &config.Config{Title: fmt.Sprintf("%s %s — black box (read-only)", inc.Ref(), inc.Title)}
	s := &system{cfg: cfg, clock: clk, metrics: newSelfMetrics()}
	src := &bundleSource{series: map[string][]datasource.Series{}}
	for _, w := range b.MetricWindows {
		q := w.Query
		if q == "" {
			q = w.Panel
		}
		if _, dup := src.series[q]; dup {
			continue
		}
		src.series[q] = w.Series
		s.panels = append(s.panels, cockpit.PanelSpec{Title: w.Panel, Type: cockpit.PanelTimeseries, Source: BundleSource, Query: q,
			Unit: w.Unit, Decimals: -1, Range: end.Sub(from), Points: 600})
	}
	s.hub = cockpit.NewHub(clk, cockpit.HubOptions{Title: cfg.Title, Panels: s.panels})
	s.poller = &cockpit.Poller{Hub: s.hub, Clock: clk, Sources: map[string]datasource.MetricsSource{BundleSource: src}, Panels: s.panels}
	s.promql = src
	files := fstest.MapFS{}
	for name, md := range b.Runbooks {
		files[name] = &fstest.MapFile{Data: []byte(md)}
	}
	s.library = runbooks.NewLibrary(runbooks.Root{Name: "black box", FS: files})
	s.library.Load()
	tl := slices.Clone(b.Timeline)
	s.hub.SetIncident(&cockpit.IncidentState{Active: true, Incident: inc, Timeline: tl, Policy: incident.UpdatePolicy{}})
	return s, b, nil
}
