package main

import (
	"context"
	"os"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/runbooks"
	"github.com/opscockpit/opscockpit/ui"
)

// fixedTicks is a tick store with some steps done, for screenshots of a checklist in
// progress.
type fixedTicks map[string]bool

func (f fixedTicks) Ticked(_, step string) (bool, bool) { on, ok := f[step]; return on, ok }
func (f fixedTicks) SetTick(_, step string, on bool)    { f[step] = on }

// TestDocsRunbookScreenshots renders a rich runbook (table, code, live promql value on
// the demo scenario, a checklist three steps in) at laptop size and, in the kiosk
// theme, at war-room size: docs/runbook-laptop.png and docs/runbook-warroom.png.
func TestDocsRunbookScreenshots(t *testing.T) {
	if os.Getenv("OPSCOCKPIT_DOCS") == "" {
		t.Skip("set OPSCOCKPIT_DOCS=1 to regenerate docs screenshots (make docs)")
	}
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	_, sys, code := loadSystem("", clock.NewFake(time.Now().Truncate(time.Second)), 5*time.Minute, quiet(), os.Stderr)
	if code != 0 {
		t.Fatal("demo did not load")
	}
	var rb *runbooks.Runbook
	for _, r := range sys.library.All() {
		if r.Path == "checkoutlatencyhigh.md" {
			rb = r
		}
	}
	ticks := fixedTicks{}
	for _, s := range rb.Doc.Steps[:3] {
		ticks[s.ID] = true
	}
	for _, shot := range []struct {
		file, anchor string
		w, h         int
		theme        *ui.Theme
	}{
		{"../../docs/runbook-laptop.png", "", 1366, 1500, ui.NewTheme(false)},
		{"../../docs/runbook-warroom.png", "diagnosis", 1920, 1080, ui.NewKioskTheme(false, 1.5)},
	} {
		deps := sys.uiDeps()
		deps.Ticks, deps.Headless = ticks, true
		var page *ui.RunbookPage
		img, err := capture(shot.w, shot.h, 1, shot.theme, func() fyne.CanvasObject {
			page = ui.NewRunbookPage(deps)
			return page.Content()
		}, func() error {
			page.Open(rb, "", sys.clock.Now())
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := page.Settle(ctx); err != nil {
				return err
			}
			page.Jump(shot.anchor)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := writePNG(shot.file, img); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", shot.file)
	}
}
