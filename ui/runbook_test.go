package ui

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/runbooks"
)

const hostileRunbook = `---
title: Disk full
alerts: [DiskFull]
---
# Disk full

## Meaning

Links: [web](https://example.com/x), [mail](mailto:oncall@example.com),
[js](javascript:alert(1)), [JS](JaVaScRiPt:alert(1)), [ent](&#106;avascript:alert(1)),
[file](file:///etc/passwd), [data](data:text/html,<script>alert(1)</script>),
[custom](slack://open), [other](other.md#rollback), [here](#mitigation).

<script>alert(1)</script>

## Diagnosis

` + "```promql\nnode_filesystem_avail_bytes / node_filesystem_size_bytes\n```" + `

` + "```promql\nup{job=\"api\"}[30m]\n```" + `

## Mitigation

- [ ] Find the biggest directory
- [ ] Rotate the logs
`

const otherRunbook = `---
title: Other
---
# Other

## Intro

text

## Rollback

Roll it back.
`

func hostileLibrary(t *testing.T) *runbooks.Library {
	t.Helper()
	lib := runbooks.NewLibrary(runbooks.Root{Name: "t", FS: fstest.MapFS{
		"diskfull.md": {Data: []byte(hostileRunbook)},
		"other.md":    {Data: []byte(otherRunbook)},
	}})
	if errs := lib.Load(); len(errs) > 0 {
		t.Fatal(errs)
	}
	return lib
}

func hyperlinks(o fyne.CanvasObject) []*widget.HyperlinkSegment {
	var out []*widget.HyperlinkSegment
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.RichText:
			for _, s := range x.Segments {
				if h, ok := s.(*widget.HyperlinkSegment); ok {
					out = append(out, h)
				}
			}
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		}
	}
	walk(o)
	return out
}

func TestRunbookLinksOnlyOpenSafeTargets(t *testing.T) {
	test.NewTempApp(t).Settings().SetTheme(NewTheme(false))
	lib := hostileLibrary(t)
	v := newRunbookView(lib, 0, nil)
	var opened []string
	v.openURL = func(u *url.URL) error { opened = append(opened, u.String()); return nil }
	win := test.NewTempWindow(t, v.box)
	win.Resize(fyne.NewSize(600, 160))
	v.show(datasource.Alert{Fingerprint: "f", Labels: map[string]string{"alertname": "DiskFull"}}, time.Now())
	if v.current == nil || v.current.Title() != "Disk full" {
		t.Fatalf("runbook not shown: %v", v.current)
	}
	links := hyperlinks(v.body)
	var texts []string
	for _, l := range links {
		texts = append(texts, l.Text)
	}
	if got := strings.Join(texts, ","); got != "web,mail,other,here" {
		t.Fatalf("tappable links = %s, want only web, mail and the runbook links", got)
	}
	if !strings.Contains(textsOfRich(v.body), "<script>alert(1)</script>") {
		t.Error("raw HTML is not shown as text")
	}
	for _, l := range links[:2] {
		l.OnTapped()
	}
	if strings.Join(opened, " ") != "https://example.com/x mailto:oncall@example.com" {
		t.Fatalf("opened %v", opened)
	}
	// a runbook-relative link opens the other runbook in place, at its section
	links[2].OnTapped()
	if v.current.Title() != "Other" || len(opened) != 2 {
		t.Fatalf("relative link: now showing %q, opened %v", v.current.Title(), opened)
	}
	if v.scroll.Offset.Y <= 0 {
		t.Errorf("relative link with #rollback did not scroll (offset %v)", v.scroll.Offset)
	}
}

func textsOfRich(o fyne.CanvasObject) string {
	var b strings.Builder
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.RichText:
			b.WriteString(x.String() + "\n")
		case *widget.Label:
			b.WriteString(x.Text + "\n")
		case *canvas.Text:
			b.WriteString(x.Text + "\n")
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		}
	}
	walk(o)
	return b.String()
}

