package stream

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/gorilla/websocket"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/internal/wsdial"
)

// Errors a stream client reports (in Health.LastError and logs), for errors.Is.
var (
	ErrUnauthorized     = errors.New("relay refused the token (401)")
	ErrForbidden        = errors.New("relay refused the connection (403, origin not allowed?)")
	ErrHandshakeTimeout = errors.New("handshake timed out")
	ErrSilent           = errors.New("relay silent")
	ErrGap              = errors.New("sequence gap; resynchronising with a fresh snapshot")
	ErrMessageTooBig    = errors.New("message over the size limit")
	ErrProtocol         = errors.New("relay does not speak " + Subprotocol)
)

// ClientOptions configure a Client. Zero values take the defaults in brackets.
type ClientOptions struct {
	// Name is the source's name: on its events, health chip and metrics.
	Name string
	// URL is the relay's stream, ws:// or wss://.
	URL string
	// Token is sent as "Authorization: Bearer …". It is never logged nor put in errors.
	Token string
	// TLSConfig for wss:// (nil: system roots).
	TLSConfig *tls.Config
	// Clock schedules deadlines and backoff [clock.Real].
	Clock clock.Clock
	// HandshakeTimeout bounds connecting: TCP, TLS and the upgrade [10s].
	HandshakeTimeout time.Duration
	// ReadTimeout is how long the relay may stay silent (no message, no ping) before the
	// connection is dropped and resumed [45s: 3× the relay's default heartbeat].
	ReadTimeout time.Duration
	// MaxMessageBytes caps one message [16 MiB]; a bigger one closes the stream with 1009.
	MaxMessageBytes int64
	// Buffer is how many events wait for a slow consumer before they are coalesced [64].
	Buffer int
	// MinBackoff and MaxBackoff bound the jittered exponential reconnect delay [0.5s, 60s].
	MinBackoff, MaxBackoff time.Duration
	// Metrics records the client's measurements (may be nil).
	Metrics *Metrics
	// Log receives connection events [slog.Default].
	Log *slog.Logger
}

// stableAfter is how long a connection must last for the backoff to start over: a relay
// that accepts and then drops every connection is still backed off from.
const stableAfter = 30 * time.Second

// maxErrorLen caps an error message kept in Health.
const maxErrorLen = 1 << 10

// Client is a datasource.AlertSource reading an alert stream from a relay. Each
// subscription keeps its connection up by itself: it reconnects with capped, jittered
// backoff and resumes where it left off, so its consumer sees one snapshot and then
// deltas, with no gaps and no duplicates, for as long as it stays subscribed.
type Client struct {
	opts    ClientOptions
	u       *url.URL
	safeURL string // for logs: no userinfo, no query
	secrets []string
	clk     clock.Clock
	log     *slog.Logger
	metrics *Metrics

	mu     sync.Mutex
	health datasource.Health

	// testHookBackoff, when set, is called with each reconnect delay once its timer is
	// armed, so a test on a fake clock knows how far to advance it.
	testHookBackoff func(time.Duration)
}

var _ datasource.AlertSource = (*Client)(nil)

// NewClient checks opts and returns a client; nothing connects until Subscribe.
func NewClient(opts ClientOptions) (*Client, error) {
	u, err := url.Parse(opts.URL)
	if err != nil { // the parse error would quote the URL, which may hold a secret
		return nil, fmt.Errorf("stream %q: the URL does not parse", opts.Name)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" || u.Host == "" {
		return nil, fmt.Errorf("stream %q: the URL must be ws://host/… or wss://host/…", opts.Name)
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = 10 * time.Second
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = 45 * time.Second
	}
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = 16 << 20
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 64
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 500 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = time.Minute
	}
	opts.MaxBackoff = max(opts.MaxBackoff, opts.MinBackoff)
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	c := &Client{
		opts: opts, u: u, clk: opts.Clock, log: opts.Log, metrics: opts.Metrics,
		safeURL: (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String(),
		health:  datasource.Health{Source: opts.Name, Kind: "stream", State: datasource.HealthUnknown},
	}
	c.secrets = secretsOf(opts.Token, u)
	return c, nil
}

