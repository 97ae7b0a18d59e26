package ui

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
)

// Region names: the parts of the cockpit a layout arranges and a window can be given
// on its own (`--window metrics --window alerts`).
const (
	RegionMetrics  = "metrics"
	RegionAlerts   = "alerts"
	RegionRunbook  = "runbook"
	RegionIncident = "incident"
	RegionRisks    = "risks"
)

// Regions lists every region name in display order.
var Regions = []string{RegionMetrics, RegionAlerts, RegionRunbook, RegionIncident, RegionRisks}

// Layout is a named arrangement of the regions, switchable by key.
type Layout string

// The layout presets.
const (
	// LayoutCommander: charts over the incident timeline on the left; alerts over the
	// selected alert's runbook on the right. What the incident commander drives from.
	LayoutCommander Layout = "commander"
	// LayoutWall: charts take most of the screen, alerts and risks beside them: the
	// overview on a wall display nobody touches.
	LayoutWall Layout = "wall"
	// LayoutRunbook: the runbook large, with alerts and the timeline beside it, for the
	// person working through the steps.
	LayoutRunbook Layout = "runbook"
	// LayoutRisk: the risk register large, with the alerts that may be materialising
	// risks beside it, for a risk review.
	LayoutRisk Layout = "risk"
)

// Layouts lists the presets in the order the layout key cycles through them.
var Layouts = []Layout{LayoutCommander, LayoutWall, LayoutRunbook, LayoutRisk}

// ParseLayout reads a layout preset name.
func ParseLayout(s string) (Layout, error) {
	l := Layout(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Layouts, l) {
		return l, nil
	}
	names := make([]string, len(Layouts))
	for i, x := range Layouts {
		names[i] = string(x)
	}
	return "", fmt.Errorf("unknown layout %q (want %s)", s, strings.Join(names, ", "))
}

// ParseRegions checks window region names (`--window metrics`).
func ParseRegions(names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if !slices.Contains(Regions, n) {
			return nil, fmt.Errorf("unknown region %q (want %s)", n, strings.Join(Regions, ", "))
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

func hsplit(a, b fyne.CanvasObject, off float64) *container.Split {
	s := container.NewHSplit(a, b)
	s.Offset = off
	return s
}

func vsplit(a, b fyne.CanvasObject, off float64) *container.Split {
	s := container.NewVSplit(a, b)
	s.Offset = off
	return s
}

// arrange builds the body for a layout from the region objects (each is placed once).
// It also returns the split that holds the incident region under another one, so the
// view can give the incident more room while one is open.
func arrange(l Layout, r map[string]fyne.CanvasObject) (fyne.CanvasObject, *container.Split) {
	switch l {
	case LayoutWall:
		return hsplit(r[RegionMetrics], vsplit(r[RegionAlerts], r[RegionRisks], 0.62), 0.66), nil
	case LayoutRunbook:
		inc := vsplit(r[RegionAlerts], r[RegionIncident], 0.45)
		return hsplit(r[RegionRunbook], inc, 0.6), inc
	case LayoutRisk:
		return hsplit(r[RegionRisks], vsplit(r[RegionAlerts], r[RegionMetrics], 0.45), 0.6), nil
	}
	inc := vsplit(r[RegionMetrics], r[RegionIncident], 0.6)
	return hsplit(inc, vsplit(r[RegionAlerts], r[RegionRunbook], 0.4), 0.58), inc
}

// fitIncident gives the incident region its room: most of its split while an incident
// is open, a strip when none is (its "how to declare" line needs little).
func (c *Cockpit) fitIncident() {
	sp := c.incSplit
	if sp == nil {
		return
	}
	active := c.last != nil && c.last.Incident != nil && c.last.Incident.Active
	want := 0.86
	if active {
		want = 0.58
		if c.layout == LayoutRunbook {
			want = 0.45
		}
	} else if c.layout == LayoutRunbook {
		want = 0.8
	}
	if sp.Offset != want {
		sp.SetOffset(want)
	}
}

// arrangeRegions builds the body of a window given over to chosen regions: one fills
// it, several share it side by side (a tall screen would want them stacked; a window's
// regions are for a monitor each, so there are rarely more than two).
func arrangeRegions(names []string, r map[string]fyne.CanvasObject) fyne.CanvasObject {
	objs := make([]fyne.CanvasObject, 0, len(names))
	for _, n := range names {
		objs = append(objs, r[n])
	}
	switch len(objs) {
	case 0:
		return container.NewStack()
	case 1:
		return objs[0]
	case 2:
		return hsplit(objs[0], objs[1], 0.5)
	}
	return container.NewGridWithColumns(len(objs), objs...)
}

// SetKiosk switches the view between desk and war-room presentation. On a wall screen
// nobody types: the filter, search and outline controls give their room to the data,
// and nothing on screen needs a mouse. Call it on the Fyne goroutine.
func (c *Cockpit) SetKiosk(on bool) {
	c.kiosk = on
	c.runbook.kiosk = on
	for _, o := range []fyne.CanvasObject{c.alerts.controls, c.runbook.search, c.runbook.outline} {
		if on {
			o.Hide()
		} else {
			o.Show()
		}
	}
	if !on && len(c.runbook.anchors) < 2 {
		c.runbook.outline.Hide()
	}
	c.Refresh()
}

// Kiosk reports whether the war-room presentation is on.
func (c *Cockpit) Kiosk() bool { return c.kiosk }
