package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// Shortcut is one key and what it does, for the help overlay.
type Shortcut struct {
	Key, What string
}

// Shortcuts the view handles itself (TypedRune). The window adds its own (F11, theme,
// layout, scenario controls) through ExtraShortcuts.
var viewShortcuts = []Shortcut{
	{"D", "declare an incident from the selected alert"},
	{"N", "add a note to the timeline"},
	{"K", "record a decision (\"X because Y\")"},
	{"S", "advance the status: investigating, identified, mitigated, resolved"},
	{"U", "draft a status update (copies it and restarts the update timer)"},
	{"O", "assign roles: commander, ops, comms, scribe"},
	{"E", "write the postmortem draft"},
	{"I", "action items: add one, or make one a risk in the register"},
	{"M", "set a milestone by hand, with the reason"},
	{"A", "acknowledge the selected alert"},
	{"X", "expire the selected alert's silences"},
	{"F", "cycle the timeline filter"},
	{"W", "open a window with one region, for another monitor"},
	{"/", "search the runbooks"},
	{"?", "show or hide this help"},
}

// TypedRune handles the view's keyboard shortcuts; it reports whether r was one. The
// window calls it for keys typed while no text box has the focus.
func (c *Cockpit) TypedRune(r rune) bool {
	iv := c.incidentV
	if c.deps.ReadOnly {
		switch r {
		case 'f', 'F', '/', '?', 'w', 'W':
		default:
			return strings.ContainsRune("dDnNkKsSuUoOeEaAiImMxX", r) // mirrored screens do not act
		}
	}
	switch r {
	case 'd', 'D':
		sel := c.alerts.selectedAlert()
		iv.declare(sel)
	case 'n', 'N':
		iv.focusEntry(entryNote)
	case 'k', 'K':
		iv.focusEntry(entryDecision)
	case 's', 'S':
		iv.advance()
	case 'u', 'U':
		iv.update()
	case 'o', 'O':
		iv.roles()
	case 'e', 'E':
		iv.export()
	case 'i', 'I':
		iv.actionItems()
	case 'm', 'M':
		iv.milestone()
	case 'a', 'A':
		c.detail.askAck()
	case 'x', 'X':
		c.detail.expire()
	case 'f', 'F':
		i := iv.filter.SelectedIndex()
		iv.filter.SetSelectedIndex((i + 1) % len(tlFilters))
	case 'w', 'W':
		c.askWindow()
	case '/':
		c.FocusRunbookSearch()
	case '?':
		c.ToggleHelp()
	default:
		return false
	}
	return true
}

// ExtraShortcuts are the window's own keys, listed in the help overlay after the view's.
var ExtraShortcuts []Shortcut

// ToggleHelp shows or hides the list of shortcuts. It needs no mouse: ? closes it too.
func (c *Cockpit) ToggleHelp() {
	if c.help != nil && c.help.Visible() {
		c.help.Hide()
		return
	}
	w := c.deps.Window
	if w == nil {
		return
	}
	grid := container.NewGridWithColumns(2)
	for _, s := range append(append([]Shortcut(nil), viewShortcuts...), ExtraShortcuts...) {
		k := widget.NewLabelWithStyle(s.Key, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true, Monospace: true})
		grid.Add(k)
		grid.Add(widget.NewLabel(s.What))
	}
	title := widget.NewLabelWithStyle("Keyboard — press ? to close", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	c.help = widget.NewModalPopUp(container.NewVBox(title, widget.NewSeparator(), grid), w.Canvas())
	c.help.Show()
}

// HelpVisible reports whether the shortcut overlay is up.
func (c *Cockpit) HelpVisible() bool { return c.help != nil && c.help.Visible() }

// askWindow asks which region to give a window of its own.
func (c *Cockpit) askWindow() {
	w := c.deps.Window
	if w == nil || c.deps.OpenWindow == nil {
		return
	}
	pick := widget.NewSelect(Regions, nil)
	pick.SetSelected(RegionMetrics)
	showForm("Open a window", "Open", "Cancel", []*widget.FormItem{widget.NewFormItem("Region", pick)}, func(ok bool) {
		if ok && pick.Selected != "" {
			c.deps.OpenWindow(pick.Selected)
		}
	}, w, 420)
}

// SetOpenWindow sets the hook W uses to open a region window (the window itself is the
// caller's to make: only cmd creates windows).
func (c *Cockpit) SetOpenWindow(f func(region string)) { c.deps.OpenWindow = f }
