package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
)

// whAlert is one alert of a test notification.
type whAlert struct {
	fp, status     string
	startsAt, ends time.Time
	labels         map[string]string
}

// whPayload is a version 4 notification as Alertmanager writes it.
func whPayload(truncated int, alerts ...whAlert) string {
	type alert struct {
		Status       string            `json:"status"`
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     time.Time         `json:"startsAt"`
		EndsAt       time.Time         `json:"endsAt"`
		GeneratorURL string            `json:"generatorURL"`
		Fingerprint  string            `json:"fingerprint"`
	}
	msg := map[string]any{
		"version": "4", "groupKey": `{}:{alertname="Test"}`, "truncatedAlerts": truncated,
		"status": "firing", "receiver": "opscockpit", "groupLabels": map[string]string{"alertname": "Test"},
		"commonLabels": map[string]string{}, "commonAnnotations": map[string]string{}, "externalURL": "http://am:9093",
	}
	var list []alert
	for _, a := range alerts {
		labels := a.labels
		if labels == nil {
			labels = map[string]string{"alertname": "Test", "fp": a.fp}
		}
		list = append(list, alert{Status: a.status, Labels: labels, Annotations: map[string]string{"summary": "s"},
			StartsAt: a.startsAt, EndsAt: a.ends, GeneratorURL: "http://prom:9090/graph", Fingerprint: a.fp})
	}
	msg["alerts"] = list
	b, err := json.Marshal(msg)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func firing(fp string, start time.Time) whAlert {
	return whAlert{fp: fp, status: "firing", startsAt: start}
}

func resolved(fp string, start, end time.Time) whAlert {
	return whAlert{fp: fp, status: "resolved", startsAt: start, ends: end}
}

// webhookRig is a receiver on httptest with a fake clock and its own metrics.
type webhookRig struct {
	w   *Webhook
	srv *httptest.Server
	clk *clock.Fake
	log *syncBuffer
}

func newWebhookRig(t *testing.T, mod func(*WebhookOptions)) *webhookRig {
	t.Helper()
	r := &webhookRig{clk: clock.NewFake(t0), log: &syncBuffer{}}
	opts := WebhookOptions{Name: "hook", Clock: r.clk, Metrics: NewMetrics(prometheus.NewRegistry()), Log: testLogger(r.log)}
	if mod != nil {
		mod(&opts)
	}
	w, err := NewWebhook(opts)
	if err != nil {
		t.Fatal(err)
	}
	r.w = w
	r.srv = httptest.NewServer(w.Handler())
	t.Cleanup(r.srv.Close)
	return r
}

// post sends body with a JSON content type and returns the status and answer.
func (r *webhookRig) post(t *testing.T, body string) (int, string) {
	t.Helper()
	return r.send(t, http.MethodPost, "application/json", strings.NewReader(body), int64(len(body)))
}

func (r *webhookRig) send(t *testing.T, method, contentType string, body io.Reader, size int64) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, r.srv.URL+"/alerts", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (r *webhookRig) subscribe(t *testing.T) datasource.Subscription {
	t.Helper()
	sub, err := r.w.Subscribe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sub.Close)
	return sub
}

