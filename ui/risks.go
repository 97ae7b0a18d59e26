package ui

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
	"github.com/opscockpit/opscockpit/risk"
)

// RiskRegister is the risk register as the screen uses it. Calls may block on the disk:
// the view makes them off the UI goroutine (on it, in a headless view).
type RiskRegister interface {
	Matrix() risk.Matrix
	Policy() risk.Policy
	List(ctx context.Context, f risk.Filter) (risk.Page, error)
	HeatMap(ctx context.Context, f risk.Filter) (risk.HeatMap, error)
	Detail(ctx context.Context, id int64) (risk.Detail, error)
	// Save creates the risk (ID 0) or updates it; links are Alertmanager matchers that
	// flag the risk materialising when a matching alert fires (replacing the old ones).
	Save(ctx context.Context, r risk.Risk, links []string) (risk.Risk, error)
	Escalate(ctx context.Context, id int64, to, note, rule string) error
	// ReviewPack writes the escalation review pack and says where.
	ReviewPack(ctx context.Context) (string, error)
	AddAction(ctx context.Context, a risk.Action) error
	AddReview(ctx context.Context, rv risk.Review) error
	// Restore replaces a damaged register file by its newest backup (the damaged file
	// is moved aside) and says where the damaged copy went.
	Restore(ctx context.Context) (string, error)
}

const (
	sortScore   = "By level"
	sortReview  = "By next review"
	sortUpdated = "Recently changed"
	sortTitle   = "By title"
)

const (
	riskActive = "Open and mitigating"
	riskAll    = "All statuses"
	riskOver   = "Overdue"
	riskMat    = "Materialising"
)

// riskView is the risk region: the heat map (tap a cell to filter), the register list
// (search as you type), materialising risks always named at the top, and the forms.
type riskView struct {
	c        *Cockpit
	reg      RiskRegister
	summary  *canvas.Text
	banner   *fyne.Container
	bannerT  *line
	search   *widget.Entry
	scope    *widget.Select
	sort     *widget.Select
	restore  *widget.Button
	residual *widget.Check
	heat     *fyne.Container
	list     *widget.List
	status   *line
	page     risk.Page
	hm       risk.HeatMap
	cellL    int // selected heat-map cell (0: none)
	cellI    int
	gen      int
	version  int64
	state    *cockpit.RiskState
	box      fyne.CanvasObject
}

func newRiskView(c *Cockpit, reg RiskRegister) *riskView {
	v := &riskView{c: c, reg: reg, summary: newText("", 0.9, true), status: newLine(SizeNameSmall, fyne.TextStyle{Bold: true}),
		bannerT: newLine(theme.SizeNameText, fyne.TextStyle{Bold: true}), version: -1}
	if reg == nil {
		msg := widget.NewLabel("No risk register is open in this cockpit.")
		v.box = region("RISKS", msg)
		return v
	}
	v.summary.Color = muted()
	v.search = widget.NewEntry()
	v.search.SetPlaceHolder("Search risks — words, owner:ann service:checkout level:High")
	v.search.OnChanged = func(string) { v.reload() }
	v.scope = widget.NewSelect([]string{riskActive, riskAll, riskOver, riskMat}, nil)
	v.scope.SetSelected(riskActive)
	v.scope.OnChanged = func(string) { v.reload() }
	v.residual = widget.NewCheck("Residual", func(bool) { v.cellL, v.cellI = 0, 0; v.reload() })
	v.sort = widget.NewSelect([]string{sortScore, sortReview, sortUpdated, sortTitle}, nil)
	v.sort.SetSelected(sortScore)
	v.sort.OnChanged = func(string) { v.reload() }
	v.restore = widget.NewButtonWithIcon("Restore from backup", theme.HistoryIcon(), v.restoreBackup)
	v.restore.Importance = widget.DangerImportance
	v.restore.Hide()
	newBtn := widget.NewButtonWithIcon("New risk", theme.ContentAddIcon(), func() { v.edit(risk.Risk{}, nil, "") })
	pack := widget.NewButtonWithIcon("Review pack", theme.DocumentSaveIcon(), v.reviewPack)
	bg := canvas.NewRectangle(ColorCritical)
	v.banner = container.NewStack(bg, container.NewPadded(v.bannerT.RichText))
	v.banner.Hide()
	v.heat = container.NewStack()
	v.list = widget.NewList(func() int { return len(v.page.Risks) }, newRiskRow, func(i widget.ListItemID, o fyne.CanvasObject) {
		if i < len(v.page.Risks) {
			v.updateRow(o, v.page.Risks[i])
		}
	})
	v.list.OnSelected = func(i widget.ListItemID) {
		if i < len(v.page.Risks) {
			v.show(v.page.Risks[i].ID)
		}
		v.list.UnselectAll()
	}
	v.status.Hide()
	controls := container.NewBorder(nil, nil, nil, container.NewHBox(v.scope, v.sort, v.residual, newBtn, pack), v.search)
	top := container.NewVBox(container.NewHBox(sectionTitle("RISKS"), v.summary), v.banner, controls,
		container.NewBorder(nil, nil, nil, v.restore, v.status.RichText))
	body := hsplit(v.heat, v.list, 0.36)
	v.box = container.NewPadded(container.NewBorder(top, nil, nil, nil, body))
	return v
}

