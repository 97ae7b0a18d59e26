package stream

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/internal/wsauth"
)

// ServerOptions tune a Server. Zero values take the defaults in brackets.
type ServerOptions struct {
	// Tokens are the bearer tokens a client may present; empty means no authentication.
	Tokens []string
	// AllowedOrigins are the exact origins (scheme://host[:port]) browsers may connect
	// from. A request without an Origin header (any non-browser client) is allowed; a
	// request with one must match, so an empty list refuses every browser.
	AllowedOrigins []string
	// ReadLimit caps a frame from a client [4 KiB]: clients send only control frames.
	ReadLimit int64
	// SendQueue is how many messages may wait for one client [256]. A client whose queue
	// is full is disconnected (1013) and resumes with since=.
	SendQueue int
	// WriteTimeout bounds one write to a client [10s].
	WriteTimeout time.Duration
	// PingInterval is how often clients are pinged [30s]; PongWait is how long a client
	// may stay silent (no pong, no frame) before it is disconnected [2 × PingInterval].
	PingInterval, PongWait time.Duration
	// HeartbeatInterval is how often an idle stream sends a heartbeat [15s]. Clients
	// should allow about 3× this before declaring the relay silent.
	HeartbeatInterval time.Duration
	// History is how many deltas are kept for clients resuming with since= [10,000].
	History int
	// ResolvedRetention is how long a resolved alert stays in the state [5m].
	ResolvedRetention time.Duration
	// Clock schedules everything [clock.Real].
	Clock clock.Clock
	// Metrics records the server's measurements (may be nil).
	Metrics *Metrics
	// Log receives connection events [slog.Default]. It never sees tokens or URLs.
	Log *slog.Logger
}

