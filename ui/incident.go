package ui

import (
	"context"
	"fmt"
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/incident"
)

// IncidentActions are what a commander does to an incident. They go down to the
// incident store (which records them on the timeline) and come back up as new state
// through the hub; the view never changes itself before the store agrees. Calls run off
// the UI goroutine (on it, in a headless view) and may block on the disk.
type IncidentActions interface {
	Declare(ctx context.Context, d incident.Declaration) (incident.Incident, error)
	Note(ctx context.Context, id int64, text string) error
	Decide(ctx context.Context, id int64, decision, because string) error
	SetStatus(ctx context.Context, id int64, to incident.Status) error
	SetRole(ctx context.Context, id int64, r incident.Role, name string) error
	SendUpdate(ctx context.Context, id int64, u incident.StatusUpdate) error
	// Export writes the postmortem draft and says where.
	Export(ctx context.Context, id int64) (string, error)
	// Me is the name actions are recorded under.
	Me() string
	// SetMilestone sets a milestone by hand, with the reason (it wins over the data).
	SetMilestone(ctx context.Context, id int64, k incident.MilestoneKind, at time.Time, reason string) error
	// AddActionItem records a postmortem follow-up.
	AddActionItem(ctx context.Context, id int64, a incident.ActionItem) error
	// ActionToRisk opens a risk in the register for an action item and keeps the link;
	// it returns the new risk's id.
	ActionToRisk(ctx context.Context, id int64, a incident.ActionItem) (string, error)
}

// Timeline filters.
const (
	tlAll       = "Everything"
	tlHuman     = "People: notes, decisions, status, roles"
	tlDecisions = "Decisions"
	tlAlerts    = "Alerts, acks, silences"
	tlRunbook   = "Runbook steps"
)

var tlFilters = []string{tlAll, tlHuman, tlDecisions, tlAlerts, tlRunbook}

func tlKeep(filter string, k incident.Kind) bool {
	switch filter {
	case tlHuman:
		switch k {
		case incident.KindNote, incident.KindDecision, incident.KindStatusChange, incident.KindRoleChange,
			incident.KindSeverityChange, incident.KindMilestoneSet, incident.KindStatusUpdateSent, incident.KindCorrection:
			return true
		}
		return false
	case tlDecisions:
		return k == incident.KindDecision
	case tlAlerts:
		return k == incident.KindAlertFiring || k == incident.KindAlertResolved || k == incident.KindAck || k == incident.KindSilence
	case tlRunbook:
		return k == incident.KindRunbookStep
	}
	return true
}

// kindLabel is the short badge text and colour of a timeline entry kind.
func kindLabel(k incident.Kind) (string, color.Color) {
	switch k {
	case incident.KindAlertFiring:
		return "FIRING", ColorCritical
	case incident.KindAlertResolved:
		return "RESOLVED", ColorOK
	case incident.KindAck:
		return "ACK", ColorInfo
	case incident.KindSilence:
		return "SILENCE", ColorMuted
	case incident.KindRunbookStep:
		return "STEP", ColorInfo
	case incident.KindRiskChange:
		return "RISK", ColorWarning
	case incident.KindNote:
		return "NOTE", ColorMuted
	case incident.KindDecision:
		return "DECISION", ColorWarning
	case incident.KindStatusChange:
		return "STATUS", ColorInfo
	case incident.KindRoleChange:
		return "ROLE", ColorMuted
	case incident.KindMilestoneSet:
		return "MILESTONE", ColorInfo
	case incident.KindSeverityChange:
		return "SEVERITY", ColorWarning
	case incident.KindStatusUpdateSent:
		return "UPDATE", ColorOK
	case incident.KindCorrection:
		return "CORRECTION", ColorWarning
	}
	return strings.ToUpper(string(k)), ColorMuted
}

// SeverityColor of an incident severity: SEV1 and SEV2 are red, SEV3 amber, SEV4 blue.
func incidentSevColor(s incident.Severity) color.Color {
	switch s {
	case incident.SEV1, incident.SEV2:
		return ColorCritical
	case incident.SEV3:
		return ColorWarning
	}
	return ColorInfo
}

