package alertmanager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/internal/httpsource"
)

// Defaults for the zero values of WebhookOptions.
const (
	DefaultMaxBodyBytes  = 1 << 20
	DefaultMaxPending    = 10000
	DefaultRetention     = 24 * time.Hour
	DefaultMaxTracked    = 100000
	DefaultReorderWindow = 10 * time.Minute
)

// WebhookHealthKind is the Kind of every Health a Webhook reports.
const WebhookHealthKind = "alertmanager-webhook"

// maxDepth is the deepest JSON nesting a version 4 payload may have; real ones reach 3
// ({"alerts":[{"labels":{…}}]}).
const maxDepth = 16

// logBodyBytes caps how much of a rejected body is logged.
const logBodyBytes = 256

// The reasons a message is rejected or skipped; they are the `reason` label of
// opscockpit_alert_bad_messages_total.
const (
	reasonMethod             = "method"
	reasonContentType        = "content_type"
	reasonTooLarge           = "too_large"
	reasonReadFailed         = "read_failed"
	reasonInvalidUTF8        = "invalid_utf8"
	reasonTooDeep            = "too_deep"
	reasonInvalidJSON        = "invalid_json"
	reasonWrongType          = "wrong_type"
	reasonUnknownVersion     = "unknown_version"
	reasonMissingFingerprint = "missing_fingerprint"
	reasonBadStatus          = "bad_status"
	reasonLabelTooLarge      = "label_too_large"
	reasonBadAlert           = "bad_alert"
)

// BadMessageError is a webhook payload refused as malformed. Reason is one of a fixed
// set of short words (the metric label); Msg says more, quoting none of the payload.
type BadMessageError struct {
	Reason string
	Status int // the HTTP status the receiver answers with
	Msg    string
}

// Error returns the reason and its explanation.
func (e *BadMessageError) Error() string { return e.Reason + ": " + e.Msg }

// Retryable is false: the same payload fails the same way.
func (e *BadMessageError) Retryable() bool { return false }

func badMessage(reason, format string, args ...any) *BadMessageError {
	status := http.StatusBadRequest
	switch reason {
	case reasonMethod:
		status = http.StatusMethodNotAllowed
	case reasonContentType:
		status = http.StatusUnsupportedMediaType
	case reasonTooLarge:
		status = http.StatusRequestEntityTooLarge
	}
	return &BadMessageError{Reason: reason, Status: status, Msg: truncate(fmt.Sprintf(format, args...), 200)}
}

// WebhookOptions configure a Webhook.
type WebhookOptions struct {
	// Name identifies the source in status chips, alert events and self-metrics.
	Name string
	// Clock stamps received alerts and health (default the wall clock).
	Clock clock.Clock
	// MaxBodyBytes caps a request body (default 1 MiB); a bigger one gets 413.
	MaxBodyBytes int64
	// MaxPending caps the alerts waiting for one slow subscriber (default 10,000);
	// beyond it the oldest are dropped and counted.
	MaxPending int
	// Retention is how long the receiver remembers an alert it has not heard of again,
	// to order late and replayed notifications and to give a new subscriber the current
	// state (default 24h).
	Retention time.Duration
	// MaxTracked caps the alerts remembered (default 100,000).
	MaxTracked int
	// ReorderWindow is how long after a resolution a firing notification that started
	// before it is taken for a late duplicate and dropped (default 10m). Later, it is
	// believed: Alertmanager re-fires an alert it resolved by timeout with its old start
	// time when the alert's sender comes back.
	ReorderWindow time.Duration
	// Metrics, if set, receives the receiver's self-metrics.
	Metrics *Metrics
	// Log receives rejected payloads, at most one line per reason per second, each with
	// at most 256 bytes of the body (default slog.Default).
	Log *slog.Logger
}

