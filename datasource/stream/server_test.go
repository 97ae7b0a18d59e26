package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
)

func TestRoundTrip(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	srv.Publish(datasource.AlertEvent{Kind: datasource.Snapshot, Source: "am", Truncated: 4, Alerts: []datasource.Alert{
		mkAlert("a", datasource.StateFiring, 0), mkAlert("b", datasource.StateSuppressed, 0), mkAlert("c", datasource.StateFiring, 0),
	}})
	cl := newTestClient(t, srv.url, ClientOptions{})
	sub, err := cl.Subscribe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	con := consume(t, sub)
	waitConverged(t, 5*time.Second, con, srv.Server)

	srv.Publish(datasource.AlertEvent{Kind: datasource.Delta, Source: "am", Truncated: 4, Alerts: []datasource.Alert{
		mkAlert("a", datasource.StateResolved, time.Minute), // newer: wins
		mkAlert("b", datasource.StateFiring, -time.Minute),  // older: ignored
		mkAlert("d", datasource.StateFiring, time.Minute),
	}})
	srv.Publish(datasource.AlertEvent{Kind: datasource.Delta, Source: "wh", Alerts: []datasource.Alert{mkAlert("a", datasource.StateFiring, 0)}})
	// A full list from "am" without "c": c turns resolved.
	srv.Publish(datasource.AlertEvent{Kind: datasource.Snapshot, Source: "am", Truncated: 1, Alerts: []datasource.Alert{
		mkAlert("a", datasource.StateResolved, time.Minute), mkAlert("b", datasource.StateSuppressed, 0), mkAlert("d", datasource.StateFiring, time.Minute),
	}})
	srv.Publish(datasource.AlertEvent{Kind: datasource.Delta, Source: "am", Truncated: 1, Alerts: []datasource.Alert{mkAlert("d", datasource.StateFiring, time.Minute)}}) // no change
	waitConverged(t, 5*time.Second, con, srv.Server)

	state := srv.state()
	if c := state[alertKey{"am", "c"}]; c.State != datasource.StateResolved {
		t.Fatalf("c missing from the source's snapshot should be resolved, is %q", c.State)
	}
	if b := state[alertKey{"am", "b"}]; b.State != datasource.StateSuppressed {
		t.Fatalf("older update of b won: %q", b.State)
	}
	if got := srv.Stats().Seq; got != 4 { // the unchanged re-publish cost nothing
		t.Fatalf("seq = %d, want 4", got)
	}
	waitFor(t, 5*time.Second, "truncated", func() bool { con.mu.Lock(); defer con.mu.Unlock(); return con.truncated == 1 })
	_, snaps, deltas := con.snapshot()
	if snaps != 1 || deltas < 1 || deltas > 3 { // deltas arriving together may be merged
		t.Fatalf("events: %d snapshots, %d deltas; want 1 and 1–3", snaps, deltas)
	}
	if h := cl.Health(); h.State != datasource.HealthUp || h.Kind != "stream" || h.Source != "relay" {
		t.Fatalf("health %+v", h)
	}
}

// rawDial connects without the Client, to look at the protocol itself.
func rawDial(t *testing.T, url string, header http.Header) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{Subprotocol}}
	ws, resp, err := d.Dial(url, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (HTTP %d)", err, status)
	}
	t.Cleanup(func() { ws.Close() })
	if ws.Subprotocol() != Subprotocol {
		t.Fatalf("subprotocol %q", ws.Subprotocol())
	}
	return ws
}

type rawMsg struct {
	V      int         `json:"v"`
	Type   string      `json:"type"`
	Seq    uint64      `json:"seq"`
	Epoch  string      `json:"epoch"`
	Alerts []wireAlert `json:"alerts"`
}

func readRaw(t *testing.T, ws *websocket.Conn, timeout time.Duration) (rawMsg, error) {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(timeout))
	_, data, err := ws.ReadMessage()
	if err != nil {
		return rawMsg{}, err
	}
	var m rawMsg
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("bad message from server %s: %v", data, err)
	}
	if m.V != ProtocolVersion {
		t.Fatalf("message without v=1: %s", data)
	}
	return m, nil
}

