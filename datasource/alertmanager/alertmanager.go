// Package alertmanager brings alerts in from Prometheus Alertmanager in the two ways it
// offers: a Poller that reads the API v2 of every peer of an HA cluster and merges them
// by fingerprint, and a Webhook receiver for its notifications (payload version 4).
// Both are datasource.AlertSources. The Poller also lists, creates and expires silences.
//
// A failing peer is visible state, never a failure of the whole source: its alerts come
// from the peers that answer, and PeerHealth says which one is down and since when.
// When no peer answers, nothing is sent, so the cockpit keeps the last known alerts
// (marked stale) instead of showing them resolved. Every failure is an *Error of a Kind
// that says what to do about it, in words free of credentials; every outside input is
// size-capped and checked, and a malformed message is counted and dropped, never fatal.
package alertmanager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	commoncfg "github.com/prometheus/common/config"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
)

// Defaults for the zero values of PollerOptions.
const (
	DefaultInterval         = 15 * time.Second
	DefaultTimeout          = 10 * time.Second
	DefaultMaxBackoff       = 2 * time.Minute
	DefaultMaxResponseBytes = 64 << 20
)

// HealthKind is the Kind of every Health a Poller reports.
const HealthKind = "alertmanager"

// alertsQuery asks for every alert Alertmanager holds, muted or not: the cockpit shows
// silenced and inhibited alerts as suppressed rather than hiding them.
var alertsQuery = url.Values{
	"active": {"true"}, "silenced": {"true"}, "inhibited": {"true"}, "unprocessed": {"true"},
}

// PollerOptions configure a Poller.
type PollerOptions struct {
	// Name identifies the source in status chips, alert events and self-metrics.
	Name string
	// URLs are the base http or https URLs of the cluster's peers, without /api/v2.
	URLs []string
	// HTTPConfig is auth, TLS and proxy in the shape of prometheus.yml's http_config,
	// shared by every peer. The zero value means prometheus/common's defaults.
	HTTPConfig commoncfg.HTTPClientConfig
	// Interval is the time between polls while at least one peer answers (default 15s).
	Interval time.Duration
	// Timeout bounds each request to a peer (default the smaller of 10s and Interval).
	Timeout time.Duration
	// MaxBackoff caps the wait between polls while no peer answers (default 2m). The
	// wait starts at Interval and doubles, less up to a fifth at random.
	MaxBackoff time.Duration
	// Clock schedules polls and stamps health (default the wall clock).
	Clock clock.Clock
	// Metrics, if set, receives the poller's self-metrics.
	Metrics *Metrics
	// Log receives state changes: a peer going down or coming back (default slog.Default).
	Log *slog.Logger
	// MaxResponseBytes caps one response body (default 64 MiB); a bigger one fails that
	// peer's poll with KindTooLarge.
	MaxResponseBytes int64
}

// Poller polls the Alertmanager API v2 of every peer of one cluster and delivers the
// merged alert list as a Snapshot after every poll in which at least one peer answered.
// It also manages silences. It is safe for concurrent use; however many subscribers it
// has, it runs one polling loop, and only while it has any.
type Poller struct {
	name       string
	interval   time.Duration
	timeout    time.Duration
	maxBackoff time.Duration
	clk        clock.Clock
	metrics    *Metrics
	log        *slog.Logger
	conn       conn
	peers      []*peer

	jitter   func() float64      // in [0, 1); tests fix it
	waitHook func(time.Duration) // tests see each wait the loop chooses

	mu       sync.Mutex
	health   datasource.Health
	subs     map[*pollSub]struct{}
	stopLoop context.CancelFunc     // nil while no loop runs
	latest   *datasource.AlertEvent // the running loop's last snapshot; nil after a failed poll
}

var _ datasource.AlertSource = (*Poller)(nil)

// NewPoller checks opts and builds a Poller with one keep-alive HTTP client configured
// from opts.HTTPConfig. Nothing is sent until the first Subscribe, Poll or silence call.
func NewPoller(opts PollerOptions) (*Poller, error) { return newPoller(opts, nil) }