// Webhook receives Alertmanager notifications (webhook_config, payload version 4) and
// passes their alerts on as Delta events to every subscriber, after a first Snapshot of
// what it already knows. The HTTP handler never waits for a subscriber: each has a
// bounded queue in which a later update of an alert replaces an earlier one.
//
// Notifications carry no update time, so each alert is stamped with the time it was
// received. To keep "newest wins" right when they arrive out of order, the receiver
// remembers each alert's last state and drops an update older than it: a resolution of
// an earlier firing than the one it has seen, a firing that started before another it
// has seen, and, within ReorderWindow of a resolution, a firing that started before it
// (resolved before firing from HA peers, a replayed batch).
type Webhook struct {
	name       string
	clk        clock.Clock
	maxBody    int64
	maxPending int
	retention  time.Duration
	maxTracked int
	reorder    time.Duration
	metrics    *Metrics
	log        *slog.Logger

	mu        sync.Mutex
	known     map[string]*tracked
	lastSweep time.Time
	subs      map[*webhookSub]struct{}
	health    datasource.Health
	lastLog   map[string]time.Time
	quiet     map[string]int // log lines skipped per reason since the last one
}

// tracked is what the receiver remembers of one alert.
type tracked struct {
	alert datasource.Alert
	at    time.Time // the alert's own time: StartsAt while firing, EndsAt once resolved
	since time.Time // when this state was received
	seen  time.Time // when the alert was last received, stale or not
}

var _ datasource.AlertSource = (*Webhook)(nil)

// NewWebhook builds a receiver; serve it with Handler or ListenAndServe.
func NewWebhook(opts WebhookOptions) (*Webhook, error) {
	if opts.Name == "" {
		return nil, errors.New("alertmanager webhook: a name is required")
	}
	w := &Webhook{
		name:       opts.Name,
		clk:        opts.Clock,
		maxBody:    opts.MaxBodyBytes,
		maxPending: opts.MaxPending,
		retention:  opts.Retention,
		maxTracked: opts.MaxTracked,
		reorder:    opts.ReorderWindow,
		metrics:    opts.Metrics,
		log:        opts.Log,
		known:      map[string]*tracked{},
		subs:       map[*webhookSub]struct{}{},
		lastLog:    map[string]time.Time{},
		quiet:      map[string]int{},
		health:     datasource.Health{Source: opts.Name, Kind: WebhookHealthKind, State: datasource.HealthUnknown},
	}
	if w.clk == nil {
		w.clk = clock.Real{}
	}
	if w.maxBody <= 0 {
		w.maxBody = DefaultMaxBodyBytes
	}
	if w.maxPending <= 0 {
		w.maxPending = DefaultMaxPending
	}
	if w.retention <= 0 {
		w.retention = DefaultRetention
	}
	if w.maxTracked <= 0 {
		w.maxTracked = DefaultMaxTracked
	}
	if w.reorder <= 0 {
		w.reorder = DefaultReorderWindow
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	return w, nil
}

// Name is the source's configured name.
func (w *Webhook) Name() string { return w.name }

// Health is up once the receiver listens or has accepted a notification, down if it
// could not listen. LastError is the last rejected payload's reason, which does not make
// the receiver down: it goes on serving.
func (w *Webhook) Health() datasource.Health {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.health
}

// Handler returns the receiver as an http.Handler, for any path.
func (w *Webhook) Handler() http.Handler { return w }

// ServeHTTP takes one notification: POST with a JSON body of payload version 4. It
// answers 200 once the alerts are queued for every subscriber, and 405, 413, 415 or 400
// with a short reason for anything else, which it counts and logs (truncated).
func (w *Webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, bad := w.read(rw, r)
	var ev datasource.AlertEvent
	if bad == nil {
		ev, bad = decodeWebhook(body, w.name, w.clk.Now())
	}
	if bad != nil {
		w.reject(rw, r, body, bad)
		return
	}
	w.metrics.receivedAlerts(w.name, len(ev.Alerts))
	w.deliver(ev)
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.WriteHeader(http.StatusOK)
	fmt.Fprintln(rw, "ok")
}

// read checks method and content type and reads the body up to the cap.
func (w *Webhook) read(rw http.ResponseWriter, r *http.Request) ([]byte, *BadMessageError) {
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", http.MethodPost)
		return nil, badMessage(reasonMethod, "%s not allowed; Alertmanager POSTs notifications", truncate(r.Method, 16))
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return nil, badMessage(reasonContentType, "content type %q is not JSON", truncate(r.Header.Get("Content-Type"), 64))
	}
	if r.ContentLength > w.maxBody {
		return nil, badMessage(reasonTooLarge, "body of %s is over the %s limit", httpsource.HumanBytes(r.ContentLength), httpsource.HumanBytes(w.maxBody))
	}
	body, err := readAllCapped(http.MaxBytesReader(rw, r.Body, w.maxBody), r.ContentLength)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return body, badMessage(reasonTooLarge, "body is over the %s limit", httpsource.HumanBytes(w.maxBody))
		}
		return body, badMessage(reasonReadFailed, "the body could not be read to its end")
	}
	return body, nil
}

