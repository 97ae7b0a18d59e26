package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/incident"
	incsqlite "github.com/opscockpit/opscockpit/incident/sqlite"
	"github.com/opscockpit/opscockpit/risk/report"
	"github.com/opscockpit/opscockpit/ui"
)

// TestDocsRiskAndIncidentScreenshots renders the demo drill's risk register (heat map,
// list, materialising banner), a risk's escalation history, the commander layout with
// an incident under way, and kiosk mode at 1920×1080; and writes the sample review pack
// to docs/examples/review-pack.
func TestDocsRiskAndIncidentScreenshots(t *testing.T) {
	if os.Getenv("OPSCOCKPIT_DOCS") == "" {
		t.Skip("set OPSCOCKPIT_DOCS=1 to regenerate docs screenshots (make docs)")
	}
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", home)
	t.Setenv("OPSCOCKPIT_USER", "alice")
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 12, 7, 14, 0, 0, 0, time.Local))
	sys := demoSystem(ctx, t, clk)
	risks, err := newRiskSvc(sys, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.riskSnapshot(ctx, risks, quiet()); err != nil {
		t.Fatal(err)
	}
	// an escalation history: proposed by a rule, confirmed with notes
	must(t, risks.Escalate(ctx, 1, "service owner", "Two bad deploys this quarter; canary analysis not yet on checkout.", "level High or above"))
	clk.Advance(2 * time.Minute)
	must(t, risks.Escalate(ctx, 1, "engineering director", "Materialised during the v2.14.0 deploy: 14x error budget burn. Needs funding for progressive delivery.", "linked alert firing"))
	clk.Advance(time.Minute)
	if err := sys.riskSnapshot(ctx, risks, quiet()); err != nil {
		t.Fatal(err)
	}

	// an incident under way, declared from the burn-rate alert
	svc := newIncidentSvc(sys, quiet())
	st, err := incsqlite.Open(ctx, filepath.Join(home, "inc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc.st.Store(st)
	snap := sys.hub.Publish()
	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout errors after v2.14.0 deploy", Severity: incident.SEV2,
		Services: []string{"checkout"}, Alerts: snap.Alerts[:1], Roles: map[incident.Role]string{incident.Commander: "alice", incident.Scribe: "bob"}})
	must(t, err)
	must(t, st.RecordAlertEvents(ctx, inc.ID, snap.Alerts, clk.Now()))
	must(t, st.RecordAck(ctx, inc.ID, snap.Alerts[0].Fingerprint, snap.Alerts[0].Name(), "looking", "alice", clk.Now()))
	for i, step := range []string{"Post in #incident-checkout that you are investigating", "Check the deploy history"} {
		clk.Advance(time.Minute)
		must(t, st.RecordRunbookStep(ctx, inc.ID, "embedded/checkouterrorbudgetburn.md", "s"+string(rune('0'+i)), step, true, "alice", clk.Now()))
	}
	clk.Advance(time.Minute)
	must(t, svc.Note(ctx, inc.ID, "v2.14.0 went to 100% at 13:58; errors started 13:59"))
	must(t, svc.Decide(ctx, inc.ID, "Roll back checkout to v2.13.4", "error budget burn 14x and the deploy is the only change"))
	must(t, svc.SetStatus(ctx, inc.ID, incident.Identified))
	state := &cockpit.IncidentState{Active: true, Policy: updatePolicy(sys.cfg)}
	state.Incident, err = st.Get(ctx, inc.ID)
	must(t, err)
	state.Timeline, err = st.AllTimeline(ctx, inc.ID)
	must(t, err)
	sys.hub.SetIncident(state)
	// The feed speaks again with the same alerts (the demo loops; asking it now would
	// land between two runs of the scenario): no FEED SILENT banner.
	sys.hub.ApplyAlerts(datasource.AlertEvent{Kind: datasource.Snapshot, Source: "scenario", Alerts: snap.Alerts})

	shoot := func(file string, layout ui.Layout, kiosk bool, then func(*ui.Cockpit)) {
		t.Helper()
		a := test.NewTempApp(t)
		th := ui.NewTheme(false)
		if kiosk {
			th = ui.NewKioskTheme(false, 1.5)
		}
		a.Settings().SetTheme(th)
		deps := sys.uiDeps()
		deps.Risks, deps.Incidents, deps.Headless, deps.Layout = risks, svc, true, layout
		var view *ui.Cockpit
		win := test.NewTempWindow(t, nil)
		deps.Window = win
		view = ui.New(deps)
		win.SetContent(view.Content())
		win.SetPadded(false)
		win.Resize(fyne.NewSize(1920, 1080))
		view.SetKiosk(kiosk)
		view.Apply(sys.hub.Publish())
		if then != nil {
			then(view)
		}
		for range 2 {
			win.Content().Refresh()
		}
		must(t, writePNG(file, win.Canvas().Capture()))
		t.Logf("wrote %s", file)
	}
	shoot("../../docs/risk-register.png", ui.LayoutRisk, false, nil)
	shoot("../../docs/risk-escalation.png", ui.LayoutRisk, false, func(v *ui.Cockpit) { v.ShowRisk(1) })
	shoot("../../docs/incident-timeline.png", ui.LayoutCommander, false, nil)
	shoot("../../docs/kiosk-1920.png", ui.LayoutCommander, true, nil)

	// the sample review pack
	out := "../../docs/examples/review-pack"
	os.RemoveAll(out)
	rst, err := risks.store()
	must(t, err)
	files, err := report.Write(ctx, out, rst, report.Options{Since: clk.Now().AddDate(0, 0, -30), Now: clk.Now(), Matrix: risks.matrix})
	must(t, err)
	t.Logf("review pack: %v", files)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