func TestWebhookFixtures(t *testing.T) {
	r := newWebhookRig(t, nil)
	sub := r.subscribe(t)
	if ev := recv(t, sub, time.Second); ev.Kind != datasource.Snapshot || len(ev.Alerts) != 0 {
		t.Fatalf("first event %s, want an empty snapshot", describe(ev))
	}
	h := hub{}
	for _, f := range []string{"webhook_firing.json", "webhook_truncated.json", "webhook_resolved.json"} {
		r.clk.Advance(time.Second)
		if code, body := r.post(t, string(readFixture(t, f))); code != 200 {
			t.Fatalf("%s: %d %s", f, code, body)
		}
		ev := recv(t, sub, time.Second)
		if ev.Kind != datasource.Delta {
			t.Fatalf("%s: %s", f, describe(ev))
		}
		h = h.apply(ev)
		if f == "webhook_truncated.json" && ev.Truncated != 7 {
			t.Errorf("truncated = %d", ev.Truncated)
		}
	}
	want := map[string]datasource.AlertState{
		"3c8f2a7d9e1b4f60": datasource.StateResolved, "4d9f3b8e0f2c5a71": datasource.StateFiring,
		"b0b0b0b0b0b00001": datasource.StateFiring, "b0b0b0b0b0b00002": datasource.StateResolved,
	}
	for fp, st := range want {
		if h[fp].State != st {
			t.Errorf("%s: %s, want %s", fp, h[fp].State, st)
		}
	}
	if hl := r.w.Health(); hl.State != datasource.HealthUp || !hl.LastSuccess.Equal(t0.Add(3*time.Second)) || hl.Kind != WebhookHealthKind {
		t.Errorf("health %+v", hl)
	}
	if got := metricValue(r.w.metrics.received.WithLabelValues("hook")); got != 5 {
		t.Errorf("alerts received = %v", got)
	}
}

// TestWebhookA3 plays duplicates, replayed batches, resolved-before-firing and
// truncatedAlerts, and checks what a hub applying the events ends up with.
func TestWebhookA3(t *testing.T) {
	r := newWebhookRig(t, nil)
	sub := r.subscribe(t)
	recv(t, sub, time.Second) // the empty snapshot
	start := t0.Add(-10 * time.Minute)
	steps := []struct {
		name      string
		advance   time.Duration
		payload   string
		delivered []string // fingerprints in the event; nil: no event
		truncated int
		want      map[string]datasource.AlertState // the hub's view after the step
	}{
		{"firing", time.Second, whPayload(0, firing("A", start)), []string{"A"}, 0,
			map[string]datasource.AlertState{"A": datasource.StateFiring}},
		{"duplicate", time.Second, whPayload(0, firing("A", start)), []string{"A"}, 0,
			map[string]datasource.AlertState{"A": datasource.StateFiring}},
		{"resolved", time.Second, whPayload(0, resolved("A", start, t0.Add(time.Minute))), []string{"A"}, 0,
			map[string]datasource.AlertState{"A": datasource.StateResolved}},
		{"replayed firing batch with a new alert", time.Second, whPayload(0, firing("A", start), firing("B", t0)), []string{"B"}, 0,
			map[string]datasource.AlertState{"A": datasource.StateResolved, "B": datasource.StateFiring}},
		{"resolved before firing: the resolution", time.Second, whPayload(0, resolved("C", t0, t0.Add(2*time.Minute))), []string{"C"}, 0,
			map[string]datasource.AlertState{"A": datasource.StateResolved, "B": datasource.StateFiring, "C": datasource.StateResolved}},
		{"resolved before firing: the late firing", time.Second, whPayload(0, firing("C", t0)), nil, 0,
			map[string]datasource.AlertState{"A": datasource.StateResolved, "B": datasource.StateFiring, "C": datasource.StateResolved}},
		{"same alert twice in one batch", time.Second, whPayload(0, firing("B", t0), resolved("B", t0, t0.Add(3*time.Minute))), []string{"B"}, 0,
			map[string]datasource.AlertState{"A": datasource.StateResolved, "B": datasource.StateResolved, "C": datasource.StateResolved}},
		{"re-fire", time.Second, whPayload(0, firing("A", t0.Add(5*time.Minute))), []string{"A"}, 0,
			map[string]datasource.AlertState{"A": datasource.StateFiring, "B": datasource.StateResolved, "C": datasource.StateResolved}},
		{"replayed old resolution", time.Second, whPayload(0, resolved("A", start, t0.Add(time.Minute))), nil, 0,
			map[string]datasource.AlertState{"A": datasource.StateFiring, "B": datasource.StateResolved, "C": datasource.StateResolved}},
		{"older firing than known", time.Second, whPayload(0, firing("A", start)), nil, 0,
			map[string]datasource.AlertState{"A": datasource.StateFiring, "B": datasource.StateResolved, "C": datasource.StateResolved}},
		{"truncatedAlerts", time.Second, whPayload(5, firing("D", t0)), []string{"D"}, 5,
			map[string]datasource.AlertState{"A": datasource.StateFiring, "B": datasource.StateResolved, "C": datasource.StateResolved, "D": datasource.StateFiring}},
		{"firing with its old start long after the resolution is believed", DefaultReorderWindow + time.Minute, whPayload(0, firing("C", t0)), []string{"C"}, 0,
			map[string]datasource.AlertState{"A": datasource.StateFiring, "B": datasource.StateResolved, "C": datasource.StateFiring, "D": datasource.StateFiring}},
	}
	h := hub{}
	for _, st := range steps {
		r.clk.Advance(st.advance)
		if code, body := r.post(t, st.payload); code != 200 {
			t.Fatalf("%s: %d %s", st.name, code, body)
		}
		if st.delivered == nil {
			noEvent(t, sub, 30*time.Millisecond)
		} else {
			ev := recv(t, sub, time.Second)
			var fps []string
			for _, a := range ev.Alerts {
				fps = append(fps, a.Fingerprint)
				if !a.UpdatedAt.Equal(r.clk.Now()) {
					t.Errorf("%s: UpdatedAt %v, want the time received", st.name, a.UpdatedAt)
				}
				if a.State == datasource.StateResolved && a.EndsAt.IsZero() {
					t.Errorf("%s: resolved without EndsAt", st.name)
				}
			}
			if ev.Kind != datasource.Delta || strings.Join(fps, ",") != strings.Join(st.delivered, ",") || ev.Truncated != st.truncated {
				t.Fatalf("%s: event %s, want %v truncated %d", st.name, describe(ev), st.delivered, st.truncated)
			}
			h = h.apply(ev)
		}
		if len(h) != len(st.want) {
			t.Fatalf("%s: hub holds %d alerts, want %d", st.name, len(h), len(st.want))
		}
		for fp, state := range st.want {
			if h[fp].State != state {
				t.Fatalf("%s: %s is %s, want %s", st.name, fp, h[fp].State, state)
			}
		}
	}
	if got := metricValue(r.w.metrics.dropped.WithLabelValues("hook", "stale")); got != 4 {
		t.Errorf("stale drops = %v, want 4", got)
	}
}