// readAllCapped reads a body whose reader enforces the cap, in one allocation when
// its size is announced.
func readAllCapped(r io.Reader, size int64) ([]byte, error) {
	if size <= 0 {
		return io.ReadAll(r)
	}
	buf := make([]byte, size)
	n, err := io.ReadFull(r, buf)
	if err != nil {
		return buf[:n], err
	}
	return buf, nil
}

// reject answers, counts and logs a refused payload; the receiver goes on serving.
func (w *Webhook) reject(rw http.ResponseWriter, r *http.Request, body []byte, bad *BadMessageError) {
	w.metrics.badMessage(w.name, bad.Reason)
	now := w.clk.Now()
	w.mu.Lock()
	w.health.LastError = "rejected a notification: " + bad.Error()
	logIt := now.Sub(w.lastLog[bad.Reason]) >= time.Second || w.lastLog[bad.Reason].IsZero()
	skipped := w.quiet[bad.Reason]
	if logIt {
		w.lastLog[bad.Reason], w.quiet[bad.Reason] = now, 0
	} else {
		w.quiet[bad.Reason]++
	}
	w.mu.Unlock()
	if logIt {
		w.log.Warn("alertmanager webhook: rejected a notification",
			"source", w.name, "reason", bad.Reason, "status", bad.Status, "detail", bad.Msg,
			"remote", r.RemoteAddr, "bytes", len(body), "body", logSnippet(body), "same_reason_not_logged", skipped)
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.Header().Set("X-Content-Type-Options", "nosniff")
	rw.WriteHeader(bad.Status)
	fmt.Fprintln(rw, bad.Error())
}

// logSnippet is at most logBodyBytes of a body as printable, valid UTF-8, with
// anything shaped like a credential replaced.
func logSnippet(b []byte) string {
	cut := len(b) > logBodyBytes
	if cut {
		b = b[:logBodyBytes]
	}
	s := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(string(b), "\uFFFD"))
	s = (*scrubber)(nil).scrub(s)
	if cut {
		s += "…"
	}
	return s
}

// webhookPayload is Alertmanager's webhook message (notify/webhook.Message), version 4.
type webhookPayload struct {
	Version         string          `json:"version"`
	GroupKey        string          `json:"groupKey"`
	TruncatedAlerts uint64          `json:"truncatedAlerts"`
	Status          string          `json:"status"`
	Receiver        string          `json:"receiver"`
	ExternalURL     string          `json:"externalURL"`
	Alerts          []webhookAlert  `json:"alerts"`
	GroupLabels     json.RawMessage `json:"groupLabels"`
	CommonLabels    json.RawMessage `json:"commonLabels"`
}

type webhookAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// decodeWebhook checks and decodes one payload into a Delta event of source, its alerts
// stamped as received at now. Any problem refuses the whole payload.
func decodeWebhook(body []byte, source string, now time.Time) (datasource.AlertEvent, *BadMessageError) {
	if !utf8.Valid(body) {
		return datasource.AlertEvent{}, badMessage(reasonInvalidUTF8, "the body is not valid UTF-8")
	}
	if tooDeep(body, maxDepth) {
		return datasource.AlertEvent{}, badMessage(reasonTooDeep, "JSON nested deeper than %d levels", maxDepth)
	}
	var p webhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return datasource.AlertEvent{}, badMessage(decodeErrorReason(err), "%s", decodeReason(err))
	}
	if p.Version != "4" {
		return datasource.AlertEvent{}, badMessage(reasonUnknownVersion, "payload version %q; this receiver speaks version 4", truncate(p.Version, 16))
	}
	ev := datasource.AlertEvent{
		Kind:      datasource.Delta,
		Source:    source,
		Alerts:    make([]datasource.Alert, 0, len(p.Alerts)),
		Truncated: int(min(p.TruncatedAlerts, math.MaxInt32)),
	}
	for i := range p.Alerts {
		r := &p.Alerts[i]
		switch {
		case r.Fingerprint == "":
			return datasource.AlertEvent{}, badMessage(reasonMissingFingerprint, "alert %d has no fingerprint", i)
		case len(r.Fingerprint) > maxFingerprintLen:
			return datasource.AlertEvent{}, badMessage(reasonBadAlert, "alert %d has a fingerprint of %d bytes", i, len(r.Fingerprint))
		case r.Status != "firing" && r.Status != "resolved":
			return datasource.AlertEvent{}, badMessage(reasonBadStatus, "alert %d has status %q; want firing or resolved", i, truncate(r.Status, 16))
		}
		for k, v := range r.Labels {
			if len(k) > MaxLabelBytes || len(v) > MaxLabelBytes {
				return datasource.AlertEvent{}, badMessage(reasonLabelTooLarge, "alert %d has a label of %s; the limit is %s", i, httpsource.HumanBytes(int64(len(k)+len(v))), httpsource.HumanBytes(MaxLabelBytes))
			}
		}
		a := datasource.Alert{
			Fingerprint:  r.Fingerprint,
			Labels:       r.Labels,
			Annotations:  cutValues(r.Annotations, MaxAnnotationBytes),
			State:        datasource.StateFiring,
			StartsAt:     r.StartsAt,
			UpdatedAt:    now,
			GeneratorURL: truncate(r.GeneratorURL, MaxLabelBytes),
			Source:       source,
		}
		if a.Labels == nil {
			a.Labels = map[string]string{}
		}
		if r.Status == "resolved" {
			a.State, a.EndsAt = datasource.StateResolved, r.EndsAt
			if a.EndsAt.IsZero() {
				a.EndsAt = now
			}
		} else if !r.EndsAt.IsZero() && r.EndsAt.After(r.StartsAt) {
			a.EndsAt = r.EndsAt // when it will resolve unless refreshed
		}
		ev.Alerts = append(ev.Alerts, a)
	}
	return ev, nil
}

// decodeErrorReason is the bad-message reason of a JSON decoding error.
func decodeErrorReason(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) || strings.Contains(err.Error(), "unexpected end of JSON input") {
		return reasonInvalidJSON
	}
	return reasonWrongType
}

// tooDeep reports whether JSON text nests objects and arrays deeper than limit. It is a
// cheap pass before decoding, so a hostile body costs no recursion.
func tooDeep(b []byte, limit int) bool {
	depth := 0
	inString, escaped := false, false
	for _, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > limit {
				return true
			}
		case '}', ']':
			depth--
		}
	}
	return false
}

// deliver drops what is older than what the receiver already knows, remembers the
// rest, and queues it for every subscriber.
func (w *Webhook) deliver(ev datasource.AlertEvent) {
	now := w.clk.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	fresh := ev.Alerts[:0]
	stale := 0
	for _, a := range ev.Alerts {
		at := a.StartsAt
		if a.State == datasource.StateResolved {
			at = a.EndsAt
		}
		if k, ok := w.known[a.Fingerprint]; ok {
			k.seen = now
			if w.older(a.State, at, k, now) {
				stale++
				continue
			}
		}
		w.known[a.Fingerprint] = &tracked{alert: a, at: at, since: now, seen: now}
		fresh = append(fresh, a)
	}
	w.forget(now)
	w.health.State, w.health.LastSuccess, w.health.ErrorSince = datasource.HealthUp, now, time.Time{}
	if stale > 0 {
		w.metrics.drop(w.name, "stale", stale)
		w.log.Debug("alertmanager webhook: dropped updates older than known", "source", w.name, "count", stale)
	}
	if len(fresh) == 0 {
		return
	}
	ev.Alerts = fresh
	for sub := range w.subs {
		sub.queue(ev, w)
	}
}

