package main

import (
	"bytes"
	"context"
	"fmt"
	"image/color"
	"log/slog"
	"math"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/config"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/incident"
	"github.com/opscockpit/opscockpit/incident/bundle"
	incsqlite "github.com/opscockpit/opscockpit/incident/sqlite"
	"github.com/opscockpit/opscockpit/risk"
	"github.com/opscockpit/opscockpit/runbooks"
	"github.com/opscockpit/opscockpit/ui"
)

// whoAmI is the name actions are recorded under: $OPSCOCKPIT_USER, else the login name.
func whoAmI() string {
	if n := os.Getenv("OPSCOCKPIT_USER"); n != "" {
		return n
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

// updatePolicy is the status-update schedule from the config.
func updatePolicy(cfg *config.Config) incident.UpdatePolicy {
	p := incident.UpdatePolicy{Every: time.Duration(cfg.Incidents.UpdateEvery)}
	for name, d := range cfg.Incidents.UpdateEveryBySeverity {
		if sev, err := incident.ParseSeverity(name); err == nil {
			if p.PerSeverity == nil {
				p.PerSeverity = map[incident.Severity]time.Duration{}
			}
			p.PerSeverity[sev] = time.Duration(d)
		}
	}
	return p
}

// incidentSvc carries a commander's actions to the incident store and pokes the
// follower so the screen shows the result at once. It implements ui.IncidentActions.
type incidentSvc struct {
	sys      *system
	st       atomic.Pointer[incsqlite.Store] // nil until the database is open
	clk      clock.Clock
	me       string
	poke     chan struct{}
	selected atomic.Int64
	log      *slog.Logger
	risks    *riskSvc // where action items become risks (nil: not possible here)
}

var _ ui.IncidentActions = (*incidentSvc)(nil)

func newIncidentSvc(sys *system, log *slog.Logger) *incidentSvc {
	return &incidentSvc{sys: sys, clk: sys.clock, me: whoAmI(), poke: make(chan struct{}, 1), log: log}
}

// store is the open incident database, or an error saying it is not (yet) open.
func (s *incidentSvc) store() (*incsqlite.Store, error) {
	if st := s.st.Load(); st != nil {
		return st, nil
	}
	return nil, fmt.Errorf("the incident database is not open (see the log and the history db chip)")
}

func (s *incidentSvc) changed() {
	select {
	case s.poke <- struct{}{}:
	default:
	}
}

func (s *incidentSvc) Me() string { return s.me }

func (s *incidentSvc) Declare(ctx context.Context, d incident.Declaration) (incident.Incident, error) {
	st, err := s.store()
	if err != nil {
		return incident.Incident{}, err
	}
	d.By, d.At = s.me, s.clk.Now()
	inc, err := st.Declare(ctx, d)
	if err == nil {
		s.selected.Store(inc.ID)
		s.changed()
	}
	return inc, err
}

func (s *incidentSvc) Note(ctx context.Context, id int64, text string) error {
	st, err := s.store()
	if err != nil {
		return err
	}
	_, err = st.Note(ctx, id, text, s.me, s.clk.Now())
	s.changed()
	return err
}

func (s *incidentSvc) Decide(ctx context.Context, id int64, decision, because string) error {
	st, err := s.store()
	if err != nil {
		return err
	}
	_, err = st.Decide(ctx, id, decision, because, s.me, s.clk.Now())
	s.changed()
	return err
}

func (s *incidentSvc) SetStatus(ctx context.Context, id int64, to incident.Status) error {
	st, err := s.store()
	if err != nil {
		return err
	}
	_, err = st.SetStatus(ctx, id, to, "", s.me, s.clk.Now())
	s.changed()
	return err
}

func (s *incidentSvc) SetRole(ctx context.Context, id int64, r incident.Role, name string) error {
	st, err := s.store()
	if err != nil {
		return err
	}
	_, err = st.SetRole(ctx, id, r, name, s.me, s.clk.Now())
	s.changed()
	return err
}

func (s *incidentSvc) SendUpdate(ctx context.Context, id int64, u incident.StatusUpdate) error {
	st, err := s.store()
	if err != nil {
		return err
	}
	_, err = st.SendStatusUpdate(ctx, id, u, s.me, s.clk.Now())
	s.changed()
	return err
}

// Export writes the postmortem draft (markdown and chart PNGs) under the data folder's
// exports/INC-N/.
func (s *incidentSvc) Export(ctx context.Context, id int64) (string, error) {
	dir, err := config.DataDir()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "exports", "INC-"+strconv.FormatInt(id, 10), "postmortem.md")
	if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
		return "", err
	}
	st, err := s.store()
	if err != nil {
		return "", err
	}
	inc, err := st.Get(ctx, id)
	if err != nil {
		return "", err
	}
	tl, err := st.AllTimeline(ctx, id)
	if err != nil {
		return "", err
	}
	acts, err := st.Actions(ctx, id)
	if err != nil {
		return "", err
	}
	charts, err := s.sys.incidentCharts(ctx, inc)
	if err != nil {
		s.log.Warn("postmortem without charts", "err", err)
	}
	in := incident.PostmortemInput{Incident: inc, Timeline: tl, Actions: acts, Charts: charts, GeneratedAt: s.clk.Now(), Loc: time.Local}
	if _, err := incident.WritePostmortem(out, in); err != nil {
		return "", err
	}
	return out, nil
}