func TestPromQLBlocksShowLiveValuesAndRefresh(t *testing.T) {
	test.NewTempApp(t).Settings().SetTheme(NewTheme(false))
	lib := hostileLibrary(t)
	v := newRunbookView(lib, 0, nil)
	calls := make(chan string, 16)
	fail := false
	v.promql = func(ctx context.Context, q string, now time.Time) (cockpit.BlockResult, error) {
		calls <- q
		if fail {
			return cockpit.BlockResult{At: now}, errors.New("bad_data: 1:5: parse error")
		}
		if strings.HasSuffix(strings.TrimSpace(q), "[30m]") {
			return cockpit.BlockResult{At: now, Range: 30 * time.Minute, Total: 1, Series: []cockpit.BlockSeries{
				{Name: "api", Value: 1, Samples: []datasource.Sample{{V: 1}, {V: 0}, {V: 1}}}}}, nil
		}
		return cockpit.BlockResult{At: now, Total: 3, Series: []cockpit.BlockSeries{{Name: "/var", Value: 0.0412}}}, nil
	}
	v.promqlEvery = 15 * time.Second
	v.headless = true
	win := test.NewTempWindow(t, v.box)
	win.Resize(fyne.NewSize(900, 1400))
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	alert := datasource.Alert{Fingerprint: "f", Labels: map[string]string{"alertname": "DiskFull"}}
	v.show(alert, now)
	waitCalls := func(n int) {
		t.Helper()
		for i := range n {
			select {
			case <-calls:
			case <-time.After(5 * time.Second):
				t.Fatalf("only %d of %d block evaluations ran", i, n)
			}
		}
	}
	waitFor := func(what string, ok func(string) bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for v.drain(); !ok(textsOfRich(v.body)); v.drain() {
			if time.Now().After(deadline) {
				t.Fatalf("%s never showed; body:\n%s", what, textsOfRich(v.body))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitCalls(2)
	waitFor("live values", func(s string) bool {
		return strings.Contains(s, "0.0412") && strings.Contains(s, "\n1\n") && strings.Contains(s, "+2 more series") && strings.Contains(s, "last 30m")
	})
	// the range block has a sparkline
	if findSparkline(v.body) == nil {
		t.Fatal("range selection has no sparkline")
	}
	// a snapshot 5 s later does not re-run; one 15 s later does
	v.show(alert, now.Add(5*time.Second))
	select {
	case q := <-calls:
		t.Fatalf("re-ran %q before the refresh interval", q)
	case <-time.After(50 * time.Millisecond):
	}
	fail = true
	v.show(alert, now.Add(16*time.Second))
	waitCalls(2)
	waitFor("the query error", func(s string) bool { return strings.Contains(s, "Query failed: bad_data") })
}

func findSparkline(o fyne.CanvasObject) *sparkline {
	switch x := o.(type) {
	case *sparkline:
		return x
	case *fyne.Container:
		for _, c := range x.Objects {
			if s := findSparkline(c); s != nil {
				return s
			}
		}
	}
	return nil
}

func TestOutlineJumpsAndStepsReachTheTimeline(t *testing.T) {
	test.NewTempApp(t).Settings().SetTheme(NewTheme(false))
	lib := hostileLibrary(t)
	v := newRunbookView(lib, 0, nil)
	var steps []string
	v.onStep = func(rb *runbooks.Runbook, st runbooks.Step, on bool) {
		steps = append(steps, rb.Title()+": "+st.Text+map[bool]string{true: " ✓", false: " ✗"}[on])
	}
	win := test.NewTempWindow(t, container.NewStack(v.box))
	win.Resize(fyne.NewSize(900, 250))
	v.show(datasource.Alert{Fingerprint: "f", Labels: map[string]string{"alertname": "DiskFull"}}, time.Now())
	if !v.outline.Visible() || len(v.outline.Options) != 3 {
		t.Fatalf("outline %v", v.outline.Options)
	}
	v.outline.SetSelected("Mitigation")
	if v.scroll.Offset.Y <= 0 {
		t.Fatalf("jump to Mitigation left the scroll at %v", v.scroll.Offset)
	}
	check := firstCheck(v.body)
	test.Tap(check)
	test.Tap(check)
	if strings.Join(steps, "|") != "Disk full: Find the biggest directory ✓|Disk full: Find the biggest directory ✗" {
		t.Fatalf("steps heard: %v", steps)
	}
}

func TestLongRunbookBuildsAsTheReaderGoes(t *testing.T) {
	test.NewTempApp(t).Settings().SetTheme(NewTheme(false))
	var src strings.Builder
	src.WriteString("---\ntitle: Long\n---\n# Long\n\n")
	for i := range 100 {
		fmt.Fprintf(&src, "## Section %d\n\nParagraph %d of a long runbook.\n\n", i, i)
	}
	rb, err := runbooks.Parse("long.md", []byte(src.String()))
	if err != nil {
		t.Fatal(err)
	}
	v := newRunbookView(nil, 0, nil)
	win := test.NewTempWindow(t, v.box)
	win.Resize(fyne.NewSize(900, 600))
	v.open(rb, "", time.Now())
	first := len(v.body.Objects)
	if first >= len(rb.Doc.Blocks)-1 || first < firstScreenBlocks-1 {
		t.Fatalf("built %d of %d blocks up front", first, len(rb.Doc.Blocks))
	}
	// scrolling towards the end builds more
	v.moreOnScroll(fyne.NewPos(0, v.body.MinSize().Height-v.scroll.Size().Height))
	if len(v.body.Objects) <= first {
		t.Fatal("scrolling to the end built nothing more")
	}
	// jumping to the last section builds through it
	v.outline.SetSelected(v.outline.Options[len(v.outline.Options)-1])
	if v.next != len(rb.Doc.Blocks) || v.scroll.Offset.Y <= 0 {
		t.Fatalf("jump to the last section: built %d of %d, offset %v", v.next, len(rb.Doc.Blocks), v.scroll.Offset)
	}
}