// apply follows a snapshot: a changed register (from here, the CLI or another cockpit)
// is read again; materialising risks are named in the red banner.
func (v *riskView) apply(st *cockpit.RiskState) {
	if v.reg == nil || st == v.state {
		return
	}
	v.state = st
	if st == nil {
		return
	}
	if n := len(st.Materialising); n > 0 {
		names := make([]string, 0, n)
		for _, r := range st.Materialising {
			n := fmt.Sprintf("#%d %s", r.ID, r.Title)
			if a := st.Alerts[r.ID]; len(a) > 0 {
				n += " (" + strings.Join(a, ", ") + " firing)"
			}
			names = append(names, n)
		}
		what := fmt.Sprintf("%d RISKS MATERIALISING", n)
		if n == 1 {
			what = "1 RISK MATERIALISING"
		}
		v.bannerT.set(what+" — "+strings.Join(names, " · "), theme.ColorNameForeground)
		v.banner.Show()
	} else {
		v.banner.Hide()
	}
	if st.Err != "" {
		v.say("RISK REGISTER ERROR: "+st.Err, true)
	}
	if st.Backup != "" {
		v.restore.Show()
		v.say("The register file is damaged and was not touched. Restore it from "+st.Backup+"?", true)
		return // nothing to read until a person decides
	}
	v.restore.Hide()
	if st.Version != v.version {
		v.version = st.Version
		v.reload()
	}
}

func (v *riskView) filter() risk.Filter {
	f := risk.Filter{Residual: v.residual.Checked, Sort: risk.SortScore, Desc: true, Limit: 200}
	f.Query, f.Owner, f.Service, f.Levels = parseRiskSearch(v.search.Text, v.reg.Matrix())
	if v.residual.Checked {
		f.Sort = risk.SortResidual
	}
	switch v.sort.Selected {
	case sortReview:
		f.Sort, f.Desc = risk.SortNextReview, false
	case sortUpdated:
		f.Sort = risk.SortUpdated
	case sortTitle:
		f.Sort, f.Desc = risk.SortTitle, false
	}
	switch v.scope.Selected {
	case riskActive:
		f.Status = []risk.Status{risk.StatusOpen, risk.StatusMitigating}
	case riskOver:
		f.Overdue = true
	case riskMat:
		f.Materialising = true
	}
	f.Likelihood, f.Impact = v.cellL, v.cellI
	return f
}

