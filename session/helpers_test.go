package session

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

const testToken = "s3cret-follow-token"

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// trackingListener remembers accepted connections so a test can cut them all, as a
// network loss would, without the server noticing anything but read errors.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
	// sendBuffer, when set, fixes the kernel send buffer of accepted connections, so
	// that a follower that stops reading fills it in a few messages.
	sendBuffer int
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		if tc, ok := c.(*net.TCPConn); ok && l.sendBuffer > 0 {
			_ = tc.SetWriteBuffer(l.sendBuffer)
		}
		l.mu.Unlock()
	}
	return c, err
}

func (l *trackingListener) cutAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		_ = c.Close()
	}
	l.conns = nil
}

// testServer is a Server served over real HTTP on loopback, with Run going.
type testServer struct {
	srv  *Server
	ln   *trackingListener
	hs   *http.Server
	addr string
	stop func()
}

func (ts *testServer) setSendBuffer(n int) {
	ts.ln.mu.Lock()
	ts.ln.sendBuffer = n
	ts.ln.mu.Unlock()
}

// advanceUntil advances a fake clock by step until cond holds: a fake ticker drops a
// tick its reader has not taken yet, so one Advance per expected tick is not enough.
func advanceUntil(t testing.TB, fake interface{ Advance(time.Duration) }, step time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		fake.Advance(step)
		time.Sleep(5 * time.Millisecond)
	}
}

func (ts *testServer) wsURL() string   { return "ws://" + ts.addr }
func (ts *testServer) httpURL() string { return "http://" + ts.addr }

// startServer serves a new Server on addr ("127.0.0.1:0" for any port).
func startServer(t testing.TB, addr string, opts ServerOptions) *testServer {
	t.Helper()
	if opts.Tokens == nil {
		opts.Tokens = []string{testToken}
	}
	if opts.Log == nil {
		opts.Log = quietLog()
	}
	srv, err := NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	for deadline := time.Now().Add(5 * time.Second); ; {
		ln, err = net.Listen("tcp", addr)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	tl := &trackingListener{Listener: ln}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 5 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = hs.Serve(tl) })
	wg.Go(func() { srv.Run(ctx) })
	ts := &testServer{srv: srv, ln: tl, hs: hs, addr: ln.Addr().String()}
	var once sync.Once
	ts.stop = func() {
		once.Do(func() {
			cancel()
			srv.Close()
			_ = hs.Close()
			wg.Wait()
		})
	}
	t.Cleanup(ts.stop)
	return ts
}

// recorder collects what a follower hands on.
type recorder struct {
	states   chan State
	mu       sync.Mutex
	statuses []Status
	statusC  chan Status
}

func newRecorder() *recorder {
	return &recorder{states: make(chan State, 10000), statusC: make(chan Status, 1000)}
}

func (r *recorder) onState(st State) { r.states <- st }

func (r *recorder) onStatus(st Status) {
	r.mu.Lock()
	r.statuses = append(r.statuses, st)
	r.mu.Unlock()
	select {
	case r.statusC <- st:
	default:
	}
}

func (r *recorder) phases() []Phase {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Phase, len(r.statuses))
	for i, s := range r.statuses {
		out[i] = s.Phase
	}
	return out
}

// next waits for the next state.
func (r *recorder) next(t testing.TB) State {
	t.Helper()
	select {
	case st := <-r.states:
		return st
	case <-time.After(5 * time.Second):
		t.Fatal("no state within 5s")
		return State{}
	}
}

// waitFor waits for a state with the given seq, failing on any out of order.
func (r *recorder) waitFor(t testing.TB, seq uint64) State {
	t.Helper()
	for {
		st := r.next(t)
		if st.Seq == seq {
			return st
		}
		if st.Seq > seq {
			t.Fatalf("got seq %d while waiting for %d", st.Seq, seq)
		}
	}
}

// waitPhase waits until the follower reports phase.
func (r *recorder) waitPhase(t testing.TB, phase Phase) Status {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case st := <-r.statusC:
			if st.Phase == phase {
				return st
			}
		case <-deadline:
			t.Fatalf("no %s status within 10s; saw %v", phase, r.phases())
			return Status{}
		}
	}
}

// runningFollower is a Follower with Run going.
type runningFollower struct {
	f    *Follower
	rec  *recorder
	stop func() error
}

// startFollower runs a follower; tweak adjusts its options, prep the Follower itself
// before Run starts.
func startFollower(t testing.TB, url, token string, tweak func(*FollowerOptions), prep ...func(*Follower)) *runningFollower {
	t.Helper()
	rec := newRecorder()
	opts := FollowerOptions{
		URL: url, Token: token, Log: quietLog(), OnState: rec.onState, OnStatus: rec.onStatus,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
	}
	if tweak != nil {
		tweak(&opts)
	}
	f, err := NewFollower(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range prep {
		p(f)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	var once sync.Once
	var runErr error
	rf := &runningFollower{f: f, rec: rec}
	rf.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(10 * time.Second):
				runErr = errors.New("Run did not return within 10s of cancel")
			}
		})
		return runErr
	}
	t.Cleanup(func() {
		if err := rf.stop(); err != nil && !errors.Is(err, ErrUnauthorized) && !errors.Is(err, ErrForbidden) {
			t.Errorf("follower Run: %v", err)
		}
	})
	return rf
}

// dialRaw connects a bare gorilla client with the given header.
func dialRaw(t testing.TB, url string, header http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{Subprotocol}, HandshakeTimeout: 5 * time.Second}
	ws, resp, err := d.Dial(url, header)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	return ws, resp, err
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func bigExtra(tag string) map[string]string {
	m := make(map[string]string, MaxExtra)
	for i := range MaxExtra {
		m[string(rune('a'+i))] = tag + strings.Repeat("x", MaxExtraValueBytes-len(tag))
	}
	return m
}
