package alertmanager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	commoncfg "github.com/prometheus/common/config"

	"github.com/opscockpit/opscockpit/datasource"
)

func TestPollerSubscribe(t *testing.T) {
	am := newFakeAM(t, string(readFixture(t, "api_v2_alerts.json")))
	reg := prometheus.NewRegistry()
	p, clk := newTestPoller(t, []string{am.URL}, func(o *PollerOptions) { o.Metrics = NewMetrics(reg) })
	if h := p.Health(); h.State != datasource.HealthUnknown || h.Kind != HealthKind || h.Source != "main" {
		t.Fatalf("health before the first poll: %+v", h)
	}
	sub, err := p.Subscribe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	ev := recv(t, sub, 5*time.Second)
	if ev.Kind != datasource.Snapshot || ev.Source != "main" || len(ev.Alerts) != 5 {
		t.Fatalf("first event: %s", describe(ev))
	}
	q := am.query()
	for _, k := range []string{"active", "silenced", "inhibited", "unprocessed"} {
		if v := q[k]; len(v) != 1 || v[0] != "true" {
			t.Errorf("query %s = %v", k, v)
		}
	}
	if h := p.Health(); h.State != datasource.HealthUp || !h.LastSuccess.Equal(t0) || h.LastError != "" {
		t.Errorf("health: %+v", h)
	}

	// The next poll comes one interval later on the clock, with what the server has now.
	am.setAlerts(jsonList(apiAlertJSON("f1", "active", t0, nil, nil)))
	clk.BlockUntil(1)
	clk.Advance(DefaultInterval)
	ev = recv(t, sub, 5*time.Second)
	if ev.Kind != datasource.Snapshot || len(ev.Alerts) != 1 || ev.Alerts[0].Fingerprint != "f1" {
		t.Fatalf("second event: %s", describe(ev))
	}
	if got := metricValue(p.metrics.polls.WithLabelValues("main", "127.0.0.1", "ok")); got != 2 {
		t.Errorf("polls ok = %v", got)
	}
	if got := metricValue(p.metrics.received.WithLabelValues("main")); got != 6 {
		t.Errorf("alerts received = %v", got)
	}
	if got := metricValue(p.metrics.peerUp.WithLabelValues("main", "127.0.0.1")); got != 1 {
		t.Errorf("peer up = %v", got)
	}
}

// TestPollerA1OnePeerDown: one of two HA peers fails in various ways; the other's alerts
// keep coming, the source stays up, and per-peer health names the broken one.
func TestPollerA1OnePeerDown(t *testing.T) {
	body := jsonList(apiAlertJSON("f1", "active", t0, nil, nil), apiAlertJSON("f2", "suppressed", t0, nil, nil))
	tests := []struct {
		name  string
		fault http.HandlerFunc // nil: connection refused
		kind  Kind
	}{
		{"503", reply(503, "text/plain", "service unavailable"), KindUnavailable},
		{"refused", nil, KindNetwork},
		{"proxy HTML with 200", reply(200, "text/html", "<html><title>Sign in</title></html>"), KindBadResponse},
		{"hangs past the timeout", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, KindTimeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			good := newFakeAM(t, body)
			badURL := refusedURL(t)
			if tc.fault != nil {
				bad := newFakeAM(t, body)
				bad.setFault(tc.fault)
				badURL = bad.URL
			}
			reg := prometheus.NewRegistry()
			for _, order := range [][]string{{badURL, good.URL}, {good.URL, badURL}} {
				p, _ := newTestPoller(t, order, func(o *PollerOptions) {
					o.Metrics = NewMetrics(reg)
					o.Timeout = 300 * time.Millisecond
				})
				sub, err := p.Subscribe(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				ev := recv(t, sub, 5*time.Second)
				sub.Close()
				if len(ev.Alerts) != 2 || ev.Kind != datasource.Snapshot {
					t.Fatalf("event %s", describe(ev))
				}
				h := p.Health()
				if h.State != datasource.HealthUp || !strings.Contains(h.LastError, "1 of 2 peers down") {
					t.Errorf("source health %+v", h)
				}
				badName := p.peers[0].name
				if order[0] != badURL {
					badName = p.peers[1].name
				}
				if !strings.Contains(h.LastError, badName+" (since ") {
					t.Errorf("LastError does not name %s: %q", badName, h.LastError)
				}
				for i, ph := range p.PeerHealth() {
					wantDown := order[i] == badURL
					if wantDown != (ph.State == datasource.HealthDown) || !strings.HasPrefix(ph.Source, "main (") {
						t.Errorf("peer %d health %+v", i, ph)
					}
					if wantDown && (ph.ErrorSince.IsZero() || ph.LastError == "") {
						t.Errorf("down peer without since/reason: %+v", ph)
					}
				}
				// Poll returns the same, and its error-free result says the peer's kind in metrics.
				if _, err := p.Poll(context.Background()); err != nil {
					t.Fatal(err)
				}
				if got := metricValue(p.metrics.polls.WithLabelValues("main", badName, string(tc.kind))); got < 1 {
					t.Errorf("no poll counted as %s for %s", tc.kind, badName)
				}
				if got := metricValue(p.metrics.peerUp.WithLabelValues("main", badName)); got != 0 {
					t.Errorf("peer_up of the bad peer = %v", got)
				}
			}
		})
	}
}