// reload reads the list and the heat map for the current filter; only the newest
// request's answer is shown.
func (v *riskView) reload() {
	if v.reg == nil {
		return
	}
	v.gen++
	gen, f := v.gen, v.filter()
	hf := f
	hf.Likelihood, hf.Impact, hf.Query, hf.Limit = 0, 0, "", 0
	work := func() (risk.Page, risk.HeatMap, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p, err := v.reg.List(ctx, f)
		if err != nil {
			return p, risk.HeatMap{}, err
		}
		hm, err := v.reg.HeatMap(ctx, hf)
		return p, hm, err
	}
	done := func(p risk.Page, hm risk.HeatMap, err error) {
		if gen != v.gen {
			return
		}
		if err != nil {
			v.say("risk register not read: "+err.Error(), true)
			return
		}
		v.page, v.hm = p, hm
		v.list.Refresh()
		v.drawHeat()
		v.summarise()
	}
	if v.c.deps.Headless {
		done(work())
		return
	}
	go func() {
		p, hm, err := work()
		fyne.Do(func() { done(p, hm, err) })
	}()
}

func (v *riskView) summarise() {
	s := fmt.Sprintf("  %d shown of %d", len(v.page.Risks), v.page.Total)
	if v.page.Capped {
		s = fmt.Sprintf("  %d shown of 1,000+", len(v.page.Risks))
	}
	if v.cellL > 0 {
		m := v.reg.Matrix()
		s += fmt.Sprintf("  ·  cell %s × %s (tap it again to clear)", m.Likelihood[v.cellL-1], m.Impact[v.cellI-1])
	}
	if st := v.state; st != nil && len(st.Proposals) > 0 {
		s += fmt.Sprintf("  ·  %d escalation(s) proposed", len(st.Proposals))
	}
	setText(v.summary, s, muted())
}

func (v *riskView) say(msg string, bad bool) {
	col := fyne.ThemeColorName(ColorNameMuted)
	if bad {
		col = theme.ColorNameError
	}
	v.status.set(msg, col)
	v.status.Show()
}

// drawHeat lays out the heat map: likelihood up the side (highest at the top), impact
// along the bottom, each cell in its level's colour with the number of risks in it.
func (v *riskView) drawHeat() {
	m := v.reg.Matrix()
	grid := v.hm.Inherent
	if v.residual.Checked {
		grid = v.hm.Residual
	}
	nl, ni := len(m.Likelihood), len(m.Impact)
	cells := container.NewGridWithColumns(ni + 1)
	for l := nl; l >= 1; l-- {
		name := newText(m.Likelihood[l-1], 0.75, false)
		name.Color = muted()
		name.Alignment = fyne.TextAlignTrailing
		cells.Add(container.NewCenter(name))
		for i := 1; i <= ni; i++ {
			n := 0
			if l-1 < len(grid) && i-1 < len(grid[l-1]) {
				n = grid[l-1][i-1]
			}
			cells.Add(v.heatCell(m.Level(l, i), l, i, n))
		}
	}
	cells.Add(layout.NewSpacer())
	for i := 1; i <= ni; i++ {
		name := newText(m.Impact[i-1], 0.75, false)
		name.Color = muted()
		name.Alignment = fyne.TextAlignCenter
		cells.Add(container.NewCenter(name))
	}
	axis := newText("rows: likelihood  ·  columns: impact  ·  "+map[bool]string{true: "RESIDUAL", false: "INHERENT"}[v.residual.Checked], 0.75, true)
	axis.Color = muted()
	v.heat.Objects = []fyne.CanvasObject{container.NewBorder(nil, axis, nil, nil, cells)}
	v.heat.Refresh()
}

func (v *riskView) heatCell(lv risk.Level, l, i, n int) fyne.CanvasObject {
	c := lv.RGBA()
	bg := canvas.NewRectangle(c)
	bg.CornerRadius = 3
	if n == 0 {
		bg.FillColor = withAlpha(c, 0x55)
	}
	if v.cellL == l && v.cellI == i {
		bg.StrokeColor = theme.Color(theme.ColorNameForeground)
		bg.StrokeWidth = 3
	}
	label := ""
	if n > 0 {
		label = strconv.Itoa(n)
	}
	t := newText(label, 1.3, true)
	t.Color = onColor(c)
	t.Alignment = fyne.TextAlignCenter
	btn := widget.NewButton("", func() {
		if v.cellL == l && v.cellI == i {
			v.cellL, v.cellI = 0, 0
		} else {
			v.cellL, v.cellI = l, i
		}
		v.reload()
	})
	btn.Importance = widget.LowImportance
	return container.NewStack(bg, container.NewCenter(t), btn)
}

