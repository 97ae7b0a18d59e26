package stream

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/opscockpit/opscockpit/datasource"
)

// FuzzStreamMessages feeds arbitrary message sequences (newline-separated; the first
// byte sets how often the consumer drains the outbox) through the client's decode,
// apply and coalesce logic. Invariants: no panic; the view holds only alerts with
// non-empty fingerprints filed under their own key; a delta is applied only at
// last seq + 1, so a duplicate is never accepted; and a consumer applying the emitted
// events as cockpit.Hub does always ends up with exactly the session's view.
func FuzzStreamMessages(f *testing.F) {
	seed := func(msgs ...string) []byte { return []byte("\x03" + joinLines(msgs)) }
	snap := `{"v":1,"type":"snapshot","seq":3,"epoch":"e","alerts":[{"fingerprint":"a","labels":{"alertname":"A"},"state":"firing","source":"am","updatedAt":"2026-03-01T12:00:00Z"},{"fingerprint":"b","state":"suppressed","source":"wh","silencedBy":["s1"]}],"truncated":1}`
	f.Add(seed(snap,
		`{"v":1,"type":"delta","seq":4,"alerts":[{"fingerprint":"a","state":"resolved","source":"am","updatedAt":"2026-03-01T12:01:00Z"}],"truncated":1}`,
		`{"v":1,"type":"delta","seq":4,"alerts":[{"fingerprint":"z","state":"firing","source":"am"}]}`,
		`{"v":1,"type":"heartbeat","seq":4}`,
		`{"v":1,"type":"delta","seq":5,"alerts":[],"removed":[{"source":"am","fingerprint":"a"}],"truncated":0}`,
		`{"v":1,"type":"delta","seq":7,"alerts":[{"fingerprint":"c","state":"firing","source":"am"}]}`,
		snap))
	f.Add(seed(`{"v":1,"type":"delta","seq":1,"alerts":[{"fingerprint":"","state":"firing"}]}`, `{"v":2}`, "\xff", `[]`, `{"v":1,"type":"snapshot","seq":0,"alerts":null}`))
	f.Add(seed(snap, `{"v":1,"type":"delta","seq":4,"alerts":[{"fingerprint":"a","state":"firing","source":"am","updatedAt":"2026-03-01T11:00:00Z"},{"fingerprint":"a","state":"resolved","source":"am","updatedAt":"2026-03-01T13:00:00Z"}]}`))
	f.Add([]byte{0})

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		every := int(data[0]%8) + 1
		s := newSession("fuzz")
		var box outbox
		consumer := map[alertKey]datasource.Alert{}
		drain := func() {
			ev, ok := box.take()
			if !ok {
				return
			}
			if ev.Kind == datasource.Snapshot {
				consumer = map[alertKey]datasource.Alert{}
			}
			for _, a := range ev.Alerts {
				if a.Fingerprint == "" {
					t.Fatalf("event with an empty fingerprint: %+v", ev)
				}
				k := keyOf(a)
				if old, ok := consumer[k]; ok && old.UpdatedAt.After(a.UpdatedAt) {
					continue
				}
				consumer[k] = a
			}
		}
		for i, msg := range bytes.Split(data[1:], []byte{'\n'}) {
			prevSeq, prevBase := s.seq, s.base
			var probe struct {
				Type string  `json:"type"`
				Seq  *uint64 `json:"seq"`
			}
			_ = json.Unmarshal(msg, &probe)
			out := s.handle(msg)
			switch out.verdict {
			case vEvent, vNoop:
				if probe.Type == typeDelta {
					if !prevBase || probe.Seq == nil || *probe.Seq != prevSeq+1 || s.seq != prevSeq+1 {
						t.Fatalf("message %d: delta accepted at seq %d after %d (base %v)", i, s.seq, prevSeq, prevBase)
					}
				}
				if out.verdict == vEvent {
					box.add(out.ev)
				}
			case vGap:
				s.gap()
				fallthrough
			default:
				if s.seq != prevSeq {
					t.Fatalf("message %d: rejected (%d) but seq moved %d → %d", i, out.verdict, prevSeq, s.seq)
				}
			}
			for k, a := range s.view {
				if k.fingerprint == "" || a.Fingerprint != k.fingerprint || a.Source != k.source {
					t.Fatalf("view holds %+v under %+v", a, k)
				}
			}
			if i%every == 0 {
				drain()
				if diff := stateDiff(consumer, s.view); diff != "" {
					t.Fatalf("message %d: consumer differs from the view: %s", i, diff)
				}
			}
		}
		drain()
		if diff := stateDiff(consumer, s.view); diff != "" {
			t.Fatalf("consumer differs from the view: %s", diff)
		}
	})
}

func joinLines(msgs []string) string {
	var b bytes.Buffer
	for i, m := range msgs {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(m)
	}
	return b.String()
}
