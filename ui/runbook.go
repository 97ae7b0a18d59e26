package ui

import (
	"context"
	"fmt"
	"image/color"
	"math"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/runbooks"
	"github.com/opscockpit/opscockpit/ui/chart"
)

// PromQLFunc evaluates a runbook's promql block read-only against the metrics source
// (cockpit.EvalBlock over the chosen source). It runs off the UI goroutine.
type PromQLFunc func(ctx context.Context, query string, now time.Time) (cockpit.BlockResult, error)

// StepFunc hears every checklist tick a person makes, so an active incident or drill
// can put it on its timeline. It is called on the Fyne goroutine and must not block.
type StepFunc func(rb *runbooks.Runbook, step runbooks.Step, checked bool)

// LinkResolver follows a runbook-relative link to another runbook of the library.
type LinkResolver interface {
	Resolve(from *runbooks.Runbook, href string) (*runbooks.Runbook, string)
}

// promqlBlock is one live ```promql block of the open runbook.
type promqlBlock struct {
	query string
	out   *fyne.Container
	busy  bool
}

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
	warn     *line // the file on disk is broken: the last good copy is on screen
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

	outline  *widget.Select
	search   *widget.Entry
	inSearch bool   // the body shows search results
	anchor   string // the section last jumped to ("" : the top), for follow mode
	kiosk    bool   // war-room: no outline or search controls
	hits     []runbooks.Hit
	anchors  map[string]int      // outline entry → the top-level block it jumps to
	headings map[string]int      // anchor slug → top-level block, for links with #fragments
	blockObj []fyne.CanvasObject // built widgets by top-level block index (nil: skipped)
	built    int                 // blocks built so far
	next     int                 // next block index to build

	promql      PromQLFunc
	promqlEvery time.Duration
	blocks      []*promqlBlock
	gen         int       // bumps on every re-render, so late query results are dropped
	lastEval    time.Time // model time of the last block evaluation
	onStep      StepFunc
	openURL     func(*url.URL) error
	pending     atomic.Int32 // promql evaluations not yet shown
	onView      func()       // the open runbook or section changed (follow mode)
	// headless: results wait in done until settle applies them on the caller's goroutine
	// (Fyne's test driver runs fyne.Do on the calling goroutine, which would race).
	headless bool
	doneMu   sync.Mutex
	done     []func()
}