func statusColor(s incident.Status) color.Color {
	switch s {
	case incident.Investigating:
		return ColorCritical
	case incident.Identified:
		return ColorWarning
	case incident.Mitigated:
		return ColorInfo
	}
	return ColorOK
}

// incidentStrip is the band under the header while an incident is open: what it is,
// how bad, where it stands, who leads, how long it has run and when the room owes the
// next status update. It is always on screen, in every layout and in kiosk mode.
type incidentStrip struct {
	sev     *badge
	title   *canvas.Text
	status  *badge
	ic      *canvas.Text
	clocks  *canvas.Text
	update  *badge
	box     *fyne.Container
	bg      *canvas.Rectangle
	state   *cockpit.IncidentState
	visible bool
}

func newIncidentStrip() *incidentStrip {
	s := &incidentStrip{
		sev:    newBadge("SEV", ColorCritical, 1.4),
		title:  newText("", 1.35, true),
		status: newBadge("", ColorInfo, 1.3),
		ic:     newText("", 1.05, false),
		clocks: newText("", 1.05, true),
		update: newBadge("", ColorOK, 1.3),
	}
	s.clocks.TextStyle.Monospace = true
	s.bg = canvas.NewRectangle(theme.Color(ColorNameSurfaceRaised))
	left := container.NewHBox(container.NewCenter(s.sev.box), container.NewCenter(s.title), container.NewCenter(s.status.box))
	right := container.NewHBox(container.NewCenter(s.ic), container.NewCenter(s.clocks), layout.NewSpacer(), container.NewCenter(s.update.box))
	s.box = container.NewStack(s.bg, container.New(layout.NewCustomPaddedLayout(4, 4, 14, 14), container.NewBorder(nil, nil, left, right)))
	s.box.Hide()
	return s
}

func (s *incidentStrip) apply(st *cockpit.IncidentState, now time.Time) {
	s.state = st
	if st == nil || !st.Active {
		if s.box.Visible() {
			s.box.Hide()
		}
		return
	}
	inc := st.Incident
	s.bg.FillColor = theme.Color(ColorNameSurfaceRaised)
	s.bg.Refresh()
	s.sev.set(inc.Severity.String(), incidentSevColor(inc.Severity))
	setText(s.title, inc.Ref()+"  "+inc.Title, fg())
	s.status.set(strings.ToUpper(string(inc.Status)), statusColor(inc.Status))
	ic := inc.Roles[incident.Commander]
	if ic == "" {
		ic = "no IC yet"
	} else {
		ic = "IC " + ic
	}
	setText(s.ic, ic+"   ·", muted())
	s.tick(now)
	if !s.box.Visible() {
		s.box.Show()
	}
}

// tick moves the clocks and the update timer on.
func (s *incidentStrip) tick(now time.Time) {
	st := s.state
	if st == nil || !st.Active {
		return
	}
	cs := incident.Clocks(st.Incident, st.Policy, now)
	setText(s.clocks, fmt.Sprintf("DETECTED %s ago  ·  DECLARED %s ago", incident.FormatDuration(cs.SinceDetection),
		incident.FormatDuration(cs.SinceDeclaration)), fg())
	switch cs.Update {
	case incident.UpdateOff:
		s.update.set("RESOLVED", ColorOK)
	case incident.UpdateRed:
		s.update.set("UPDATE OVERDUE "+incident.FormatDuration(-cs.UpdateIn), ColorCritical)
	case incident.UpdateAmber:
		s.update.set("NEXT UPDATE IN "+incident.FormatDuration(cs.UpdateIn), ColorWarning)
	default:
		s.update.set("NEXT UPDATE "+cs.NextUpdateAt.Local().Format("15:04"), ColorOK)
	}
}

// incidentView is the incident region: milestones, the timeline with its filter, and
// the scribe's entry box; or, with no incident open, how to declare one and the record.
type incidentView struct {
	c          *Cockpit
	actions    IncidentActions
	head       *canvas.Text
	miles      *fyne.Container
	durs       *canvas.Text
	filter     *widget.Select
	list       *widget.List
	shown      []incident.Entry // filtered, newest first
	kind       *widget.Select
	entry      *widget.Entry
	status     *line // the last action's outcome: "NOT SAVED: …" stays until the next one
	empty      *fyne.Container
	active     *fyne.Container
	box        *fyne.Container
	state      *cockpit.IncidentState
	lastSeen   int // timeline length last shown, to keep the list still when nothing changed
	actionsBtn *widget.Button
	history    *fyne.Container // past incidents with their durations, when none is open
}

