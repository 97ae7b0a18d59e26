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
	"github.com/opscockpit/opscockpit/history"
)

// Alert list views.
const (
	viewFiring   = "Firing"
	viewSilenced = "Silenced"
	viewResolved = "Resolved"
	viewAll      = "All"
)

// groupNone lists alerts without group headers; the other choices are "by LABEL".
const groupNone = "no grouping"

// alertItem is one row of the list: a group header or an alert (by pointer into the
// snapshot's list, which is never modified, so ten thousand rows copy nothing).
type alertItem struct {
	header string
	count  int
	alert  *datasource.Alert
}

// alertsView lists the current alerts, most urgent first, in a virtualised list so that
// tens of thousands of rows cost no more than a screenful. A filter box takes
// Alertmanager matchers, a view picks firing / silenced / resolved, and rows can be
// grouped by a label.
type alertsView struct {
	all      []datasource.Alert
	shown    []*datasource.Alert // reused between rebuilds
	acks     map[string]history.Ack
	items    []alertItem
	now      time.Time
	list     *widget.List
	summary  *canvas.Text
	more     *canvas.Text
	filter   *widget.Entry
	controls *fyne.Container // filter box and view/group pickers (hidden in kiosk mode)
	filterOK *line
	view     *widget.Select
	group    *widget.Select
	box      fyne.CanvasObject

	rowHeight float32
	heights   []float32 // what the list was last told, by row
	parse     func(string) (func(map[string]string) bool, error)
	match     func(map[string]string) bool
	selected  string // fingerprint
	userPick  bool   // the user chose; stop following the top alert
	onSelect  func(datasource.Alert)
	selecting bool
}

// hiddenLabels are shown elsewhere in the row, so the label line skips them.
var hiddenLabels = map[string]bool{"alertname": true, "severity": true}

func newAlertsView(onSelect func(datasource.Alert), parse func(string) (func(map[string]string) bool, error)) *alertsView {
	v := &alertsView{onSelect: onSelect, parse: parse, summary: sectionTitle("ALERTS"), more: newText("", 0.8, false)}
	v.more.Color = ColorWarning
	v.list = widget.NewList(
		func() int { return len(v.items) },
		func() fyne.CanvasObject { return newAlertRow() },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(v.items) {
				o.(*alertRow).apply(v.items[id], v.acks, v.now)
			}
		},
	)
	v.list.OnSelected = func(id widget.ListItemID) {
		if id >= len(v.items) {
			return
		}
		it := v.items[id]
		if it.alert == nil { // headers are not selectable: go back to the alert
			v.selecting = true
			v.restoreSelection()
			v.selecting = false
			return
		}
		if !v.selecting {
			v.userPick = true
		}
		v.selected = it.alert.Fingerprint
		v.onSelect(*it.alert)
	}
	v.filter = widget.NewEntry()
	v.filter.SetPlaceHolder(`filter: severity="critical", service=~"check.*"`)
	v.filter.OnChanged = func(s string) { v.setFilter(s) }
	v.filterOK = newLine(SizeNameSmall, fyne.TextStyle{})
	v.filterOK.Hide()
	v.view = widget.NewSelect([]string{viewFiring, viewSilenced, viewResolved, viewAll}, func(string) { v.rebuild() })
	v.view.SetSelected(viewAll)
	v.group = widget.NewSelect([]string{groupNone, "by alertname", "by service", "by severity", "by team"}, func(string) { v.rebuild() })
	v.group.SetSelected("by alertname")
	controls := container.NewBorder(nil, nil, nil, container.NewHBox(v.view, v.group), v.filter)
	v.controls = controls
	top := container.NewVBox(container.NewHBox(v.summary, layout.NewSpacer(), v.more), controls, v.filterOK.RichText)
	v.box = container.NewBorder(top, nil, nil, nil, v.list)
	return v
}

// setFilter parses the filter box; a bad filter says why and keeps the last good one.
func (v *alertsView) setFilter(s string) {
	if strings.TrimSpace(s) == "" || v.parse == nil {
		v.match = nil
		v.filterOK.Hide()
		v.rebuild()
		return
	}
	m, err := v.parse(s)
	if err != nil {
		v.filterOK.set("filter not applied: "+err.Error(), theme.ColorNameError)
		v.filterOK.Show()
		return
	}
	v.match = m
	v.filterOK.Hide()
	v.rebuild()
}

