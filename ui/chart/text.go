package chart

import (
	"bytes"
	"image"
	"image/color"
	"math"
	"sync"

	"fyne.io/fyne/v2"
	"github.com/go-text/render"
	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/language"
	"github.com/go-text/typesetting/shaping"
	"golang.org/x/image/math/fixed"
)

// The chart's labels are drawn into its raster here rather than as canvas.Text objects:
// Fyne rasterises each text's glyph outlines afresh whenever a text changes, which for
// the ~70 labels of a full panel cost more than the whole raster (QUALITY P4). The
// drawing follows Fyne's own text painter (internal/painter.DrawString): the theme's
// font for the style, go-text's HarfBuzz shaping, outlines filled by go-text/render
// into a box of the text's measured size, the baseline and pen positions rounded the
// same way. What differs is only that each glyph's coverage is rendered once per size
// and 1/64-pixel pen position (the resolution of go-text/render's own coordinates) and
// then reused, so a label costs a few small blits, and that a label is shaped once for
// both measuring and drawing. TestMeasureMatchesFyne and TestLabelsLookLikeFyneText
// hold both to Fyne's. A label needing anything the theme font alone cannot draw (a missing glyph, bidi,
// tabs, control characters) is left to a canvas.Text, which brings Fyne's fallback fonts.

// subpixel is how many pen positions per pixel get their own glyph coverage.
const subpixel = 64

// maxGlyphs bounds the glyph cache; past it the cache starts again.
const maxGlyphs = 4096

// maxShaped bounds the cache of shaped labels; past it the cache starts again.
const maxShaped = 256

// labelPainter owns the faces, the shaper and the caches of one renderer (a Face is
// not safe for concurrent use; parsed fonts are shared).
type labelPainter struct {
	faces  map[fyne.TextStyle]*styleFace
	shaper shaping.HarfbuzzShaper
	seg    shaping.Segmenter
	glyphs map[glyphKey]*glyphMask
	// shaped keeps recent labels shaped: the layout measures a label and the raster
	// draws it from one shaping, and names, headers and most ticks repeat from one
	// refresh to the next.
	shaped  map[shapedKey]*shapedLabel
	lineH   map[lineKey]float32
	lang    language.Language // what the segmenter picks for text without a script of its own
	runes   []rune
	cover   []uint8 // one label's coverage, before it is blended
	inputs1 [1]shaping.Input
}

type shapedKey struct {
	text  string
	style fyne.TextStyle
	size  float32
}

type lineKey struct {
	face *font.Face
	size float32
}

// shapedLabel is a label shaped at one size, and its glyphs placed at the last scale
// it was drawn at.
type shapedLabel struct {
	runs   []shaping.Output
	width  float32 // advance in dp, as fyne.MeasureText has it
	ascent fixed.Int26_6

	scale  float32
	placed []glyphPos // x from the box's left edge, y from the baseline
	base   int        // the baseline, in pixels down from the box's top
}

type styleFace struct {
	res  fyne.Resource
	face *font.Face
}

type glyphKey struct {
	face  *font.Face
	gid   font.GID
	size  float32 // text size in dp
	scale float32
	phase uint8 // pen position's fraction of a pixel, in 1/subpixel
}

// glyphMask is the coverage of one glyph, placed relative to the integer pen position
// on the baseline.
type glyphMask struct {
	dx, dy, w, h int
	a            []uint8
}

// glyphPos is one glyph of a placed label, in pixels.
type glyphPos struct {
	m    *glyphMask
	x, y int
}

// parsedFonts caches the theme fonts, parsed once per process: a *font.Font is
// read-only and safe to share, unlike the Faces made from it.
var parsedFonts sync.Map // fontKey → *font.Font

type fontKey struct {
	name string
	size int
}

func parseFont(res fyne.Resource) *font.Font {
	k := fontKey{res.Name(), len(res.Content())}
	if f, ok := parsedFonts.Load(k); ok {
		return f.(*font.Font)
	}
	face, err := font.ParseTTF(bytes.NewReader(res.Content()))
	if err != nil {
		fyne.LogError("chart: parse font "+res.Name(), err)
		return nil
	}
	f, _ := parsedFonts.LoadOrStore(k, face.Font)
	return f.(*font.Font)
}

