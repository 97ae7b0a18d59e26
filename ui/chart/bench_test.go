package chart

import (
	"bytes"
	"image"
	"image/draw"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"github.com/go-text/render"
	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/shaping"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	vgdraw "gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/opscockpit/opscockpit/datasource"
)

// benchLines is the P4 load: 12 noisy random walks of 1,200 points each; the seed
// varies the values (and so the axis and legend labels) but not their shape.
func benchLines(seed uint64) []Line {
	rng := rand.New(rand.NewPCG(4, seed))
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	lines := make([]Line, 12)
	for i := range lines {
		s := make([]datasource.Sample, 1200)
		v := 50 + 10*float64(i)
		for j := range s {
			v += rng.NormFloat64() * 3
			s[j] = datasource.Sample{T: start.Add(time.Duration(j) * 3 * time.Second), V: v}
		}
		lines[i] = Line{Name: "instance-" + string(rune('a'+i)) + ":9100", Samples: s}
	}
	return lines
}

var benchOpts = Options{Unit: "reqps", Decimals: -1, Location: time.UTC, Thresholds: []Threshold{{Value: 100}}}

// p4Panel is our side of P4: a real Chart in a 1,200×400 test window (dark theme,
// scale 1). render does what happens on a data change, all of it on the calling
// goroutine: SetData (one pass over the samples, the layout with every label measured
// and formatted), then the raster generator, which draws grid, threshold, 12
// anti-aliased lines, legend swatches and all the axis, threshold and legend labels
// into the widget's RGBA image. Labels the raster leaves to a canvas.Text (names that
// need a fallback font; none in this data) are rasterised and composited into the same
// image by fyneText, as Fyne's painters would. The result is the whole panel the user
// sees, on a transparent background (the window's background is Fyne's).
//
// The image is taken from the generator rather than from the window's Capture: the
// test/software canvas composites through image/draw's generic NRGBA paths (a full
// 1,200×400 background fill, the raster converted to NRGBA, then the whole canvas
// blended again), about 14 ms here that belong to Fyne's test painter, not to the
// chart, and that the GL driver never spends (it uploads the raster as a texture).
// TestP4PanelMatchesCapture checks that this image is the picture Capture produces.
type p4Panel struct {
	c    *Chart
	r    *chartRenderer
	win  fyne.Window
	text fyneText
}

func newP4Panel(tb testing.TB, lines []Line) *p4Panel {
	c := New()
	c.SetData(lines, benchOpts)
	win := test.NewTempWindow(tb, c)
	win.SetPadded(false)
	win.Resize(fyne.NewSize(1200, 400))
	return &p4Panel{c: c, r: test.WidgetRenderer(c).(*chartRenderer), win: win}
}

func (p *p4Panel) render(lines []Line) *image.RGBA {
	p.c.SetData(lines, benchOpts)
	img := p.r.generate(1200, 400).(*image.RGBA)
	p.canvasTexts(img)
	return img
}

// canvasTexts draws the labels left to canvas.Text objects.
func (p *p4Panel) canvasTexts(img *image.RGBA) {
	for _, t := range p.r.texts {
		if t.Visible() {
			p.text.draw(img, t, 1)
		}
	}
}

// gonumPanel is the P4 baseline: gonum/plot drawing the same 12 × 1,200 points as line
// plots 2 px wide (1.5 pt at 96 dpi, as ours), with both axes (time ticks on x), a grid,
// the dashed threshold and a legend naming every line, into a 1,200×400 vgimg canvas.
// Like ours, it starts from the samples: building the plot is part of drawing it.
func gonumPanel(tb testing.TB, lines []Line, threshold float64) image.Image {
	p := plot.New()
	p.X.Tick.Marker = plot.TimeTicks{Format: "15:04", Time: plot.UnixTimeIn(time.UTC)}
	p.Add(plotter.NewGrid())
	var t0, t1 float64
	for i, l := range lines {
		xys := make(plotter.XYs, len(l.Samples))
		for j, s := range l.Samples {
			xys[j] = plotter.XY{X: float64(s.T.UnixNano()) / 1e9, Y: s.V}
		}
		t0, t1 = xys[0].X, xys[len(xys)-1].X
		ln, err := plotter.NewLine(xys)
		if err != nil {
			tb.Fatal(err)
		}
		ln.Color = lineColor(i)
		ln.Width = vg.Points(1.5)
		p.Add(ln)
		p.Legend.Add(l.Name, ln)
	}
	th, err := plotter.NewLine(plotter.XYs{{X: t0, Y: threshold}, {X: t1, Y: threshold}})
	if err != nil {
		tb.Fatal(err)
	}
	th.Color = palette[1]
	th.Width = vg.Points(1.5)
	th.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
	p.Add(th)
	c := vgimg.NewWith(vgimg.UseWH(1200*vg.Inch/96, 400*vg.Inch/96), vgimg.UseDPI(96))
	p.Draw(vgdraw.New(c))
	return c.Image()
}

