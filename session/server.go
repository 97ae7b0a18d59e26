package session

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/internal/wsauth"
)

// ServerOptions tune a Server. Zero values take the defaults in brackets.
type ServerOptions struct {
	// Tokens are the bearer tokens a follower may present. At least one is required:
	// a commander's view is not for anyone who can reach the port.
	Tokens []string
	// AllowedOrigins are the exact origins (scheme://host[:port]) browsers may connect
	// from. A request without an Origin header (any non-browser client) is allowed; one
	// with an Origin must match, so an empty list refuses every browser.
	AllowedOrigins []string
	// ReadLimit caps a frame from a follower [4 KiB]; followers send only control frames.
	ReadLimit int64
	// SendQueue is how many states may wait for one follower [1]. States are whole, so
	// when the queue is full the oldest waiting one is discarded: Publish never waits.
	SendQueue int
	// WriteTimeout bounds one write to a follower [5s]; a follower whose write takes
	// longer cannot keep up and is dropped (1013). It also bounds Close.
	WriteTimeout time.Duration
	// PingInterval is how often followers are pinged [30s]; PongWait is how long one
	// may stay silent before it is dropped [2 × PingInterval].
	PingInterval, PongWait time.Duration
	// HeartbeatInterval is how often an idle connection gets a heartbeat [15s].
	HeartbeatInterval time.Duration
	// MaxFollowers caps connected followers [100]; more are refused with 503.
	MaxFollowers int
	// Clock schedules pings, heartbeats and the write watchdog, and stamps State.At
	// [clock.Real].
	Clock clock.Clock
	// Log receives connection events [slog.Default]. It never sees tokens.
	Log *slog.Logger
	// Metrics registers the server's collectors (nil: none).
	Metrics prometheus.Registerer
}

func (o *ServerOptions) defaults() {
	if o.ReadLimit <= 0 {
		o.ReadLimit = 4 << 10
	}
	if o.SendQueue <= 0 {
		o.SendQueue = 1
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 5 * time.Second
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 30 * time.Second
	}
	if o.PongWait <= o.PingInterval {
		o.PongWait = 2 * o.PingInterval
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = 15 * time.Second
	}
	if o.MaxFollowers <= 0 {
		o.MaxFollowers = 100
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
}

// closeGrace is how long a best-effort close frame may wait for the socket.
const closeGrace = 250 * time.Millisecond

// Server is the commander's end of follow mode. It holds the current State, numbers
// each change and hands it to every follower through a small per-follower queue that
// Publish never waits on; each connection has one reader and one writer goroutine.
// Publish, Handler and Stats are safe from any goroutine; Run drives pings,
// heartbeats and the write watchdog.
type Server struct {
	opts     ServerOptions
	clk      clock.Clock
	t0       time.Time
	log      *slog.Logger
	m        *metrics
	instance string
	tokens   wsauth.Tokens
	upgrader websocket.Upgrader
	handlers sync.WaitGroup // connection handlers
	closers  sync.WaitGroup // best-effort 1013 closes of stuck followers

	// pubMu serialises Publish, so that it can encode outside mu: mu is then held only
	// for the fan-out, and connection goroutines never wait behind an encoding.
	pubMu sync.Mutex

	mu     sync.Mutex // guards what follows; cur and curMsg change under pubMu too
	cur    State
	curMsg *websocket.PreparedMessage
	peers  map[*peer]struct{}
	closed bool

	sent, dropped, badFrames, authFails atomic.Uint64
}

// NewServer checks opts and returns a server with an empty state (seq 0) and no
// followers. Serve Handler, and call Run for keepalive (or ListenAndServe for both).
func NewServer(opts ServerOptions) (*Server, error) {
	opts.defaults()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("session server instance id: %w", err)
	}
	s := &Server{
		opts: opts, clk: opts.Clock, log: opts.Log, m: newMetrics(opts.Metrics),
		instance: hex.EncodeToString(b[:]),
		peers:    map[*peer]struct{}{},
	}
	s.tokens = wsauth.NewTokens(opts.Tokens) // an empty token never lets anyone in
	if s.tokens.Empty() {
		return nil, errors.New("session server: at least one non-empty token is required")
	}
	s.t0 = s.clk.Now()
	data, err := encodeState(s.instance, State{})
	if err != nil {
		return nil, err
	}
	s.curMsg, _ = websocket.NewPreparedMessage(websocket.TextMessage, data) // fails only with compression
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: opts.WriteTimeout,
		Subprotocols:     []string{Subprotocol},
		// serveWS has checked the origin against the exact list before upgrading.
		CheckOrigin: func(*http.Request) bool { return true },
		Error: func(w http.ResponseWriter, _ *http.Request, status int, _ error) {
			http.Error(w, http.StatusText(status), status)
		},
	}
	return s, nil
}

