package ui

import (
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"
)

// sparkline is a small line of recent values with no axes: the shape, not the scale.
// Gaps (NaN) break the line.
type sparkline struct {
	widget.BaseWidget
	values []float64
	color  color.Color
	size   fyne.Size
}

func newSparkline(values []float64, c color.Color, size fyne.Size) *sparkline {
	s := &sparkline{values: values, color: c, size: size}
	s.ExtendBaseWidget(s)
	return s
}

func (s *sparkline) CreateRenderer() fyne.WidgetRenderer {
	r := &sparkRenderer{s: s}
	r.rebuild()
	return r
}

type sparkRenderer struct {
	s     *sparkline
	lines []*canvas.Line
	objs  []fyne.CanvasObject
}

func (r *sparkRenderer) rebuild() {
	n := max(len(r.s.values)-1, 0)
	for len(r.lines) < n {
		l := canvas.NewLine(r.s.color)
		l.StrokeWidth = 2
		r.lines = append(r.lines, l)
	}
	r.lines = r.lines[:n]
	r.objs = r.objs[:0]
	for _, l := range r.lines {
		l.StrokeColor = r.s.color
		r.objs = append(r.objs, l)
	}
}

func (r *sparkRenderer) Layout(size fyne.Size) {
	v := r.s.values
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			lo, hi = min(lo, x), max(hi, x)
		}
	}
	if lo > hi { // nothing to draw
		for _, l := range r.lines {
			l.Hide()
		}
		return
	}
	span := hi - lo
	pad := float32(2)
	h := size.Height - 2*pad
	y := func(x float64) float32 {
		if span == 0 {
			return pad + h/2
		}
		return pad + h - float32((x-lo)/span)*h
	}
	dx := size.Width / float32(max(len(v)-1, 1))
	for i, l := range r.lines {
		a, b := v[i], v[i+1]
		if math.IsNaN(a) || math.IsNaN(b) || math.IsInf(a, 0) || math.IsInf(b, 0) {
			l.Hide()
			continue
		}
		l.Show()
		l.Position1 = fyne.NewPos(float32(i)*dx, y(a))
		l.Position2 = fyne.NewPos(float32(i+1)*dx, y(b))
	}
}

func (r *sparkRenderer) MinSize() fyne.Size { return r.s.size }

func (r *sparkRenderer) Refresh() {
	r.rebuild()
	r.Layout(r.s.Size())
	for _, l := range r.lines {
		l.Refresh()
	}
}

func (r *sparkRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *sparkRenderer) Destroy()                     {}