const (
	entryNote     = "Note"
	entryDecision = "Decision"
)

func newIncidentView(c *Cockpit, actions IncidentActions) *incidentView {
	v := &incidentView{c: c, actions: actions,
		head:   newText("", 1, true),
		durs:   newText("", 0.9, false),
		miles:  container.NewGridWithColumns(5),
		status: newLine(SizeNameSmall, fyne.TextStyle{Bold: true}),
	}
	v.durs.TextStyle.Monospace = true
	v.filter = widget.NewSelect(tlFilters, func(string) { v.refilter() })
	v.filter.SetSelected(tlAll)
	v.list = widget.NewList(func() int { return len(v.shown) }, newTimelineRow, func(i widget.ListItemID, o fyne.CanvasObject) {
		if i < len(v.shown) {
			updateTimelineRow(o, v.shown[i])
		}
	})
	v.kind = widget.NewSelect([]string{entryNote, entryDecision}, func(k string) {
		if k == entryDecision {
			v.entry.SetPlaceHolder("Decision: what, then ' because ' why  (K)")
		} else {
			v.entry.SetPlaceHolder("Add to the timeline  (N)")
		}
	})
	v.entry = widget.NewEntry()
	v.kind.SetSelected(entryNote)
	v.entry.OnSubmitted = func(string) { v.submit() }
	add := widget.NewButtonWithIcon("Add", theme.ContentAddIcon(), v.submit)
	v.status.Hide()
	entryRow := container.NewBorder(nil, nil, v.kind, add, v.entry)
	if c.deps.ReadOnly {
		entryRow.Hide() // a follower mirrors the commander's timeline; it does not write to it
	}
	bottom := container.NewVBox(v.status.RichText, entryRow)
	v.actionsBtn = widget.NewButton("Action items (I)", v.actionItems)
	v.actionsBtn.Importance = widget.LowImportance
	if c.deps.ReadOnly {
		v.actionsBtn.Hide()
	}
	top := container.NewVBox(container.NewBorder(nil, nil, nil, container.NewHBox(v.actionsBtn, v.filter), v.head), v.miles, v.durs)
	v.active = container.NewBorder(top, bottom, nil, nil, v.list)

	hint := widget.NewLabel("")
	hint.Wrapping = fyne.TextWrapWord
	v.history = container.NewVBox()
	v.empty = container.NewBorder(hint, nil, nil, nil, container.NewVScroll(v.history))
	v.box = container.NewStack(v.empty)
	v.showEmpty(nil)
	return v
}

func newTimelineRow() fyne.CanvasObject {
	at := newText("00:00:00", 0.95, true)
	at.TextStyle.Monospace = true
	kind := newBadge("DECISION", ColorMuted, 0.9)
	text := newLine(theme.SizeNameText, fyne.TextStyle{})
	who := newText("", 0.8, false)
	who.Color = muted()
	left := container.NewHBox(container.NewCenter(at), sizedLike(kind.box, "CORRECTION", theme.SizeNameCaptionText, 0.9, 18))
	row := container.NewBorder(nil, nil, left, container.NewCenter(who), text.RichText)
	r := &timelineRow{content: row, at: at, kind: kind, text: text, who: who}
	r.ExtendBaseWidget(r)
	return r
}

// timelineRow is one list row: a widget, so the list lays it out and paints its parts.
type timelineRow struct {
	widget.BaseWidget
	content *fyne.Container
	at      *canvas.Text
	kind    *badge
	text    *line
	who     *canvas.Text
}

func (r *timelineRow) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(r.content)
}