func (v *alertsView) apply(s *cockpit.Snapshot) {
	v.all, v.acks, v.now = s.Alerts, s.Acks, s.At
	c := s.AlertCounts()
	setText(v.summary, fmt.Sprintf("ALERTS  ·  %d firing  ·  %d silenced  ·  %d resolved recently", c.Firing, c.Suppressed, c.Resolved), muted())
	if s.Truncated > 0 {
		setText(v.more, fmt.Sprintf("%d more not shown", s.Truncated), ColorWarning)
	} else {
		setText(v.more, "", ColorWarning)
	}
	v.rebuild()
}

// rebuild filters, groups and re-lists the alerts, keeping the selection.
func (v *alertsView) rebuild() {
	if v.view == nil || v.group == nil { // still being built
		return
	}
	view := v.view.Selected
	shown := v.shown[:0]
	for i := range v.all {
		a := &v.all[i]
		switch {
		case view == viewFiring && a.State != datasource.StateFiring,
			view == viewSilenced && a.State != datasource.StateSuppressed,
			view == viewResolved && a.State != datasource.StateResolved:
			continue
		}
		if v.match != nil && !v.match(a.Labels) {
			continue
		}
		shown = append(shown, a)
	}
	v.shown = shown
	v.items = v.items[:0]
	key := strings.TrimPrefix(v.group.Selected, "by ")
	if key == "" || key == groupNone {
		for _, a := range shown {
			v.items = append(v.items, alertItem{alert: a})
		}
	} else {
		// groups ordered by their most urgent member, which the alert order already gives
		var order []string
		members := map[string][]*datasource.Alert{}
		for _, a := range shown {
			g := a.Labels[key]
			if _, ok := members[g]; !ok {
				order = append(order, g)
			}
			members[g] = append(members[g], a)
		}
		for _, g := range order {
			name := g
			if name == "" {
				name = "(no " + key + ")"
			}
			if len(order) < len(shown) { // when every group has one alert, headers add nothing
				v.items = append(v.items, alertItem{header: key + ": " + name, count: len(members[g])})
			}
			for _, a := range members[g] {
				v.items = append(v.items, alertItem{alert: a})
			}
		}
	}
	if v.rowHeight == 0 {
		v.rowHeight = newAlertRow().MinSize().Height
	}
	// tell the list only about heights that changed: with thousands of rows and no
	// grouping this is nothing at all
	for i, it := range v.items {
		h := v.rowHeight
		if it.header != "" {
			h = textSize(theme.SizeNameText) * 2.2
		}
		if i >= len(v.heights) {
			v.heights = append(v.heights, v.rowHeight) // the list's default for new rows
		}
		if v.heights[i] != h {
			v.heights[i] = h
			v.list.SetItemHeight(i, h)
		}
	}
	v.list.Refresh()
	v.keepSelection()
}

func (v *alertsView) indexOf(fp string) int {
	return slices.IndexFunc(v.items, func(it alertItem) bool { return it.alert != nil && it.alert.Fingerprint == fp })
}

func (v *alertsView) restoreSelection() {
	if i := v.indexOf(v.selected); i >= 0 {
		v.list.Select(i)
	} else {
		v.list.UnselectAll()
	}
}

// keepSelection re-selects the chosen alert after the rows moved; until the user picks
// one, the selection follows the most urgent alert so its runbook is always on screen.
func (v *alertsView) keepSelection() {
	first := slices.IndexFunc(v.items, func(it alertItem) bool { return it.alert != nil })
	if first < 0 {
		v.list.UnselectAll()
		v.selected, v.userPick = "", false
		v.onSelect(datasource.Alert{})
		return
	}
	idx := v.indexOf(v.selected)
	if idx < 0 || !v.userPick {
		if idx < 0 {
			v.userPick = false
		}
		idx = first
	}
	v.selecting = true
	v.list.Select(idx)
	v.selecting = false
	v.onSelect(*v.items[idx].alert) // the alert may have changed state even if the row did not
}