// TestWebhookA4Malformed sends each kind of bad message, then a good one: every bad one
// gets its status and is counted, and the receiver keeps serving.
func TestWebhookA4Malformed(t *testing.T) {
	good := whPayload(0, firing("ok", t0))
	goodAlert := `{"status":"firing","labels":{"alertname":"X"},"annotations":{},"startsAt":"2026-03-01T12:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"f1"}`
	wrap := func(alerts string) string {
		return `{"version":"4","groupKey":"g","truncatedAlerts":0,"status":"firing","receiver":"r","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"","alerts":[` + alerts + `]}`
	}
	deep := `{"version":"4","alerts":[{"labels":{"a":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}}]}`
	hugeLabel := wrap(strings.Replace(goodAlert, `"alertname":"X"`, `"alertname":"X","big":"`+strings.Repeat("x", 1_000_000)+`"`, 1))
	oversize := wrap(strings.Repeat(goodAlert+",", 7000) + goodAlert)
	tests := []struct {
		name        string
		method      string
		contentType string
		body        string
		chunked     bool
		status      int
		reason      string
	}{
		{"GET", http.MethodGet, "", "", false, 405, reasonMethod},
		{"form post", "", "application/x-www-form-urlencoded", "a=b", false, 415, reasonContentType},
		{"no content type", "", "", good, false, 415, reasonContentType},
		{"invalid JSON", "", "", `{"version":"4","alerts":[`, false, 400, reasonInvalidJSON},
		{"empty body", "", "", ``, false, 400, reasonInvalidJSON},
		{"not JSON at all", "", "", `<html>hello</html>`, false, 400, reasonInvalidJSON},
		{"alerts of wrong type", "", "", `{"version":"4","alerts":"many"}`, false, 400, reasonWrongType},
		{"version as a number", "", "", `{"version":4,"alerts":[]}`, false, 400, reasonWrongType},
		{"label value a number", "", "", wrap(strings.Replace(goodAlert, `"X"`, `42`, 1)), false, 400, reasonWrongType},
		{"negative truncatedAlerts", "", "", strings.Replace(wrap(goodAlert), `"truncatedAlerts":0`, `"truncatedAlerts":-1`, 1), false, 400, reasonWrongType},
		{"bad timestamp", "", "", wrap(strings.Replace(goodAlert, `"2026-03-01T12:00:00Z"`, `"yesterday"`, 1)), false, 400, reasonWrongType},
		{"1000-deep nesting", "", "", deep, false, 400, reasonTooDeep},
		{"unknown version", "", "", strings.Replace(wrap(goodAlert), `"version":"4"`, `"version":"5"`, 1), false, 400, reasonUnknownVersion},
		{"no version", "", "", `{"alerts":[]}`, false, 400, reasonUnknownVersion},
		{"null", "", "", `null`, false, 400, reasonUnknownVersion},
		{"missing fingerprint", "", "", wrap(strings.Replace(goodAlert, `"fingerprint":"f1"`, `"fingerprint":""`, 1)), false, 400, reasonMissingFingerprint},
		{"unknown status", "", "", wrap(strings.Replace(goodAlert, `"status":"firing"`, `"status":"pending"`, 1)), false, 400, reasonBadStatus},
		{"1 MB label", "", "", hugeLabel, false, 400, reasonLabelTooLarge},
		{"invalid UTF-8", "", "", wrap(strings.Replace(goodAlert, `"X"`, "\"X\xff\xfe\"", 1)), false, 400, reasonInvalidUTF8},
		{"oversize body", "", "", oversize, false, 413, reasonTooLarge},
		{"oversize body, chunked", "", "", oversize, true, 413, reasonTooLarge},
	}
	if len(hugeLabel) > DefaultMaxBodyBytes || len(oversize) <= DefaultMaxBodyBytes {
		t.Fatalf("fixture sizes: label payload %d, oversize %d", len(hugeLabel), len(oversize))
	}
	r := newWebhookRig(t, nil)
	sub := r.subscribe(t)
	recv(t, sub, time.Second)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			ct := tc.contentType
			if ct == "" && tc.reason != reasonContentType {
				ct = "application/json; charset=utf-8"
			}
			var body io.Reader = strings.NewReader(tc.body)
			size := int64(len(tc.body))
			if tc.chunked {
				body, size = io.MultiReader(strings.NewReader(tc.body)), -1 // no length known
			}
			before := metricValue(r.w.metrics.bad.WithLabelValues("hook", tc.reason))
			code, answer := r.send(t, method, ct, body, size)
			if code != tc.status || !strings.HasPrefix(answer, tc.reason+":") || len(answer) > 300 {
				t.Errorf("got %d %q, want %d %s", code, truncate(answer, 300), tc.status, tc.reason)
			}
			if got := metricValue(r.w.metrics.bad.WithLabelValues("hook", tc.reason)); got != before+1 {
				t.Errorf("%s counted %v times", tc.reason, got-before)
			}
			noEvent(t, sub, 0)
			// The receiver keeps serving.
			r.clk.Advance(time.Second)
			if code, answer := r.post(t, good); code != 200 {
				t.Fatalf("good payload after a bad one: %d %s", code, answer)
			}
			if ev := recv(t, sub, time.Second); len(ev.Alerts) != 1 || ev.Alerts[0].Fingerprint != "ok" {
				t.Fatalf("event %s", describe(ev))
			}
		})
	}
	if h := r.w.Health(); h.State != datasource.HealthUp {
		t.Errorf("health %+v", h)
	}
}