func (o *ServerOptions) defaults() {
	if o.ReadLimit <= 0 {
		o.ReadLimit = 4 << 10
	}
	if o.SendQueue <= 0 {
		o.SendQueue = 256
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
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
	if o.History <= 0 {
		o.History = 10000
	}
	if o.ResolvedRetention <= 0 {
		o.ResolvedRetention = 5 * time.Minute
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
}

// Server is the relay's hub: it holds the current alert state, turns every change into
// a numbered delta, keeps the last History deltas for resuming clients and fans each
// out to every connected client without ever waiting for one. Publish and ServeHTTP
// are safe from any goroutine; Run drives keepalive, heartbeats and expiry.
type Server struct {
	opts     ServerOptions
	clk      clock.Clock
	t0       time.Time
	log      *slog.Logger
	metrics  *Metrics
	epoch    string
	tokens   wsauth.Tokens
	upgrader websocket.Upgrader
	wg       sync.WaitGroup // connection handlers

	mu        sync.Mutex
	seq       uint64
	sources   map[string]*sourceAlerts
	truncated int // sum over sources
	ring      []*websocket.PreparedMessage
	ringCount int // deltas held: seqs seq-ringCount+1 … seq
	peers     map[*peer]struct{}
	active    bool // a delta went out since the last heartbeat tick
	snap      struct {
		ok   bool
		seq  uint64
		data []byte
	}
	closed bool

	sent, dropped, authFails atomic.Uint64
}

type sourceAlerts struct {
	alerts    map[string]*entry // by fingerprint
	truncated int
}

type entry struct {
	alert      datasource.Alert
	resolvedAt time.Time // on the server's clock; zero unless resolved
}

// NewServer returns a server with no alerts and no clients. Call Run to start its
// keepalive and heartbeats, and Close (or end Run's context) to disconnect everyone.
func NewServer(opts ServerOptions) *Server {
	opts.defaults()
	var b [8]byte
	_, _ = rand.Read(b[:])
	s := &Server{
		opts: opts, clk: opts.Clock, log: opts.Log, metrics: opts.Metrics,
		epoch:   hex.EncodeToString(b[:]),
		sources: map[string]*sourceAlerts{},
		ring:    make([]*websocket.PreparedMessage, opts.History),
		peers:   map[*peer]struct{}{},
	}
	s.t0 = s.clk.Now()
	s.tokens = wsauth.NewTokens(opts.Tokens) // an empty token never lets anyone in
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: opts.WriteTimeout,
		Subprotocols:     []string{Subprotocol},
		// ServeHTTP has checked the origin before upgrading, against the exact list.
		CheckOrigin: func(*http.Request) bool { return true },
		Error: func(w http.ResponseWriter, _ *http.Request, status int, reason error) {
			http.Error(w, http.StatusText(status), status)
		},
	}
	return s
}

// peer is one connected client: a reader (the handler goroutine) and a writer, which
// alone writes to the socket. Others talk to the writer through channels.
type peer struct {
	ws         *websocket.Conn
	remote     string
	queue      chan *websocket.PreparedMessage
	ping       chan struct{}
	pong       chan string
	kick       chan struct{} // closed to make the writer send kickCode and stop
	kickCode   int
	kickText   string
	dropped    bool // guarded by Server.mu: receives nothing more
	readerDone chan struct{}
	writerDone chan struct{}
	lastRead   atomic.Int64 // Server.elapsed of the last frame or pong
	writeSince atomic.Int64 // Server.elapsed when the write in progress began; 0 when idle

	// What the writer sends before the queue, fixed at registration.
	snapData   []byte
	snapAlerts []datasource.Alert
	snapSeq    uint64
	snapTrunc  int
	needSnap   bool
	backlog    []*websocket.PreparedMessage
	resumeFrom uint64
}

// elapsed is the server clock's time since start, plus one so that zero means "never".
func (s *Server) elapsed() int64 { return int64(s.clk.Now().Sub(s.t0)) + 1 }

// Publish applies ev to the state and sends the change to every client as one delta.
// A Snapshot event replaces ev.Source's alerts: alerts it no longer lists turn
// resolved. A Delta upserts. Per fingerprint the newest UpdatedAt wins; an event that
// changes nothing sends nothing. Publish never waits for a client: a client whose
// queue is full is disconnected and will resume. It takes copies of ev's alerts.
func (s *Server) Publish(ev datasource.AlertEvent) {
	now := s.clk.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	src := s.sources[ev.Source]
	if src == nil {
		src = &sourceAlerts{alerts: map[string]*entry{}}
		s.sources[ev.Source] = src
	}
	var (
		changed []wireAlert
		index   = map[string]int{}
		seen    map[string]bool
	)
	if ev.Kind == datasource.Snapshot {
		seen = make(map[string]bool, len(ev.Alerts))
	}
	record := func(a datasource.Alert) {
		if i, ok := index[a.Fingerprint]; ok {
			changed[i] = toWire(a)
			return
		}
		index[a.Fingerprint] = len(changed)
		changed = append(changed, toWire(a))
	}
	for _, a := range ev.Alerts {
		if a.Fingerprint == "" {
			continue
		}
		if seen != nil {
			seen[a.Fingerprint] = true
		}
		a.Source = ev.Source
		a = sanitize(a)
		old := src.alerts[a.Fingerprint]
		if old != nil && (!newer(old.alert, a) || alertEqual(old.alert, a)) {
			continue
		}
		e := &entry{alert: cloneAlert(a)}
		if a.State == datasource.StateResolved {
			e.resolvedAt = now
			if old != nil && !old.resolvedAt.IsZero() {
				e.resolvedAt = old.resolvedAt
			}
		}
		src.alerts[a.Fingerprint] = e
		record(e.alert)
	}
	if seen != nil { // gone from the source's full list: resolved now
		for fp, e := range src.alerts {
			if seen[fp] || e.alert.State == datasource.StateResolved {
				continue
			}
			a := e.alert
			a.State = datasource.StateResolved
			if a.EndsAt.IsZero() || a.EndsAt.After(now) {
				a.EndsAt = now
			}
			if a.UpdatedAt.Before(now) {
				a.UpdatedAt = now
			}
			src.alerts[fp] = &entry{alert: a, resolvedAt: now}
			record(a)
		}
	}
	trunc := s.truncated - src.truncated + max(ev.Truncated, 0)
	src.truncated = max(ev.Truncated, 0)
	if len(changed) == 0 && trunc == s.truncated {
		return
	}
	s.truncated = trunc
	s.broadcastLocked(outMsg{Type: typeDelta, Alerts: changed})
}

// sanitize makes an alert encodable without loss: invalid UTF-8 replaced (JSON would
// do it on the wire anyway, and the state must equal what clients see), times outside
// years 0–9999 dropped (JSON cannot carry them).
func sanitize(a datasource.Alert) datasource.Alert {
	fixMap := func(m map[string]string) map[string]string {
		ok := true
		for k, v := range m {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				ok = false
				break
			}
		}
		if ok {
			return m
		}
		out := make(map[string]string, len(m))
		for k, v := range m {
			out[strings.ToValidUTF8(k, "\uFFFD")] = strings.ToValidUTF8(v, "\uFFFD")
		}
		return out
	}
	fixStr := func(s string) string {
		if utf8.ValidString(s) {
			return s
		}
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	fixTime := func(t time.Time) time.Time {
		if y := t.Year(); y < 0 || y > 9999 {
			return time.Time{}
		}
		return t
	}
	a.Fingerprint, a.Source, a.GeneratorURL = fixStr(a.Fingerprint), fixStr(a.Source), fixStr(a.GeneratorURL)
	a.Labels, a.Annotations = fixMap(a.Labels), fixMap(a.Annotations)
	a.StartsAt, a.EndsAt, a.UpdatedAt = fixTime(a.StartsAt), fixTime(a.EndsAt), fixTime(a.UpdatedAt)
	fixIDs := func(ids []string) []string {
		if !slices.ContainsFunc(ids, func(id string) bool { return !utf8.ValidString(id) }) {
			return ids
		}
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = fixStr(id)
		}
		return out
	}
	a.SilencedBy, a.InhibitedBy = fixIDs(a.SilencedBy), fixIDs(a.InhibitedBy)
	a.State = datasource.AlertState(fixStr(string(a.State)))
	switch a.State {
	case datasource.StateFiring, datasource.StateSuppressed, datasource.StateResolved:
	default:
		a.State = datasource.StateFiring // clients refuse unknown states; an alert is firing unless told otherwise
	}
	return a
}