// older reports whether an update (its state, and its own time: StartsAt when firing,
// EndsAt when resolved) is older than what is known of the alert.
func (w *Webhook) older(state datasource.AlertState, at time.Time, k *tracked, now time.Time) bool {
	resolved, knownResolved := state == datasource.StateResolved, k.alert.State == datasource.StateResolved
	switch {
	case resolved:
		// A resolution of a firing that began after it ended, or an earlier resolution.
		return at.Before(k.at)
	case !knownResolved:
		// A firing that started before the firing known.
		return at.Before(k.at)
	default:
		// A firing that started before the known resolution is a late duplicate, for a
		// while; after that, Alertmanager re-firing the alert with its old start time.
		return !at.After(k.at) && now.Sub(k.since) <= w.reorder
	}
}

// forget drops alerts not heard of for the retention time, and the least recently
// heard of beyond MaxTracked. Called with w.mu held.
func (w *Webhook) forget(now time.Time) {
	if len(w.known) <= w.maxTracked && now.Sub(w.lastSweep) < time.Minute {
		return
	}
	w.lastSweep = now
	for fp, k := range w.known {
		if now.Sub(k.seen) > w.retention {
			delete(w.known, fp)
		}
	}
	if over := len(w.known) - w.maxTracked; over > 0 {
		type entry struct {
			fp   string
			seen time.Time
		}
		all := make([]entry, 0, len(w.known))
		for fp, k := range w.known {
			all = append(all, entry{fp, k.seen})
		}
		slices.SortFunc(all, func(a, b entry) int { return a.seen.Compare(b.seen) })
		for _, e := range all[:min(len(all), over+w.maxTracked/10)] { // room to spare: no sort per insert
			delete(w.known, e.fp)
		}
	}
}

// current is what the receiver knows now, for a new subscriber's first Snapshot: every
// firing alert and those resolved within the last hour. Called with w.mu held.
func (w *Webhook) current(now time.Time) []datasource.Alert {
	out := make([]datasource.Alert, 0, len(w.known))
	for _, k := range w.known {
		if now.Sub(k.seen) > w.retention {
			continue
		}
		if k.alert.State == datasource.StateResolved && now.Sub(k.alert.EndsAt) > time.Hour {
			continue
		}
		out = append(out, k.alert)
	}
	slices.SortFunc(out, func(a, b datasource.Alert) int { return strings.Compare(a.Fingerprint, b.Fingerprint) })
	return out
}

// Subscribe returns a feed that starts with a Snapshot of the alerts the receiver knows
// (empty at first) and then carries one Delta per notification, or fewer when the
// subscriber reads slowly: pending updates of the same alert are merged. The feed ends
// when ctx ends or Close is called; Err is then nil.
func (w *Webhook) Subscribe(ctx context.Context) (datasource.Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	sub := &webhookSub{
		c:      make(chan datasource.AlertEvent),
		signal: make(chan struct{}, 1),
		cancel: cancel,
		done:   make(chan struct{}),
		index:  map[string]int{},
	}
	w.mu.Lock()
	sub.kind = datasource.Snapshot
	for _, a := range w.current(w.clk.Now()) {
		sub.index[a.Fingerprint] = len(sub.pending)
		sub.pending = append(sub.pending, a)
	}
	sub.hasPending = true
	sub.signal <- struct{}{}
	w.subs[sub] = struct{}{}
	w.mu.Unlock()
	go sub.pump(ctx, w)
	return sub, nil
}

