package session

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/opscockpit/opscockpit/clock"
)

func TestFollowerResyncsThenFollowsInOrder(t *testing.T) {
	ts := startServer(t, "127.0.0.1:0", ServerOptions{})
	if seq := ts.srv.Publish(State{Incident: "INC-1", Layout: "triage"}); seq != 1 {
		t.Fatalf("first publish: seq %d, want 1", seq)
	}
	a := startFollower(t, ts.wsURL(), testToken, nil)
	first := a.rec.next(t)
	if first.Seq != 1 || first.Incident != "INC-1" || first.Layout != "triage" || first.At.IsZero() {
		t.Fatalf("resync state = %+v, want seq 1 INC-1/triage with At", first)
	}
	if st := a.rec.waitPhase(t, PhaseLive); st.Instance != ts.srv.Instance() {
		t.Fatalf("live status instance %q, want %q", st.Instance, ts.srv.Instance())
	}

	changes := []State{
		{Incident: "INC-1", Layout: "triage", Alert: "fp-a"},
		{Incident: "INC-1", Layout: "triage", Alert: "fp-a", RunbookRoot: "ops", RunbookPath: "db/failover.md", RunbookAnchor: "promote"},
		{Incident: "INC-1", Layout: "comms", Alert: "fp-a", Extra: map[string]string{"theme": "dark", "offset": "90s"}},
	}
	for i, c := range changes {
		seq := ts.srv.Publish(c)
		got := a.rec.next(t)
		c.Seq = seq
		if got.Seq != uint64(i+2) || !got.SameView(c) {
			t.Fatalf("change %d: got %+v, want %+v", i, got, c)
		}
	}
	// Re-publishing what is shown sends nothing.
	if seq := ts.srv.Publish(changes[2]); seq != 4 {
		t.Fatalf("unchanged publish returned seq %d, want 4", seq)
	}

	late := startFollower(t, ts.wsURL(), testToken, nil)
	got := late.rec.next(t)
	want := changes[2]
	if got.Seq != 4 || !got.SameView(want) {
		t.Fatalf("late joiner resync = %+v, want seq 4 %+v", got, want)
	}
	ts.srv.Publish(State{Incident: "INC-2"})
	for _, f := range []*runningFollower{a, late} {
		if st := f.rec.next(t); st.Seq != 5 || st.Incident != "INC-2" {
			t.Fatalf("after resync: %+v", st)
		}
	}
	select {
	case st := <-a.rec.states:
		t.Fatalf("unexpected extra state %+v", st)
	case <-time.After(50 * time.Millisecond):
	}
	if latest, ok := late.f.Latest(); !ok || latest.Incident != "INC-2" {
		t.Fatalf("Latest() = %+v, %v", latest, ok)
	}
	if n := ts.srv.Stats().Followers; n != 2 {
		t.Fatalf("Stats().Followers = %d, want 2", n)
	}
}

func TestEmptyServerResyncsSeqZero(t *testing.T) {
	ts := startServer(t, "127.0.0.1:0", ServerOptions{})
	f := startFollower(t, ts.wsURL(), testToken, nil)
	if st := f.rec.next(t); st.Seq != 0 || !st.SameView(State{}) {
		t.Fatalf("resync of an empty server = %+v", st)
	}
	f.rec.waitPhase(t, PhaseLive)
}

func TestTenFollowersLatency(t *testing.T) {
	ts := startServer(t, "127.0.0.1:0", ServerOptions{})
	const n, changes = 10, 50
	fs := make([]*runningFollower, n)
	for i := range fs {
		fs[i] = startFollower(t, ts.wsURL(), testToken, nil)
		fs[i].rec.next(t)
	}
	var lat []time.Duration
	for i := range changes {
		t0 := time.Now()
		seq := ts.srv.Publish(State{Incident: "INC-9", Alert: fmt.Sprint("fp-", i)})
		for _, f := range fs {
			f.rec.waitFor(t, seq)
			lat = append(lat, time.Since(t0))
		}
	}
	slices.Sort(lat)
	p99 := lat[len(lat)*99/100]
	t.Logf("10 followers, %d changes: p50 %v, p99 %v, max %v", changes, lat[len(lat)/2], p99, lat[len(lat)-1])
	if p99 > 250*time.Millisecond {
		t.Fatalf("p99 publish → every follower %v, want ≤ 250ms", p99)
	}
}