// TestWebhookLogs: a rejected body is logged with at most 256 bytes of it, scrubbed, and
// a flood of bad messages costs one line per reason per second.
func TestWebhookLogs(t *testing.T) {
	r := newWebhookRig(t, nil)
	secret := "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2VuLXZhbHVl"
	body := `{"note":"` + secret + `", ` + strings.Repeat("x", 10_000)
	for range 50 {
		if code, _ := r.post(t, body); code != 400 {
			t.Fatalf("status %d", code)
		}
	}
	logs := r.log.String()
	if n := strings.Count(logs, "rejected a notification"); n != 1 {
		t.Errorf("%d log lines for 50 bad messages in the same second", n)
	}
	if strings.Contains(logs, "eyJhbGciOiJIUzI1NiJ9") || strings.Contains(logs, strings.Repeat("x", 300)) {
		t.Errorf("log leaks the token or too much body: %s", logs)
	}
	if !strings.Contains(logs, "reason=invalid_json") || !strings.Contains(logs, "<secret>") {
		t.Errorf("log: %s", logs)
	}
	r.clk.Advance(2 * time.Second)
	r.post(t, body)
	if logs := r.log.String(); !strings.Contains(logs, "same_reason_not_logged=49") {
		t.Errorf("the next line does not say how many were not logged: %s", logs)
	}
	if h := r.w.Health(); !strings.Contains(h.LastError, "invalid_json") || h.State == datasource.HealthDown {
		t.Errorf("health %+v", h)
	}
}

