package session

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/gorilla/websocket"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/internal/wsdial"
)

// Errors a follower reports in Status.Err and returns from Run, for errors.Is.
var (
	// ErrUnauthorized: the server refused the token. Run stops; retrying cannot help.
	ErrUnauthorized = errors.New("session server refused the token (401): check --token-file")
	// ErrForbidden: the server refused the connection's origin. Run stops.
	ErrForbidden = errors.New("session server refused the connection (403): origin not allowed")
	// ErrHandshakeTimeout: connecting took longer than HandshakeTimeout.
	ErrHandshakeTimeout = errors.New("session handshake timed out")
	// ErrSilent: the server sent nothing, not even a heartbeat, for ReadTimeout.
	ErrSilent = errors.New("session server silent")
	// ErrProtocol: the server does not speak this protocol.
	ErrProtocol = errors.New("server does not speak " + Subprotocol)
)

// FollowerOptions configure a Follower. Zero values take the defaults in brackets.
type FollowerOptions struct {
	// URL is the commander's session server: ws://host:port or wss://host:port (the
	// path defaults to /session). It may not hold credentials.
	URL string
	// Token is sent as "Authorization: Bearer …"; surrounding space (a token file's
	// newline) is trimmed. Required. It is never logged nor put in errors.
	Token string
	// TLSConfig for wss:// (nil: system roots).
	TLSConfig *tls.Config
	// Clock schedules deadlines and backoff [clock.Real].
	Clock clock.Clock
	// Log receives connection events [slog.Default].
	Log *slog.Logger
	// OnState is called with each state newer than the last one handed on: in seq
	// order, never an older seq unless the server restarted. It runs on Run's
	// goroutine and must return quickly (hand the state to fyne.Do).
	OnState func(State)
	// OnStatus is called on every change of Status, on Run's goroutine; same rule.
	OnStatus func(Status)
	// HandshakeTimeout bounds connecting: TCP, TLS and the upgrade [10s].
	HandshakeTimeout time.Duration
	// ReadTimeout is how long the server may stay silent before the connection is
	// dropped and made again [45s: 3× the server's default heartbeat].
	ReadTimeout time.Duration
	// MaxMessageBytes caps one server message [256 KiB].
	MaxMessageBytes int64
	// MinBackoff and MaxBackoff bound the jittered exponential reconnect delay [250ms, 30s].
	MinBackoff, MaxBackoff time.Duration
}

// Phase is where a follower's connection stands.
type Phase int

// Phases, in the order a follower usually goes through them.
const (
	// PhaseConnecting: dialling and handshaking.
	PhaseConnecting Phase = iota
	// PhaseLive: connected and in sync with the commander.
	PhaseLive
	// PhaseReconnecting: the connection failed or ended; another attempt is scheduled.
	PhaseReconnecting
	// PhaseRefused: the server refused the token or origin; Run has stopped.
	PhaseRefused
	// PhaseStopped: Run's context ended.
	PhaseStopped
)

// String names the phase.
func (p Phase) String() string {
	switch p {
	case PhaseConnecting:
		return "connecting"
	case PhaseLive:
		return "live"
	case PhaseReconnecting:
		return "reconnecting"
	case PhaseRefused:
		return "refused"
	case PhaseStopped:
		return "stopped"
	}
	return fmt.Sprintf("Phase(%d)", int(p))
}

// Status is a follower's condition, for its status line.
type Status struct {
	Phase Phase
	// Err is why the last connection failed or ended (PhaseReconnecting) or why the
	// server refused (PhaseRefused); nil otherwise. It never holds the token.
	Err error
	// Attempt counts connection attempts since the follower was last live, from 1.
	Attempt int
	// RetryIn is the delay before the next attempt (PhaseReconnecting).
	RetryIn time.Duration
	// Instance is the server's instance id (PhaseLive).
	Instance string
	// Since is when the follower entered this phase, on its clock.
	Since time.Time
}

// String is a one-line description for a status bar.
func (s Status) String() string {
	switch s.Phase {
	case PhaseConnecting:
		if s.Attempt > 1 {
			return fmt.Sprintf("following: connecting (attempt %d)…", s.Attempt)
		}
		return "following: connecting…"
	case PhaseLive:
		return "following: live"
	case PhaseReconnecting:
		return fmt.Sprintf("following: connection lost (%v); retrying in %s", s.Err, s.RetryIn.Round(100*time.Millisecond))
	case PhaseRefused:
		return fmt.Sprintf("following: %v; not retrying", s.Err)
	case PhaseStopped:
		return "following: stopped"
	}
	return s.Phase.String()
}

// stableAfter is how long a connection must last for the backoff to start over: a
// server that accepts and then drops every connection is still backed off from.
const stableAfter = 30 * time.Second

// Follower is a follower's end of follow mode: Run keeps a connection to the
// commander's session server and hands each newer State to OnState.
type Follower struct {
	opts    FollowerOptions
	u       *url.URL
	safeURL string // for logs: no query
	clk     clock.Clock
	log     *slog.Logger

	// Owned by Run's goroutine.
	instance string
	seq      uint64

	mu     sync.Mutex
	status Status
	latest State
	have   bool
	bad    atomic.Uint64

	// testHookBackoff, when set, is called with each reconnect delay once its timer is
	// armed, so a test on a fake clock knows how far to advance it.
	testHookBackoff func(time.Duration)
}

