package prometheus

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func newRegistry() *prometheus.Registry { return prometheus.NewRegistry() }

// gatherText is what /metrics would serve from reg.
func gatherText(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

func TestSelfMetrics(t *testing.T) {
	reg := newRegistry()
	m := NewMetrics(reg)
	if again := NewMetrics(reg); again.up != m.up || again.errors != m.errors {
		t.Fatal("a second NewMetrics on one registry should share the collectors")
	}
	srv := newFaultServer(t, okJSON("vector", `[{"metric":{},"value":[1772366400,"1"]}]`))
	src, _ := newTestSource(t, srv.URL, func(o *Options) { o.Name = "prod"; o.Metrics = m })

	if _, err := src.Query(context.Background(), "up", t0); err != nil {
		t.Fatal(err)
	}
	text := gatherText(t, reg)
	for _, want := range []string{
		`opscockpit_datasource_up{source="prod"} 1`,
		`opscockpit_datasource_query_duration_seconds_count{source="prod",type="instant"} 1`,
		`opscockpit_datasource_response_bytes_count{source="prod"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("after a success, /metrics lacks %q:\n%s", want, text)
		}
	}

	srv.set(reply(503, "text/plain", "down"))
	src.Query(context.Background(), "up", t0)
	srv.set(reply(400, "application/json", errJSON("bad_data", "parse error")))
	src.Query(context.Background(), "up(", t0)
	srv.set(reply(503, "text/plain", "down"))
	src.Query(context.Background(), "up", t0)
	text = gatherText(t, reg)
	for _, want := range []string{
		`opscockpit_datasource_up{source="prod"} 0`,
		`opscockpit_datasource_errors_total{kind="unavailable",source="prod"} 2`,
		`opscockpit_datasource_errors_total{kind="bad_query",source="prod"} 1`,
		`opscockpit_datasource_query_duration_seconds_count{source="prod",type="instant"} 4`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("after failures, /metrics lacks %q:\n%s", want, text)
		}
	}
}

func TestNilMetricsAndRegistry(t *testing.T) {
	m := NewMetrics(nil) // usable, served by nobody
	srv := newFaultServer(t, okJSON("vector", `[]`))
	for _, metrics := range []*Metrics{nil, m} {
		src, _ := newTestSource(t, srv.URL, func(o *Options) { o.Metrics = metrics })
		if _, err := src.Query(context.Background(), "up", t0); err != nil {
			t.Fatal(err)
		}
	}
}