func TestReconnectAfterNetworkLossResyncsWithoutDuplicates(t *testing.T) {
	ts := startServer(t, "127.0.0.1:0", ServerOptions{})
	ts.srv.Publish(State{Incident: "INC-1"})
	f := startFollower(t, ts.wsURL(), testToken, nil)
	f.rec.waitFor(t, 1)
	f.rec.waitPhase(t, PhaseLive)

	ts.ln.cutAll() // the network goes; the server keeps its state
	st := f.rec.waitPhase(t, PhaseReconnecting)
	if st.Err == nil || st.RetryIn <= 0 || st.RetryIn > 200*time.Millisecond {
		t.Fatalf("reconnecting status = %+v", st)
	}
	if !strings.Contains(st.String(), "retrying in") {
		t.Fatalf("status line %q", st.String())
	}
	f.rec.waitPhase(t, PhaseLive)
	// The resync (seq 1 again, same instance) is not handed on twice.
	select {
	case dup := <-f.rec.states:
		t.Fatalf("resync of a state already seen was handed on: %+v", dup)
	case <-time.After(100 * time.Millisecond):
	}
	ts.srv.Publish(State{Incident: "INC-2"})
	if got := f.rec.next(t); got.Seq != 2 || got.Incident != "INC-2" {
		t.Fatalf("after reconnect: %+v", got)
	}
}

func TestReconnectToRestartedServer(t *testing.T) {
	ts := startServer(t, "127.0.0.1:0", ServerOptions{})
	for i := range 3 {
		ts.srv.Publish(State{Incident: fmt.Sprint("INC-", i)})
	}
	f := startFollower(t, ts.wsURL(), testToken, nil)
	f.rec.waitFor(t, 3)
	f.rec.waitPhase(t, PhaseLive)

	addr := ts.addr
	ts.stop()
	st := f.rec.waitPhase(t, PhaseReconnecting)
	if st.Err == nil || !strings.Contains(st.Err.Error(), "shutting down") {
		t.Fatalf("status after server shutdown: %+v (want the server's reason)", st)
	}
	// Down for a while: attempts fail and back off.
	time.Sleep(300 * time.Millisecond)

	ts2 := startServer(t, addr, ServerOptions{})
	ts2.srv.Publish(State{Incident: "INC-NEW"}) // seq 1 < 3, but a new instance
	got := f.rec.next(t)
	if got.Seq != 1 || got.Incident != "INC-NEW" {
		t.Fatalf("after restart: %+v, want seq 1 INC-NEW", got)
	}
	live := f.rec.waitPhase(t, PhaseLive)
	if live.Instance != ts2.srv.Instance() {
		t.Fatalf("live instance %q, want the new server's %q", live.Instance, ts2.srv.Instance())
	}
	ph := f.rec.phases()
	for _, want := range []Phase{PhaseConnecting, PhaseLive, PhaseReconnecting} {
		if !slices.Contains(ph, want) {
			t.Fatalf("phases %v lack %v", ph, want)
		}
	}
	if err := f.stop(); err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
	if s := f.f.Status(); s.Phase != PhaseStopped {
		t.Fatalf("status after stop: %v", s)
	}
}

// rawStalledFollower does the websocket handshake over plain TCP and then never reads.
// rawStalledFollower does the websocket handshake over plain TCP with a small receive
// buffer, and then never reads.
func rawStalledFollower(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.(*net.TCPConn).SetReadBuffer(16 << 10)
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	req := "GET " + Path + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: " + Subprotocol + "\r\n" +
		"Authorization: Bearer " + testToken + "\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("raw handshake: %s", resp.Status)
	}
	return c
}