// NewFollower checks opts; nothing connects until Run.
func NewFollower(opts FollowerOptions) (*Follower, error) {
	u, err := url.Parse(opts.URL)
	if err != nil { // the parse error would quote the URL
		return nil, errors.New("follow: the URL does not parse")
	}
	if u.Scheme != "ws" && u.Scheme != "wss" || u.Host == "" {
		return nil, errors.New("follow: the URL must be ws://host:port or wss://host:port")
	}
	if u.User != nil {
		return nil, errors.New("follow: put the token in a token file, not in the URL")
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = Path
	}
	opts.Token = strings.TrimSpace(opts.Token)
	if opts.Token == "" {
		return nil, errors.New("follow: a token is required (--token-file)")
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = 10 * time.Second
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = 45 * time.Second
	}
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = 256 << 10
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 250 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	opts.MaxBackoff = max(opts.MaxBackoff, opts.MinBackoff)
	f := &Follower{
		opts: opts, u: u, clk: opts.Clock, log: opts.Log,
		safeURL: (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String(),
	}
	f.status = Status{Phase: PhaseStopped, Since: f.clk.Now()}
	return f, nil
}

// Status returns the follower's current condition.
func (f *Follower) Status() Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

// Latest returns the newest state handed on, and whether there is one yet.
func (f *Follower) Latest() (State, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.latest.clone(), f.have
}

// BadMessages counts server messages dropped as malformed.
func (f *Follower) BadMessages() uint64 { return f.bad.Load() }

func (f *Follower) setStatus(st Status) {
	st.Since = f.clk.Now()
	f.mu.Lock()
	f.status = st
	f.mu.Unlock()
	if f.opts.OnStatus != nil {
		f.opts.OnStatus(st)
	}
}

// Run follows the commander until ctx ends (it then returns nil) or the server
// refuses the token or origin (it returns ErrUnauthorized or ErrForbidden, and the
// status says so). Lost connections are made again after a capped, jittered
// exponential backoff, and every new connection starts with a resync. Run may be
// called again after it returns, never twice at once.
func (f *Follower) Run(ctx context.Context) error {
	bo := &backoff.ExponentialBackOff{
		InitialInterval:     f.opts.MinBackoff,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		// The randomised delay reaches 1.5× the interval: cap the interval so that the
		// delay never exceeds MaxBackoff and the jitter survives at the cap.
		MaxInterval: max(time.Duration(float64(f.opts.MaxBackoff)/1.5), f.opts.MinBackoff),
	}
	bo.Reset()
	attempt := 1
	for {
		f.setStatus(Status{Phase: PhaseConnecting, Attempt: attempt})
		wasLive, stable, err := f.connect(ctx)
		if ctx.Err() != nil {
			f.setStatus(Status{Phase: PhaseStopped})
			return nil
		}
		if errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrForbidden) {
			f.log.Error("follow: refused by the session server; not retrying", "url", f.safeURL, "err", err)
			f.setStatus(Status{Phase: PhaseRefused, Err: err, Attempt: attempt})
			return err
		}
		if stable {
			bo.Reset()
		}
		if wasLive {
			attempt = 1
		}
		d := min(bo.NextBackOff(), f.opts.MaxBackoff)
		f.log.Warn("follow: disconnected; reconnecting", "url", f.safeURL, "err", err, "backoff", d)
		f.setStatus(Status{Phase: PhaseReconnecting, Err: err, Attempt: attempt, RetryIn: d})
		t := f.clk.NewTimer(d)
		if f.testHookBackoff != nil {
			f.testHookBackoff(d)
		}
		select {
		case <-ctx.Done():
			t.Stop()
			f.setStatus(Status{Phase: PhaseStopped})
			return nil
		case <-t.C():
		}
		attempt++
	}
}

// connect runs one connection to its end and says why it ended, whether it got live
// and whether it lasted long enough to count as stable.
func (f *Follower) connect(ctx context.Context) (live, stable bool, err error) {
	ws, err := f.dial(ctx)
	if err != nil {
		return false, false, err
	}
	start := f.clk.Now()
	var last atomic.Int64 // clock time since start of the last frame
	var silent atomic.Bool
	touch := func() { last.Store(int64(f.clk.Now().Sub(start))) }
	ended, watched := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watched)
		f.watch(ctx, ws, start, &last, &silent, ended)
	}()
	defer func() {
		close(ended)
		<-watched
		_ = ws.Close()
	}()
	ws.SetReadLimit(f.opts.MaxMessageBytes)
	ws.SetPingHandler(func(data string) error {
		touch()
		err := ws.WriteControl(websocket.PongMessage, []byte(data), wallDeadline(time.Second))
		var ne net.Error
		if err == nil || errors.Is(err, websocket.ErrCloseSent) || errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		return err
	})
	bye := ""
	logged := 0
	for {
		mt, data, rerr := ws.ReadMessage()
		if rerr != nil {
			stable = f.clk.Now().Sub(start) >= stableAfter
			return live, stable, f.readError(ctx, rerr, &silent, bye)
		}
		touch()
		if mt != websocket.TextMessage {
			f.dropBad(errors.New("binary frame"), &logged)
			continue
		}
		m, derr := decodeMessage(data)
		if derr != nil {
			f.dropBad(derr, &logged)
			continue
		}
		switch m.Type {
		case typeState:
			if !live {
				live = true
				f.setStatus(Status{Phase: PhaseLive, Instance: m.Instance})
			}
			f.apply(m.Instance, *m.State)
		case typeHeartbeat:
			if !live { // a state always comes first; tolerate an older server anyway
				live = true
				f.setStatus(Status{Phase: PhaseLive, Instance: m.Instance})
			}
		case typeBye:
			bye = m.Reason
		}
	}
}