func updateTimelineRow(o fyne.CanvasObject, e incident.Entry) {
	r, ok := o.(*timelineRow)
	if !ok {
		return
	}
	setText(r.at, e.At.Local().Format("15:04:05"), fg())
	label, col := kindLabel(e.Kind)
	r.kind.set(label, col)
	text := e.Text
	if e.Kind == incident.KindDecision {
		var f incident.DecisionFields
		if e.Decode(&f) == nil && f.Because != "" {
			text += " — because " + f.Because
		}
	}
	colName := theme.ColorNameForeground
	if e.CorrectedBy != 0 {
		text += "  (corrected below)"
		colName = ColorNameMuted
	}
	// Fyne's bundled font has no arrows: stored texts say "a → b", the screen "a -> b".
	r.text.set(strings.ReplaceAll(text, "→", "->"), colName)
	setText(r.who, e.Author, muted())
}

func (v *incidentView) showEmpty(st *cockpit.IncidentState) {
	var hint *widget.Label
	for _, o := range v.empty.Objects {
		if l, ok := o.(*widget.Label); ok {
			hint = l
		}
	}
	msg := "No incident is open."
	switch {
	case v.c.deps.ReadOnly:
		msg = "No incident is open on the screen this one follows."
	case v.actions == nil:
		msg += " Incidents are not recorded in this cockpit."
	default:
		msg += "  Press D to declare one from the selected alert (its runbook, alerts and times come with it)."
	}
	if st != nil && st.Stats.Count > 0 {
		s := st.Stats
		msg += fmt.Sprintf("\n\nLast %s: %d incident(s), %d still open. MTTA %s · MTTM %s · MTTR %s.",
			cockpit.HumanDuration(st.StatsWindow), s.Count, s.Open, incident.FormatDuration(s.MTTA),
			incident.FormatDuration(s.MTTM), incident.FormatDuration(s.MTTR))
	}
	if st != nil && st.Err != "" {
		msg += "\n\nINCIDENT STORE ERROR: " + st.Err
	}
	if hint.Text != msg {
		hint.SetText(msg)
	}
	v.showHistory(st)
	if len(v.box.Objects) != 1 || v.box.Objects[0] != v.empty {
		v.box.Objects = []fyne.CanvasObject{v.empty}
		v.box.Refresh()
	}
}

func (v *incidentView) apply(st *cockpit.IncidentState) {
	if st == v.state {
		return
	}
	v.state = st
	if st == nil || !st.Active {
		v.shown, v.lastSeen = nil, 0
		v.showEmpty(st)
		return
	}
	if len(v.box.Objects) != 1 || v.box.Objects[0] != v.active {
		v.box.Objects = []fyne.CanvasObject{v.active}
		v.box.Refresh()
	}
	inc := st.Incident
	head := fmt.Sprintf("%s · %s · %d timeline entries", inc.Ref(), strings.ToUpper(string(inc.Status)), len(st.Timeline))
	if st.Err != "" {
		head += "  ·  STORE ERROR: " + st.Err
	}
	setText(v.head, head, fg())
	v.actionsBtn.SetText(fmt.Sprintf("Action items: %d (I)", len(st.Actions)))
	v.milestones(inc)
	v.refilter()
}

// milestones shows each milestone's time and the durations they give.
func (v *incidentView) milestones(inc incident.Incident) {
	kinds := []incident.MilestoneKind{incident.MilestoneDetected, incident.MilestoneAcknowledged, incident.MilestoneDeclared,
		incident.MilestoneMitigated, incident.MilestoneResolved}
	objs := make([]fyne.CanvasObject, 0, len(kinds))
	for _, k := range kinds {
		at, ok := inc.Milestones.At(k)
		val := "—"
		col := muted()
		if ok {
			val, col = at.Local().Format("15:04:05"), fg()
			if m := inc.Milestones[k]; m.Manual {
				val += "*"
			}
		}
		name := newText(strings.ToUpper(string(k)), 0.75, true)
		name.Color = muted()
		t := newText(val, 1, true)
		t.TextStyle.Monospace = true
		t.Color = col
		objs = append(objs, container.NewVBox(name, t))
	}
	v.miles.Objects = objs
	v.miles.Refresh()
	d := inc.Milestones.Durations()
	setText(v.durs, fmt.Sprintf("time to acknowledge %s · declare %s · mitigate %s · resolve %s", d.TimeToAcknowledge,
		d.TimeToDeclare, d.TimeToMitigate, d.TimeToResolve), muted())
}

