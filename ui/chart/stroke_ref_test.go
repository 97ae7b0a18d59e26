package chart

// This file keeps the stroker as it was before it was tuned for QUALITY P4 (commit
// fd953f0), as the reference the tuned one must match pixel for pixel.

import (
	"image"
	"image/color"
	"math"
)

// refStroker is the original stroker.
type refStroker struct {
	w, h   int
	mask   []uint8
	lo, hi []int32 // dirty rows of the mask per column; lo > hi when clean
	dirtyX [2]int  // dirty column range [min, max]
	clip   image.Rectangle
	cols   []bucket
}

func (s *refStroker) begin(w, h int, clip image.Rectangle) {
	if s.w != w || s.h != h {
		s.w, s.h = w, h
		s.mask = make([]uint8, w*h)
		s.lo = make([]int32, w)
		s.hi = make([]int32, w)
		for i := range s.lo {
			s.lo[i], s.hi[i] = math.MaxInt32, -1
		}
	}
	s.clip = clip.Intersect(image.Rect(0, 0, w, h))
	s.dirtyX = [2]int{math.MaxInt32, -1}
}

func (s *refStroker) markCol(x, y0, y1 int) {
	if int32(y0) < s.lo[x] {
		s.lo[x] = int32(y0)
	}
	if int32(y1) > s.hi[x] {
		s.hi[x] = int32(y1)
	}
	if x < s.dirtyX[0] {
		s.dirtyX[0] = x
	}
	if x > s.dirtyX[1] {
		s.dirtyX[1] = x
	}
}

func (s *refStroker) vspan(x int, top, bot float32) {
	if x < s.clip.Min.X || x >= s.clip.Max.X || !(bot > top) {
		return
	}
	y0 := int(floor32(top))
	y1 := int(ceil32(bot)) - 1
	if y0 < s.clip.Min.Y {
		y0 = s.clip.Min.Y
	}
	if y1 >= s.clip.Max.Y {
		y1 = s.clip.Max.Y - 1
	}
	if y0 > y1 {
		return
	}
	s.markCol(x, y0, y1)
	idx := y0*s.w + x
	for y := y0; y <= y1; y, idx = y+1, idx+s.w {
		fy := float32(y)
		cov := min(bot, fy+1) - max(top, fy)
		a := uint8(cov*255 + 0.5)
		if cov >= 1 {
			a = 255
		}
		if a > s.mask[idx] {
			s.mask[idx] = a
		}
	}
}

func (s *refStroker) hspan(y int, left, right float32) {
	if y < s.clip.Min.Y || y >= s.clip.Max.Y || !(right > left) {
		return
	}
	x0 := int(floor32(left))
	x1 := int(ceil32(right)) - 1
	if x0 < s.clip.Min.X {
		x0 = s.clip.Min.X
	}
	if x1 >= s.clip.Max.X {
		x1 = s.clip.Max.X - 1
	}
	idx := y*s.w + x0
	for x := x0; x <= x1; x, idx = x+1, idx+1 {
		fx := float32(x)
		cov := min(right, fx+1) - max(left, fx)
		a := uint8(cov*255 + 0.5)
		if cov >= 1 {
			a = 255
		}
		if a > s.mask[idx] {
			s.mask[idx] = a
		}
		s.markCol(x, y, y)
	}
}

func (s *refStroker) segment(x0, y0, x1, y1, hw float32) {
	dx, dy := x1-x0, y1-y0
	if abs32(dx) >= abs32(dy) {
		if x0 > x1 {
			x0, y0, x1, y1 = x1, y1, x0, y0
		}
		slope := float32(0)
		if dx != 0 {
			slope = (y1 - y0) / (x1 - x0)
		}
		ht := hw * sqrt32(1+slope*slope)
		c0 := int(ceil32(x0 - hw - 0.5))
		c1 := int(floor32(x1 + hw - 0.5))
		c0 = max(c0, s.clip.Min.X)
		c1 = min(c1, s.clip.Max.X-1)
		for c := c0; c <= c1; c++ {
			t := min(max(float32(c)+0.5, x0), x1)
			yc := y0 + (t-x0)*slope
			s.vspan(c, yc-ht, yc+ht)
		}
		return
	}
	if y0 > y1 {
		x0, y0, x1, y1 = x1, y1, x0, y0
	}
	inv := (x1 - x0) / (y1 - y0)
	wt := hw * sqrt32(1+inv*inv)
	r0 := int(ceil32(y0 - hw - 0.5))
	r1 := int(floor32(y1 + hw - 0.5))
	r0 = max(r0, s.clip.Min.Y)
	r1 = min(r1, s.clip.Max.Y-1)
	for r := r0; r <= r1; r++ {
		t := min(max(float32(r)+0.5, y0), y1)
		xc := x0 + (t-y0)*inv
		s.hspan(r, xc-wt, xc+wt)
	}
}