// broadcastLocked numbers m, keeps it for resuming clients and queues it for every
// client, dropping those whose queue is full.
func (s *Server) broadcastLocked(m outMsg) {
	s.seq++
	m.Seq = s.seq
	m.Truncated = s.truncated
	data, err := encodeMsg(m)
	if err != nil { // cannot happen after sanitize; never send a hole in the sequence
		s.log.Error("stream: encode delta", "seq", s.seq, "err", err)
		data = []byte(`{"v":1,"type":"delta","seq":` + strconv.FormatUint(s.seq, 10) + `,"alerts":[],"truncated":` + strconv.Itoa(s.truncated) + `}`)
	}
	pm, _ := websocket.NewPreparedMessage(websocket.TextMessage, data) // fails only with compression
	s.ring[int(s.seq%uint64(len(s.ring)))] = pm
	s.ringCount = min(s.ringCount+1, len(s.ring))
	s.active = true
	s.fanOutLocked(pm)
}

func (s *Server) fanOutLocked(pm *websocket.PreparedMessage) {
	for p := range s.peers {
		if p.dropped {
			continue
		}
		select {
		case p.queue <- pm:
		default:
			s.dropLocked(p, websocket.CloseTryAgainLater, "send queue full; resume with since=")
			s.dropped.Add(1)
			s.metrics.slowClientDropped()
			s.log.Warn("stream: slow client dropped", "remote", p.remote, "queue", cap(p.queue))
		}
	}
}

// dropLocked stops sending to p and tells its writer to close with code.
func (s *Server) dropLocked(p *peer, code int, text string) {
	if p.dropped {
		return
	}
	p.dropped = true
	p.kickCode, p.kickText = code, text
	close(p.kick)
	s.metrics.clientConnected(-1)
}

