package ui

import (
	"net/url"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/opscockpit/opscockpit/runbooks"
)

// FuzzRenderRunbook feeds arbitrary markdown through the whole path a runbook takes to
// the screen: the safety pre-check and parse, then our renderer into widgets, with
// every block built (as if scrolled to the end) and every link tapped through the
// policy. Nothing may panic, and no link may reach OpenURL unless the policy allows it.
func FuzzRenderRunbook(f *testing.F) {
	for _, seed := range []string{
		hostileRunbook, otherRunbook,
		"# T\n\n| a | b |\n|---|---|\n| [x](javascript:alert(1)) | `c` |\n",
		"- [ ] step\n  - [x] nested\n    > quote\n    > ```promql\n    > up[5m]\n    > ```\n",
		"[a](#nowhere) [b](../../etc/passwd.md) <img src=x onerror=alert(1)> ![i](http://x/y.png)",
	} {
		f.Add(seed)
	}
	a := test.NewApp()
	defer a.Quit()
	a.Settings().SetTheme(NewTheme(false))
	v := newRunbookView(nil, 0, nil)
	opened := 0
	v.openURL = func(u *url.URL) error { opened++; return nil }
	w := test.NewWindow(v.box)
	defer w.Close()
	w.Resize(fyne.NewSize(800, 600))
	f.Fuzz(func(t *testing.T, md string) {
		rb, err := runbooks.Parse("fuzz.md", []byte(md))
		if err != nil {
			return // refused by the caps: fine
		}
		v.open(rb, "", time.Now())
		v.buildThrough(len(rb.Doc.Blocks))
		for _, h := range hyperlinks(v.body) {
			if h.OnTapped != nil && !runbooks.LinkAllowed(h.URL.String()) && h.URL.Scheme != "" {
				t.Fatalf("a link the policy refuses is tappable: %q", h.URL)
			}
		}
		for entry := range v.anchors {
			v.outline.SetSelected(entry)
		}
	})
}