// secretsOf lists what must never appear in a message: the token, any token or
// password in the URL, in plain and escaped forms.
func secretsOf(token string, u *url.URL) []string {
	var out []string
	add := func(v string) {
		if len(v) < 4 { // shorter would shred every message; such a value is never printed anyway
			return
		}
		out = append(out, v)
		if e := url.QueryEscape(v); e != v {
			out = append(out, e)
		}
	}
	add(token)
	if p, ok := u.User.Password(); ok {
		add(p)
	}
	for k, vs := range u.Query() {
		if k == "token" || strings.Contains(strings.ToLower(k), "key") || strings.Contains(strings.ToLower(k), "secret") {
			for _, v := range vs {
				add(v)
			}
		}
	}
	return out
}

// scrub removes secrets from text and caps its length.
func (c *Client) scrub(s string) string {
	for _, v := range c.secrets {
		s = strings.ReplaceAll(s, v, "<secret>")
	}
	if len(s) > maxErrorLen {
		s = s[:maxErrorLen] + "…"
	}
	return s
}

// Name is the source's configured name.
func (c *Client) Name() string { return c.opts.Name }

// Health is the stream's condition: up while connected, down with the last error
// (never holding the token) and since when while reconnecting.
func (c *Client) Health() datasource.Health {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.health
}

func (c *Client) markUp() {
	now := c.clk.Now()
	c.mu.Lock()
	was := c.health.State
	c.health.State, c.health.LastSuccess, c.health.LastError, c.health.ErrorSince = datasource.HealthUp, now, "", time.Time{}
	c.mu.Unlock()
	if was != datasource.HealthUp {
		c.metrics.setUp(c.opts.Name, true)
	}
}

func (c *Client) markDown(err error) string {
	msg := c.scrub(err.Error())
	now := c.clk.Now()
	c.mu.Lock()
	c.health.State, c.health.LastError = datasource.HealthDown, msg
	if c.health.ErrorSince.IsZero() {
		c.health.ErrorSince = now
	}
	c.mu.Unlock()
	c.metrics.setUp(c.opts.Name, false)
	return msg
}

// Subscribe starts following the stream. The subscription's first event is a snapshot;
// its channel closes only after Close, once ctx ends, or if the client fails
// internally (then Err says so).
func (c *Client) Subscribe(ctx context.Context) (datasource.Subscription, error) {
	ctx, cancel := context.WithCancel(ctx)
	sub := &subscription{
		c: make(chan datasource.AlertEvent, c.opts.Buffer), cancel: cancel,
		wake: make(chan struct{}, 1), done: make(chan struct{}),
	}
	go func() {
		var wg sync.WaitGroup
		wg.Go(func() { sub.emit(ctx) })
		c.run(ctx, sub)
		cancel()
		wg.Wait()
		close(sub.c)
		close(sub.done)
	}()
	return sub, nil
}

// run is the subscription's connection owner: it dials, reads and reconnects.
func (c *Client) run(ctx context.Context, sub *subscription) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("stream: client failed internally", "source", c.opts.Name, "panic", r)
			sub.setErr(fmt.Errorf("stream %s failed internally: %v", c.opts.Name, r))
		}
	}()
	st := newSession(c.opts.Name)
	bo := &backoff.ExponentialBackOff{
		InitialInterval:     c.opts.MinBackoff,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		// The randomised delay reaches 1.5× the interval: cap the interval so that the
		// delay itself never exceeds MaxBackoff and the jitter survives at the cap.
		MaxInterval: max(time.Duration(float64(c.opts.MaxBackoff)/1.5), c.opts.MinBackoff),
	}
	bo.Reset()
	for {
		stable, err := c.connect(ctx, st, sub)
		if ctx.Err() != nil {
			return
		}
		if stable {
			bo.Reset()
		}
		msg := c.markDown(err)
		d := min(bo.NextBackOff(), c.opts.MaxBackoff)
		c.metrics.reconnect(c.opts.Name)
		c.log.Warn("stream: disconnected; reconnecting", "source", c.opts.Name, "url", c.safeURL, "err", msg, "backoff", d)
		t := c.clk.NewTimer(d)
		if c.testHookBackoff != nil {
			c.testHookBackoff(d)
		}
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
	}
}