// TestWebhookSlowSubscriber: the handler never waits for a subscriber; one that does
// not read gets the updates merged, the oldest dropped beyond its cap, while another
// subscriber gets everything.
func TestWebhookSlowSubscriber(t *testing.T) {
	r := newWebhookRig(t, func(o *WebhookOptions) { o.MaxPending = 50 })
	slow := r.subscribe(t)
	fast := r.subscribe(t)
	fastHub := hub{}.apply(recv(t, fast, time.Second))
	for i := range 200 {
		fp := fmt.Sprintf("fp-%03d", i)
		start := time.Now()
		if code, _ := r.post(t, whPayload(0, firing(fp, t0))); code != 200 {
			t.Fatalf("post %d: %d", i, code)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("post %d took %s: the handler waits for a subscriber", i, d)
		}
		// The subscriber that keeps up gets every update, whatever the other does.
		for _, ok := fastHub[fp]; !ok; _, ok = fastHub[fp] {
			fastHub = fastHub.apply(recv(t, fast, 5*time.Second))
		}
	}
	if len(fastHub) != 200 {
		t.Fatalf("fast subscriber has %d alerts", len(fastHub))
	}
	slowHub := hub{}
	events := 0
	for {
		select {
		case ev := <-slow.C():
			events++
			slowHub = slowHub.apply(ev)
			continue
		case <-time.After(100 * time.Millisecond):
		}
		break
	}
	if events > 2 || len(slowHub) != 50 {
		t.Fatalf("slow subscriber: %d events, %d alerts", events, len(slowHub))
	}
	for i := 150; i < 200; i++ {
		if _, ok := slowHub[fmt.Sprintf("fp-%03d", i)]; !ok {
			t.Fatalf("slow subscriber lacks the newest alert fp-%03d", i)
		}
	}
	if got := metricValue(r.w.metrics.dropped.WithLabelValues("hook", "slow_subscriber")); got != 150 {
		t.Errorf("dropped %v, want 150", got)
	}
	if got := metricValue(r.w.metrics.coalesced.WithLabelValues("hook")); got < 190 {
		t.Errorf("coalesced %v", got)
	}

	// Updates of one alert merge: a subscriber that was away gets at most the one in
	// hand and the latest of the rest, and ends up with the latest.
	for i, a := range []whAlert{firing("flap", t0), resolved("flap", t0, t0.Add(time.Second)), firing("flap", t0.Add(time.Minute)), resolved("flap", t0.Add(time.Minute), t0.Add(2*time.Minute))} {
		r.clk.Advance(time.Second)
		if code, _ := r.post(t, whPayload(0, a)); code != 200 {
			t.Fatalf("post %d: %d", i, code)
		}
	}
	flapHub, flapEvents := hub{}, 0
	for {
		select {
		case ev := <-slow.C():
			flapEvents++
			flapHub = flapHub.apply(ev)
			continue
		case <-time.After(100 * time.Millisecond):
		}
		break
	}
	if a := flapHub["flap"]; flapEvents > 2 || a.State != datasource.StateResolved || !a.EndsAt.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("%d events, flap = %+v", flapEvents, a)
	}
}

