package session

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeMessage feeds arbitrary server messages to the follower's decoder: it must
// never panic, must refuse with ErrBadMessage, and whatever it accepts must be within
// the caps and survive a round trip through the encoder unchanged.
func FuzzDecodeMessage(f *testing.F) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	full, _ := encodeState("9f2c01ab", State{
		Incident: "INC-42", Layout: "triage", Alert: "a1b2c3", RunbookRoot: "ops",
		RunbookPath: "db/failover.md", RunbookAnchor: "promote-replica",
		Extra: map[string]string{"theme": "dark", "offset": "90s"}, Seq: 17, At: at,
	})
	empty, _ := encodeState("9f2c01ab", State{})
	for _, seed := range []string{
		string(full), string(empty),
		string(encodeHeartbeat("9f2c01ab", 17)),
		string(encodeBye("9f2c01ab", "session server shutting down")),
		`{"v":2,"type":"state","instance":"x","state":{"seq":1}}`,
		`{"v":1,"type":"state","instance":"x"}`,
		`{"v":1,"type":"state","instance":"x","state":{"seq":-1}}`,
		`{"v":1,"type":"state","instance":"x","state":{"seq":"1"}}`,
		`{"v":1,"type":"state","instance":"x","state":{"seq":1,"at":"10000-01-01T00:00:00Z"}}`,
		`{"v":1,"type":"state","instance":"x","state":{"seq":1,"extra":{"":"v"}}}`,
		`{"v":1,"type":"state","instance":"x","state":{"seq":1,"incident":"\ud800"}}`,
		`{"v":1,"type":"heartbeat","instance":"x"}`,
		`{"v":1,"type":"hello","instance":"x"}`,
		`{"v":1,"type":"state","state":{"seq":1}}`,
		`{"v":1,"type":"bye","instance":"x","reason":` + `"` + strings.Repeat("é", 300) + `"}`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
		"\xff\xfe", "", "null", `{"v":1}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeMessage(data)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error %v does not wrap ErrBadMessage", err)
			}
			return
		}
		if m.V != ProtocolVersion || m.Instance == "" || len(m.Instance) > maxInstanceBytes {
			t.Fatalf("accepted %+v", m)
		}
		switch m.Type {
		case typeState:
			if m.State == nil || m.Seq != m.State.Seq {
				t.Fatalf("state message %+v", m)
			}
			if err := m.State.check(); err != nil {
				t.Fatalf("accepted a state over the caps: %v", err)
			}
			again, err := encodeState(m.Instance, *m.State)
			if err != nil {
				t.Fatalf("accepted state does not encode: %v", err)
			}
			m2, err := decodeMessage(again)
			if err != nil {
				t.Fatalf("re-encoded state refused: %v (%s)", err, again)
			}
			if !m2.State.SameView(*m.State) || m2.Seq != m.Seq || !m2.State.At.Equal(m.State.At) || m2.Instance != m.Instance {
				t.Fatalf("round trip changed the state: %+v → %+v", *m.State, *m2.State)
			}
		case typeHeartbeat:
		case typeBye:
			if len(m.Reason) > maxReasonBytes {
				t.Fatalf("bye reason of %d bytes", len(m.Reason))
			}
		default:
			t.Fatalf("accepted type %q", m.Type)
		}
	})
}

func TestFollowerApplyNeverGoesBack(t *testing.T) {
	var got []State
	f, err := NewFollower(FollowerOptions{URL: "ws://127.0.0.1:1", Token: "t", Log: quietLog(), OnState: func(s State) { got = append(got, s) }})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		instance string
		seq      uint64
		handed   bool
	}{
		{"a", 0, true},  // the first resync, even of an empty server
		{"a", 0, false}, // the same, after a reconnect
		{"a", 3, true},
		{"a", 2, false}, // older: never
		{"a", 3, false}, // duplicate
		{"a", 5, true},  // coalesced: seq jumps are fine
		{"b", 1, true},  // restarted server: seq starts over
		{"b", 1, false},
		{"a", 9, true}, // a different instance again
	}
	for i, s := range steps {
		n := len(got)
		f.apply(s.instance, State{Seq: s.seq})
		if handed := len(got) > n; handed != s.handed {
			t.Fatalf("step %d (%s, %d): handed on %v, want %v", i, s.instance, s.seq, handed, s.handed)
		}
	}
}
