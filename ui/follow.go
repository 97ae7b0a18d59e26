package ui

import (
	"github.com/opscockpit/opscockpit/runbooks"
)

// View is what follow mode mirrors of a commander's screen: the layout, the selected
// alert and the open runbook section. (The incident travels with it; see cmd.)
type View struct {
	Layout        Layout
	Alert         string // fingerprint of the selected alert
	RunbookRoot   string
	RunbookPath   string
	RunbookAnchor string
}

// View is the view state on screen now.
func (c *Cockpit) View() View {
	v := View{Layout: c.layout, Alert: c.alerts.selected, RunbookAnchor: c.runbook.anchor}
	if rb := c.runbook.current; rb != nil {
		v.RunbookRoot, v.RunbookPath = rb.Root, rb.Path
	}
	return v
}

// noteView tells Deps.OnView when the view state changed.
func (c *Cockpit) noteView() {
	if c.deps.OnView == nil || c.alerts == nil || c.runbook == nil || c.body == nil {
		return // still being built
	}
	if v := c.View(); v != c.lastView {
		c.lastView = v
		c.deps.OnView(v)
	}
}

// ApplyView makes this screen show what a commander's shows (follow mode): the same
// layout, the same alert selected, the same runbook at the same section. Call it on the
// Fyne goroutine.
func (c *Cockpit) ApplyView(v View) {
	if v.Layout != "" && v.Layout != c.layout {
		c.layout = v.Layout
		c.arrange()
	}
	if v.Alert != "" && v.Alert != c.alerts.selected {
		c.alerts.selected, c.alerts.userPick = v.Alert, true
		c.alerts.selecting = true
		c.alerts.restoreSelection()
		c.alerts.selecting = false
		if a := c.alerts.selectedAlert(); a != nil {
			c.runbook.show(*a, c.deps.Now())
		}
	}
	rv := c.runbook
	if v.RunbookPath == "" {
		return
	}
	cur := rv.current
	if cur == nil || cur.Root != v.RunbookRoot || cur.Path != v.RunbookPath {
		if lister, ok := rv.finder.(interface{ All() []*runbooks.Runbook }); ok {
			for _, rb := range lister.All() {
				if rb.Root == v.RunbookRoot && rb.Path == v.RunbookPath {
					rv.open(rb, "", c.deps.Now())
					cur = rb
				}
			}
		}
	}
	if cur != nil && v.RunbookAnchor != rv.anchor {
		i, ok := rv.headings[v.RunbookAnchor]
		rv.anchor = v.RunbookAnchor
		rv.jumpBlock(i, ok)
	}
}
