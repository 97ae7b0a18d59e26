package chart

import (
	"image"
	"image/color"
	"math"
	"time"
)

// The raster is drawn here, without Fyne: grid, thresholds, lines and legend swatches
// into one *image.RGBA (the labels follow, from text.go). Lines are anti-aliased by
// exact area coverage across the stroke and point sampling along it ("thick Wu"),
// accumulated with max() into a per-line coverage mask so overlapping segments at
// joints do not darken, then composited once per line. Work is proportional to the
// ink, not to the image: see BenchmarkP4Chart and BenchmarkStrokeVector for the
// comparison with golang.org/x/image/vector. The stroker was tuned for P4 without
// changing a pixel: TestStrokerMatchesReference holds it to the original.

// stroker owns the scratch buffers reused from frame to frame.
type stroker struct {
	w, h   int
	mask   []uint8
	lo, hi []int32 // dirty rows of the mask per column; lo > hi when clean
	dirtyX [2]int  // dirty column range [min, max]
	clip   image.Rectangle
	cols   []bucket
}

// bucket is one pixel column of a decimated line: first, last, min and max of the
// samples falling in it, so spikes survive decimation. Buckets 0 and len-1 stand for
// the nearest samples outside the time window, so lines run on to the plot's edges.
type bucket struct {
	first, last, lo, hi float64
	x                   float64 // only for the two outside buckets
	t                   time.Duration
	has                 bool
	connect             bool // joined to the previous bucket with data (no NaN between)
}

func (s *stroker) begin(w, h int, clip image.Rectangle) {
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

func (s *stroker) markCol(x, y0, y1 int) {
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

// vspanIn covers column x, known to be inside the clip, between top and bot
// (continuous pixel coordinates).
func (s *stroker) vspanIn(x int, top, bot float32) {
	y0 := max(ifloor(top), s.clip.Min.Y)
	y1 := min(iceil(bot)-1, s.clip.Max.Y-1)
	if y0 > y1 {
		return
	}
	s.markCol(x, y0, y1)
	w := s.w
	idx := y0*w + x
	s.mask[idx] = max(s.mask[idx], spanAlpha(top, bot, float32(y0)))
	if y1 == y0 {
		return
	}
	// Rows strictly inside [top, bot) are covered fully.
	last := y1*w + x
	for idx += w; idx < last; idx += w {
		s.mask[idx] = 255
	}
	s.mask[last] = max(s.mask[last], spanAlpha(top, bot, float32(y1)))
}

// spanAlpha is how much of the pixel [f, f+1) the span [lo, hi) covers, as an alpha.
func spanAlpha(lo, hi, f float32) uint8 {
	// min and max spelled out: the builtins' NaN and signed-zero handling costs
	// instructions, and neither can occur here.
	top, bot := f+1, f
	if hi < top {
		top = hi
	}
	if lo > bot {
		bot = lo
	}
	cov := top - bot
	if cov >= 1 {
		return 255
	}
	return uint8(cov*255 + 0.5)
}

// vbar is segment for a vertical segment at x from y0 to y1 (y0 <= y1): every row of
// it is the same hspan, so each column's coverage is worked out once.
func (s *stroker) vbar(x, y0, y1, hw float32) {
	left, right := x-hw, x+hw
	if !(right > left) {
		return
	}
	r0 := max(iceil(y0-hw-0.5), s.clip.Min.Y)
	r1 := min(ifloor(y1+hw-0.5), s.clip.Max.Y-1)
	c0 := max(ifloor(left), s.clip.Min.X)
	c1 := min(iceil(right)-1, s.clip.Max.X-1)
	if r0 > r1 || c0 > c1 {
		return
	}
	for c := c0; c <= c1; c++ {
		a := spanAlpha(left, right, float32(c))
		s.markCol(c, r0, r1)
		for idx := r0*s.w + c; idx <= r1*s.w+c; idx += s.w {
			s.mask[idx] = max(s.mask[idx], a)
		}
	}
}

// segment strokes a line of half-width hw. Along the major axis each pixel centre is
// sampled; across it the stroke's cross-section (hw·√(1+slope²)) is covered exactly.
// Ends extend by hw, which closes the joints of a polyline.
func (s *stroker) segment(x0, y0, x1, y1, hw float32) {
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
		c0 := max(iceil(x0-hw-0.5), s.clip.Min.X)
		c1 := min(ifloor(x1+hw-0.5), s.clip.Max.X-1)
		for c := c0; c <= c1; c++ {
			t := float32(c) + 0.5
			if t < x0 {
				t = x0
			}
			if t > x1 {
				t = x1
			}
			yc := y0 + (t-x0)*slope
			if top, bot := yc-ht, yc+ht; bot > top {
				s.vspanIn(c, top, bot)
			}
		}
		return
	}
	if y0 > y1 {
		x0, y0, x1, y1 = x1, y1, x0, y0
	}
	if x0 == x1 {
		s.vbar(x0, y0, y1, hw)
		return
	}
	inv := (x1 - x0) / (y1 - y0)
	wt := hw * sqrt32(1+inv*inv)
	r0 := max(iceil(y0-hw-0.5), s.clip.Min.Y)
	r1 := min(ifloor(y1+hw-0.5), s.clip.Max.Y-1)
	// Each row is an hspan; the rows are marked dirty together afterwards, for every
	// column any of them touched (a superset is harmless: composite skips zeros).
	cmin, cmax := math.MaxInt, math.MinInt
	for r, base := r0, r0*s.w; r <= r1; r, base = r+1, base+s.w {
		t := float32(r) + 0.5
		if t < y0 {
			t = y0
		}
		if t > y1 {
			t = y1
		}
		xc := x0 + (t-y0)*inv
		left, right := xc-wt, xc+wt
		if !(right > left) {
			continue
		}
		c0 := max(ifloor(left), s.clip.Min.X)
		c1 := min(iceil(right)-1, s.clip.Max.X-1)
		if c0 > c1 {
			continue
		}
		cmin, cmax = min(cmin, c0), max(cmax, c1)
		row := s.mask[base : base+c1+1]
		row[c0] = max(row[c0], spanAlpha(left, right, float32(c0)))
		if c1 == c0 {
			continue
		}
		for c := c0 + 1; c < c1; c++ {
			row[c] = 255
		}
		row[c1] = max(row[c1], spanAlpha(left, right, float32(c1)))
	}
	for c := cmin; c <= cmax; c++ {
		s.markCol(c, r0, r1)
	}
}

// dot covers a disc, so a lone sample between gaps is still seen.
func (s *stroker) dot(cx, cy, r float32) {
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
			s.mask[idx] = max(s.mask[idx], a)
			s.markCol(x, y, y)
		}
	}
}