// Instance is this server's random id; followers see seq restart when it changes.
func (s *Server) Instance() string { return s.instance }

// peer is one follower. Its writer alone writes data to the socket; the rest of the
// server talks to it through the fields guarded by Server.mu and the wake channel.
type peer struct {
	ws         *websocket.Conn
	remote     string
	wake       chan struct{} // 1 slot: "look at your fields again"
	readerDone chan struct{}
	writerDone chan struct{}
	lastRead   atomic.Int64 // Server.elapsed of the last frame or pong
	writeSince atomic.Int64 // Server.elapsed when the write in progress began; 0 when idle

	// Guarded by Server.mu.
	pending  []queued
	pingDue  bool
	pong     *string
	hbDue    bool
	active   bool // a state went out since the last heartbeat tick
	kick     bool
	kickCode int
	kickText string
	gone     bool   // dropped or leaving: gets nothing more, not counted as connected
	sentSeq  uint64 // the last state's seq handed to the writer
}

type queued struct {
	seq uint64
	pm  *websocket.PreparedMessage
}

func (p *peer) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// elapsed is the server clock's time since start, plus one so that zero means "never".
func (s *Server) elapsed() int64 { return int64(s.clk.Now().Sub(s.t0)) + 1 }

// Publish makes st the current state and queues it for every follower; it returns
// the state's seq. Seq and At are set here (At from the server's clock); strings are
// cut to the caps and Extra to MaxExtra entries. A state that shows the same as the
// current one sends nothing and returns the current seq. Publish never waits for a
// follower and takes a copy of st.Extra.
func (s *Server) Publish(st State) uint64 {
	st, cut := st.trim()
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	if st.SameView(s.cur) { // s.cur changes only under pubMu
		return s.cur.Seq
	}
	if cut {
		s.log.Warn("session: published state cut to the caps", "max_field_bytes", MaxFieldBytes, "max_extra", MaxExtra)
	}
	st.Seq, st.At = s.cur.Seq+1, s.clk.Now()
	data, err := encodeState(s.instance, st)
	if err != nil { // strings and a string map always encode; keep the old state if not
		s.log.Error("session: publish", "err", err)
		return s.cur.Seq
	}
	pm, _ := websocket.NewPreparedMessage(websocket.TextMessage, data)
	s.m.publish()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur, s.curMsg = st, pm
	for p := range s.peers {
		if !p.gone {
			s.enqueueLocked(p, queued{st.Seq, pm})
		}
	}
	return st.Seq
}

// enqueueLocked adds q to p's queue, discarding the oldest waiting state when full.
func (s *Server) enqueueLocked(p *peer, q queued) {
	if len(p.pending) >= s.opts.SendQueue {
		n := copy(p.pending, p.pending[len(p.pending)-s.opts.SendQueue+1:])
		clear(p.pending[n:])
		p.pending = p.pending[:n]
	}
	p.pending = append(p.pending, q)
	p.poke()
}

// Current returns the state last published (seq 0 before any).
func (s *Server) Current() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur.clone()
}