// refilter rebuilds the shown entries (newest first) for the filter.
func (v *incidentView) refilter() {
	st := v.state
	if st == nil || !st.Active {
		return
	}
	f := v.filter.Selected
	shown := v.shown[:0]
	for i := len(st.Timeline) - 1; i >= 0; i-- {
		if tlKeep(f, st.Timeline[i].Kind) {
			shown = append(shown, st.Timeline[i])
		}
	}
	v.shown = shown
	v.list.Refresh()
}

// say shows the outcome of the last action under the timeline.
func (v *incidentView) say(msg string, bad bool) {
	col := fyne.ThemeColorName(ColorNameMuted)
	if bad {
		col = theme.ColorNameError
	}
	v.status.set(msg, col)
	v.status.Show()
}

// run performs an action off the UI goroutine and reports a failure on it: "NOT SAVED"
// with the reason, the typed text kept so nothing is lost.
func (v *incidentView) run(what string, f func(ctx context.Context) error, ok func()) {
	done := func(err error) {
		if err != nil {
			v.say("NOT SAVED — "+what+": "+cockpit.Truncate(err.Error(), 200), true)
			return
		}
		v.say(what+" ✓", false)
		if ok != nil {
			ok()
		}
	}
	if v.c.deps.Headless {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		done(f(ctx))
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		err := f(ctx)
		fyne.Do(func() { done(err) })
	}()
}

func (v *incidentView) activeID() (int64, bool) {
	if v.state == nil || !v.state.Active {
		return 0, false
	}
	return v.state.Incident.ID, true
}

// submit adds the entry box's text as a note or a decision ("X because Y").
func (v *incidentView) submit() {
	text := strings.TrimSpace(v.entry.Text)
	id, ok := v.activeID()
	if text == "" || v.actions == nil {
		return
	}
	if !ok {
		v.say("NOT SAVED — no incident is open: declare one first (D)", true)
		return
	}
	clear := func() {
		v.entry.SetText("")
		if w := v.c.deps.Window; w != nil {
			w.Canvas().Unfocus() // the next key is a shortcut again, not more text
		}
	}
	if v.kind.Selected == entryDecision {
		decision, because, _ := strings.Cut(text, " because ")
		v.run("decision", func(ctx context.Context) error {
			return v.actions.Decide(ctx, id, strings.TrimSpace(decision), strings.TrimSpace(because))
		}, clear)
		return
	}
	v.run("note", func(ctx context.Context) error { return v.actions.Note(ctx, id, text) }, clear)
}

// focusEntry puts the keyboard in the entry box, as a note or a decision.
func (v *incidentView) focusEntry(kind string) {
	if _, ok := v.activeID(); !ok || v.actions == nil {
		v.say("no incident is open: press D to declare one", true)
		return
	}
	v.kind.SetSelected(kind)
	if w := v.c.deps.Window; w != nil {
		w.Canvas().Focus(v.entry)
	}
}

// advance moves the status one step on (investigating → identified → mitigated →
// resolved); resolving asks first.
func (v *incidentView) advance() {
	id, ok := v.activeID()
	if !ok || v.actions == nil {
		return
	}
	cur := v.state.Incident.Status
	var next incident.Status
	for i, s := range incident.Statuses {
		if s == cur && i+1 < len(incident.Statuses) {
			next = incident.Statuses[i+1]
		}
	}
	if next == "" {
		v.say("already resolved", false)
		return
	}
	set := func() {
		v.run("status "+string(next), func(ctx context.Context) error { return v.actions.SetStatus(ctx, id, next) }, nil)
	}
	if next == incident.Resolved && v.c.deps.Window != nil {
		dialog.ShowConfirm("Resolve "+v.state.Incident.Ref(), "Mark the incident resolved? The clocks stop and the postmortem can be drafted.",
			func(yes bool) {
				if yes {
					set()
				}
			}, v.c.deps.Window)
		return
	}
	set()
}