func newRiskRow() fyne.CanvasObject {
	lvl := newBadge("VERY HIGH", ColorMuted, 0.85)
	title := newLine(theme.SizeNameText, fyne.TextStyle{Bold: true})
	meta := newLine(SizeNameSmall, fyne.TextStyle{})
	flag := newBadge("", ColorCritical, 0.8)
	left := sizedLike(lvl.box, "VERY HIGH", theme.SizeNameCaptionText, 0.85, 16)
	row := container.NewBorder(nil, nil, left, container.NewCenter(flag.box), container.NewVBox(title.RichText, meta.RichText))
	r := &riskRow{content: row, level: lvl, title: title, meta: meta, flag: flag}
	r.ExtendBaseWidget(r)
	return r
}

// riskRow is one list row: a widget, so the list lays it out and paints its parts.
type riskRow struct {
	widget.BaseWidget
	content *fyne.Container
	level   *badge
	title   *line
	meta    *line
	flag    *badge
}

func (r *riskRow) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(r.content) }

func (v *riskView) updateRow(o fyne.CanvasObject, r risk.Risk) {
	row, ok := o.(*riskRow)
	if !ok {
		return
	}
	m := v.reg.Matrix()
	lv := r.Level(m)
	if v.residual.Checked {
		lv = r.ResidualLevel(m)
	}
	row.level.set(strings.ToUpper(lv.Name), lv.RGBA())
	row.title.set(fmt.Sprintf("#%d  %s", r.ID, r.Title), theme.ColorNameForeground)
	parts := []string{r.Owner}
	if r.Service != "" {
		parts = append(parts, r.Service)
	}
	parts = append(parts, string(r.Status), "escalation: "+r.Escalation)
	if !r.NextReview.IsZero() {
		parts = append(parts, "review "+r.NextReview.Format("2006-01-02"))
	}
	row.meta.set(strings.Join(parts, "  ·  "), ColorNameMuted)
	now := v.c.deps.Now()
	switch {
	case r.Materialising:
		row.flag.set("MATERIALISING", ColorCritical)
		row.flag.box.Show()
	case r.Overdue(now):
		row.flag.set("OVERDUE", ColorWarning)
		row.flag.box.Show()
	default:
		row.flag.box.Hide()
	}
}

// run performs a register call off the UI goroutine (on it, headless) and reports a
// failure under the controls.
func (v *riskView) run(f func(ctx context.Context) error, done func(error)) {
	call := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		return f(ctx)
	}
	if v.c.deps.Headless {
		done(call())
		return
	}
	go func() {
		err := call()
		fyne.Do(func() { done(err) })
	}()
}

// show opens a risk's detail: its fields, escalation history, links, actions and the
// last changes of its audit trail, with Edit and Escalate.
func (v *riskView) show(id int64) {
	var d risk.Detail
	v.run(func(ctx context.Context) error {
		var err error
		d, err = v.reg.Detail(ctx, id)
		return err
	}, func(err error) {
		if err != nil {
			v.say("risk not read: "+err.Error(), true)
			return
		}
		v.detailDialog(d)
	})
}

