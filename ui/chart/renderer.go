package chart

import (
	"image"
	"image/color"
	"math"
	"sort"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"

	"github.com/opscockpit/opscockpit/datasource"
)

const maxTipRows = 12 // crosshair rows before "+N more"

// chartRenderer keeps one raster (lines, grid and the layout's labels), a pool of texts
// for the few labels the raster cannot draw and a small overlay for the crosshair.
// Hover only touches the overlay; the raster is regenerated when the data, the size or
// the theme change.
type chartRenderer struct {
	c      *Chart
	raster *canvas.Raster
	img    *image.RGBA
	st     stroker
	labels labelPainter

	lay     layout
	inImage []bool // per layout text: drawn into the raster, not by a canvas.Text
	texts   []*canvas.Text

	cross       *canvas.Rectangle
	tipBg       *canvas.Rectangle
	tipNames    []*canvas.Text // row 0 is the time
	tipValues   []*canvas.Text
	tipSwatches []*canvas.Rectangle
	markers     []*canvas.Circle

	objects []fyne.CanvasObject

	size   fyne.Size
	gen    uint64
	themed themeState
}

// themeState is everything taken from the theme; a change means a redraw.
type themeState struct {
	fg, bg, overlay, warn color.NRGBA // converted: any color.Color may not be comparable
	textSize, pad         float32
	frame                 frameColors
	font, boldFont        string // resource names of the theme's fonts
}

func newRenderer(c *Chart) *chartRenderer {
	r := &chartRenderer{c: c, gen: c.gen - 1}
	r.raster = canvas.NewRaster(r.generate)
	r.cross = canvas.NewRectangle(color.Transparent)
	r.tipBg = canvas.NewRectangle(color.Transparent)
	r.tipBg.CornerRadius = 4
	r.tipBg.StrokeWidth = 1
	r.cross.Hide()
	r.tipBg.Hide()
	r.rebuildObjects()
	r.Refresh()
	return r
}

func (r *chartRenderer) rebuildObjects() {
	objs := make([]fyne.CanvasObject, 0, 3+len(r.texts)+len(r.markers)+3*len(r.tipNames))
	objs = append(objs, r.raster)
	for _, t := range r.texts {
		objs = append(objs, t)
	}
	objs = append(objs, r.cross)
	for _, m := range r.markers {
		objs = append(objs, m)
	}
	objs = append(objs, r.tipBg)
	for _, s := range r.tipSwatches {
		objs = append(objs, s)
	}
	for i := range r.tipNames {
		objs = append(objs, r.tipNames[i], r.tipValues[i])
	}
	r.objects = objs
}

func (r *chartRenderer) Destroy() {}

func (r *chartRenderer) MinSize() fyne.Size { return fyne.NewSize(200, 120) }

func (r *chartRenderer) Objects() []fyne.CanvasObject { return r.objects }

func (r *chartRenderer) Layout(size fyne.Size) {
	if size == r.size {
		return
	}
	r.size = size
	r.relayout()
	r.raster.Move(fyne.Position{})
	r.raster.Resize(size) // regenerates when the size changed
	r.updateOverlay()
}

func (r *chartRenderer) Refresh() {
	themeChanged := r.readTheme()
	if themeChanged || r.gen != r.c.gen {
		r.gen = r.c.gen
		r.relayout()
		r.raster.Refresh()
	}
	r.updateOverlay()
}

// readTheme reads the colours and sizes in use and reports whether they changed.
func (r *chartRenderer) readTheme() bool {
	th := r.c.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	fg := nrgba(th.Color(theme.ColorNameForeground, v))
	ts := themeState{
		fg:       fg,
		bg:       nrgba(th.Color(theme.ColorNameBackground, v)),
		overlay:  nrgba(th.Color(theme.ColorNameOverlayBackground, v)),
		warn:     nrgba(th.Color(theme.ColorNameWarning, v)),
		textSize: th.Size(theme.SizeNameText),
		pad:      th.Size(theme.SizeNamePadding),
	}
	ts.frame = frameColors{grid: withAlpha(fg, 0x30), axis: withAlpha(fg, 0x70), warn: ts.warn,
		backing: withAlpha(ts.bg, 0xc8)}
	regular, bold := th.Font(fyne.TextStyle{}), th.Font(fyne.TextStyle{Bold: true})
	ts.font, ts.boldFont = resourceName(regular), resourceName(bold)
	if ts == r.themed {
		return false
	}
	r.themed = ts
	r.labels.setFont(fyne.TextStyle{}, regular)
	r.labels.setFont(fyne.TextStyle{Bold: true}, bold)
	return true
}