func TestResume(t *testing.T) {
	tests := []struct {
		name      string
		query     string // %s: the relay's epoch
		wantType  string
		wantSeqs  []uint64
		wantCount int // alerts in a snapshot
	}{
		{"no since: snapshot", "", typeSnapshot, []uint64{10}, 10},
		{"deltas after since", "?since=4&epoch=%s", typeDelta, []uint64{5, 6, 7, 8, 9, 10}, 0},
		{"since without epoch", "?since=7", typeDelta, []uint64{8, 9, 10}, 0},
		{"up to date: nothing", "?since=10&epoch=%s", "", nil, 0},
		{"older than the ring: snapshot", "?since=1&epoch=%s", typeSnapshot, []uint64{10}, 10},
		{"another relay's epoch: snapshot", "?since=4&epoch=0123456789abcdef", typeSnapshot, []uint64{10}, 10},
		{"ahead of the relay (restarted): snapshot", "?since=99", typeSnapshot, []uint64{10}, 10},
		{"unreadable since: snapshot", "?since=x", typeSnapshot, []uint64{10}, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, ServerOptions{History: 8, HeartbeatInterval: time.Hour})
			for i := range 10 {
				srv.Publish(datasource.AlertEvent{Kind: datasource.Delta, Source: "am", Alerts: []datasource.Alert{mkAlert(fmt.Sprint(i), datasource.StateFiring, 0)}})
			}
			query := tc.query
			if strings.Contains(query, "%s") {
				query = fmt.Sprintf(query, srv.epoch)
			}
			ws := rawDial(t, srv.url+query, nil)
			for i, want := range tc.wantSeqs {
				m, err := readRaw(t, ws, 5*time.Second)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if m.Type != tc.wantType || m.Seq != want {
					t.Fatalf("message %d: %s %d, want %s %d", i, m.Type, m.Seq, tc.wantType, want)
				}
				if m.Type == typeSnapshot && (len(m.Alerts) != tc.wantCount || m.Epoch != srv.epoch) {
					t.Fatalf("snapshot with %d alerts, epoch %q", len(m.Alerts), m.Epoch)
				}
			}
			// Exactly these: the next message is the next live delta, nothing in between.
			srv.Publish(datasource.AlertEvent{Kind: datasource.Delta, Source: "am", Alerts: []datasource.Alert{mkAlert("live", datasource.StateFiring, 0)}})
			m, err := readRaw(t, ws, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if m.Type != typeDelta || m.Seq != 11 || len(m.Alerts) != 1 || m.Alerts[0].Fingerprint != "live" {
				t.Fatalf("after the catch-up: %+v, want the live delta 11", m)
			}
		})
	}
}

func TestClientResumesWithoutGapsOrDuplicates(t *testing.T) {
	reg, m := newRegistry()
	srv := startServer(t, ServerOptions{Metrics: m})
	cl := newTestClient(t, srv.url, ClientOptions{Metrics: m})
	sub, _ := cl.Subscribe(context.Background())
	con := consume(t, sub)
	srv.Publish(datasource.AlertEvent{Kind: datasource.Snapshot, Source: "am", Alerts: []datasource.Alert{mkAlert("a", datasource.StateFiring, 0)}})
	waitConverged(t, 5*time.Second, con, srv.Server)
	for round := range 5 {
		srv.kickAll()
		for i := range 20 {
			srv.Publish(datasource.AlertEvent{Kind: datasource.Delta, Source: "am", Alerts: []datasource.Alert{
				mkAlert(fmt.Sprint("r", round, "-", i%7), datasource.StateFiring, time.Duration(i)*time.Second),
			}})
		}
		waitConverged(t, 5*time.Second, con, srv.Server)
	}
	_, snaps, _ := con.snapshot()
	if snaps != 1 {
		t.Errorf("%d snapshots: a resumed stream must continue with deltas", snaps)
	}
	for _, kind := range []string{"gap", "duplicate"} {
		if n := value(m.seqErrors.WithLabelValues("relay", kind)); n != 0 {
			t.Errorf("%s count = %v", kind, n)
		}
	}
	if n := value(m.reconnects.WithLabelValues("relay")); n < 5 {
		t.Errorf("reconnects = %v, want ≥ 5", n)
	}
	if !strings.Contains(dump(reg), "opscockpit_stream_reconnects_total") {
		t.Error("reconnects not registered")
	}
}