// declare opens the declaration form, prefilled from the selected alert.
func (v *incidentView) declare(sel *datasource.Alert) {
	if v.actions == nil {
		return
	}
	title := widget.NewEntry()
	services := widget.NewEntry()
	services.SetPlaceHolder("checkout, payments")
	sevs := make([]string, len(incident.SeverityLevels))
	for i, l := range incident.SeverityLevels {
		sevs[i] = l.Severity.String() + " — " + l.Meaning
	}
	sev := widget.NewSelect(sevs, nil)
	sev.SetSelectedIndex(2)
	ic := widget.NewSelectEntry(v.recentNames())
	ic.SetText(v.actions.Me())
	var alerts []datasource.Alert
	if sel != nil && sel.Fingerprint != "" {
		alerts = []datasource.Alert{*sel}
		t := sel.Annotations["summary"]
		if t == "" {
			t = sel.Name()
		}
		title.SetText(t)
		services.SetText(sel.Labels["service"])
		if datasource.SeverityRank(sel.Severity()) == 0 {
			sev.SetSelectedIndex(1)
		}
	}
	title.Validator = func(s string) error {
		if strings.TrimSpace(s) == "" {
			return fmt.Errorf("say what is happening")
		}
		return nil
	}
	items := []*widget.FormItem{
		widget.NewFormItem("Title", title),
		widget.NewFormItem("Severity", sev),
		widget.NewFormItem("Services", services),
		widget.NewFormItem("Commander", ic),
	}
	if len(alerts) > 0 {
		items = append(items, widget.NewFormItem("From alert", widget.NewLabel(alerts[0].Name())))
	}
	submit := func() {
		d := incident.Declaration{Title: strings.TrimSpace(title.Text), Severity: incident.Severity(sev.SelectedIndex() + 1), Alerts: alerts}
		for _, s := range strings.Split(services.Text, ",") {
			if s = strings.TrimSpace(s); s != "" {
				d.Services = append(d.Services, s)
			}
		}
		if name := strings.TrimSpace(ic.Text); name != "" {
			d.Roles = map[incident.Role]string{incident.Commander: name}
		}
		v.run("declare", func(ctx context.Context) error {
			_, err := v.actions.Declare(ctx, d)
			return err
		}, nil)
	}
	if v.c.deps.Window == nil { // headless: declare as prefilled
		submit()
		return
	}
	showForm("Declare an incident", "Declare", "Cancel", items, func(ok bool) {
		if ok {
			submit()
		}
	}, v.c.deps.Window, 720)
}

// roles opens the role assignment form.
func (v *incidentView) roles() {
	id, ok := v.activeID()
	if !ok || v.actions == nil || v.c.deps.Window == nil {
		return
	}
	inc := v.state.Incident
	entries := map[incident.Role]*widget.SelectEntry{}
	var items []*widget.FormItem
	for _, r := range incident.Roles {
		e := widget.NewSelectEntry(v.recentNames())
		e.SetText(inc.Roles[r])
		entries[r] = e
		items = append(items, widget.NewFormItem(r.Title(), e))
	}
	showForm("Roles — "+inc.Ref(), "Save", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		for _, r := range incident.Roles {
			name := strings.TrimSpace(entries[r].Text)
			if name == inc.Roles[r] {
				continue
			}
			v.run(r.Title()+" = "+name, func(ctx context.Context) error { return v.actions.SetRole(ctx, id, r, name) }, nil)
		}
	}, v.c.deps.Window, 720)
}

// update opens a status update drafted from the template; "Copy and mark sent" puts it
// on the clipboard, records it and restarts the update timer.
func (v *incidentView) update() {
	id, ok := v.activeID()
	if !ok || v.actions == nil || v.c.deps.Window == nil {
		return
	}
	inc := v.state.Incident
	draft := incident.DraftStatusUpdate(inc, v.state.Policy, v.c.deps.Now())
	happening, impact, doing := widget.NewMultiLineEntry(), widget.NewMultiLineEntry(), widget.NewMultiLineEntry()
	happening.SetText(draft.Happening)
	impact.SetText(draft.Impact)
	doing.SetText(draft.Doing)
	for _, e := range []*widget.Entry{happening, impact, doing} {
		e.Wrapping = fyne.TextWrapWord
		e.SetMinRowsVisible(3)
	}
	items := []*widget.FormItem{
		widget.NewFormItem("What is happening", happening),
		widget.NewFormItem("Customer impact", impact),
		widget.NewFormItem("What we are doing", doing),
		widget.NewFormItem("Next update", widget.NewLabel(draft.NextUpdateAt.Local().Format("15:04"))),
	}
	d := dialog.NewForm("Status update — "+inc.Ref(), "Copy and mark sent", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		u := incident.StatusUpdate{Happening: happening.Text, Impact: impact.Text, Doing: doing.Text, NextUpdateAt: draft.NextUpdateAt}
		if a := fyne.CurrentApp(); a != nil {
			a.Clipboard().SetContent(u.Text(inc))
		}
		v.run("status update sent", func(ctx context.Context) error { return v.actions.SendUpdate(ctx, id, u) }, nil)
	}, v.c.deps.Window)
	d.Resize(fyne.NewSize(720, 560))
	d.Show()
}