func TestWebhookSnapshotForNewSubscriber(t *testing.T) {
	r := newWebhookRig(t, nil)
	r.post(t, whPayload(0, firing("A", t0), resolved("B", t0.Add(-time.Hour), t0)))
	first := r.subscribe(t)
	ev := recv(t, first, time.Second)
	if ev.Kind != datasource.Snapshot || describe(ev) != "snapshot of hook [A=firing B=resolved] truncated=0" {
		t.Fatalf("first event %s", describe(ev))
	}
	r.clk.Advance(2 * time.Hour) // B resolved long ago: no longer in a snapshot
	later := r.subscribe(t)
	if ev := recv(t, later, time.Second); describe(ev) != "snapshot of hook [A=firing] truncated=0" {
		t.Fatalf("later subscriber: %s", describe(ev))
	}
	r.clk.Advance(DefaultRetention) // nothing heard of A for a day: forgotten
	r.post(t, whPayload(0, firing("C", t0.Add(3*time.Hour))))
	third := r.subscribe(t)
	if ev := recv(t, third, time.Second); describe(ev) != "snapshot of hook [C=firing] truncated=0" {
		t.Fatalf("after the retention: %s", describe(ev))
	}
}

func TestWebhookTrackingCap(t *testing.T) {
	r := newWebhookRig(t, func(o *WebhookOptions) { o.MaxTracked = 100 })
	for i := range 300 {
		r.clk.Advance(time.Second)
		r.post(t, whPayload(0, firing(fmt.Sprint("fp-", i), t0)))
	}
	r.w.mu.Lock()
	n := len(r.w.known)
	_, newest := r.w.known["fp-299"]
	r.w.mu.Unlock()
	if n > 100 || !newest {
		t.Errorf("remembers %d alerts (newest kept: %v)", n, newest)
	}
}

func TestWebhookServe(t *testing.T) {
	w, err := NewWebhook(WebhookOptions{Name: "hook", Log: testLogger(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if h := w.Health(); h.State != datasource.HealthUnknown {
		t.Fatalf("health before serving %+v", h)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Serve(ctx, ln) }()
	sub, err := w.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	recv(t, sub, time.Second)
	resp, err := http.Post("http://"+ln.Addr().String()+"/", "application/json", bytes.NewReader(readFixture(t, "webhook_firing.json")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ev := recv(t, sub, time.Second); len(ev.Alerts) != 2 {
		t.Fatalf("event %s", describe(ev))
	}
	if h := w.Health(); h.State != datasource.HealthUp {
		t.Errorf("health %+v", h)
	}
	// A second receiver cannot take the same port: it says so, and is down.
	w2, _ := NewWebhook(WebhookOptions{Name: "other", Log: testLogger(nil)})
	if err := w2.ListenAndServe(ctx, ln.Addr().String()); err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Errorf("ListenAndServe on a taken port: %v", err)
	}
	if h := w2.Health(); h.State != datasource.HealthDown || h.LastError == "" {
		t.Errorf("health after a failed listen %+v", h)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after ctx ended")
	}
	if _, ok := <-sub.C(); ok {
		t.Error("feed open after ctx ended")
	}
}

// TestWebhookConcurrentUse posts, subscribes and closes side by side for the race
// detector.
func TestWebhookConcurrentUse(t *testing.T) {
	r := newWebhookRig(t, nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 25 {
				r.post(t, whPayload(i%3, firing(fmt.Sprintf("g%d-%d", g, i), t0), resolved(fmt.Sprint("r", i), t0, t0.Add(time.Minute))))
			}
		})
	}
	for range 3 {
		wg.Go(func() {
			for range 10 {
				sub, err := r.w.Subscribe(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				select {
				case <-sub.C():
				case <-time.After(5 * time.Millisecond):
				}
				sub.Close()
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			r.w.Health()
			r.clk.Advance(time.Second)
		}
	})
	wg.Wait()
}
