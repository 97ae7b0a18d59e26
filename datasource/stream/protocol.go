// Package stream is the OpsCockpit alert stream: the websocket protocol that carries
// alerts from an `opscockpit relay` to any number of cockpits, the relay's hub (Server)
// and the cockpit's end of it (Client, a datasource.AlertSource).
// docs/stream-protocol.md is the protocol's specification.
//
// The server sends a snapshot, then numbered deltas (seq grows by one per message),
// and heartbeats when idle; the client sends nothing but control frames and resumes a
// broken stream by reconnecting with ?since=<last seq>. Both ends keep one goroutine
// per concern: the server one reader and one writer per connection, fed by a bounded
// queue, so a slow cockpit is dropped rather than slowing anyone else down; the client
// one goroutine that dials, reads and reconnects, and one that hands events to the
// consumer, coalescing them when the consumer lags.
//
// Time. Everything that schedules (heartbeats, pings, silence and handshake deadlines,
// backoff, expiry of resolved alerts) runs on the injected clock.Clock, so tests drive
// it with clock.Fake. A blocked socket write is bounded by a watchdog on the same clock.
// The one wall-clock deadline left is wallDeadline, used only for best-effort close
// frames (gorilla's WriteControl takes an absolute wall time).
package stream

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/opscockpit/opscockpit/datasource"
)

// Protocol identifiers. A server and a client agree on both: the subprotocol in the
// handshake and "v" in every message.
const (
	// ProtocolVersion is the value of "v" in every message.
	ProtocolVersion = 1
	// Subprotocol is the Sec-WebSocket-Protocol both ends negotiate.
	Subprotocol = "opscockpit.v1"
	// DefaultPath is where Handler serves the stream.
	DefaultPath = "/stream"
)

// Message types.
const (
	typeSnapshot  = "snapshot"
	typeDelta     = "delta"
	typeHeartbeat = "heartbeat"
)

// Caps on one alert received by a client. An alert over a cap is dropped (and counted)
// while the rest of its message is applied: dropping the whole message would open a
// sequence gap, the resync would bring the same alert back, and the stream would loop.
const (
	maxFingerprintBytes = 256
	maxLabels           = 256 // per alert, labels and annotations each
	maxNameBytes        = 1 << 10
	maxLabelValueBytes  = 16 << 10
	maxAnnotationBytes  = 64 << 10
	maxIDs              = 256 // silencedBy, inhibitedBy
	maxExcerpt          = 120 // bytes of a bad message quoted in a log line
)