func TestStalledFollowerDroppedOthersKeepUpPublishNeverBlocks(t *testing.T) {
	const writeTimeout = 300 * time.Millisecond
	ts := startServer(t, "127.0.0.1:0", ServerOptions{WriteTimeout: writeTimeout})
	const n = 10
	fs := make([]*runningFollower, n)
	for i := range fs {
		fs[i] = startFollower(t, ts.wsURL(), testToken, nil)
		fs[i].rec.next(t)
	}
	// Small kernel buffers on the stalled connection (loopback ones grow to megabytes),
	// so that a few ~16 KiB states fill them and its writer stays stuck from then on.
	ts.setSendBuffer(32 << 10)
	rawStalledFollower(t, ts.addr)
	waitUntil(t, "11 followers", func() bool { return ts.srv.Stats().Followers == n+1 })

	var pub, base []time.Duration
	var last uint64
	start := time.Now()
	var dropAt time.Duration
	for i := 0; i < 300 || dropAt == 0; i++ {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("stalled follower not dropped; stats %+v", ts.srv.Stats())
		}
		if dropAt == 0 && ts.srv.Stats().Dropped > 0 {
			dropAt = time.Since(start)
		}
		st := State{Incident: "INC-7", Alert: fmt.Sprint("fp-", i)}
		if i < 20 { // enough to fill the stalled connection's buffers; then small ones
			st.Extra = bigExtra(fmt.Sprint(i))
		}
		t0 := time.Now()
		last = ts.srv.Publish(st)
		pub = append(pub, time.Since(t0))
		// The baseline, interleaved so that it sees the same machine: the encoding a
		// Publish does, without the server.
		t1 := time.Now()
		bst, _ := st.trim()
		if data, err := encodeState("baseline", bst); err == nil {
			_, _ = websocket.NewPreparedMessage(websocket.TextMessage, data)
		}
		base = append(base, time.Since(t1))
		time.Sleep(2 * time.Millisecond)
	}
	stats := ts.srv.Stats()
	if stats.Dropped != 1 || stats.Followers != n || stats.BadFrames != 0 {
		t.Fatalf("stats after the drop: %+v, want 1 dropped and %d followers", stats, n)
	}
	for i, f := range fs {
		got := f.rec.waitFor(t, last)
		if got.Alert == "" {
			t.Fatalf("follower %d: %+v", i, got)
		}
		if p := f.f.Status().Phase; p != PhaseLive {
			t.Fatalf("follower %d phase %v", i, p)
		}
	}
	slices.Sort(pub)
	slices.Sort(base)
	p99, worst, baseP99 := pub[len(pub)*99/100], pub[len(pub)-1], base[len(base)*99/100]
	t.Logf("%d publishes, stalled follower dropped after %v: Publish p50 %v, p99 %v, max %v; encode-only baseline p50 %v, p99 %v",
		len(pub), dropAt.Round(time.Millisecond), pub[len(pub)/2], p99, worst, base[len(base)/2], baseP99)
	// A Publish that waited for the stalled follower would take a WriteTimeout. What is
	// left is the encoding, the fan-out and scheduling noise on 2 shared cores, which
	// the interleaved baseline sees too.
	if worst >= writeTimeout || p99 > 3*baseP99+5*time.Millisecond {
		t.Fatalf("Publish p99 %v (baseline %v), max %v: it must never wait for a follower", p99, baseP99, worst)
	}
	// After the drop, everyone else still gets changes.
	seq := ts.srv.Publish(State{Incident: "INC-8"})
	for _, f := range fs {
		f.rec.waitFor(t, seq)
	}
}