// ServeHTTP authenticates, checks the origin, upgrades, and serves one client until it
// goes: the handler goroutine is the connection's reader, and a second one its writer.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	closed := s.closed
	if !closed {
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if closed {
		http.Error(w, "relay shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.log.Debug("stream: upgrade failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	p := &peer{
		ws: ws, remote: r.RemoteAddr,
		queue: make(chan *websocket.PreparedMessage, s.opts.SendQueue),
		ping:  make(chan struct{}, 1), pong: make(chan string, 1), kick: make(chan struct{}),
		readerDone: make(chan struct{}), writerDone: make(chan struct{}),
	}
	p.lastRead.Store(s.elapsed())
	since, epoch, resume := parseResume(r)
	if !s.register(p, since, epoch, resume) {
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "relay shutting down"), wallDeadline(s.opts.WriteTimeout))
		_ = ws.Close()
		return
	}
	s.log.Debug("stream: client connected", "remote", p.remote, "resume", resume, "since", since, "snapshot", p.needSnap || p.snapData != nil, "backlog", len(p.backlog))
	go s.writeLoop(p)
	s.readLoop(p)
	close(p.readerDone)
	<-p.writerDone
	_ = ws.Close()
	s.mu.Lock()
	delete(s.peers, p)
	if !p.dropped {
		p.dropped = true
		s.metrics.clientConnected(-1)
	}
	s.mu.Unlock()
	s.log.Debug("stream: client disconnected", "remote", p.remote)
}

// parseResume reads ?since=N&epoch=E; a missing or unreadable since asks for a snapshot.
func parseResume(r *http.Request) (since uint64, epoch string, ok bool) {
	q := r.URL.Query()
	v := q.Get("since")
	if v == "" {
		return 0, "", false
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, "", false
	}
	return n, q.Get("epoch"), true
}

// register decides what p gets first (nothing, the deltas after since, or a snapshot)
// and subscribes it, atomically with respect to Publish: no delta is missed or doubled.
func (s *Server) register(p *peer, since uint64, epoch string, resume bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	sameStream := resume && (epoch == "" || epoch == s.epoch)
	switch {
	case sameStream && since == s.seq:
	case sameStream && since < s.seq && s.seq-since <= uint64(s.ringCount):
		p.backlog = make([]*websocket.PreparedMessage, 0, s.seq-since)
		for q := since + 1; q <= s.seq; q++ {
			p.backlog = append(p.backlog, s.ring[int(q%uint64(len(s.ring)))])
		}
		p.resumeFrom = since
	default:
		if s.snap.ok && s.snap.seq == s.seq {
			p.snapData = s.snap.data
		} else {
			p.needSnap = true
			p.snapSeq, p.snapTrunc = s.seq, s.truncated
			p.snapAlerts = s.alertsLocked()
		}
	}
	s.peers[p] = struct{}{}
	s.metrics.clientConnected(1)
	return true
}

func (s *Server) alertsLocked() []datasource.Alert {
	n := 0
	for _, src := range s.sources {
		n += len(src.alerts)
	}
	out := make([]datasource.Alert, 0, n)
	for _, src := range s.sources {
		for _, e := range src.alerts {
			out = append(out, e.alert)
		}
	}
	return out
}

// snapshotData encodes p's snapshot outside the lock, and caches it for the next
// client that connects while nothing has changed.
func (s *Server) snapshotData(p *peer) []byte {
	if p.snapData != nil {
		return p.snapData
	}
	sortAlerts(p.snapAlerts)
	wire := make([]wireAlert, len(p.snapAlerts))
	for i, a := range p.snapAlerts {
		wire[i] = toWire(a)
	}
	data, err := encodeMsg(outMsg{Type: typeSnapshot, Seq: p.snapSeq, Epoch: s.epoch, Alerts: wire, Truncated: p.snapTrunc})
	if err != nil {
		s.log.Error("stream: encode snapshot", "err", err)
		return nil
	}
	p.snapAlerts = nil
	s.mu.Lock()
	if !s.snap.ok || s.snap.seq < p.snapSeq {
		s.snap.ok, s.snap.seq, s.snap.data = true, p.snapSeq, data
	}
	s.mu.Unlock()
	return data
}

