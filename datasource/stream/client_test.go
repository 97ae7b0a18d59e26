package stream

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
)

func TestNewClientRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"http://relay/stream", "relay:9443", "ws://", "wss://%zz", ""} {
		if _, err := NewClient(ClientOptions{Name: "r", URL: u}); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
	_, err := NewClient(ClientOptions{Name: "r", URL: "ws://user:hunter2-secret@%zz"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v", err)
	}
}

// A4: every kind of malformed message is counted and skipped; the stream stays up and
// the next good message arrives.
func TestMalformedMessagesSkipped(t *testing.T) {
	huge := strings.Repeat("h", maxLabelValueBytes+1)
	longGarbage := strings.Repeat("garbage ", 2000)
	bad := []struct {
		reason string
		frame  func(ws *websocket.Conn) error
	}{
		{reasonInvalidJSON, text(`{"v":1,"type":"delta","seq":2,`)},
		{reasonInvalidJSON, text(longGarbage)},
		{reasonWrongType, text(`{"v":1,"type":"delta","seq":"2","alerts":[]}`)},
		{reasonWrongType, text(`{"v":1,"type":"delta","seq":2,"alerts":[{"fingerprint":7}]}`)},
		{reasonUnknownVersion, text(`{"v":2,"type":"delta","seq":2,"alerts":[]}`)},
		{reasonUnknownVersion, text(`{"type":"delta","seq":2,"alerts":[]}`)},
		{reasonUnknownType, text(`{"v":1,"type":"rumour","seq":2}`)},
		{reasonMissingField, text(`{"v":1,"type":"delta","alerts":[]}`)},
		{reasonInvalidUTF8, text("{\"v\":1,\"type\":\"delta\",\"seq\":2,\"alerts\":[{\"fingerprint\":\"x\",\"state\":\"firing\",\"labels\":{\"a\":\"\xc3\x28\"}}]}")},
		{reasonInvalidJSON, text(`{"v":1,"type":"delta","seq":2,"deep":` + strings.Repeat(`{"a":`, 20000) + `1` + strings.Repeat(`}`, 20000) + `}`)},
		{reasonBinary, func(ws *websocket.Conn) error { return ws.WriteMessage(websocket.BinaryMessage, []byte{0, 1, 2}) }},
	}
	url, conns := fakeRelay(t, func(n int, ws *websocket.Conn, r *http.Request) {
		send(t, ws, `{"v":1,"type":"snapshot","seq":1,"epoch":"e","alerts":[{"fingerprint":"a","state":"firing","source":"am"}]}`)
		for _, b := range bad {
			if err := b.frame(ws); err != nil {
				t.Error(err)
			}
		}
		// Good message, with bad alerts inside: those are dropped, the rest applied.
		send(t, ws, `{"v":1,"type":"delta","seq":2,"alerts":[`+
			`{"fingerprint":"b","state":"firing","source":"am"},`+
			`{"fingerprint":"","state":"firing","source":"am"},`+
			`{"fingerprint":"c","state":"on fire","source":"am"},`+
			`{"fingerprint":"d","state":"firing","source":"am","labels":{"x":"`+huge+`"}}],"truncated":0}`)
		send(t, ws, `{"v":1,"type":"delta","seq":2,"alerts":[{"fingerprint":"dup","state":"firing","source":"am"}]}`)
		send(t, ws, `{"v":1,"type":"delta","seq":3,"alerts":[{"fingerprint":"e","state":"resolved","source":"am"}]}`)
		_ = waitClosed(ws)
	})
	_, m := newRegistry()
	logs := &syncBuffer{}
	cl := newTestClient(t, url, ClientOptions{Metrics: m, Log: testLogger(logs)})
	sub, _ := cl.Subscribe(context.Background())
	con := consume(t, sub)
	waitFor(t, 5*time.Second, "alerts a, b, e", func() bool {
		st, _, _ := con.snapshot()
		return len(st) == 3
	})
	st, _, _ := con.snapshot()
	for _, fp := range []string{"a", "b", "e"} {
		if _, ok := st[alertKey{"am", fp}]; !ok {
			t.Errorf("alert %s missing: %v", fp, st)
		}
	}
	want := map[string]float64{}
	for _, b := range bad {
		want[b.reason]++
	}
	want[reasonBadAlert] = 2
	want[reasonHugeLabel] = 1
	for reason, n := range want {
		if got := value(m.badMessages.WithLabelValues("relay", reason)); got != n {
			t.Errorf("bad messages %q = %v, want %v", reason, got, n)
		}
	}
	if got := value(m.seqErrors.WithLabelValues("relay", "duplicate")); got != 1 {
		t.Errorf("duplicates = %v", got)
	}
	if conns.Load() != 1 || value(m.reconnects) != 0 {
		t.Errorf("the stream did not stay up: %d connections", conns.Load())
	}
	if h := cl.Health(); h.State != datasource.HealthUp {
		t.Errorf("health %+v", h)
	}
	// Logged, truncated: no line carries the 16 KB of garbage.
	for _, line := range strings.Split(logs.String(), "\n") {
		if len(line) > 1000 {
			t.Fatalf("log line of %d bytes: %.200s…", len(line), line)
		}
	}
	if !strings.Contains(logs.String(), "garbage garbage") || !strings.Contains(logs.String(), "16000 bytes") {
		t.Errorf("bad message not logged with an excerpt:\n%s", logs.String())
	}
}

func text(s string) func(ws *websocket.Conn) error {
	return func(ws *websocket.Conn) error { return ws.WriteMessage(websocket.TextMessage, []byte(s)) }
}

func TestGapForcesFreshSnapshot(t *testing.T) {
	queries := make(chan string, 4)
	url, _ := fakeRelay(t, func(n int, ws *websocket.Conn, r *http.Request) {
		queries <- r.URL.RawQuery
		switch n {
		case 0:
			send(t, ws, `{"v":1,"type":"snapshot","seq":1,"epoch":"e","alerts":[{"fingerprint":"a","state":"firing","source":"am"}]}`)
			send(t, ws, `{"v":1,"type":"delta","seq":2,"alerts":[{"fingerprint":"b","state":"firing","source":"am"}]}`)
			send(t, ws, `{"v":1,"type":"delta","seq":4,"alerts":[{"fingerprint":"lost","state":"firing","source":"am"}]}`)
		case 1:
			send(t, ws, `{"v":1,"type":"snapshot","seq":4,"epoch":"e","alerts":[{"fingerprint":"b","state":"firing","source":"am"},{"fingerprint":"c","state":"firing","source":"am"}]}`)
		case 2:
			send(t, ws, `{"v":1,"type":"delta","seq":5,"alerts":[{"fingerprint":"d","state":"firing","source":"am"}]}`)
		}
		_ = waitClosed(ws)
	})
	_, m := newRegistry()
	cl := newTestClient(t, url, ClientOptions{Metrics: m})
	sub, _ := cl.Subscribe(context.Background())
	con := consume(t, sub)
	if q := <-queries; q != "" {
		t.Fatalf("first connection asked %q", q)
	}
	if q := <-queries; q != "" {
		t.Fatalf("after a gap the client must ask for a snapshot, asked %q", q)
	}
	waitFor(t, 5*time.Second, "resync", func() bool {
		st, snaps, _ := con.snapshot()
		_, hasB := st[alertKey{"am", "b"}]
		_, hasC := st[alertKey{"am", "c"}]
		_, lost := st[alertKey{"am", "lost"}]
		return snaps == 2 && len(st) == 2 && hasB && hasC && !lost
	})
	if got := value(m.seqErrors.WithLabelValues("relay", "gap")); got != 1 {
		t.Errorf("gaps = %v", got)
	}
}

// A5: a frame over the client's limit closes the stream with 1009 without reading it.
func TestFrameOverReadLimit(t *testing.T) {
	closeCodes := make(chan error, 2)
	url, _ := fakeRelay(t, func(n int, ws *websocket.Conn, r *http.Request) {
		send(t, ws, `{"v":1,"type":"snapshot","seq":1,"alerts":[]}`)
		if n > 0 {
			_ = waitClosed(ws)
			return
		}
		// A frame header announcing 1 GiB, and a little of it.
		hdr := []byte{0x81, 127, 0, 0, 0, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint64(hdr[2:], 1<<30)
		_, _ = ws.NetConn().Write(append(hdr, make([]byte, 64<<10)...))
		closeCodes <- waitClosed(ws)
	})
	_, m := newRegistry()
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	cl := newTestClient(t, url, ClientOptions{Metrics: m, MaxMessageBytes: 1 << 20})
	sub, _ := cl.Subscribe(context.Background())
	consume(t, sub)
	select {
	case err := <-closeCodes:
		if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
			t.Fatalf("want close 1009 from the client, got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("client did not close")
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := int64(after.TotalAlloc) - int64(before.TotalAlloc); grew > 64<<20 {
		t.Errorf("allocated %d MiB for a refused frame", grew>>20)
	}
	waitFor(t, 5*time.Second, "counted and reconnected", func() bool {
		return value(m.badMessages.WithLabelValues("relay", reasonTooBig)) == 1 && value(m.reconnects) >= 1
	})
}

// A5: a silent relay (connection open, nothing arriving) is detected on the clock, and
// the client reconnects and catches up with what it missed.
func TestSilentPeerResync(t *testing.T) {
	srv := startServer(t, ServerOptions{HeartbeatInterval: time.Hour})
	px := startProxy(t, strings.TrimPrefix(srv.http.URL, "http://"))
	fc := clock.NewFake(t0)
	backoffs := make(chan time.Duration, 16)
	cl := newTestClient(t, "ws://"+px.ln.Addr().String()+DefaultPath, ClientOptions{Clock: fc, ReadTimeout: 30 * time.Second, MinBackoff: time.Second, MaxBackoff: time.Minute})
	cl.testHookBackoff = func(d time.Duration) { backoffs <- d }
	srv.Publish(datasource.AlertEvent{Kind: datasource.Delta, Source: "am", Alerts: []datasource.Alert{mkAlert("a", datasource.StateFiring, 0)}})
	sub, _ := cl.Subscribe(context.Background())
	con := consume(t, sub)
	waitConverged(t, 5*time.Second, con, srv.Server)
	fc.BlockUntil(1) // the read watchdog is armed

	px.freeze()
	srv.Publish(datasource.AlertEvent{Kind: datasource.Delta, Source: "am", Alerts: []datasource.Alert{mkAlert("b", datasource.StateFiring, 0)}})
	srv.Publish(datasource.AlertEvent{Kind: datasource.Delta, Source: "am", Alerts: []datasource.Alert{mkAlert("a", datasource.StateResolved, time.Second)}})
	waitFor(t, 5*time.Second, "blackhole", func() bool { return px.held.Load() > 0 })
	px.thaw()

	fc.Advance(20 * time.Second)
	select {
	case d := <-backoffs:
		t.Fatalf("gave up on a relay silent for 20s of 30: backoff %s", d)
	case <-time.After(50 * time.Millisecond):
	}
	fc.Advance(15 * time.Second)
	var d time.Duration
	select {
	case d = <-backoffs:
	case <-time.After(5 * time.Second):
		t.Fatal("silence not detected")
	}
	if h := cl.Health(); h.State != datasource.HealthDown || !strings.Contains(h.LastError, ErrSilent.Error()) {
		t.Fatalf("health %+v", h)
	}
	fc.Advance(d)
	waitConverged(t, 5*time.Second, con, srv.Server)
	if _, snaps, _ := con.snapshot(); snaps != 1 {
		t.Errorf("resync by resuming expected, got %d snapshots", snaps)
	}
	waitFor(t, 5*time.Second, "up again", func() bool { return cl.Health().State == datasource.HealthUp })
}

// A5: TCP accepts, the handshake never gets an answer: the clock's deadline ends it.
func TestHungHandshake(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c // never answered
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		close(accepted)
		for c := range accepted {
			c.Close()
		}
	})
	fc := clock.NewFake(t0)
	backoffs := make(chan time.Duration, 4)
	cl := newTestClient(t, "ws://"+ln.Addr().String()+DefaultPath, ClientOptions{Clock: fc, HandshakeTimeout: 5 * time.Second, MinBackoff: time.Second})
	cl.testHookBackoff = func(d time.Duration) { backoffs <- d }
	sub, _ := cl.Subscribe(context.Background())
	consume(t, sub)
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("no connection")
	}
	fc.BlockUntil(1) // the handshake deadline
	fc.Advance(4 * time.Second)
	select {
	case <-backoffs:
		t.Fatal("gave up before the deadline")
	case <-time.After(50 * time.Millisecond):
	}
	fc.Advance(time.Second)
	var d time.Duration
	select {
	case d = <-backoffs:
	case <-time.After(5 * time.Second):
		t.Fatal("handshake never timed out")
	}
	if h := cl.Health(); !strings.Contains(h.LastError, ErrHandshakeTimeout.Error()) || h.State != datasource.HealthDown {
		t.Fatalf("health %+v", h)
	}
	fc.Advance(d)
	select {
	case <-accepted: // and it tries again
	case <-time.After(5 * time.Second):
		t.Fatal("no retry")
	}
}

// A5: the relay is down for 10 minutes, then flaps; the client backs off with capped
// jitter, and once the relay settles its state equals the relay's, with no sequence
// errors. The client runs on a fake clock: its backoff timers are advanced exactly as
// far as the client asked (testHookBackoff), so ten minutes pass in milliseconds.
func TestDownTenMinutesThenFlapping(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	_, m := newRegistry()
	fc := clock.NewFake(t0)
	backoffs := make(chan time.Duration, 64)
	cl := newTestClient(t, srv.url, ClientOptions{Clock: fc, Metrics: m, MinBackoff: 500 * time.Millisecond, MaxBackoff: time.Minute})
	cl.testHookBackoff = func(d time.Duration) { backoffs <- d }
	next := func() time.Duration {
		t.Helper()
		select {
		case d := <-backoffs:
			return d
		case <-time.After(5 * time.Second):
			t.Fatal("no reconnect attempt")
			return 0
		}
	}
	publish := func(i int) {
		srv.Publish(datasource.AlertEvent{Kind: datasource.Delta, Source: "am", Alerts: []datasource.Alert{
			mkAlert(fmt.Sprint(i%17), []datasource.AlertState{datasource.StateFiring, datasource.StateResolved}[i%2], time.Duration(i)*time.Second),
		}})
	}
	publish(0)
	srv.down.Store(true)
	sub, _ := cl.Subscribe(context.Background())
	con := consume(t, sub)

	var down time.Duration
	var delays []time.Duration
	for i := 1; down < 10*time.Minute; i++ {
		d := next()
		delays = append(delays, d)
		if d > time.Minute {
			t.Fatalf("backoff %s over the 1m cap", d)
		}
		publish(i)
		fc.Advance(d)
		down += d
	}
	capped := delays[len(delays)-5:]
	for _, d := range capped {
		if d < 20*time.Second {
			t.Errorf("backoff not grown to the cap after 10 minutes: %v", delays)
			break
		}
	}
	if len(delays) > 40 {
		t.Errorf("%d attempts in 10 minutes: backoff too eager (%v)", len(delays), delays)
	}
	if h := cl.Health(); h.State != datasource.HealthDown || !strings.Contains(h.LastError, "503") || !h.ErrorSince.Equal(t0) {
		t.Errorf("health while down: %+v", h)
	}
	t.Logf("down 10m: %d attempts, last delays %v", len(delays), capped)

	// Flapping: up just long enough to connect, then gone again.
	for flap := range 6 {
		srv.down.Store(false)
		waitFor(t, 5*time.Second, "connected", func() bool {
			if srv.Stats().Clients == 1 {
				return true
			}
			// The attempt the last Advance started may have reached the relay before it
			// came back, and now waits out another backoff: let that pass too.
			select {
			case d := <-backoffs:
				fc.Advance(d)
			default:
			}
			return false
		})
		waitConverged(t, 5*time.Second, con, srv.Server)
		srv.down.Store(true)
		srv.kickAll()
		publish(1000 + flap)
		d := next()
		if d > time.Minute {
			t.Fatalf("backoff %s over the cap", d)
		}
		publish(2000 + flap)
		fc.Advance(d)
		if d2 := next(); d2 > time.Minute { // the attempt while still down
			t.Fatalf("backoff %s over the cap", d2)
		} else {
			srv.down.Store(false)
			fc.Advance(d2)
		}
	}
	waitConverged(t, 5*time.Second, con, srv.Server)
	for _, kind := range []string{"gap", "duplicate"} {
		if n := value(m.seqErrors.WithLabelValues("relay", kind)); n != 0 {
			t.Errorf("%s count = %v", kind, n)
		}
	}
	if n := value(m.badMessages); n != 0 {
		t.Errorf("bad messages = %v", n)
	}
	waitFor(t, 5*time.Second, "up", func() bool { return cl.Health().State == datasource.HealthUp })
}

func TestSubscriptionEndsWithContext(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	cl := newTestClient(t, srv.url, ClientOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	sub, _ := cl.Subscribe(ctx)
	ev := <-sub.C()
	if ev.Kind != datasource.Snapshot || ev.Source != "relay" {
		t.Fatalf("first event %+v", ev)
	}
	waitFor(t, 5*time.Second, "registered", func() bool { return srv.Stats().Clients == 1 })
	cancel()
	for range sub.C() {
	}
	if err := sub.Err(); err != nil {
		t.Fatalf("Err after cancel = %v", err)
	}
	sub.Close() // idempotent
	waitFor(t, 5*time.Second, "server saw the client go", func() bool { return srv.Stats().Clients == 0 })
}

// A consumer that does not read does not hold up the reader: events coalesce.
func TestLaggingConsumerCoalesced(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	cl := newTestClient(t, srv.url, ClientOptions{Buffer: 1})
	sub, _ := cl.Subscribe(context.Background())
	waitFor(t, 5*time.Second, "connected", func() bool { return srv.Stats().Clients == 1 })
	for i := range 500 {
		srv.Publish(datasource.AlertEvent{Kind: datasource.Delta, Source: "am", Alerts: []datasource.Alert{mkAlert(fmt.Sprint(i%50), datasource.StateFiring, time.Duration(i)*time.Second)}})
	}
	waitFor(t, 5*time.Second, "everything sent", func() bool { return srv.Stats().MessagesSent == 501 })
	time.Sleep(100 * time.Millisecond) // and read by the client, while nobody consumes
	con := consume(t, sub)
	waitConverged(t, 5*time.Second, con, srv.Server)
	if _, snaps, deltas := con.snapshot(); snaps+deltas > 100 {
		t.Errorf("%d events for 500 deltas to a consumer that was away: not coalesced", snaps+deltas)
	}
}
