package ui

import (
	"fmt"
	"image/color"
	"math"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"

	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/ui/chart"
)

// metricsView shows the configured panels: stat tiles across the top, charts below.
type metricsView struct {
	tiles  []*statTile
	slos   []*sloTile
	charts []*chartPanel
	byIdx  map[int]interface {
		apply(cockpit.PanelState, time.Time)
	}
	box fyne.CanvasObject
}

func newMetricsView(specs []cockpit.PanelSpec, chartWidth func(panel, pixels int)) *metricsView {
	m := &metricsView{byIdx: map[int]interface {
		apply(cockpit.PanelState, time.Time)
	}{}}
	type group struct {
		name          string
		tiles, charts []fyne.CanvasObject
	}
	var groups []*group
	byName := map[string]*group{}
	for i, p := range specs {
		g := byName[p.Row]
		if g == nil {
			g = &group{name: p.Row}
			byName[p.Row] = g
			groups = append(groups, g)
		}
		switch p.Type {
		case cockpit.PanelTimeseries:
			var onWidth func(int)
			if chartWidth != nil {
				onWidth = func(px int) { chartWidth(i, px) }
			}
			c := newChartPanel(onWidth)
			m.charts = append(m.charts, c)
			m.byIdx[i] = c
			g.charts = append(g.charts, c.box)
		case cockpit.PanelSLO:
			t := newSLOTile()
			m.slos = append(m.slos, t)
			m.byIdx[i] = t
			g.tiles = append(g.tiles, t.box)
		default:
			t := newStatTile()
			m.tiles = append(m.tiles, t)
			m.byIdx[i] = t
			g.tiles = append(g.tiles, t.box)
		}
	}
	tileRow := func(tiles []fyne.CanvasObject) fyne.CanvasObject {
		if len(tiles) == 0 {
			return nil
		}
		// one row up to six tiles (they truncate gracefully), then two rows
		cols := len(tiles)
		if cols > 6 {
			cols = (cols + 1) / 2
		}
		return container.NewGridWithColumns(cols, tiles...)
	}
	switch {
	case len(groups) == 0:
		m.box = container.NewCenter(sectionTitle("NO PANELS CONFIGURED"))
	case len(groups) == 1: // one screenful: tiles on top, charts share the rest
		g := groups[0]
		var center fyne.CanvasObject = container.NewCenter(sectionTitle("NO CHART PANELS CONFIGURED"))
		if len(g.charts) > 0 {
			center = container.New(&chartGrid{aspect: 2.2}, g.charts...)
		}
		m.box = container.NewBorder(tileRow(g.tiles), nil, nil, nil, center)
	default: // named rows: one section each, scrolling when they do not fit
		sections := container.NewVBox()
		for _, g := range groups {
			name := g.name
			if name == "" {
				name = "General"
			}
			sections.Add(sectionTitle(strings.ToUpper(name)))
			if t := tileRow(g.tiles); t != nil {
				sections.Add(t)
			}
			if len(g.charts) > 0 {
				sections.Add(container.New(&chartGrid{aspect: 2.2, rowHeight: 280}, g.charts...))
			}
		}
		m.box = container.NewVScroll(sections)
	}
	return m
}

// chartGrid lays charts out in as many columns as keeps each one close to aspect
// (width/height) in the space it is given, so four charts are a 2×2 block on a laptop,
// and a row on a wide wall screen. With rowHeight set it has a fixed row height (for
// use inside a scroll) instead of sharing the height it is given.
type chartGrid struct {
	aspect    float32
	rowHeight float32
	width     float32 // last laid-out width, for MinSize inside a scroll
}

