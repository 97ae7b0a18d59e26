package ui

import (
	"bytes"
	"context"
	"errors"
	"log"
	"os"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/opscockpit/opscockpit/assets"
	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/datasource/replay"
	"github.com/opscockpit/opscockpit/history"
	"github.com/opscockpit/opscockpit/runbooks"
)

var t0 = time.Date(2026, 11, 24, 14, 0, 0, 0, time.Local)

const (
	p99Query   = `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="checkout"}[5m])))`
	byVersionQ = `sum by (version) (rate(http_requests_total{service="checkout"}[5m]))`
)

// demo wires the embedded demo scenario, five minutes in, to a hub and a cockpit view in
// a headless test window.
type demo struct {
	hub  *cockpit.Hub
	clk  *clock.Fake
	view *Cockpit
	win  fyne.Window
}

func newDemo(t *testing.T) *demo {
	t.Helper()
	a := test.NewTempApp(t)
	a.Settings().SetTheme(NewTheme(false))
	data, err := assets.Scenario("checkout-deploy")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := replay.Parse("checkout-deploy", data)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(t0)
	src := replay.New("scenario", sc, clk, t0.Add(-5*time.Minute), replay.Options{})
	panels := []cockpit.PanelSpec{
		{Title: "Checkout p99 latency", Type: cockpit.PanelStat, Source: "scenario", Query: p99Query, Unit: "s", Decimals: -1,
			Thresholds: []cockpit.Threshold{{Value: 0.5, Color: "amber"}, {Value: 1, Color: "red"}}},
		{Title: "Requests by version", Type: cockpit.PanelTimeseries, Source: "scenario", Query: byVersionQ, Unit: "reqps", Decimals: -1, Legend: "{{version}}", Range: 20 * time.Minute},
	}
	hub := cockpit.NewHub(clk, cockpit.HubOptions{Title: "Demo incident", Panels: panels, AlertFeeds: 1, Scenario: func() cockpit.ScenarioState {
		off, _ := src.Offset(clk.Now())
		return cockpit.ScenarioState{Name: sc.Name, Offset: off, Duration: sc.Duration, Speed: 1}
	}})
	p := &cockpit.Poller{Hub: hub, Clock: clk, Panels: panels, Sources: map[string]datasource.MetricsSource{"scenario": src}}
	p.RefreshAll(context.Background())
	hub.ApplyAlerts(datasource.AlertEvent{Kind: datasource.Snapshot, Source: "scenario", Alerts: src.AlertsAt(clk.Now())})
	hub.SetHealth(src.Health())

	lib := runbooks.NewLibrary(runbooks.Root{Name: "embedded", FS: assets.Runbooks()})
	if errs := lib.Load(); len(errs) > 0 {
		t.Fatal(errs)
	}
	view := New(Deps{Hub: hub, Clock: clk, Panels: panels, Runbooks: lib})
	win := test.NewTempWindow(t, view.Content())
	win.Resize(fyne.NewSize(1600, 900))
	view.Apply(hub.Publish())
	return &demo{hub: hub, clk: clk, view: view, win: win}
}

func TestFourRegionsShowTheDemo(t *testing.T) {
	d := newDemo(t)
	c := d.view

	// header: title, how bad, where the drill is, source health
	if c.header.title.Text != "Demo incident" {
		t.Errorf("title = %q", c.header.title.Text)
	}
	if got := c.header.crit.text.Text; got != "1 CRITICAL" {
		t.Errorf("critical badge = %q", got)
	}
	if got := c.header.warn.text.Text; got != "2 WARNING" {
		t.Errorf("warning badge = %q", got)
	}
	if got := c.header.scenario.text.Text; !strings.Contains(got, "T+05:00 / 14:00") {
		t.Errorf("scenario badge = %q", got)
	}
	if got := c.header.clock.Text; got != "14:00:00" {
		t.Errorf("clock = %q", got)
	}
	if chip := c.header.chips["scenario"]; chip == nil || chip.text.Text != "scenario" {
		t.Errorf("source chip missing: %+v", c.header.chips)
	}

	// metrics: the stat tile shows the latency at 05:00 in red, the chart has its title
	tile := c.metrics.tiles[0]
	if got := tile.value.Text; got != "1.21 s" {
		t.Errorf("p99 tile = %q", got)
	}
	if tile.value.Color != ColorCritical {
		t.Errorf("p99 tile colour = %v, want red (above the 1 s threshold)", tile.value.Color)
	}
	if got := c.metrics.charts[0].title.seg.Text; got != "Requests by version" {
		t.Errorf("chart title = %q", got)
	}
	if got := c.metrics.charts[0].status.seg.Text; got != "" {
		t.Errorf("chart status = %q, want fresh data", got)
	}

	// alerts: three rows, most urgent first, with severity, age and labels
	av := c.alerts
	if len(av.items) != 3 || av.list.Length() != 3 {
		t.Fatalf("alerts = %d", len(av.items))
	}
	if av.items[0].alert.Name() != "CheckoutErrorBudgetBurn" {
		t.Errorf("first alert = %s", av.items[0].alert.Name())
	}
	row := newAlertRow()
	row.apply(av.items[0], nil, av.now)
	if row.sev.text.Text != "CRITICAL" || row.age.Text != "for 1m" || !strings.Contains(row.labSeg.Text, "service=checkout") || !strings.Contains(row.sumSeg.Text, "burning") {
		t.Errorf("row = %q %q %q %q", row.sev.text.Text, row.age.Text, row.sumSeg.Text, row.labSeg.Text)
	}

	// runbook: the top alert's runbook, rendered, with its checklist progress
	rv := c.runbook
	if got := rv.title.seg.Text; got != "Checkout error budget burn" {
		t.Errorf("runbook title = %q", got)
	}
	if len(rv.body.Objects) < 10 {
		t.Errorf("runbook body has %d blocks", len(rv.body.Objects))
	}
	if got := rv.progress.text.Text; !strings.HasPrefix(got, "0/") || !strings.HasSuffix(got, "STEPS") {
		t.Errorf("progress = %q", got)
	}

	// risks: with no register given, the region says so rather than showing an empty one
	if !strings.Contains(textsOfRich(c.risks), "No risk register is open") {
		t.Errorf("risk region without a register: %q", textsOfRich(c.risks))
	}
}