// connect runs one connection to its end and says why it ended, and whether it lasted
// long enough to count as stable.
func (c *Client) connect(ctx context.Context, st *session, sub *subscription) (stable bool, err error) {
	ws, err := c.dial(ctx, st)
	if err != nil {
		return false, err
	}
	start := c.clk.Now()
	var last atomic.Int64 // clock time since start of the last frame
	var silent atomic.Bool
	touch := func() { last.Store(int64(c.clk.Now().Sub(start))) }
	ended, watched := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watched)
		c.watch(ctx, ws, start, &last, &silent, ended)
	}()
	defer func() {
		close(ended)
		<-watched
		_ = ws.Close()
	}()
	ws.SetReadLimit(c.opts.MaxMessageBytes)
	ws.SetPingHandler(func(data string) error {
		touch()
		err := ws.WriteControl(websocket.PongMessage, []byte(data), wallDeadline(time.Second))
		var ne net.Error
		if err == nil || errors.Is(err, websocket.ErrCloseSent) || errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		return err
	})
	c.markUp() // the relay accepted us; resumed or about to send a snapshot
	logged := 0
	for {
		mt, data, err := ws.ReadMessage()
		if err != nil {
			stable = c.clk.Now().Sub(start) >= stableAfter
			var ce *websocket.CloseError
			switch {
			case ctx.Err() != nil:
				return stable, ctx.Err()
			case silent.Load():
				return stable, fmt.Errorf("%w: nothing received for %s", ErrSilent, c.opts.ReadTimeout)
			case errors.Is(err, websocket.ErrReadLimit):
				c.metrics.badMessage(c.opts.Name, reasonTooBig, 1)
				return stable, fmt.Errorf("%w: over %d bytes, closed with 1009", ErrMessageTooBig, c.opts.MaxMessageBytes)
			case errors.As(err, &ce):
				return stable, fmt.Errorf("relay closed the stream: %d %s", ce.Code, ce.Text)
			default:
				return stable, fmt.Errorf("read: %w", err)
			}
		}
		touch()
		c.metrics.messageReceived(c.opts.Name)
		if mt != websocket.TextMessage {
			c.bad(reasonBinary, data, &logged)
			continue
		}
		out := st.handle(data)
		for reason, n := range out.badAlerts {
			c.metrics.badMessage(c.opts.Name, reason, n)
			c.logBad(reason, fmt.Sprintf("%d alert(s) dropped from message %d", n, st.seq), &logged)
		}
		switch out.verdict {
		case vBad:
			c.bad(out.reason, data, &logged)
		case vEvent:
			sub.offer(out.ev)
			c.markUp()
		case vNoop:
			c.markUp()
		case vDuplicate:
			c.metrics.seqError(c.opts.Name, "duplicate")
			c.log.Debug("stream: duplicate message dropped", "source", c.opts.Name, "seq", st.seq)
		case vGap:
			c.metrics.seqError(c.opts.Name, "gap")
			st.gap()
			return c.clk.Now().Sub(start) >= stableAfter, fmt.Errorf("%w (%s)", ErrGap, out.reason)
		}
	}
}

// bad counts and logs a dropped message; the stream stays up.
func (c *Client) bad(reason string, data []byte, logged *int) {
	c.metrics.badMessage(c.opts.Name, reason, 1)
	c.logBad(reason, excerpt(data), logged)
}

// logBad logs the first few bad messages of a connection as warnings and the rest at
// debug level, so a misbehaving relay cannot flood the log.
func (c *Client) logBad(reason, detail string, logged *int) {
	*logged++
	lvl := slog.LevelWarn
	if *logged > 10 {
		lvl = slog.LevelDebug
	}
	c.log.Log(context.Background(), lvl, "stream: bad message dropped", "source", c.opts.Name, "reason", reason, "message", c.scrub(detail))
}

// watch enforces ReadTimeout on the clock and closes the connection when ctx ends.
func (c *Client) watch(ctx context.Context, ws *websocket.Conn, start time.Time, last *atomic.Int64, silent *atomic.Bool, ended <-chan struct{}) {
	t := c.clk.NewTicker(max(c.opts.ReadTimeout/4, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ended:
			return
		case <-ctx.Done():
			_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), wallDeadline(time.Second))
			_ = ws.Close()
			return
		case <-t.C():
			if c.clk.Now().Sub(start)-time.Duration(last.Load()) > c.opts.ReadTimeout {
				silent.Store(true)
				_ = ws.Close()
				return
			}
		}
	}
}