// Handler serves the websocket at Path and a plain "ok" at /healthz.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(Path, s.serveWS)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if closed {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("closed\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// serveWS authenticates, checks the origin, upgrades and serves one follower until it
// goes: this goroutine is the connection's reader, and a second one its writer.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if reason := s.authenticate(r); reason != "" {
		s.refuse(w, r, http.StatusUnauthorized, reason)
		return
	}
	if !s.originAllowed(r) {
		s.refuse(w, r, http.StatusForbidden, "origin")
		return
	}
	if offered := websocket.Subprotocols(r); len(offered) > 0 && !slices.Contains(offered, Subprotocol) {
		s.refuse(w, r, http.StatusBadRequest, "subprotocol")
		return
	}
	s.mu.Lock()
	refuse := ""
	switch {
	case s.closed:
		refuse = "session server shutting down"
	case s.connectedLocked() >= s.opts.MaxFollowers:
		refuse = "too many followers"
	default:
		s.handlers.Add(1)
	}
	s.mu.Unlock()
	if refuse != "" {
		http.Error(w, refuse, http.StatusServiceUnavailable)
		return
	}
	defer s.handlers.Done()
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.log.Debug("session: upgrade failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	p := &peer{
		ws: ws, remote: r.RemoteAddr, wake: make(chan struct{}, 1),
		readerDone: make(chan struct{}), writerDone: make(chan struct{}),
	}
	p.lastRead.Store(s.elapsed())
	if !s.register(p) {
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "session server shutting down"), wallDeadline(closeGrace))
		_ = ws.Close()
		return
	}
	s.log.Info("session: follower connected", "remote", p.remote)
	go s.writeLoop(p)
	s.readLoop(p)
	close(p.readerDone)
	<-p.writerDone
	_ = ws.Close()
	s.mu.Lock()
	delete(s.peers, p)
	if !p.gone {
		p.gone = true
		s.m.follower(-1)
	}
	s.mu.Unlock()
	s.log.Info("session: follower disconnected", "remote", p.remote)
}

// register subscribes p with the current state queued first, atomically with respect
// to Publish: p gets that state and every later one, none missed.
func (s *Server) register(p *peer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	p.pending = append(p.pending, queued{s.cur.Seq, s.curMsg})
	s.peers[p] = struct{}{}
	s.m.follower(1)
	return true
}

func (s *Server) connectedLocked() int {
	n := 0
	for p := range s.peers {
		if !p.gone {
			n++
		}
	}
	return n
}

// job is the next thing a writer does.
type job struct {
	kind     int
	q        queued
	data     string // pong payload
	code     int    // kick
	text     string // kick
	hbSeq    uint64
	instance string
}

const (
	jobNone = iota
	jobKick
	jobPong
	jobPing
	jobState
	jobHeartbeat
)

// nextJob takes p's most urgent pending work: a kick, then control frames, then the
// oldest queued state, then a heartbeat.
func (s *Server) nextJob(p *peer) job {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case p.kick:
		p.kick = false
		return job{kind: jobKick, code: p.kickCode, text: p.kickText}
	case p.pong != nil:
		d := *p.pong
		p.pong = nil
		return job{kind: jobPong, data: d}
	case p.pingDue:
		p.pingDue = false
		return job{kind: jobPing}
	case len(p.pending) > 0:
		q := p.pending[0]
		p.pending[0] = queued{}
		p.pending = p.pending[1:]
		p.sentSeq, p.active, p.hbDue = q.seq, true, false
		return job{kind: jobState, q: q}
	case p.hbDue:
		p.hbDue = false
		return job{kind: jobHeartbeat, hbSeq: p.sentSeq}
	}
	return job{kind: jobNone}
}

// writeLoop is p's only writer of data frames, until kicked or the reader ends. Each
// write is watched by Run's watchdog.
func (s *Server) writeLoop(p *peer) {
	defer close(p.writerDone)
	defer p.ws.Close() // a failed writer ends the reader too
	readerGone := false
	for {
		j := s.nextJob(p)
		ok := true
		switch j.kind {
		case jobNone:
			if readerGone {
				return
			}
			select {
			case <-p.wake:
			case <-p.readerDone:
				readerGone = true // look once more: the reader may have kicked p on its way out
			}
		case jobKick:
			_ = s.write(p, func() error { return p.ws.WriteMessage(websocket.TextMessage, encodeBye(s.instance, j.text)) })
			_ = p.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(j.code, j.text), wallDeadline(closeGrace))
			return
		case jobPong:
			ok = s.write(p, func() error { return p.ws.WriteControl(websocket.PongMessage, []byte(j.data), time.Time{}) })
		case jobPing:
			ok = s.write(p, func() error { return p.ws.WriteControl(websocket.PingMessage, nil, time.Time{}) })
		case jobState:
			ok = s.write(p, func() error { return p.ws.WritePreparedMessage(j.q.pm) })
		case jobHeartbeat:
			ok = s.write(p, func() error {
				return p.ws.WriteMessage(websocket.TextMessage, encodeHeartbeat(s.instance, j.hbSeq))
			})
		}
		if !ok {
			return
		}
	}
}