// setFont makes res the font of style; nil means that style is left to canvas.Text.
func (p *labelPainter) setFont(style fyne.TextStyle, res fyne.Resource) {
	if p.faces == nil {
		p.faces = map[fyne.TextStyle]*styleFace{}
	}
	if sf := p.faces[style]; sf != nil && sameResource(sf.res, res) {
		return
	}
	var face *font.Face
	if res != nil {
		if f := parseFont(res); f != nil {
			face = font.NewFace(f)
		}
	}
	p.faces[style] = &styleFace{res: res, face: face}
	clear(p.glyphs)
	clear(p.shaped)
	clear(p.lineH)
}

func sameResource(a, b fyne.Resource) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Name() == b.Name() && len(a.Content()) == len(b.Content())
}

// canDraw reports whether the label can be drawn from the theme font of style alone.
func (p *labelPainter) canDraw(s string, style fyne.TextStyle) bool {
	sf := p.faces[style]
	if sf == nil || sf.face == nil {
		return false
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) || isBidi(r) {
			return false
		}
		if _, ok := sf.face.NominalGlyph(r); !ok {
			return false
		}
	}
	return true
}

// isBidi is true for right-to-left scripts and the bidi controls, which take Fyne's
// full text path.
func isBidi(r rune) bool {
	return (r >= 0x0590 && r <= 0x08ff) || (r >= 0xfb1d && r <= 0xfdff) || (r >= 0xfe70 && r <= 0xfeff) ||
		(r >= 0x200e && r <= 0x200f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) ||
		(r >= 0x10800 && r <= 0x10fff) || (r >= 0x1e800 && r <= 0x1efff)
}

// draw paints s at pos (dp) in c, in a box of box (dp: the text's measured size), as a
// canvas.Text of that style and size would be painted at the given scale.
func (p *labelPainter) draw(dst *image.RGBA, s string, pos fyne.Position, box fyne.Size, style fyne.TextStyle,
	size, scale float32, c color.NRGBA) {
	sf := p.faces[style]
	if sf == nil || sf.face == nil || s == "" {
		return
	}
	face := sf.face
	w := int(math.Ceil(float64(box.Width * scale)))
	h := int(math.Ceil(float64((box.Height + 1) * scale))) // Fyne's descender pad
	if w <= 0 || h <= 0 {
		return
	}
	ox := int(math.Ceil(float64(pos.X * scale)))
	oy := int(math.Ceil(float64(pos.Y * scale)))
	if !image.Rect(ox, oy, ox+w, oy+h).Overlaps(dst.Rect) {
		return
	}

	sl := p.shape(s, style, face, size)
	p.place(sl, face, size, scale)
	// Sum the glyphs' coverage (as one fill of all outlines would) over the part of
	// the label's box they ink, clipped to the box and the image, then blend it once.
	clip := image.Rect(ox, oy, ox+w, oy+h).Intersect(dst.Rect)
	ink := image.Rectangle{}
	for _, gp := range sl.placed {
		m := gp.m
		x0, y0 := ox+gp.x+m.dx, oy+gp.y+sl.base+m.dy
		ink = ink.Union(image.Rect(x0, y0, x0+m.w, y0+m.h))
	}
	ink = ink.Intersect(clip)
	if ink.Empty() {
		return
	}
	iw := ink.Dx()
	if cap(p.cover) < iw*ink.Dy() {
		p.cover = make([]uint8, iw*ink.Dy())
	}
	cover := p.cover[:iw*ink.Dy()]
	clear(cover)
	for _, gp := range sl.placed {
		m := gp.m
		g := image.Rect(0, 0, m.w, m.h).Add(image.Pt(ox+gp.x+m.dx, oy+gp.y+sl.base+m.dy))
		r := g.Intersect(ink)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			src := m.a[(y-g.Min.Y)*m.w+r.Min.X-g.Min.X : (y-g.Min.Y)*m.w+r.Max.X-g.Min.X]
			row := cover[(y-ink.Min.Y)*iw+r.Min.X-ink.Min.X:]
			for i, a := range src {
				if a != 0 {
					row[i] = uint8(min(int(row[i])+int(a), 255))
				}
			}
		}
	}
	sa := uint32(c.A)
	sr, sg, sb := uint32(c.R)*sa, uint32(c.G)*sa, uint32(c.B)*sa
	for y := ink.Min.Y; y < ink.Max.Y; y++ {
		row := cover[(y-ink.Min.Y)*iw : (y-ink.Min.Y+1)*iw]
		off := dst.PixOffset(ink.Min.X, y)
		for i, a := range row {
			if a == 0 {
				continue
			}
			px := dst.Pix[off+4*i : off+4*i+4 : off+4*i+4]
			if c.A == 255 {
				blendOpaque(px, c, uint32(a))
			} else {
				blend(px, sr, sg, sb, sa, uint32(a))
			}
		}
	}
}

