package chart

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"golang.org/x/image/vector"

	"github.com/opscockpit/opscockpit/datasource"
)

// benchLines is the P4 load: 12 noisy random walks of 1,200 points each.
func benchLines() []Line {
	rng := rand.New(rand.NewPCG(4, 4))
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

var benchColors = frameColors{grid: withAlpha(image.White.C, 0x30), axis: withAlpha(image.White.C, 0x70), warn: palette[1], backing: withAlpha(image.Black.C, 0xc8)}

// BenchmarkP4Chart draws a full panel (layout with axes, ticks, legend text measured and
// formatted; grid, threshold, 12 anti-aliased series × 1,200 points and legend swatches
// rasterised) into a 1,200×400 image, the way the raster generator does on a data
// change. Fyne's own drawing of the ~60 label texts is not included. The gonum/plot
// baseline for the P4 ratio is not measured here yet, so only "ms" is reported.
func BenchmarkP4Chart(b *testing.B) {
	test.NewTempApp(b)
	lines := benchLines()
	opts := Options{Unit: "reqps", Decimals: -1, Location: time.UTC, Thresholds: []Threshold{{Value: 100}}}
	ds := prepare(lines, maxDrawnLines)
	size := fyne.NewSize(1200, 400)
	img := image.NewRGBA(image.Rect(0, 0, 1200, 400))
	var st stroker
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		lay := computeLayout(&ds, &opts, size, 14, 4, fyne.MeasureText)
		drawFrame(img, &st, &lay, &ds, &opts, benchColors, 1)
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms")
}

// BenchmarkStrokeVector strokes the same decimated polylines as thin quads with
// golang.org/x/image/vector, the alternative the chart was measured against: its cost
// is per pixel of the plot per line, where the chart's own stroker's is per pixel of ink.
func BenchmarkStrokeVector(b *testing.B) {
	test.NewTempApp(b)
	lines := benchLines()
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
	lines := benchLines()
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