func TestResolvedAlertsExpire(t *testing.T) {
	fc := clock.NewFake(t0)
	srv := startServer(t, ServerOptions{Clock: fc, PingInterval: time.Hour, HeartbeatInterval: 15 * time.Second})
	fc.BlockUntil(3) // Run's tickers
	srv.Publish(datasource.AlertEvent{Kind: datasource.Delta, Source: "am", Alerts: []datasource.Alert{
		mkAlert("gone", datasource.StateResolved, 0), mkAlert("stays", datasource.StateFiring, 0),
	}})
	cl := newTestClient(t, srv.url, ClientOptions{})
	sub, _ := cl.Subscribe(context.Background())
	con := consume(t, sub)
	waitConverged(t, 5*time.Second, con, srv.Server)

	fc.Advance(4 * time.Minute)
	if _, ok := srv.state()[alertKey{"am", "gone"}]; !ok {
		t.Fatal("resolved alert dropped before 5 minutes")
	}
	fc.Advance(90 * time.Second)
	waitFor(t, 5*time.Second, "expiry", func() bool { _, ok := srv.state()[alertKey{"am", "gone"}]; return !ok })
	waitConverged(t, 5*time.Second, con, srv.Server)
	if len(srv.state()) != 1 {
		t.Fatalf("state %v", srv.state())
	}
}

func TestHeartbeatWhenIdle(t *testing.T) {
	fc := clock.NewFake(t0)
	srv := startServer(t, ServerOptions{Clock: fc, PingInterval: time.Hour, HeartbeatInterval: 10 * time.Second})
	fc.BlockUntil(3)
	srv.Publish(datasource.AlertEvent{Kind: datasource.Delta, Source: "am", Alerts: []datasource.Alert{mkAlert("a", datasource.StateFiring, 0)}})
	ws := rawDial(t, srv.url, nil)
	if m, err := readRaw(t, ws, 5*time.Second); err != nil || m.Type != typeSnapshot {
		t.Fatalf("%+v %v", m, err)
	}
	fc.Advance(10 * time.Second) // a delta went out in this interval: no heartbeat yet
	waitFor(t, 5*time.Second, "first tick", func() bool { srv.mu.Lock(); defer srv.mu.Unlock(); return !srv.active })
	fc.Advance(10 * time.Second)
	m, err := readRaw(t, ws, 5*time.Second)
	if err != nil || m.Type != typeHeartbeat || m.Seq != 1 {
		t.Fatalf("want heartbeat at seq 1, got %+v %v", m, err)
	}
}

