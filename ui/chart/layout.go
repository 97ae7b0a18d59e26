package chart

import (
	"image"
	"image/color"
	"math"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
)

// measureFunc sizes a text; fyne.MeasureText in the widget, a fixed-width stand-in
// where no driver is wanted.
type measureFunc func(text string, size float32, style fyne.TextStyle) fyne.Size

// textRole says which theme colour and weight a text gets.
type textRole uint8

const (
	roleAxis textRole = iota
	roleName
	roleValue // bold: the last value is what people read from across the room
	roleDim   // min/max, headers, "+N more"
	roleNoData
	roleThreshold // in the threshold's own colour
)

// textItem is one label placed in widget coordinates (dp).
type textItem struct {
	text  string
	pos   fyne.Position
	role  textRole
	color color.Color // roleThreshold only; nil means the theme's warning colour
}

// swatch is a legend colour sample, drawn into the raster.
type swatch struct {
	x, y, w, h float32
	series     int
}

// box is a background patch behind a label, drawn into the raster over the lines.
type box struct{ x, y, w, h float32 }

// layout is the geometry of one chart at one size, in dp, shared by the raster (scaled
// to pixels) and the text objects, so grid lines and their labels agree.
type layout struct {
	size     fyne.Size
	textSize float32
	plot     struct{ x, y, w, h float32 }
	ys       yScale
	t0, t1   time.Time
	xTicks   []timeTick
	texts    []textItem
	swatches []swatch
	boxes    []box
	// legendRight: the legend is a column right of the plot, not rows below it.
	legendRight bool
	noData      bool
}

// plotPx is the plot rectangle in pixels at scale.
func (l *layout) plotPx(scale float32) image.Rectangle {
	r := func(v float32) int { return int(v*scale + 0.5) }
	return image.Rect(r(l.plot.x), r(l.plot.y), r(l.plot.x+l.plot.w), r(l.plot.y+l.plot.h))
}

// xAt is the dp x of instant t.
func (l *layout) xAt(t time.Time) float32 {
	span := float64(l.t1.Sub(l.t0))
	if span <= 0 {
		return l.plot.x
	}
	return l.plot.x + float32(float64(t.Sub(l.t0))/span)*l.plot.w
}

// timeAt is the instant at dp x.
func (l *layout) timeAt(x float32) time.Time {
	f := float64((x - l.plot.x) / l.plot.w)
	return l.t0.Add(time.Duration(f * float64(l.t1.Sub(l.t0))))
}

// yAt is the dp y of value v (±Inf pinned to the plot's edges).
func (l *layout) yAt(v float64) float32 {
	switch {
	case math.IsInf(v, 1):
		return l.plot.y
	case math.IsInf(v, -1):
		return l.plot.y + l.plot.h
	}
	f := l.ys.frac(v)
	return l.plot.y + l.plot.h - float32(f)*l.plot.h
}

const (
	maxNameRunes = 120 // a 10k-character label is cut before it is ever measured
	minPlotW     = 360 // below this the legend goes under the plot
	swatchW      = 18
)

// legendEntry is the text of one legend row.
type legendEntry struct {
	name, last, lo, hi string
}