// composite blends the mask in colour c over dst and clears the mask's dirty spans.
func (s *stroker) composite(dst *image.RGBA, c color.NRGBA) {
	sa := uint32(c.A)
	sr, sg, sb := uint32(c.R)*sa, uint32(c.G)*sa, uint32(c.B)*sa // premultiplied ×255
	opaque := c.A == 255
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
			p := dst.Pix[off : off+4 : off+4]
			if opaque {
				blendOpaque(p, c, a)
			} else {
				blend(p, sr, sg, sb, sa, a)
			}
		}
	}
	s.dirtyX = [2]int{math.MaxInt32, -1}
}

// blendOpaque is blend for an opaque colour, in fewer operations: with sa = 255 every
// term of blend has a factor 255, and (255·X + 32512) / 65025 = (X + 127) / 255 for
// every X it can see (TestBlendOpaque checks all of them).
func blendOpaque(p []uint8, c color.NRGBA, a uint32) {
	if a == 255 {
		p[0], p[1], p[2], p[3] = c.R, c.G, c.B, 255
		return
	}
	inv := 255 - a
	p[0] = uint8((uint32(c.R)*a + uint32(p[0])*inv + 127) / 255)
	p[1] = uint8((uint32(c.G)*a + uint32(p[1])*inv + 127) / 255)
	p[2] = uint8((uint32(c.B)*a + uint32(p[2])*inv + 127) / 255)
	p[3] = uint8((255*a + uint32(p[3])*inv + 127) / 255)
}