// wireAlert is an alert as the protocol carries it.
type wireAlert struct {
	Fingerprint  string            `json:"fingerprint"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	State        string            `json:"state"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	UpdatedAt    time.Time         `json:"updatedAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
	Source       string            `json:"source"`
	SilencedBy   []string          `json:"silencedBy,omitempty"`
	InhibitedBy  []string          `json:"inhibitedBy,omitempty"`
}

// wireKey names an alert in a delta's "removed" list.
type wireKey struct {
	Source      string `json:"source"`
	Fingerprint string `json:"fingerprint"`
}

// outMsg is a snapshot or delta as the server encodes it.
type outMsg struct {
	V         int         `json:"v"`
	Type      string      `json:"type"`
	Seq       uint64      `json:"seq"`
	Epoch     string      `json:"epoch,omitempty"`
	Alerts    []wireAlert `json:"alerts"`
	Removed   []wireKey   `json:"removed,omitempty"`
	Truncated int         `json:"truncated"`
}

// inMsg is any message as the client decodes it; pointers tell absent from zero.
type inMsg struct {
	V         *int        `json:"v"`
	Type      string      `json:"type"`
	Seq       *uint64     `json:"seq"`
	Epoch     string      `json:"epoch"`
	Alerts    []wireAlert `json:"alerts"`
	Removed   []wireKey   `json:"removed"`
	Truncated int         `json:"truncated"`
}

func toWire(a datasource.Alert) wireAlert {
	return wireAlert{
		Fingerprint: a.Fingerprint, Labels: a.Labels, Annotations: a.Annotations,
		State: string(a.State), StartsAt: a.StartsAt, EndsAt: a.EndsAt, UpdatedAt: a.UpdatedAt,
		GeneratorURL: a.GeneratorURL, Source: a.Source, SilencedBy: a.SilencedBy, InhibitedBy: a.InhibitedBy,
	}
}

func fromWire(w wireAlert) datasource.Alert {
	return datasource.Alert{
		Fingerprint: w.Fingerprint, Labels: w.Labels, Annotations: w.Annotations,
		State: datasource.AlertState(w.State), StartsAt: w.StartsAt, EndsAt: w.EndsAt, UpdatedAt: w.UpdatedAt,
		GeneratorURL: w.GeneratorURL, Source: w.Source, SilencedBy: w.SilencedBy, InhibitedBy: w.InhibitedBy,
	}
}

func encodeMsg(m outMsg) ([]byte, error) {
	m.V = ProtocolVersion
	if m.Alerts == nil {
		m.Alerts = []wireAlert{}
	}
	return json.Marshal(m)
}

func encodeHeartbeat(seq uint64) []byte {
	return []byte(`{"v":1,"type":"heartbeat","seq":` + strconv.FormatUint(seq, 10) + `}`)
}

// alertKey identifies an alert on the stream: fingerprints are unique per source.
type alertKey struct{ source, fingerprint string }

func keyOf(a datasource.Alert) alertKey { return alertKey{a.Source, a.Fingerprint} }

// newer reports whether b should replace a: newest UpdatedAt wins, a tie goes to the
// later arrival (so a re-sent alert with the same time is idempotent).
func newer(a, b datasource.Alert) bool { return !a.UpdatedAt.After(b.UpdatedAt) }

// Bad-message reasons, the values of the `reason` label.
const (
	reasonInvalidUTF8    = "invalid_utf8"
	reasonInvalidJSON    = "invalid_json"
	reasonWrongType      = "wrong_type"
	reasonUnknownVersion = "unknown_version"
	reasonUnknownType    = "unknown_type"
	reasonMissingField   = "missing_field"
	reasonBinary         = "binary_frame"
	reasonTooBig         = "too_big"
	reasonBadAlert       = "bad_alert"
	reasonHugeLabel      = "huge_label"
)

// verdict is what a client does with one received message.
type verdict int

const (
	vBad       verdict = iota // malformed: counted, logged, dropped
	vEvent                    // applied: hand ev to the consumer
	vNoop                     // valid and in order, nothing to hand on (heartbeat, empty delta)
	vDuplicate                // seq already applied: dropped
	vGap                      // seq skipped ahead: resync with a fresh snapshot
)

// outcome is the result of session.handle.
type outcome struct {
	verdict verdict
	reason  string // vBad: why; vGap: what
	ev      datasource.AlertEvent
	// badAlerts counts alerts dropped from an otherwise good message, by reason.
	badAlerts map[string]int
}

// session is a client's view of one stream across reconnects: the merged alert state,
// the last applied seq and whether it has a base (a snapshot) to apply deltas to. It is
// pure (no I/O), owned by one goroutine, and the unit FuzzStreamMessages drives.
type session struct {
	source    string // the client's name, put on events
	view      map[alertKey]datasource.Alert
	seq       uint64
	base      bool // a snapshot has been applied and no gap seen since
	epoch     string
	truncated int
}

func newSession(source string) *session {
	return &session{source: source, view: map[alertKey]datasource.Alert{}}
}

// resume is the query a reconnect asks with: since and epoch when there is a base to
// resume from, nothing (a fresh snapshot) otherwise.
func (s *session) resume() (since uint64, epoch string, ok bool) {
	return s.seq, s.epoch, s.base
}

// handle decodes and applies one text message.
func (s *session) handle(data []byte) outcome {
	if !utf8.Valid(data) {
		return outcome{verdict: vBad, reason: reasonInvalidUTF8}
	}
	var m inMsg
	if err := json.Unmarshal(data, &m); err != nil {
		var te *json.UnmarshalTypeError
		var pe *time.ParseError
		if errors.As(err, &te) || errors.As(err, &pe) {
			return outcome{verdict: vBad, reason: reasonWrongType}
		}
		return outcome{verdict: vBad, reason: reasonInvalidJSON}
	}
	if m.V == nil || *m.V != ProtocolVersion {
		return outcome{verdict: vBad, reason: reasonUnknownVersion}
	}
	switch m.Type {
	case typeSnapshot, typeDelta, typeHeartbeat:
	default:
		return outcome{verdict: vBad, reason: reasonUnknownType}
	}
	if m.Seq == nil {
		return outcome{verdict: vBad, reason: reasonMissingField}
	}
	seq := *m.Seq
	switch m.Type {
	case typeHeartbeat:
		if s.base && seq > s.seq {
			return outcome{verdict: vGap, reason: fmt.Sprintf("heartbeat at seq %d after seq %d", seq, s.seq)}
		}
		return outcome{verdict: vNoop}
	case typeSnapshot:
		return s.applySnapshot(seq, &m)
	default:
		if seq == 0 {
			return outcome{verdict: vBad, reason: reasonMissingField}
		}
		if !s.base {
			return outcome{verdict: vGap, reason: fmt.Sprintf("delta %d before any snapshot", seq)}
		}
		if seq <= s.seq {
			return outcome{verdict: vDuplicate}
		}
		if seq != s.seq+1 {
			return outcome{verdict: vGap, reason: fmt.Sprintf("delta %d after seq %d", seq, s.seq)}
		}
		return s.applyDelta(seq, &m)
	}
}

func (s *session) applySnapshot(seq uint64, m *inMsg) outcome {
	out := outcome{verdict: vEvent}
	view := make(map[alertKey]datasource.Alert, len(m.Alerts))
	for _, w := range m.Alerts {
		a, reason := validAlert(w)
		if reason != "" {
			out.countBad(reason)
			continue
		}
		k := keyOf(a)
		if old, ok := view[k]; ok && !newer(old, a) {
			continue
		}
		view[k] = a
	}
	s.view, s.seq, s.base, s.epoch, s.truncated = view, seq, true, m.Epoch, max(m.Truncated, 0)
	out.ev = s.snapshotEvent()
	return out
}

func (s *session) applyDelta(seq uint64, m *inMsg) outcome {
	out := outcome{verdict: vEvent}
	s.seq = seq
	removed := false
	for _, k := range m.Removed {
		key := alertKey{k.Source, k.Fingerprint}
		if _, ok := s.view[key]; ok {
			delete(s.view, key)
			removed = true
		}
	}
	var changed []datasource.Alert
	for _, w := range m.Alerts {
		a, reason := validAlert(w)
		if reason != "" {
			out.countBad(reason)
			continue
		}
		k := keyOf(a)
		if old, ok := s.view[k]; ok && !newer(old, a) {
			continue
		}
		s.view[k] = a
		changed = append(changed, a)
	}
	truncChanged := max(m.Truncated, 0) != s.truncated
	s.truncated = max(m.Truncated, 0)
	switch {
	case removed:
		// A delta event can only upsert, so a removal is handed on as the whole view.
		out.ev = s.snapshotEvent()
	case len(changed) > 0 || truncChanged:
		out.ev = datasource.AlertEvent{Kind: datasource.Delta, Source: s.source, Alerts: changed, Truncated: s.truncated}
	default:
		out.verdict = vNoop
	}
	return out
}

// snapshotEvent is the whole view as a Snapshot event, in a stable order.
func (s *session) snapshotEvent() datasource.AlertEvent {
	alerts := slices.Collect(maps.Values(s.view))
	sortAlerts(alerts)
	return datasource.AlertEvent{Kind: datasource.Snapshot, Source: s.source, Alerts: alerts, Truncated: s.truncated}
}

// gap drops the base: the next connection asks for a fresh snapshot, and deltas are
// ignored until it arrives. The view stays, so the consumer keeps what it has.
func (s *session) gap() { s.base = false }

func (o *outcome) countBad(reason string) {
	if o.badAlerts == nil {
		o.badAlerts = map[string]int{}
	}
	o.badAlerts[reason]++
}

func sortAlerts(alerts []datasource.Alert) {
	slices.SortFunc(alerts, func(a, b datasource.Alert) int {
		if c := strings.Compare(a.Source, b.Source); c != 0 {
			return c
		}
		return strings.Compare(a.Fingerprint, b.Fingerprint)
	})
}

// validAlert converts a received alert, or says why it is refused.
func validAlert(w wireAlert) (datasource.Alert, string) {
	if w.Fingerprint == "" || len(w.Fingerprint) > maxFingerprintBytes {
		return datasource.Alert{}, reasonBadAlert
	}
	switch datasource.AlertState(w.State) {
	case datasource.StateFiring, datasource.StateSuppressed, datasource.StateResolved:
	default:
		return datasource.Alert{}, reasonBadAlert
	}
	if !mapWithin(w.Labels, maxLabelValueBytes) || !mapWithin(w.Annotations, maxAnnotationBytes) ||
		len(w.SilencedBy) > maxIDs || len(w.InhibitedBy) > maxIDs ||
		len(w.Source) > maxNameBytes || len(w.GeneratorURL) > maxAnnotationBytes {
		return datasource.Alert{}, reasonHugeLabel
	}
	return fromWire(w), ""
}

func mapWithin(m map[string]string, maxValue int) bool {
	if len(m) > maxLabels {
		return false
	}
	for k, v := range m {
		if len(k) > maxNameBytes || len(v) > maxValue {
			return false
		}
	}
	return true
}

// excerpt quotes the start of a bad message for a log line.
func excerpt(data []byte) string {
	if len(data) <= maxExcerpt {
		return strconv.Quote(string(data))
	}
	return strconv.Quote(string(data[:maxExcerpt])) + fmt.Sprintf("… (%d bytes)", len(data))
}

// alertEqual reports whether two alerts carry the same information.
func alertEqual(a, b datasource.Alert) bool {
	return a.Fingerprint == b.Fingerprint && a.State == b.State && a.Source == b.Source &&
		a.GeneratorURL == b.GeneratorURL && a.StartsAt.Equal(b.StartsAt) && a.EndsAt.Equal(b.EndsAt) &&
		a.UpdatedAt.Equal(b.UpdatedAt) && maps.Equal(a.Labels, b.Labels) && maps.Equal(a.Annotations, b.Annotations) &&
		slices.Equal(a.SilencedBy, b.SilencedBy) && slices.Equal(a.InhibitedBy, b.InhibitedBy)
}

// cloneAlert copies an alert's maps and slices, so a caller reusing them after Publish
// cannot change what the server holds and sends.
func cloneAlert(a datasource.Alert) datasource.Alert {
	a.Labels = maps.Clone(a.Labels)
	a.Annotations = maps.Clone(a.Annotations)
	a.SilencedBy = slices.Clone(a.SilencedBy)
	a.InhibitedBy = slices.Clone(a.InhibitedBy)
	return a
}

// wallDeadline is an absolute wall-clock deadline d from now, for the only API that
// needs one: gorilla's WriteControl, used for best-effort close frames. It bounds a
// socket write, not a schedule, so it stays on the wall clock even under a fake clock.
func wallDeadline(d time.Duration) time.Time { return time.Now().Add(d) }