func resourceName(res fyne.Resource) string {
	if res == nil {
		return ""
	}
	return res.Name()
}

func nrgba(c color.Color) color.NRGBA { return color.NRGBAModel.Convert(c).(color.NRGBA) }

func withAlpha(c color.Color, a uint8) color.NRGBA {
	n := nrgba(c)
	n.A = uint8(uint32(n.A) * uint32(a) / 255)
	return n
}

// relayout recomputes the geometry and updates the pooled texts.
func (r *chartRenderer) relayout() {
	if r.size.Width <= 0 || r.size.Height <= 0 {
		r.lay = layout{}
		r.applyTexts()
		return
	}
	r.lay = computeLayout(&r.c.data, &r.c.opts, r.size, r.themed.textSize, r.themed.pad, r.labels.measure)
	r.applyTexts()
}

// look is the colour, style and size of a layout text.
func (r *chartRenderer) look(it *textItem) (color.NRGBA, fyne.TextStyle, float32) {
	col, style, size := r.themed.fg, fyne.TextStyle{}, r.themed.textSize
	switch it.role {
	case roleValue:
		style.Bold = true
	case roleDim:
		col = withAlpha(r.themed.fg, 0xa8)
	case roleNoData:
		col, size = withAlpha(r.themed.fg, 0xa8), size*1.3
	case roleThreshold:
		col = r.themed.warn
		if it.color != nil {
			col = nrgba(it.color)
		}
	}
	return col, style, size
}

// applyTexts decides which labels the raster draws and gives the others (those that
// need Fyne's fallback fonts or bidi) a pooled canvas.Text.
func (r *chartRenderer) applyTexts() {
	items := r.lay.texts
	r.inImage = r.inImage[:0]
	n := 0
	for i := range items {
		_, style, _ := r.look(&items[i])
		in := r.labels.canDraw(items[i].text, style)
		r.inImage = append(r.inImage, in)
		if !in {
			n++
		}
	}
	grown := false
	for len(r.texts) < n {
		r.texts = append(r.texts, canvas.NewText("", r.themed.fg))
		grown = true
	}
	next := 0
	for i := range items {
		if r.inImage[i] {
			continue
		}
		it := &items[i]
		t := r.texts[next]
		next++
		col, style, size := r.look(it)
		changed := t.Text != it.text || t.Color != col || t.TextStyle != style || t.TextSize != size || !t.Visible()
		t.Text, t.Color, t.TextStyle, t.TextSize = it.text, col, style, size
		t.Move(it.pos)
		t.Resize(t.MinSize())
		t.Show()
		if changed {
			t.Refresh()
		}
	}
	for _, t := range r.texts[next:] {
		if t.Visible() {
			t.Hide()
		}
	}
	if grown {
		r.rebuildObjects()
	}
}

// generate is the raster's generator: the whole chart but the crosshair (and any label
// left to a canvas.Text), at pixel size w×h.
func (r *chartRenderer) generate(w, h int) image.Image {
	if w <= 0 || h <= 0 {
		return image.NewRGBA(image.Rect(0, 0, 1, 1))
	}
	if r.img == nil || r.img.Rect.Dx() != w || r.img.Rect.Dy() != h {
		r.img = image.NewRGBA(image.Rect(0, 0, w, h))
	}
	if r.lay.size.Width <= 0 {
		clear(r.img.Pix)
		return r.img
	}
	scale := float32(w) / r.lay.size.Width
	drawFrame(r.img, &r.st, &r.lay, &r.c.data, &r.c.opts, r.themed.frame, scale)
	r.drawLabels(r.img, scale)
	return r.img
}