// BenchmarkP4Chart is QUALITY P4: a full panel (axes, grid, labels, legend, 12
// anti-aliased series × 1,200 points) into a 1,200×400 image, ours (p4Panel.render)
// against gonum/plot drawing the same data (gonumPanel), both timed in every
// iteration and neither encoding a PNG. Every iteration is a data change: a new set of
// random walks (made outside the timing), so values, ticks and legend texts change
// as on a live refresh and no per-label result can be reused. Both sides run once
// before the timing so that one-off font parsing is not counted; the chart's glyph
// cache is then warm, as it is for any chart that has drawn a frame.
func BenchmarkP4Chart(b *testing.B) {
	a := test.NewTempApp(b)
	a.Settings().SetTheme(theme.DarkTheme())
	p := newP4Panel(b, benchLines(0))
	p.render(benchLines(1))
	gonumPanel(b, benchLines(1), benchOpts.Thresholds[0].Value)
	var ours, base time.Duration
	seed := uint64(100)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		seed++
		lines := benchLines(seed)
		b.StartTimer()
		t := time.Now()
		p.render(lines)
		m := time.Now()
		gonumPanel(b, lines, benchOpts.Thresholds[0].Value)
		ours += m.Sub(t)
		base += time.Since(m)
	}
	n := float64(b.N)
	oursMs := float64(ours.Microseconds()) / 1000 / n
	baseMs := float64(base.Microseconds()) / 1000 / n
	b.ReportMetric(oursMs/baseMs, "ratio")
	b.ReportMetric(oursMs, "ms")
	b.ReportMetric(baseMs, "baseline-ms")
}