// dial connects, resuming from the session's last seq when it has one, within the
// handshake deadline on the clock (wsdial).
func (c *Client) dial(ctx context.Context, st *session) (*websocket.Conn, error) {
	u := *c.u
	q := u.Query()
	q.Del("since")
	q.Del("epoch")
	if since, epoch, ok := st.resume(); ok {
		q.Set("since", strconv.FormatUint(since, 10))
		if epoch != "" {
			q.Set("epoch", epoch)
		}
	}
	u.RawQuery = q.Encode()

	header := http.Header{}
	if c.opts.Token != "" {
		header.Set("Authorization", "Bearer "+c.opts.Token)
	}
	ws, resp, timedOut, err := wsdial.Dial(ctx, u.String(), wsdial.Options{Clock: c.clk, Timeout: c.opts.HandshakeTimeout,
		Header: header, TLSConfig: c.opts.TLSConfig, Subprotocols: []string{Subprotocol}})
	if err != nil {
		switch {
		case timedOut:
			return nil, fmt.Errorf("%w after %s", ErrHandshakeTimeout, c.opts.HandshakeTimeout)
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case resp != nil && resp.StatusCode == http.StatusUnauthorized:
			return nil, ErrUnauthorized
		case resp != nil && resp.StatusCode == http.StatusForbidden:
			return nil, ErrForbidden
		case resp != nil:
			return nil, fmt.Errorf("relay answered HTTP %d instead of upgrading to a websocket", resp.StatusCode)
		default:
			return nil, fmt.Errorf("connect: %w", err)
		}
	}
	if ws.Subprotocol() != Subprotocol {
		_ = ws.Close()
		return nil, ErrProtocol
	}
	return ws, nil
}

// subscription hands events to the consumer through a bounded channel. The reader
// never waits for the consumer: it leaves events in an outbox that the emitter drains,
// and while the consumer lags, pending events are merged into one (deltas upserted
// into each other, or into a pending snapshot; a snapshot replaces whatever is
// pending), which leaves the consumer's state exactly what it would have been.
type subscription struct {
	c      chan datasource.AlertEvent
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
	wake   chan struct{}

	mu  sync.Mutex
	box outbox
	err error
}

func (s *subscription) C() <-chan datasource.AlertEvent { return s.c }

func (s *subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *subscription) Close() {
	s.once.Do(s.cancel)
	<-s.done
}

func (s *subscription) setErr(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

func (s *subscription) offer(ev datasource.AlertEvent) {
	s.mu.Lock()
	s.box.add(ev)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *subscription) emit(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		}
		for {
			s.mu.Lock()
			ev, ok := s.box.take()
			s.mu.Unlock()
			if !ok {
				break
			}
			select {
			case s.c <- ev:
			case <-ctx.Done():
				return
			}
		}
	}
}

// outbox is at most one pending event, into which later events are merged.
type outbox struct {
	pending bool
	ev      datasource.AlertEvent
	index   map[alertKey]int // into ev.Alerts, built at the first merge
}

func (o *outbox) add(ev datasource.AlertEvent) {
	if !o.pending || ev.Kind == datasource.Snapshot {
		*o = outbox{pending: true, ev: ev}
		return
	}
	if o.index == nil {
		o.index = make(map[alertKey]int, len(o.ev.Alerts)+len(ev.Alerts))
		for i, a := range o.ev.Alerts {
			o.index[keyOf(a)] = i
		}
	}
	for _, a := range ev.Alerts {
		k := keyOf(a)
		if i, ok := o.index[k]; ok {
			if newer(o.ev.Alerts[i], a) {
				o.ev.Alerts[i] = a
			}
			continue
		}
		o.index[k] = len(o.ev.Alerts)
		o.ev.Alerts = append(o.ev.Alerts, a)
	}
	o.ev.Truncated = ev.Truncated
}

func (o *outbox) take() (datasource.AlertEvent, bool) {
	if !o.pending {
		return datasource.AlertEvent{}, false
	}
	ev := o.ev
	*o = outbox{}
	return ev, true
}
