package ui

import (
	"fmt"
	"image/color"
	"net/url"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/runbooks"
)

// TickStore keeps runbook checklist ticks across restarts. Both methods are called on
// the Fyne goroutine and must not block: Ticked answers from memory, SetTick saves in
// the background.
type TickStore interface {
	Ticked(runbook, step string) (on, known bool)
	SetTick(runbook, step string, on bool)
}

// runbookView shows the runbook of the selected alert, rendered from the runbooks
// package's document model into native widgets.
type runbookView struct {
	finder     RunbookFinder
	staleAfter time.Duration

	title    *line
	meta     *line
	stale    *badge
	progress *badge
	choose   *widget.Select
	top      *fyne.Container
	body     *fyne.Container
	scroll   *container.Scroll
	box      fyne.CanvasObject

	alert    datasource.Alert
	matches  []*runbooks.Runbook
	current  *runbooks.Runbook
	now      time.Time
	ticks    map[string]map[string]bool // runbook key → step ID → ticked, when there is no store
	store    TickStore
	rendered string // key of what the body shows
}

func newRunbookView(finder RunbookFinder, staleAfter time.Duration, store TickStore) *runbookView {
	v := &runbookView{
		finder: finder, staleAfter: staleAfter,
		title:    newLine(theme.SizeNameSubHeadingText, fyne.TextStyle{Bold: true}),
		meta:     newLine(SizeNameSmall, fyne.TextStyle{}),
		stale:    newBadge("STALE", ColorWarning, 1),
		progress: newBadge("", ColorInfo, 1),
		body:     container.NewVBox(),
		ticks:    map[string]map[string]bool{},
		store:    store,
	}
	v.stale.box.Hide()
	v.progress.box.Hide()
	v.choose = widget.NewSelect(nil, func(title string) {
		for _, rb := range v.matches {
			if rb.Title() == title && rb != v.current {
				v.current = rb
				v.render()
			}
		}
	})
	v.choose.Hide()
	v.scroll = container.NewVScroll(v.body)
	v.top = container.NewVBox(
		container.NewBorder(nil, nil, nil, container.NewHBox(v.progress.box, v.stale.box), v.title.RichText),
		container.NewBorder(nil, nil, nil, v.choose, v.meta.RichText),
		widget.NewSeparator(),
	)
	v.box = container.NewBorder(v.top, nil, nil, nil, v.scroll)
	v.showEmpty("Select an alert to see its runbook here.")
	return v
}

func rbKey(rb *runbooks.Runbook) string { return rb.Root + "/" + rb.Path }

// show switches to the runbook of alert a; called on every snapshot, it only rebuilds
// the body when the runbook itself changes.
func (v *runbookView) show(a datasource.Alert, now time.Time) {
	v.now = now
	if a.Fingerprint == "" { // nothing selected because nothing is alerting
		if v.alert.Fingerprint != "" || v.rendered != "" || v.current != nil {
			v.alert, v.current, v.matches = a, nil, nil
			v.choose.Hide()
			v.showEmpty("All clear: no alert is asking for a runbook right now.")
		}
		return
	}
	sameAlert := a.Fingerprint == v.alert.Fingerprint
	v.alert = a
	if sameAlert && v.current != nil {
		v.refreshHeader()
		return
	}
	v.matches = nil
	if v.finder != nil {
		v.matches = v.finder.ForAlert(a.Labels, a.Annotations)
	}
	if len(v.matches) == 0 {
		v.current = nil
		v.choose.Hide()
		msg := fmt.Sprintf("No runbook found for %s.", a.Name())
		if u := a.Annotations["runbook_url"]; u != "" {
			msg += " Its runbook_url is " + u
		}
		v.showEmpty(msg + "\n\nAdd a markdown file named after the alert (lower-case, .md) to a runbook folder, or list the alert under `alerts:` in a runbook's front matter.")
		return
	}
	v.current = v.matches[0]
	titles := make([]string, len(v.matches))
	for i, rb := range v.matches {
		titles[i] = rb.Title()
	}
	v.choose.SetOptions(titles)
	v.choose.SetSelected(titles[0])
	if len(v.matches) > 1 {
		v.choose.Show()
	} else {
		v.choose.Hide()
	}
	v.render()
}

func (v *runbookView) showEmpty(msg string) {
	v.title.set("No runbook open", ColorNameMuted)
	v.meta.set("", ColorNameMuted)
	v.stale.box.Hide()
	v.progress.box.Hide()
	v.top.Refresh()
	hint := widget.NewLabel(msg)
	hint.Wrapping = fyne.TextWrapWord
	v.body.Objects = []fyne.CanvasObject{hint}
	v.body.Refresh()
	v.rendered = ""
}

