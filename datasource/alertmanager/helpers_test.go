package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
)

// t0 is the fake clock's start; the fixtures are stamped around it.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeAM is an Alertmanager API v2 on httptest whose alerts and faults a test sets.
type fakeAM struct {
	*httptest.Server
	hits atomic.Int64

	mu        sync.Mutex
	alerts    string                 // body of GET /api/v2/alerts
	fault     http.HandlerFunc       // when set, answers every request
	silences  map[string]*apiSilence // by ID
	order     []string               // silence IDs in creation order
	lastQuery map[string][]string    // of the last alerts request
	lastAuth  string                 // Authorization header of the last request
	posted    []map[string]any       // bodies of POST /api/v2/silences
	seenPaths []string               // method and path of every request
	onRequest func(r *http.Request)  // called first, if set
	nextID    int
}

func newFakeAM(t *testing.T, alerts string) *fakeAM {
	t.Helper()
	f := &fakeAM{alerts: alerts, silences: map[string]*apiSilence{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v2/alerts", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.lastQuery = r.URL.Query()
		body := f.alerts
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	})
	mux.HandleFunc("GET /api/v2/silences", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		list := make([]*apiSilence, 0, len(f.order))
		for _, id := range f.order {
			list = append(list, f.silences[id])
		}
		b, _ := json.Marshal(list)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
	mux.HandleFunc("POST /api/v2/silences", func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var generic map[string]any
		var s apiSilence
		if json.Unmarshal(raw, &generic) != nil || json.Unmarshal(raw, &s) != nil {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `"invalid silence"`)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.posted = append(f.posted, generic)
		f.nextID++
		s.ID = fmt.Sprintf("sil-%d", f.nextID)
		s.Status = &struct {
			State string `json:"state"`
		}{SilenceActive}
		f.silences[s.ID] = &s
		f.order = append(f.order, s.ID)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"silenceID":%q}`, s.ID)
	})
	mux.HandleFunc("DELETE /api/v2/silence/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		s, ok := f.silences[r.PathValue("id")]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		s.Status.State = SilenceExpired
		w.WriteHeader(http.StatusOK)
	})
	f.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		f.mu.Lock()
		f.lastAuth = r.Header.Get("Authorization")
		f.seenPaths = append(f.seenPaths, r.Method+" "+r.URL.Path)
		fault, hook := f.fault, f.onRequest
		f.mu.Unlock()
		if hook != nil {
			hook(r)
		}
		if fault != nil {
			fault(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	f.Config.ErrorLog = log.New(io.Discard, "", 0)
	f.Start()
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAM) setAlerts(body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.alerts = body
}

func (f *fakeAM) setFault(h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fault = h
}

func (f *fakeAM) query() map[string][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastQuery
}

// reply answers with a fixed status, content type and body.
func reply(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// refusedURL is an http URL on loopback where nothing listens.
func refusedURL(t *testing.T) string { return refusedURLs(t, 1)[0] }

// refusedURLs is n distinct such URLs.
func refusedURLs(t *testing.T, n int) []string {
	t.Helper()
	var urls []string
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		urls = append(urls, "http://"+ln.Addr().String())
	}
	for _, ln := range lns {
		ln.Close()
	}
	return urls
}

// apiAlertJSON is one API v2 alert as Alertmanager writes it.
func apiAlertJSON(fp, state string, updated time.Time, labels map[string]string, annotations map[string]string) string {
	if labels == nil {
		labels = map[string]string{"alertname": "Test" + fp}
	}
	if annotations == nil {
		annotations = map[string]string{}
	}
	lb, _ := json.Marshal(labels)
	ab, _ := json.Marshal(annotations)
	return fmt.Sprintf(`{"annotations":%s,"endsAt":%q,"fingerprint":%q,"receivers":[{"name":"web"}],"startsAt":%q,`+
		`"status":{"inhibitedBy":[],"silencedBy":[],"state":%q},"updatedAt":%q,"generatorURL":"http://prom:9090/graph","labels":%s}`,
		ab, t0.Add(time.Hour).Format(time.RFC3339Nano), fp, t0.Add(-10*time.Minute).Format(time.RFC3339Nano),
		state, updated.Format(time.RFC3339Nano), lb)
}

func jsonList(items ...string) string { return "[" + strings.Join(items, ",") + "]" }

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// syncBuffer collects log output from several goroutines.
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

func testLogger(buf *syncBuffer) *slog.Logger {
	if buf == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newTestPoller builds a Poller on a fake clock; mod adjusts the options.
func newTestPoller(t *testing.T, urls []string, mod func(*PollerOptions)) (*Poller, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(t0)
	opts := PollerOptions{Name: "main", URLs: urls, Clock: clk, Timeout: 2 * time.Second, Log: testLogger(nil)}
	if mod != nil {
		mod(&opts)
	}
	p, err := NewPoller(opts)
	if err != nil {
		t.Fatalf("NewPoller: %v", err)
	}
	return p, clk
}

// recv waits (in real time) for the next event on sub.
func recv(t *testing.T, sub datasource.Subscription, within time.Duration) datasource.AlertEvent {
	t.Helper()
	select {
	case ev, ok := <-sub.C():
		if !ok {
			t.Fatalf("feed closed: %v", sub.Err())
		}
		return ev
	case <-time.After(within):
		t.Fatalf("no event within %s", within)
	}
	return datasource.AlertEvent{}
}

// noEvent asserts nothing arrives on sub for a while.
func noEvent(t *testing.T, sub datasource.Subscription, wait time.Duration) {
	t.Helper()
	select {
	case ev, ok := <-sub.C():
		if ok {
			t.Fatalf("unexpected event: %s", describe(ev))
		}
	case <-time.After(wait):
	}
}

func describe(ev datasource.AlertEvent) string {
	kind := "snapshot"
	if ev.Kind == datasource.Delta {
		kind = "delta"
	}
	parts := make([]string, len(ev.Alerts))
	for i, a := range ev.Alerts {
		parts[i] = a.Fingerprint + "=" + string(a.State)
	}
	return fmt.Sprintf("%s of %s [%s] truncated=%d", kind, ev.Source, strings.Join(parts, " "), ev.Truncated)
}

// byFingerprint indexes an event's alerts.
func byFingerprint(alerts []datasource.Alert) map[string]datasource.Alert {
	m := make(map[string]datasource.Alert, len(alerts))
	for _, a := range alerts {
		m[a.Fingerprint] = a
	}
	return m
}

// asError asserts err is an *Error of the wanted kind with a short one-line message.
func asError(t *testing.T, err error, want Kind) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want a %s error, got none", want)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error of kind %s, got %T: %v", want, err, err)
	}
	if e.Kind != want {
		t.Fatalf("kind = %s, want %s (msg %q)", e.Kind, want, e.Msg)
	}
	if len(e.Msg) > MaxErrorLen || strings.ContainsAny(e.Msg, "\n\r") {
		t.Fatalf("message is not one line of at most %d bytes: %q", MaxErrorLen, e.Msg)
	}
	return e
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// hub applies events the way the cockpit's hub does: a Snapshot replaces, a Delta
// upserts, and per fingerprint the newest UpdatedAt wins.
type hub map[string]datasource.Alert

func (h hub) apply(ev datasource.AlertEvent) hub {
	if ev.Kind == datasource.Snapshot {
		h = hub{}
	}
	for _, a := range ev.Alerts {
		if old, ok := h[a.Fingerprint]; ok && old.UpdatedAt.After(a.UpdatedAt) {
			continue
		}
		h[a.Fingerprint] = a
	}
	return h
}

// metricValue reads one counter or gauge child.
func metricValue(m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		panic(err)
	}
	switch {
	case d.Counter != nil:
		return d.Counter.GetValue()
	case d.Gauge != nil:
		return d.Gauge.GetValue()
	}
	return -1
}