func TestSelectingAnAlertShowsItsRunbookAndTicksCount(t *testing.T) {
	d := newDemo(t)
	av, rv := d.view.alerts, d.view.runbook
	idx := -1
	for i, it := range av.items {
		if it.alert.Name() == "CheckoutLatencyHigh" {
			idx = i
		}
	}
	av.list.Select(idx)
	if got := rv.title.seg.Text; got != "Checkout latency high" && !strings.Contains(strings.ToLower(got), "latency") {
		t.Fatalf("runbook after selecting CheckoutLatencyHigh = %q", got)
	}
	// the user's choice survives the next snapshot even though it is not the top alert
	d.clk.Advance(time.Second)
	d.hub.SetTitle("Demo incident")
	d.view.Apply(d.hub.Publish())
	if av.items[av.indexOf(av.selected)].alert.Name() != "CheckoutLatencyHigh" {
		t.Fatal("selection jumped back to the top alert")
	}
	// tick the first step
	check := firstCheck(rv.body)
	if check == nil {
		t.Fatal("no checklist step rendered")
	}
	before := rv.progress.text.Text
	test.Tap(check)
	if after := rv.progress.text.Text; after == before || !strings.HasPrefix(after, "1/") {
		t.Fatalf("progress %q → %q after a tick", before, after)
	}
}

func TestPanelStatesAreVisible(t *testing.T) {
	d := newDemo(t)
	d.clk.Advance(time.Minute)
	d.hub.SetPanel(0, datasource.Result{}, errors.New("503 Service Unavailable"))
	d.hub.SetPanel(1, datasource.Result{}, nil)
	d.view.Apply(d.hub.Publish())
	tile, chart := d.view.metrics.tiles[0], d.view.metrics.charts[0]
	if got := tile.status.seg.Text; !strings.HasPrefix(got, "STALE since 14:01:00") || !strings.Contains(got, "503") {
		t.Errorf("stale tile status = %q", got)
	}
	if tile.value.Text != "1.21 s" {
		t.Errorf("stale tile lost its last good value: %q", tile.value.Text)
	}
	if got := chart.status.seg.Text; !strings.HasPrefix(got, "NO DATA") {
		t.Errorf("empty chart status = %q", got)
	}
}

