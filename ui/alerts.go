package ui

import (
	"fmt"
	"image/color"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/datasource"
)

// alertsView lists the current alerts, most urgent first, in a virtualised list so that
// tens of thousands of rows cost no more than a screenful.
type alertsView struct {
	alerts    []datasource.Alert
	now       time.Time
	list      *widget.List
	summary   *canvas.Text
	more      *canvas.Text
	box       fyne.CanvasObject
	selected  string // fingerprint
	userPick  bool   // the user chose; stop following the top alert
	onSelect  func(datasource.Alert)
	selecting bool
}

// hiddenLabels are shown elsewhere in the row, so the label line skips them.
var hiddenLabels = map[string]bool{"alertname": true, "severity": true}

func newAlertsView(onSelect func(datasource.Alert)) *alertsView {
	v := &alertsView{onSelect: onSelect, summary: sectionTitle("ALERTS"), more: newText("", 0.8, false)}
	v.more.Color = ColorWarning
	v.list = widget.NewList(
		func() int { return len(v.alerts) },
		func() fyne.CanvasObject { return newAlertRow() },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(v.alerts) {
				o.(*alertRow).apply(v.alerts[id], v.now)
			}
		},
	)
	v.list.OnSelected = func(id widget.ListItemID) {
		if id >= len(v.alerts) {
			return
		}
		a := v.alerts[id]
		if !v.selecting {
			v.userPick = true
		}
		v.selected = a.Fingerprint
		v.onSelect(a)
	}
	top := container.NewHBox(v.summary, layout.NewSpacer(), v.more)
	v.box = container.NewBorder(top, nil, nil, nil, v.list)
	return v
}

func (v *alertsView) apply(s *cockpit.Snapshot) {
	v.alerts, v.now = s.Alerts, s.At
	c := s.AlertCounts()
	setText(v.summary, fmt.Sprintf("ALERTS  ·  %d firing  ·  %d suppressed  ·  %d resolved recently", c.Firing, c.Suppressed, c.Resolved), muted())
	if s.Truncated > 0 {
		setText(v.more, fmt.Sprintf("%d more not shown", s.Truncated), ColorWarning)
	} else {
		setText(v.more, "", ColorWarning)
	}
	v.list.Refresh()
	v.keepSelection()
}

// keepSelection re-selects the chosen alert after the rows moved; until the user picks
// one, the selection follows the most urgent alert so its runbook is always on screen.
func (v *alertsView) keepSelection() {
	if len(v.alerts) == 0 {
		v.list.UnselectAll()
		v.selected, v.userPick = "", false
		v.onSelect(datasource.Alert{})
		return
	}
	idx := slices.IndexFunc(v.alerts, func(a datasource.Alert) bool { return a.Fingerprint == v.selected })
	if idx < 0 || !v.userPick {
		if idx < 0 {
			v.userPick = false
		}
		idx = 0
	}
	v.selecting = true
	v.list.Select(idx)
	v.selecting = false
	v.onSelect(v.alerts[idx]) // the alert may have changed state even if the row did not
}

// tick refreshes ages.
func (v *alertsView) tick(now time.Time) {
	v.now = now
	v.list.Refresh()
}

// alertRow: severity badge · name · age on the first line; summary; labels.
type alertRow struct {
	widget.BaseWidget
	sev     *badge
	name    *line
	age     *canvas.Text
	summary *line
	labels  *line
	box     *fyne.Container
}

func newAlertRow() *alertRow {
	r := &alertRow{
		sev:     newBadge("CRIT", ColorCritical, 1.1),
		name:    newLine(SizeNameEmphasis, fyne.TextStyle{Bold: true}),
		age:     newText("", 1.1, true),
		summary: newLine(theme.SizeNameText, fyne.TextStyle{}),
		labels:  newLine(SizeNameSmall, fyne.TextStyle{Monospace: true}),
	}
	r.age.TextStyle.Monospace = true
	sev := container.NewGridWrap(fyne.NewSize(88, 26), r.sev.box)
	r.age.Alignment = fyne.TextAlignTrailing
	// a fixed-width age column: texts that change width would otherwise need a relayout
	age := container.NewGridWrap(fyne.NewSize(150, r.age.MinSize().Height), r.age)
	line1 := container.NewBorder(nil, nil, container.NewCenter(sev), container.NewCenter(age), r.name.RichText)
	r.box = container.NewVBox(line1, container.New(layout.NewCustomPaddedLayout(0, 0, 96, 0), container.NewVBox(r.summary.RichText, r.labels.RichText)))
	r.ExtendBaseWidget(r)
	return r
}

// CreateRenderer draws the row's fixed set of objects.
func (r *alertRow) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(r.box) }

func (r *alertRow) apply(a datasource.Alert, now time.Time) {
	sevText, sevCol := severityBadge(a)
	r.sev.set(sevText, sevCol)
	nameCol, ageCol := theme.ColorNameForeground, fg()
	if a.State != datasource.StateFiring {
		nameCol, ageCol = ColorNameMuted, muted()
	}
	r.name.set(a.Name(), nameCol)
	age := "for " + cockpit.HumanDuration(now.Sub(a.StartsAt))
	if a.State == datasource.StateResolved && !a.EndsAt.IsZero() {
		age = "ended " + cockpit.HumanDuration(now.Sub(a.EndsAt)) + " ago"
	}
	setText(r.age, age, ageCol)
	summary := a.Annotations["summary"]
	if summary == "" {
		summary = a.Annotations["description"]
	}
	r.summary.set(summary, nameCol)
	r.labels.set(labelLine(a.Labels), ColorNameMuted)
}

func severityBadge(a datasource.Alert) (string, color.Color) {
	switch a.State {
	case datasource.StateResolved:
		return "RESOLVED", ColorOK
	case datasource.StateSuppressed:
		return "SILENCED", ColorMuted
	}
	sev := a.Severity()
	if sev == "" {
		sev = "none"
	}
	return strings.ToUpper(sev), SeverityColor(sev)
}

func labelLine(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		if !hiddenLabels[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString("  ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(labels[k])
	}
	return b.String()
}