// drawLabels draws the layout's texts that applyTexts gave to the raster, each in the
// box Fyne would give a canvas.Text of it.
func (r *chartRenderer) drawLabels(img *image.RGBA, scale float32) {
	if scale <= 0 {
		return
	}
	for i := range r.lay.texts {
		if i >= len(r.inImage) || !r.inImage[i] {
			continue
		}
		it := &r.lay.texts[i]
		col, style, size := r.look(it)
		r.labels.draw(img, it.text, it.pos, r.labels.measure(it.text, size, style), style, size, scale, col)
	}
}

// updateOverlay places the crosshair, the point markers and the value box.
func (r *chartRenderer) updateOverlay() {
	l := &r.lay
	p := r.c.hoverPos
	if !r.c.hovering || l.noData || l.size.Width <= 0 ||
		p.X < l.plot.x || p.X > l.plot.x+l.plot.w || p.Y < 0 || p.Y > l.plot.y+l.plot.h {
		r.hideOverlay()
		return
	}
	t := l.timeAt(p.X)
	fg := r.themed.fg
	r.cross.FillColor = withAlpha(fg, 0x90)
	r.cross.Move(fyne.NewPos(p.X, l.plot.y))
	r.cross.Resize(fyne.NewSize(1, l.plot.h))
	r.cross.Show()
	r.cross.Refresh()

	loc := r.c.opts.Location
	if loc == nil {
		loc = time.Local
	}
	ds := &r.c.data
	nrows := min(len(ds.series), maxTipRows)
	more := len(ds.series) - nrows + ds.hidden
	rows := 1 + nrows // the time, then one per line
	if more > 0 {
		rows++
	}
	r.growTip(rows, nrows)

	colDur := time.Duration(float64(l.t1.Sub(l.t0)) / float64(max(l.plot.w, 1)))
	ts, pad := r.themed.textSize, r.themed.pad
	lineH := fyne.MeasureText("0", ts, fyne.TextStyle{}).Height
	const swW = 12
	// Only a changed text is refreshed (re-rasterised); moving the others is free, and
	// the crosshair's refresh repaints the frame.
	setText := func(tt *canvas.Text, s string, bold bool) {
		st := fyne.TextStyle{Bold: bold}
		if tt.Text == s && tt.TextStyle == st && tt.TextSize == ts && tt.Color == fg {
			return
		}
		tt.Text, tt.TextStyle, tt.TextSize, tt.Color = s, st, ts, fg
		tt.Refresh()
	}

	setText(r.tipNames[0], t.In(loc).Format("15:04:05"), true)
	setText(r.tipValues[0], "", false)
	for i := 0; i < nrows; i++ {
		s := &ds.series[i]
		smp, ok := nearest(s, t, colDur)
		v := math.NaN()
		if ok {
			v = smp.V
		}
		name := s.name
		if name == "" {
			name = "series " + strconv.Itoa(s.index+1)
		}
		setText(r.tipNames[1+i], clipRunes(name, 48), false)
		setText(r.tipValues[1+i], FormatValue(v, r.c.opts.Unit, r.c.opts.Decimals), true)
		r.tipSwatches[i].FillColor = s.color
		m := r.markers[i]
		if ok && !math.IsNaN(v) && !smp.T.Before(l.t0) && !smp.T.After(l.t1) {
			m.FillColor = s.color
			m.StrokeColor = r.themed.bg
			m.StrokeWidth = 2
			const rad = 5
			x, y := l.xAt(smp.T), min(max(l.yAt(v), l.plot.y), l.plot.y+l.plot.h)
			m.Move(fyne.NewPos(x-rad, y-rad))
			m.Resize(fyne.NewSize(2*rad, 2*rad))
			m.Show()
			m.Refresh()
		} else {
			m.Hide()
		}
	}
	if more > 0 {
		setText(r.tipNames[1+nrows], "+"+strconv.Itoa(more)+" more", false)
		setText(r.tipValues[1+nrows], "", false)
	}

	var nameW, valW float32
	for i := 0; i < rows; i++ {
		nameW = max(nameW, r.tipNames[i].MinSize().Width)
		valW = max(valW, r.tipValues[i].MinSize().Width)
	}
	boxW := 2*pad + swW + pad + nameW + 3*pad + valW + 2*pad
	boxH := float32(rows)*lineH + 2*pad
	// Beside the crosshair, on whichever side keeps it over the plot.
	bx := p.X + 16
	if bx+boxW > l.plot.x+l.plot.w {
		bx = p.X - 16 - boxW
	}
	bx = min(max(bx, 0), max(l.size.Width-boxW, 0))
	by := l.plot.y + pad
	r.tipBg.FillColor = r.themed.overlay
	r.tipBg.StrokeColor = withAlpha(fg, 0x50)
	r.tipBg.Move(fyne.NewPos(bx, by))
	r.tipBg.Resize(fyne.NewSize(boxW, boxH))
	r.tipBg.Show()
	r.tipBg.Refresh()
	for i := 0; i < rows; i++ {
		y := by + pad + float32(i)*lineH
		nt, vt := r.tipNames[i], r.tipValues[i]
		x := bx + 2*pad + swW + pad
		if i == 0 {
			x = bx + 2*pad
		}
		nt.Move(fyne.NewPos(x, y))
		nt.Resize(nt.MinSize())
		vs := vt.MinSize()
		vt.Move(fyne.NewPos(bx+boxW-2*pad-vs.Width, y))
		vt.Resize(vs)
		nt.Show()
		vt.Show()
		if i >= 1 && i <= nrows {
			sw := r.tipSwatches[i-1]
			sw.Move(fyne.NewPos(bx+2*pad, y+lineH/2-2))
			sw.Resize(fyne.NewSize(swW, 4))
			sw.Show()
			sw.Refresh()
		}
	}
	for i := rows; i < len(r.tipNames); i++ {
		r.tipNames[i].Hide()
		r.tipValues[i].Hide()
	}
	for i := nrows; i < len(r.tipSwatches); i++ {
		r.tipSwatches[i].Hide()
		r.markers[i].Hide()
	}
}

