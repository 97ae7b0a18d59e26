package stream

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/opscockpit/opscockpit/internal/selfmetrics"
)

// Metrics are the stream's own measurements, for the relay's and the cockpit's opt-in
// /metrics endpoints. One Metrics serves a server and any number of clients; the
// client-side series carry the client's name as `source`. Labels hold names and fixed
// reasons only, never URLs, tokens or message text. A nil *Metrics records nothing.
type Metrics struct {
	clients      prometheus.Gauge
	sent         prometheus.Counter
	slowDropped  prometheus.Counter
	authFailures *prometheus.CounterVec
	timeouts     *prometheus.CounterVec
	badMessages  *prometheus.CounterVec
	seqErrors    *prometheus.CounterVec
	reconnects   *prometheus.CounterVec
	received     *prometheus.CounterVec
	up           *prometheus.GaugeVec
}

// NewMetrics creates the stream metrics and registers them with reg (nil: unregistered).
// Registering twice on one registry reuses the collectors already there.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		clients: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "opscockpit_stream_clients_connected",
			Help: "Websocket clients connected to the relay's stream.",
		}),
		sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "opscockpit_stream_messages_sent_total",
			Help: "Stream messages (snapshots, deltas, heartbeats) written to clients, counted per client.",
		}),
		slowDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "opscockpit_stream_slow_clients_dropped_total",
			Help: "Clients disconnected because their send queue was full; they resume with since=.",
		}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opscockpit_stream_auth_failures_total",
			Help: "Stream connections refused before the upgrade, by reason (missing_token, invalid_token, origin, subprotocol).",
		}, []string{"reason"}),
		timeouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opscockpit_stream_client_timeouts_total",
			Help: "Relay connections closed by a keepalive or write deadline, by kind (pong, write).",
		}, []string{"kind"}),
		badMessages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opscockpit_stream_bad_messages_total",
			Help: "Malformed stream messages (or alerts within them) counted and dropped, by reason.",
		}, []string{"source", "reason"}),
		seqErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opscockpit_stream_sequence_errors_total",
			Help: "Stream messages out of sequence: duplicates dropped, gaps resynchronised with a fresh snapshot.",
		}, []string{"source", "kind"}),
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opscockpit_stream_reconnects_total",
			Help: "Times the stream client lost (or failed to get) its connection and scheduled another attempt.",
		}, []string{"source"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opscockpit_stream_messages_received_total",
			Help: "Stream messages received by the client, valid or not.",
		}, []string{"source"}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "opscockpit_stream_up",
			Help: "Whether the stream client is connected and hearing from the relay (1) or not (0).",
		}, []string{"source"}),
	}
	if reg != nil {
		m.clients = selfmetrics.Register(reg, m.clients)
		m.sent = selfmetrics.Register(reg, m.sent)
		m.slowDropped = selfmetrics.Register(reg, m.slowDropped)
		m.authFailures = selfmetrics.Register(reg, m.authFailures)
		m.timeouts = selfmetrics.Register(reg, m.timeouts)
		m.badMessages = selfmetrics.Register(reg, m.badMessages)
		m.seqErrors = selfmetrics.Register(reg, m.seqErrors)
		m.reconnects = selfmetrics.Register(reg, m.reconnects)
		m.received = selfmetrics.Register(reg, m.received)
		m.up = selfmetrics.Register(reg, m.up)
	}
	return m
}

func (m *Metrics) clientConnected(delta float64) {
	if m != nil {
		m.clients.Add(delta)
	}
}

func (m *Metrics) messageSent() {
	if m != nil {
		m.sent.Inc()
	}
}

func (m *Metrics) slowClientDropped() {
	if m != nil {
		m.slowDropped.Inc()
	}
}

func (m *Metrics) authFailure(reason string) {
	if m != nil {
		m.authFailures.WithLabelValues(reason).Inc()
	}
}

func (m *Metrics) timeout(kind string) {
	if m != nil {
		m.timeouts.WithLabelValues(kind).Inc()
	}
}

func (m *Metrics) badMessage(source, reason string, n int) {
	if m != nil && n > 0 {
		m.badMessages.WithLabelValues(source, reason).Add(float64(n))
	}
}

func (m *Metrics) seqError(source, kind string) {
	if m != nil {
		m.seqErrors.WithLabelValues(source, kind).Inc()
	}
}

func (m *Metrics) reconnect(source string) {
	if m != nil {
		m.reconnects.WithLabelValues(source).Inc()
	}
}

func (m *Metrics) messageReceived(source string) {
	if m != nil {
		m.received.WithLabelValues(source).Inc()
	}
}

func (m *Metrics) setUp(source string, up bool) {
	if m == nil {
		return
	}
	v := 0.0
	if up {
		v = 1
	}
	m.up.WithLabelValues(source).Set(v)
}