// export writes the postmortem draft.
func (v *incidentView) export() {
	id, ok := v.activeID()
	if !ok || v.actions == nil {
		return
	}
	var path string
	v.run("postmortem draft", func(ctx context.Context) error {
		var err error
		path, err = v.actions.Export(ctx, id)
		return err
	}, func() { v.say("postmortem draft written to "+path, false) })
}

// actionItems lists the incident's action items, each with a button that opens it as a
// risk in the register (the link is kept), and a form to add one.
func (v *incidentView) actionItems() {
	id, ok := v.activeID()
	w := v.c.deps.Window
	if !ok || v.actions == nil || w == nil {
		return
	}
	rows := container.NewVBox()
	for _, a := range v.state.Actions {
		label := a.Title + " — " + a.Owner
		if !a.Due.IsZero() {
			label += ", due " + a.Due.Format("2006-01-02")
		}
		l := widget.NewLabel(label)
		l.Wrapping = fyne.TextWrapWord
		var right fyne.CanvasObject
		if a.RiskID != "" {
			right = widget.NewLabelWithStyle("risk #"+a.RiskID, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
		} else {
			item := a
			right = widget.NewButton("Make it a risk", func() {
				v.run("risk from action item", func(ctx context.Context) error {
					_, err := v.actions.ActionToRisk(ctx, id, item)
					return err
				}, nil)
			})
		}
		rows.Add(container.NewBorder(nil, nil, nil, right, l))
	}
	if len(v.state.Actions) == 0 {
		rows.Add(widget.NewLabel("No action items yet."))
	}
	title, owner, due := widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	title.SetPlaceHolder("what will be done")
	owner.SetPlaceHolder("who")
	due.SetPlaceHolder("YYYY-MM-DD")
	var dlg dialog.Dialog
	add := widget.NewButton("Add action item", func() {
		a := incident.ActionItem{Title: strings.TrimSpace(title.Text), Owner: strings.TrimSpace(owner.Text)}
		if s := strings.TrimSpace(due.Text); s != "" {
			t, err := time.ParseInLocation("2006-01-02", s, time.Local)
			if err != nil {
				v.say("NOT SAVED — action item due date: want YYYY-MM-DD", true)
				return
			}
			a.Due = t
		}
		if a.Title == "" || a.Owner == "" {
			v.say("NOT SAVED — an action item needs what and who", true)
			return
		}
		dlg.Hide()
		v.run("action item", func(ctx context.Context) error { return v.actions.AddActionItem(ctx, id, a) }, nil)
	})
	form := container.NewBorder(nil, nil, nil, add, container.NewGridWithColumns(3, title, owner, due))
	dlg = dialog.NewCustom("Action items — "+v.state.Incident.Ref(), "Close", container.NewBorder(nil, form, nil, nil, container.NewVScroll(rows)), w)
	dlg.Resize(fyne.NewSize(900, 520))
	dlg.Show()
}

// showHistory lists past incidents with their times to acknowledge and resolve, each
// with a bar for its time to resolve (the longest fills the column), so a review sees
// at a glance which incidents ran long.
func (v *incidentView) showHistory(st *cockpit.IncidentState) {
	if st == nil || len(st.Recent) == 0 {
		v.history.Objects = nil
		v.history.Refresh()
		return
	}
	var longest time.Duration
	for _, inc := range st.Recent {
		if d := inc.Milestones.Durations().TimeToResolve; d.Known && d.D > longest {
			longest = d.D
		}
	}
	head := newText("RECENT INCIDENTS  ·  time to acknowledge  ·  time to resolve", 0.8, true)
	head.Color = muted()
	objs := []fyne.CanvasObject{head}
	for _, inc := range st.Recent {
		d := inc.Milestones.Durations()
		label := newText(fmt.Sprintf("%s  %s  %s", inc.Ref(), inc.Severity, cockpit.Truncate(inc.Title, 60)), 0.9, false)
		figs := newText(fmt.Sprintf("TTA %s  ·  TTR %s", d.TimeToAcknowledge, d.TimeToResolve), 0.9, true)
		figs.TextStyle.Monospace = true
		bar := canvas.NewRectangle(incidentSevColor(inc.Severity))
		frac := float32(0)
		if d.TimeToResolve.Known && longest > 0 {
			frac = float32(d.TimeToResolve.D) / float32(longest)
		}
		if inc.Status != incident.Resolved {
			bar.FillColor = withAlpha(ColorMuted, 0x80)
			frac = 1
			figs.Text = fmt.Sprintf("%s  ·  still %s", figs.Text, inc.Status)
		}
		barBox := container.New(&barLayout{frac: frac}, bar)
		objs = append(objs, container.NewBorder(nil, nil, nil, figs, label), barBox)
	}
	v.history.Objects = objs
	v.history.Refresh()
}

// barLayout draws its one object as a thin bar frac of the width.
type barLayout struct{ frac float32 }

func (b *barLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	objs[0].Resize(fyne.NewSize(max(2, size.Width*b.frac), size.Height))
	objs[0].Move(fyne.NewPos(0, 0))
}

func (b *barLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(10, 6) }

// milestone sets a milestone by hand: which, when (today's HH:MM[:SS] or a full date and
// time) and why.
func (v *incidentView) milestone() {
	id, ok := v.activeID()
	w := v.c.deps.Window
	if !ok || v.actions == nil || w == nil {
		return
	}
	names := make([]string, len(incident.MilestoneKinds))
	for i, k := range incident.MilestoneKinds {
		names[i] = string(k)
	}
	kind := widget.NewSelect(names, nil)
	kind.SetSelected(string(incident.MilestoneMitigated))
	when, reason := widget.NewEntry(), widget.NewEntry()
	when.SetText(v.c.deps.Now().Local().Format("15:04:05"))
	when.SetPlaceHolder("HH:MM[:SS] today, or YYYY-MM-DD HH:MM")
	reason.SetPlaceHolder("why the data's time is not the right one")
	items := []*widget.FormItem{widget.NewFormItem("Milestone", kind), widget.NewFormItem("At", when), widget.NewFormItem("Reason", reason)}
	showForm("Set a milestone — "+v.state.Incident.Ref(), "Set", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		at, err := parseWhen(when.Text, v.c.deps.Now())
		if err != nil {
			v.say("NOT SAVED — milestone: "+err.Error(), true)
			return
		}
		if strings.TrimSpace(reason.Text) == "" {
			v.say("NOT SAVED — a milestone set by hand needs a reason", true)
			return
		}
		k, text := incident.MilestoneKind(kind.Selected), reason.Text
		v.run("milestone "+string(k), func(ctx context.Context) error { return v.actions.SetMilestone(ctx, id, k, at, text) }, nil)
	}, w, 720)
}

// parseWhen reads "HH:MM", "HH:MM:SS" (today, local time) or "YYYY-MM-DD HH:MM".
func parseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	loc := now.Location()
	if t, err := time.ParseInLocation("2006-01-02 15:04", s, loc); err == nil {
		return t, nil
	}
	for _, layout := range []string{"15:04:05", "15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			y, m, d := now.In(loc).Date()
			return time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), 0, loc), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q: want HH:MM, HH:MM:SS or YYYY-MM-DD HH:MM", s)
}

// recentNames are the people recently given roles, for the role pickers: read with the
// incident state off the UI goroutine, never from here.
func (v *incidentView) recentNames() []string {
	if v.state == nil {
		return nil
	}
	return v.state.RecentNames
}
