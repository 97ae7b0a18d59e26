package ui

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/history"
	"github.com/opscockpit/opscockpit/runbooks"
)

// RunbookFinder finds the runbooks for an alert.
type RunbookFinder interface {
	ForAlert(labels, annotations map[string]string) []*runbooks.Runbook
}

// Deps are what the cockpit window shows and acts on.
type Deps struct {
	Hub      *cockpit.Hub
	Clock    clock.Clock
	Panels   []cockpit.PanelSpec
	Runbooks RunbookFinder
	Now      func() time.Time // for "reviewed N days ago"; defaults to Clock.Now
	// StaleRunbookAfter marks runbooks not reviewed for this long (default 90 days).
	StaleRunbookAfter time.Duration
	// ChartWidth, when set, hears each time-series panel's width in pixels (panel index
	// in Panels), so range queries can ask for one point per pixel.
	ChartWidth func(panel, pixels int)
	// Ack acknowledges an alert; nil disables the button.
	Ack AckFunc
	// Unsilence expires the silences on an alert; nil hides the button.
	Unsilence UnsilenceFunc
	// Alarm, when set, sounds for a critical alert that starts firing.
	Alarm func()
	// Ticks keeps runbook checklist ticks across restarts (nil: in memory only).
	Ticks TickStore
	// OnStep hears each checklist tick, for the active incident's timeline (may be nil).
	OnStep StepFunc
	// PromQL runs runbook ```promql blocks read-only (nil: blocks show as plain code).
	PromQL PromQLFunc
	// PromQLEvery is how often, in model time, open promql blocks re-run (default 15s,
	// the panels' refresh).
	PromQLEvery time.Duration
	// Risks is the risk register (nil: the risk region says none is open).
	Risks RiskRegister
	// Incidents declares and works incidents (nil: the incident region says incidents
	// are not recorded here).
	Incidents IncidentActions
	// OpenWindow, when set, opens another window showing one region (for another
	// monitor); W asks which.
	OpenWindow func(region string)
	// OnView hears every change of the view state (layout, selected alert, open
	// runbook section), for follow mode; it runs on the Fyne goroutine.
	OnView func(View)
	// ReadOnly makes a follower's screen: it mirrors, it does not act (no declaring,
	// notes, acks or status changes from here).
	ReadOnly bool
	// Headless marks a view driven by Fyne's test driver (snapshots, renders, tests):
	// background results wait for Settle instead of crossing with fyne.Do.
	Headless bool
	// OpenURL opens http, https and mailto links (default: the app's OpenURL).
	OpenURL func(*url.URL) error
	// Window is where dialogs open (nil: no dialogs, e.g. headless snapshots).
	Window fyne.Window
	// ParseFilter turns the alert filter box's text (Alertmanager matchers) into a
	// predicate on labels; nil disables the box.
	ParseFilter func(string) (func(map[string]string) bool, error)
	// Layout is the preset to start with (default commander).
	Layout Layout
	// OnLayout hears the layout a person switches to, so it can persist.
	OnLayout func(Layout)
	// Regions, when set, makes this view a window given over to those regions only
	// (one per monitor); Layout is then ignored.
	Regions []string
	// Observe, when set, hears how long each snapshot took to apply on the UI goroutine
	// and how many snapshots the screen was behind the model at that moment.
	Observe func(cost time.Duration, lag uint64)
}

// Cockpit is the command-center view: header, metrics, alerts, runbook and risks.
type Cockpit struct {
	deps      Deps
	header    *header
	metrics   *metricsView
	alerts    *alertsView
	runbook   *runbookView
	detail    *alertDetail
	banner    *fyne.Container
	bannerT   *line
	risks     fyne.CanvasObject
	incident  fyne.CanvasObject
	incidentV *incidentView
	riskV     *riskView
	strip     *incidentStrip
	help      *widget.PopUp
	regions   map[string]fyne.CanvasObject
	body      *fyne.Container
	layout    Layout
	kiosk     bool
	incSplit  *container.Split // the split holding the incident region, if the layout has one
	lastView  View
	bg        *canvas.Rectangle
	content   fyne.CanvasObject
	last      *cockpit.Snapshot
	applied   atomic.Uint64   // version of the last snapshot on screen, readable from any goroutine
	seen      map[string]bool // critical fingerprints already notified (or firing at start)
	notified  int
}