func (v *runbookView) refreshHeader() {
	rb := v.current
	if rb == nil {
		return
	}
	v.title.set(rb.Title(), theme.ColorNameForeground)
	var parts []string
	if rb.Meta.Owner != "" {
		parts = append(parts, "owner "+rb.Meta.Owner)
	}
	if !rb.Meta.LastReviewed.IsZero() {
		days := int(v.now.Sub(rb.Meta.LastReviewed).Hours() / 24)
		parts = append(parts, fmt.Sprintf("reviewed %s (%d days ago)", rb.Meta.LastReviewed.Format("2006-01-02"), days))
	}
	parts = append(parts, "for "+v.alert.Name())
	v.meta.set(strings.Join(parts, "  ·  "), ColorNameMuted)
	if runbooks.Stale(rb, v.now, v.staleAfter) {
		v.stale.box.Show()
	} else {
		v.stale.box.Hide()
	}
	if n := len(rb.Doc.Steps); n > 0 {
		done := 0
		for _, s := range rb.Doc.Steps {
			if v.ticked(rb, s.ID, s.Checked) {
				done++
			}
		}
		col := color.Color(ColorInfo)
		if done == n {
			col = ColorOK
		}
		v.progress.set(fmt.Sprintf("%d/%d STEPS", done, n), col)
		v.progress.box.Show()
	} else {
		v.progress.box.Hide()
	}
	v.top.Refresh() // texts changed width: lay the header out again
}

func (v *runbookView) ticked(rb *runbooks.Runbook, id string, def bool) bool {
	if v.store != nil {
		if on, ok := v.store.Ticked(rbKey(rb), id); ok {
			return on
		}
		return def
	}
	if m, ok := v.ticks[rbKey(rb)]; ok {
		if t, ok := m[id]; ok {
			return t
		}
	}
	return def
}

func (v *runbookView) setTick(rb *runbooks.Runbook, id string, on bool) {
	k := rbKey(rb)
	if v.store != nil {
		v.store.SetTick(k, id, on)
		v.refreshHeader()
		return
	}
	if v.ticks[k] == nil {
		v.ticks[k] = map[string]bool{}
	}
	v.ticks[k][id] = on
	v.refreshHeader()
}

// render rebuilds the body for the current runbook.
func (v *runbookView) render() {
	rb := v.current
	v.refreshHeader()
	if v.rendered == rbKey(rb) {
		return
	}
	objs := make([]fyne.CanvasObject, 0, len(rb.Doc.Blocks))
	for i, b := range rb.Doc.Blocks {
		if i == 0 && b.Kind == runbooks.KindHeading && b.Level == 1 && plain(b.Inlines) == rb.Title() {
			continue // the header already shows the title
		}
		objs = append(objs, v.block(rb, b))
	}
	v.body.Objects = objs
	v.body.Refresh()
	v.scroll.ScrollToTop()
	v.rendered = rbKey(rb)
}

// refresh re-renders after a theme change.
func (v *runbookView) refresh() {
	if v.current != nil {
		v.rendered = ""
		v.render()
	}
}

func (v *runbookView) block(rb *runbooks.Runbook, b runbooks.Block) fyne.CanvasObject {
	switch b.Kind {
	case runbooks.KindHeading:
		style := widget.RichTextStyleStrong
		switch b.Level {
		case 1:
			style = widget.RichTextStyleHeading
		case 2:
			style = widget.RichTextStyleSubHeading
		}
		return widget.NewRichText(&widget.TextSegment{Text: plain(b.Inlines), Style: style})
	case runbooks.KindParagraph:
		return v.paragraph(b.Inlines)
	case runbooks.KindList:
		return v.list(rb, b)
	case runbooks.KindQuote:
		inner := container.NewVBox()
		for _, c := range b.Children {
			inner.Add(v.block(rb, c))
		}
		bar := canvas.NewRectangle(ColorInfo)
		bar.SetMinSize(fyne.NewSize(4, 0))
		return container.NewBorder(nil, nil, bar, nil, inner)
	case runbooks.KindCode:
		return v.code(b)
	case runbooks.KindTable:
		return v.table(b)
	case runbooks.KindRule:
		return widget.NewSeparator()
	}
	return layout.NewSpacer()
}

func plain(in []runbooks.Inline) string {
	var b strings.Builder
	for _, i := range in {
		b.WriteString(i.Text)
	}
	return b.String()
}

