package chart

import (
	"image/color"
	"math"
	"sort"
	"time"

	"github.com/opscockpit/opscockpit/datasource"
)

// maxDrawnLines caps how many series one chart draws and lists. A cardinality blow-up
// (10k series) is still shown, as the top lines by peak plus "+N more" (QUALITY M7).
const maxDrawnLines = 50

// palette holds 12 line colours: Okabe–Ito and Paul Tol hues moved to a middle
// lightness so each has at least 3:1 contrast on both the dark (#171718) and the light
// (#ffffff) Fyne background. The first six are the most distinct under the common
// colour-vision deficiencies; the legend and crosshair name every line anyway.
var palette = [...]color.NRGBA{
	{0x3a, 0x86, 0xd9, 0xff}, // blue
	{0xe0, 0x7a, 0x10, 0xff}, // orange
	{0x1a, 0x9e, 0x8a, 0xff}, // teal
	{0xe0, 0x4c, 0x8a, 0xff}, // pink
	{0xa6, 0x5b, 0xc2, 0xff}, // purple
	{0xa8, 0x8f, 0x1c, 0xff}, // olive gold
	{0x2a, 0x9b, 0xd4, 0xff}, // sky
	{0xd9, 0x53, 0x1e, 0xff}, // vermillion
	{0x3c, 0x9a, 0x3c, 0xff}, // green
	{0x7a, 0x7a, 0xe6, 0xff}, // periwinkle
	{0xc2, 0x41, 0x7a, 0xff}, // raspberry
	{0x8c, 0x8c, 0x8c, 0xff}, // grey
}

// lineColor is the colour of the i-th drawn line. Drawn lines keep input order, so
// below the cap a line's colour is fixed by its position in the input.
func lineColor(i int) color.NRGBA { return palette[i%len(palette)] }

// series is one drawn line with what the legend and crosshair need precomputed.
type series struct {
	index   int // position in the input
	name    string
	samples []datasource.Sample
	color   color.NRGBA
	// last is the newest non-NaN value; lo/hi the extremes of the non-NaN values (±Inf
	// included, so the legend says "+Inf" when the chart pins a line to the edge).
	last, lo, hi float64
	sorted       bool // samples in time order: the crosshair may binary-search
}

// dataset is what SetData derives from its input once, so frames only draw.
type dataset struct {
	series []series // drawn lines, in input order
	hidden int      // lines not drawn because of maxDrawnLines
	// finite value range of the drawn lines
	lo, hi  float64
	hasVals bool
	// any non-NaN value at all (a line of only +Inf is still drawn, at the edge)
	hasPoints bool
	// time range of the drawn lines' samples
	t0, t1   time.Time
	hasTimes bool
}

// prepare selects the lines to draw and precomputes their statistics: one pass over
// every sample. Beyond limit lines it keeps those with the highest peaks.
func prepare(lines []Line, limit int) dataset {
	ds := dataset{lo: math.Inf(1), hi: math.Inf(-1)}
	keep := make([]int, 0, min(len(lines), limit))
	if len(lines) <= limit {
		for i := range lines {
			keep = append(keep, i)
		}
	} else {
		peaks := make([]float64, len(lines))
		order := make([]int, len(lines))
		for i, l := range lines {
			peaks[i] = math.Inf(-1)
			for _, s := range l.Samples {
				if s.V > peaks[i] { // false for NaN
					peaks[i] = s.V
				}
			}
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return peaks[order[a]] > peaks[order[b]] })
		keep = append(keep, order[:limit]...)
		sort.Ints(keep)
		ds.hidden = len(lines) - limit
	}
	ds.series = make([]series, 0, len(keep))
	for _, i := range keep {
		l := lines[i]
		s := series{index: i, name: l.Name, samples: l.Samples, color: lineColor(len(ds.series)),
			last: math.NaN(), lo: math.Inf(1), hi: math.Inf(-1), sorted: true}
		var lastT time.Time
		for j, smp := range l.Samples {
			if j > 0 && smp.T.Before(l.Samples[j-1].T) {
				s.sorted = false
			}
			v := smp.V
			if math.IsNaN(v) {
				continue
			}
			if math.IsNaN(s.last) || !smp.T.Before(lastT) {
				s.last, lastT = v, smp.T
			}
			ds.hasPoints = true
			// v is not NaN here: plain comparisons (a zero's sign is not shown).
			if v < s.lo {
				s.lo = v
			}
			if v > s.hi {
				s.hi = v
			}
			if finite(v) {
				ds.hasVals = true
				if v < ds.lo {
					ds.lo = v
				}
				if v > ds.hi {
					ds.hi = v
				}
			}
		}
		if s.lo > s.hi {
			s.lo, s.hi = math.NaN(), math.NaN()
		}
		ds.addTimes(l.Samples, s.sorted)
		ds.series = append(ds.series, s)
	}
	return ds
}

// addTimes widens the time range to the samples': their ends when they are in order,
// else every one of them (one comparison per sample on the common path, not three).
func (ds *dataset) addTimes(samples []datasource.Sample, sorted bool) {
	add := func(t time.Time) {
		if !ds.hasTimes {
			ds.t0, ds.t1, ds.hasTimes = t, t, true
		} else if t.Before(ds.t0) {
			ds.t0 = t
		} else if t.After(ds.t1) {
			ds.t1 = t
		}
	}
	if len(samples) == 0 {
		return
	}
	if sorted {
		add(samples[0].T)
		add(samples[len(samples)-1].T)
		return
	}
	for _, smp := range samples {
		add(smp.T)
	}
}