// AppliedVersion is the version of the snapshot on screen; comparing it with the hub's
// tells how far the screen lags the model.
func (c *Cockpit) AppliedVersion() uint64 { return c.applied.Load() }

// New builds the view. Call it on the Fyne goroutine (or before the app runs).
func New(d Deps) *Cockpit {
	if d.Now == nil {
		d.Now = d.Clock.Now
	}
	if d.StaleRunbookAfter <= 0 {
		d.StaleRunbookAfter = 90 * 24 * time.Hour
	}
	c := &Cockpit{deps: d}
	c.header = newHeader()
	c.metrics = newMetricsView(d.Panels, d.ChartWidth)
	c.runbook = newRunbookView(d.Runbooks, d.StaleRunbookAfter, d.Ticks)
	c.runbook.promql, c.runbook.promqlEvery, c.runbook.onStep = d.PromQL, d.PromQLEvery, d.OnStep
	c.runbook.headless = d.Headless
	c.runbook.onView = c.noteView
	if d.OpenURL != nil {
		c.runbook.openURL = d.OpenURL
	}
	c.detail = newAlertDetail(func() fyne.Window { return c.deps.Window }, d.Ack, d.Unsilence)
	c.alerts = newAlertsView(func(a datasource.Alert) {
		c.runbook.show(a, c.deps.Now())
		var acks map[string]history.Ack
		if c.last != nil {
			acks = c.last.Acks
		}
		c.detail.show(a, acks, c.deps.Now())
		c.noteView()
	}, d.ParseFilter)
	c.bannerT = newLine(SizeNameEmphasis, fyne.TextStyle{Bold: true})
	bannerBg := canvas.NewRectangle(ColorWarning)
	c.banner = container.NewStack(bannerBg, container.NewPadded(c.bannerT.RichText))
	c.banner.Hide()
	c.riskV = newRiskView(c, d.Risks)
	c.risks = c.riskV.box
	c.strip = newIncidentStrip()
	c.incidentV = newIncidentView(c, d.Incidents)
	c.incident = region("INCIDENT", c.incidentV.box)

	c.regions = map[string]fyne.CanvasObject{
		RegionMetrics:  region("METRICS", c.metrics.box),
		RegionAlerts:   region("", container.NewBorder(c.banner, nil, nil, nil, c.alerts.box)),
		RegionRunbook:  region("", container.NewBorder(c.detail.box, nil, nil, nil, region("RUNBOOK", c.runbook.box))),
		RegionIncident: c.incident,
		RegionRisks:    c.risks,
	}
	c.body = container.NewStack()
	c.layout = d.Layout
	if c.layout == "" {
		c.layout = LayoutCommander
	}
	c.arrange()
	c.bg = canvas.NewRectangle(theme.Color(theme.ColorNameBackground))
	c.content = container.NewStack(c.bg, container.NewBorder(container.NewVBox(c.header.box, c.strip.box), nil, nil, nil, container.NewPadded(c.body)))
	return c
}

// arrange puts the regions in the body for the current layout (or the chosen regions).
func (c *Cockpit) arrange() {
	c.incSplit = nil
	if len(c.deps.Regions) > 0 {
		c.body.Objects = []fyne.CanvasObject{arrangeRegions(c.deps.Regions, c.regions)}
	} else {
		body, inc := arrange(c.layout, c.regions)
		c.body.Objects, c.incSplit = []fyne.CanvasObject{body}, inc
		c.fitIncident()
	}
	c.body.Refresh()
}

// Layout is the layout preset on screen.
func (c *Cockpit) Layout() Layout { return c.layout }

// SetLayout switches to a layout preset. Call it on the Fyne goroutine.
func (c *Cockpit) SetLayout(l Layout) {
	if l == c.layout || !slices.Contains(Layouts, l) {
		return
	}
	c.layout = l
	c.arrange()
	if c.deps.OnLayout != nil {
		c.deps.OnLayout(l)
	}
	c.noteView()
}