// write runs one socket write under the watchdog's eye.
func (s *Server) write(p *peer, f func() error) bool {
	p.writeSince.Store(s.elapsed())
	err := f()
	p.writeSince.Store(0)
	if err != nil {
		s.log.Debug("session: write failed", "remote", p.remote, "err", err)
		return false
	}
	s.sent.Add(1)
	return true
}

// readLoop reads until the connection ends. Followers have nothing to say: the first
// data frame ends the connection with 1008, an oversized one with 1009 (gorilla sends
// that close frame itself, before reading the payload, so memory stays bounded).
func (s *Server) readLoop(p *peer) {
	ws := p.ws
	ws.SetReadLimit(s.opts.ReadLimit)
	ws.SetPongHandler(func(string) error {
		p.lastRead.Store(s.elapsed())
		return nil
	})
	ws.SetPingHandler(func(data string) error {
		p.lastRead.Store(s.elapsed())
		s.mu.Lock()
		p.pong = &data // the writer answers; an unanswered older ping is superseded
		s.mu.Unlock()
		p.poke()
		return nil
	})
	_, _, err := ws.NextReader()
	switch {
	case err == nil:
		s.badFrames.Add(1)
		s.m.drop("data_frame")
		s.log.Warn("session: follower sent a data frame; disconnected with 1008", "remote", p.remote)
		s.kick(p, websocket.ClosePolicyViolation, "followers send no data")
	case errors.Is(err, websocket.ErrReadLimit):
		s.badFrames.Add(1)
		s.m.drop("too_big")
		s.log.Warn("session: follower sent a frame over the read limit; disconnected with 1009", "remote", p.remote, "limit", s.opts.ReadLimit)
		s.kick(p, websocket.CloseMessageTooBig, "frame over the read limit")
	}
}

// kick stops sending states to p and tells its writer to say bye and close with code.
func (s *Server) kick(p *peer, code int, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kickLocked(p, code, text)
}

func (s *Server) kickLocked(p *peer, code int, text string) {
	if p.gone {
		return
	}
	p.gone, p.kick, p.kickCode, p.kickText = true, true, code, text
	clear(p.pending)
	p.pending = nil
	s.m.follower(-1)
	p.poke()
}

// authenticate returns why r may not connect, or "". Only the Authorization header
// counts: a token in the URL would end up in logs.
func (s *Server) authenticate(r *http.Request) string {
	return s.tokens.Check(wsauth.Bearer(r))
}

func (s *Server) originAllowed(r *http.Request) bool {
	return wsauth.OriginAllowed(r, s.opts.AllowedOrigins)
}

