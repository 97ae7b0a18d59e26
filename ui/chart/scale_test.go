package chart

import (
	"math"
	"testing"
	"time"
)

func ptr(v float64) *float64 { return &v }

func TestNiceYScale(t *testing.T) {
	tests := []struct {
		name           string
		lo, hi         float64
		has            bool
		thresholds     []Threshold
		min, max       *float64
		wantLo, wantHi float64
	}{
		{"latency gets a zero baseline", 0.2, 1.4, true, nil, nil, nil, 0, 1.6},
		{"threshold above the data is included", 0.2, 0.4, true, []Threshold{{Value: 1}}, nil, nil, 0, 1},
		{"far from zero keeps its range", 990, 1010, true, nil, nil, nil, 985, 1015},
		{"pinned ends are kept", 0.2, 1.4, true, nil, ptr(0.1), ptr(5), 0.1, 5},
		{"pinned min above the data", 1, 2, true, nil, ptr(50), nil, 50, 55},
		{"flat line", 3, 3, true, nil, nil, nil, 0, 3.5},
		{"flat zero", 0, 0, true, nil, nil, nil, 0, 1},
		{"no data", 0, 0, false, nil, nil, nil, 0, 1},
		{"NaN pins are ignored", 0, 10, true, nil, ptr(math.NaN()), ptr(math.Inf(1)), 0, 12},
		{"negative data gets a zero ceiling", -8, -3, true, nil, nil, nil, -10, 0},
		{"flat negative", -3, -3, true, nil, nil, nil, -3.5, 0},
		{"reversed pins are swapped", 0, 10, true, nil, ptr(20), ptr(5), 5, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := niceYScale(tt.lo, tt.hi, tt.has, tt.thresholds, tt.min, tt.max, 5)
			if math.Abs(s.lo-tt.wantLo) > 1e-9 || math.Abs(s.hi-tt.wantHi) > 1e-9 {
				t.Errorf("range = [%v, %v], want [%v, %v]", s.lo, s.hi, tt.wantLo, tt.wantHi)
			}
			if len(s.ticks) < 2 || len(s.ticks) > maxTicks {
				t.Errorf("got %d ticks: %v", len(s.ticks), s.ticks)
			}
			for i, v := range s.ticks {
				if v < s.lo-1e-9 || v > s.hi+1e-9 || (i > 0 && v <= s.ticks[i-1]) {
					t.Errorf("bad ticks %v in [%v, %v]", s.ticks, s.lo, s.hi)
					break
				}
			}
		})
	}
}

func TestNiceYScaleExtremes(t *testing.T) {
	for _, c := range [][2]float64{
		{-math.MaxFloat64, math.MaxFloat64},
		{1e15, 1e15 + 0.001},
		{-1e-300, 1e-300},
		{5e-324, 5e-324},
	} {
		s := niceYScale(c[0], c[1], true, nil, nil, nil, 5)
		if !finite(s.lo) || !finite(s.hi) || !(s.hi > s.lo) || len(s.ticks) > maxTicks {
			t.Errorf("niceYScale(%v, %v) = [%v, %v] with %d ticks", c[0], c[1], s.lo, s.hi, len(s.ticks))
		}
		if f := s.frac(c[1]); math.IsNaN(f) {
			t.Errorf("frac(%v) is NaN", c[1])
		}
	}
}

func TestNiceStep(t *testing.T) {
	for raw, want := range map[float64]float64{0.13: 0.1, 0.3: 0.2, 0.35: 0.5, 0.75: 1, 1: 1, 14: 10, 15: 20, 260: 200, 400: 500, 8e9: 1e10} {
		if got := niceStep(raw); math.Abs(got-want) > want*1e-12 {
			t.Errorf("niceStep(%v) = %v, want %v", raw, got, want)
		}
	}
}

func TestNiceTimeTicks(t *testing.T) {
	india := time.FixedZone("IST", 5*3600+30*60)
	base := time.Date(2026, 3, 14, 13, 2, 17, 0, time.UTC)
	tests := []struct {
		name      string
		start     time.Time
		span      time.Duration
		loc       *time.Location
		max       int
		wantStep  time.Duration
		wantFirst string
	}{
		{"two hours, 8 labels: 15m", base, 2 * time.Hour, time.UTC, 9, 15 * time.Minute, "13:15"},
		{"one hour, 12 labels: 5m", base, time.Hour, time.UTC, 13, 5 * time.Minute, "13:05"},
		{"local half-hour zone aligns to local clock", base, 6 * time.Hour, india, 7, time.Hour, "19:00"},
		{"a day crosses midnight with a date", base, 24 * time.Hour, time.UTC, 5, 6 * time.Hour, "18:00"},
		{"seconds", base, time.Minute, time.UTC, 7, 10 * time.Second, "13:02:20"},
		{"weeks", base, 30 * 24 * time.Hour, time.UTC, 6, 7 * 24 * time.Hour, "Mar 19"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ticks := niceTimeTicks(tt.start, tt.start.Add(tt.span), tt.loc, tt.max)
			if len(ticks) < 2 || len(ticks) > tt.max+1 {
				t.Fatalf("got %d ticks", len(ticks))
			}
			if got := ticks[1].t.Sub(ticks[0].t); got != tt.wantStep {
				t.Errorf("step = %v, want %v", got, tt.wantStep)
			}
			if ticks[0].label != tt.wantFirst {
				t.Errorf("first label = %q, want %q", ticks[0].label, tt.wantFirst)
			}
		})
	}
	midnight := niceTimeTicks(base, base.Add(24*time.Hour), time.UTC, 5)
	found := false
	for _, tk := range midnight {
		if tk.label == "Mar 15" {
			found = true
		}
	}
	if !found {
		t.Errorf("no date label at midnight: %v", midnight)
	}
	for _, span := range []time.Duration{0, -time.Hour, time.Duration(math.MaxInt64)} {
		if n := len(niceTimeTicks(base, base.Add(span), time.UTC, 10)); n > 11 {
			t.Errorf("span %v: %d ticks", span, n)
		}
	}
	if n := len(niceTimeTicks(time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), time.UTC, 10)); n > 11 {
		t.Errorf("year 1 to 9999: %d ticks", n)
	}
}
