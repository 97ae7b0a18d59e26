package cockpit

import (
	"cmp"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/history"
)

// Hub owns the current situation. Producers call its Set/Apply methods, which only take
// a short lock and mark the state dirty; one publisher goroutine (Run) turns dirty
// state into a new Snapshot and hands it to subscribers, replacing any snapshot a slow
// subscriber has not read yet. A producer therefore never waits on a reader.
type Hub struct {
	clk      clock.Clock
	scenario func() ScenarioState
	onAlerts func(string, int)
	feeds    int
	silent   time.Duration
	started  time.Time

	mu        sync.Mutex
	title     string
	incident  *IncidentState
	risks     *RiskState
	panels    []PanelState
	alerts    map[string]map[string]datasource.Alert // source → fingerprint → alert
	truncated map[string]int
	lastFeed  time.Time // when any alert source last delivered
	acks      map[string]history.Ack
	health    map[string]datasource.Health
	subs      map[*Subscription]struct{}
	version   uint64
	// sorted is the merged, display-ordered alert list of the last build; it is rebuilt
	// only when alerts changed, so panel-only snapshots (the common case) skip the merge.
	sorted      []datasource.Alert
	alertsDirty bool

	dirty chan struct{}
	pubMu sync.Mutex // one publisher at a time keeps versions in order
	snap  atomic.Pointer[Snapshot]
}

// HubOptions configure a hub.
type HubOptions struct {
	Title  string
	Panels []PanelSpec
	// Scenario, when set, is asked where the playing scenario is at each snapshot.
	Scenario func() ScenarioState
	// OnAlertEvent, when set, hears of every alert event applied (for self-metrics).
	OnAlertEvent func(source string, alerts int)
	// AlertFeeds is how many alert sources are configured. With none, an empty alert
	// list means "not watching", never "all clear".
	AlertFeeds int
	// FeedSilentAfter raises the "feed silent" flag when no alert source has delivered
	// anything for this long (default 10 minutes).
	FeedSilentAfter time.Duration
}

// NewHub returns a hub with every panel loading and no alerts.
func NewHub(clk clock.Clock, opts HubOptions) *Hub {
	h := &Hub{
		clk:       clk,
		scenario:  opts.Scenario,
		onAlerts:  opts.OnAlertEvent,
		feeds:     opts.AlertFeeds,
		silent:    cmp.Or(opts.FeedSilentAfter, 10*time.Minute),
		started:   clk.Now(),
		acks:      map[string]history.Ack{},
		title:     opts.Title,
		alerts:    map[string]map[string]datasource.Alert{},
		truncated: map[string]int{},
		health:    map[string]datasource.Health{},
		subs:      map[*Subscription]struct{}{},
		dirty:     make(chan struct{}, 1),
	}
	for _, p := range opts.Panels {
		h.panels = append(h.panels, PanelState{Spec: p, Status: StatusLoading})
	}
	h.snap.Store(h.build())
	return h
}

func (h *Hub) markDirty() {
	select {
	case h.dirty <- struct{}{}:
	default: // already marked: this change rides along with the pending one
	}
}

// SetPanel records the outcome of panel i's query. A failure after a good result keeps
// the result and marks it stale.
func (h *Hub) SetPanel(i int, res datasource.Result, err error) {
	now := h.clk.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if i < 0 || i >= len(h.panels) {
		return
	}
	p := &h.panels[i]
	if err != nil {
		p.Err = Truncate(err.Error(), MaxErrorLen)
		if p.UpdatedAt.IsZero() {
			p.Status = StatusError
		} else {
			if p.Status != StatusStale {
				p.StaleSince = now
			}
			p.Status = StatusStale
		}
	} else {
		p.Result, p.Err, p.UpdatedAt, p.StaleSince = res, "", now, time.Time{}
		switch {
		case len(res.Series) == 0:
			p.Status = StatusNoData
		case len(res.Warnings) > 0:
			p.Status = StatusPartial
		default:
			p.Status = StatusOK
		}
	}
	h.markDirty()
}