// blend puts a premultiplied (×255) source with alpha sa at coverage a (0–255) over
// the premultiplied pixel p.
func blend(p []uint8, sr, sg, sb, sa, a uint32) {
	ea := sa * a // effective alpha ×255
	inv := 65025 - ea
	p[0] = uint8((sr*a + uint32(p[0])*inv + 32512) / 65025)
	p[1] = uint8((sg*a + uint32(p[1])*inv + 32512) / 65025)
	p[2] = uint8((sb*a + uint32(p[2])*inv + 32512) / 65025)
	p[3] = uint8((ea*255 + uint32(p[3])*inv + 32512) / 65025)
}

// fillRect blends c over r (no anti-aliasing: callers snap to pixels).
func fillRect(dst *image.RGBA, r image.Rectangle, c color.NRGBA) {
	r = r.Intersect(dst.Rect)
	if r.Empty() || c.A == 0 {
		return
	}
	sa := uint32(c.A)
	sr, sg, sb := uint32(c.R)*sa, uint32(c.G)*sa, uint32(c.B)*sa
	for y := r.Min.Y; y < r.Max.Y; y++ {
		off := dst.PixOffset(r.Min.X, y)
		for x := r.Min.X; x < r.Max.X; x, off = x+1, off+4 {
			if c.A == 255 {
				blendOpaque(dst.Pix[off:off+4:off+4], c, 255)
			} else {
				blend(dst.Pix[off:off+4:off+4], sr, sg, sb, sa, 255)
			}
		}
	}
}

// frameColors are the theme-derived colours of the raster.
type frameColors struct {
	grid, axis, warn, backing color.NRGBA
}

// drawFrame draws everything of the chart that is not text into img (whose size is the
// raster's in pixels) at the given canvas scale.
func drawFrame(img *image.RGBA, st *stroker, lay *layout, ds *dataset, opts *Options, col frameColors, scale float32) {
	clear(img.Pix)
	if lay.noData || scale <= 0 {
		return
	}
	w, h := img.Rect.Dx(), img.Rect.Dy()
	plot := lay.plotPx(scale).Intersect(img.Rect)
	if plot.Dx() < 2 || plot.Dy() < 2 {
		return
	}
	lw := max(1, int(scale+0.5)) // hairline: one device pixel per dp, snapped

	for _, v := range lay.ys.ticks {
		y := pxY(plot, lay.ys, v)
		r := int(y) - lw/2
		c := col.grid
		if v == 0 && lay.ys.lo < 0 {
			c = col.axis
		}
		fillRect(img, image.Rect(plot.Min.X, r, plot.Max.X, r+lw), c)
	}
	span := lay.t1.Sub(lay.t0)
	for _, tk := range lay.xTicks {
		x := plot.Min.X + int(float64(tk.t.Sub(lay.t0))/float64(span)*float64(plot.Dx()))
		fillRect(img, image.Rect(x-lw/2, plot.Min.Y, x-lw/2+lw, plot.Max.Y), col.grid)
	}
	fillRect(img, image.Rect(plot.Min.X, plot.Max.Y-lw, plot.Max.X, plot.Max.Y), col.axis)

	// Thresholds: dashed, 2 dp, above the grid and below the data.
	tw := max(1, int(2*scale+0.5))
	dash, gap := int(8*scale+0.5), int(5*scale+0.5)
	for _, t := range opts.Thresholds {
		if !finite(t.Value) || t.Value < lay.ys.lo || t.Value > lay.ys.hi {
			continue
		}
		c := col.warn
		if t.Color != nil {
			c = color.NRGBAModel.Convert(t.Color).(color.NRGBA)
		}
		y := int(pxY(plot, lay.ys, t.Value)) - tw/2
		for x := plot.Min.X; x < plot.Max.X; x += dash + gap {
			fillRect(img, image.Rect(x, y, min(x+dash, plot.Max.X), y+tw), c)
		}
	}

	hw := scale // 2 px wide at scale 1
	margin := int(ceil32(hw)) + 1
	st.begin(w, h, plot.Inset(-margin))
	for i := range ds.series {
		st.line(&ds.series[i], plot, lay, hw)
		st.composite(img, ds.series[i].color)
	}

	px := func(v float32) int { return int(v*scale + 0.5) }
	for _, b := range lay.boxes {
		fillRect(img, image.Rect(px(b.x), px(b.y), px(b.x+b.w), px(b.y+b.h)), col.backing)
	}
	for _, sw := range lay.swatches {
		fillRect(img, image.Rect(px(sw.x), px(sw.y), px(sw.x+sw.w), px(sw.y+sw.h)), ds.series[sw.series].color)
	}
}