func TestOriginTokenAndSubprotocol(t *testing.T) {
	const token = "sentinel-relay-token-6f1d"
	logs := &syncBuffer{}
	reg, m := newRegistry()
	srv := startServer(t, ServerOptions{Tokens: []string{"", token}, AllowedOrigins: []string{"https://cockpit.example"}, Metrics: m, Log: testLogger(logs)})
	bearer := http.Header{"Authorization": {"Bearer " + token}}
	withOrigin := func(h http.Header, origin string) http.Header {
		h = h.Clone()
		h.Set("Origin", origin)
		return h
	}
	tests := []struct {
		name   string
		query  string
		header http.Header
		protos []string
		status int // 0: upgraded
	}{
		{"no token", "", nil, nil, http.StatusUnauthorized},
		{"empty bearer", "", http.Header{"Authorization": {"Bearer "}}, nil, http.StatusUnauthorized},
		{"wrong token", "", http.Header{"Authorization": {"Bearer wrong-" + token}}, nil, http.StatusUnauthorized},
		{"token prefix", "", http.Header{"Authorization": {"Bearer " + token[:10]}}, nil, http.StatusUnauthorized},
		{"basic scheme", "", http.Header{"Authorization": {"Basic " + token}}, nil, http.StatusUnauthorized},
		{"bearer token", "", bearer, nil, 0},
		{"token in query (browsers)", "?token=" + token, nil, nil, 0},
		{"wrong origin", "", withOrigin(bearer, "https://evil.example"), nil, http.StatusForbidden},
		{"origin lookalike", "", withOrigin(bearer, "https://cockpit.example.evil"), nil, http.StatusForbidden},
		{"allowed origin", "", withOrigin(bearer, "https://cockpit.example"), nil, 0},
		{"other subprotocol", "", bearer, []string{"chat"}, http.StatusBadRequest},
		{"no subprotocol offered", "", bearer, []string{}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			protos := tc.protos
			if protos == nil {
				protos = []string{Subprotocol}
			}
			d := websocket.Dialer{Subprotocols: protos}
			ws, resp, err := d.Dial(srv.url+tc.query, tc.header)
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				ws.Close()
				return
			}
			if err == nil {
				ws.Close()
				t.Fatal("upgraded")
			}
			if resp == nil || resp.StatusCode != tc.status {
				t.Fatalf("response %v, want %d", resp, tc.status)
			}
			if tc.status == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	if n := value(m.authFailures.WithLabelValues("invalid_token")); n != 2 {
		t.Errorf("invalid_token failures = %v", n)
	}
	if n := value(m.authFailures.WithLabelValues("origin")); n != 2 {
		t.Errorf("origin failures = %v", n)
	}

	// S1: a client with the wrong token fails visibly, and no token shows anywhere.
	const clientToken = "sentinel-client-token-93ab"
	clientLogs := &syncBuffer{}
	cl := newTestClient(t, srv.url+"?token="+clientToken+"x", ClientOptions{Token: clientToken, Metrics: m, Log: testLogger(clientLogs)})
	sub, _ := cl.Subscribe(context.Background())
	consume(t, sub)
	waitFor(t, 5*time.Second, "unauthorized health", func() bool { return strings.Contains(cl.Health().LastError, "401") })
	sub.Close()
	all := logs.String() + clientLogs.String() + cl.Health().LastError + dump(reg)
	for _, secret := range []string{token, clientToken} {
		if strings.Contains(all, secret) {
			t.Fatalf("secret %q leaked into logs, health or metrics:\n%s", secret, all)
		}
	}
	if !strings.Contains(clientLogs.String(), "401") {
		t.Errorf("the client's log does not say why: %s", clientLogs.String())
	}
}

func TestServerReadLimit(t *testing.T) {
	reg, m := newRegistry()
	_ = reg
	srv := startServer(t, ServerOptions{ReadLimit: 512, Metrics: m})
	ws := rawDial(t, srv.url, nil)
	if _, err := readRaw(t, ws, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("small talk")); err != nil { // ignored
		t.Fatal(err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	err := waitClosed(ws)
	if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Fatalf("want close 1009, got %v", err)
	}
	waitFor(t, 5*time.Second, "bad message counted", func() bool {
		return value(m.badMessages.WithLabelValues("relay", reasonTooBig)) == 1
	})
}

func TestSlowClientDropped(t *testing.T) {
	_, m := newRegistry()
	srv := startServer(t, ServerOptions{SendQueue: 64, Metrics: m, HeartbeatInterval: time.Hour}, smallSendBuffers)
	srv.Publish(datasource.AlertEvent{Kind: datasource.Delta, Source: "am", Alerts: []datasource.Alert{mkAlert("seed", datasource.StateFiring, 0)}})

	// The slow client: a tiny receive buffer and it never reads.
	d := websocket.Dialer{Subprotocols: []string{Subprotocol}, NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			_ = c.(*net.TCPConn).SetReadBuffer(4 << 10)
		}
		return c, err
	}}
	slow, _, err := d.Dial(srv.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()

	const fast, n = 20, 300
	var wg sync.WaitGroup
	errs := make(chan error, fast)
	ready := make(chan struct{}, fast)
	for range fast {
		ws := rawDial(t, srv.url, nil)
		wg.Go(func() {
			if m, err := readRaw(t, ws, 10*time.Second); err != nil || m.Type != typeSnapshot {
				errs <- fmt.Errorf("first: %+v %v", m, err)
				return
			}
			ready <- struct{}{}
			for want := uint64(2); want <= n+1; want++ {
				m, err := readRaw(t, ws, 10*time.Second)
				if err != nil || m.Seq != want {
					errs <- fmt.Errorf("want seq %d, got %+v %v", want, m, err)
					return
				}
			}
		})
	}
	for range fast {
		select {
		case <-ready:
		case err := <-errs:
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "all clients registered", func() bool { return srv.Stats().Clients == fast+1 })

	big := strings.Repeat("x", 4<<10)
	var worst time.Duration
	start := time.Now()
	for i := range n {
		a := mkAlert(fmt.Sprint("f", i%50), datasource.StateFiring, time.Duration(i+1)*time.Second)
		a.Annotations["description"] = big
		t0 := time.Now()
		srv.Publish(datasource.AlertEvent{Kind: datasource.Delta, Source: "am", Alerts: []datasource.Alert{a}})
		worst = max(worst, time.Since(t0))
		time.Sleep(time.Millisecond) // ~1,000 deltas/s, the P9 rate
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	t.Logf("%d fast clients got %d deltas each in %s; slowest Publish %s", fast, n, elapsed, worst)
	// Blocking on the slow client would last until the end of the test (it reads
	// nothing until then); the bar leaves room for -race and GC pauses on 2 cores.
	if worst > time.Second {
		t.Errorf("Publish blocked for %s", worst)
	}
	st := srv.Stats()
	if st.SlowClientsDropped != 1 || value(m.slowDropped) != 1 {
		t.Fatalf("slow clients dropped = %d", st.SlowClientsDropped)
	}
	if st.Clients != fast {
		t.Fatalf("clients = %d, want %d", st.Clients, fast)
	}
	// The slow client, reading at last, finds its queue's worth and then 1013.
	_ = slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := waitClosed(slow); !websocket.IsCloseError(err, websocket.CloseTryAgainLater) {
		t.Fatalf("slow client: want close 1013, got %v", err)
	}
}

func TestConcurrentPublish(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	var cons []*consumer
	for range 3 {
		cl := newTestClient(t, srv.url, ClientOptions{Buffer: 2}) // tiny buffer: coalescing exercised
		sub, _ := cl.Subscribe(context.Background())
		cons = append(cons, consume(t, sub))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			src := []string{"am", "wh"}[g%2]
			for i := range 150 {
				a := mkAlert(fmt.Sprint(i%13), []datasource.AlertState{datasource.StateFiring, datasource.StateResolved, datasource.StateSuppressed}[i%3], time.Duration(g*1000+i)*time.Millisecond)
				kind := datasource.Delta
				if i%25 == 24 {
					kind = datasource.Snapshot
				}
				srv.Publish(datasource.AlertEvent{Kind: kind, Source: src, Alerts: []datasource.Alert{a}, Truncated: i % 4})
				if i%40 == 0 {
					srv.kickAll()
				}
			}
		})
	}
	wg.Wait()
	for _, c := range cons {
		waitConverged(t, 10*time.Second, c, srv.Server)
	}
}

func TestCloseDisconnectsClients(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	ws := rawDial(t, srv.url, nil)
	if _, err := readRaw(t, ws, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := waitClosed(ws); !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("want 1001, got %v", err)
	}
	_, resp, err := (&websocket.Dialer{}).Dial(srv.url, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("after Close: %v %v", resp, err)
	}
	if !errors.Is(err, websocket.ErrBadHandshake) {
		t.Fatal(err)
	}
}

type tlog struct{ t *testing.T }

func (l tlog) Write(p []byte) (int, error) { l.t.Log(string(p)); return len(p), nil }