// ApplyAlerts merges an alert event: a Snapshot replaces what that source said before,
// a Delta upserts, and within a source the newest UpdatedAt for a fingerprint wins, so
// replays and out-of-order deliveries are harmless.
func (h *Hub) ApplyAlerts(ev datasource.AlertEvent) {
	if h.onAlerts != nil {
		h.onAlerts(ev.Source, len(ev.Alerts))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	cur := h.alerts[ev.Source]
	if ev.Kind == datasource.Snapshot || cur == nil {
		cur = make(map[string]datasource.Alert, len(ev.Alerts))
		h.alerts[ev.Source] = cur
	}
	for _, a := range ev.Alerts {
		if old, ok := cur[a.Fingerprint]; ok && old.UpdatedAt.After(a.UpdatedAt) {
			continue
		}
		if a.Source == "" {
			a.Source = ev.Source
		}
		cur[a.Fingerprint] = a
	}
	h.truncated[ev.Source] = ev.Truncated
	h.lastFeed = h.clk.Now()
	h.alertsDirty = true
	h.markDirty()
}

// SetAck records the newest acknowledgement of an alert.
func (h *Hub) SetAck(a history.Ack) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.acks[a.Fingerprint] = a
	h.markDirty()
}

// SetHealth records a source's condition.
func (h *Hub) SetHealth(hl datasource.Health) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.health[hl.Source] = hl
	h.markDirty()
}

// SetRisks replaces the risk register state shown with every snapshot.
func (h *Hub) SetRisks(st *RiskState) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.risks = st
	h.markDirty()
}

// SetIncident replaces the incident state shown with every snapshot.
func (h *Hub) SetIncident(st *IncidentState) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.incident = st
	h.markDirty()
}

// SetTitle changes the name shown in the header.
func (h *Hub) SetTitle(t string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.title = t
	h.markDirty()
}

// Snapshot returns the latest published snapshot.
func (h *Hub) Snapshot() *Snapshot { return h.snap.Load() }

// Publish builds and publishes a snapshot now if anything changed. Run calls it; tests
// and the headless renderer call it directly.
func (h *Hub) Publish() *Snapshot {
	h.pubMu.Lock()
	defer h.pubMu.Unlock()
	select {
	case <-h.dirty:
	default:
		return h.snap.Load()
	}
	s := h.build()
	h.snap.Store(s)
	h.mu.Lock()
	subs := slices.Collect(maps.Keys(h.subs))
	h.mu.Unlock()
	for _, sub := range subs {
		sub.offer(s)
	}
	return s
}

// Run publishes snapshots as the state changes until done is closed.
func (h *Hub) Run(done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case <-h.dirty:
			h.markDirty() // hand the mark to Publish
			h.Publish()
		}
	}
}

// build copies the working state into a fresh snapshot. Only the outer slices and maps
// are copied: alerts and results are replaced whole by producers, never mutated in place.
func (h *Hub) build() *Snapshot {
	now := h.clk.Now()
	var sc ScenarioState
	if h.scenario != nil {
		sc = h.scenario()
	}
	h.mu.Lock()
	h.version++
	s := &Snapshot{Version: h.version, At: now, Title: h.title, Scenario: sc, Panels: slices.Clone(h.panels), AlertFeeds: h.feeds,
		Acks: maps.Clone(h.acks), LastFeed: cmp.Or(h.lastFeed, h.started), FeedSilentAfter: h.silent, Incident: h.incident, Risks: h.risks}
	for _, n := range h.truncated {
		s.Truncated += n
	}
	for _, hl := range h.health {
		s.Sources = append(s.Sources, hl)
	}
	if !h.alertsDirty {
		s.Alerts = h.sorted
		h.mu.Unlock()
	} else {
		merged := make(map[string]datasource.Alert)
		for _, bySrc := range h.alerts {
			for fp, a := range bySrc {
				if old, ok := merged[fp]; !ok || a.UpdatedAt.After(old.UpdatedAt) {
					merged[fp] = a
				}
			}
		}
		h.alertsDirty = false
		h.mu.Unlock()
		s.Alerts = sortForDisplay(merged)
		h.mu.Lock()
		h.sorted = s.Alerts
		h.mu.Unlock()
	}
	slices.SortFunc(s.Sources, func(a, b datasource.Health) int { return cmp.Compare(a.Source, b.Source) })
	return s
}

