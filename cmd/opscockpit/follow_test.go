package main

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/incident"
	incsqlite "github.com/opscockpit/opscockpit/incident/sqlite"
	"github.com/opscockpit/opscockpit/session"
	"github.com/opscockpit/opscockpit/ui"
)

// TestFollowerMirrorsTheCommander: a commander cockpit serves its session over a real
// websocket; a read-only follower mirrors its layout, selected alert, open runbook and
// incident within a second of each change.
func TestFollowerMirrorsTheCommander(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", home)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	demo := func() *system { return demoSystem(ctx, t, clock.NewFake(time.Now().Truncate(time.Second))) }
	a := test.NewTempApp(t)
	a.Settings().SetTheme(ui.NewTheme(false))

	// the commander
	cmdr := demo()
	var lastView atomic.Pointer[ui.View]
	svc := newIncidentSvc(cmdr, quiet())
	st, err := incsqlite.Open(ctx, filepath.Join(home, "inc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc.st.Store(st)
	dc := cmdr.uiDeps()
	dc.Headless, dc.Incidents = true, svc
	dc.OnView = func(v ui.View) { lastView.Store(&v) }
	cv := ui.New(dc)
	test.NewTempWindow(t, cv.Content()).Resize(fyne.NewSize(1600, 1000))
	cv.Apply(cmdr.hub.Publish())
	srv, err := session.NewServer(session.ServerOptions{Tokens: []string{"s3cret"}, Clock: clock.Real{}, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	go srv.Run(ctx)
	go publishSession(ctx, srv, cmdr, &lastView, clock.Real{})

	// the follower
	fol := demo()
	df := fol.uiDeps()
	df.Headless, df.ReadOnly = true, true
	fv := ui.New(df)
	test.NewTempWindow(t, fv.Content()).Resize(fyne.NewSize(1600, 1000))
	states := make(chan session.State, 64)
	f, err := session.NewFollower(session.FollowerOptions{URL: "ws" + strings.TrimPrefix(hs.URL, "http"), Token: "s3cret", Log: quiet(),
		OnState: func(s session.State) { states <- s }})
	if err != nil {
		t.Fatal(err)
	}
	go f.Run(ctx)

	mirrored := func(what string, ok func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		deadline := start.Add(time.Second)
		for !ok() {
			select {
			case s := <-states:
				applyFollowed(fol.hub, []*ui.Cockpit{fv}, s, incident.UpdatePolicy{})
				fv.Apply(fol.hub.Publish())
			case <-time.After(time.Until(deadline)):
				t.Fatalf("%s not mirrored within 1 s: follower view %+v, commander %+v", what, fv.View(), cv.View())
			}
		}
		return time.Since(start)
	}
	// 1. the layout
	cv.SetLayout(ui.LayoutRunbook)
	mirrored("layout", func() bool { return fv.Layout() == ui.LayoutRunbook })
	// 2. another alert, and with it its runbook
	snap := cmdr.hub.Publish()
	second := snap.Alerts[1]
	cv.ApplyView(ui.View{Alert: second.Fingerprint}) // as if the commander picked it
	mirrored("alert and runbook", func() bool {
		v, c := fv.View(), cv.View()
		return v.Alert == second.Fingerprint && v.RunbookPath == c.RunbookPath && c.RunbookPath != ""
	})
	// 3. an incident declared on the commander shows in the follower's band
	if _, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout latency after deploy", Severity: incident.SEV2, Alerts: snap.Alerts[:1]}); err != nil {
		t.Fatal(err)
	}
	state, err := incidentState(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	cmdr.hub.SetIncident(state)
	cmdr.hub.Publish()
	took := mirrored("incident", func() bool {
		return strings.Contains(screenText(fv.Content()), "Checkout latency after deploy")
	})
	t.Logf("incident mirrored in %v", took)
	// the follower is read-only: D declares nothing there
	if !fv.TypedRune('d') {
		t.Fatal("D was not swallowed on a follower")
	}
}
