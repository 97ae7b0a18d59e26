package session

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/opscockpit/opscockpit/internal/selfmetrics"
)

// metrics are the session server's own measurements. Labels hold fixed reasons only,
// never addresses or tokens. A nil *metrics records nothing.
type metrics struct {
	followers    prometheus.Gauge
	published    prometheus.Counter
	dropped      *prometheus.CounterVec
	authFailures *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		return nil
	}
	m := &metrics{
		followers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "opscockpit_session_followers_connected",
			Help: "Followers connected to the follow-mode session server.",
		}),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "opscockpit_session_states_published_total",
			Help: "View states the commander published that changed something.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opscockpit_session_followers_dropped_total",
			Help: "Followers disconnected by the server, by reason (slow, silent, data_frame, too_big).",
		}, []string{"reason"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opscockpit_session_auth_failures_total",
			Help: "Session connections refused before the upgrade, by reason (missing_token, invalid_token, origin, subprotocol).",
		}, []string{"reason"}),
	}
	m.followers = selfmetrics.Register(reg, m.followers)
	m.published = selfmetrics.Register(reg, m.published)
	m.dropped = selfmetrics.Register(reg, m.dropped)
	m.authFailures = selfmetrics.Register(reg, m.authFailures)
	return m
}

func (m *metrics) follower(delta float64) {
	if m != nil {
		m.followers.Add(delta)
	}
}

func (m *metrics) publish() {
	if m != nil {
		m.published.Inc()
	}
}

func (m *metrics) drop(reason string) {
	if m != nil {
		m.dropped.WithLabelValues(reason).Inc()
	}
}

func (m *metrics) authFailure(reason string) {
	if m != nil {
		m.authFailures.WithLabelValues(reason).Inc()
	}
}