// TestPollerHADedupe: both peers hold the same alert; the newest update wins.
func TestPollerHADedupe(t *testing.T) {
	older := apiAlertJSON("dup", "active", t0.Add(-time.Minute), nil, map[string]string{"summary": "old"})
	newer := apiAlertJSON("dup", "suppressed", t0, nil, map[string]string{"summary": "new"})
	tests := []struct {
		name         string
		first, other string
	}{
		{"newer on the second peer", older, newer},
		{"newer on the first peer", newer, older},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newFakeAM(t, jsonList(tc.first, apiAlertJSON("only-a", "active", t0, nil, nil)))
			b := newFakeAM(t, jsonList(tc.other, apiAlertJSON("only-b", "active", t0, nil, nil)))
			p, _ := newTestPoller(t, []string{a.URL, b.URL}, nil)
			ev, err := p.Poll(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got := byFingerprint(ev.Alerts)
			if len(ev.Alerts) != 3 || len(got) != 3 {
				t.Fatalf("event %s", describe(ev))
			}
			if d := got["dup"]; d.Annotations["summary"] != "new" || d.State != datasource.StateSuppressed || !d.UpdatedAt.Equal(t0) {
				t.Errorf("dup = %+v", d)
			}
		})
	}
}

// TestPollerA2AllDown: every peer down for 20 minutes of clock time. No event comes
// (certainly no empty snapshot), health is down, the wait doubles to its cap; after
// recovery snapshots come back within one wait.
func TestPollerA2AllDown(t *testing.T) {
	body := jsonList(apiAlertJSON("f1", "active", t0, nil, nil))
	a, b := newFakeAM(t, body), newFakeAM(t, body)
	waits := make(chan time.Duration, 100)
	p, clk := newTestPoller(t, []string{a.URL, b.URL}, nil)
	p.waitHook = func(d time.Duration) { waits <- d }
	p.jitter = func() float64 { return 0 }

	sub, err := p.Subscribe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if ev := recv(t, sub, 5*time.Second); len(ev.Alerts) != 1 {
		t.Fatalf("first event %s", describe(ev))
	}
	// next returns the wait the loop chose after its latest poll, once its timer is armed.
	next := func() time.Duration {
		t.Helper()
		select {
		case d := <-waits:
			clk.BlockUntil(1)
			return d
		case <-time.After(5 * time.Second):
			t.Fatal("the loop chose no wait")
		}
		return 0
	}
	d := next()
	if d != DefaultInterval {
		t.Fatalf("wait after a good poll = %s", d)
	}

	a.setFault(reply(503, "text/plain", "down for maintenance"))
	b.setFault(reply(502, "text/html", "<html><title>502 Bad Gateway</title></html>"))
	firstFailure := clk.Now().Add(d)
	var seen []time.Duration
	for clk.Now().Sub(firstFailure) < 20*time.Minute {
		clk.Advance(d)
		d = next()
		seen = append(seen, d)
		select {
		case ev := <-sub.C():
			t.Fatalf("event while every peer is down: %s", describe(ev))
		default:
		}
	}
	want := []time.Duration{15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute}
	for i, w := range seen {
		if i < len(want) && w != want[i] || i >= len(want) && w != DefaultMaxBackoff {
			t.Fatalf("waits %v, want %v then the cap", seen, want)
		}
	}
	h := p.Health()
	if h.State != datasource.HealthDown || !h.ErrorSince.Equal(firstFailure) || !h.LastSuccess.Equal(t0) ||
		!strings.Contains(h.LastError, "all 2 peers down") || !strings.Contains(h.LastError, "503") || !strings.Contains(h.LastError, "502 Bad Gateway") {
		t.Errorf("health during the outage: %+v", h)
	}
	for _, ph := range p.PeerHealth() {
		if ph.State != datasource.HealthDown || !ph.ErrorSince.Equal(firstFailure) {
			t.Errorf("peer health %+v", ph)
		}
	}
	if _, err := p.Poll(context.Background()); err == nil || !datasource.Retryable(err) {
		t.Errorf("Poll during the outage: %v", err)
	} else {
		asError(t, err, KindUnavailable)
	}

	// Recovery: the next poll (one capped wait away at most) brings a snapshot.
	a.setFault(nil)
	clk.Advance(d)
	ev := recv(t, sub, 5*time.Second)
	if ev.Kind != datasource.Snapshot || len(ev.Alerts) != 1 {
		t.Fatalf("after recovery: %s", describe(ev))
	}
	if d := next(); d != DefaultInterval {
		t.Errorf("wait after recovery = %s", d)
	}
	if h := p.Health(); h.State != datasource.HealthUp || !strings.Contains(h.LastError, "1 of 2 peers down") {
		t.Errorf("health after recovery: %+v", h)
	}
	t.Logf("%d polls in 20 minutes of outage; waits %v", len(seen), seen)
}