func stateRank(s datasource.AlertState) int {
	switch s {
	case datasource.StateFiring:
		return 0
	case datasource.StateSuppressed:
		return 1
	default:
		return 2
	}
}

// sortForDisplay lists alerts in CompareAlerts order. The sort keys are computed once
// per alert rather than in every comparison: with ten thousand alerts that is most of
// the cost of a snapshot.
func sortForDisplay(m map[string]datasource.Alert) []datasource.Alert {
	type key struct {
		state, sev int
		start      int64
		fp         string
		a          *datasource.Alert
	}
	all := make([]datasource.Alert, 0, len(m))
	for _, a := range m {
		all = append(all, a)
	}
	keys := make([]key, len(all))
	for i := range all {
		a := &all[i]
		keys[i] = key{stateRank(a.State), datasource.SeverityRank(a.Severity()), a.StartsAt.UnixNano(), a.Fingerprint, a}
	}
	slices.SortFunc(keys, func(x, y key) int {
		return cmp.Or(cmp.Compare(x.state, y.state), cmp.Compare(x.sev, y.sev), cmp.Compare(x.start, y.start), cmp.Compare(x.fp, y.fp))
	})
	out := make([]datasource.Alert, len(keys))
	for i, k := range keys {
		out[i] = *k.a
	}
	return out
}

// CompareAlerts orders alerts for display: firing first, then by severity, then the
// longest-running first, then by fingerprint so the order is stable.
func CompareAlerts(a, b datasource.Alert) int {
	return cmp.Or(
		cmp.Compare(stateRank(a.State), stateRank(b.State)),
		cmp.Compare(datasource.SeverityRank(a.Severity()), datasource.SeverityRank(b.Severity())),
		a.StartsAt.Compare(b.StartsAt),
		cmp.Compare(a.Fingerprint, b.Fingerprint),
	)
}

// Subscription receives snapshots. At most one unread snapshot waits in C; a newer one
// replaces it.
type Subscription struct {
	c   chan *Snapshot
	mu  sync.Mutex
	hub *Hub
}

// Subscribe returns a subscription whose channel already holds the current snapshot.
func (h *Hub) Subscribe() *Subscription {
	s := &Subscription{c: make(chan *Snapshot, 1), hub: h}
	// Register first, then offer the current snapshot: a Publish that runs in between
	// either finds the subscription registered or stored its snapshot before our Load,
	// so the newest snapshot always reaches the new subscriber.
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	s.offer(h.snap.Load())
	return s
}

// C delivers snapshots, newest only.
func (s *Subscription) C() <-chan *Snapshot { return s.c }

// Close stops delivery.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	delete(s.hub.subs, s)
	s.hub.mu.Unlock()
}

func (s *Subscription) offer(snap *Snapshot) {
	s.mu.Lock() // one offer at a time, so the drain-and-refill below cannot interleave
	defer s.mu.Unlock()
	for {
		select {
		case s.c <- snap:
			return
		default:
		}
		select {
		case old := <-s.c:
			if old.Version > snap.Version { // never replace a newer snapshot with an older one
				snap = old
			}
		default:
		}
	}
}

// MaxErrorLen caps error text shown on a panel.
const MaxErrorLen = 1024

// Truncate shortens s to at most n bytes on a rune boundary, marking the cut with "…".
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
