package chart

import (
	"math"
	"time"
)

// maxTicks bounds every tick loop, whatever the data: a degenerate range must never turn
// into millions of labels.
const maxTicks = 60

// yScale maps values to the vertical axis: [lo, hi] with ticks every step from first.
type yScale struct {
	lo, hi float64
	ticks  []float64
}

// frac is where v sits between lo (0) and hi (1). Halving first keeps the arithmetic
// finite for ranges near ±MaxFloat64.
func (s yScale) frac(v float64) float64 {
	den := s.hi/2 - s.lo/2
	if den <= 0 || math.IsNaN(den) {
		return 0.5
	}
	return (v/2 - s.lo/2) / den
}

// niceStep rounds raw to the nearest 1, 2 or 5 × 10^n (geometrically), so the tick
// count stays within about 40% of the target.
func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	exp := math.Floor(math.Log10(raw))
	pow := math.Pow(10, exp)
	f := raw / pow
	var nf float64
	switch {
	case f < math.Sqrt2:
		nf = 1
	case f < math.Sqrt(10):
		nf = 2
	case f < math.Sqrt(50):
		nf = 5
	default:
		nf = 10
	}
	if s := nf * pow; s > 0 && !math.IsInf(s, 0) {
		return s
	}
	return raw
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// niceYScale chooses the value axis. dataLo/dataHi are the finite extremes of the drawn
// data (has=false when there are none); minOpt/maxOpt pin an end when set and finite.
// Unpinned ends are rounded out to a tick.
func niceYScale(dataLo, dataHi float64, has bool, thresholds []Threshold, minOpt, maxOpt *float64, targetTicks int) yScale {
	lo, hi := dataLo, dataHi
	if !has {
		lo, hi = math.Inf(1), math.Inf(-1)
	}
	for _, t := range thresholds {
		if finite(t.Value) {
			lo = math.Min(lo, t.Value)
			hi = math.Max(hi, t.Value)
		}
	}
	if lo > hi { // nothing at all
		lo, hi = 0, 1
	}
	pinLo := minOpt != nil && finite(*minOpt)
	pinHi := maxOpt != nil && finite(*maxOpt)
	if pinLo {
		lo = *minOpt
	}
	if pinHi {
		hi = *maxOpt
	}
	switch {
	case pinLo && pinHi && lo > hi:
		lo, hi = hi, lo
	case lo > hi && pinLo: // pinned above all the data
		hi = lo
	case lo > hi:
		lo = hi
	}
	if hi == lo {
		switch {
		case lo > 0 && !pinLo:
			lo = 0
		case lo < 0 && !pinHi:
			hi = 0
		case lo == 0 && !pinHi:
			hi = 1
		default:
			d := math.Max(math.Abs(lo)*0.1, 1e-300)
			if pinLo && !pinHi {
				hi += d
			} else {
				lo -= d
			}
		}
		if hi == lo { // d lost in rounding at huge magnitudes
			hi = math.Nextafter(hi, math.Inf(1))
		}
	}
	// A zero baseline for data that starts near zero, which is what an operator
	// expects of latencies, rates and counts (and the mirror for negative data).
	if !pinLo && lo > 0 && lo < hi*0.5 {
		lo = 0
	}
	if !pinHi && hi < 0 && hi > lo*0.5 {
		hi = 0
	}
	// Headroom only where the data itself reaches the edge: a pinned end, a threshold,
	// zero or an invented range needs none.
	headHi := has && !pinHi && hi == dataHi && hi != 0
	headLo := has && !pinLo && lo == dataLo && lo != 0
	if targetTicks < 2 {
		targetTicks = 2
	}
	half := hi/2 - lo/2 // half the span: finite even for ±MaxFloat64
	if headHi {
		hi += math.Min(half*0.1, math.MaxFloat64-math.Abs(hi))
	}
	if headLo {
		lo -= math.Min(half*0.1, math.MaxFloat64-math.Abs(lo))
	}
	step := niceStep(hi/float64(targetTicks) - lo/float64(targetTicks))
	if !pinLo {
		if l := math.Floor(lo/step) * step; finite(l) {
			lo = l
		}
	}
	if !pinHi {
		if h := math.Ceil(hi/step) * step; finite(h) {
			hi = h
		}
	}
	s := yScale{lo: lo, hi: hi}
	first := math.Ceil(lo/step) * step
	if !finite(first) {
		first = lo
	}
	eps := step * 1e-9
	for i := 0; i < maxTicks; i++ {
		v := first + float64(i)*step
		if v > hi+eps || !finite(v) {
			break
		}
		if math.Abs(v) < eps {
			v = 0 // 1e-17 from float steps would print as a tiny number
		}
		if len(s.ticks) > 0 && v <= s.ticks[len(s.ticks)-1] {
			break // step below float resolution at this magnitude
		}
		s.ticks = append(s.ticks, v)
	}
	return s
}

// timeSteps are the candidate intervals of the time axis, smallest first.
var timeSteps = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 30 * 24 * time.Hour,
	91 * 24 * time.Hour, 182 * 24 * time.Hour, 365 * 24 * time.Hour,
}

const day = 24 * time.Hour

// timeTick is one labelled instant on the time axis.
type timeTick struct {
	t     time.Time
	label string
}

// niceTimeTicks returns ticks at round wall-clock instants in loc, at most maxCount of
// them, between start and end inclusive. Sub-day steps fall on multiples of the step
// since local midnight (so 15m ticks are at :00, :15, …); longer steps on local midnights.
func niceTimeTicks(start, end time.Time, loc *time.Location, maxCount int) []timeTick {
	if !end.After(start) || maxCount < 1 {
		return nil
	}
	span := end.Sub(start)
	step := timeSteps[len(timeSteps)-1]
	for _, s := range timeSteps {
		if span/s+1 <= time.Duration(maxCount) {
			step = s
			break
		}
	}
	for span/step+1 > time.Duration(maxCount) { // spans of decades
		step *= 2
	}
	ls := start.In(loc)
	var ticks []timeTick
	add := func(t time.Time) {
		label := t.Format("15:04")
		switch {
		case step >= 91*day:
			label = t.Format("2006-01-02")
		case step >= day:
			label = t.Format("Jan 2")
		case step < time.Minute:
			label = t.Format("15:04:05")
		case t.Hour() == 0 && t.Minute() == 0:
			label = t.Format("Jan 2") // the day changes here: say which day
		}
		ticks = append(ticks, timeTick{t: t, label: label})
	}
	if step >= day {
		// Whole days, counted on the local calendar so DST days do not shift ticks.
		days := int64(step / day)
		dayNum := time.Date(ls.Year(), ls.Month(), ls.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400
		k := floorDiv(dayNum, days) * days
		for i := int64(0); i < maxTicks && len(ticks) < maxCount+1; i++ {
			t := time.Date(1970, 1, 1+int(k+i*days), 0, 0, 0, 0, loc)
			if t.Before(start) {
				continue
			}
			if t.After(end) {
				break
			}
			add(t)
		}
		return ticks
	}
	// Wall-clock seconds since local midnight; time.Date normalises the overflow into
	// later days and across DST changes.
	secs := int64(step / time.Second)
	wall := int64(ls.Hour()*3600 + ls.Minute()*60 + ls.Second())
	k := wall / secs
	for i := int64(0); i < maxTicks && len(ticks) < maxCount+1; i++ {
		t := time.Date(ls.Year(), ls.Month(), ls.Day(), 0, 0, int((k+i)*secs), 0, loc)
		if t.Before(start) {
			continue
		}
		if t.After(end) {
			break
		}
		add(t)
	}
	return ticks
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
