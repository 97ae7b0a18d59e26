package chart

import (
	"image"
	"image/color"
	"math"
	"testing"
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
