package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"

	"github.com/opscockpit/opscockpit/runbooks"
)

// RunbookPage is one runbook on its own, rendered exactly as in the cockpit's runbook
// region: for `opscockpit runbook render` and for a window given over to a runbook.
type RunbookPage struct {
	v *runbookView
}

// NewRunbookPage uses d's Runbooks (for relative links), StaleRunbookAfter, Ticks,
// OnStep, PromQL and OpenURL.
func NewRunbookPage(d Deps) *RunbookPage {
	v := newRunbookView(d.Runbooks, d.StaleRunbookAfter, d.Ticks)
	v.promql, v.promqlEvery, v.onStep = d.PromQL, d.PromQLEvery, d.OnStep
	v.headless = d.Headless
	if d.OpenURL != nil {
		v.openURL = d.OpenURL
	}
	return &RunbookPage{v: v}
}

// Content is the page's canvas object.
func (p *RunbookPage) Content() fyne.CanvasObject { return p.v.box }

// Open shows rb as of now (for review age and live promql values), scrolled to anchor.
// Call it on the Fyne goroutine.
func (p *RunbookPage) Open(rb *runbooks.Runbook, anchor string, now time.Time) {
	p.v.open(rb, anchor, now)
}

// Settle waits until the page's promql blocks show their results, or ctx ends.
func (p *RunbookPage) Settle(ctx context.Context) error { return p.v.settle(ctx) }

// Settle waits until the runbook region's promql blocks show their results, or ctx
// ends: a headless snapshot calls it before capturing.
func (c *Cockpit) Settle(ctx context.Context) error { return c.runbook.settle(ctx) }

// RunbooksReloaded follows a reload of the runbook library (hot reload): the open
// runbook is re-rendered from its new parse, or kept with a warning when its file broke.
// Call it on the Fyne goroutine.
func (c *Cockpit) RunbooksReloaded(rep runbooks.LoadReport) { c.runbook.reloaded(rep) }

// FocusRunbookSearch puts the keyboard in the runbook search box.
func (c *Cockpit) FocusRunbookSearch() {
	if c.deps.Window != nil && c.runbook.search.Visible() {
		c.deps.Window.Canvas().Focus(c.runbook.search)
	}
}

// Jump scrolls the page to a section by its anchor ("" leaves it where it is).
func (p *RunbookPage) Jump(anchor string) {
	if anchor != "" {
		i, ok := p.v.headings[anchor]
		p.v.jumpBlock(i, ok)
	}
}
