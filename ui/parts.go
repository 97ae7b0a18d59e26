package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// textSize reads a size from the current theme.
func textSize(n fyne.ThemeSizeName) float32 { return theme.Size(n) }

// fg and muted are the current theme's text colours.
func fg() color.Color    { return theme.Color(theme.ColorNameForeground) }
func muted() color.Color { return theme.Color(ColorNameMuted) }

// newText is a canvas.Text in the theme's foreground at a multiple of the body size.
func newText(s string, scale float32, bold bool) *canvas.Text {
	t := canvas.NewText(s, fg())
	t.TextSize = textSize(theme.SizeNameText) * scale
	t.TextStyle.Bold = bold
	return t
}

// badge is a coloured pill with short bold text: severities, states, counts.
type badge struct {
	bg   *canvas.Rectangle
	text *canvas.Text
	box  *fyne.Container
}

func newBadge(s string, c color.Color, scale float32) *badge {
	b := &badge{bg: canvas.NewRectangle(c), text: canvas.NewText(s, color.White)}
	b.bg.CornerRadius = 4
	b.text.TextStyle.Bold = true
	b.text.TextSize = textSize(theme.SizeNameCaptionText) * scale
	b.text.Alignment = fyne.TextAlignCenter
	b.box = container.NewStack(b.bg, container.New(layout.NewCustomPaddedLayout(2, 2, 8, 8), b.text))
	return b
}

func (b *badge) set(s string, c color.Color) {
	if b.text.Text != s {
		b.text.Text = s
		b.text.Refresh()
	}
	b.bg.FillColor = c
	b.text.Color = onColor(c)
	b.bg.Refresh()
	b.text.Refresh()
}

// onColor picks black or white text for legibility on c.
func onColor(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	lum := (299*r + 587*g + 114*b) / 1000 >> 8
	if lum > 150 {
		return color.NRGBA{R: 0x10, G: 0x12, B: 0x14, A: 0xFF}
	}
	return color.White
}

// card puts content on a raised surface with rounded corners.
func card(content fyne.CanvasObject) (*fyne.Container, *canvas.Rectangle) {
	bg := canvas.NewRectangle(theme.Color(ColorNameSurface))
	bg.CornerRadius = 6
	bg.StrokeColor = theme.Color(theme.ColorNameSeparator)
	bg.StrokeWidth = 1
	return container.NewStack(bg, container.NewPadded(content)), bg
}

// sectionTitle is a region's heading: upper-case, bold, muted, so data stands out more
// than chrome.
func sectionTitle(s string) *canvas.Text {
	t := newText(s, 0.9, true)
	t.Color = muted()
	return t
}

// withAlpha returns c at alpha a.
func withAlpha(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: a}
}

// line is one line of text that ends in an ellipsis when there is no room, instead of
// pushing its container (and the whole split) wider the way a canvas.Text would.
type line struct {
	*widget.RichText
	seg *widget.TextSegment
}

func newLine(size fyne.ThemeSizeName, style fyne.TextStyle) *line {
	seg := &widget.TextSegment{Style: widget.RichTextStyle{Inline: true, SizeName: size, TextStyle: style, ColorName: theme.ColorNameForeground}}
	rt := widget.NewRichText(seg)
	rt.Truncation = fyne.TextTruncateEllipsis
	return &line{RichText: rt, seg: seg}
}

// set changes the text and its colour (a theme colour name), refreshing only on change.
func (l *line) set(text string, col fyne.ThemeColorName) {
	if l.seg.Text == text && l.seg.Style.ColorName == col {
		return
	}
	l.seg.Text, l.seg.Style.ColorName = text, col
	l.Refresh()
}

// fitText lets a big number shrink to the width it is given instead of spilling over
// its neighbours: t is drawn at scale × the body size, or smaller when that is too wide
// (down to half), so a long value on a narrow tile stays whole and legible.
func fitText(t *canvas.Text, scale float32) fyne.CanvasObject {
	return container.New(&fitLayout{scale: scale}, t)
}

type fitLayout struct{ scale float32 }

func (f *fitLayout) base() float32 { return textSize(theme.SizeNameText) * f.scale }

func (f *fitLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	t := objs[0].(*canvas.Text)
	base := f.base()
	want := base
	if w := fyne.MeasureText(t.Text, base, t.TextStyle).Width; w > size.Width && w > 0 {
		want = max(base*size.Width/w, base/2)
	}
	if t.TextSize != want {
		t.TextSize = want
		t.Refresh()
	}
	t.Resize(size)
	t.Move(fyne.NewPos(0, 0))
}

func (f *fitLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	t := objs[0].(*canvas.Text)
	return fyne.NewSize(fyne.MeasureText("00", f.base()/2, t.TextStyle).Width, fyne.MeasureText("0", f.base(), t.TextStyle).Height)
}

// sizedLike gives o the width that sample needs at scale × the caption size (bold),
// measured at every layout, so fixed-width columns grow with the theme's type scale.
func sizedLike(o fyne.CanvasObject, sample string, size fyne.ThemeSizeName, scale, pad float32) fyne.CanvasObject {
	return container.New(&sampleWidth{sample: sample, size: size, scale: scale, pad: pad}, o)
}

type sampleWidth struct {
	sample string
	size   fyne.ThemeSizeName
	scale  float32
	pad    float32
}

func (s *sampleWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	m := fyne.MeasureText(s.sample, textSize(s.size)*s.scale, fyne.TextStyle{Bold: true, Monospace: s.size == ""})
	return fyne.NewSize(m.Width+s.pad, max(m.Height, objs[0].MinSize().Height))
}

func (s *sampleWidth) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	min := objs[0].MinSize()
	objs[0].Resize(fyne.NewSize(size.Width, min.Height))
	objs[0].Move(fyne.NewPos(0, (size.Height-min.Height)/2))
}

// showForm is dialog.ShowForm at a size where titles and choices are readable: Fyne's
// default packs a form to its narrowest, which truncates a severity's meaning.
//
// It is keyboard-first: the first text box has the focus, and Enter in any one-line box
// submits the form (when it validates), as the confirm button would.
func showForm(title, confirm, dismiss string, items []*widget.FormItem, cb func(bool), w fyne.Window, width float32) {
	d := dialog.NewForm(title, confirm, dismiss, items, cb, w)
	var first fyne.Focusable
	for _, it := range items {
		var e *widget.Entry
		switch x := it.Widget.(type) {
		case *widget.Entry:
			e = x
		case *widget.SelectEntry:
			e = &x.Entry
		}
		if e == nil || e.MultiLine {
			continue
		}
		if e.OnSubmitted == nil {
			e.OnSubmitted = func(string) { d.Submit() }
		}
		if first == nil {
			first = it.Widget.(fyne.Focusable)
		}
	}
	d.Resize(fyne.NewSize(width, d.MinSize().Height))
	d.Show()
	if first != nil {
		w.Canvas().Focus(first)
	}
}