func (s *incidentSvc) SetMilestone(ctx context.Context, id int64, k incident.MilestoneKind, at time.Time, reason string) error {
	st, err := s.store()
	if err != nil {
		return err
	}
	_, err = st.SetMilestone(ctx, id, k, at, reason, s.me, s.clk.Now())
	s.changed()
	return err
}

func (s *incidentSvc) AddActionItem(ctx context.Context, id int64, a incident.ActionItem) error {
	st, err := s.store()
	if err != nil {
		return err
	}
	a.CreatedAt, a.CreatedBy = s.clk.Now(), s.me
	_, err = st.AddAction(ctx, id, a)
	s.changed()
	return err
}

// ActionToRisk opens a risk for an action item in the register (likelihood and impact
// 3 of 5 until its owner assesses it), links the action item to it, and notes the risk
// on the incident's timeline.
func (s *incidentSvc) ActionToRisk(ctx context.Context, id int64, a incident.ActionItem) (string, error) {
	st, err := s.store()
	if err != nil {
		return "", err
	}
	if s.risks == nil {
		return "", fmt.Errorf("no risk register is open in this cockpit")
	}
	inc, err := st.Get(ctx, id)
	if err != nil {
		return "", err
	}
	r := risk.Risk{Title: a.Title, Owner: a.Owner, Likelihood: 3, Impact: 3, Status: risk.StatusOpen, Due: a.Due,
		Category: "incident follow-up", Description: fmt.Sprintf("Action item from %s (%s). Assess likelihood and impact.", inc.Ref(), inc.Title),
		Tags: []string{"incident:" + inc.Ref()}}
	if len(inc.Services) > 0 {
		r.Service = inc.Services[0]
	}
	if r.Owner == "" {
		r.Owner = s.me
	}
	saved, err := s.risks.Save(ctx, r, nil)
	if err != nil {
		return "", err
	}
	rid := strconv.FormatInt(saved.ID, 10)
	if err := st.SetActionRisk(ctx, a.ID, rid); err != nil {
		return rid, fmt.Errorf("risk #%s opened but NOT LINKED to the action item: %w", rid, err)
	}
	if err := st.RecordRiskChange(ctx, id, rid, "risk #"+rid+" opened from action item: "+a.Title, s.me, s.clk.Now()); err != nil {
		s.log.Warn("risk not noted on the timeline", "err", err)
	}
	s.changed()
	return rid, nil
}

// recordStep puts a runbook checklist tick on the active incident's timeline.
func (s *incidentSvc) recordStep(rb *runbooks.Runbook, step runbooks.Step, on bool) {
	snap := s.sys.hub.Snapshot()
	if snap.Incident == nil || !snap.Incident.Active || snap.Incident.Incident.Status == incident.Resolved {
		return
	}
	id, at := snap.Incident.Incident.ID, s.clk.Now()
	st, err := s.store()
	if err != nil {
		s.log.Error("runbook step NOT SAVED on the incident timeline", "err", err)
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := st.RecordRunbookStep(ctx, id, rb.Root+"/"+rb.Path, step.ID, step.Text, on, s.me, at); err != nil {
			s.log.Error("runbook step NOT SAVED on the incident timeline", "incident", id, "err", err)
		}
		s.changed()
	}()
}

// recordAck puts an acknowledgement on the active incident's timeline.
func (s *incidentSvc) recordAck(ctx context.Context, a datasource.Alert, by, comment string) {
	snap := s.sys.hub.Snapshot()
	if snap.Incident == nil || !snap.Incident.Active || snap.Incident.Incident.Status == incident.Resolved {
		return
	}
	st, err := s.store()
	if err != nil {
		return
	}
	if err := st.RecordAck(ctx, snap.Incident.Incident.ID, a.Fingerprint, a.Name(), comment, by, s.clk.Now()); err != nil {
		s.log.Error("ack NOT SAVED on the incident timeline", "err", err)
	}
	s.changed()
}

// incidentWindow is the stretch of time an export covers: from 15 minutes before the
// incident's origin to 15 minutes after it resolved (or now).
func (s *system) incidentWindow(inc incident.Incident) (time.Time, time.Time) {
	return bundle.Window(inc, 15*time.Minute, 15*time.Minute, s.clock.Now())
}

// panelWindows queries each chartable panel over the incident window.
func (s *system) panelWindows(ctx context.Context, inc incident.Incident) []bundle.PanelSeries {
	from, to := s.incidentWindow(inc)
	if !to.After(from) {
		return nil
	}
	step := max(to.Sub(from)/600, time.Second).Truncate(time.Second)
	var out []bundle.PanelSeries
	for _, p := range s.panels {
		src := s.poller.Sources[p.Source]
		if src == nil || p.Type == cockpit.PanelSLO {
			continue
		}
		res, err := src.QueryRange(ctx, p.Query, datasource.Range{Start: from, End: to, Step: step})
		if err != nil {
			s.poller.Log.Warn("panel left out of the export", "panel", p.Title, "err", err)
			continue
		}
		out = append(out, bundle.PanelSeries{Panel: p.Title, Query: p.Query, Unit: p.Unit, Series: res.Series})
	}
	return out
}