func TestRunKeepsViewInStepWithoutThreadErrors(t *testing.T) {
	var logged bytes.Buffer
	log.SetOutput(&logged) // Fyne reports thread misuse through the standard logger
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	d := newDemo(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.view.Run(ctx); close(done) }()
	var last uint64
	for i := range 20 {
		d.hub.ApplyAlerts(datasource.AlertEvent{Kind: datasource.Delta, Source: "x", Alerts: []datasource.Alert{{
			Fingerprint: "x", State: datasource.StateFiring, UpdatedAt: t0.Add(time.Duration(i)),
			Labels: map[string]string{"alertname": "Extra", "severity": "critical"}}}})
		last = d.hub.Publish().Version
	}
	deadline := time.Now().Add(30 * time.Second) // generous: CI machines are busy
	for d.view.AppliedVersion() < last {
		if time.Now().After(deadline) {
			t.Fatalf("view never caught up: on screen v%d, hub v%d", d.view.AppliedVersion(), last)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done // the bridge has stopped: reading widgets here races with nothing
	if got := d.view.header.crit.text.Text; got != "2 CRITICAL" {
		t.Fatalf("critical badge = %q", got)
	}
	if strings.Contains(logged.String(), "Error in Fyne call thread") {
		t.Fatalf("thread misuse logged:\n%s", logged.String())
	}
}

func TestThemeSwitchAndTinyWindow(t *testing.T) {
	d := newDemo(t)
	fyne.CurrentApp().Settings().SetTheme(NewTheme(true))
	d.view.Refresh()
	d.win.Resize(fyne.NewSize(50, 50))
	d.win.Resize(fyne.NewSize(3840, 2160))
	if img := d.win.Canvas().Capture(); img.Bounds().Dx() != 3840 {
		t.Fatalf("capture %v", img.Bounds())
	}
}

func firstCheck(o fyne.CanvasObject) *widget.Check {
	switch x := o.(type) {
	case *widget.Check:
		return x
	case *fyne.Container:
		for _, c := range x.Objects {
			if ch := firstCheck(c); ch != nil {
				return ch
			}
		}
	}
	return nil
}

func textsOf(o fyne.CanvasObject) string {
	var b strings.Builder
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *canvas.Text:
			b.WriteString(x.Text + " ")
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		}
	}
	walk(o)
	return b.String()
}

func TestNoAlertFeedIsNotAllClear(t *testing.T) {
	test.NewTempApp(t).Settings().SetTheme(NewTheme(false))
	clk := clock.NewFake(t0)
	hub := cockpit.NewHub(clk, cockpit.HubOptions{Title: "metrics only"})
	view := New(Deps{Hub: hub, Clock: clk})
	test.NewTempWindow(t, view.Content())
	view.Apply(hub.Snapshot())
	if got := view.header.crit.text.Text; got != "NO ALERT FEED" {
		t.Fatalf("badge with no alert source = %q", got)
	}
}

func TestChartGridAdaptsToTheScreen(t *testing.T) {
	g := &chartGrid{aspect: 2.2}
	tests := []struct {
		n    int
		size fyne.Size
		want int
	}{
		{4, fyne.NewSize(760, 520), 2},  // laptop: 2×2
		{4, fyne.NewSize(2800, 500), 4}, // wide wall screen: one row
		{4, fyne.NewSize(500, 1400), 1}, // portrait: a column
		{1, fyne.NewSize(2200, 500), 1}, // never more columns than charts
		{6, fyne.NewSize(1100, 700), 2}, // 1080p metrics column
		{0, fyne.NewSize(1100, 700), 1}, //
		{3, fyne.NewSize(0, 0), 2},      // not laid out yet
	}
	for _, tt := range tests {
		if got := g.cols(tt.n, tt.size); got != tt.want {
			t.Errorf("%d charts in %v: %d columns, want %d", tt.n, tt.size, got, tt.want)
		}
	}
}

func TestNamedRowsBecomeSections(t *testing.T) {
	test.NewTempApp(t).Settings().SetTheme(NewTheme(false))
	specs := []cockpit.PanelSpec{
		{Title: "a", Type: cockpit.PanelStat, Row: "Checkout"},
		{Title: "b", Type: cockpit.PanelTimeseries, Row: "Checkout"},
		{Title: "c", Type: cockpit.PanelStat, Row: "Payments"},
	}
	m := newMetricsView(specs, nil)
	scroll, ok := m.box.(*container.Scroll)
	if !ok {
		t.Fatalf("rows are not in a scroll: %T", m.box)
	}
	if got := textsOf(scroll.Content); !strings.Contains(got, "CHECKOUT") || !strings.Contains(got, "PAYMENTS") {
		t.Fatalf("section titles missing: %q", got)
	}
	w := test.NewTempWindow(t, m.box)
	w.Resize(fyne.NewSize(800, 400))
}

// equalsFilter understands only name="value" pairs: enough to drive the filter box
// without the real matcher parser.
func equalsFilter(s string) (func(map[string]string) bool, error) {
	want := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, errors.New("expected name=value")
		}
		want[k] = strings.Trim(v, `"`)
	}
	return func(l map[string]string) bool {
		for k, v := range want {
			if l[k] != v {
				return false
			}
		}
		return true
	}, nil
}