// shape shapes s as Fyne's DrawString and MeasureText do: one input split by script
// and face, each run shaped by HarfBuzz.
func (p *labelPainter) shape(s string, style fyne.TextStyle, face *font.Face, size float32) *shapedLabel {
	k := shapedKey{text: s, style: style, size: size}
	if sl, ok := p.shaped[k]; ok {
		return sl
	}
	if p.shaped == nil || len(p.shaped) >= maxShaped {
		p.shaped = make(map[shapedKey]*shapedLabel)
	}
	p.runes = append(p.runes[:0], []rune(s)...)
	in := shaping.Input{Text: p.runes, RunEnd: len(p.runes), Direction: di.DirectionLTR, Face: face,
		Size: fixed.Int26_6(float64(size) * 64)}
	sl := &shapedLabel{}
	for _, part := range p.split(in) {
		out := p.shaper.Shape(part)
		sl.ascent = max(sl.ascent, out.LineBounds.Ascent)
		sl.width += fixed266ToFloat(out.Advance)
		sl.runs = append(sl.runs, out)
	}
	p.shaped[k] = sl
	return sl
}

// place puts sl's glyphs at scale: runs start at whole pixels, glyphs follow in
// go-text/render's float32 pen arithmetic, all on the highest run's ascent, as Fyne
// draws them.
func (p *labelPainter) place(sl *shapedLabel, face *font.Face, size, scale float32) {
	if sl.placed != nil && sl.scale == scale {
		return
	}
	sl.scale, sl.placed = scale, sl.placed[:0]
	runX := float32(0)
	for _, out := range sl.runs {
		x := float32(int(runX))
		for _, g := range out.Glyphs {
			gx := x + fixed266ToFloat(g.XOffset)*scale
			gy := -fixed266ToFloat(g.YOffset) * scale
			x += fixed266ToFloat(g.Advance) * scale
			fx := float32(math.Floor(float64(gx)))
			ph := int((gx-fx)*subpixel + 0.5)
			if ph == subpixel {
				fx, ph = fx+1, 0
			}
			m := p.glyph(glyphKey{face: face, gid: g.GlyphID, size: size, scale: scale, phase: uint8(ph)}, g)
			if m == nil {
				continue
			}
			sl.placed = append(sl.placed, glyphPos{m: m, x: int(fx), y: int(math.Round(float64(gy)))})
		}
		runX += fixed266ToFloat(out.Advance) * scale
	}
	sl.base = int(math.Ceil(float64(fixed266ToFloat(sl.ascent) * scale)))
	if sl.placed == nil {
		sl.placed = []glyphPos{}
	}
}

// measure is fyne.MeasureText for the labels the painter draws, from the same shaping
// (TestMeasureMatchesFyne holds it to Fyne's), and fyne.MeasureText for the others.
func (p *labelPainter) measure(text string, size float32, style fyne.TextStyle) fyne.Size {
	if !p.canDraw(text, style) {
		return fyne.MeasureText(text, size, style)
	}
	face := p.faces[style].face
	return fyne.NewSize(p.shape(text, style, face, size).width, p.lineHeight(face, size))
}

