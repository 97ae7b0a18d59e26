//go:build unix

package prometheus

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/opscockpit/opscockpit/datasource"
)

// lockedBuffer collects a child process's output for the failure log.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestIntegrationRealPrometheus runs a real Prometheus on loopback that scrapes a test
// exporter and evaluates a recording rule, and reads it back through a Source.
func TestIntegrationRealPrometheus(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI must install the prometheus binary: ", err)
		}
		t.Skip("no prometheus binary in PATH: ", err)
	}
	if testing.Short() {
		t.Skip("starts a Prometheus server")
	}

	// The exporter: a gauge and a counter on a private registry.
	reg := prometheus.NewRegistry()
	temp := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "opscockpit_it_temperature_celsius", Help: "test gauge"}, []string{"room"})
	reqs := prometheus.NewCounter(prometheus.CounterOpts{Name: "opscockpit_it_requests_total", Help: "test counter"})
	reg.MustRegister(temp, reqs)
	temp.WithLabelValues("a").Set(21.5)
	temp.WithLabelValues("b").Set(-3)
	reqs.Add(42)
	exporter := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(exporter.Close)

	dir := t.TempDir()
	rules := `groups:
  - name: opscockpit
    interval: 1s
    rules:
      - record: room:opscockpit_it_temperature_celsius:doubled
        expr: opscockpit_it_temperature_celsius * 2
`
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: exporter
    static_configs:
      - targets: [%q]
`, filepath.Join(dir, "rules.yml"), strings.TrimPrefix(exporter.URL, "http://"))
	for name, body := range map[string]string{"rules.yml": rules, "prometheus.yml": cfg} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	var logs lockedBuffer
	cmd := exec.Command(bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("prometheus output:\n%s", logs.String())
		}
	})

	metrics := NewMetrics(prometheus.NewRegistry())
	src, err := New(Options{Name: "it", URL: "http://" + addr, Now: time.Now, Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	query := func(q string, at time.Time) (datasource.Result, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return src.Query(ctx, q, at)
	}

	// Wait, bounded, until the recording rule has produced data for both rooms.
	const recorded = "room:opscockpit_it_temperature_celsius:doubled"
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	for {
		res, err := query(recorded, time.Now())
		if err == nil && len(res.Series) == 2 {
			break
		}
		select {
		case <-done:
			t.Fatalf("prometheus exited early:\n%s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recorded data after 30s (last: %v, %+v)", err, res)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("recording rule had data after %v", time.Since(start).Round(time.Millisecond))
	// One more rule evaluation so the range below holds at least two points.
	time.Sleep(2500 * time.Millisecond)

	t.Run("instant", func(t *testing.T) {
		tests := []struct {
			query string
			want  map[string]float64 // room (or "" for none) → value
		}{
			{recorded, map[string]float64{"a": 43, "b": -6}},
			{`opscockpit_it_temperature_celsius{room="a"}`, map[string]float64{"a": 21.5}},
			{"opscockpit_it_requests_total", map[string]float64{"": 42}},
			{"scalar(opscockpit_it_requests_total) / 2", map[string]float64{"": 21}},
		}
		for _, tc := range tests {
			t.Run(tc.query, func(t *testing.T) {
				res, err := query(tc.query, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Series) != len(tc.want) {
					t.Fatalf("%d series, want %d: %+v", len(res.Series), len(tc.want), res)
				}
				for _, s := range res.Series {
					want, ok := tc.want[s.Labels["room"]]
					if !ok || len(s.Samples) != 1 || s.Samples[0].V != want {
						t.Errorf("series %v = %+v, want %v", s.Labels, s.Samples, want)
					}
					if strings.HasPrefix(tc.query, "room:") && s.Labels["__name__"] != recorded {
						t.Errorf("__name__ = %q", s.Labels["__name__"])
					}
				}
			})
		}
	})

	t.Run("range", func(t *testing.T) {
		end := time.Now().Truncate(time.Second)
		r := datasource.Range{Start: end.Add(-20 * time.Second), End: end, Step: time.Second}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := src.QueryRange(ctx, recorded+`{room="a"}`, r)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Series) != 1 {
			t.Fatalf("%d series", len(res.Series))
		}
		s := res.Series[0]
		if len(s.Samples) != 21 {
			t.Fatalf("%d samples, want 21 on the grid", len(s.Samples))
		}
		values, gaps := 0, 0
		for i, smp := range s.Samples {
			if !smp.T.Equal(r.Start.Add(time.Duration(i) * r.Step)) {
				t.Fatalf("sample %d off the grid: %v", i, smp.T)
			}
			switch {
			case math.IsNaN(smp.V):
				gaps++
			case smp.V == 43:
				values++
			default:
				t.Errorf("sample %d = %v, want 43 or a gap", i, smp.V)
			}
		}
		if values < 2 {
			t.Errorf("only %d values (and %d gaps) in the last 20s", values, gaps)
		}
		if gaps > 0 && !math.IsNaN(s.Samples[0].V) {
			t.Errorf("gaps should only be before the data began: %+v", s.Samples)
		}
		t.Logf("%d values, %d leading gaps", values, gaps)
	})

	t.Run("bad query", func(t *testing.T) {
		_, err := query("sum(rate(opscockpit_it_requests_total[1m]", time.Now())
		e := asError(t, err, KindBadQuery)
		if e.Status != 400 || e.Retryable() || !strings.Contains(e.Msg, "parse error") {
			t.Fatalf("got %d %q", e.Status, e.Msg)
		}
		if h := src.Health(); h.State != datasource.HealthUp {
			t.Fatalf("a bad query leaves the source up, got %+v", h)
		}
	})

	t.Run("string result", func(t *testing.T) {
		_, err := query(`"hello"`, time.Now())
		asError(t, err, KindBadResponse)
	})
}