func TestBlockedCallbackKeepsOrderAndEndsOnLatest(t *testing.T) {
	ts := startServer(t, "127.0.0.1:0", ServerOptions{})
	release := make(chan struct{})
	var blocked sync.Once
	var mu sync.Mutex
	var seen []uint64
	f := startFollower(t, ts.wsURL(), testToken, func(o *FollowerOptions) {
		next := o.OnState
		o.OnState = func(st State) {
			if st.Seq > 0 {
				blocked.Do(func() { <-release }) // a UI that hangs for a moment
			}
			mu.Lock()
			seen = append(seen, st.Seq)
			mu.Unlock()
			next(st)
		}
	})
	f.rec.next(t) // seq 0
	ts.srv.Publish(State{Incident: "1"})
	for i := 2; i <= 100; i++ {
		ts.srv.Publish(State{Incident: fmt.Sprint(i)})
	}
	close(release)
	if got := f.rec.waitFor(t, 100); got.Incident != "100" {
		t.Fatalf("latest = %+v", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.IsSorted(seen) || slices.Compact(slices.Clone(seen)) == nil || len(slices.Compact(slices.Clone(seen))) != len(seen) {
		t.Fatalf("seqs handed on %v: want strictly increasing", seen)
	}
}

func TestFollowerDataFramesDisconnectOnlyThatFollower(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := startServer(t, "127.0.0.1:0", ServerOptions{Metrics: reg})
	good := startFollower(t, ts.wsURL(), testToken, nil)
	good.rec.next(t)

	cases := []struct {
		name     string
		typ      int
		payload  []byte
		wantCode int
	}{
		{"text", websocket.TextMessage, []byte(`{"type":"state","state":{"incident":"hijack"}}`), websocket.ClosePolicyViolation},
		{"binary", websocket.BinaryMessage, []byte{0xff, 0x00, 0x13}, websocket.ClosePolicyViolation},
		{"garbage text", websocket.TextMessage, []byte("\xff\xfe not even utf-8"), websocket.ClosePolicyViolation},
		{"oversized", websocket.BinaryMessage, make([]byte, 5<<10), websocket.CloseMessageTooBig},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// One frame per message: gorilla would fragment a big one at its write
			// buffer, and a first fragment under the limit is refused as data (1008).
			d := websocket.Dialer{Subprotocols: []string{Subprotocol}, WriteBufferSize: 16 << 10}
			ws, _, err := d.Dial(ts.wsURL()+Path, bearer(testToken))
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			if _, _, err := ws.ReadMessage(); err != nil { // the resync
				t.Fatal(err)
			}
			if err := ws.WriteMessage(tc.typ, tc.payload); err != nil {
				t.Fatal(err)
			}
			_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			for {
				_, data, err := ws.ReadMessage()
				if err == nil {
					if m, derr := decodeMessage(data); derr != nil || m.Type != typeBye && m.Type != typeState && m.Type != typeHeartbeat {
						t.Fatalf("unexpected frame %q", data)
					}
					continue
				}
				var ce *websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != tc.wantCode {
					t.Fatalf("read error %v, want close %d", err, tc.wantCode)
				}
				break
			}
			waitUntil(t, "bad frame counted", func() bool { return ts.srv.Stats().BadFrames == uint64(i+1) })
			// The well-behaved follower is unaffected.
			seq := ts.srv.Publish(State{Incident: "INC-" + tc.name})
			good.rec.waitFor(t, seq)
		})
	}
	waitUntil(t, "only the good follower left", func() bool { return ts.srv.Stats().Followers == 1 })
	if p := good.f.Status().Phase; p != PhaseLive {
		t.Fatalf("good follower phase %v", p)
	}
	if v := counterValue(t, ts.srv.m.dropped.WithLabelValues("data_frame")); v != 3 {
		t.Fatalf("data_frame drops metric = %v, want 3", v)
	}
	if v := counterValue(t, ts.srv.m.dropped.WithLabelValues("too_big")); v != 1 {
		t.Fatalf("too_big drops metric = %v, want 1", v)
	}
}

func TestHandshakeRefusals(t *testing.T) {
	ts := startServer(t, "127.0.0.1:0", ServerOptions{AllowedOrigins: []string{"https://cockpit.example"}})
	url := ts.wsURL() + Path
	cases := []struct {
		name   string
		header http.Header
		url    string
		want   int
	}{
		{"missing token", http.Header{}, url, http.StatusUnauthorized},
		{"wrong token", bearer("not-the-token"), url, http.StatusUnauthorized},
		{"token prefix", bearer(testToken[:5]), url, http.StatusUnauthorized},
		{"basic scheme", http.Header{"Authorization": {"Basic " + testToken}}, url, http.StatusUnauthorized},
		{"token in query", http.Header{}, url + "?token=" + testToken, http.StatusUnauthorized},
		{"bad origin", http.Header{"Authorization": {"Bearer " + testToken}, "Origin": {"https://evil.example"}}, url, http.StatusForbidden},
		{"allowed origin", http.Header{"Authorization": {"Bearer " + testToken}, "Origin": {"https://cockpit.example"}}, url, http.StatusSwitchingProtocols},
		{"no origin", bearer(testToken), url, http.StatusSwitchingProtocols},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws, resp, err := dialRaw(t, tc.url, tc.header)
			if ws != nil {
				ws.Close()
			}
			if resp == nil {
				t.Fatalf("no HTTP response: %v", err)
			}
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	t.Run("other subprotocol", func(t *testing.T) {
		d := websocket.Dialer{Subprotocols: []string{"chat"}}
		_, resp, _ := d.Dial(url, bearer(testToken))
		if resp == nil || resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("response %v, want 400", resp)
		}
	})
	t.Run("healthz", func(t *testing.T) {
		resp, err := http.Get(ts.httpURL() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("healthz %s", resp.Status)
		}
	})
	if got := ts.srv.Stats().AuthFailures; got != 7 {
		t.Fatalf("AuthFailures = %d, want 7", got)
	}
}