// computeLayout places the plot, ticks, labels and legend for a chart of size.
func computeLayout(ds *dataset, opts *Options, size fyne.Size, textSize, pad float32, measure measureFunc) layout {
	l := layout{size: size, textSize: textSize}
	lineH := measure("0", textSize, fyne.TextStyle{}).Height
	if !ds.hasPoints {
		l.noData = true
		m := measure(noDataText, textSize*1.3, fyne.TextStyle{})
		l.texts = append(l.texts, textItem{text: noDataText,
			pos: fyne.NewPos((size.Width-m.Width)/2, (size.Height-m.Height)/2), role: roleNoData})
		return l
	}
	loc := opts.Location
	if loc == nil {
		loc = time.Local
	}

	// Time window.
	l.t0, l.t1 = ds.t0, ds.t1
	if !opts.Start.IsZero() {
		l.t0 = opts.Start
	}
	if !opts.End.IsZero() {
		l.t1 = opts.End
	}
	if !l.t1.After(l.t0) { // one instant (or a reversed window): centre it in a minute
		mid := l.t0
		l.t0, l.t1 = mid.Add(-30*time.Second), mid.Add(30*time.Second)
	}

	// Legend text first: its size decides where the plot goes.
	entries := make([]legendEntry, len(ds.series))
	var valW, nameW float32
	bold := fyne.TextStyle{Bold: true}
	for i, s := range ds.series {
		e := legendEntry{name: clipRunes(s.name, maxNameRunes),
			last: FormatValue(s.last, opts.Unit, opts.Decimals),
			lo:   FormatValue(s.lo, opts.Unit, opts.Decimals),
			hi:   FormatValue(s.hi, opts.Unit, opts.Decimals)}
		if e.name == "" {
			e.name = "series " + strconv.Itoa(s.index+1)
		}
		entries[i] = e
		valW = max(valW, measure(e.last, textSize, bold).Width, measure(e.lo, textSize, bold).Width, measure(e.hi, textSize, bold).Width)
		nameW = max(nameW, measure(e.name, textSize, fyne.TextStyle{}).Width)
	}
	valW = max(valW, measure("Last", textSize, fyne.TextStyle{}).Width)
	colW := valW + 3*pad
	nameW = min(nameW, 260)
	rowH := lineH + pad
	entryW := func(name float32, cols int) float32 { return pad + swatchW + pad + name + float32(cols)*colW + pad }

	legendW, legendH := float32(0), float32(0)
	cols := 3          // value columns: last, min, max
	flow := 1          // legend entries side by side (below only)
	nameCol := nameW   // width given to names
	moreN := ds.hidden // lines not listed
	shown := len(ds.series)
	if size.Width >= 2*minPlotW && size.Width-entryW(nameW, 3) >= max(minPlotW, size.Width*0.55) {
		l.legendRight = true
		legendW = entryW(nameW, 3)
		avail := int((size.Height - pad) / rowH)
		shown, moreN = fitRows(len(ds.series), ds.hidden, avail-1) // one row for the header
	} else {
		minName := min(nameW, 90)
		switch {
		case size.Width >= entryW(minName, 3):
		case size.Width >= entryW(minName, 1):
			cols = 1
		default:
			cols = 0
		}
		nameCol = min(nameW, size.Width-entryW(0, cols))
		flow = max(1, int(size.Width/entryW(nameCol, cols)))
		if flow > len(ds.series) {
			flow = max(1, len(ds.series))
		}
		header := 0
		if cols > 1 {
			header = 1
		}
		// The plot keeps at least 60% of the height.
		avail := int(size.Height*0.4/rowH) - header
		need := (len(ds.series) + flow - 1) / flow
		if ds.hidden > 0 {
			need++
		}
		rows := min(need, avail)
		shown, moreN = fitRows(len(ds.series), ds.hidden, rows*flow)
		if shown == 0 && moreN == 0 {
			rows = 0
		} else {
			rows = (shown + flow - 1) / flow
			if moreN > 0 && shown%flow == 0 {
				rows++
			}
		}
		if rows > 0 {
			legendH = float32(rows+header)*rowH + pad
		}
	}

	// Plot rectangle; y ticks depend on its height, the left margin on their labels.
	top := lineH/2 + pad
	bottom := lineH + 2*pad
	l.plot.y = top
	l.plot.h = max(size.Height-top-bottom-legendH, 10)
	target := max(2, int(l.plot.h/(lineH*2.2)))
	l.ys = niceYScale(ds.lo, ds.hi, ds.hasVals, opts.Thresholds, opts.Min, opts.Max, target)
	yLabels := axisLabels(l.ys.ticks, opts.Unit, opts.Decimals)
	var yLabelW float32
	for _, s := range yLabels {
		yLabelW = max(yLabelW, measure(s, textSize, fyne.TextStyle{}).Width)
	}
	l.plot.x = yLabelW + 2*pad
	l.plot.w = max(size.Width-l.plot.x-2*pad-legendW, 10)

	// On a short plot label every k-th tick only, so labels never overlap.
	every := 1
	if n := len(l.ys.ticks); n > 1 {
		gap := (l.yAt(l.ys.ticks[0]) - l.yAt(l.ys.ticks[n-1])) / float32(n-1)
		for gap > 0 && gap*float32(every) < lineH*1.1 && every < n {
			every++
		}
	}
	for i, v := range l.ys.ticks {
		if i%every != 0 {
			continue
		}
		m := measure(yLabels[i], textSize, fyne.TextStyle{})
		l.texts = append(l.texts, textItem{text: yLabels[i],
			pos: fyne.NewPos(l.plot.x-pad-m.Width, l.yAt(v)-m.Height/2), role: roleAxis})
	}

	// Threshold values, at the right end just above their lines.
	for _, th := range opts.Thresholds {
		if !finite(th.Value) || th.Value < l.ys.lo || th.Value > l.ys.hi {
			continue
		}
		label := FormatValue(th.Value, opts.Unit, opts.Decimals)
		m := measure(label, textSize, fyne.TextStyle{})
		y := l.yAt(th.Value) - m.Height
		if y < l.plot.y {
			y = l.yAt(th.Value) + 2 // no room above: below the line
		}
		pos := fyne.NewPos(l.plot.x+l.plot.w-m.Width-pad, y)
		l.texts = append(l.texts, textItem{text: label, role: roleThreshold, color: th.Color, pos: pos})
		// A backing box keeps the label readable where lines cross it.
		l.boxes = append(l.boxes, box{x: pos.X - pad/2, y: pos.Y, w: m.Width + pad, h: m.Height})
	}

	// Time ticks: room for a label and a bit more each.
	labelW := measure("00:00", textSize, fyne.TextStyle{}).Width
	l.xTicks = niceTimeTicks(l.t0, l.t1, loc, max(1, int(l.plot.w/(labelW*2.2))))
	lastRight := float32(-1)
	for _, tk := range l.xTicks {
		m := measure(tk.label, textSize, fyne.TextStyle{})
		x := l.xAt(tk.t) - m.Width/2
		x = min(max(x, 0), size.Width-legendW-m.Width) // keep the edge labels inside
		if x < lastRight+pad {
			continue
		}
		lastRight = x + m.Width
		l.texts = append(l.texts, textItem{text: tk.label,
			pos: fyne.NewPos(x, l.plot.y+l.plot.h+pad), role: roleAxis})
	}

	// Legend rows.
	var lx, ly float32
	if l.legendRight {
		lx, ly = size.Width-legendW, pad
	} else {
		lx, ly = 0, l.plot.y+l.plot.h+bottom
	}
	ew := entryW(nameCol, cols)
	headerRow := cols > 1 && (shown > 0 || moreN > 0)
	if headerRow {
		for f := 0; f < flow; f++ {
			bx := lx + float32(f)*ew + pad + swatchW + pad + nameCol
			for k, h := range [3]string{"Last", "Min", "Max"} {
				m := measure(h, textSize, fyne.TextStyle{})
				l.texts = append(l.texts, textItem{text: h, role: roleDim,
					pos: fyne.NewPos(bx+float32(k+1)*colW-pad-m.Width, ly)})
			}
			if !l.legendRight && f >= shown-1 {
				break
			}
		}
		ly += rowH
	}
	for i := 0; i < shown; i++ {
		var ex, ey float32
		if l.legendRight {
			ex, ey = lx, ly+float32(i)*rowH
		} else {
			ex, ey = lx+float32(i%flow)*ew, ly+float32(i/flow)*rowH
		}
		e := entries[i]
		l.swatches = append(l.swatches, swatch{x: ex + pad, y: ey + (lineH-4)/2, w: swatchW, h: 4, series: i})
		nx := ex + pad + swatchW + pad
		l.texts = append(l.texts, textItem{text: fitText(e.name, nameCol, textSize, fyne.TextStyle{}, measure),
			pos: fyne.NewPos(nx, ey), role: roleName})
		vals := [3]string{e.last, e.lo, e.hi}
		for k := 0; k < cols; k++ {
			role, style := roleDim, fyne.TextStyle{}
			if k == 0 {
				role, style = roleValue, bold
			}
			m := measure(vals[k], textSize, style)
			l.texts = append(l.texts, textItem{text: vals[k], role: role,
				pos: fyne.NewPos(nx+nameCol+float32(k+1)*colW-pad-m.Width, ey)})
		}
	}
	if moreN > 0 {
		var ex, ey float32
		if l.legendRight {
			ex, ey = lx, ly+float32(shown)*rowH
		} else {
			ex, ey = lx+float32(shown%flow)*ew, ly+float32(shown/flow)*rowH
		}
		l.texts = append(l.texts, textItem{text: "+" + strconv.Itoa(moreN) + " more",
			pos: fyne.NewPos(ex+pad+swatchW+pad, ey), role: roleDim})
	}
	return l
}

