package main

import (
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/config"
	"github.com/opscockpit/opscockpit/internal/testserver"
)

// TestLiveCockpitAgainstRealPrometheus runs Debian's Prometheus scraping a small
// exporter, with a recording rule, and checks that the cockpit's panels fill with real
// data through the whole path (config → source → poller → hub) and that a headless
// snapshot of it renders.
func TestLiveCockpitAgainstRealPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	reg := prometheus.NewRegistry()
	latency := prometheus.NewGauge(prometheus.GaugeOpts{Name: "checkout_latency_seconds", Help: "p99"})
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "requests"}, []string{"code"})
	reg.MustRegister(latency, reqs)
	latency.Set(0.42)
	stop := make(chan struct{})
	defer close(stop)
	go func() { // traffic, so rate() has something to say
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				reqs.WithLabelValues("200").Add(19)
				reqs.WithLabelValues("500").Add(1)
			}
		}
	}()
	exporter := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer exporter.Close()
	promURL := testserver.Prometheus(t, []string{strings.TrimPrefix(exporter.URL, "http://")},
		"groups:\n  - name: test\n    rules:\n      - record: code:http_requests:rate5s\n        expr: sum by (code) (rate(http_requests_total[5s]))\n")
	// a few evaluations, so a range query ending on the last whole second finds them
	waitForData(t, promURL, "count_over_time(code:http_requests:rate5s[1m]) > 3")

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "opscockpit.yaml")
	cfgBody := fmt.Sprintf(`title: Live test
metrics:
  refresh: 2s
  sources:
    - name: prod
      url: %s
  panels:
    - {title: Checkout p99, type: stat, query: checkout_latency_seconds, unit: s, thresholds: [{value: 0.5, color: red}]}
    - {title: Requests by code, type: timeseries, query: "code:http_requests:rate5s", unit: reqps, legend: "{{code}}", range: 2m}
    - {title: Error SLO, type: slo, objective: 99, query: 'sum(rate(http_requests_total{code="500"}[$window])) / sum(rate(http_requests_total[$window]))'}
    - {title: Typo, type: stat, query: "sum(rate(nope[5m]"}
`, promURL)
	if err := os.WriteFile(cfgPath, []byte(cfgBody), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	sys, err := assemble(cfg, clock.Real{}, -1, quiet())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sys.poller.RefreshAll(ctx)
	snap := sys.hub.Publish()
	want := []cockpit.PanelStatus{cockpit.StatusOK, cockpit.StatusOK, cockpit.StatusOK, cockpit.StatusError}
	for i, w := range want {
		if p := snap.Panels[i]; p.Status != w {
			t.Errorf("panel %q: %s (%s), want %s", p.Spec.Title, p.Status, p.Err, w)
		}
	}
	if v := snap.Panels[0].Result.Series[0].Samples[0].V; v != 0.42 {
		t.Errorf("p99 = %v, want 0.42", v)
	}
	if n := len(snap.Panels[1].Result.Series); n != 2 {
		t.Errorf("requests by code: %d series, want 2 (200 and 500)", n)
	}
	if slo := cockpit.EvaluateSLO(snap.Panels[2].Spec, snap.Panels[2].Result); slo.Level == cockpit.SLOUnknown {
		t.Errorf("SLO has no data: %+v", slo)
	}
	if !strings.Contains(snap.Panels[3].Err, "parse error") {
		t.Errorf("typo panel error = %q", snap.Panels[3].Err)
	}
	if len(snap.Sources) != 1 || snap.Sources[0].State != "up" {
		t.Errorf("sources = %+v", snap.Sources)
	}

	out := filepath.Join(dir, "live.png")
	code, stdout, stderr := runCmd(t, "snapshot", "--config", cfgPath, "--out", out, "--size", "1280x720")
	if code != 0 {
		t.Fatalf("snapshot: exit %d: %s", code, stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if n := colours(img); n < 200 {
		t.Fatalf("live snapshot has %d colours (%s)", n, stdout)
	}
	if dst := os.Getenv("OPSCOCKPIT_LIVE_SNAPSHOT"); dst != "" { // for a person to look at
		b, _ := os.ReadFile(out)
		_ = os.WriteFile(dst, b, 0o644)
	}
}

// waitForData polls Prometheus until query returns a sample (at most 30 s).
func waitForData(t *testing.T, base, query string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(query))
		if err == nil {
			var body struct {
				Data struct {
					Result []json.RawMessage `json:"result"`
				} `json:"data"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if len(body.Data.Result) > 0 {
				return
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("no data for %s after 30s", query)
}
