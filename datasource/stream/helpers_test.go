package stream

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func mkAlert(fp string, state datasource.AlertState, updated time.Duration) datasource.Alert {
	return datasource.Alert{
		Fingerprint: fp,
		Labels:      map[string]string{"alertname": "Alert" + fp, "severity": "critical"},
		Annotations: map[string]string{"summary": "summary of " + fp},
		State:       state,
		StartsAt:    t0,
		UpdatedAt:   t0.Add(updated),
	}
}

// syncBuffer is a log sink safe for concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testServer struct {
	*Server
	http *httptest.Server
	url  string // ws://…/stream
	down atomic.Bool
}

// startServer runs a Server (Run included) behind an httptest server. While down is
// set, the stream answers 503, as a relay behind a load balancer does when it is gone.
func startServer(t testing.TB, opts ServerOptions, tweak ...func(*httptest.Server)) *testServer {
	t.Helper()
	if opts.Log == nil {
		opts.Log = testLogger(io.Discard)
	}
	ts := &testServer{Server: NewServer(opts)}
	inner := ts.Handler()
	ts.http = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ts.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	for _, f := range tweak {
		f(ts.http)
	}
	ts.http.Start()
	ts.url = "ws" + strings.TrimPrefix(ts.http.URL, "http") + DefaultPath
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); ts.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		ts.http.Close()
	})
	return ts
}

// kickAll disconnects every client as a crashing relay would: no close frame.
func (s *Server) kickAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p := range s.peers {
		_ = p.ws.Close()
	}
}

// state is the server's current alerts, keyed as clients key them.
func (s *Server) state() map[alertKey]datasource.Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[alertKey]datasource.Alert{}
	for _, a := range s.alertsLocked() {
		out[keyOf(a)] = a
	}
	return out
}

func (s *Server) currentSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

func newTestClient(t testing.TB, url string, opts ClientOptions) *Client {
	t.Helper()
	opts.URL = url
	if opts.Name == "" {
		opts.Name = "relay"
	}
	if opts.Log == nil {
		opts.Log = testLogger(io.Discard)
	}
	if opts.MinBackoff == 0 {
		opts.MinBackoff = 5 * time.Millisecond
		opts.MaxBackoff = 50 * time.Millisecond
	}
	c, err := NewClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// consumer applies a subscription's events the way cockpit.Hub does, keyed like the
// stream, and remembers what it saw.
type consumer struct {
	mu        sync.Mutex
	state     map[alertKey]datasource.Alert
	truncated int
	snapshots int
	deltas    int
	events    []datasource.AlertEvent
	done      chan struct{}
}

func consume(t testing.TB, sub datasource.Subscription) *consumer {
	t.Helper()
	c := &consumer{state: map[alertKey]datasource.Alert{}, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for ev := range sub.C() {
			c.apply(ev)
		}
	}()
	t.Cleanup(func() {
		sub.Close()
		<-c.done
	})
	return c
}

func (c *consumer) apply(ev datasource.AlertEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, ev)
	if ev.Kind == datasource.Snapshot {
		c.snapshots++
		c.state = map[alertKey]datasource.Alert{}
	} else {
		c.deltas++
	}
	for _, a := range ev.Alerts {
		k := keyOf(a)
		if old, ok := c.state[k]; ok && old.UpdatedAt.After(a.UpdatedAt) {
			continue
		}
		c.state[k] = a
	}
	c.truncated = ev.Truncated
}

func (c *consumer) snapshot() (map[alertKey]datasource.Alert, int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.state), c.snapshots, c.deltas
}

// waitFor polls cond until it holds or the (real-time) timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitConverged waits until the consumer holds exactly the server's state.
func waitConverged(t testing.TB, timeout time.Duration, c *consumer, s *Server) {
	t.Helper()
	var diff string
	deadline := time.Now().Add(timeout)
	for {
		got, _, _ := c.snapshot()
		if diff = stateDiff(got, s.state()); diff == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("client state never converged with the server's: %s", diff)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func stateDiff(got, want map[alertKey]datasource.Alert) string {
	var out []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("missing %v", k))
		case !alertEqual(g, w):
			out = append(out, fmt.Sprintf("%v: got %+v, want %+v", k, g, w))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			out = append(out, fmt.Sprintf("extra %v", k))
		}
	}
	slices.Sort(out)
	if len(out) > 5 {
		out = append(out[:5], fmt.Sprintf("… %d more", len(out)-5))
	}
	return strings.Join(out, "; ")
}

// fakeRelay is a hand-scripted relay for tests of the client's defences: each
// connection runs script, numbered from 0.
func fakeRelay(t testing.TB, script func(n int, ws *websocket.Conn, r *http.Request)) (url string, conns *atomic.Int32) {
	t.Helper()
	conns = &atomic.Int32{}
	up := websocket.Upgrader{Subprotocols: []string{Subprotocol}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		script(int(conns.Add(1))-1, ws, r)
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + DefaultPath, conns
}

func send(t testing.TB, ws *websocket.Conn, s string) {
	t.Helper()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		t.Errorf("fake relay write: %v", err)
	}
}

// waitClosed reads until the peer closes and returns the close error.
func waitClosed(ws *websocket.Conn) error {
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			return err
		}
	}
}

// proxy is a TCP relay that can blackhole its current connections: bytes are read and
// thrown away both ways, so each side sees a live but silent peer.
type proxy struct {
	ln     net.Listener
	target string
	frozen atomic.Bool
	held   atomic.Int32 // connection directions blackholed so far
	mu     sync.Mutex
	conns  []net.Conn
}

func startProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			c.Close()
		}
	})
	return p
}

func (p *proxy) serve(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, c, up)
	p.mu.Unlock()
	var frozen atomic.Bool // per connection: freeze affects the connections open now
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 && !frozen.Load() {
				if p.frozen.Load() {
					frozen.Store(true)
					p.held.Add(1)
					continue
				}
				if _, err := dst.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				dst.Close()
				return
			}
		}
	}
	go pipe(up, c)
	go pipe(c, up)
}

// freeze blackholes every connection that carries data until thaw; a connection once
// blackholed stays so.
func (p *proxy) freeze() { p.frozen.Store(true) }

func (p *proxy) thaw() { p.frozen.Store(false) }

func newRegistry() (*prometheus.Registry, *Metrics) {
	reg := prometheus.NewRegistry()
	return reg, NewMetrics(reg)
}

var _ clock.Clock = (*clock.Fake)(nil)

// value reads a single counter or gauge (prometheus/testutil would add a module).
func value(c prometheus.Collector) float64 {
	ch := make(chan prometheus.Metric, 1)
	go func() { c.Collect(ch); close(ch) }()
	var sum float64
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			panic(err)
		}
		switch {
		case d.Counter != nil:
			sum += d.Counter.GetValue()
		case d.Gauge != nil:
			sum += d.Gauge.GetValue()
		}
	}
	return sum
}

// dump is everything a registry exposes, as text, for leak checks.
func dump(reg *prometheus.Registry) string {
	mfs, err := reg.Gather()
	if err != nil {
		panic(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		fmt.Fprintln(&b, mf.String())
	}
	return b.String()
}

// smallSendBuffers makes the server's sockets buffer little, so a client that stops
// reading blocks the server's writes after kilobytes rather than megabytes.
func smallSendBuffers(s *httptest.Server) { s.Listener = sndbufListener{s.Listener} }

type sndbufListener struct{ net.Listener }

func (l sndbufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}