// riskDetailText is the body of a risk's detail view, as lines of text.
func riskDetailText(m risk.Matrix, d risk.Detail) string {
	r := d.Risk
	var b strings.Builder
	lv, rl := r.Level(m), r.ResidualLevel(m)
	fmt.Fprintf(&b, "%s\n\nOwner %s · service %s · category %s · status %s · treatment %s\n", r.Description, r.Owner, r.Service, r.Category, r.Status, r.Treatment)
	fmt.Fprintf(&b, "Inherent %s × %s = %d (%s)   Residual %d (%s)\n", m.Likelihood[r.Likelihood-1], m.Impact[r.Impact-1], r.Score(), lv.Name, r.ResidualScore(), rl.Name)
	if r.TreatmentRationale != "" {
		fmt.Fprintf(&b, "Rationale: %s\n", r.TreatmentRationale)
	}
	fmt.Fprintf(&b, "Escalation level: %s", r.Escalation)
	if !r.NextReview.IsZero() {
		fmt.Fprintf(&b, " · next review %s", r.NextReview.Format("2006-01-02"))
	}
	if !r.Due.IsZero() {
		fmt.Fprintf(&b, " · due %s", r.Due.Format("2006-01-02"))
	}
	b.WriteString("\n")
	if r.Materialising {
		fmt.Fprintf(&b, "\nMATERIALISING since %s\n", r.MaterialisedAt.Local().Format("2006-01-02 15:04"))
	}
	if len(d.Links) > 0 {
		b.WriteString("\nLinked alerts:\n")
		for _, l := range d.Links {
			fmt.Fprintf(&b, "  %s\n", l.Matchers)
		}
	}
	if len(d.Escalations) > 0 {
		b.WriteString("\nEscalation history:\n")
		for _, e := range d.Escalations {
			rule := ""
			if e.Rule != "" {
				rule = " (rule " + e.Rule + ")"
			}
			fmt.Fprintf(&b, "  %s  %s to %s by %s%s: %s\n", e.At.Local().Format("2006-01-02 15:04"), e.From, e.To, e.By, rule, e.Note)
		}
	}
	if len(d.Actions) > 0 {
		b.WriteString("\nMitigation actions:\n")
		for _, a := range d.Actions {
			fmt.Fprintf(&b, "  [%s] %s — %s, due %s\n", a.Status, a.Title, a.Owner, a.Due.Format("2006-01-02"))
		}
	}
	if n := len(d.Audit); n > 0 {
		b.WriteString("\nAudit trail (newest last):\n")
		for _, a := range d.Audit[max(0, n-12):] {
			fmt.Fprintf(&b, "  %s %s %s: %q -> %q\n", a.At.Local().Format("01-02 15:04"), a.Actor, a.Field, cockpit.Truncate(a.Old, 40), cockpit.Truncate(a.New, 40))
		}
	}
	return b.String()
}

func (v *riskView) detailDialog(d risk.Detail) {
	w := v.c.deps.Window
	if w == nil {
		return
	}
	body := widget.NewLabel(riskDetailText(v.reg.Matrix(), d))
	body.Wrapping = fyne.TextWrapWord
	var dlg dialog.Dialog
	links := make([]string, len(d.Links))
	for i, l := range d.Links {
		links[i] = l.Matchers
	}
	edit := widget.NewButton("Edit…", func() { dlg.Hide(); v.edit(d.Risk, links, "") })
	esc := widget.NewButton("Escalate…", func() { dlg.Hide(); v.escalate(d.Risk) })
	act := widget.NewButton("Add action…", func() { dlg.Hide(); v.addAction(d.Risk) })
	rev := widget.NewButton("Record review…", func() { dlg.Hide(); v.addReview(d.Risk) })
	content := container.NewBorder(nil, container.NewHBox(layout.NewSpacer(), act, rev, edit, esc), nil, nil, container.NewVScroll(body))
	dlg = dialog.NewCustom(fmt.Sprintf("#%d %s", d.Risk.ID, d.Risk.Title), "Close", content, w)
	dlg.Resize(fyne.NewSize(860, 640))
	dlg.Show()
}