// webhookSub is one subscription: a coalescing queue and a goroutine that hands it on.
type webhookSub struct {
	c      chan datasource.AlertEvent
	signal chan struct{} // capacity 1: "something is pending"
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once

	// guarded by Webhook.mu
	kind       datasource.AlertEventKind
	pending    []datasource.Alert
	index      map[string]int // fingerprint → position in pending
	truncated  int
	hasPending bool
}

// queue adds ev to the pending updates, replacing older updates of the same alerts and
// dropping the oldest beyond the cap. Called with w.mu held; never blocks.
func (s *webhookSub) queue(ev datasource.AlertEvent, w *Webhook) {
	if s.hasPending {
		w.metrics.coalesce(w.name)
	}
	for _, a := range ev.Alerts {
		if i, ok := s.index[a.Fingerprint]; ok {
			s.pending[i] = a
			continue
		}
		s.index[a.Fingerprint] = len(s.pending)
		s.pending = append(s.pending, a)
	}
	if over := len(s.pending) - w.maxPending; over > 0 {
		for _, a := range s.pending[:over] {
			delete(s.index, a.Fingerprint)
		}
		s.pending = slices.Delete(s.pending, 0, over)
		for i, a := range s.pending {
			s.index[a.Fingerprint] = i
		}
		w.metrics.drop(w.name, "slow_subscriber", over)
		w.log.Warn("alertmanager webhook: a subscriber is too slow; dropped its oldest alert updates", "source", w.name, "dropped", over)
	}
	s.truncated = ev.Truncated
	s.hasPending = true
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

// take removes and returns everything pending as one event. Called with w.mu held.
func (s *webhookSub) take(source string) (datasource.AlertEvent, bool) {
	if !s.hasPending {
		return datasource.AlertEvent{}, false
	}
	ev := datasource.AlertEvent{Kind: s.kind, Source: source, Alerts: s.pending, Truncated: s.truncated}
	if ev.Alerts == nil {
		ev.Alerts = []datasource.Alert{}
	}
	s.kind, s.pending, s.hasPending = datasource.Delta, nil, false
	clear(s.index)
	return ev, true
}

// pump hands pending events to the subscriber, one at a time, until ctx ends.
func (s *webhookSub) pump(ctx context.Context, w *Webhook) {
	defer func() {
		w.mu.Lock()
		delete(w.subs, s)
		w.mu.Unlock()
		close(s.c)
		close(s.done)
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.signal:
		}
		w.mu.Lock()
		ev, ok := s.take(w.name)
		w.mu.Unlock()
		if !ok {
			continue
		}
		select {
		case s.c <- ev:
		case <-ctx.Done():
			return
		}
	}
}

func (s *webhookSub) C() <-chan datasource.AlertEvent { return s.c }

// Err is always nil: the feed only ends because its subscriber ended it.
func (s *webhookSub) Err() error { return nil }

func (s *webhookSub) Close() {
	s.once.Do(s.cancel)
	<-s.done
}

// ListenAndServe serves the receiver on addr (such as 127.0.0.1:9097) until ctx ends,
// then shuts down gracefully. It returns at once if it cannot listen.
func (w *Webhook) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		err = fmt.Errorf("alertmanager webhook %s: listen on %s: %w", w.name, addr, err)
		w.mu.Lock()
		if w.health.State != datasource.HealthDown {
			w.health.ErrorSince = w.clk.Now()
		}
		w.health.State, w.health.LastError = datasource.HealthDown, truncate(err.Error(), MaxErrorLen)
		w.mu.Unlock()
		return err
	}
	return w.Serve(ctx, ln)
}

// Serve serves the receiver on ln until ctx ends; ln is closed on return.
func (w *Webhook) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           w,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second, // a 1 MiB body over a slow link, no slowloris
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(w.log.Handler(), slog.LevelDebug),
	}
	w.mu.Lock()
	if w.health.State != datasource.HealthUp {
		w.health.State, w.health.ErrorSince = datasource.HealthUp, time.Time{}
	}
	w.mu.Unlock()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("alertmanager webhook %s: %w", w.name, err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		srv.Close()
	}
	<-errc
	return nil
}