func (g *chartGrid) cols(n int, size fyne.Size) int {
	if n == 0 {
		return 1
	}
	h := size.Height
	if g.rowHeight > 0 {
		h = g.rowHeight
		return max(1, min(n, int(size.Width/(h*g.aspect)+0.5)))
	}
	if h <= 0 || size.Width <= 0 {
		return min(n, 2)
	}
	// Try every column count: the best keeps cells near the aspect and leaves few
	// holes in the last row; ties go to more columns.
	best, bestScore := 1, math.Inf(1)
	for c := 1; c <= n; c++ {
		rows := (n + c - 1) / c
		cell := float64(size.Width/float32(c)) / float64(h/float32(rows))
		score := math.Abs(math.Log(cell/float64(g.aspect))) + 0.35*float64(rows*c-n)
		if score <= bestScore {
			best, bestScore = c, score
		}
	}
	return best
}

func (g *chartGrid) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	g.width = size.Width
	n := len(objs)
	if n == 0 {
		return
	}
	pad := theme.Padding()
	cols := g.cols(n, size)
	rows := (n + cols - 1) / cols
	cellW := (size.Width - pad*float32(cols-1)) / float32(cols)
	cellH := g.rowHeight
	if cellH <= 0 {
		cellH = (size.Height - pad*float32(rows-1)) / float32(rows)
	}
	for i, o := range objs {
		r, c := i/cols, i%cols
		o.Move(fyne.NewPos(float32(c)*(cellW+pad), float32(r)*(cellH+pad)))
		o.Resize(fyne.NewSize(cellW, cellH))
	}
}

func (g *chartGrid) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var cell fyne.Size
	for _, o := range objs {
		cell = cell.Max(o.MinSize())
	}
	if g.rowHeight <= 0 || len(objs) == 0 {
		return cell
	}
	cols := g.cols(len(objs), fyne.NewSize(g.width, g.rowHeight))
	rows := (len(objs) + cols - 1) / cols
	return fyne.NewSize(cell.Width, float32(rows)*g.rowHeight+theme.Padding()*float32(rows-1))
}

func (m *metricsView) apply(s *cockpit.Snapshot) {
	for i, p := range s.Panels {
		if v, ok := m.byIdx[i]; ok {
			v.apply(p, s.At)
		}
	}
}

// statusLine says what is wrong with a panel's data, in words and colour; empty when
// the data is fresh and complete.
func statusLine(p cockpit.PanelState, now time.Time) (string, fyne.ThemeColorName) {
	switch p.Status {
	case cockpit.StatusLoading:
		return "loading…", ColorNameMuted
	case cockpit.StatusNoData:
		return "NO DATA — query returned no series", ColorNameMuted
	case cockpit.StatusPartial:
		return "PARTIAL — " + firstOr(p.Result.Warnings, "source sent warnings"), theme.ColorNameWarning
	case cockpit.StatusStale:
		return fmt.Sprintf("STALE since %s (%s) — %s", p.StaleSince.Format("15:04:05"),
			cockpit.HumanDuration(now.Sub(p.StaleSince)), p.Err), theme.ColorNameWarning
	case cockpit.StatusError:
		return "ERROR — " + p.Err, theme.ColorNameError
	}
	return "", ColorNameMuted
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}

// thresholdColor is the colour of the highest threshold v reaches, or nil below all.
func thresholdColor(ts []cockpit.Threshold, v float64) color.Color {
	var c color.Color
	for _, t := range ts {
		if v >= t.Value {
			c = NamedColor(t.Color)
		}
	}
	return c
}

// statTile is one big number: the panel's title, its latest value coloured by
// threshold, and a status line when the value cannot be trusted.
type statTile struct {
	title  *line
	value  *canvas.Text
	status *line
	accent *canvas.Rectangle
	bg     *canvas.Rectangle
	box    fyne.CanvasObject
}

func newStatTile() *statTile {
	t := &statTile{
		title:  newLine(SizeNameCaption, fyne.TextStyle{Bold: true}),
		value:  newText("–", 2.6, true),
		status: newLine(SizeNameSmall, fyne.TextStyle{}),
		accent: canvas.NewRectangle(ColorMuted),
	}
	t.accent.SetMinSize(fyne.NewSize(6, 0))
	inner := container.NewVBox(t.title.RichText, fitText(t.value, 2.6), t.status.RichText)
	body, bg := card(container.NewBorder(nil, nil, nil, nil, inner))
	t.bg = bg
	t.box = container.NewBorder(nil, nil, t.accent, nil, body)
	return t
}