// edit opens the create/edit form. A refused save re-opens it with everything typed and
// the reason on top: nothing is lost.
func (v *riskView) edit(r risk.Risk, links []string, problem string) {
	w := v.c.deps.Window
	if w == nil {
		return
	}
	m := v.reg.Matrix()
	title, desc, owner, service, category, rationale, tags, due, review, linkE :=
		widget.NewEntry(), widget.NewMultiLineEntry(), widget.NewEntry(), widget.NewEntry(), widget.NewEntry(),
		widget.NewEntry(), widget.NewEntry(), widget.NewEntry(), widget.NewEntry(), widget.NewMultiLineEntry()
	title.SetText(r.Title)
	desc.SetText(r.Description)
	owner.SetText(r.Owner)
	service.SetText(r.Service)
	category.SetText(r.Category)
	rationale.SetText(r.TreatmentRationale)
	tags.SetText(strings.Join(r.Tags, ", "))
	due.SetPlaceHolder("YYYY-MM-DD")
	review.SetPlaceHolder("YYYY-MM-DD")
	if !r.Due.IsZero() {
		due.SetText(r.Due.Format("2006-01-02"))
	}
	if !r.NextReview.IsZero() {
		review.SetText(r.NextReview.Format("2006-01-02"))
	}
	linkE.SetPlaceHolder(`one matcher set per line, e.g. alertname="CheckoutLatencyHigh"`)
	linkE.SetText(strings.Join(links, "\n"))
	scale := func(names []string, v int) *widget.Select {
		opts := make([]string, len(names))
		for i, n := range names {
			opts[i] = fmt.Sprintf("%d %s", i+1, n)
		}
		s := widget.NewSelect(opts, nil)
		if v > 0 && v <= len(opts) {
			s.SetSelectedIndex(v - 1)
		}
		return s
	}
	lik, imp := scale(m.Likelihood, r.Likelihood), scale(m.Impact, r.Impact)
	rlik, rimp := scale(m.Likelihood, r.ResidualLikelihood), scale(m.Impact, r.ResidualImpact)
	treat := widget.NewSelect([]string{"", "avoid", "mitigate", "transfer", "accept"}, nil)
	treat.SetSelected(string(r.Treatment))
	status := widget.NewSelect([]string{"open", "mitigating", "accepted", "closed"}, nil)
	status.SetSelected(string(cmpOr(r.Status, risk.StatusOpen)))
	items := []*widget.FormItem{
		widget.NewFormItem("Title", title), widget.NewFormItem("Description", desc),
		widget.NewFormItem("Owner", owner), widget.NewFormItem("Service", service), widget.NewFormItem("Category", category),
		widget.NewFormItem("Likelihood", lik), widget.NewFormItem("Impact", imp),
		widget.NewFormItem("Residual likelihood", rlik), widget.NewFormItem("Residual impact", rimp),
		widget.NewFormItem("Treatment", treat), widget.NewFormItem("Rationale", rationale),
		widget.NewFormItem("Status", status), widget.NewFormItem("Due", due), widget.NewFormItem("Next review", review),
		widget.NewFormItem("Tags", tags), widget.NewFormItem("Linked alerts", linkE),
	}
	if problem != "" {
		msg := widget.NewLabel("NOT SAVED — " + problem)
		msg.Importance = widget.DangerImportance
		msg.Wrapping = fyne.TextWrapWord
		items = append([]*widget.FormItem{widget.NewFormItem("", msg)}, items...)
	}
	heading := "New risk"
	if r.ID != 0 {
		heading = fmt.Sprintf("Edit #%d", r.ID)
	}
	dlg := dialog.NewForm(heading, "Save", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		n := r
		n.Title, n.Description, n.Owner, n.Service, n.Category = title.Text, desc.Text, owner.Text, service.Text, category.Text
		n.TreatmentRationale, n.Treatment, n.Status = rationale.Text, risk.Treatment(treat.Selected), risk.Status(status.Selected)
		n.Likelihood, n.Impact = lik.SelectedIndex()+1, imp.SelectedIndex()+1
		n.ResidualLikelihood, n.ResidualImpact = rlik.SelectedIndex()+1, rimp.SelectedIndex()+1
		n.Tags = nil
		for _, t := range strings.Split(tags.Text, ",") {
			if t = strings.TrimSpace(t); t != "" {
				n.Tags = append(n.Tags, t)
			}
		}
		var bad []string
		parseDate := func(field, s string) time.Time {
			if strings.TrimSpace(s) == "" {
				return time.Time{}
			}
			t, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(s), time.Local)
			if err != nil {
				bad = append(bad, field+": want YYYY-MM-DD, got "+strconv.Quote(s))
			}
			return t
		}
		n.Due, n.NextReview = parseDate("due", due.Text), parseDate("next review", review.Text)
		var newLinks []string
		for _, l := range strings.Split(linkE.Text, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				newLinks = append(newLinks, l)
			}
		}
		if len(bad) > 0 {
			v.edit(n, newLinks, strings.Join(bad, "; "))
			return
		}
		var saved risk.Risk
		v.run(func(ctx context.Context) error {
			var err error
			saved, err = v.reg.Save(ctx, n, newLinks)
			return err
		}, func(err error) {
			if err != nil {
				var ve *risk.ValidationError
				why := err.Error()
				if errors.As(err, &ve) {
					why = ve.Error()
				}
				v.edit(n, newLinks, why)
				return
			}
			v.say(fmt.Sprintf("saved #%d %s", saved.ID, saved.Title), false)
		})
	}, w)
	dlg.Resize(fyne.NewSize(760, 860))
	dlg.Show()
}

