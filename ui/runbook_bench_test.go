package ui

import (
	"bytes"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/opscockpit/opscockpit/assets"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/runbooks"
)

// bigRunbook repeats the embedded sample runbooks' bodies to about size bytes.
func bigRunbook(b *testing.B, size int) []byte {
	b.Helper()
	src, err := fsReadFile("checkoutlatencyhigh.md")
	if err != nil {
		b.Fatal(err)
	}
	_, body, _ := bytes.Cut(src[3:], []byte("\n---\n"))
	out := append([]byte(nil), src[:len(src)-len(body)]...)
	for len(out) < size {
		out = append(out, body...)
	}
	return out
}

func fsReadFile(name string) ([]byte, error) {
	f, err := assets.Runbooks().Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(f)
	return buf.Bytes(), err
}

// BenchmarkP7RunbookWidgets: a 200 KiB runbook parsed and built into widgets, laid out
// in a window (the first screen), against goldmark rendering the same bytes to HTML in
// the same run (QUALITY.md P7: ratio ≤ 2, first screen ≤ 100 ms).
func BenchmarkP7RunbookWidgets(b *testing.B) {
	src := bigRunbook(b, 200<<10)
	md := goldmark.New(goldmark.WithExtensions(extension.GFM))
	var base time.Duration
	for range 5 {
		start := time.Now()
		var out bytes.Buffer
		if err := md.Convert(src, &out); err != nil {
			b.Fatal(err)
		}
		base += time.Since(start)
	}
	base /= 5
	a := test.NewApp()
	defer a.Quit()
	a.Settings().SetTheme(NewTheme(false))
	v := newRunbookView(nil, 0, nil)
	win := test.NewWindow(v.box)
	defer win.Close()
	win.Resize(fyne.NewSize(1280, 900))
	b.ResetTimer()
	var total time.Duration
	for range b.N {
		start := time.Now()
		rb, err := runbooks.Parse("big.md", src)
		if err != nil {
			b.Fatal(err)
		}
		v.open(rb, "", time.Now())
		win.Canvas().Content().Refresh()
		total += time.Since(start)
		v.show(datasource.Alert{}, time.Now())
		v.current, v.rendered = nil, ""
	}
	per := total / time.Duration(b.N)
	b.ReportMetric(float64(per.Microseconds())/1000, "ms/first-screen")
	b.ReportMetric(float64(per)/float64(base), "ratio-vs-goldmark-html")
}