func (v *runbookView) paragraph(in []runbooks.Inline) *widget.RichText {
	segs := make([]widget.RichTextSegment, 0, len(in))
	for _, i := range in {
		if i.Link != "" {
			if u, err := url.Parse(i.Link); err == nil && u.Scheme != "" {
				segs = append(segs, &widget.HyperlinkSegment{Text: i.Text, URL: u})
				continue
			}
		}
		st := widget.RichTextStyleInline
		st.TextStyle = fyne.TextStyle{Bold: i.Style&runbooks.Bold != 0, Italic: i.Style&runbooks.Italic != 0, Monospace: i.Style&runbooks.Code != 0}
		if i.Style&runbooks.Code != 0 {
			st.ColorName = theme.ColorNamePrimary
		}
		if i.Style&runbooks.Strike != 0 {
			st.ColorName = theme.ColorNameDisabled
		}
		segs = append(segs, &widget.TextSegment{Text: i.Text, Style: st})
	}
	rt := widget.NewRichText(segs...)
	rt.Wrapping = fyne.TextWrapWord
	return rt
}

func (v *runbookView) list(rb *runbooks.Runbook, b runbooks.Block) fyne.CanvasObject {
	box := container.NewVBox()
	for n, item := range b.Items {
		var content []fyne.CanvasObject
		blocks := item.Blocks
		if item.Task {
			// The check carries no text of its own: a Check label never wraps, and a
			// long step would widen the whole pane. The step text is a wrapped
			// paragraph beside it.
			var text fyne.CanvasObject = layout.NewSpacer()
			if len(blocks) > 0 && blocks[0].Kind == runbooks.KindParagraph {
				text, blocks = v.paragraph(blocks[0].Inlines), blocks[1:]
			}
			id := item.StepID
			check := widget.NewCheck("", func(on bool) { v.setTick(rb, id, on) })
			check.SetChecked(v.ticked(rb, id, item.Checked))
			content = append(content, container.NewBorder(nil, nil, container.NewVBox(check), nil, text))
		}
		for _, c := range blocks {
			content = append(content, v.block(rb, c))
		}
		inner := container.NewVBox(content...)
		if item.Task {
			box.Add(inner)
			continue
		}
		marker := "•"
		if b.Ordered {
			marker = fmt.Sprintf("%d.", b.Start+n)
		}
		m := widget.NewLabelWithStyle(marker, fyne.TextAlignTrailing, fyne.TextStyle{Bold: b.Ordered})
		box.Add(container.NewBorder(nil, nil, container.NewGridWrap(fyne.NewSize(32, m.MinSize().Height), m), nil, inner))
	}
	return box
}

func (v *runbookView) code(b runbooks.Block) fyne.CanvasObject {
	st := widget.RichTextStyleCodeBlock
	rt := widget.NewRichText(&widget.TextSegment{Text: strings.TrimRight(b.Code, "\n"), Style: st})
	rt.Wrapping = fyne.TextWrapBreak
	text := b.Code
	copyBtn := widget.NewButtonWithIcon("", theme.ContentCopyIcon(), func() {
		if a := fyne.CurrentApp(); a != nil {
			a.Clipboard().SetContent(text)
		}
	})
	copyBtn.Importance = widget.LowImportance
	lang := strings.ToUpper(b.Lang)
	if lang == "" {
		lang = "CODE"
	}
	label := newText(lang, 0.75, true)
	label.Color = muted()
	bg := canvas.NewRectangle(theme.Color(ColorNameSurfaceRaised))
	bg.CornerRadius = 4
	top := container.NewHBox(label, layout.NewSpacer(), copyBtn)
	return container.NewStack(bg, container.NewPadded(container.NewBorder(top, nil, nil, nil, rt)))
}

func (v *runbookView) table(b runbooks.Block) fyne.CanvasObject {
	cols := len(b.Align)
	if cols == 0 {
		return layout.NewSpacer()
	}
	cells := make([]fyne.CanvasObject, 0, cols*(len(b.Rows)+1))
	for _, c := range b.Header {
		rt := v.paragraph(c.Inlines)
		for _, s := range rt.Segments {
			if t, ok := s.(*widget.TextSegment); ok {
				t.Style.TextStyle.Bold = true
			}
		}
		cells = append(cells, rt)
	}
	for _, row := range b.Rows {
		for _, c := range row {
			cells = append(cells, v.paragraph(c.Inlines))
		}
	}
	bg := canvas.NewRectangle(theme.Color(ColorNameSurfaceRaised))
	bg.CornerRadius = 4
	return container.NewStack(bg, container.NewGridWithColumns(cols, cells...))
}