// newPoller is NewPoller with the bottom transport replaced, for tests that fake the
// network.
func newPoller(opts PollerOptions, transport http.RoundTripper) (*Poller, error) {
	if opts.Name == "" {
		return nil, errors.New("alertmanager: a name is required")
	}
	cfg := opts.HTTPConfig
	if reflect.DeepEqual(cfg, commoncfg.HTTPClientConfig{}) {
		cfg = commoncfg.DefaultHTTPClientConfig // left out: what prometheus.yml would mean
	}
	scrub := newScrubber(nil, &cfg)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("alertmanager %q: %s", opts.Name, scrub.scrub(fmt.Sprintf(format, args...)))
	}
	if len(opts.URLs) == 0 {
		return nil, fail("no URLs; give one per Alertmanager peer")
	}
	urls := make([]*url.URL, 0, len(opts.URLs))
	seen := map[string]bool{}
	for i, raw := range opts.URLs {
		u, err := url.Parse(raw)
		if err != nil {
			// url.Parse quotes its whole input, password included: keep only the reason.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return nil, fail("URL %d is invalid: %s", i+1, newScrubber([]*url.URL{}, &cfg).scrub(err.Error()))
		}
		scrub = newScrubber(append(urls, u), &cfg) // so the messages below hide this URL's secrets
		switch path := strings.TrimRight(u.Path, "/"); {
		case u.Scheme != "http" && u.Scheme != "https":
			return nil, fail("URL %s: want an http:// or https:// URL", redact(u))
		case u.Host == "":
			return nil, fail("URL %s: no host", redact(u))
		case strings.HasSuffix(path, "/api/v2") || strings.HasSuffix(path, "/api/v1"):
			return nil, fail("URL %s: leave out the /api/… path; it is added to every request", redact(u))
		case seen[redact(u)]:
			return nil, fail("URL %s is listed twice", redact(u))
		}
		seen[redact(u)] = true
		urls = append(urls, u)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fail("http_config: %v", err)
	}
	scrub = newScrubber(urls, &cfg)
	hc, err := commoncfg.NewClientFromConfig(cfg, "alertmanager_"+opts.Name, commoncfg.WithUserAgent("OpsCockpit"))
	if err != nil {
		return nil, fail("http_config: %v", err)
	}
	if transport != nil {
		hc.Transport = transport
	}
	p := &Poller{
		name:       opts.Name,
		interval:   opts.Interval,
		timeout:    opts.Timeout,
		maxBackoff: opts.MaxBackoff,
		clk:        opts.Clock,
		metrics:    opts.Metrics,
		log:        opts.Log,
		conn:       conn{client: hc, scrub: scrub, maxBytes: opts.MaxResponseBytes},
		jitter:     rand.Float64,
		health:     datasource.Health{Source: opts.Name, Kind: HealthKind, State: datasource.HealthUnknown},
	}
	if p.interval <= 0 {
		p.interval = DefaultInterval
	}
	if p.timeout <= 0 {
		p.timeout = min(DefaultTimeout, p.interval)
	}
	if p.maxBackoff <= 0 {
		p.maxBackoff = DefaultMaxBackoff
	}
	p.maxBackoff = max(p.maxBackoff, p.interval)
	if p.clk == nil {
		p.clk = clock.Real{}
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	if p.conn.maxBytes <= 0 {
		p.conn.maxBytes = DefaultMaxResponseBytes
	}
	for i, name := range peerNames(urls) {
		u := urls[i]
		p.peers = append(p.peers, &peer{
			name:    name,
			display: redact(u),
			host:    u.Host,
			base:    u,
			health:  datasource.Health{Source: opts.Name + " (" + name + ")", Kind: HealthKind, State: datasource.HealthUnknown},
		})
	}
	return p, nil
}

// peerNames gives each peer the shortest name that tells it from the others: the first
// label of its host name ("am-2"), else the host name, host:port, or the whole URL.
func peerNames(urls []*url.URL) []string {
	ways := []func(*url.URL) string{
		func(u *url.URL) string {
			h := u.Hostname()
			if net.ParseIP(h) != nil {
				return ""
			}
			first, _, _ := strings.Cut(h, ".")
			return first
		},
		func(u *url.URL) string { return u.Hostname() },
		func(u *url.URL) string { return u.Host },
		redact,
	}
	for _, way := range ways {
		names := make([]string, len(urls))
		seen := map[string]bool{}
		for i, u := range urls {
			names[i] = way(u)
			if names[i] == "" || seen[names[i]] {
				names = nil
				break
			}
			seen[names[i]] = true
		}
		if names != nil {
			return names
		}
	}
	names := make([]string, len(urls))
	for i := range urls {
		names[i] = fmt.Sprintf("peer %d", i+1)
	}
	return names
}

// Name is the source's configured name.
func (p *Poller) Name() string { return p.name }

// Health is the source's condition after its last poll: up while any peer answers (with
// the down peers named in LastError), down with every peer's reason when none does.
func (p *Poller) Health() datasource.Health {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.health
}

// PeerHealth is each peer's condition after the last poll, in the order of the URLs;
// Source reads like "main (am-2)".
func (p *Poller) PeerHealth() []datasource.Health {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]datasource.Health, len(p.peers))
	for i, pr := range p.peers {
		out[i] = pr.health
	}
	return out
}

