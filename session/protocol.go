package session

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Protocol identifiers; see the package comment for the messages.
const (
	// ProtocolVersion is the value of "v" in every message.
	ProtocolVersion = 1
	// Subprotocol is the Sec-WebSocket-Protocol both ends negotiate.
	Subprotocol = "opscockpit.session.v1"
	// Path is where Handler serves the websocket.
	Path = "/session"
)

// Caps on a State, enforced by Publish (trimming) and by the follower (refusing).
const (
	MaxFieldBytes      = 4 << 10
	MaxExtra           = 16
	MaxExtraKeyBytes   = 64
	MaxExtraValueBytes = 1 << 10
)

// Message types.
const (
	typeState     = "state"
	typeHeartbeat = "heartbeat"
	typeBye       = "bye"
)

// State is what a follower mirrors of the commander's view. The server sets Seq and At
// when it is published; everything else is the commander's.
type State struct {
	// Incident is the selected incident's id.
	Incident string `json:"incident,omitempty"`
	// Layout is the layout preset's name.
	Layout string `json:"layout,omitempty"`
	// Alert is the selected alert's fingerprint.
	Alert string `json:"alert,omitempty"`
	// RunbookRoot, RunbookPath and RunbookAnchor locate the open runbook section.
	RunbookRoot   string `json:"runbookRoot,omitempty"`
	RunbookPath   string `json:"runbookPath,omitempty"`
	RunbookAnchor string `json:"runbookAnchor,omitempty"`
	// Extra holds a few more fields (theme, scenario offset…), at most MaxExtra.
	Extra map[string]string `json:"extra,omitempty"`
	// Seq numbers the states of one server instance from 1; 0 means nothing published.
	Seq uint64 `json:"seq"`
	// At is when the server published the state, on its clock.
	At time.Time `json:"at,omitzero"`
}

// SameView reports whether s and o show the same thing, ignoring Seq and At.
func (s State) SameView(o State) bool {
	return s.Incident == o.Incident && s.Layout == o.Layout && s.Alert == o.Alert &&
		s.RunbookRoot == o.RunbookRoot && s.RunbookPath == o.RunbookPath &&
		s.RunbookAnchor == o.RunbookAnchor && maps.Equal(s.Extra, o.Extra)
}

// clone copies s so that a caller reusing its Extra map cannot change a held state.
func (s State) clone() State {
	s.Extra = maps.Clone(s.Extra)
	return s
}

// trim makes s fit the caps and encode without loss: invalid UTF-8 replaced, strings
// cut at a rune boundary, Extra cut to its MaxExtra smallest keys. It reports whether
// anything was cut.
func (s State) trim() (State, bool) {
	cut := false
	fix := func(v string, limit int) string {
		if !utf8.ValidString(v) {
			v, cut = strings.ToValidUTF8(v, "\uFFFD"), true
		}
		if len(v) <= limit {
			return v
		}
		cut = true
		n := limit
		for n > 0 && !utf8.RuneStart(v[n]) {
			n--
		}
		return v[:n]
	}
	s.Incident = fix(s.Incident, MaxFieldBytes)
	s.Layout = fix(s.Layout, MaxFieldBytes)
	s.Alert = fix(s.Alert, MaxFieldBytes)
	s.RunbookRoot = fix(s.RunbookRoot, MaxFieldBytes)
	s.RunbookPath = fix(s.RunbookPath, MaxFieldBytes)
	s.RunbookAnchor = fix(s.RunbookAnchor, MaxFieldBytes)
	if len(s.Extra) == 0 {
		s.Extra = nil
		return s, cut
	}
	keys := slices.Sorted(maps.Keys(s.Extra))
	if len(keys) > MaxExtra {
		keys, cut = keys[:MaxExtra], true
	}
	extra := make(map[string]string, len(keys))
	for _, k := range keys {
		v := s.Extra[k]
		k = fix(k, MaxExtraKeyBytes)
		if k == "" {
			cut = true
			continue
		}
		extra[k] = fix(v, MaxExtraValueBytes)
	}
	s.Extra = extra
	return s, cut
}

