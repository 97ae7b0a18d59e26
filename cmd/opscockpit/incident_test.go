package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/incident"
	"github.com/opscockpit/opscockpit/incident/bundle"
	incsqlite "github.com/opscockpit/opscockpit/incident/sqlite"
	risksqlite "github.com/opscockpit/opscockpit/risk/sqlite"
	"github.com/opscockpit/opscockpit/ui"
)

// walk calls f for every object in the tree under o.
func walk(o fyne.CanvasObject, f func(fyne.CanvasObject)) {
	f(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walk(c, f)
		}
	case fyne.Widget:
		r := test.WidgetRenderer(x)
		for _, c := range r.Objects() {
			walk(c, f)
		}
	}
}

// TestIncidentEndToEnd drives the headless cockpit on the demo the way a commander
// would: declare from an alert, tick two runbook steps, record a decision, mitigate,
// resolve, write the postmortem and the black-box bundle, reopen the bundle, and check
// milestones and timeline.
func TestIncidentEndToEnd(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", home)
	t.Setenv("XDG_DATA_HOME", home)
	t.Setenv("OPSCOCKPIT_USER", "alice")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	clk := clock.NewFake(time.Now().Truncate(time.Second))
	sys := demoSystem(ctx, t, clk)
	svc := newIncidentSvc(sys, quiet())
	db := filepath.Join(t.TempDir(), "drill.db")
	st, err := incsqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc.st.Store(st)
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		cockpit.FollowIncidents(ctx, sys.hub, st, clk, cockpit.IncidentFollowOptions{Poke: svc.poke, Selected: svc.selected.Load, Log: quiet()})
	}()
	defer func() { cancel(); <-followed }()

	a := test.NewTempApp(t)
	a.Settings().SetTheme(ui.NewTheme(false))
	deps := sys.uiDeps()
	deps.Incidents, deps.OnStep, deps.Headless = svc, svc.recordStep, true
	view := ui.New(deps)
	win := test.NewTempWindow(t, view.Content())
	win.Resize(fyne.NewSize(1600, 1000))
	// apply waits until the hub's incident state satisfies ok, then shows it.
	apply := func(what string, ok func(*cockpit.IncidentState) bool) *cockpit.IncidentState {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			s := sys.hub.Publish()
			if s.Incident != nil && ok(s.Incident) {
				view.Apply(s)
				return s.Incident
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: incident state never arrived: %+v", what, s.Incident)
			}
			svc.changed()
			time.Sleep(10 * time.Millisecond)
		}
	}
	apply("start", func(s *cockpit.IncidentState) bool { return !s.Active })

	// 1. declare from the selected (most urgent) demo alert
	if !view.TypedRune('d') {
		t.Fatal("D is not a shortcut")
	}
	inc := apply("declare", func(s *cockpit.IncidentState) bool { return s.Active }).Incident
	if inc.Severity != incident.SEV2 || len(inc.Alerts) != 1 || inc.Roles[incident.Commander] != "alice" {
		t.Fatalf("declared %+v", inc)
	}
	if _, ok := inc.Milestones.At(incident.MilestoneDetected); !ok {
		t.Fatal("detected milestone not taken from the alert's startsAt")
	}

	// 2. tick two runbook steps in the runbook region
	var checks []*widget.Check
	walk(view.Content(), func(o fyne.CanvasObject) {
		if c, ok := o.(*widget.Check); ok {
			checks = append(checks, c)
		}
	})
	if len(checks) < 2 {
		t.Fatalf("only %d runbook checkboxes on screen", len(checks))
	}
	test.Tap(checks[0])
	test.Tap(checks[1])
	apply("steps", func(s *cockpit.IncidentState) bool { return count(s.Timeline, incident.KindRunbookStep) == 2 })

	// 3. a decision through the entry box (K switches it to decisions)
	view.TypedRune('k')
	var entry *widget.Entry
	walk(view.Content(), func(o fyne.CanvasObject) {
		if e, ok := o.(*widget.Entry); ok && strings.Contains(e.PlaceHolder, "Decision") {
			entry = e
		}
	})
	if entry == nil {
		t.Fatal("no decision entry box")
	}
	test.Type(entry, "roll back v2.14.0 because error budget burn 14x and the deploy is the only change")
	entry.OnSubmitted(entry.Text)
	apply("decision", func(s *cockpit.IncidentState) bool { return count(s.Timeline, incident.KindDecision) == 1 })
	if entry.Text != "" {
		t.Errorf("entry not cleared after a saved decision: %q", entry.Text)
	}

	// 4. identified, mitigated, resolved with S, the clock moving between them
	for _, want := range []incident.Status{incident.Identified, incident.Mitigated, incident.Resolved} {
		clk.Advance(3 * time.Minute)
		view.TypedRune('s')
		apply(string(want), func(s *cockpit.IncidentState) bool { return s.Incident.Status == want })
	}
	final := apply("final", func(s *cockpit.IncidentState) bool { return true })
	d := final.Incident.Milestones.Durations()
	if !d.TimeToMitigate.Known || !d.TimeToResolve.Known || d.TimeToResolve.D <= d.TimeToMitigate.D {
		t.Fatalf("durations %+v", d)
	}

	// an action item from a terminal, turned into a risk in the register with one action
	if code, out, errs := runCmd(t, "incident", "action", strconv.FormatInt(inc.ID, 10), "--db", db, "--owner", "bob", "Add automated canary analysis to checkout deploys"); code != 0 {
		t.Fatalf("incident action: %s %s", out, errs)
	}
	risks, err := newRiskSvc(sys, quiet())
	if err != nil {
		t.Fatal(err)
	}
	rst, err := risksqlite.Open(ctx, filepath.Join(t.TempDir(), "risks.db"), risksqlite.Options{Clock: clk, Matrix: risks.matrix, Policy: risks.policy})
	if err != nil {
		t.Fatal(err)
	}
	defer rst.Close()
	risks.st.Store(rst)
	svc.risks = risks
	acts := apply("action item", func(s *cockpit.IncidentState) bool { return len(s.Actions) == 1 }).Actions
	rid, err := svc.ActionToRisk(ctx, inc.ID, acts[0])
	if err != nil {
		t.Fatal(err)
	}
	linked := apply("risk link", func(s *cockpit.IncidentState) bool { return len(s.Actions) == 1 && s.Actions[0].RiskID == rid })
	if count(linked.Timeline, incident.KindRiskChange) != 1 {
		t.Fatal("the new risk is not on the timeline")
	}
	if r, err := rst.Get(ctx, mustAtoi(t, rid)); err != nil || r.Title != "Add automated canary analysis to checkout deploys" || r.Owner != "bob" {
		t.Fatalf("risk from the action item: %+v %v", r, err)
	}

	// 5. postmortem draft (E) and the bundle (CLI, same database)
	view.TypedRune('e')
	pm := filepath.Join(home, "opscockpit", "exports", "INC-"+strconv.FormatInt(inc.ID, 10), "postmortem.md")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(pm); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	md, err := os.ReadFile(pm)
	if err != nil {
		t.Fatalf("postmortem: %v", err)
	}
	for _, want := range []string{"roll back v2.14.0", "error budget burn 14x", "mitigated", ".png", "Add automated canary analysis"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("postmortem lacks %q", want)
		}
	}
	out := filepath.Join(t.TempDir(), "inc.ocbx")
	if code, _, stderr := runCmd(t, "incident", "export", strconv.FormatInt(inc.ID, 10), "--format", "bundle", "--out", out, "--db", db); code != 0 {
		t.Fatalf("bundle export exit %d: %s", code, stderr)
	}
	b, err := bundle.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if b.Incident.Status != incident.Resolved || count(b.Timeline, incident.KindRunbookStep) != 2 || count(b.Timeline, incident.KindDecision) != 1 {
		t.Fatalf("bundle incident %+v with %d entries", b.Incident, len(b.Timeline))
	}
	if _, ok := b.Incident.Milestones.At(incident.MilestoneResolved); !ok {
		t.Fatal("bundle lost the resolved milestone")
	}
	if len(b.MetricWindows) == 0 || len(b.Runbooks) == 0 {
		t.Fatalf("bundle has %d metric windows and %d runbooks", len(b.MetricWindows), len(b.Runbooks))
	}

	// 6. reopen the black box offline: same incident, timeline and milestones, its panels
	// drawn from the recorded windows, and a headless render of it
	bb, _, err := bundleSystem(out)
	if err != nil {
		t.Fatal(err)
	}
	bb.poller.RefreshAll(ctx)
	snap := bb.hub.Publish()
	if snap.Incident == nil || snap.Incident.Incident.ID != inc.ID || len(snap.Incident.Timeline) != len(b.Timeline) {
		t.Fatalf("reopened incident %+v", snap.Incident)
	}
	for _, k := range []incident.MilestoneKind{incident.MilestoneDetected, incident.MilestoneDeclared, incident.MilestoneMitigated, incident.MilestoneResolved} {
		want, _ := final.Incident.Milestones.At(k)
		got, ok := snap.Incident.Incident.Milestones.At(k)
		if !ok || !got.Equal(want) {
			t.Errorf("milestone %s: reopened %v, recorded %v", k, got, want)
		}
	}
	drawn := 0
	for _, p := range snap.Panels {
		if len(p.Result.Series) > 0 {
			drawn++
		}
	}
	if drawn == 0 {
		t.Fatal("no panel of the black box has data")
	}
	png := filepath.Join(t.TempDir(), "bb.png")
	if code, _, stderr := runCmd(t, "snapshot", "--open", out, "--out", png, "--size", "1280x800"); code != 0 {
		t.Fatalf("snapshot --open exit %d: %s", code, stderr)
	}
	// a foreign file is refused with a clear error
	foreign := filepath.Join(t.TempDir(), "x.ocbx")
	os.WriteFile(foreign, []byte("not a bundle"), 0o600)
	if code, _, stderr := runCmd(t, "snapshot", "--open", foreign, "--out", png); code != 1 || !strings.Contains(stderr, "bundle") {
		t.Fatalf("foreign bundle: exit %d %s", code, stderr)
	}
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func count(tl []incident.Entry, k incident.Kind) int {
	n := 0
	for _, e := range tl {
		if e.Kind == k {
			n++
		}
	}
	return n
}