// writeLoop is p's only writer: the snapshot or backlog, then the queue, pings and
// pongs, until kicked or the reader ends. Each write is watched by Run's watchdog.
func (s *Server) writeLoop(p *peer) {
	defer close(p.writerDone)
	defer p.ws.Close() // a failed writer ends the reader too
	if p.needSnap || p.snapData != nil {
		data := s.snapshotData(p)
		if data == nil || !s.write(p, func() error { return p.ws.WriteMessage(websocket.TextMessage, data) }) {
			return
		}
		p.snapData = nil
	}
	for i, pm := range p.backlog {
		if s.kicked(p) || !s.write(p, func() error { return p.ws.WritePreparedMessage(pm) }) {
			return
		}
		p.backlog[i] = nil
	}
	p.backlog = nil
	for {
		if s.kicked(p) {
			return
		}
		select {
		case pm := <-p.queue:
			if !s.write(p, func() error { return p.ws.WritePreparedMessage(pm) }) {
				return
			}
		case <-p.ping:
			if !s.control(p, websocket.PingMessage, nil) {
				return
			}
		case data := <-p.pong:
			if !s.control(p, websocket.PongMessage, []byte(data)) {
				return
			}
		case <-p.kick:
		case <-p.readerDone:
			return
		}
	}
}

// kicked reports whether p was dropped, and if so sends it the close frame.
func (s *Server) kicked(p *peer) bool {
	select {
	case <-p.kick:
	default:
		return false
	}
	_ = p.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(p.kickCode, p.kickText), wallDeadline(s.opts.WriteTimeout))
	return true
}

func (s *Server) write(p *peer, f func() error) bool {
	p.writeSince.Store(s.elapsed())
	err := f()
	p.writeSince.Store(0)
	if err != nil {
		s.log.Debug("stream: write failed", "remote", p.remote, "err", err)
		return false
	}
	s.sent.Add(1)
	s.metrics.messageSent()
	return true
}

func (s *Server) control(p *peer, typ int, data []byte) bool {
	p.writeSince.Store(s.elapsed())
	err := p.ws.WriteControl(typ, data, time.Time{}) // bounded by the watchdog
	p.writeSince.Store(0)
	return err == nil
}

// readLoop reads until the connection ends, discarding anything but control frames:
// clients have nothing to say. Oversized frames end the connection with 1009.
func (s *Server) readLoop(p *peer) {
	ws := p.ws
	ws.SetReadLimit(s.opts.ReadLimit)
	ws.SetPongHandler(func(string) error {
		p.lastRead.Store(s.elapsed())
		return nil
	})
	ws.SetPingHandler(func(data string) error {
		p.lastRead.Store(s.elapsed())
		select { // the writer answers; an unanswered older ping is superseded
		case <-p.pong:
		default:
		}
		select {
		case p.pong <- data:
		default:
		}
		return nil
	})
	for {
		_, r, err := ws.NextReader()
		if err == nil {
			p.lastRead.Store(s.elapsed())
			_, err = io.Copy(io.Discard, r)
			if err == nil {
				s.metrics.badMessage("relay", "client_data", 1)
				continue
			}
		}
		if errors.Is(err, websocket.ErrReadLimit) {
			s.metrics.badMessage("relay", reasonTooBig, 1)
			s.log.Warn("stream: client sent a frame over the read limit; closed with 1009", "remote", p.remote, "limit", s.opts.ReadLimit)
		}
		return
	}
}

// authenticate returns why r may not connect, or "". Browsers cannot set headers on a
// websocket, so without an Authorization header the token may come as ?token=.
func (s *Server) authenticate(r *http.Request) string {
	if s.tokens.Empty() {
		return ""
	}
	tok := wsauth.Bearer(r)
	if r.Header.Get("Authorization") == "" {
		tok = r.URL.Query().Get("token")
	}
	return s.tokens.Check(tok)
}

func (s *Server) originAllowed(r *http.Request) bool {
	return wsauth.OriginAllowed(r, s.opts.AllowedOrigins)
}

