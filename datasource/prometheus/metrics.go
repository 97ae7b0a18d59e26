package prometheus

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/opscockpit/opscockpit/internal/selfmetrics"
)

// Metrics are the cockpit's own measurements of its metric sources, served on its
// opt-in /metrics endpoint. One Metrics serves every source; the `source` label tells
// them apart. Labels carry source names and error kinds only, never URLs or messages,
// so no credential can reach /metrics.
type Metrics struct {
	up       *prometheus.GaugeVec
	duration *prometheus.HistogramVec
	bytes    *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

// NewMetrics creates the datasource metrics and registers them with reg (which may be
// nil, for metrics nobody serves). Registering twice on one registry reuses the
// collectors already there, so every source can share them.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "opscockpit_datasource_up",
			Help: "Whether the last query to the metrics source got an answer from it (1) or not (0).",
		}, []string{"source"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "opscockpit_datasource_query_duration_seconds",
			Help:    "Time from sending a query to the metrics source to having its whole answer.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"source", "type"}),
		bytes: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "opscockpit_datasource_response_bytes",
			Help:    "Size of the response bodies read from the metrics source.",
			Buckets: prometheus.ExponentialBuckets(1024, 4, 10), // 1 KiB … 256 MiB
		}, []string{"source"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opscockpit_datasource_errors_total",
			Help: "Failed queries to the metrics source, by kind of failure.",
		}, []string{"source", "kind"}),
	}
	if reg != nil {
		m.up = selfmetrics.Register(reg, m.up)
		m.duration = selfmetrics.Register(reg, m.duration)
		m.bytes = selfmetrics.Register(reg, m.bytes)
		m.errors = selfmetrics.Register(reg, m.errors)
	}
	return m
}

// observe records one finished query. A nil *Metrics records nothing.
func (m *Metrics) observe(source, typ string, elapsed time.Duration, x *exchange, e *Error, up bool) {
	if m == nil {
		return
	}
	m.duration.WithLabelValues(source, typ).Observe(elapsed.Seconds())
	if x != nil && x.status != 0 {
		m.bytes.WithLabelValues(source).Observe(float64(x.bytes))
	}
	if e != nil {
		m.errors.WithLabelValues(source, string(e.Kind)).Inc()
	}
	v := 0.0
	if up {
		v = 1
	}
	m.up.WithLabelValues(source).Set(v)
}