func (t *statTile) apply(p cockpit.PanelState, now time.Time) {
	t.bg.FillColor = theme.Color(ColorNameSurface)
	t.bg.Refresh()
	t.title.set(strings.ToUpper(p.Spec.Title), ColorNameMuted)
	val, col := "–", fg()
	accent := color.Color(ColorMuted)
	if v, ok := lastValue(p); ok {
		val = chart.FormatValue(v, p.Spec.Unit, p.Spec.Decimals)
		if c := thresholdColor(p.Spec.Thresholds, v); c != nil {
			col, accent = c, c
		} else if len(p.Spec.Thresholds) > 0 {
			accent = ColorOK
		}
	}
	if p.Status == cockpit.StatusStale || p.Status == cockpit.StatusError {
		col = withAlpha(col, 0x80) // an old number must not look like a live one
	}
	setText(t.value, val, col)
	t.accent.FillColor = accent
	t.accent.Refresh()
	t.status.set(statusLine(p, now))
}

// lastValue is the newest non-NaN value of the first series.
func lastValue(p cockpit.PanelState) (float64, bool) {
	if len(p.Result.Series) == 0 {
		return 0, false
	}
	ss := p.Result.Series[0].Samples
	for i := len(ss) - 1; i >= 0; i-- {
		if !math.IsNaN(ss[i].V) {
			return ss[i].V, true
		}
	}
	return 0, false
}

// chartPanel is a titled chart with its status line.
type chartPanel struct {
	title  *line
	status *line
	chart  *chart.Chart
	bg     *canvas.Rectangle
	box    fyne.CanvasObject
}

func newChartPanel(onWidth func(pixels int)) *chartPanel {
	c := &chartPanel{title: newLine(theme.SizeNameText, fyne.TextStyle{Bold: true}), status: newLine(SizeNameSmall, fyne.TextStyle{}), chart: chart.New()}
	var plot fyne.CanvasObject = c.chart
	if onWidth != nil {
		plot = container.New(&widthWatch{report: onWidth}, c.chart)
	}
	top := container.NewGridWithColumns(2, c.title.RichText, c.status.RichText)
	c.status.seg.Style.Alignment = fyne.TextAlignTrailing
	body, bg := card(container.NewBorder(top, nil, nil, nil, plot))
	c.bg = bg
	c.box = body
	return c
}

// widthWatch lays out one object to fill it and reports its width in pixels whenever
// that changes.
type widthWatch struct {
	report func(pixels int)
	last   int
}

func (w *widthWatch) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
	scale := float32(1)
	if len(objs) > 0 {
		if c := fyne.CurrentApp().Driver().CanvasForObject(objs[0]); c != nil {
			scale = c.Scale()
		}
	}
	if px := int(size.Width * scale); px > 0 && px != w.last {
		w.last = px
		w.report(px)
	}
}

func (w *widthWatch) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	return s
}

func (c *chartPanel) apply(p cockpit.PanelState, now time.Time) {
	c.bg.FillColor = theme.Color(ColorNameSurface)
	c.bg.Refresh()
	c.title.set(p.Spec.Title, theme.ColorNameForeground)
	c.status.set(statusLine(p, now))
	lines := make([]chart.Line, 0, len(p.Result.Series))
	for _, s := range p.Result.Series {
		lines = append(lines, chart.Line{Name: cockpit.LegendName(p.Spec.Legend, s.Labels), Samples: s.Samples})
	}
	opts := chart.Options{Unit: p.Spec.Unit, Decimals: p.Spec.Decimals, Min: p.Spec.Min, Max: p.Spec.Max}
	for _, t := range p.Spec.Thresholds {
		opts.Thresholds = append(opts.Thresholds, chart.Threshold{Value: t.Value, Color: NamedColor(t.Color)})
	}
	if p.Spec.Type == cockpit.PanelTimeseries && !p.UpdatedAt.IsZero() {
		r := cockpit.RangeFor(p.Spec, p.UpdatedAt)
		opts.Start, opts.End = r.Start, r.End
	}
	c.chart.SetData(lines, opts)
}