// escalate asks for the level and a note: an escalation is a person's decision, even
// when a rule proposed it.
func (v *riskView) escalate(r risk.Risk) {
	w := v.c.deps.Window
	if w == nil {
		return
	}
	levels := v.reg.Policy().Levels
	to := widget.NewSelect(levels, nil)
	rule := ""
	if st := v.state; st != nil {
		for _, p := range st.Proposals {
			if p.RiskID == r.ID {
				to.SetSelected(p.To)
				rule = strings.Join(p.Rules, ", ")
			}
		}
	}
	note := widget.NewMultiLineEntry()
	note.SetPlaceHolder("why, and what you expect from the new level")
	note.Validator = func(s string) error {
		if strings.TrimSpace(s) == "" {
			return fmt.Errorf("an escalation needs a note")
		}
		return nil
	}
	items := []*widget.FormItem{widget.NewFormItem("From", widget.NewLabel(r.Escalation)), widget.NewFormItem("To", to), widget.NewFormItem("Note", note)}
	if rule != "" {
		items = append(items, widget.NewFormItem("Proposed by", widget.NewLabel(rule)))
	}
	dlg := dialog.NewForm(fmt.Sprintf("Escalate #%d", r.ID), "Escalate", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		level, text := to.Selected, note.Text
		v.run(func(ctx context.Context) error { return v.reg.Escalate(ctx, r.ID, level, text, rule) }, func(err error) {
			if err != nil {
				v.say("NOT SAVED — escalation: "+err.Error(), true)
				return
			}
			v.say(fmt.Sprintf("#%d escalated to %s", r.ID, level), false)
		})
	}, w)
	dlg.Resize(fyne.NewSize(640, 360))
	dlg.Show()
}

func (v *riskView) reviewPack() {
	var dir string
	v.run(func(ctx context.Context) error {
		var err error
		dir, err = v.reg.ReviewPack(ctx)
		return err
	}, func(err error) {
		if err != nil {
			v.say("review pack NOT WRITTEN: "+err.Error(), true)
			return
		}
		v.say("review pack written to "+dir, false)
	})
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// ShowRisk opens a risk's detail (fields, escalation history, links, actions, audit).
func (c *Cockpit) ShowRisk(id int64) { c.riskV.show(id) }

// addAction asks for a mitigation action of r.
func (v *riskView) addAction(r risk.Risk) {
	w := v.c.deps.Window
	if w == nil {
		return
	}
	title, owner, due := widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	owner.SetText(r.Owner)
	due.SetPlaceHolder("YYYY-MM-DD")
	items := []*widget.FormItem{widget.NewFormItem("Action", title), widget.NewFormItem("Owner", owner), widget.NewFormItem("Due", due)}
	showForm(fmt.Sprintf("Mitigation action for #%d", r.ID), "Add", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		a := risk.Action{RiskID: r.ID, Title: title.Text, Owner: owner.Text, Status: risk.ActionOpen}
		if s := strings.TrimSpace(due.Text); s != "" {
			t, err := time.ParseInLocation("2006-01-02", s, time.Local)
			if err != nil {
				v.say("NOT SAVED — due date: want YYYY-MM-DD, got "+strconv.Quote(s), true)
				return
			}
			a.Due = t
		}
		v.run(func(ctx context.Context) error { return v.reg.AddAction(ctx, a) }, func(err error) {
			if err != nil {
				v.say("NOT SAVED — action: "+err.Error(), true)
				return
			}
			v.say(fmt.Sprintf("action added to #%d", r.ID), false)
		})
	}, w, 640)
}