// apply hands st on if it is newer than what the follower has: a different server
// instance (restarted: seq starts over) or a greater seq.
func (f *Follower) apply(instance string, st State) {
	if instance == f.instance && st.Seq <= f.seq {
		return // the resync of a state already handed on, after a reconnect
	}
	if f.instance != "" && instance != f.instance {
		f.log.Info("follow: the session server restarted; taking its state", "url", f.safeURL)
	}
	f.instance, f.seq = instance, st.Seq
	f.mu.Lock()
	f.latest, f.have = st.clone(), true
	f.mu.Unlock()
	if f.opts.OnState != nil {
		f.opts.OnState(st)
	}
}

// readError says why a connection ended, in words a status line can show.
func (f *Follower) readError(ctx context.Context, err error, silent *atomic.Bool, bye string) error {
	var ce *websocket.CloseError
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case silent.Load():
		return fmt.Errorf("%w: nothing received for %s", ErrSilent, f.opts.ReadTimeout)
	case errors.Is(err, websocket.ErrReadLimit):
		return fmt.Errorf("session message over %d bytes", f.opts.MaxMessageBytes)
	case errors.As(err, &ce):
		reason := ce.Text
		if reason == "" {
			reason = bye
		}
		if ce.Code == websocket.CloseTryAgainLater {
			return fmt.Errorf("server dropped this follower (1013, could not keep up): %s", reason)
		}
		return fmt.Errorf("server closed the connection (%d): %s", ce.Code, reason)
	case bye != "":
		return fmt.Errorf("server said bye: %s", bye)
	default:
		return fmt.Errorf("read: %w", err)
	}
}

// dropBad counts and logs a malformed message: the first few per connection as
// warnings, the rest at debug level, so a misbehaving server cannot flood the log.
func (f *Follower) dropBad(err error, logged *int) {
	f.bad.Add(1)
	*logged++
	lvl := slog.LevelWarn
	if *logged > 10 {
		lvl = slog.LevelDebug
	}
	f.log.Log(context.Background(), lvl, "follow: bad message dropped", "url", f.safeURL, "err", err)
}

// watch enforces ReadTimeout on the clock and closes the connection when ctx ends.
func (f *Follower) watch(ctx context.Context, ws *websocket.Conn, start time.Time, last *atomic.Int64, silent *atomic.Bool, ended <-chan struct{}) {
	t := f.clk.NewTicker(max(f.opts.ReadTimeout/4, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ended:
			return
		case <-ctx.Done():
			_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), wallDeadline(closeGrace))
			_ = ws.Close()
			return
		case <-t.C():
			if f.clk.Now().Sub(start)-time.Duration(last.Load()) > f.opts.ReadTimeout {
				silent.Store(true)
				_ = ws.Close()
				return
			}
		}
	}
}

// dial connects and upgrades, within the handshake deadline on the clock (wsdial).
func (f *Follower) dial(ctx context.Context) (*websocket.Conn, error) {
	header := http.Header{"Authorization": {"Bearer " + f.opts.Token}}
	ws, resp, timedOut, err := wsdial.Dial(ctx, f.u.String(), wsdial.Options{Clock: f.clk, Timeout: f.opts.HandshakeTimeout,
		Header: header, TLSConfig: f.opts.TLSConfig, Subprotocols: []string{Subprotocol}})
	if err != nil {
		switch {
		case timedOut:
			return nil, fmt.Errorf("%w after %s", ErrHandshakeTimeout, f.opts.HandshakeTimeout)
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case resp != nil && resp.StatusCode == http.StatusUnauthorized:
			return nil, ErrUnauthorized
		case resp != nil && resp.StatusCode == http.StatusForbidden:
			return nil, ErrForbidden
		case resp != nil:
			return nil, fmt.Errorf("server answered HTTP %d instead of upgrading to a websocket", resp.StatusCode)
		default:
			return nil, fmt.Errorf("connect to %s: %w", f.u.Host, unwrapDialError(err))
		}
	}
	if ws.Subprotocol() != Subprotocol {
		_ = ws.Close()
		return nil, ErrProtocol
	}
	return ws, nil
}

// unwrapDialError keeps the part of a dial error worth showing: "connection refused"
// rather than the whole op/address chain, which the caller already names.
func unwrapDialError(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}