func TestFollowerStopsOnRefusal(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts ServerOptions
		want error
	}{
		{"401", ServerOptions{}, ErrUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, "127.0.0.1:0", tc.opts)
			f := startFollower(t, ts.wsURL(), "wrong-token", nil)
			st := f.rec.waitPhase(t, PhaseRefused)
			if !errors.Is(st.Err, tc.want) {
				t.Fatalf("refused status err %v, want %v", st.Err, tc.want)
			}
			line := st.String()
			if !strings.Contains(line, "401") || !strings.Contains(line, "not retrying") || strings.Contains(line, "wrong-token") {
				t.Fatalf("status line %q: want 401, 'not retrying', and no token", line)
			}
			if err := f.stop(); !errors.Is(err, tc.want) {
				t.Fatalf("Run returned %v, want %v", err, tc.want)
			}
			time.Sleep(100 * time.Millisecond) // more than the max backoff
			if n := ts.srv.Stats().AuthFailures; n != 1 {
				t.Fatalf("%d attempts, want exactly 1: no retry after 401", n)
			}
		})
	}
}

func TestNewFollowerChecksOptions(t *testing.T) {
	cases := map[string]FollowerOptions{
		"http scheme":    {URL: "http://127.0.0.1:1", Token: "t"},
		"no host":        {URL: "ws:///session", Token: "t"},
		"userinfo":       {URL: "ws://me:pw@127.0.0.1:1", Token: "t"},
		"no token":       {URL: "ws://127.0.0.1:1"},
		"blank token":    {URL: "ws://127.0.0.1:1", Token: " \n"},
		"does not parse": {URL: "ws://[::1", Token: "t"},
	}
	for name, o := range cases {
		if _, err := NewFollower(o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	f, err := NewFollower(FollowerOptions{URL: "ws://127.0.0.1:9/", Token: "tok\n"})
	if err != nil {
		t.Fatal(err)
	}
	if f.u.Path != Path || f.opts.Token != "tok" {
		t.Fatalf("path %q token %q", f.u.Path, f.opts.Token)
	}
	if _, err := NewServer(ServerOptions{Tokens: []string{"", "  "}}); err == nil {
		t.Fatal("server without a real token accepted")
	}
}

func TestPublishTrimsAndCopies(t *testing.T) {
	srv, err := NewServer(ServerOptions{Tokens: []string{"t"}, Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	extra := map[string]string{}
	for i := range MaxExtra + 5 {
		extra[fmt.Sprintf("k%02d", i)] = "v"
	}
	extra[strings.Repeat("k", 100)] = strings.Repeat("é", MaxExtraValueBytes)
	srv.Publish(State{Incident: strings.Repeat("x", MaxFieldBytes+10), Layout: "bad\xffutf8", Extra: extra, Seq: 99})
	extra["k00"] = "changed after publish"
	cur := srv.Current()
	if cur.Seq != 1 {
		t.Fatalf("seq %d: Publish must number states itself", cur.Seq)
	}
	if err := cur.check(); err != nil {
		t.Fatalf("published state breaks the caps: %v", err)
	}
	if cur.Extra["k00"] != "v" || cur.Layout != "bad\uFFFDutf8" || len(cur.Incident) != MaxFieldBytes {
		t.Fatalf("trimmed state %+v", cur)
	}
}

func TestHeartbeatOnIdleConnection(t *testing.T) {
	fake := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	ts := startServer(t, "127.0.0.1:0", ServerOptions{Clock: fake, HeartbeatInterval: 15 * time.Second})
	fake.BlockUntil(3) // Run's tickers
	ts.srv.Publish(State{Incident: "INC-3"})
	ws, _, err := dialRaw(t, ts.wsURL()+Path, bearer(testToken))
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeMessage(data)
	if err != nil || m.Type != typeState || m.State.Seq != 1 || !m.State.At.Equal(fake.Now()) {
		t.Fatalf("first message %s (%v)", data, err)
	}
	frames := make(chan []byte, 10)
	go func() {
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				close(frames)
				return
			}
			frames <- data
		}
	}()
	var hb []byte
	advanceUntil(t, fake, 15*time.Second, "a heartbeat", func() bool {
		select {
		case hb = <-frames:
			return true
		default:
			return false
		}
	})
	if m, err = decodeMessage(hb); err != nil || m.Type != typeHeartbeat || m.Seq != 1 || m.Instance != ts.srv.Instance() {
		t.Fatalf("heartbeat %s (%v)", hb, err)
	}
}

func TestSilentFollowerDroppedAfterPongWait(t *testing.T) {
	fake := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	ts := startServer(t, "127.0.0.1:0", ServerOptions{Clock: fake, PingInterval: 10 * time.Second})
	fake.BlockUntil(3)
	c := rawStalledFollower(t, ts.addr) // answers no ping
	_ = c
	waitUntil(t, "connected", func() bool { return ts.srv.Stats().Followers == 1 })
	advanceUntil(t, fake, 10*time.Second, "silent follower dropped", func() bool { s := ts.srv.Stats(); return s.Followers == 0 && s.Dropped == 1 })
}

func TestFollowerDetectsSilentServer(t *testing.T) {
	fake := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	// A server that upgrades, sends one state, then says nothing and answers no pings.
	up := websocket.Upgrader{Subprotocols: []string{Subprotocol}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []*websocket.Conn
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		data, _ := encodeState("mute", State{Seq: 1, Incident: "INC-M"})
		_ = ws.WriteMessage(websocket.TextMessage, data)
		mu.Lock()
		conns = append(conns, ws)
		mu.Unlock()
	})}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	defer func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	backoffs := make(chan time.Duration, 10)
	f := startFollower(t, "ws://"+ln.Addr().String(), testToken, func(o *FollowerOptions) {
		o.Clock, o.ReadTimeout = fake, 40*time.Second
	}, func(f *Follower) { f.testHookBackoff = func(d time.Duration) { backoffs <- d } })
	if st := f.rec.next(t); st.Incident != "INC-M" {
		t.Fatalf("%+v", st)
	}
	f.rec.waitPhase(t, PhaseLive)
	advanceUntil(t, fake, 10*time.Second, "silence noticed", func() bool { return len(backoffs) > 0 })
	st := f.rec.waitPhase(t, PhaseReconnecting)
	if !errors.Is(st.Err, ErrSilent) {
		t.Fatalf("status err %v, want ErrSilent", st.Err)
	}
	d := <-backoffs
	fake.Advance(d)
	f.rec.waitPhase(t, PhaseLive)
	select {
	case dup := <-f.rec.states:
		t.Fatalf("same instance and seq handed on again: %+v", dup)
	case <-time.After(50 * time.Millisecond):
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func TestServeUntilCancelled(t *testing.T) {
	srv, err := NewServer(ServerOptions{Tokens: []string{testToken}, Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	srv.Publish(State{Layout: "wall"})
	f := startFollower(t, "ws://"+ln.Addr().String(), testToken, nil)
	if st := f.rec.next(t); st.Layout != "wall" {
		t.Fatalf("%+v", st)
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	st := f.rec.waitPhase(t, PhaseReconnecting)
	if !strings.Contains(st.Err.Error(), "1001") {
		t.Fatalf("follower saw %v, want the 1001 shutdown", st.Err)
	}
}
