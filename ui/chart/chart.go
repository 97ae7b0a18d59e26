// Package chart is OpsCockpit's time-series chart widget and its value formatting.
//
// A Chart draws every line, the grid, the thresholds and its axis and legend labels
// into one canvas.Raster that it produces itself (lines anti-aliased and decimated to a
// point pair per pixel column; labels in the theme's font from a cache of glyph
// coverage, looking as canvas.Text would), and keeps canvas.Text objects only for the
// crosshair and for a label that needs one of Fyne's fallback fonts. That keeps a wall
// of charts cheap to refresh (QUALITY P4) and a cardinality blow-up harmless: at most
// maxDrawnLines lines are drawn, the rest are counted in the legend.
package chart

import (
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/opscockpit/opscockpit/datasource"
)

// Line is one named series to draw. Samples should be in time order (Prometheus range
// results are); NaN values are drawn as gaps and ±Inf pinned to the plot's edge.
type Line struct {
	Name    string
	Samples []datasource.Sample
}

// Threshold is a horizontal reference line, drawn dashed. A nil Color means the theme's
// warning colour.
type Threshold struct {
	Value float64
	Color color.Color
}

// Options say how to scale and label a chart.
type Options struct {
	// Unit and Decimals are passed to FormatValue for legend, crosshair and axis values.
	// Decimals < 0 is automatic; note that the zero value means whole numbers, so most
	// callers want -1. Axis labels add digits when fixed decimals cannot tell ticks apart.
	Unit     string
	Decimals int
	// Min and Max pin the value axis; nil means from the data.
	Min, Max   *float64
	Thresholds []Threshold
	// Start and End are the time window; a zero value means from the data.
	Start, End time.Time
	// Location is the zone of the time axis labels; nil means time.Local.
	Location *time.Location
}

// Chart is a time-series chart widget. Create it with New and feed it with SetData.
type Chart struct {
	widget.BaseWidget

	opts Options
	data dataset
	gen  uint64 // bumped by SetData so the renderer knows to redraw the raster

	hovering bool
	hoverPos fyne.Position
}

var (
	_ fyne.Widget       = (*Chart)(nil)
	_ fyne.Tappable     = (*Chart)(nil)
	_ desktop.Hoverable = (*Chart)(nil)
)

// New returns an empty chart; it shows "No data" until SetData gives it some.
func New() *Chart {
	c := &Chart{opts: Options{Decimals: -1}}
	c.ExtendBaseWidget(c)
	return c
}

// SetData replaces the lines and options and refreshes the chart. The chart keeps the
// sample slices, so they must not be modified afterwards (snapshots are immutable).
// Call it only on the Fyne goroutine (in a callback or inside fyne.Do). Its cost is one
// pass over the samples; drawing happens when the raster is painted.
func (c *Chart) SetData(lines []Line, opts Options) {
	c.opts = opts
	c.data = prepare(lines, maxDrawnLines)
	c.gen++
	c.Refresh()
}

// MinSize is small on purpose, so a chart can fill any panel of a dashboard grid.
func (c *Chart) MinSize() fyne.Size {
	c.ExtendBaseWidget(c)
	return c.BaseWidget.MinSize()
}

// CreateRenderer is a private method to Fyne which links this widget to its renderer.
func (c *Chart) CreateRenderer() fyne.WidgetRenderer {
	c.ExtendBaseWidget(c)
	return newRenderer(c)
}

// Tapped shows the crosshair at the tapped instant (touch screens have no hover).
func (c *Chart) Tapped(e *fyne.PointEvent) { c.showCrosshair(e.Position) }

// MouseIn shows the crosshair under the pointer.
func (c *Chart) MouseIn(e *desktop.MouseEvent) { c.showCrosshair(e.Position) }

// MouseMoved moves the crosshair with the pointer.
func (c *Chart) MouseMoved(e *desktop.MouseEvent) { c.showCrosshair(e.Position) }

// MouseOut hides the crosshair.
func (c *Chart) MouseOut() {
	c.hovering = false
	c.Refresh()
}

func (c *Chart) showCrosshair(p fyne.Position) {
	c.hovering, c.hoverPos = true, p
	c.Refresh()
}
