// Package datasource holds the domain types every source speaks (samples, series,
// alerts, health) and the one source contract: pull for metrics, push (subscribe) for
// alerts, and health for both. Adapters live in subpackages and never import each other.
package datasource

import (
	"context"
	"errors"
	"time"
)

// Sample is one value of a series at one instant. V may be NaN (a gap) or ±Inf.
type Sample struct {
	T time.Time
	V float64
}

// Series is one labelled time series.
type Series struct {
	Labels  map[string]string
	Samples []Sample
}

// Result is what a metrics query returns. Warnings come with otherwise good data
// (Prometheus's `warnings` on a 200): the panel shows the data marked partial.
type Result struct {
	Series   []Series
	Warnings []string
}

// Range is a range query's window and resolution.
type Range struct {
	Start, End time.Time
	Step       time.Duration
}

// MetricsSource answers PromQL-shaped queries.
type MetricsSource interface {
	Name() string
	Query(ctx context.Context, query string, at time.Time) (Result, error)
	QueryRange(ctx context.Context, query string, r Range) (Result, error)
	Health() Health
}

// AlertSource pushes alerts: a subscription first delivers a full snapshot, then deltas.
type AlertSource interface {
	Name() string
	Subscribe(ctx context.Context) (Subscription, error)
	Health() Health
}

// Subscription is a live feed of alert events. C is closed when the feed ends; Err then
// tells why (nil after Close or a cancelled context).
type Subscription interface {
	C() <-chan AlertEvent
	Err() error
	Close()
}

// AlertEventKind tells how an event relates to the receiver's state.
type AlertEventKind int

const (
	// Snapshot replaces everything known from that source.
	Snapshot AlertEventKind = iota
	// Delta upserts the alerts it carries (newest UpdatedAt wins).
	Delta
)

// AlertEvent is one message on a subscription.
type AlertEvent struct {
	Kind   AlertEventKind
	Source string
	Alerts []Alert
	// Truncated counts alerts the source said exist but did not send.
	Truncated int
}

// AlertState is an alert's lifecycle state as Alertmanager reports it.
type AlertState string

// Alert states.
const (
	StateFiring     AlertState = "firing"
	StateSuppressed AlertState = "suppressed" // silenced or inhibited
	StateResolved   AlertState = "resolved"
)

// Alert is the normalised alert of every source.
type Alert struct {
	Fingerprint  string
	Labels       map[string]string
	Annotations  map[string]string
	State        AlertState
	StartsAt     time.Time
	EndsAt       time.Time
	UpdatedAt    time.Time
	GeneratorURL string
	Source       string
	SilencedBy   []string
	InhibitedBy  []string
}

// Name is the alert's alertname label.
func (a Alert) Name() string { return a.Labels["alertname"] }

// Severity is the alert's severity label, lower-cased; "" when absent.
func (a Alert) Severity() string { return a.Labels["severity"] }

// SeverityRank orders severities for display: lower is more urgent.
func SeverityRank(sev string) int {
	switch sev {
	case "critical", "page", "sev1":
		return 0
	case "error", "high", "sev2":
		return 1
	case "warning", "warn", "sev3":
		return 2
	case "info", "low", "sev4":
		return 3
	default:
		return 4
	}
}

// HealthState is a source's condition.
type HealthState string

// Health states.
const (
	HealthUnknown HealthState = "unknown" // not heard from yet
	HealthUp      HealthState = "up"
	HealthDown    HealthState = "down"
)

// Health is a source's visible condition: never hidden, always shown on its chip.
type Health struct {
	Source      string
	Kind        string // "prometheus", "alertmanager", "replay", …
	State       HealthState
	LastSuccess time.Time
	LastError   string
	ErrorSince  time.Time
}

// ErrUnknownSource is returned when a panel names a source that is not configured.
var ErrUnknownSource = errors.New("unknown source")

// Retryable reports whether a query error may clear up by itself (a 503, a timeout) and
// so is worth retrying on the next refresh, as opposed to a configuration problem (bad
// PromQL, a refused credential) that will fail the same way until someone fixes it.
// Errors say so by having a Retryable() bool method; any other error counts as
// retryable.
func Retryable(err error) bool {
	var r interface{ Retryable() bool }
	if errors.As(err, &r) {
		return r.Retryable()
	}
	return true
}
