package alertmanager

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/opscockpit/opscockpit/internal/selfmetrics"
)

// Metrics are the cockpit's own measurements of its Alertmanager sources and webhook
// receivers, served on its opt-in /metrics endpoint. One Metrics serves every poller
// and receiver; the `source` label tells them apart. Labels carry source names, peer
// names (host names, never URLs or credentials), results and reasons only.
type Metrics struct {
	polls     *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	received  *prometheus.CounterVec
	bad       *prometheus.CounterVec
	peerUp    *prometheus.GaugeVec
	coalesced *prometheus.CounterVec
	dropped   *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them with reg (nil: metrics nobody
// serves). Registering on a registry that already holds them reuses those, so every
// poller and receiver can share one registry.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opscockpit_alertmanager_polls_total",
			Help: "Requests for the alert list to each Alertmanager peer, by result (ok or the kind of failure).",
		}, []string{"source", "peer", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "opscockpit_alertmanager_poll_duration_seconds",
			Help:    "Time from asking an Alertmanager peer for its alerts to having decoded its answer.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"source", "peer"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opscockpit_alerts_received_total",
			Help: "Alerts received from an alert source: every alert of every poll or notification.",
		}, []string{"source"}),
		bad: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opscockpit_alert_bad_messages_total",
			Help: "Alert messages rejected or skipped as malformed, by source and reason.",
		}, []string{"source", "reason"}),
		peerUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "opscockpit_alertmanager_peer_up",
			Help: "Whether the last request for alerts to the Alertmanager peer got a usable answer (1) or not (0).",
		}, []string{"source", "peer"}),
		coalesced: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opscockpit_alert_events_coalesced_total",
			Help: "Alert events merged into a later one because a subscriber had not read them yet; nothing is lost.",
		}, []string{"source"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opscockpit_alert_alerts_dropped_total",
			Help: "Alerts not passed on, by reason: stale (older than what the source already reported) or slow_subscriber (a subscriber's queue was full).",
		}, []string{"source", "reason"}),
	}
	if reg != nil {
		m.polls = selfmetrics.Register(reg, m.polls)
		m.duration = selfmetrics.Register(reg, m.duration)
		m.received = selfmetrics.Register(reg, m.received)
		m.bad = selfmetrics.Register(reg, m.bad)
		m.peerUp = selfmetrics.Register(reg, m.peerUp)
		m.coalesced = selfmetrics.Register(reg, m.coalesced)
		m.dropped = selfmetrics.Register(reg, m.dropped)
	}
	return m
}

func (m *Metrics) poll(source, peer string, elapsed time.Duration, e *Error) {
	if m == nil {
		return
	}
	m.duration.WithLabelValues(source, peer).Observe(elapsed.Seconds())
	result, up := "ok", 1.0
	if e != nil {
		result, up = string(e.Kind), 0
	}
	m.polls.WithLabelValues(source, peer, result).Inc()
	m.peerUp.WithLabelValues(source, peer).Set(up)
}

func (m *Metrics) receivedAlerts(source string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.received.WithLabelValues(source).Add(float64(n))
}

func (m *Metrics) badMessage(source, reason string) {
	if m == nil {
		return
	}
	m.bad.WithLabelValues(source, reason).Inc()
}

func (m *Metrics) coalesce(source string) {
	if m == nil {
		return
	}
	m.coalesced.WithLabelValues(source).Inc()
}

func (m *Metrics) drop(source, reason string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.dropped.WithLabelValues(source, reason).Add(float64(n))
}