func (s *refStroker) dot(cx, cy, r float32) {
	x0 := max(int(floor32(cx-r)), s.clip.Min.X)
	x1 := min(int(ceil32(cx+r)), s.clip.Max.X-1)
	y0 := max(int(floor32(cy-r)), s.clip.Min.Y)
	y1 := min(int(ceil32(cy+r)), s.clip.Max.Y-1)
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			ddx, ddy := float32(x)+0.5-cx, float32(y)+0.5-cy
			cov := r + 0.5 - sqrt32(ddx*ddx+ddy*ddy)
			if cov <= 0 {
				continue
			}
			a := uint8(min(cov, 1)*255 + 0.5)
			idx := y*s.w + x
			if a > s.mask[idx] {
				s.mask[idx] = a
			}
			s.markCol(x, y, y)
		}
	}
}

func (s *refStroker) composite(dst *image.RGBA, c color.NRGBA) {
	sa := uint32(c.A)
	sr, sg, sb := uint32(c.R)*sa, uint32(c.G)*sa, uint32(c.B)*sa // premultiplied ×255
	for x := s.dirtyX[0]; x <= s.dirtyX[1]; x++ {
		lo, hi := int(s.lo[x]), int(s.hi[x])
		if lo > hi {
			continue
		}
		s.lo[x], s.hi[x] = math.MaxInt32, -1
		idx := lo*s.w + x
		off := dst.PixOffset(x, lo)
		for y := lo; y <= hi; y, idx, off = y+1, idx+s.w, off+dst.Stride {
			a := uint32(s.mask[idx])
			if a == 0 {
				continue
			}
			s.mask[idx] = 0
			blend(dst.Pix[off:off+4:off+4], sr, sg, sb, sa, a)
		}
	}
	s.dirtyX = [2]int{math.MaxInt32, -1}
}

func (s *refStroker) line(sr *series, plot image.Rectangle, lay *layout, hw float32) {
	pw := plot.Dx()
	if cap(s.cols) < pw+2 {
		s.cols = make([]bucket, pw+2)
	}
	cols := s.cols[:pw+2]
	clear(cols)
	span := float64(lay.t1.Sub(lay.t0))
	if span <= 0 {
		return
	}
	fpw := float64(pw)
	prevValid := false
	for _, smp := range sr.samples {
		v := smp.V
		if math.IsNaN(v) {
			prevValid = false
			continue
		}
		d := smp.T.Sub(lay.t0)
		fx := float64(d) / span * fpw
		var b *bucket
		switch {
		case fx < 0:
			b = &cols[0]
			if b.has && d < b.t {
				prevValid = true
				continue // keep the latest sample before the window
			}
			*b = bucket{first: v, last: v, lo: v, hi: v, has: true, t: d, x: max(fx, -1e4) + float64(plot.Min.X)}
			prevValid = true
			continue
		case fx > fpw:
			b = &cols[pw+1]
			if b.has && d > b.t {
				prevValid = true
				continue // keep the earliest sample after the window
			}
			*b = bucket{first: v, last: v, lo: v, hi: v, has: true, connect: prevValid, t: d, x: min(fx, fpw+1e4) + float64(plot.Min.X)}
			prevValid = true
			continue
		}
		c := int(fx)
		if c >= pw {
			c = pw - 1
		}
		b = &cols[c+1]
		if !b.has {
			*b = bucket{first: v, last: v, lo: v, hi: v, has: true, connect: prevValid}
		} else {
			b.lo = math.Min(b.lo, v)
			b.hi = math.Max(b.hi, v)
			b.last = v
		}
		prevValid = true
	}

	// Even stroke widths sit on pixel edges and odd ones on centres, so flat and
	// vertical runs come out crisp.
	xoff := float32(0.5)
	if int(2*hw+0.5)%2 == 0 {
		xoff = 0
	}
	ym := newYMap(plot, lay.ys)
	var px, py float32
	have := false
	lone := false // the previous bucket is a single point not yet joined to anything
	var lx, ly float32
	for i := range cols {
		b := &cols[i]
		if !b.has {
			continue
		}
		x := float32(plot.Min.X+i-1) + xoff
		if i == 0 || i == pw+1 {
			x = float32(b.x)
		}
		yf := ym.y(b.first)
		joined := b.connect && have
		if joined {
			s.segment(px, py, x, yf, hw)
		} else if lone {
			s.dot(lx, ly, hw*1.3)
		}
		if b.lo != b.hi {
			s.segment(x, ym.y(b.lo), x, ym.y(b.hi), hw)
		}
		lone = !joined && b.lo == b.hi
		lx, ly = x, yf
		px, py = x, ym.y(b.last)
		have = true
	}
	if lone {
		s.dot(lx, ly, hw*1.3)
	}
}

// drawLinesBoth draws every series of ds with the stroker and with the reference into
// two images of w×h at scale, as drawFrame does.
func drawLinesBoth(ds *dataset, lay *layout, w, h int, scale float32) (got, want *image.RGBA) {
	got = image.NewRGBA(image.Rect(0, 0, w, h))
	want = image.NewRGBA(got.Rect)
	plot := lay.plotPx(scale).Intersect(got.Rect)
	margin := int(ceil32(scale)) + 1
	var st stroker
	var ref refStroker
	st.begin(w, h, plot.Inset(-margin))
	ref.begin(w, h, plot.Inset(-margin))
	for i := range ds.series {
		st.line(&ds.series[i], plot, lay, scale)
		st.composite(got, ds.series[i].color)
		ref.line(&ds.series[i], plot, lay, scale)
		ref.composite(want, ds.series[i].color)
	}
	return got, want
}