// tick refreshes ages.
func (v *alertsView) tick(now time.Time) {
	v.now = now
	v.list.Refresh()
}

// alertRow: severity badge · name · ack · age on the first line; the summary then the
// labels on the second (two lines a row, so a storm shows more alerts). As a group
// header it shows only the group's name and size.
type alertRow struct {
	widget.BaseWidget
	sev    *badge
	ack    *badge
	name   *line
	age    *canvas.Text
	second *widget.RichText // summary, then labels
	sumSeg *widget.TextSegment
	labSeg *widget.TextSegment
	header *line
	line1  *fyne.Container
	body   *fyne.Container
	box    *fyne.Container
}

func newAlertRow() *alertRow {
	r := &alertRow{
		sev:    newBadge("CRIT", ColorCritical, 1.1),
		ack:    newBadge("", ColorInfo, 0.9),
		name:   newLine(SizeNameEmphasis, fyne.TextStyle{Bold: true}),
		age:    newText("", 1.1, true),
		sumSeg: &widget.TextSegment{Style: widget.RichTextStyle{Inline: true, SizeName: theme.SizeNameText, ColorName: theme.ColorNameForeground}},
		labSeg: &widget.TextSegment{Style: widget.RichTextStyle{Inline: true, SizeName: SizeNameSmall, ColorName: ColorNameMuted,
			TextStyle: fyne.TextStyle{Monospace: true}}},
		header: newLine(theme.SizeNameText, fyne.TextStyle{Bold: true}),
	}
	r.age.TextStyle.Monospace = true
	sev := sizedLike(r.sev.box, "CRITICAL", theme.SizeNameCaptionText, 1.1, 20)
	r.age.Alignment = fyne.TextAlignTrailing
	// a fixed-width age column: texts that change width would otherwise need a relayout
	age := sizedLike(r.age, "for 23h59m", theme.SizeNameText, 1.1, 8)
	right := container.NewHBox(container.NewCenter(r.ack.box), container.NewCenter(age))
	line1 := container.NewBorder(nil, nil, container.NewCenter(sev), right, r.name.RichText)
	r.line1 = line1
	r.second = widget.NewRichText(r.sumSeg, r.labSeg)
	r.second.Truncation = fyne.TextTruncateEllipsis
	r.body = container.NewVBox(line1, container.New(layout.NewCustomPaddedLayout(-6, 0, 96, 0), r.second))
	r.box = container.NewStack(r.body, r.header.RichText)
	r.header.Hide()
	r.ExtendBaseWidget(r)
	return r
}

// CreateRenderer draws the row's fixed set of objects.
func (r *alertRow) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(r.box) }

func (r *alertRow) apply(it alertItem, acks map[string]history.Ack, now time.Time) {
	if it.header != "" {
		r.body.Hide()
		r.header.set(fmt.Sprintf("%s  ·  %d", it.header, it.count), ColorNameMuted)
		r.header.Show()
		return
	}
	r.header.Hide()
	r.body.Show()
	a := *it.alert
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
	if ack, ok := acks[a.Fingerprint]; ok && !ack.At.Before(a.StartsAt) {
		r.ack.set("ACK "+ack.By, ColorInfo)
		if !r.ack.box.Visible() {
			r.ack.box.Show()
			r.line1.Refresh() // the badge takes room from the name: lay the line out again
		}
	} else if r.ack.box.Visible() {
		r.ack.box.Hide()
		r.line1.Refresh()
	}
	summary := a.Annotations["summary"]
	if summary == "" {
		summary = a.Annotations["description"]
	}
	if summary != "" {
		summary += "    "
	}
	if labels := labelLine(a.Labels); r.sumSeg.Text != summary || r.labSeg.Text != labels || r.sumSeg.Style.ColorName != nameCol {
		r.sumSeg.Text, r.labSeg.Text, r.sumSeg.Style.ColorName = summary, labels, nameCol
		r.second.Refresh()
	}
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

// selectedAlert is the alert the runbook and detail show, or nil.
func (v *alertsView) selectedAlert() *datasource.Alert {
	if i := v.indexOf(v.selected); i >= 0 {
		a := *v.items[i].alert
		return &a
	}
	return nil
}
