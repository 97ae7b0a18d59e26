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
	var tiles, charts []fyne.CanvasObject
	for i, p := range specs {
		switch p.Type {
		case cockpit.PanelTimeseries:
			var onWidth func(int)
			if chartWidth != nil {
				onWidth = func(px int) { chartWidth(i, px) }
			}
			c := newChartPanel(onWidth)
			m.charts = append(m.charts, c)
			m.byIdx[i] = c
			charts = append(charts, c.box)
		case cockpit.PanelSLO:
			t := newSLOTile()
			m.slos = append(m.slos, t)
			m.byIdx[i] = t
			tiles = append(tiles, t.box)
		default:
			t := newStatTile()
			m.tiles = append(m.tiles, t)
			m.byIdx[i] = t
			tiles = append(tiles, t.box)
		}
	}
	var top, center fyne.CanvasObject
	if len(tiles) > 0 {
		top = container.NewGridWithColumns(min(len(tiles), 5), tiles...)
	}
	switch {
	case len(charts) == 0:
		center = container.NewCenter(sectionTitle("NO CHART PANELS CONFIGURED"))
	case len(charts) == 1:
		center = charts[0]
	default:
		center = container.NewGridWithColumns(2, charts...)
	}
	m.box = container.NewBorder(top, nil, nil, nil, center)
	return m
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
	inner := container.NewVBox(t.title.RichText, t.value, t.status.RichText)
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
	body, bg := card(container.NewVBox(top, t.value, t.fast.RichText, t.slow.RichText, t.status.RichText))
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