func (r *chartRenderer) growTip(texts, swatches int) {
	grown := false
	for len(r.tipNames) < texts {
		r.tipNames = append(r.tipNames, canvas.NewText("", r.themed.fg))
		r.tipValues = append(r.tipValues, canvas.NewText("", r.themed.fg))
		grown = true
	}
	for len(r.tipSwatches) < swatches {
		r.tipSwatches = append(r.tipSwatches, canvas.NewRectangle(color.Transparent))
		r.markers = append(r.markers, canvas.NewCircle(color.Transparent))
		grown = true
	}
	if grown {
		r.rebuildObjects()
	}
}

func (r *chartRenderer) hideOverlay() {
	if !r.cross.Visible() {
		return
	}
	r.cross.Hide()
	r.tipBg.Hide()
	for i := range r.tipNames {
		r.tipNames[i].Hide()
		r.tipValues[i].Hide()
	}
	for i := range r.tipSwatches {
		r.tipSwatches[i].Hide()
		r.markers[i].Hide()
	}
}

// nearest finds the sample closest to t, if one lies within the line's own step (or a
// couple of pixel columns) of it: beyond that the line has no value there.
func nearest(s *series, t time.Time, colDur time.Duration) (datasource.Sample, bool) {
	n := len(s.samples)
	if n == 0 {
		return datasource.Sample{}, false
	}
	best := -1
	if s.sorted {
		i := sort.Search(n, func(i int) bool { return !s.samples[i].T.Before(t) })
		best = i
		if i == n || (i > 0 && t.Sub(s.samples[i-1].T) <= s.samples[i].T.Sub(t)) {
			best = i - 1
		}
	} else {
		var bd time.Duration
		for i, smp := range s.samples {
			d := absDur(smp.T.Sub(t))
			if best < 0 || d < bd {
				best, bd = i, d
			}
		}
	}
	tol := 2 * colDur
	if n > 1 {
		step := absDur(s.samples[n-1].T.Sub(s.samples[0].T)) / time.Duration(n-1)
		tol = max(tol, step)
	}
	smp := s.samples[best]
	if absDur(smp.T.Sub(t)) > tol {
		return datasource.Sample{}, false
	}
	return smp, true
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
