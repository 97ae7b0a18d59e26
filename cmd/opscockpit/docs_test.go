package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/opscockpit/opscockpit/internal/testserver"
)

// TestDocsLiveScreenshots makes the README's live-metrics screenshots: a real
// Prometheus behind three small proxies, so that one dashboard shows a panel in each
// state — data, no data, partial (the proxy adds a warning), stale (the proxy starts
// failing after the first answers), error (bad PromQL) and loading (a source that never
// answers). It writes docs/live-snapshot.png with the headless renderer and, when a
// display is available, docs/live-window.png from a real window. Run it with
// `make docs` (OPSCOCKPIT_DOCS=1 under xvfb-run).
func TestDocsLiveScreenshots(t *testing.T) {
	if os.Getenv("OPSCOCKPIT_DOCS") == "" {
		t.Skip("set OPSCOCKPIT_DOCS=1 to regenerate docs screenshots (make docs)")
	}
	reg := prometheus.NewRegistry()
	lat := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "checkout_latency_seconds", Help: "p99"}, []string{"quantile"})
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "requests"}, []string{"code"})
	reg.MustRegister(lat, reqs)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
				lat.WithLabelValues("0.99").Set(0.25 + 0.1*float64(i%40)/40)
				lat.WithLabelValues("0.5").Set(0.08 + 0.02*float64(i%20)/20)
				reqs.WithLabelValues("200").Add(40)
				reqs.WithLabelValues("500").Add(float64(i % 3))
			}
		}
	}()
	exporter := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer closeNow(exporter)
	promURL := testserver.Prometheus(t, []string{strings.TrimPrefix(exporter.URL, "http://")},
		"groups:\n  - name: docs\n    rules:\n      - record: code:http_requests:rate10s\n        expr: sum by (code) (rate(http_requests_total[10s]))\n")
	waitForData(t, promURL, "count_over_time(code:http_requests:rate10s[1m]) > 10")

	target, _ := url.Parse(promURL)
	// partial: answers like Prometheus, plus a warning
	warn := httputil.NewSingleHostReverseProxy(target)
	warn.ModifyResponse = func(r *http.Response) error {
		r.Header.Del("Content-Length")
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return err
		}
		s := strings.Replace(string(body), `"status":"success"`, `"status":"success","warnings":["store eu-2 did not answer: the result may be incomplete"]`, 1)
		r.Body = io.NopCloser(strings.NewReader(s))
		r.ContentLength = int64(len(s))
		return nil
	}
	warnSrv := httptest.NewServer(warn)
	defer closeNow(warnSrv)
	// stale: a few good answers, then 503
	var served atomic.Int64
	flaky := httputil.NewSingleHostReverseProxy(target)
	flakySrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1) > 2 {
			http.Error(w, "upstream connect error: 503 Service Unavailable", http.StatusServiceUnavailable)
			return
		}
		flaky.ServeHTTP(w, r)
	}))
	defer closeNow(flakySrv)
	// loading: accepts and never answers
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer closeNow(hang)

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "opscockpit.yaml")
	cfg := fmt.Sprintf(`title: Checkout — live from Prometheus
metrics:
  refresh: 2s
  timeout: 2s
  sources:
    - {name: prod, url: %s}
    - {name: prod-eu2, url: %s}
    - {name: prod-flaky, url: %s}
    - {name: prod-hung, url: %s}
  panels:
    - {title: Checkout p99, type: stat, source: prod, query: 'checkout_latency_seconds{quantile="0.99"}', unit: s, thresholds: [{value: 0.3, color: amber}, {value: 0.5, color: red}]}
    - {title: Orders in flight, type: stat, source: prod, query: 'orders_in_flight{service="checkout"}'}
    - {title: Checkout p99 (eu-2), type: stat, source: prod-eu2, query: 'checkout_latency_seconds{quantile="0.99"}', unit: s}
    - {title: Error ratio (flaky proxy), type: stat, source: prod-flaky, query: 'sum(code:http_requests:rate10s{code="500"}) / sum(code:http_requests:rate10s)', unit: percentunit}
    - {title: Error budget, type: stat, source: prod, query: 'sum(rate(http_requests_total{code="500"}[5m]) / (', unit: percentunit}
    - {title: Saturation (hung source), type: stat, source: prod-hung, query: 'up', unit: percentunit}
    - {title: Requests by code, type: timeseries, source: prod, query: 'code:http_requests:rate10s', unit: reqps, legend: '{{code}}', range: 2m}
    - {title: Checkout latency, type: timeseries, source: prod, query: 'checkout_latency_seconds', unit: s, legend: 'p{{quantile}}', range: 2m, thresholds: [{value: 0.3, color: amber}]}
`, promURL, warnSrv.URL, flakySrv.URL, hang.URL)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll("../../docs", 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd(t, "snapshot", "--config", cfgPath, "--out", "../../docs/live-snapshot.png", "--size", "1920x1080", "--timeout", "10s")
	if code != 0 {
		t.Fatalf("snapshot: %s", stderr)
	}
	if os.Getenv("DISPLAY") == "" {
		t.Log("no display: skipped the real-window screenshot")
		return
	}
	served.Store(0)
	bin := filepath.Join(dir, "opscockpit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--config", cfgPath, "--quit-after", "20s")
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	shot := func(name string) {
		if out, err := exec.Command("import", "-window", "root", "../../docs/"+name).CombinedOutput(); err != nil {
			t.Fatalf("import: %v\n%s", err, out)
		}
	}
	time.Sleep(1500 * time.Millisecond) // the hung source has not answered yet: loading
	shot("live-window-start.png")
	time.Sleep(8 * time.Second) // the flaky proxy has failed since: stale; the hung one timed out
	shot("live-window.png")
}

// closeNow drops a test server's connections before closing it: a hung handler or a
// kept-alive proxy connection must not keep the docs run waiting.
func closeNow(s *httptest.Server) {
	s.CloseClientConnections()
	done := make(chan struct{})
	go func() {
		s.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second): // a proxied request still waiting upstream: not worth the wait
	}
}