// check says why a received state breaks the caps, or returns nil.
func (s State) check() error {
	for name, v := range map[string]string{
		"incident": s.Incident, "layout": s.Layout, "alert": s.Alert,
		"runbookRoot": s.RunbookRoot, "runbookPath": s.RunbookPath, "runbookAnchor": s.RunbookAnchor,
	} {
		if len(v) > MaxFieldBytes {
			return fmt.Errorf("%s: %d bytes over the %d-byte cap", name, len(v), MaxFieldBytes)
		}
	}
	if len(s.Extra) > MaxExtra {
		return fmt.Errorf("extra: %d entries over the cap of %d", len(s.Extra), MaxExtra)
	}
	for k, v := range s.Extra {
		if k == "" || len(k) > MaxExtraKeyBytes || len(v) > MaxExtraValueBytes {
			return fmt.Errorf("extra: an entry of %d+%d bytes is empty or over the caps", len(k), len(v))
		}
	}
	if y := s.At.Year(); y < 0 || y > 9999 {
		return errors.New("at: year out of range")
	}
	return nil
}

// message is one frame on the wire, in either direction of decoding.
type message struct {
	V        int    `json:"v"`
	Type     string `json:"type"`
	Instance string `json:"instance,omitempty"`
	Seq      uint64 `json:"seq,omitempty"`
	State    *State `json:"state,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// Decoding errors, for errors.Is.
var (
	// ErrBadMessage marks a server message a follower could not use.
	ErrBadMessage = errors.New("bad session message")
)

const (
	maxInstanceBytes = 64
	maxReasonBytes   = 256
)

// wireMessage is what decodeMessage reads: pointers tell a missing field from a zero.
type wireMessage struct {
	V        *int    `json:"v"`
	Type     string  `json:"type"`
	Instance string  `json:"instance"`
	Seq      *uint64 `json:"seq"`
	State    *State  `json:"state"`
	Reason   string  `json:"reason"`
}

// decodeMessage parses and validates one server message. The error wraps ErrBadMessage
// and says what is wrong without quoting the message.
func decodeMessage(data []byte) (message, error) {
	if !utf8.Valid(data) {
		return message{}, fmt.Errorf("%w: invalid UTF-8", ErrBadMessage)
	}
	var w wireMessage
	if err := json.Unmarshal(data, &w); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return message{}, fmt.Errorf("%w: invalid JSON at byte %d", ErrBadMessage, se.Offset)
		case errors.As(err, &te):
			return message{}, fmt.Errorf("%w: field %q has the wrong type", ErrBadMessage, te.Field)
		default:
			return message{}, fmt.Errorf("%w: does not decode", ErrBadMessage)
		}
	}
	if w.V == nil || *w.V != ProtocolVersion {
		return message{}, fmt.Errorf("%w: not protocol version %d", ErrBadMessage, ProtocolVersion)
	}
	if w.Instance == "" || len(w.Instance) > maxInstanceBytes {
		return message{}, fmt.Errorf("%w: missing or oversized instance", ErrBadMessage)
	}
	m := message{V: *w.V, Type: w.Type, Instance: w.Instance}
	switch w.Type {
	case typeState:
		if w.State == nil {
			return message{}, fmt.Errorf("%w: state message without a state", ErrBadMessage)
		}
		if err := w.State.check(); err != nil {
			return message{}, fmt.Errorf("%w: %w", ErrBadMessage, err)
		}
		st := *w.State
		if len(st.Extra) == 0 {
			st.Extra = nil
		}
		m.State, m.Seq = &st, st.Seq
	case typeHeartbeat:
		if w.Seq == nil {
			return message{}, fmt.Errorf("%w: heartbeat without a seq", ErrBadMessage)
		}
		m.Seq = *w.Seq
	case typeBye:
		r := w.Reason
		if len(r) > maxReasonBytes {
			r = r[:maxReasonBytes]
		}
		m.Reason = strings.ToValidUTF8(r, "")
	default:
		return message{}, fmt.Errorf("%w: unknown type", ErrBadMessage)
	}
	return m, nil
}

// encodeState is the state message for st from the given instance.
func encodeState(instance string, st State) ([]byte, error) {
	data, err := json.Marshal(message{V: ProtocolVersion, Type: typeState, Instance: instance, State: &st})
	if err != nil {
		return nil, fmt.Errorf("encode state %d: %w", st.Seq, err)
	}
	return data, nil
}

func encodeHeartbeat(instance string, seq uint64) []byte {
	// Heartbeats always carry seq, even 0: build them by hand rather than omitempty.
	return fmt.Appendf(nil, `{"v":%d,"type":%q,"instance":%q,"seq":%d}`, ProtocolVersion, typeHeartbeat, instance, seq)
}

func encodeBye(instance, reason string) []byte {
	data, _ := json.Marshal(message{V: ProtocolVersion, Type: typeBye, Instance: instance, Reason: reason})
	return data
}