// BenchmarkP4Parts splits our side of P4 (see BenchmarkP4Chart): data (SetData:
// samples, layout, labels measured), frame (grid, threshold, lines, swatches), labels
// (drawn into the raster), and labels again with an empty glyph cache, as for the
// first frame a chart draws.
func BenchmarkP4Parts(b *testing.B) {
	a := test.NewTempApp(b)
	a.Settings().SetTheme(theme.DarkTheme())
	p := newP4Panel(b, benchLines(0))
	p.render(benchLines(1))
	r := p.r
	var data, frame, labels, cold time.Duration
	seed := uint64(100)
	for b.Loop() {
		b.StopTimer()
		seed++
		lines := benchLines(seed)
		b.StartTimer()
		t0 := time.Now()
		p.c.SetData(lines, benchOpts)
		t1 := time.Now()
		drawFrame(r.img, &r.st, &r.lay, &r.c.data, &r.c.opts, r.themed.frame, 1)
		t2 := time.Now()
		r.drawLabels(r.img, 1)
		p.canvasTexts(r.img)
		t3 := time.Now()
		warm := r.labels
		r.labels = labelPainter{}
		r.labels.setFont(fyne.TextStyle{}, a.Settings().Theme().Font(fyne.TextStyle{}))
		r.labels.setFont(fyne.TextStyle{Bold: true}, a.Settings().Theme().Font(fyne.TextStyle{Bold: true}))
		r.drawLabels(r.img, 1)
		t4 := time.Now()
		r.labels = warm
		data, frame, labels, cold = data+t1.Sub(t0), frame+t2.Sub(t1), labels+t3.Sub(t2), cold+t4.Sub(t3)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(ms(data), "data-ms")
	b.ReportMetric(ms(frame), "frame-ms")
	b.ReportMetric(ms(labels), "labels-ms")
	b.ReportMetric(ms(cold), "labels-cold-ms")
}

// fyneText rasterises a canvas.Text as Fyne's painters do (internal/painter.DrawString
// behind the GL text texture and the software painter's drawText): shape with
// go-text's HarfBuzz shaper in the theme's font for the style, fill the glyph outlines
// with go-text/render into an image of the text's MinSize (plus Fyne's one-pixel
// descender pad), then composite that image at the text's position. Fyne reaches the
// same faces through its font cache; the labels it is used for here need no fallback.
type fyneText struct {
	shaper shaping.HarfbuzzShaper
	seg    shaping.Segmenter
	faces  map[fyne.TextStyle]*font.Face
}

func (ft *fyneText) face(style fyne.TextStyle) *font.Face {
	if f, ok := ft.faces[style]; ok {
		return f
	}
	if ft.faces == nil {
		ft.faces = map[fyne.TextStyle]*font.Face{}
	}
	res := fyne.CurrentApp().Settings().Theme().Font(style)
	f, err := font.ParseTTF(bytes.NewReader(res.Content()))
	if err != nil {
		panic(err)
	}
	ft.faces[style] = f
	return f
}

func (ft *fyneText) draw(dst *image.RGBA, t *canvas.Text, scale float32) {
	bounds := t.MinSize()
	w := int(math.Ceil(float64(bounds.Width * scale)))
	h := int(math.Ceil(float64((bounds.Height + 1) * scale)))
	txt := image.NewRGBA(image.Rect(0, 0, w, h))

	fm := oneFace{ft.face(t.TextStyle)}
	size := fixed.Int26_6(float64(t.TextSize) * 64)
	runes := []rune(t.Text)
	in := shaping.Input{Text: runes, RunEnd: len(runes), Direction: di.DirectionLTR, Face: fm.f, Size: size}
	var ascent fixed.Int26_6
	type run struct {
		out shaping.Output
		x   float32
	}
	var runs []run
	x := float32(0)
	for _, part := range ft.seg.Split(in, fm) {
		out := ft.shaper.Shape(part)
		ascent = max(ascent, out.LineBounds.Ascent)
		runs = append(runs, run{out, x})
		x += float32(out.Advance) / 64 * scale
	}
	y := int(math.Ceil(float64(float32(ascent) / 64 * scale)))
	r := render.Renderer{FontSize: t.TextSize, PixScale: scale, Color: t.Color}
	for _, rn := range runs {
		r.DrawShapedRunAt(rn.out, txt, int(rn.x), y)
	}

	pos := t.Position()
	px := int(math.Ceil(float64(pos.X * scale)))
	py := int(math.Ceil(float64(pos.Y * scale)))
	draw.Draw(dst, image.Rect(px, py, px+w, py+h), txt, image.Point{}, draw.Over)
}

// BenchmarkStrokeVector strokes the same decimated polylines as thin quads with
// golang.org/x/image/vector, the alternative the chart was measured against: its cost
// is per pixel of the plot per line, where the chart's own stroker's is per pixel of ink.
func BenchmarkStrokeVector(b *testing.B) {
	test.NewTempApp(b)
	lines := benchLines(4)
	opts := Options{Unit: "reqps", Decimals: -1, Location: time.UTC}
	ds := prepare(lines, maxDrawnLines)
	lay := computeLayout(&ds, &opts, fyne.NewSize(1200, 400), 14, 4, fyne.MeasureText)
	plot := lay.plotPx(1)
	img := image.NewRGBA(image.Rect(0, 0, 1200, 400))
	var z vector.Rasterizer
	start := time.Now()
	for b.Loop() {
		clear(img.Pix)
		for i := range ds.series {
			pts := polyline(&ds.series[i], plot, &lay)
			z.Reset(plot.Dx(), plot.Dy())
			for j := 1; j < len(pts); j++ {
				quad(&z, pts[j-1][0]-float32(plot.Min.X), pts[j-1][1]-float32(plot.Min.Y),
					pts[j][0]-float32(plot.Min.X), pts[j][1]-float32(plot.Min.Y), 1)
			}
			z.Draw(img, plot, image.NewUniform(ds.series[i].color), image.Point{})
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms")
}

// BenchmarkStrokeOwn is BenchmarkStrokeVector's counterpart: the same polylines through
// the chart's stroker.
func BenchmarkStrokeOwn(b *testing.B) {
	test.NewTempApp(b)
	lines := benchLines(4)
	opts := Options{Unit: "reqps", Decimals: -1, Location: time.UTC}
	ds := prepare(lines, maxDrawnLines)
	lay := computeLayout(&ds, &opts, fyne.NewSize(1200, 400), 14, 4, fyne.MeasureText)
	plot := lay.plotPx(1)
	img := image.NewRGBA(image.Rect(0, 0, 1200, 400))
	var st stroker
	start := time.Now()
	for b.Loop() {
		clear(img.Pix)
		st.begin(1200, 400, plot)
		for i := range ds.series {
			pts := polyline(&ds.series[i], plot, &lay)
			for j := 1; j < len(pts); j++ {
				st.segment(pts[j-1][0], pts[j-1][1], pts[j][0], pts[j][1], 1)
			}
			st.composite(img, ds.series[i].color)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms")
}

// polyline is a plain one-vertex-per-sample path (the benchmark data has about one
// sample per column, so no decimation is needed for the comparison).
func polyline(s *series, plot image.Rectangle, lay *layout) [][2]float32 {
	pts := make([][2]float32, 0, len(s.samples))
	span := float64(lay.t1.Sub(lay.t0))
	for _, smp := range s.samples {
		x := float32(plot.Min.X) + float32(float64(smp.T.Sub(lay.t0))/span*float64(plot.Dx()))
		pts = append(pts, [2]float32{x, pxY(plot, lay.ys, smp.V)})
	}
	return pts
}

// quad adds segment (x0,y0)-(x1,y1) of half-width hw as a quadrilateral, always wound
// the same way so overlapping quads add up instead of cancelling.
func quad(z *vector.Rasterizer, x0, y0, x1, y1, hw float32) {
	dx, dy := x1-x0, y1-y0
	l := float32(math.Hypot(float64(dx), float64(dy)))
	if l == 0 {
		return
	}
	nx, ny := -dy/l*hw, dx/l*hw
	z.MoveTo(x0+nx, y0+ny)
	z.LineTo(x1+nx, y1+ny)
	z.LineTo(x1-nx, y1-ny)
	z.LineTo(x0-nx, y0-ny)
	z.ClosePath()
}