func TestBackoff(t *testing.T) {
	p, _ := newTestPoller(t, []string{"http://am:9093"}, func(o *PollerOptions) { o.Interval = 10 * time.Second; o.MaxBackoff = time.Minute })
	tests := []struct {
		failures int
		jitter   float64
		want     time.Duration
	}{
		{1, 0, 10 * time.Second},
		{2, 0, 20 * time.Second},
		{3, 0, 40 * time.Second},
		{4, 0, time.Minute},
		{100, 0, time.Minute},
		{1, 0.5, 9 * time.Second},
		{100, 0.999999, 48 * time.Second},
	}
	for _, tc := range tests {
		p.jitter = func() float64 { return tc.jitter }
		if got := p.backoff(tc.failures); got.Round(time.Millisecond) != tc.want {
			t.Errorf("backoff(%d, jitter %v) = %s, want %s", tc.failures, tc.jitter, got, tc.want)
		}
	}
	p2, _ := newTestPoller(t, []string{"http://am:9093"}, nil) // the real jitter source
	for range 1000 {
		if d := p2.backoff(50); d > DefaultMaxBackoff || d < DefaultMaxBackoff*4/5 {
			t.Fatalf("jittered backoff %s outside [96s, 2m]", d)
		}
	}
}

// TestPollerSlowSubscriber: a subscriber that does not read never holds polling back,
// and then finds only the newest snapshot waiting.
func TestPollerSlowSubscriber(t *testing.T) {
	am := newFakeAM(t, jsonList(apiAlertJSON("v0", "active", t0, nil, nil)))
	reg := prometheus.NewRegistry()
	waits := make(chan time.Duration, 100)
	p, clk := newTestPoller(t, []string{am.URL}, func(o *PollerOptions) { o.Metrics = NewMetrics(reg) })
	p.waitHook = func(d time.Duration) { waits <- d }
	sub, err := p.Subscribe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	<-waits
	for i := 1; i <= 5; i++ {
		am.setAlerts(jsonList(apiAlertJSON(fmt.Sprint("v", i), "active", t0, nil, nil)))
		clk.BlockUntil(1)
		clk.Advance(DefaultInterval)
		select {
		case <-waits:
		case <-time.After(5 * time.Second):
			t.Fatalf("poll %d did not finish: polling is blocked", i)
		}
	}
	if n := am.hits.Load(); n != 6 {
		t.Errorf("%d polls, want 6", n)
	}
	ev := recv(t, sub, time.Second)
	if len(ev.Alerts) != 1 || ev.Alerts[0].Fingerprint != "v5" {
		t.Fatalf("waiting event %s, want the newest (v5)", describe(ev))
	}
	noEvent(t, sub, 50*time.Millisecond)
	if got := metricValue(p.metrics.coalesced.WithLabelValues("main")); got != 5 {
		t.Errorf("coalesced = %v, want 5", got)
	}
}