// pxY is the continuous pixel row of value v: ±Inf pinned to the plot's edges, other
// values outside the scale pushed just beyond the clip so they leave the plot cleanly.
func pxY(plot image.Rectangle, ys yScale, v float64) float32 {
	top, bot := float64(plot.Min.Y), float64(plot.Max.Y)
	switch {
	case math.IsInf(v, 1):
		return float32(top)
	case math.IsInf(v, -1):
		return float32(bot)
	}
	y := bot - ys.frac(v)*(bot-top)
	const beyond = 16
	return float32(min(max(y, top-beyond), bot+beyond))
}

// yMap is pxY with its divisions hoisted out of the per-sample loop. It subtracts
// before scaling (as pxY does), so a narrow range around a huge value keeps precision.
type yMap struct{ halfLo, k, top, bot float64 }

func newYMap(plot image.Rectangle, ys yScale) yMap {
	top, bot := float64(plot.Min.Y), float64(plot.Max.Y)
	den := ys.hi/2 - ys.lo/2
	if den <= 0 || math.IsNaN(den) {
		return yMap{top: top, bot: bot, k: 0, halfLo: 0}
	}
	return yMap{halfLo: ys.lo / 2, k: (bot - top) / den, top: top, bot: bot}
}

func (m yMap) y(v float64) float32 {
	const beyond = 16
	switch {
	case v > math.MaxFloat64:
		return float32(m.top)
	case v < -math.MaxFloat64:
		return float32(m.bot)
	}
	y := m.bot - (v/2-m.halfLo)*m.k
	if !(y >= m.top-beyond) { // also NaN from overflow
		if y > m.bot { // NaN never is
			return float32(m.bot + beyond)
		}
		return float32(m.top - beyond)
	}
	if y > m.bot+beyond {
		return float32(m.bot + beyond)
	}
	return float32(y)
}

// line decimates one series to a bucket per pixel column and strokes it.
func (s *stroker) line(sr *series, plot image.Rectangle, lay *layout, hw float32) {
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
	t0 := lay.t0.Round(0) // wall clock only, as sinceWall wants
	prevValid := false
	for _, smp := range sr.samples {
		v := smp.V
		if math.IsNaN(v) {
			prevValid = false
			continue
		}
		d := sinceWall(smp.T, t0)
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
			// v is not NaN here, so plain comparisons do what math.Min and Max would
			// (but for the sign of a zero, which maps to the same row).
			if v < b.lo {
				b.lo = v
			}
			if v > b.hi {
				b.hi = v
			}
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

// sinceWall is t.Sub(u) for a u without a monotonic clock reading (so that Sub would
// use the wall clock too), without Sub's overflow check when the difference is well
// inside a Duration (about ±285 years), which is nearly always.
func sinceWall(t, u time.Time) time.Duration {
	if ds := t.Unix() - u.Unix(); ds > -9e9 && ds < 9e9 {
		return time.Duration(ds)*time.Second + time.Duration(t.Nanosecond()-u.Nanosecond())
	}
	return t.Sub(u)
}

func floor32(v float32) float32 { return float32(math.Floor(float64(v))) }

// ifloor is int(floor32(v)) without the float64 round trip, for |v| < 2^31.
func ifloor(v float32) int {
	i := int(v)
	if float32(i) > v {
		i--
	}
	return i
}

// iceil is int(ceil32(v)), for |v| < 2^31.
func iceil(v float32) int {
	i := int(v)
	if float32(i) < v {
		i++
	}
	return i
}
func ceil32(v float32) float32 { return float32(math.Ceil(float64(v))) }
func sqrt32(v float32) float32 { return float32(math.Sqrt(float64(v))) }
func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}