// addReview records a review of r.
func (v *riskView) addReview(r risk.Risk) {
	w := v.c.deps.Window
	if w == nil {
		return
	}
	reviewers, decision, notes, next := widget.NewEntry(), widget.NewEntry(), widget.NewMultiLineEntry(), widget.NewEntry()
	reviewers.SetPlaceHolder("ann, carl")
	next.SetPlaceHolder("YYYY-MM-DD")
	items := []*widget.FormItem{widget.NewFormItem("Reviewers", reviewers), widget.NewFormItem("Decision", decision),
		widget.NewFormItem("Notes", notes), widget.NewFormItem("Next review", next)}
	showForm(fmt.Sprintf("Review of #%d", r.ID), "Record", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		now := v.c.deps.Now()
		rv := risk.Review{RiskID: r.ID, Date: now.Truncate(24 * time.Hour), Decision: decision.Text, Notes: notes.Text}
		for _, p := range strings.Split(reviewers.Text, ",") {
			if p = strings.TrimSpace(p); p != "" {
				rv.Reviewers = append(rv.Reviewers, p)
			}
		}
		if s := strings.TrimSpace(next.Text); s != "" {
			t, err := time.ParseInLocation("2006-01-02", s, time.Local)
			if err != nil {
				v.say("NOT SAVED — next review: want YYYY-MM-DD, got "+strconv.Quote(s), true)
				return
			}
			rv.NextReview = t
		}
		v.run(func(ctx context.Context) error { return v.reg.AddReview(ctx, rv) }, func(err error) {
			if err != nil {
				v.say("NOT SAVED — review: "+err.Error(), true)
				return
			}
			v.say(fmt.Sprintf("review of #%d recorded", r.ID), false)
		})
	}, w, 640)
}

// restoreBackup replaces the damaged register by its newest backup.
func (v *riskView) restoreBackup() {
	do := func() {
		var aside string
		v.run(func(ctx context.Context) error {
			var err error
			aside, err = v.reg.Restore(ctx)
			return err
		}, func(err error) {
			if err != nil {
				v.say("NOT RESTORED — "+err.Error(), true)
				return
			}
			v.restore.Hide()
			v.say("restored from the backup; the damaged file is kept as "+aside, false)
			v.version = -1
		})
	}
	if w := v.c.deps.Window; w != nil {
		dialog.ShowConfirm("Restore the risk register", "Replace the damaged register with the newest backup? Changes since that backup are lost; the damaged file is kept beside it.",
			func(ok bool) {
				if ok {
					do()
				}
			}, w)
		return
	}
	do()
}

// parseRiskSearch splits the search box into full-text words and field filters:
// owner:NAME, service:NAME and level:NAME (a level of the matrix; "very-high" or
// "very_high" for names with spaces; repeat for several).
func parseRiskSearch(text string, m risk.Matrix) (query, owner, service string, levels []string) {
	var words []string
	for _, w := range strings.Fields(text) {
		k, val, ok := strings.Cut(w, ":")
		switch {
		case ok && val != "" && strings.EqualFold(k, "owner"):
			owner = val
		case ok && val != "" && strings.EqualFold(k, "service"):
			service = val
		case ok && val != "" && strings.EqualFold(k, "level"):
			want := strings.NewReplacer("-", " ", "_", " ").Replace(val)
			for _, l := range m.Levels {
				if strings.EqualFold(l.Name, want) {
					levels = append(levels, l.Name)
				}
			}
		default:
			words = append(words, w)
		}
	}
	return strings.Join(words, " "), owner, service, levels
}