// TestPollerSubscribers: one loop for many subscribers; a late one gets the latest
// snapshot at once; the loop stops with the last subscriber; ctx ends a feed.
func TestPollerSubscribers(t *testing.T) {
	am := newFakeAM(t, jsonList(apiAlertJSON("f1", "active", t0, nil, nil)))
	p, clk := newTestPoller(t, []string{am.URL}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	first, err := p.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	recv(t, first, 5*time.Second)
	clk.BlockUntil(1)
	second, err := p.Subscribe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ev := recv(t, second, time.Second); len(ev.Alerts) != 1 {
		t.Fatalf("late subscriber got %s", describe(ev))
	}
	if n := am.hits.Load(); n != 1 {
		t.Errorf("%d polls for two subscribers, want 1", n)
	}
	cancel() // ends the first feed only
	select {
	case _, ok := <-first.C():
		if ok {
			t.Fatal("event after cancel")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("feed not closed after its ctx ended")
	}
	if first.Err() != nil {
		t.Errorf("Err after cancel = %v", first.Err())
	}
	clk.Advance(DefaultInterval)
	if ev := recv(t, second, 5*time.Second); len(ev.Alerts) != 1 {
		t.Fatalf("second subscriber after the first left: %s", describe(ev))
	}
	second.Close()
	second.Close() // twice is fine
	deadline := time.Now().Add(5 * time.Second)
	for clk.Waiters() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if clk.Waiters() != 0 {
		t.Fatal("the loop still waits after the last subscriber left")
	}
	hits := am.hits.Load()
	clk.Advance(time.Hour)
	time.Sleep(20 * time.Millisecond)
	if am.hits.Load() != hits {
		t.Error("polled with no subscriber")
	}
	if _, err := p.Subscribe(ctx); err == nil {
		t.Error("Subscribe with an ended ctx succeeded")
	}
}

// TestPollerErrors: each way a peer can fail is an *Error of the right kind with a
// short message that says what to do.
func TestPollerErrors(t *testing.T) {
	one := apiAlertJSON("f", "active", t0, nil, nil)
	huge := "[" + strings.Repeat(one+",", 20) + one + "]"
	tests := []struct {
		name    string
		fault   http.HandlerFunc
		mod     func(*PollerOptions)
		kind    Kind
		status  int
		contain string
	}{
		{"401", reply(401, "text/plain", "Unauthorized"), nil, KindAuth, 401, "did not accept the credentials"},
		{"403", reply(403, "text/plain", "forbidden"), nil, KindAuth, 403, "not allowed"},
		{"404", reply(404, "text/plain", "404 page not found"), nil, KindBadRequest, 404, "no Alertmanager API v2 there"},
		{"500 with JSON string", reply(500, "application/json", `"failed to get alerts: boom"`), nil, KindUnavailable, 500, "failed to get alerts: boom"},
		{"429", reply(429, "", ""), nil, KindUnavailable, 429, "overloaded"},
		{"502 HTML", reply(502, "text/html", "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"), nil, KindUnavailable, 502, "“502 Bad Gateway”"},
		{"302 not followed", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "/elsewhere")
			w.WriteHeader(302)
		},
			func(o *PollerOptions) {
				o.HTTPConfig = commoncfg.HTTPClientConfig{FollowRedirects: false, EnableHTTP2: true}
			}, KindBadResponse, 302, "redirect"},
		{"200 HTML", reply(200, "text/html", "<html><title>Log in</title></html>"), nil, KindBadResponse, 200, "not an Alertmanager API response"},
		{"200 truncated JSON", reply(200, "application/json", `[{"fingerprint":"a"`), nil, KindBadResponse, 200, "malformed"},
		{"200 wrong shape", reply(200, "application/json", `{"status":"success","data":[]}`), nil, KindBadResponse, 200, "expects an array"},
		{"too large", reply(200, "application/json", huge), func(o *PollerOptions) { o.MaxResponseBytes = 1024 }, KindTooLarge, 0, "over 1 KiB"},
		{"too large, chunked", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			for range 10 {
				io.WriteString(w, huge[:400])
				w.(http.Flusher).Flush()
			}
		}, func(o *PollerOptions) { o.MaxResponseBytes = 1024 }, KindTooLarge, 0, "over 1 KiB"},
		{"timeout", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, func(o *PollerOptions) { o.Timeout = 200 * time.Millisecond }, KindTimeout, 0, "before the deadline"},
		{"cut short", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			io.WriteString(w, `[{"fingerprint":`)
			panic(http.ErrAbortHandler)
		}, nil, KindNetwork, 0, "closed before a full answer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			am := newFakeAM(t, "[]")
			am.setFault(tc.fault)
			p, _ := newTestPoller(t, []string{am.URL}, tc.mod)
			_, err := p.Poll(context.Background())
			e := asError(t, err, tc.kind)
			if e.Status != tc.status || !strings.Contains(e.Msg, tc.contain) {
				t.Errorf("status %d msg %q; want %d and %q", e.Status, e.Msg, tc.status, tc.contain)
			}
			want := tc.kind == KindUnavailable || tc.kind == KindTimeout || tc.kind == KindNetwork || tc.kind == KindBadResponse
			if datasource.Retryable(err) != want {
				t.Errorf("Retryable = %v", !want)
			}
			if h := p.Health(); h.State != datasource.HealthDown || h.LastError != e.Msg {
				t.Errorf("health %+v", h)
			}
		})
	}
	t.Run("refused", func(t *testing.T) {
		p, _ := newTestPoller(t, []string{refusedURL(t)}, nil)
		_, err := p.Poll(context.Background())
		e := asError(t, err, KindNetwork)
		if !strings.Contains(e.Msg, "connection refused") {
			t.Errorf("msg %q", e.Msg)
		}
	})
	t.Run("unknown host", func(t *testing.T) {
		p, _ := newTestPoller(t, []string{"http://am.invalid:9093"}, nil)
		_, err := p.Poll(ctxTimeout(t, 5*time.Second))
		var e *Error
		if !errors.As(err, &e) || (e.Kind != KindNetwork && e.Kind != KindTimeout) {
			t.Fatalf("%T %v", err, err)
		}
	})
	t.Run("TLS unknown authority", func(t *testing.T) {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "[]") }))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.StartTLS()
		defer srv.Close()
		p, _ := newTestPoller(t, []string{srv.URL}, nil)
		_, err := p.Poll(context.Background())
		e := asError(t, err, KindTLS)
		if !strings.Contains(e.Msg, "unknown authority") || datasource.Retryable(err) {
			t.Errorf("msg %q", e.Msg)
		}
	})
	t.Run("https to a plain server", func(t *testing.T) {
		am := newFakeAM(t, "[]")
		p, _ := newTestPoller(t, []string{strings.Replace(am.URL, "http://", "https://", 1)}, nil)
		_, err := p.Poll(context.Background())
		e := asError(t, err, KindTLS)
		if !strings.Contains(e.Msg, "does not speak TLS") {
			t.Errorf("msg %q", e.Msg)
		}
	})
	t.Run("cancelled by the caller leaves health alone", func(t *testing.T) {
		am := newFakeAM(t, "[]")
		am.setFault(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
		p, _ := newTestPoller(t, []string{am.URL}, nil)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		if _, err := p.Poll(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
		if h := p.Health(); h.State != datasource.HealthUnknown {
			t.Errorf("health %+v", h)
		}
	})
}

func TestNewPollerValidation(t *testing.T) {
	tests := []struct {
		name string
		opts PollerOptions
		want string
	}{
		{"no name", PollerOptions{URLs: []string{"http://am:9093"}}, "a name is required"},
		{"no URLs", PollerOptions{Name: "m"}, "no URLs"},
		{"bad scheme", PollerOptions{Name: "m", URLs: []string{"ftp://am:9093"}}, "want an http"},
		{"no host", PollerOptions{Name: "m", URLs: []string{"http:///x"}}, "no host"},
		{"api path", PollerOptions{Name: "m", URLs: []string{"http://am:9093/api/v2/"}}, "leave out the /api"},
		{"twice", PollerOptions{Name: "m", URLs: []string{"http://am:9093", "http://u:p@am:9093/"}}, "listed twice"},
		{"unparsable", PollerOptions{Name: "m", URLs: []string{"http://user:s3cr3t-value@am:bad/"}}, "invalid"},
		{"bad http_config", PollerOptions{Name: "m", URLs: []string{"http://am:9093"}, HTTPConfig: commoncfg.HTTPClientConfig{
			BearerToken: "s3cr3t-value", BasicAuth: &commoncfg.BasicAuth{Username: "u", Password: "s3cr3t-value"}}}, "http_config"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewPoller(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cr3t-value") {
				t.Errorf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestPeerNames(t *testing.T) {
	tests := []struct {
		urls []string
		want []string
	}{
		{[]string{"http://am-1.example:9093", "http://am-2.example:9093"}, []string{"am-1", "am-2"}},
		{[]string{"http://am.dc1.example:9093", "http://am.dc2.example:9093"}, []string{"am.dc1.example", "am.dc2.example"}},
		{[]string{"http://127.0.0.1:9093", "http://127.0.0.1:9094"}, []string{"127.0.0.1:9093", "127.0.0.1:9094"}},
		{[]string{"http://10.0.0.1:9093"}, []string{"10.0.0.1"}},
		{[]string{"http://am:9093/a", "https://am:9093/b"}, []string{"http://am:9093/a", "https://am:9093/b"}},
		{[]string{"http://user:pw@am-1:9093"}, []string{"am-1"}},
	}
	for _, tc := range tests {
		p, _ := newTestPoller(t, tc.urls, nil)
		var got []string
		for _, pr := range p.peers {
			got = append(got, pr.name)
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%v → %v, want %v", tc.urls, got, tc.want)
		}
	}
}

// TestPollerConcurrentUse runs subscriptions, polls and health reads side by side for
// the race detector.
func TestPollerConcurrentUse(t *testing.T) {
	am := newFakeAM(t, string(readFixture(t, "api_v2_alerts.json")))
	p, clk := newTestPoller(t, []string{am.URL, refusedURL(t)}, nil)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				sub, err := p.Subscribe(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				select {
				case <-sub.C():
				case <-time.After(20 * time.Millisecond):
				}
				sub.Close()
			}
		})
	}
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			p.Health()
			p.PeerHealth()
			clk.Advance(time.Second)
			time.Sleep(time.Millisecond)
		}
	})
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
}