// NextLayout cycles to the next preset.
func (c *Cockpit) NextLayout() {
	i := slices.Index(Layouts, c.layout)
	c.SetLayout(Layouts[(i+1)%len(Layouts)])
}

// Content is the root object to put in a window.
func (c *Cockpit) Content() fyne.CanvasObject { return c.content }

// Apply shows a snapshot. It must run on the Fyne goroutine.
func (c *Cockpit) Apply(s *cockpit.Snapshot) {
	if s == nil {
		return
	}
	if c.deps.Observe != nil {
		start := time.Now() // measuring, not scheduling: the wall clock is right here
		defer func() {
			c.deps.Observe(time.Since(start), c.deps.Hub.Snapshot().Version-s.Version)
		}()
	}
	c.last = s
	c.bg.FillColor = theme.Color(theme.ColorNameBackground)
	c.bg.Refresh()
	c.header.apply(s)
	c.strip.apply(s.Incident, s.At)
	c.incidentV.apply(s.Incident)
	c.fitIncident()
	c.riskV.apply(s.Risks)
	c.noteView()
	c.metrics.apply(s)
	c.alerts.apply(s)
	c.notify(s)
	c.checkFeed(s.At)
	c.applied.Store(s.Version)
}

// Tick advances the clocks and ages between snapshots. It must run on the Fyne goroutine.
func (c *Cockpit) Tick(now time.Time) {
	c.header.tick(now)
	c.strip.tick(now)
	c.alerts.tick(now)
	c.checkFeed(now)
}

// checkFeed raises or lowers the "feed silent" banner: when no alert source has spoken
// for a while, the list may be out of date whatever it shows, and the room must know.
func (c *Cockpit) checkFeed(now time.Time) {
	if c.last == nil || !c.last.FeedSilent(now) {
		if c.banner.Visible() {
			c.banner.Hide()
		}
		return
	}
	c.bannerT.set(fmt.Sprintf("FEED SILENT — no alert source has reported for %s (since %s); this list may be out of date",
		cockpit.HumanDuration(now.Sub(c.last.LastFeed)), c.last.LastFeed.Local().Format("15:04:05")), theme.ColorNameForeground)
	if !c.banner.Visible() {
		c.banner.Show()
	}
}

// notify raises a desktop notification for each critical alert that starts firing
// while the cockpit watches (not for those already firing when it opened).
func (c *Cockpit) notify(s *cockpit.Snapshot) {
	first := c.seen == nil
	if first {
		c.seen = map[string]bool{}
	}
	for _, a := range s.Alerts {
		if a.State != datasource.StateFiring || datasource.SeverityRank(a.Severity()) != 0 || c.seen[a.Fingerprint] {
			continue
		}
		c.seen[a.Fingerprint] = true
		if !first {
			if app := fyne.CurrentApp(); app != nil {
				app.SendNotification(fyne.NewNotification("CRITICAL: "+a.Name(), a.Annotations["summary"]))
			}
			if c.deps.Alarm != nil {
				c.deps.Alarm()
			}
			c.notified++
		}
	}
}

// Refresh re-applies the last snapshot, after a theme change.
func (c *Cockpit) Refresh() {
	if c.last != nil {
		c.Apply(c.last)
	}
	c.runbook.refresh()
}

// region frames a part of the screen with a small heading.
func region(title string, content fyne.CanvasObject) fyne.CanvasObject {
	if title == "" {
		return container.NewPadded(content)
	}
	return container.NewPadded(container.NewBorder(sectionTitle(title), nil, nil, nil, content))
}

// Run keeps the view in step with the hub and the clock until ctx ends: one snapshot
// at a time is handed to the Fyne goroutine, and a newer one waiting replaces an older
// one, so a busy screen never queues up stale work.
func (c *Cockpit) Run(ctx context.Context) {
	sub := c.deps.Hub.Subscribe()
	defer sub.Close()
	tick := c.deps.Clock.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-sub.C():
			if !runOnUI(ctx, func() { c.Apply(s) }) {
				return
			}
		case now := <-tick.C():
			if !runOnUI(ctx, func() { c.Tick(now) }) {
				return
			}
		}
	}
}
