package ui

import (
	"fmt"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"

	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/datasource"
)

// header is the top bar: what this screen is about, how bad things are right now, the
// time, where a scenario is, and whether every source is healthy.
type header struct {
	title    *canvas.Text
	subtitle *canvas.Text
	crit     *badge
	warn     *badge
	clock    *canvas.Text
	date     *canvas.Text
	scenario *badge
	risks    *badge // risks materialising now, on every layout
	note     string // e.g. the follow-mode status
	sources  *fyne.Container
	chips    map[string]*sourceChip
	box      fyne.CanvasObject
	bg       *canvas.Rectangle
}

func newHeader() *header {
	h := &header{
		title:    newText("OpsCockpit", 1.6, true),
		subtitle: newText("", 0.9, false),
		crit:     newBadge("", ColorCritical, 1.5),
		warn:     newBadge("", ColorWarning, 1.5),
		clock:    newText("--:--:--", 2.2, true),
		date:     newText("", 0.9, false),
		scenario: newBadge("", ColorInfo, 1.2),
		sources:  container.NewHBox(),
		chips:    map[string]*sourceChip{},
	}
	h.clock.TextStyle.Monospace = true
	h.subtitle.Color = muted()
	h.date.Color = muted()
	h.date.Alignment = fyne.TextAlignTrailing
	left := container.NewVBox(h.title, container.NewHBox(h.subtitle, h.sources))
	h.risks = newBadge("", ColorCritical, 0.9) // smaller than the alert counts: it must fit beside them on a wall screen
	h.risks.box.Hide()
	counts := container.NewHBox(h.crit.box, h.warn.box, container.NewCenter(h.risks.box))
	right := container.NewHBox(container.NewCenter(h.scenario.box), layout.NewSpacer(),
		container.NewVBox(h.clock, h.date))
	h.bg = canvas.NewRectangle(theme.Color(ColorNameSurface))
	row := container.NewBorder(nil, nil, left, right, container.NewCenter(counts))
	h.box = container.NewStack(h.bg, container.New(layout.NewCustomPaddedLayout(6, 6, 14, 14), row))
	return h
}

// apply shows a snapshot's title, alert counts, scenario position and source health.
func (h *header) apply(s *cockpit.Snapshot) {
	h.bg.FillColor = theme.Color(ColorNameSurface)
	h.bg.Refresh()
	title := s.Title
	if title == "" {
		title = "OpsCockpit"
	}
	setText(h.title, title, fg())

	if r := s.Risks; r != nil && len(r.Materialising) > 0 {
		text := fmt.Sprintf("%d RISKS MATERIALISING", len(r.Materialising))
		if len(r.Materialising) == 1 {
			text = "1 RISK MATERIALISING"
		}
		h.risks.set(text, ColorCritical)
		h.risks.box.Show()
	} else {
		h.risks.box.Hide()
	}
	c := s.AlertCounts()
	switch {
	case c.Critical > 0:
		h.crit.set(fmt.Sprintf("%d CRITICAL", c.Critical), ColorCritical)
		h.crit.box.Show()
	case s.AlertFeeds == 0: // nothing watched: an empty list proves nothing
		h.crit.set("NO ALERT FEED", ColorMuted)
		h.crit.box.Show()
	case c.Firing == 0:
		h.crit.set("ALL CLEAR", ColorOK)
		h.crit.box.Show()
	default:
		h.crit.box.Hide()
	}
	if c.Warning > 0 {
		h.warn.set(fmt.Sprintf("%d WARNING", c.Warning), ColorWarning)
		h.warn.box.Show()
	} else {
		h.warn.box.Hide()
	}

	if sc := s.Scenario; sc.Name != "" {
		state := fmt.Sprintf("%gx", sc.Speed)
		if sc.Paused {
			state = "PAUSED"
		}
		h.scenario.set(fmt.Sprintf("DRILL  T+%s / %s  %s", cockpit.ClockOffset(sc.Offset), cockpit.ClockOffset(sc.Duration), state), ColorInfo)
		h.scenario.box.Show()
		setText(h.subtitle, joinNote("Scenario: "+sc.Name, h.note), muted())
	} else {
		h.scenario.box.Hide()
		setText(h.subtitle, joinNote("", h.note), muted())
	}
	h.applySources(s)
	h.tick(s.At)
	h.box.Refresh() // texts changed width: lay the bar out again
}

func (h *header) applySources(s *cockpit.Snapshot) {
	seen := map[string]bool{}
	changed := false
	for _, hl := range s.Sources {
		seen[hl.Source] = true
		chip, ok := h.chips[hl.Source]
		if !ok {
			chip = newSourceChip()
			h.chips[hl.Source] = chip
			changed = true
		}
		chip.apply(hl, s.At)
	}
	for name := range h.chips {
		if !seen[name] {
			delete(h.chips, name)
			changed = true
		}
	}
	if changed {
		objs := make([]fyne.CanvasObject, 0, len(s.Sources))
		for _, hl := range s.Sources {
			objs = append(objs, h.chips[hl.Source].box)
		}
		h.sources.Objects = objs
		h.sources.Refresh()
	}
}

// tick moves the clock; it runs every second between snapshots.
func (h *header) tick(now time.Time) {
	setText(h.clock, now.Format("15:04:05"), fg())
	setText(h.date, now.Format("Mon 2 Jan 2006 MST"), muted())
}

func setText(t *canvas.Text, s string, c color.Color) {
	if t.Text == s && t.Color == c {
		return
	}
	t.Text, t.Color = s, c
	t.Refresh()
}

// sourceChip is a coloured dot and a source's name, with how long it has been down.
type sourceChip struct {
	dot  *canvas.Circle
	text *canvas.Text
	box  *fyne.Container
}

func newSourceChip() *sourceChip {
	c := &sourceChip{dot: canvas.NewCircle(ColorMuted), text: newText("", 0.9, false)}
	dot := container.NewGridWrap(fyne.NewSize(10, 10), c.dot)
	c.box = container.NewHBox(container.NewCenter(dot), c.text)
	return c
}

func (c *sourceChip) apply(h datasource.Health, now time.Time) {
	col, label := ColorMuted, h.Source+" ·  connecting"
	switch h.State {
	case datasource.HealthUp:
		col, label = ColorOK, h.Source
	case datasource.HealthDown:
		col = ColorCritical
		label = fmt.Sprintf("%s DOWN since %s (%s)", h.Source, h.ErrorSince.Format("15:04:05"), cockpit.HumanDuration(now.Sub(h.ErrorSince)))
	}
	c.dot.FillColor = col
	c.dot.Refresh()
	setText(c.text, label, fg())
}

func joinNote(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "  ·  " + b
}

// SetNote shows a short status in the header (follow mode: "following … — live").
// Call it on the Fyne goroutine.
func (c *Cockpit) SetNote(s string) {
	c.header.note = s
	if c.last != nil {
		c.header.apply(c.last)
	}
}