func TestAlertFilterViewsAndGroups(t *testing.T) {
	d := newDemo(t)
	av := d.view.alerts
	av.parse = equalsFilter
	names := func() string {
		var out []string
		for _, it := range av.items {
			if it.header != "" {
				out = append(out, "["+it.header+"]")
			} else {
				out = append(out, it.alert.Name())
			}
		}
		return strings.Join(out, " ")
	}
	av.filter.SetText(`severity="warning"`)
	if got := names(); got != "CheckoutLatencyHigh PaymentsDependencyDegraded" {
		t.Fatalf("filtered: %s", got)
	}
	av.filter.SetText(`severity`) // bad filter: said so, last good one kept
	if !av.filterOK.Visible() || !strings.Contains(av.filterOK.seg.Text, "not applied") {
		t.Fatalf("bad filter not reported: %q", av.filterOK.seg.Text)
	}
	if got := names(); got != "CheckoutLatencyHigh PaymentsDependencyDegraded" {
		t.Fatalf("bad filter dropped the good one: %s", got)
	}
	av.filter.SetText("")
	if got := names(); got != "CheckoutErrorBudgetBurn CheckoutLatencyHigh PaymentsDependencyDegraded" {
		t.Fatalf("grouping by alertname where every group has one alert shows no headers: %s", got)
	}
	av.group.SetSelected("by team")
	if got := names(); got != "[team: shop-core] CheckoutErrorBudgetBurn CheckoutLatencyHigh [team: payments] PaymentsDependencyDegraded" {
		t.Fatalf("grouped: %s", got)
	}
	if av.items[av.indexOf(av.selected)].header != "" {
		t.Fatal("a group header is selected")
	}
	av.view.SetSelected(viewResolved)
	if len(av.items) != 0 {
		t.Fatalf("resolved view at 05:00: %s", names())
	}
	if d.view.runbook.current != nil {
		t.Fatal("the runbook of a hidden alert stays open")
	}
}

func TestAcksShowOnRowsAndDetail(t *testing.T) {
	d := newDemo(t)
	fp := d.view.alerts.items[0].alert.Fingerprint
	d.hub.SetAck(history.Ack{Fingerprint: fp, Name: "CheckoutErrorBudgetBurn", By: "alice", At: t0, Comment: "rolling back"})
	d.view.Apply(d.hub.Publish())
	row := newAlertRow()
	row.apply(d.view.alerts.items[0], d.view.last.Acks, t0)
	if !row.ack.box.Visible() || row.ack.text.Text != "ACK alice" {
		t.Fatalf("row ack = %q visible %v", row.ack.text.Text, row.ack.box.Visible())
	}
	if got := d.view.detail.ackLine.seg.Text; !strings.Contains(got, "ACK by alice") || !strings.Contains(got, "rolling back") {
		t.Fatalf("detail = %q", got)
	}
}

func TestFeedSilentBanner(t *testing.T) {
	d := newDemo(t)
	if d.view.banner.Visible() {
		t.Fatal("banner at start")
	}
	d.view.Tick(t0.Add(11 * time.Minute))
	if !d.view.banner.Visible() || !strings.Contains(d.view.bannerT.seg.Text, "FEED SILENT") {
		t.Fatalf("no banner after 11 silent minutes: %q", d.view.bannerT.seg.Text)
	}
}

func TestNewCriticalAlertsNotifyOnce(t *testing.T) {
	d := newDemo(t)
	if d.view.notified != 0 {
		t.Fatalf("notified %d for alerts already firing at start", d.view.notified)
	}
	for range 2 {
		d.hub.ApplyAlerts(datasource.AlertEvent{Kind: datasource.Delta, Source: "x", Alerts: []datasource.Alert{{
			Fingerprint: "new", State: datasource.StateFiring, UpdatedAt: t0, StartsAt: t0,
			Labels: map[string]string{"alertname": "DatabaseDown", "severity": "critical"}}}})
		d.view.Apply(d.hub.Publish())
	}
	if d.view.notified != 1 {
		t.Fatalf("notified %d times, want once", d.view.notified)
	}
}

type memTicks map[string]bool

func (m memTicks) Ticked(rb, step string) (bool, bool) { on, ok := m[rb+"|"+step]; return on, ok }
func (m memTicks) SetTick(rb, step string, on bool)    { m[rb+"|"+step] = on }

func TestTicksComeFromTheStore(t *testing.T) {
	d := newDemo(t)
	store := memTicks{}
	view := New(Deps{Hub: d.hub, Clock: d.clk, Runbooks: d.view.deps.Runbooks, Ticks: store})
	test.NewTempWindow(t, view.Content())
	view.Apply(d.hub.Publish())
	test.Tap(firstCheck(view.runbook.body))
	if len(store) != 1 {
		t.Fatalf("tick not stored: %v", store)
	}
	// a new screen (a restart) shows the stored tick
	again := New(Deps{Hub: d.hub, Clock: d.clk, Runbooks: d.view.deps.Runbooks, Ticks: store})
	test.NewTempWindow(t, again.Content())
	again.Apply(d.hub.Publish())
	if !firstCheck(again.runbook.body).Checked || !strings.HasPrefix(again.runbook.progress.text.Text, "1/") {
		t.Fatalf("stored tick not shown: %q", again.runbook.progress.text.Text)
	}
}
