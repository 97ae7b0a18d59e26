package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/ui"
)

// screenText is every text drawn under o.
func screenText(o fyne.CanvasObject) string {
	var b strings.Builder
	walk(o, func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *canvas.Text:
			b.WriteString(x.Text + "\n")
		case *widget.RichText:
			b.WriteString(x.String() + "\n")
		}
	})
	return b.String()
}

// TestRiskRegisterFollowsAlertsAndTheCLI: the demo drill's register flags the risks
// whose alerts fire (naming the alerts), and a risk added from the CLI on the same file
// shows in the open cockpit within a refresh.
func TestRiskRegisterFollowsAlertsAndTheCLI(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", home)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clk := clock.NewFake(time.Now().Truncate(time.Second))
	sys := demoSystem(ctx, t, clk)
	sys.hub.Publish()
	risks, err := newRiskSvc(sys, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.openRisks(ctx, risks, quiet()); err != nil {
		t.Fatal(err)
	}
	a := test.NewTempApp(t)
	a.Settings().SetTheme(ui.NewTheme(false))
	deps := sys.uiDeps()
	deps.Risks, deps.Headless, deps.Layout = risks, true, ui.LayoutRisk
	view := ui.New(deps)
	win := test.NewTempWindow(t, view.Content())
	win.Resize(fyne.NewSize(1600, 1000))
	waitRisks := func(what string, ok func(*cockpit.RiskState) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			s := sys.hub.Publish()
			if s.Risks != nil && ok(s.Risks) {
				view.Apply(s)
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: never happened: %+v", what, s.Risks)
			}
			risks.changed()
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitRisks("materialising", func(s *cockpit.RiskState) bool { return len(s.Materialising) == 2 })
	txt := screenText(view.Content())
	for _, want := range []string{"2 RISKS MATERIALISING", "CheckoutErrorBudgetBurn", "PaymentsDependencyDegraded firing", "MATERIALISING", "OVERDUE"} {
		if !strings.Contains(txt, want) {
			t.Errorf("risk region lacks %q", want)
		}
	}
	// field filters in the search box: owner, service, level
	var search *widget.Entry
	walk(view.Content(), func(o fyne.CanvasObject) {
		if e, ok := o.(*widget.Entry); ok && strings.Contains(e.PlaceHolder, "owner:") {
			search = e
		}
	})
	if search == nil {
		t.Fatal("no risk search box")
	}
	test.Type(search, "owner:team-payments")
	if txt := screenText(view.Content()); !strings.Contains(txt, "Payments gateway degradation") || strings.Contains(txt, "#3  Orders database") {
		t.Fatalf("owner filter:\n%s", txt)
	}
	search.SetText("level:high service:orders-db")
	if txt := screenText(view.Content()); !strings.Contains(txt, "#3  Orders database") || strings.Contains(txt, "#2  Payments") {
		t.Fatalf("level and service filter:\n%s", txt)
	}
	search.SetText("")
	before := sys.hub.Snapshot().Risks.Version
	db := filepath.Join(home, "opscockpit", "drill.db")
	if code, out, errs := runCmd(t, "risk", "add", "--db", db, "--title", "Scribe added this from a terminal", "--owner", "bob", "--likelihood", "5", "--impact", "5"); code != 0 {
		t.Fatalf("risk add: %s %s", out, errs)
	}
	waitRisks("the CLI's risk", func(s *cockpit.RiskState) bool { return s.Version != before })
	if !strings.Contains(screenText(view.Content()), "Scribe added this from a terminal") {
		t.Fatal("a risk added from the CLI did not show in the cockpit")
	}
}

// TestDamagedRegisterOffersTheBackup: a truncated register is refused untouched, the
// cockpit offers the newest backup, and restoring it opens the register again.
func TestDamagedRegisterOffersTheBackup(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", home)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clk := clock.NewFake(time.Now().Truncate(time.Second))
	_, sys, code := loadSystem("", clk, 5*time.Minute, quiet(), os.Stderr)
	if code != 0 {
		t.Fatal("demo did not load")
	}
	risks, err := newRiskSvc(sys, quiet())
	if err != nil {
		t.Fatal(err)
	}
	// a register with a backup, then cut in half
	if err := sys.riskSnapshot(ctx, risks, quiet()); err != nil {
		t.Fatal(err)
	}
	st, _ := risks.store()
	if _, err := st.AutoBackup(ctx, 3); err != nil {
		t.Fatal(err)
	}
	path := st.Path()
	st.Close()
	risks.st.Store(nil)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	if err := os.WriteFile(path, data[:len(data)/2+100], 0o600); err != nil {
		t.Fatal(err)
	}
	damaged, _ := os.ReadFile(path)

	if err := sys.openRisks(ctx, risks, quiet()); err == nil {
		t.Fatal("a truncated register opened")
	}
	state := sys.hub.Publish().Risks
	if state == nil || state.Backup == "" {
		t.Fatalf("no backup offered: %+v", state)
	}
	if now, _ := os.ReadFile(path); string(now) != string(damaged) {
		t.Fatal("the damaged file was written to")
	}
	a := test.NewTempApp(t)
	a.Settings().SetTheme(ui.NewTheme(false))
	deps := sys.uiDeps()
	deps.Risks, deps.Headless, deps.Layout = risks, true, ui.LayoutRisk
	view := ui.New(deps)
	test.NewTempWindow(t, view.Content())
	view.Apply(sys.hub.Publish())
	if txt := screenText(view.Content()); !strings.Contains(txt, "damaged and was not touched") {
		t.Fatalf("no restore offer on screen:\n%s", txt)
	}
	aside, err := risks.Restore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if kept, _ := os.ReadFile(aside); string(kept) != string(damaged) {
		t.Fatal("the damaged file was not kept aside as it was")
	}
	if _, err := risks.List(ctx, riskFilterAll()); err != nil {
		t.Fatalf("register after restore: %v", err)
	}
}