// incidentCharts draws the panels over the incident window as PNGs for the postmortem,
// with gonum/plot (no display needed, so the CLI can do it too).
func (s *system) incidentCharts(ctx context.Context, inc incident.Incident) ([]incident.Chart, error) {
	var charts []incident.Chart
	for _, ps := range s.panelWindows(ctx, inc) {
		png, err := chartPNG(ps, inc)
		if err != nil {
			return charts, fmt.Errorf("chart %q: %w", ps.Panel, err)
		}
		charts = append(charts, incident.Chart{Title: ps.Panel, PNG: png})
	}
	return charts, nil
}

var chartColors = []color.Color{
	color.NRGBA{R: 0x3B, G: 0x82, B: 0xF6, A: 0xFF}, color.NRGBA{R: 0xF5, G: 0x9E, B: 0x0B, A: 0xFF},
	color.NRGBA{R: 0x10, G: 0xB9, B: 0x81, A: 0xFF}, color.NRGBA{R: 0xEF, G: 0x44, B: 0x44, A: 0xFF},
	color.NRGBA{R: 0x8B, G: 0x5C, B: 0xF6, A: 0xFF}, color.NRGBA{R: 0x06, G: 0xB6, B: 0xD4, A: 0xFF},
}

// chartPNG draws one panel's series with the incident's milestones as vertical marks.
func chartPNG(ps bundle.PanelSeries, inc incident.Incident) ([]byte, error) {
	p := plot.New()
	p.Title.Text = ps.Panel
	if ps.Unit != "" {
		p.Y.Label.Text = ps.Unit
	}
	p.X.Tick.Marker = plot.TimeTicks{Format: "15:04", Time: plot.UnixTimeIn(time.Local)}
	p.Add(plotter.NewGrid())
	for i, s := range ps.Series {
		if i >= 8 {
			break
		}
		var xys plotter.XYs
		for _, smp := range s.Samples {
			if !math.IsNaN(smp.V) && !math.IsInf(smp.V, 0) {
				xys = append(xys, plotter.XY{X: float64(smp.T.Unix()), Y: smp.V})
			}
		}
		if len(xys) == 0 {
			continue
		}
		ln, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		ln.Color = chartColors[i%len(chartColors)]
		ln.Width = vg.Points(1.5)
		p.Add(ln)
		p.Legend.Add(cockpit.LegendName("", s.Labels), ln)
	}
	for _, k := range []incident.MilestoneKind{incident.MilestoneDetected, incident.MilestoneDeclared, incident.MilestoneMitigated, incident.MilestoneResolved} {
		if at, ok := inc.Milestones.At(k); ok {
			x := float64(at.Unix())
			m, err := plotter.NewLine(plotter.XYs{{X: x, Y: p.Y.Min}, {X: x, Y: p.Y.Max}})
			if err != nil {
				continue
			}
			m.Color = color.NRGBA{R: 0x80, G: 0x80, B: 0x80, A: 0xFF}
			m.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(m)
		}
	}
	p.Legend.Top = true
	c := vgimg.New(vg.Points(900), vg.Points(320))
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// bundleExtras gathers what the incident store does not hold for a black-box bundle:
// the panels over the incident window, the runbooks whose steps were ticked, and the
// alert history over the window.
func (s *system) bundleExtras(ctx context.Context, inc incident.Incident, tl []incident.Entry) bundle.Extras {
	ex := bundle.Extras{MetricWindows: s.panelWindows(ctx, inc), Runbooks: map[string]string{}}
	for _, e := range tl {
		if e.Kind != incident.KindRunbookStep {
			continue
		}
		var f incident.RunbookStepFields
		if e.Decode(&f) != nil || ex.Runbooks[f.Runbook] != "" {
			continue
		}
		for _, rb := range s.library.All() {
			if rb.Root+"/"+rb.Path == f.Runbook {
				if src, err := s.library.Source(rb); err == nil {
					ex.Runbooks[f.Runbook] = string(src)
				}
			}
		}
	}
	s.histMu.Lock()
	h := s.history
	s.histMu.Unlock()
	if h != nil {
		from, to := s.incidentWindow(inc)
		if evs, err := h.Events(ctx, from, to); err == nil {
			ex.AlertEvents = evs
		}
	}
	return ex
}

// incidentState reads the active incident's state once (for tests and headless renders).
func incidentState(ctx context.Context, st *incsqlite.Store) (*cockpit.IncidentState, error) {
	inc, ok, err := st.Active(ctx, 0)
	if err != nil || !ok {
		return &cockpit.IncidentState{}, err
	}
	out := &cockpit.IncidentState{Active: true, Incident: inc}
	out.Timeline, err = st.AllTimeline(ctx, inc.ID)
	return out, err
}
