package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/risk"
	"github.com/opscockpit/opscockpit/runbooks"
)

func TestRunbookSearchOpensTheHitAndEscapesBack(t *testing.T) {
	test.NewTempApp(t).Settings().SetTheme(NewTheme(false))
	lib := hostileLibrary(t)
	v := newRunbookView(lib, 0, nil)
	win := test.NewTempWindow(t, v.box)
	win.Resize(fyne.NewSize(900, 700))
	alert := datasource.Alert{Fingerprint: "f", Labels: map[string]string{"alertname": "DiskFull"}}
	v.show(alert, time.Now())
	test.Type(v.search, "roll")
	if !v.inSearch || len(v.hits) == 0 || v.hits[0].Runbook.Title() != "Other" {
		t.Fatalf("search for roll: in search %v, hits %+v", v.inSearch, v.hits)
	}
	if txt := textsOfRich(v.body); !strings.Contains(txt, "match") || !strings.Contains(txt, "Rollback") {
		t.Fatalf("results body:\n%s", txt)
	}
	// a snapshot of the same alert does not wipe the results
	v.show(alert, time.Now())
	if !v.inSearch {
		t.Fatal("a snapshot ended the search")
	}
	// the first result's button opens it at its section
	var btn *widget.Button
	for _, o := range v.body.Objects {
		if b := firstButton(o); b != nil {
			btn = b
			break
		}
	}
	test.Tap(btn)
	if v.inSearch || v.current.Title() != "Other" || v.search.Text != "" {
		t.Fatalf("after opening: in search %v, current %q, box %q", v.inSearch, v.current.Title(), v.search.Text)
	}
	// searching again then clearing restores what was open
	test.Type(v.search, "disk")
	v.search.SetText("")
	if v.inSearch || v.current.Title() != "Other" {
		t.Fatalf("after clearing: %v %q", v.inSearch, v.current.Title())
	}
}

func firstButton(o fyne.CanvasObject) *widget.Button {
	switch x := o.(type) {
	case *widget.Button:
		return x
	case *fyne.Container:
		for _, c := range x.Objects {
			if b := firstButton(c); b != nil {
				return b
			}
		}
	}
	return nil
}

func TestHotReloadKeepsTheLastGoodCopy(t *testing.T) {
	test.NewTempApp(t).Settings().SetTheme(NewTheme(false))
	dir := t.TempDir()
	file := filepath.Join(dir, "diskfull.md")
	if err := os.WriteFile(file, []byte(hostileRunbook), 0o600); err != nil {
		t.Fatal(err)
	}
	root, err := runbooks.DirRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	lib := runbooks.NewLibrary(root)
	lib.Load()
	v := newRunbookView(lib, 0, nil)
	win := test.NewTempWindow(t, v.box)
	win.Resize(fyne.NewSize(900, 700))
	v.show(datasource.Alert{Fingerprint: "f", Labels: map[string]string{"alertname": "DiskFull"}}, time.Now())

	edited := strings.Replace(hostileRunbook, "## Meaning", "## Meaning\n\nEdited while the incident ran.", 1)
	os.WriteFile(file, []byte(edited), 0o600)
	v.reloaded(lib.Reload())
	if !strings.Contains(textsOfRich(v.body), "Edited while the incident ran.") || v.warn.Visible() {
		t.Fatalf("edit not shown:\n%s", textsOfRich(v.body))
	}
	// the file turns bad (over the size cap): the last good copy stays, with a warning
	os.WriteFile(file, []byte(strings.Repeat("x", 3<<20)), 0o600)
	v.reloaded(lib.Reload())
	if !strings.Contains(textsOfRich(v.body), "Edited while the incident ran.") || !v.warn.Visible() ||
		!strings.Contains(v.warn.seg.Text, "last good copy") {
		t.Fatalf("bad file: warning %v %q", v.warn.Visible(), v.warn.seg.Text)
	}
	// deleted: said so
	os.Remove(file)
	v.reloaded(lib.Reload())
	if v.current != nil || !strings.Contains(textsOfRich(v.body), "was deleted") {
		t.Fatalf("deleted runbook still shown: %v\n%s", v.current, textsOfRich(v.body))
	}
}

func TestRiskSearchFieldFilters(t *testing.T) {
	q, owner, service, levels := parseRiskSearch("canary owner:team-checkout service:checkout level:very-high level:High rollout", risk.DefaultMatrix())
	if q != "canary rollout" || owner != "team-checkout" || service != "checkout" || strings.Join(levels, ",") != "Very High,High" {
		t.Fatalf("q %q owner %q service %q levels %v", q, owner, service, levels)
	}
	if q, _, _, levels := parseRiskSearch("level:nonsense ratio:5", risk.DefaultMatrix()); q != "ratio:5" || len(levels) != 0 {
		t.Fatalf("unknown level kept: %q %v", q, levels)
	}
}

func TestFormsSubmitOnEnter(t *testing.T) {
	test.NewTempApp(t).Settings().SetTheme(NewTheme(false))
	w := test.NewTempWindow(t, widget.NewLabel("x"))
	w.Resize(fyne.NewSize(900, 600))
	title, notes := widget.NewEntry(), widget.NewMultiLineEntry()
	got := make(chan bool, 1)
	showForm("Declare", "Declare", "Cancel", []*widget.FormItem{widget.NewFormItem("Title", title), widget.NewFormItem("Notes", notes)},
		func(ok bool) { got <- ok }, w, 700)
	if w.Canvas().Focused() != title {
		t.Fatal("the first text box does not have the focus")
	}
	if notes.OnSubmitted != nil {
		t.Fatal("Enter in a multi-line box would submit the form")
	}
	title.SetText("Checkout down")
	title.OnSubmitted(title.Text)
	select {
	case ok := <-got:
		if !ok {
			t.Fatal("Enter dismissed the form instead of submitting it")
		}
	default:
		t.Fatal("Enter did not submit the form")
	}
}