// Poll asks every peer for its alerts at once, records health and metrics, and returns
// the merged alerts as a Snapshot event. It fails only when no peer gave a usable
// answer; the error is then an *Error holding every peer's reason.
func (p *Poller) Poll(ctx context.Context) (datasource.AlertEvent, error) {
	now := p.clk.Now()
	lists := make([][]datasource.Alert, len(p.peers))
	errs := make([]*Error, len(p.peers))
	var wg sync.WaitGroup
	for i, pr := range p.peers {
		wg.Go(func() { lists[i], errs[i] = p.pollPeer(ctx, pr, now) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return datasource.AlertEvent{}, err // the caller gave up: says nothing about the peers
	}
	p.record(errs, now)
	var ok [][]datasource.Alert
	for i, e := range errs {
		if e == nil {
			ok = append(ok, lists[i])
		}
	}
	if len(ok) == 0 {
		return datasource.AlertEvent{}, p.allDown(errs)
	}
	ev := datasource.AlertEvent{Kind: datasource.Snapshot, Source: p.name, Alerts: mergeAlerts(ok)}
	if ev.Alerts == nil {
		ev.Alerts = []datasource.Alert{}
	}
	return ev, nil
}

// pollPeer fetches and decodes one peer's alerts.
func (p *Poller) pollPeer(ctx context.Context, pr *peer, now time.Time) (alerts []datasource.Alert, e *Error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	// Latency is measured on the monotonic clock, not the injected one: a drill clock
	// running at 10x would otherwise report a tenth of the real wait.
	start := time.Now()
	defer func() {
		if r := recover(); r != nil { // a decoder bug must not take the cockpit down
			p.log.Error("alertmanager: decoding panicked", "source", p.name, "peer", pr.name, "panic", r, "stack", string(debug.Stack()))
			alerts, e = nil, p.conn.newError(KindBadResponse, 0, pr, nil, "unreadable answer from %s", pr.display)
		}
		p.metrics.poll(p.name, pr.name, time.Since(start), e)
	}()
	a, e := p.conn.do(ctx, pr, "list alerts", http.MethodGet, "/api/v2/alerts", alertsQuery, nil)
	if e != nil {
		return nil, e
	}
	alerts, skipped, err := decodeAPIAlerts(a.body, p.name, now)
	if err != nil {
		p.metrics.badMessage(p.name, decodeErrorReason(err))
		return nil, p.conn.classifyDecode(pr, a.status, a.contentType, a.body, err)
	}
	for reason, n := range skipped {
		for range n {
			p.metrics.badMessage(p.name, reason)
		}
		p.log.Debug("alertmanager: skipped unusable alerts", "source", p.name, "peer", pr.name, "reason", reason, "count", n)
	}
	p.metrics.receivedAlerts(p.name, len(alerts))
	return alerts, nil
}

// record updates each peer's health and the source's from one poll's outcome, logging
// only changes, so a peer that stays down costs one line.
func (p *Poller) record(errs []*Error, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var down []string
	for i, pr := range p.peers {
		h, e := &pr.health, errs[i]
		if e == nil {
			if h.State == datasource.HealthDown {
				p.log.Info("alertmanager peer is back", "source", p.name, "peer", pr.name, "down_for", now.Sub(h.ErrorSince))
			}
			h.State, h.LastSuccess, h.LastError, h.ErrorSince = datasource.HealthUp, now, "", time.Time{}
			continue
		}
		if h.State != datasource.HealthDown {
			h.ErrorSince = now
			p.log.Warn("alertmanager peer is down", "source", p.name, "peer", pr.name, "kind", e.Kind, "err", e.Msg)
		}
		h.State, h.LastError = datasource.HealthDown, e.Msg
		down = append(down, fmt.Sprintf("%s (since %s): %s", pr.name, h.ErrorSince.Format(time.TimeOnly), e.Msg))
	}
	h := &p.health
	switch {
	case len(down) == 0:
		h.State, h.LastSuccess, h.LastError, h.ErrorSince = datasource.HealthUp, now, "", time.Time{}
	case len(down) < len(p.peers):
		h.State, h.LastSuccess, h.ErrorSince = datasource.HealthUp, now, time.Time{}
		h.LastError = truncate(fmt.Sprintf("%d of %d peers down: %s", len(down), len(p.peers), strings.Join(down, "; ")), MaxErrorLen)
	default:
		if h.State != datasource.HealthDown {
			h.ErrorSince = now
		}
		h.State = datasource.HealthDown
		if len(p.peers) == 1 {
			h.LastError = errs[0].Msg
		} else {
			h.LastError = truncate(fmt.Sprintf("all %d peers down: %s", len(p.peers), strings.Join(down, "; ")), MaxErrorLen)
		}
	}
}

// allDown is the error of a poll no peer answered: the kind of the first peer's failure
// that a retry may fix (else of the first one), and every peer's reason.
func (p *Poller) allDown(errs []*Error) *Error {
	if len(errs) == 1 {
		return errs[0]
	}
	kind := errs[0].Kind
	for _, e := range errs {
		if e.Retryable() {
			kind = e.Kind
			break
		}
	}
	parts := make([]string, len(errs))
	causes := make([]error, len(errs))
	for i, e := range errs {
		parts[i] = p.peers[i].name + ": " + e.Msg
		causes[i] = e
	}
	return &Error{Kind: kind, Msg: truncate(fmt.Sprintf("no Alertmanager of %s answered: %s", p.name, strings.Join(parts, "; ")), MaxErrorLen), cause: errors.Join(causes...)}
}

// Subscribe starts following the cluster. The first event is the Snapshot of the first
// poll in which a peer answered (at once, if the loop is already running and its last
// poll succeeded); then one Snapshot per such poll. A subscriber that reads slowly finds
// only the newest snapshot waiting: polling never waits for it. The feed ends when ctx
// ends or Close is called; Err is then nil.
func (p *Poller) Subscribe(ctx context.Context) (datasource.Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sub := &pollSub{c: make(chan datasource.AlertEvent, 1), closing: make(chan struct{}), done: make(chan struct{})}
	p.mu.Lock()
	if p.subs == nil {
		p.subs = map[*pollSub]struct{}{}
	}
	p.subs[sub] = struct{}{}
	if p.stopLoop == nil {
		// The loop outlives this subscriber's ctx if others join; it stops with the last.
		loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		p.stopLoop = cancel
		go p.run(loopCtx)
	} else if p.latest != nil {
		sub.c <- *p.latest
	}
	p.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
		case <-sub.closing:
		}
		p.unsubscribe(sub)
	}()
	return sub, nil
}