func (s *Server) refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	s.authFails.Add(1)
	s.m.authFailure(reason)
	s.log.Warn("session: connection refused", "remote", r.RemoteAddr, "status", status, "reason", reason)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="opscockpit session"`)
	}
	msg := http.StatusText(status)
	if reason == "subprotocol" {
		msg = "unsupported protocol; this server speaks " + Subprotocol
	}
	http.Error(w, msg, status)
}

// Run pings followers, drops silent ones and stuck writes and sends heartbeats on idle
// connections, until ctx ends; then it closes the server.
func (s *Server) Run(ctx context.Context) {
	ping := s.clk.NewTicker(s.opts.PingInterval)
	defer ping.Stop()
	hb := s.clk.NewTicker(s.opts.HeartbeatInterval)
	defer hb.Stop()
	wd := s.clk.NewTicker(max(s.opts.WriteTimeout/4, time.Millisecond))
	defer wd.Stop()
	for {
		select {
		case <-ctx.Done():
			s.Close()
			return
		case <-ping.C():
			s.pingAll()
		case <-hb.C():
			s.heartbeatAll()
		case <-wd.C():
			s.watchWrites()
		}
	}
}

// ListenAndServe listens on addr (host:port) and calls Serve.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("session server listen %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves Handler on ln, with Run, until ctx ends; then it says bye to the
// followers and closes ln. It returns nil after ctx ends, or the listener's error.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: s.opts.WriteTimeout}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { s.Run(ctx) })
	wg.Go(func() {
		<-ctx.Done()
		s.Close()
		_ = hs.Close()
	})
	err := hs.Serve(ln)
	cancel()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("session server on %s: %w", ln.Addr(), err)
}

func (s *Server) pingAll() {
	now := s.elapsed()
	s.mu.Lock()
	defer s.mu.Unlock()
	for p := range s.peers {
		if p.gone {
			continue
		}
		if time.Duration(now-p.lastRead.Load()) > s.opts.PongWait {
			s.dropped.Add(1)
			s.m.drop("silent")
			s.log.Info("session: follower silent past the pong wait; disconnected", "remote", p.remote, "pong_wait", s.opts.PongWait)
			p.gone = true
			s.m.follower(-1)
			_ = p.ws.Close()
			continue
		}
		p.pingDue = true
		p.poke()
	}
}

func (s *Server) heartbeatAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p := range s.peers {
		if !p.gone && !p.active {
			p.hbDue = true
			p.poke()
		}
		p.active = false
	}
}

// watchWrites drops followers whose write has been stuck past WriteTimeout: a best
// effort close with 1013 (it reaches a follower that is slow, not one that stopped
// reading), then the socket is closed, which ends the stuck write.
func (s *Server) watchWrites() {
	now := s.elapsed()
	var stuck []*peer
	s.mu.Lock()
	for p := range s.peers {
		since := p.writeSince.Load()
		if since == 0 || time.Duration(now-since) <= s.opts.WriteTimeout {
			continue
		}
		if p.gone { // already leaving (its bye is stuck): just cut it
			_ = p.ws.Close()
			continue
		}
		p.gone = true
		clear(p.pending)
		p.pending = nil
		s.m.follower(-1)
		s.dropped.Add(1)
		s.m.drop("slow")
		s.log.Warn("session: follower could not keep up; dropped with 1013", "remote", p.remote, "write_timeout", s.opts.WriteTimeout)
		if s.closed {
			_ = p.ws.Close()
			continue
		}
		stuck = append(stuck, p)
		s.closers.Add(1)
	}
	s.mu.Unlock()
	for _, p := range stuck {
		go func() {
			defer s.closers.Done()
			_ = p.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "could not keep up"), wallDeadline(closeGrace))
			_ = p.ws.Close()
		}()
	}
}

// Close says bye (1001) to every follower and refuses new ones, waiting for their
// handlers to finish; writes stuck longer than WriteTimeout are cut. It is idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for p := range s.peers {
		s.kickLocked(p, websocket.CloseGoingAway, "session server shutting down")
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.handlers.Wait(); s.closers.Wait(); close(done) }()
	t := s.clk.NewTimer(s.opts.WriteTimeout)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C():
	}
	s.mu.Lock()
	for p := range s.peers {
		_ = p.ws.Close()
	}
	s.mu.Unlock()
	<-done
}

// Stats is a server's condition at one instant.
type Stats struct {
	// Followers connected now.
	Followers int `json:"followers"`
	// Seq of the current state.
	Seq uint64 `json:"seq"`
	// Dropped counts followers disconnected for not keeping up or going silent.
	Dropped uint64 `json:"dropped"`
	// BadFrames counts followers disconnected for sending data or oversized frames.
	BadFrames uint64 `json:"badFrames"`
	// AuthFailures counts connections refused before the upgrade (401, 403, 400).
	AuthFailures uint64 `json:"authFailures"`
	// Sent counts frames written to followers.
	Sent uint64 `json:"sent"`
}

// Stats reports the server's condition.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{
		Followers: s.connectedLocked(), Seq: s.cur.Seq,
		Dropped: s.dropped.Load(), BadFrames: s.badFrames.Load(),
		AuthFailures: s.authFails.Load(), Sent: s.sent.Load(),
	}
}

// wallDeadline is an absolute wall-clock deadline d from now, for gorilla's
// WriteControl on best-effort close frames: it bounds a socket write, not a schedule,
// so it stays on the wall clock even under a fake clock.
func wallDeadline(d time.Duration) time.Time { return time.Now().Add(d) }