func newRunbookView(finder RunbookFinder, staleAfter time.Duration, store TickStore) *runbookView {
	v := &runbookView{
		finder: finder, staleAfter: staleAfter,
		title:    newLine(theme.SizeNameSubHeadingText, fyne.TextStyle{Bold: true}),
		meta:     newLine(SizeNameSmall, fyne.TextStyle{}),
		warn:     newLine(SizeNameSmall, fyne.TextStyle{Bold: true}),
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
	v.warn.Hide()
	v.outline = widget.NewSelect(nil, func(entry string) {
		i, ok := v.anchors[entry]
		v.anchor = ""
		for a, j := range v.headings {
			if ok && j == i && (v.anchor == "" || a < v.anchor) {
				v.anchor = a
			}
		}
		v.jumpBlock(i, ok)
		if v.onView != nil {
			v.onView()
		}
	})
	v.outline.PlaceHolder = "Jump to section…"
	v.outline.Hide()
	v.search = widget.NewEntry()
	v.search.SetPlaceHolder("Search runbooks  ( / )")
	v.search.OnChanged = v.runSearch
	v.search.OnSubmitted = func(string) { v.openFirstHit() }
	if _, ok := finder.(runbookSearcher); !ok {
		v.search.Hide()
	}
	v.openURL = func(u *url.URL) error {
		if a := fyne.CurrentApp(); a != nil {
			return a.OpenURL(u)
		}
		return nil
	}
	v.scroll = container.NewVScroll(v.body)
	v.scroll.OnScrolled = v.moreOnScroll
	v.top = container.NewVBox(
		container.NewBorder(nil, nil, nil, container.NewHBox(v.progress.box, v.stale.box), v.title.RichText),
		container.NewBorder(nil, nil, nil, container.NewHBox(v.outline, v.choose, container.NewGridWrap(fyne.NewSize(230, v.search.MinSize().Height), v.search)), v.meta.RichText),
		v.warn.RichText,
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
	if v.inSearch {
		if a.Fingerprint != v.alert.Fingerprint && a.Fingerprint != "" {
			// a person picked another alert: leave the search for its runbook
			v.search.SetText("")
		} else {
			return
		}
	}
	if a.Fingerprint == "" { // nothing selected because nothing is alerting
		if v.alert.Fingerprint == "" && v.current != nil {
			// a runbook opened by hand (search) stays open
			v.refreshHeader()
			v.evalBlocks(false)
			return
		}
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
		v.evalBlocks(false)
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

// open shows rb on its own (a search result, a headless render), not tied to an alert.
func (v *runbookView) open(rb *runbooks.Runbook, anchor string, now time.Time) {
	v.now = now
	v.alert = datasource.Alert{}
	v.matches = []*runbooks.Runbook{rb}
	v.choose.Hide()
	v.current = rb
	v.render()
	if anchor != "" {
		i, ok := v.headings[anchor]
		v.jumpBlock(i, ok)
	}
}

// runbookSearcher is the library's full-text search.
type runbookSearcher interface {
	Search(query string, limit int) []runbooks.Hit
}

// runSearch shows the hits for q in place of the body; an empty q puts the runbook back.
func (v *runbookView) runSearch(q string) {
	s, ok := v.finder.(runbookSearcher)
	if !ok {
		return
	}
	if strings.TrimSpace(q) == "" {
		v.endSearch()
		return
	}
	v.inSearch = true
	v.rendered = ""
	v.gen++ // promql results for the hidden runbook are not wanted now
	v.blocks = nil
	hits := s.Search(q, 25)
	v.hits = hits
	objs := make([]fyne.CanvasObject, 0, len(hits)+1)
	summary := newText(fmt.Sprintf("%d runbook(s) match %q — Enter opens the first, Esc goes back", len(hits), q), 0.85, false)
	summary.Color = muted()
	objs = append(objs, summary)
	for _, h := range hits {
		objs = append(objs, v.hitRow(h))
	}
	v.body.Objects = objs
	v.body.Refresh()
	v.scroll.ScrollToTop()
}

func (v *runbookView) hitRow(h runbooks.Hit) fyne.CanvasObject {
	title := widget.NewButton(h.Runbook.Title(), func() { v.openHit(h) })
	title.Alignment = widget.ButtonAlignLeading
	title.Importance = widget.LowImportance
	where := h.Field.String()
	if h.Fuzzy {
		where = "title (fuzzy)"
	}
	// The snippet with its matches in bold.
	segs := []widget.RichTextSegment{&widget.TextSegment{Text: strings.ToUpper(where) + "  ", Style: widget.RichTextStyle{Inline: true, ColorName: ColorNameMuted, SizeName: SizeNameSmall, TextStyle: fyne.TextStyle{Bold: true}}}}
	last := 0
	plainStyle := widget.RichTextStyle{Inline: true, ColorName: ColorNameMuted, SizeName: SizeNameSmall}
	boldStyle := widget.RichTextStyle{Inline: true, ColorName: theme.ColorNameForeground, SizeName: SizeNameSmall, TextStyle: fyne.TextStyle{Bold: true}}
	for _, m := range h.Matches {
		if m.Start < last || m.End > len(h.Snippet) || m.Start >= m.End {
			continue
		}
		segs = append(segs, &widget.TextSegment{Text: h.Snippet[last:m.Start], Style: plainStyle},
			&widget.TextSegment{Text: h.Snippet[m.Start:m.End], Style: boldStyle})
		last = m.End
	}
	segs = append(segs, &widget.TextSegment{Text: h.Snippet[last:], Style: plainStyle})
	snippet := widget.NewRichText(segs...)
	snippet.Wrapping = fyne.TextWrapWord
	return container.NewVBox(title, container.New(layout.NewCustomPaddedLayout(0, 6, 12, 0), snippet))
}

func (v *runbookView) openHit(h runbooks.Hit) {
	v.inSearch = false
	v.search.SetText("")               // runs endSearch, which re-renders what was open…
	v.open(h.Runbook, h.Anchor, v.now) // …and this opens the hit instead
}

func (v *runbookView) openFirstHit() {
	if v.inSearch && len(v.hits) > 0 {
		v.openHit(v.hits[0])
	}
}

// endSearch leaves the results and shows the runbook that was open before.
func (v *runbookView) endSearch() {
	if !v.inSearch {
		return
	}
	v.inSearch = false
	v.hits = nil
	if v.current != nil {
		v.rendered = ""
		v.render()
		return
	}
	v.showEmpty("Select an alert to see its runbook here, or search all runbooks above.")
}

// reloaded follows a reload of the library: the open runbook is swapped for its new
// parse, or reported gone; when its file failed to load, the last good copy stays on
// screen under a warning that says why.
func (v *runbookView) reloaded(rep runbooks.LoadReport) {
	rb := v.current
	if rb == nil {
		return
	}
	var broken *runbooks.LoadError
	for i, e := range rep.Errors {
		if e.Root == rb.Root && e.Path == rb.Path {
			broken = &rep.Errors[i]
		}
	}
	if broken != nil {
		v.warn.set("FILE HAS AN ERROR — showing the last good copy: "+cockpit.Truncate(broken.Err.Error(), 200), theme.ColorNameError)
		v.warn.Show()
	} else if v.warn.Visible() {
		v.warn.Hide()
	}
	for _, f := range rep.Removed {
		if f.Root == rb.Root && f.Path == rb.Path {
			v.current = nil
			v.showEmpty(fmt.Sprintf("The runbook %q (%s) was deleted from its folder.", rb.Title(), rb.Path))
			return
		}
	}
	lister, ok := v.finder.(interface{ All() []*runbooks.Runbook })
	if !ok {
		return
	}
	for _, n := range lister.All() {
		if n.Root == rb.Root && n.Path == rb.Path && n != rb {
			for i, m := range v.matches {
				if m == rb {
					v.matches[i] = n
				}
			}
			v.current = n
			v.rendered = ""
			off := v.scroll.Offset
			v.render()
			v.scroll.ScrollToOffset(off) // an edit should not lose the reader's place
			return
		}
	}
	v.top.Refresh()
}

// drain applies finished promql evaluations; it runs on the UI goroutine.
func (v *runbookView) drain() {
	v.doneMu.Lock()
	done := v.done
	v.done = nil
	v.doneMu.Unlock()
	for _, f := range done {
		f()
	}
}

// settle waits until every promql block has shown its result, or ctx ends. Call it on
// the UI goroutine (headless: the goroutine that drives the test window).
func (v *runbookView) settle(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for v.drain(); v.pending.Load() > 0; v.drain() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("runbook promql blocks still running: %w", ctx.Err())
		case <-t.C:
		}
	}
	return nil
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
	v.outline.Hide()
	v.blocks = nil
	v.gen++
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
	if v.alert.Fingerprint != "" {
		parts = append(parts, "for "+v.alert.Name())
	}
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
	if v.onStep != nil {
		for _, st := range rb.Doc.Steps {
			if st.ID == id {
				v.onStep(rb, st, on)
				break
			}
		}
	}
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
	v.gen++
	v.blocks = nil
	v.built, v.next = 0, 0
	v.anchor = ""
	v.blockObj = v.blockObj[:0]
	v.body.Objects = nil
	v.anchors = map[string]int{}
	v.headings = map[string]int{}
	var entries []string
	titleShown := len(rb.Doc.Blocks) > 0 && rb.Doc.Blocks[0].Kind == runbooks.KindHeading && rb.Doc.Blocks[0].Level == 1 &&
		plain(rb.Doc.Blocks[0].Inlines) == rb.Title()
	for _, h := range rb.Doc.Outline {
		if titleShown && h.Block == 0 {
			continue // the header shows the title
		}
		v.headings[h.Anchor] = h.Block
		if h.Level > 3 {
			continue
		}
		entry := strings.Repeat("   ", max(h.Level-2, 0)) + h.Text
		if _, dup := v.anchors[entry]; dup {
			continue
		}
		v.anchors[entry] = h.Block
		entries = append(entries, entry)
	}
	v.outline.Options = entries
	v.outline.ClearSelected()
	if len(entries) > 1 && !v.kiosk {
		v.outline.Show()
	} else {
		v.outline.Hide()
	}
	v.buildThrough(firstScreenBlocks - 1)
	v.scroll.ScrollToTop()
	v.rendered = rbKey(rb)
	v.evalBlocks(true)
}

// firstScreenBlocks is how many top-level blocks are built when a runbook opens; the
// rest are built as the reader scrolls towards them (or jumps), so a 200 KiB runbook
// shows its first screen without building thousands of widgets nobody has looked at.
const firstScreenBlocks = 30

// buildThrough builds the open runbook's blocks up to index last (inclusive).
func (v *runbookView) buildThrough(last int) {
	rb := v.current
	if rb == nil {
		return
	}
	last = min(last, len(rb.Doc.Blocks)-1)
	if v.next > last {
		return
	}
	before := len(v.blocks)
	for ; v.next <= last; v.next++ {
		b := rb.Doc.Blocks[v.next]
		if v.next == 0 && b.Kind == runbooks.KindHeading && b.Level == 1 && plain(b.Inlines) == rb.Title() {
			v.blockObj = append(v.blockObj, nil)
			continue // the header already shows the title
		}
		o := v.block(rb, b)
		v.blockObj = append(v.blockObj[:v.next], o)
		v.body.Objects = append(v.body.Objects, o)
	}
	v.built = v.next
	v.body.Refresh()
	// A tall window may show more than was built: keep going until the body is taller
	// than two screens or the runbook is done.
	if h := v.scroll.Size().Height; h > 0 && v.body.MinSize().Height < 2*h && v.next < len(rb.Doc.Blocks) {
		v.buildThrough(v.next + firstScreenBlocks - 1)
	}
	if v.rendered != "" && len(v.blocks) > before {
		v.evalSome(v.blocks[before:]) // promql blocks that just appeared
	}
}

// jumpBlock scrolls the body so that top-level block i is at the top, building it
// first if the reader has not scrolled that far.
func (v *runbookView) jumpBlock(i int, ok bool) {
	if !ok || v.current == nil {
		return
	}
	v.buildThrough(i + firstScreenBlocks/2)
	var o fyne.CanvasObject
	for j := min(i, len(v.blockObj)-1); j >= 0 && o == nil; j-- {
		o = v.blockObj[j]
	}
	v.jump(o)
}

// moreOnScroll builds the next blocks when the reader nears the end of what is built.
func (v *runbookView) moreOnScroll(off fyne.Position) {
	if v.current == nil || v.next >= len(v.current.Doc.Blocks) {
		return
	}
	if off.Y+2*v.scroll.Size().Height >= v.body.MinSize().Height {
		v.buildThrough(v.next + firstScreenBlocks - 1)
	}
}

// jump scrolls the body so that o (a block of it) is at the top.
func (v *runbookView) jump(o fyne.CanvasObject) {
	if o == nil {
		return
	}
	// The body may not have been laid out at its new height yet (a runbook just
	// opened): size it first so the block's position and the scroll limits are current.
	v.body.Resize(fyne.NewSize(max(v.scroll.Size().Width, v.body.MinSize().Width), v.body.MinSize().Height))
	v.scroll.ScrollToOffset(fyne.NewPos(0, o.Position().Y))
}

// followLink acts on a tapped link that the runbooks package's policy accepted: a
// runbook-relative link opens that runbook (at its #section) in place; http, https and
// mailto go to the system's handler. Anything else is refused again here.
func (v *runbookView) followLink(from *runbooks.Runbook, href string) {
	if !runbooks.LinkAllowed(href) {
		return
	}
	if strings.HasPrefix(href, "#") {
		i, ok := v.headings[strings.TrimPrefix(href, "#")]
		v.jumpBlock(i, ok)
		return
	}
	if r, ok := v.finder.(LinkResolver); ok {
		if target, anchor := r.Resolve(from, href); target != nil {
			v.current = target
			v.render()
			if anchor != "" {
				i, ok := v.headings[anchor]
				v.jumpBlock(i, ok)
			}
			return
		}
	}
	u, err := url.Parse(href)
	if err != nil {
		return
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "mailto":
		if v.openURL != nil {
			_ = v.openURL(u)
		}
	}
}

// evalBlocks runs the open runbook's promql blocks: at once when force is set (a new
// runbook), otherwise when the model's clock has moved a refresh interval on, as the
// panels do. Results land on the UI goroutine and are dropped if the runbook changed.
func (v *runbookView) evalBlocks(force bool) {
	if v.promql == nil || len(v.blocks) == 0 {
		return
	}
	now := v.now
	every := v.promqlEvery
	if every <= 0 {
		every = 15 * time.Second
	}
	if !force && !v.lastEval.IsZero() && now.Sub(v.lastEval) < every && !now.Before(v.lastEval) {
		return
	}
	v.lastEval = now
	v.evalSome(v.blocks)
}

// evalSome runs the given promql blocks (those not already running) at the model's time.
func (v *runbookView) evalSome(blocks []*promqlBlock) {
	if v.promql == nil {
		return
	}
	now := v.now
	gen, run := v.gen, v.promql
	for _, b := range blocks {
		if b.busy {
			continue
		}
		b.busy = true
		v.pending.Add(1)
		go func() {
			res, err := run(context.Background(), b.query, now)
			v.doneMu.Lock()
			v.done = append(v.done, func() {
				defer v.pending.Add(-1)
				b.busy = false
				if gen == v.gen {
					v.showBlock(b, res, err)
				}
			})
			v.doneMu.Unlock()
			if !v.headless {
				fyne.Do(v.drain)
			}
		}()
	}
}

// showBlock puts a promql block's result under its code: each series' newest value,
// large, with a sparkline for a range selection.
func (v *runbookView) showBlock(b *promqlBlock, res cockpit.BlockResult, err error) {
	small := func(s string, c color.Color) *canvas.Text {
		t := newText(s, 0.8, false)
		t.Color = c
		return t
	}
	var rows []fyne.CanvasObject
	stamp := "LIVE  ·  " + res.At.Format("15:04:05")
	if res.Range > 0 {
		stamp += "  ·  last " + cockpit.HumanDuration(res.Range)
	}
	rows = append(rows, small(stamp, muted()))
	switch {
	case err != nil:
		msg := widget.NewLabel("Query failed: " + err.Error())
		msg.Wrapping = fyne.TextWrapWord
		msg.Importance = widget.DangerImportance
		rows = append(rows, msg)
	case len(res.Series) == 0:
		rows = append(rows, small("no data: the query returned no series", muted()))
	}
	for _, s := range res.Series {
		val := "—"
		if !math.IsNaN(s.Value) {
			val = chart.FormatValue(s.Value, "", -1)
		}
		value := newText(val, 1.6, true)
		value.Color = theme.Color(theme.ColorNamePrimary)
		name := small(s.Name, muted())
		row := container.NewHBox(value)
		if len(s.Samples) > 1 {
			pts := make([]float64, len(s.Samples))
			for i, p := range s.Samples {
				pts[i] = p.V
			}
			row.Add(newSparkline(pts, theme.Color(theme.ColorNamePrimary), fyne.NewSize(160, value.MinSize().Height)))
		}
		row.Add(container.NewCenter(name))
		rows = append(rows, row)
	}
	if more := res.Total - len(res.Series); more > 0 {
		rows = append(rows, small(fmt.Sprintf("+%d more series", more), muted()))
	}
	if len(res.Warnings) > 0 {
		rows = append(rows, small("PARTIAL: "+strings.Join(res.Warnings, "; "), ColorWarning))
	}
	b.out.Objects = rows
	b.out.Refresh()
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
		return v.paragraphIn(rb, b.Inlines)
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
	return v.paragraphIn(v.current, in)
}

// paragraphIn renders inline runs; links the policy accepted become tappable and are
// followed by followLink (never by Fyne's default OpenURL).
func (v *runbookView) paragraphIn(rb *runbooks.Runbook, in []runbooks.Inline) *widget.RichText {
	segs := make([]widget.RichTextSegment, 0, len(in))
	for _, i := range in {
		if i.Link != "" && runbooks.LinkAllowed(i.Link) {
			if u, err := url.Parse(i.Link); err == nil {
				href := i.Link
				segs = append(segs, &widget.HyperlinkSegment{Text: i.Text, URL: u, OnTapped: func() { v.followLink(rb, href) }})
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
				text, blocks = v.paragraphIn(rb, blocks[0].Inlines), blocks[1:]
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
	codeBox := container.NewStack(bg, container.NewPadded(container.NewBorder(top, nil, nil, nil, rt)))
	if b.Lang != "promql" || v.promql == nil {
		return codeBox
	}
	pending := newText("LIVE  ·  evaluating…", 0.8, false)
	pending.Color = muted()
	blk := &promqlBlock{query: b.Code, out: container.NewVBox(pending)}
	v.blocks = append(v.blocks, blk)
	return container.NewVBox(codeBox, container.New(layout.NewCustomPaddedLayout(0, 4, 12, 4), blk.out))
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
