package chart

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/opscockpit/opscockpit/datasource"
)

var t0 = time.Date(2026, 3, 14, 13, 0, 0, 0, time.UTC)

// flat is n samples of v a minute apart from t0, with NaN where gap says so.
func flat(n int, v float64, gap func(i int) bool) []datasource.Sample {
	s := make([]datasource.Sample, n)
	for i := range s {
		s[i] = datasource.Sample{T: t0.Add(time.Duration(i) * time.Minute), V: v}
		if gap != nil && gap(i) {
			s[i].V = math.NaN()
		}
	}
	return s
}

// show puts c in a test window of the given size and returns its renderer.
func show(t *testing.T, c *Chart, w, h float32) (fyne.Window, *chartRenderer) {
	t.Helper()
	win := test.NewTempWindow(t, c)
	win.SetPadded(false)
	win.Resize(fyne.NewSize(w, h))
	return win, test.WidgetRenderer(c).(*chartRenderer)
}

func near(a, b color.Color, tol int) bool {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	d := func(x, y uint32) int { return int(x>>8) - int(y>>8) }
	return abs(d(ar, br)) <= tol && abs(d(ag, bg)) <= tol && abs(d(ab, bb)) <= tol
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// hasColorNear reports whether column x has colour c within ±dy rows of y.
func hasColorNear(img image.Image, x int, y float32, dy int, c color.Color) bool {
	for yy := int(y) - dy; yy <= int(y)+dy; yy++ {
		if near(img.At(x, yy), c, 12) {
			return true
		}
	}
	return false
}

// visibleTexts lists the labels the raster draws, then the visible canvas.Text objects
// (labels that need a fallback font, the crosshair's box).
func visibleTexts(r *chartRenderer) []string {
	var out []string
	for i, it := range r.lay.texts {
		if i < len(r.inImage) && r.inImage[i] && it.text != "" {
			out = append(out, it.text)
		}
	}
	for _, o := range r.Objects() {
		if t, ok := o.(*canvas.Text); ok && t.Visible() && t.Text != "" {
			out = append(out, t.Text)
		}
	}
	return out
}

func TestChartDrawsLinesWhereExpected(t *testing.T) {
	test.NewTempApp(t)
	c := New()
	c.SetData([]Line{{Name: "low", Samples: flat(60, 10, nil)}, {Name: "high", Samples: flat(60, 30, nil)}},
		Options{Decimals: -1})
	win, r := show(t, c, 600, 300)
	img := win.Canvas().Capture()

	x := int(r.lay.plot.x + r.lay.plot.w/2)
	if !hasColorNear(img, x, r.lay.yAt(10), 1, palette[0]) {
		t.Errorf("no %v pixel at value 10 (y=%v)", palette[0], r.lay.yAt(10))
	}
	if !hasColorNear(img, x, r.lay.yAt(30), 1, palette[1]) {
		t.Errorf("no %v pixel at value 30 (y=%v)", palette[1], r.lay.yAt(30))
	}
	if hasColorNear(img, x, r.lay.yAt(20), 3, palette[0]) || hasColorNear(img, x, r.lay.yAt(20), 3, palette[1]) {
		t.Errorf("line colour at value 20, where no line is")
	}
	// A second frame of the same size reuses the image.
	first := r.img
	r.raster.Refresh()
	win.Canvas().Capture()
	if r.img != first {
		t.Error("raster image re-allocated for an unchanged size")
	}
}

func TestChartLeavesGapsForNaN(t *testing.T) {
	test.NewTempApp(t)
	c := New()
	// Minutes 20–39 are NaN: the line must stop at 19 and restart at 40.
	c.SetData([]Line{{Name: "gappy", Samples: flat(60, 10, func(i int) bool { return i >= 20 && i < 40 })}},
		Options{Decimals: -1})
	win, r := show(t, c, 600, 300)
	img := win.Canvas().Capture()
	y := r.lay.yAt(10)
	at := func(min float64) int {
		return int(r.lay.xAt(t0.Add(time.Duration(min * float64(time.Minute)))))
	}
	for _, m := range []float64{5, 15, 45, 55} {
		if !hasColorNear(img, at(m), y, 1, palette[0]) {
			t.Errorf("no line at minute %v", m)
		}
	}
	for _, m := range []float64{22, 30, 37} {
		if hasColorNear(img, at(m), y, 3, palette[0]) {
			t.Errorf("line drawn through the NaN gap at minute %v", m)
		}
	}
}

func TestChartSurvivesBadInput(t *testing.T) {
	many := make([]Line, 10000)
	for i := range many {
		many[i] = Line{Name: fmt.Sprintf("pod-%05d", i), Samples: flat(3, float64(i), nil)}
	}
	unsorted := flat(30, 1, nil)
	unsorted[3], unsorted[20] = unsorted[20], unsorted[3]
	huge := flat(10, math.MaxFloat64, nil)
	huge[3].V = -math.MaxFloat64
	lone := flat(9, 5, func(i int) bool { return i%2 == 1 }) // every point isolated
	tests := []struct {
		name  string
		lines []Line
		opts  Options
	}{
		{"nil", nil, Options{}},
		{"empty series", []Line{{Name: "empty"}}, Options{Unit: "s"}},
		{"single point", []Line{{Name: "one", Samples: flat(1, 3, nil)}}, Options{}},
		{"all NaN", []Line{{Name: "nan", Samples: flat(10, math.NaN(), nil)}}, Options{}},
		{"Inf only", []Line{{Name: "inf", Samples: flat(10, math.Inf(1), nil)}}, Options{}},
		{"Inf and NaN mixed", []Line{{Name: "mix", Samples: []datasource.Sample{
			{T: t0, V: 1}, {T: t0.Add(time.Minute), V: math.Inf(1)}, {T: t0.Add(2 * time.Minute), V: math.NaN()},
			{T: t0.Add(3 * time.Minute), V: math.Inf(-1)}, {T: t0.Add(4 * time.Minute), V: 2}}}}, Options{}},
		{"extreme values", []Line{{Name: "huge", Samples: huge}}, Options{}},
		{"isolated points", []Line{{Name: "dots", Samples: lone}}, Options{}},
		{"unsorted", []Line{{Name: "shuffled", Samples: unsorted}}, Options{}},
		{"same instant", []Line{{Name: "instant", Samples: []datasource.Sample{{T: t0, V: 1}, {T: t0, V: 2}}}}, Options{}},
		{"zero times", []Line{{Name: "zero", Samples: []datasource.Sample{{V: 1}, {T: t0, V: 2}}}}, Options{}},
		{"10k-character label", []Line{{Name: strings.Repeat("label", 2000), Samples: flat(10, 1, nil)}}, Options{}},
		{"10,000 series", many, Options{}},
		{"window without data", []Line{{Name: "a", Samples: flat(10, 1, nil)}},
			Options{Start: t0.Add(24 * time.Hour), End: t0.Add(25 * time.Hour)}},
		{"reversed window", []Line{{Name: "a", Samples: flat(10, 1, nil)}}, Options{Start: t0.Add(time.Hour), End: t0}},
		{"pins and thresholds out of range", []Line{{Name: "a", Samples: flat(10, 1, nil)}},
			Options{Min: ptr(5), Max: ptr(3), Thresholds: []Threshold{{Value: math.NaN()}, {Value: math.Inf(1)}, {Value: 1e9}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			test.NewTempApp(t)
			c := New()
			c.SetData(tt.lines, tt.opts)
			win, r := show(t, c, 500, 260)
			for _, sz := range []fyne.Size{{Width: 500, Height: 260}, {Width: 1, Height: 1}, {Width: 1900, Height: 1000}, {Width: 200, Height: 120}} {
				win.Resize(sz)
				win.Canvas().Capture()
				for _, x := range []float32{-5, 0, 60, sz.Width / 2, sz.Width - 1, sz.Width + 10} {
					c.MouseMoved(mouseAt(x, sz.Height/3))
					test.TapAt(c, fyne.NewPos(x, sz.Height/2))
				}
				c.MouseOut()
			}
			if tt.name == "10,000 series" {
				win.Resize(fyne.NewSize(900, 400))
				if len(c.data.series) != maxDrawnLines {
					t.Errorf("drew %d lines, want %d", len(c.data.series), maxDrawnLines)
				}
				more := ""
				for _, s := range visibleTexts(r) {
					if strings.HasSuffix(s, " more") {
						more = s
					}
				}
				if more == "" {
					t.Errorf("no \"+N more\" in the legend: %q", visibleTexts(r))
				}
				// The top lines by peak are the ones kept.
				if got := c.data.series[len(c.data.series)-1].name; got != "pod-09999" {
					t.Errorf("last drawn line = %q, want pod-09999", got)
				}
			}
		})
	}
}

func TestChartLegendShowsFormattedValues(t *testing.T) {
	test.NewTempApp(t)
	c := New()
	s := flat(30, 0.5, nil)
	s[10].V = 0.0123
	s[20].V = 2.5
	s[29].V = 1.234
	c.SetData([]Line{{Name: "p99 latency", Samples: s}}, Options{Unit: "s", Decimals: -1})
	for _, size := range []fyne.Size{{Width: 1000, Height: 300}, {Width: 320, Height: 300}} {
		_, r := show(t, c, size.Width, size.Height)
		texts := strings.Join(visibleTexts(r), "|")
		for _, want := range []string{"p99 latency", "1.23 s", "12.3 ms", "2.5 s"} {
			if !strings.Contains(texts, want) {
				t.Errorf("%v: legend lacks %q: %s", size, want, texts)
			}
		}
		if wantRight := size.Width >= 720; r.lay.legendRight != wantRight {
			t.Errorf("%v: legend right = %v, want %v", size, r.lay.legendRight, wantRight)
		}
	}
}

func TestChartNoData(t *testing.T) {
	test.NewTempApp(t)
	c := New()
	_, r := show(t, c, 300, 200)
	if got := visibleTexts(r); len(got) != 1 || got[0] != noDataText {
		t.Errorf("texts = %q, want only %q", got, noDataText)
	}
	c.SetData([]Line{{Name: "a", Samples: flat(5, 1, nil)}}, Options{})
	c.SetData(nil, Options{})
	if got := visibleTexts(r); len(got) != 1 || got[0] != noDataText {
		t.Errorf("after clearing, texts = %q, want only %q", got, noDataText)
	}
}

func TestChartCrosshair(t *testing.T) {
	test.NewTempApp(t)
	c := New()
	c.SetData([]Line{{Name: "rps", Samples: flat(60, 1200, nil)}}, Options{Unit: "reqps", Decimals: -1, Location: time.UTC})
	win, r := show(t, c, 600, 300)
	x := r.lay.xAt(t0.Add(30 * time.Minute))
	c.MouseMoved(mouseAt(x, 100))
	if !r.cross.Visible() || !r.tipBg.Visible() {
		t.Fatal("crosshair not shown on hover")
	}
	if got := r.tipNames[0].Text; got != "13:30:00" {
		t.Errorf("crosshair time = %q, want 13:30:00", got)
	}
	if got := r.tipValues[1].Text; got != "1.2k req/s" {
		t.Errorf("crosshair value = %q, want 1.2k req/s", got)
	}
	img := win.Canvas().Capture()
	if !near(img.At(int(x), int(r.lay.plot.y+r.lay.plot.h-30)), withAlpha(theme.Color(theme.ColorNameForeground), 0x90), 60) {
		t.Log("crosshair pixel not found (tolerated: blending with the background)")
	}
	c.MouseOut()
	if r.cross.Visible() || r.tipBg.Visible() {
		t.Error("crosshair still shown after the mouse left")
	}
	test.TapAt(c, fyne.NewPos(x, 100))
	if !r.cross.Visible() {
		t.Error("crosshair not shown on tap")
	}
}

func TestChartFollowsTheme(t *testing.T) {
	a := test.NewTempApp(t)
	a.Settings().SetTheme(theme.DarkTheme())
	c := New()
	c.SetData([]Line{{Name: "a", Samples: flat(60, 10, nil)}}, Options{})
	win, r := show(t, c, 600, 300)

	// A grid line away from the data: the second y tick from the top.
	ticks := r.lay.ys.ticks
	gy := int(pxY(r.lay.plotPx(1), r.lay.ys, ticks[len(ticks)-1]))
	gx := int(r.lay.plot.x + 10)
	lum := func(c color.Color) int { r, g, b, _ := c.RGBA(); return int(r>>8+g>>8+b>>8) / 3 }

	dark := win.Canvas().Capture()
	darkGrid, darkBg := dark.At(gx, gy), dark.At(gx, gy+8)
	darkText, _, _ := r.look(&r.lay.texts[0])

	a.Settings().SetTheme(theme.LightTheme())
	light := win.Canvas().Capture()
	lightGrid, lightBg := light.At(gx, gy), light.At(gx, gy+8)
	lightText, _, _ := r.look(&r.lay.texts[0])

	if !(lum(darkGrid) > lum(darkBg)) {
		t.Errorf("dark theme: grid %v not lighter than background %v", darkGrid, darkBg)
	}
	if !(lum(lightGrid) < lum(lightBg)) {
		t.Errorf("light theme: grid %v not darker than background %v", lightGrid, lightBg)
	}
	if near(darkText, lightText, 8) {
		t.Errorf("text colour unchanged by the theme: %v", darkText)
	}
	if !near(lightText, theme.LightTheme().Color(theme.ColorNameForeground, theme.VariantLight), 2) {
		t.Errorf("light text colour %v is not the theme foreground", lightText)
	}
}

func TestChartGolden(t *testing.T) {
	a := test.NewTempApp(t)
	a.Settings().SetTheme(theme.DarkTheme())
	c := New()
	c.SetData(latencyLines(t0), Options{Unit: "s", Decimals: -1, Location: time.UTC, Thresholds: []Threshold{{Value: 0.5}}})
	win, _ := show(t, c, 480, 240)
	test.AssertImageMatches(t, "chart_dark.png", win.Canvas().Capture())
}