func (p *Poller) unsubscribe(sub *pollSub) {
	p.mu.Lock()
	delete(p.subs, sub)
	close(sub.c)
	if len(p.subs) == 0 && p.stopLoop != nil {
		p.stopLoop()
		p.stopLoop, p.latest = nil, nil
	}
	p.mu.Unlock()
	close(sub.done)
}

// run polls until ctx ends: every interval while a peer answers, with capped, jittered
// backoff while none does.
func (p *Poller) run(ctx context.Context) {
	failures := 0
	for {
		ev, err := p.pollSafely(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := p.interval
		if err != nil {
			failures++
			wait = p.backoff(failures)
		} else {
			failures = 0
		}
		p.publish(ctx, ev, err)
		if p.waitHook != nil {
			p.waitHook(wait)
		}
		t := p.clk.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
	}
}

// pollSafely is Poll with a panic turned into a failed poll, so the loop goes on.
func (p *Poller) pollSafely(ctx context.Context) (ev datasource.AlertEvent, err error) {
	defer func() {
		if r := recover(); r != nil {
			p.log.Error("alertmanager: poll panicked", "source", p.name, "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("alertmanager %s: poll failed internally", p.name)
		}
	}()
	return p.Poll(ctx)
}

// backoff is the wait after the given number of polls in a row that no peer answered:
// Interval doubling up to MaxBackoff, less up to a fifth at random so that cockpits
// that lost the same Alertmanager do not come back in step.
func (p *Poller) backoff(failures int) time.Duration {
	d := p.interval
	for i := 1; i < failures && d < p.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.maxBackoff)
	return d - time.Duration(p.jitter()*float64(d)/5)
}

// publish hands a successful poll's snapshot to every subscriber, replacing one it has
// not read yet. After a failed poll it only forgets the last snapshot, so a subscriber
// joining now waits for fresh data instead of getting old alerts as if they were current.
func (p *Poller) publish(ctx context.Context, ev datasource.AlertEvent, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ctx.Err() != nil { // this loop was stopped; a newer one may be running
		return
	}
	if err != nil {
		p.latest = nil
		return
	}
	p.latest = &ev
	for sub := range p.subs {
		select {
		case sub.c <- ev:
			continue
		default:
		}
		select { // the subscriber has not read the previous one: replace it
		case <-sub.c:
			p.metrics.coalesce(p.name)
		default:
		}
		select {
		case sub.c <- ev: // cannot block: only publish sends, under p.mu
		default:
		}
	}
}

// pollSub is one subscription to a Poller.
type pollSub struct {
	c       chan datasource.AlertEvent
	closing chan struct{}
	done    chan struct{}
	once    sync.Once
}

func (s *pollSub) C() <-chan datasource.AlertEvent { return s.c }

// Err is always nil: the feed only ends because its subscriber ended it. Peer failures
// are health, not an end of the feed.
func (s *pollSub) Err() error { return nil }

func (s *pollSub) Close() {
	s.once.Do(func() { close(s.closing) })
	<-s.done
}
