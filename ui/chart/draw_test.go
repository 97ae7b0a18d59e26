package chart

import (
	"bytes"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

func TestYMapMatchesPxY(t *testing.T) {
	plot := image.Rect(40, 10, 640, 310)
	for _, ys := range []yScale{{lo: 0, hi: 1.6}, {lo: -10, hi: 0}, {lo: -math.MaxFloat64, hi: math.MaxFloat64}, {lo: 1e15, hi: 1e15 + 1}} {
		m := newYMap(plot, ys)
		for _, v := range []float64{ys.lo, ys.hi, ys.lo/2 + ys.hi/2, math.Inf(1), math.Inf(-1), 1e300, -1e300, 0.3} {
			a, b := m.y(v), pxY(plot, ys, v)
			if math.Abs(float64(a-b)) > 0.01 {
				t.Errorf("scale %v: y(%v) = %v, pxY = %v", ys, v, a, b)
			}
		}
	}
}

func TestStrokerCoverage(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 20, 20))
	var st stroker
	st.begin(20, 20, img.Rect)
	// A horizontal 2 px line centred on a pixel edge fills exactly two rows.
	st.segment(2, 10, 17, 10, 1)
	st.composite(img, color.NRGBA{255, 0, 0, 255})
	for y := 8; y <= 11; y++ {
		want := uint8(0)
		if y == 9 || y == 10 {
			want = 255
		}
		if got := img.RGBAAt(10, y).A; got != want {
			t.Errorf("row %d alpha = %d, want %d", y, got, want)
		}
	}
	// The mask is clean again for the next line.
	for i, a := range st.mask {
		if a != 0 {
			t.Fatalf("mask[%d] = %d after composite", i, a)
		}
	}
	// A diagonal covers about 2·√2 px per column, anti-aliased at its edges.
	clear(img.Pix)
	st.segment(2, 2, 17, 17, 1)
	st.composite(img, color.NRGBA{0, 0, 255, 255})
	var sum float64
	partial := false
	for y := 0; y < 20; y++ {
		a := img.RGBAAt(9, y).A
		sum += float64(a) / 255
		if a > 0 && a < 255 {
			partial = true
		}
	}
	if math.Abs(sum-2*math.Sqrt2) > 0.1 || !partial {
		t.Errorf("diagonal column coverage = %.2f (partial %v), want ≈ %.2f with soft edges", sum, partial, 2*math.Sqrt2)
	}
}

// TestStrokerMatchesReference holds the tuned stroker to the original's pixels: the
// P4 load, gaps, spikes, flat runs and isolated points at several scales, and random
// segments of every slope, some past the clip.
func TestStrokerMatchesReference(t *testing.T) {
	test.NewTempApp(t)
	spiky := flat(300, 5, func(i int) bool { return i%37 == 0 })
	for i := range spiky {
		if i%11 == 0 {
			spiky[i].V = 50
		}
	}
	sets := map[string][]Line{
		"p4":       benchLines(7),
		"latency":  latencyLines(t0),
		"spiky":    {{Name: "s", Samples: spiky}},
		"isolated": {{Name: "d", Samples: flat(9, 5, func(i int) bool { return i%2 == 1 })}},
		"dense":    {{Name: "d", Samples: benchLines(3)[0].Samples}, {Name: "e", Samples: flat(5000, 1, nil)}},
	}
	for name, lines := range sets {
		ds := prepare(lines, maxDrawnLines)
		opts := Options{Decimals: -1, Location: time.UTC}
		for _, sz := range []fyne.Size{{Width: 1200, Height: 400}, {Width: 300, Height: 150}} {
			lay := computeLayout(&ds, &opts, sz, 14, 4, fyne.MeasureText)
			for _, scale := range []float32{1, 1.5, 2} {
				got, want := drawLinesBoth(&ds, &lay, int(sz.Width*scale), int(sz.Height*scale), scale)
				if !bytes.Equal(got.Pix, want.Pix) {
					bad, worst := diffImages(got, want, 0)
					t.Errorf("%s %v ×%v: %d pixels differ from the reference (worst %d)", name, sz, scale, bad, worst)
				}
			}
		}
	}

	rng := rand.New(rand.NewPCG(1, 1))
	clip := image.Rect(10, 10, 190, 110)
	for i := 0; i < 2000; i++ {
		var st stroker
		var ref refStroker
		st.begin(200, 120, clip)
		ref.begin(200, 120, clip)
		c := func() float32 { return rng.Float32()*220 - 10 }
		x0, y0, x1, y1 := c(), c()/2, c(), c()/2
		switch i % 4 {
		case 1:
			x1 = x0 // vertical
		case 2:
			y1 = y0 // horizontal
		case 3:
			x1 = x0 + rng.Float32()*2 // steep
		}
		hw := []float32{1, 1.5, 2, 0.75}[i%4]
		st.segment(x0, y0, x1, y1, hw)
		ref.segment(x0, y0, x1, y1, hw)
		got := image.NewRGBA(image.Rect(0, 0, 200, 120))
		want := image.NewRGBA(got.Rect)
		st.composite(got, palette[0])
		ref.composite(want, palette[0])
		if !bytes.Equal(got.Pix, want.Pix) {
			t.Fatalf("segment (%v,%v)-(%v,%v) hw %v differs from the reference", x0, y0, x1, y1, hw)
		}
	}
}

// TestBlendOpaque checks blendOpaque against blend for every colour, coverage and
// destination value (each channel is computed alike, so one channel stands for all).
func TestBlendOpaque(t *testing.T) {
	for c := 0; c < 256; c++ {
		for a := 0; a < 256; a++ {
			for d := 0; d < 256; d++ {
				want := []uint8{uint8(d), uint8(d), uint8(d), uint8(d)}
				got := []uint8{uint8(d), uint8(d), uint8(d), uint8(d)}
				blend(want, uint32(c)*255, uint32(c)*255, uint32(c)*255, 255, uint32(a))
				blendOpaque(got, color.NRGBA{uint8(c), uint8(c), uint8(c), 255}, uint32(a))
				if !bytes.Equal(got, want) {
					t.Fatalf("colour %d, coverage %d over %d: %v, blend %v", c, a, d, got, want)
				}
			}
		}
	}
}

// TestSinceWall holds sinceWall to time.Time.Sub, near and far.
func TestSinceWall(t *testing.T) {
	base := time.Date(2026, 3, 14, 13, 0, 0, 0, time.UTC)
	times := []time.Time{base, base.Add(1), base.Add(-1), base.Add(1500 * time.Millisecond), base.Add(-1500 * time.Millisecond),
		base.Add(290 * 365 * 24 * time.Hour), base.AddDate(-300, 0, 0), base.AddDate(400, 0, 0), {}, time.Unix(0, 999999999),
		time.Unix(-1, 1), base.In(time.FixedZone("x", 3600)), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}
	for _, a := range times {
		for _, b := range times {
			if got, want := sinceWall(a, b), a.Sub(b); got != want {
				t.Errorf("sinceWall(%v, %v) = %v, Sub %v", a, b, got, want)
			}
		}
	}
}