func (s *Server) refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	s.authFails.Add(1)
	s.metrics.authFailure(reason)
	s.log.Warn("stream: connection refused", "remote", r.RemoteAddr, "status", status, "reason", reason)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="opscockpit relay"`)
	}
	msg := http.StatusText(status)
	if reason == "subprotocol" {
		msg = "unsupported stream protocol; this relay speaks " + Subprotocol
	}
	http.Error(w, msg, status)
}

// Run pings clients, disconnects silent ones and stuck writes, sends heartbeats on an
// idle stream and expires resolved alerts, until ctx ends; then it closes the server.
func (s *Server) Run(ctx context.Context) {
	ping := s.clk.NewTicker(s.opts.PingInterval)
	defer ping.Stop()
	hb := s.clk.NewTicker(s.opts.HeartbeatInterval)
	defer hb.Stop()
	wd := s.clk.NewTicker(max(s.opts.WriteTimeout/2, time.Millisecond))
	defer wd.Stop()
	for {
		select {
		case <-ctx.Done():
			s.Close()
			return
		case <-ping.C():
			s.pingAll()
		case <-hb.C():
			s.tick()
		case <-wd.C():
			s.watchWrites()
		}
	}
}

func (s *Server) pingAll() {
	now := s.elapsed()
	s.mu.Lock()
	defer s.mu.Unlock()
	for p := range s.peers {
		if time.Duration(now-p.lastRead.Load()) > s.opts.PongWait {
			s.metrics.timeout("pong")
			s.log.Info("stream: client silent past the pong wait; disconnecting", "remote", p.remote, "pong_wait", s.opts.PongWait)
			_ = p.ws.Close()
			continue
		}
		select {
		case p.ping <- struct{}{}:
		default:
		}
	}
}

func (s *Server) watchWrites() {
	now := s.elapsed()
	s.mu.Lock()
	defer s.mu.Unlock()
	for p := range s.peers {
		if since := p.writeSince.Load(); since != 0 && time.Duration(now-since) > s.opts.WriteTimeout {
			s.metrics.timeout("write")
			s.log.Info("stream: write to client timed out; disconnecting", "remote", p.remote, "timeout", s.opts.WriteTimeout)
			_ = p.ws.Close()
		}
	}
}

// tick expires resolved alerts (sent as removals) or, on an idle stream, heartbeats.
func (s *Server) tick() {
	now := s.clk.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var removed []wireKey
	for name, src := range s.sources {
		for fp, e := range src.alerts {
			if !e.resolvedAt.IsZero() && !now.Before(e.resolvedAt.Add(s.opts.ResolvedRetention)) {
				delete(src.alerts, fp)
				removed = append(removed, wireKey{Source: name, Fingerprint: fp})
			}
		}
	}
	switch {
	case len(removed) > 0:
		slices.SortFunc(removed, func(a, b wireKey) int {
			if c := strings.Compare(a.Source, b.Source); c != 0 {
				return c
			}
			return strings.Compare(a.Fingerprint, b.Fingerprint)
		})
		s.broadcastLocked(outMsg{Type: typeDelta, Removed: removed})
	case !s.active && len(s.peers) > 0:
		pm, _ := websocket.NewPreparedMessage(websocket.TextMessage, encodeHeartbeat(s.seq))
		s.fanOutLocked(pm)
	}
	s.active = false
}

// Close disconnects every client (1001) and refuses new ones, waiting for their
// handlers to finish; writes stuck longer than WriteTimeout are cut.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for p := range s.peers {
		s.dropLocked(p, websocket.CloseGoingAway, "relay shutting down")
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
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

// ServerStats is a server's condition at one instant.
type ServerStats struct {
	Clients            int    `json:"clients"`
	Seq                uint64 `json:"seq"`
	Alerts             int    `json:"alerts"`
	Truncated          int    `json:"truncated"`
	History            int    `json:"history"` // deltas held for resuming clients
	MessagesSent       uint64 `json:"messagesSent"`
	SlowClientsDropped uint64 `json:"slowClientsDropped"`
	AuthFailures       uint64 `json:"authFailures"`
}

// Stats reports the server's condition.
func (s *Server) Stats() ServerStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := ServerStats{Seq: s.seq, Truncated: s.truncated, History: s.ringCount,
		MessagesSent: s.sent.Load(), SlowClientsDropped: s.dropped.Load(), AuthFailures: s.authFails.Load()}
	for p := range s.peers {
		if !p.dropped {
			st.Clients++
		}
	}
	for _, src := range s.sources {
		st.Alerts += len(src.alerts)
	}
	return st
}

// Handler serves the stream at DefaultPath and the server's Stats as JSON at /healthz
// (no secrets in it: counts only).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(DefaultPath, s)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.Stats())
	})
	return mux
}