// sloTile shows an SLO: the error budget left as the big number, the burn rates of the
// two alerting window pairs, and PAGE or TICKET when a pair burns too fast.
type sloTile struct {
	title  *line
	level  *badge
	value  *canvas.Text
	fast   *line
	slow   *line
	status *line
	accent *canvas.Rectangle
	bg     *canvas.Rectangle
	box    fyne.CanvasObject
}

func newSLOTile() *sloTile {
	t := &sloTile{
		title:  newLine(SizeNameCaption, fyne.TextStyle{Bold: true}),
		level:  newBadge("", ColorOK, 1),
		value:  newText("–", 2.6, true),
		fast:   newLine(SizeNameSmall, fyne.TextStyle{Monospace: true}),
		slow:   newLine(SizeNameSmall, fyne.TextStyle{Monospace: true}),
		status: newLine(SizeNameSmall, fyne.TextStyle{}),
		accent: canvas.NewRectangle(ColorMuted),
	}
	t.accent.SetMinSize(fyne.NewSize(6, 0))
	top := container.NewBorder(nil, nil, nil, container.NewCenter(t.level.box), t.title.RichText)
	body, bg := card(container.NewVBox(top, fitText(t.value, 2.6), t.fast.RichText, t.slow.RichText, t.status.RichText))
	t.bg = bg
	t.box = container.NewBorder(nil, nil, t.accent, nil, body)
	return t
}

func (t *sloTile) apply(p cockpit.PanelState, now time.Time) {
	t.bg.FillColor = theme.Color(ColorNameSurface)
	t.bg.Refresh()
	st := cockpit.EvaluateSLO(p.Spec, p.Result)
	window := p.Spec.Window
	if window <= 0 {
		window = 30 * 24 * time.Hour
	}
	t.title.set(strings.ToUpper(p.Spec.Title), ColorNameMuted)

	levelText, levelCol := "OK", color.Color(ColorOK)
	switch st.Level {
	case cockpit.SLOPage:
		levelText, levelCol = "PAGE", ColorCritical
	case cockpit.SLOTicket:
		levelText, levelCol = "TICKET", ColorWarning
	case cockpit.SLOUnknown:
		levelText, levelCol = "NO DATA", ColorMuted
	}
	t.level.set(levelText, levelCol)
	t.accent.FillColor = levelCol
	t.accent.Refresh()

	val, col := "–", fg()
	if !math.IsNaN(st.BudgetRemaining) {
		val = chart.FormatValue(st.BudgetRemaining, "percentunit", 1) + " left"
		if st.BudgetRemaining < 0 {
			col = ColorCritical
		}
	}
	if p.Status == cockpit.StatusStale || p.Status == cockpit.StatusError {
		col = withAlpha(col, 0x80)
	}
	setText(t.value, val, col)
	burn := func(w time.Duration) string {
		b := st.Burn(w)
		if math.IsNaN(b) {
			return cockpit.PromDuration(w) + " –"
		}
		return fmt.Sprintf("%s %.1f×", cockpit.PromDuration(w), b)
	}
	pair := func(bp cockpit.BurnPair) (string, fyne.ThemeColorName) {
		col := theme.ColorNameForeground
		if b := min(st.Burn(bp.Long), st.Burn(bp.Short)); b > bp.Factor { // NaN compares false
			col = theme.ColorNameError
		}
		return fmt.Sprintf("burn %s  %s", burn(bp.Long), burn(bp.Short)), col
	}
	t.fast.set(pair(cockpit.FastBurn))
	t.slow.set(pair(cockpit.SlowBurn))
	if msg, col := statusLine(p, now); msg != "" {
		t.status.set(msg, col)
	} else {
		t.status.set(fmt.Sprintf("objective %g%% over %s", p.Spec.Objective, cockpit.PromDuration(window)), ColorNameMuted)
	}
}