const noDataText = "No data"

// fitRows decides how many of n listed lines fit in avail rows when hidden more exist
// beyond them: a "+N more" row takes the last place whenever anything is left out.
func fitRows(n, hidden, avail int) (shown, more int) {
	if avail <= 0 {
		return 0, 0
	}
	if hidden == 0 && n <= avail {
		return n, 0
	}
	shown = min(n, avail-1)
	return shown, n - shown + hidden
}

// axisLabels formats tick values, adding significant digits until neighbours differ;
// fixed decimals that cannot tell the ticks apart give way to automatic ones.
func axisLabels(ticks []float64, unit string, decimals int) []string {
	out := make([]string, len(ticks))
	for sig := 3; sig <= 8; sig++ {
		for i, v := range ticks {
			out[i] = formatSig(v, unit, decimals, sig)
		}
		if distinct(out) {
			return out
		}
		if decimals >= 0 { // too few fixed decimals for this step: go automatic
			decimals = -1
			sig = 2
		}
	}
	return out
}

func distinct(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			return false
		}
	}
	return true
}

// clipRunes cuts s to at most n runes, marking the cut.
func clipRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos] + "…"
		}
		i++
	}
	return s
}

// fitText shortens s with an ellipsis until it fits in w.
func fitText(s string, w, size float32, style fyne.TextStyle, measure measureFunc) string {
	if measure(s, size, style).Width <= w {
		return s
	}
	r := []rune(s)
	lo, hi := 0, len(r) // binary search on the kept prefix length
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if measure(string(r[:mid])+"…", size, style).Width <= w {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo == 0 {
		return "…"
	}
	return string(r[:lo]) + "…"
}