// lineHeight is the height Fyne gives every text of face at size: the line thickness
// of a shaped space.
func (p *labelPainter) lineHeight(face *font.Face, size float32) float32 {
	k := lineKey{face, size}
	if h, ok := p.lineH[k]; ok {
		return h
	}
	if p.lineH == nil {
		p.lineH = map[lineKey]float32{}
	}
	sp := []rune{' '}
	out := p.shaper.Shape(shaping.Input{Text: sp, RunEnd: 1, Direction: di.DirectionLTR, Face: face,
		Size: fixed.Int26_6(float64(size) * 64)})
	h := fixed266ToFloat(out.LineBounds.LineThickness())
	p.lineH[k] = h
	return h
}

// split is shaping.Segmenter.Split, with a short cut for printable ASCII (nearly every
// label): one left-to-right run, Latin if it has a letter and Common otherwise, in the
// segmenter's default language. TestSplitShortCut holds it to the segmenter.
func (p *labelPainter) split(in shaping.Input) []shaping.Input {
	script := language.Common
	for _, r := range in.Text {
		switch {
		case r < ' ' || r > '~':
			return p.seg.Split(in, oneFace{in.Face})
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			script = language.Latin
		}
	}
	if p.lang == "" {
		probe := in
		probe.Text, probe.RunStart, probe.RunEnd = []rune{'a'}, 0, 1
		p.lang = p.seg.Split(probe, oneFace{in.Face})[0].Language
	}
	in.Script, in.Language = script, p.lang
	p.inputs1[0] = in
	return p.inputs1[:]
}

// glyph returns the coverage of g at the key's size and pen phase, rendering it with
// go-text/render the first time.
func (p *labelPainter) glyph(k glyphKey, g shaping.Glyph) *glyphMask {
	if m, ok := p.glyphs[k]; ok {
		return m
	}
	if p.glyphs == nil || len(p.glyphs) >= maxGlyphs {
		p.glyphs = make(map[glyphKey]*glyphMask)
	}
	var m *glyphMask
	if g.Width != 0 && g.Height != 0 {
		m = renderGlyph(k, g)
	}
	p.glyphs[k] = m
	return m
}

func renderGlyph(k glyphKey, g shaping.Glyph) *glyphMask {
	s := k.scale
	ph := float32(k.phase) / subpixel
	// The glyph's ink box in pixels, with a margin for anti-aliasing and hinting-free
	// outlines that stray past their extents.
	x0 := int(math.Floor(float64(fixed266ToFloat(g.XBearing)*s+ph))) - 2
	x1 := int(math.Ceil(float64(fixed266ToFloat(g.XBearing+g.Width)*s+ph))) + 2
	y0 := int(math.Floor(float64(-fixed266ToFloat(g.YBearing)*s))) - 2
	y1 := int(math.Ceil(float64(-fixed266ToFloat(g.YBearing+g.Height)*s))) + 2
	if x0 > x1 {
		x0, x1 = x1, x0
	}
	if y0 > y1 {
		y0, y1 = y1, y0
	}
	w, h := x1-x0, y1-y0
	if w <= 0 || h <= 0 || w > 4096 || h > 4096 {
		return nil
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	one := shaping.Output{Face: k.face, Size: fixed.Int26_6(float64(k.size) * 64),
		Glyphs: []shaping.Glyph{{GlyphID: k.gid, XOffset: fixed.Int26_6(ph / s * 64)}}}
	r := render.Renderer{FontSize: k.size, PixScale: s, Color: color.White}
	r.DrawShapedRunAt(one, img, -x0, -y0)
	// Keep only the inked rectangle.
	ink := image.Rectangle{}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if img.Pix[img.PixOffset(x, y)+3] != 0 {
				ink = ink.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	if ink.Empty() {
		return nil
	}
	m := &glyphMask{dx: x0 + ink.Min.X, dy: y0 + ink.Min.Y, w: ink.Dx(), h: ink.Dy(), a: make([]uint8, ink.Dx()*ink.Dy())}
	for y := 0; y < m.h; y++ {
		for x := 0; x < m.w; x++ {
			m.a[y*m.w+x] = img.Pix[img.PixOffset(ink.Min.X+x, ink.Min.Y+y)+3]
		}
	}
	return m
}

// oneFace is a shaping.Fontmap of a single face.
type oneFace struct{ f *font.Face }

func (o oneFace) ResolveFace(rune) *font.Face { return o.f }

func fixed266ToFloat(i fixed.Int26_6) float32 { return float32(float64(i) / 64) }
