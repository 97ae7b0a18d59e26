package stream

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/datasource"
)

func TestSessionSequence(t *testing.T) {
	snap := `{"v":1,"type":"snapshot","seq":5,"epoch":"e1","alerts":[{"fingerprint":"a","labels":{"alertname":"A"},"state":"firing","source":"am","updatedAt":"2026-03-01T12:00:00Z"}],"truncated":2}`
	delta := func(seq int, fp, state, updated string) string {
		return `{"v":1,"type":"delta","seq":` + itoa(seq) + `,"alerts":[{"fingerprint":"` + fp + `","state":"` + state + `","source":"am","updatedAt":"` + updated + `"}],"truncated":2}`
	}
	tests := []struct {
		name  string
		msgs  []string
		want  []verdict
		seq   uint64
		alive []string // fingerprints in the view at the end
	}{
		{"snapshot then in-order deltas", []string{snap, delta(6, "b", "firing", "2026-03-01T12:00:01Z"), delta(7, "a", "resolved", "2026-03-01T12:00:02Z")},
			[]verdict{vEvent, vEvent, vEvent}, 7, []string{"a", "b"}},
		{"duplicate dropped", []string{snap, delta(6, "b", "firing", "2026-03-01T12:00:01Z"), delta(6, "c", "firing", "2026-03-01T12:00:01Z"), delta(5, "c", "firing", "2026-03-01T12:00:01Z")},
			[]verdict{vEvent, vEvent, vDuplicate, vDuplicate}, 6, []string{"a", "b"}},
		{"gap detected", []string{snap, delta(8, "b", "firing", "2026-03-01T12:00:01Z")},
			[]verdict{vEvent, vGap}, 5, []string{"a"}},
		{"delta before snapshot is a gap", []string{delta(1, "b", "firing", "2026-03-01T12:00:01Z")},
			[]verdict{vGap}, 0, nil},
		{"heartbeat ahead is a gap", []string{snap, `{"v":1,"type":"heartbeat","seq":9}`},
			[]verdict{vEvent, vGap}, 5, []string{"a"}},
		{"heartbeat in step", []string{snap, `{"v":1,"type":"heartbeat","seq":5}`},
			[]verdict{vEvent, vNoop}, 5, []string{"a"}},
		{"older update ignored", []string{snap, delta(6, "a", "resolved", "2026-03-01T11:00:00Z")},
			[]verdict{vEvent, vNoop}, 6, []string{"a"}},
		{"removal hands on the whole view", []string{snap, `{"v":1,"type":"delta","seq":6,"alerts":[],"removed":[{"source":"am","fingerprint":"a"}],"truncated":2}`},
			[]verdict{vEvent, vEvent}, 6, nil},
		{"restarted relay: lower snapshot accepted", []string{snap, `{"v":1,"type":"snapshot","seq":1,"alerts":[]}`, delta(2, "z", "firing", "2026-03-01T12:00:00Z")},
			[]verdict{vEvent, vEvent, vEvent}, 2, []string{"z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSession("relay")
			for i, m := range tc.msgs {
				out := s.handle([]byte(m))
				if out.verdict != tc.want[i] {
					t.Fatalf("message %d: verdict %d (%s), want %d", i, out.verdict, out.reason, tc.want[i])
				}
				if out.verdict == vGap {
					s.gap()
				}
			}
			if s.seq != tc.seq {
				t.Errorf("seq = %d, want %d", s.seq, tc.seq)
			}
			var alive []string
			for k := range s.view {
				alive = append(alive, k.fingerprint)
			}
			if strings.Join(sorted(alive), ",") != strings.Join(tc.alive, ",") {
				t.Errorf("view = %v, want %v", sorted(alive), tc.alive)
			}
		})
	}
}

func TestSessionRejectsMalformed(t *testing.T) {
	huge := strings.Repeat("x", maxLabelValueBytes+1)
	tests := []struct{ name, msg, reason string }{
		{"invalid json", `{"v":1,"type":`, reasonInvalidJSON},
		{"not an object", `[1,2,3]`, reasonWrongType},
		{"wrong type", `{"v":1,"type":"delta","seq":"seven"}`, reasonWrongType},
		{"wrong alerts type", `{"v":1,"type":"snapshot","seq":1,"alerts":{"a":1}}`, reasonWrongType},
		{"bad time", `{"v":1,"type":"snapshot","seq":1,"alerts":[{"fingerprint":"a","state":"firing","updatedAt":"yesterday"}]}`, reasonWrongType},
		{"missing version", `{"type":"snapshot","seq":1,"alerts":[]}`, reasonUnknownVersion},
		{"future version", `{"v":2,"type":"snapshot","seq":1,"alerts":[]}`, reasonUnknownVersion},
		{"unknown type", `{"v":1,"type":"gossip","seq":1}`, reasonUnknownType},
		{"missing seq", `{"v":1,"type":"snapshot","alerts":[]}`, reasonMissingField},
		{"invalid utf-8", "{\"v\":1,\"type\":\"snapshot\",\"seq\":1,\"alerts\":[{\"fingerprint\":\"\xff\xfe\",\"state\":\"firing\"}]}", reasonInvalidUTF8},
		{"deep nesting", `{"v":1,"x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, reasonInvalidJSON},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSession("relay")
			out := s.handle([]byte(tc.msg))
			if out.verdict != vBad || out.reason != tc.reason {
				t.Fatalf("verdict %d reason %q, want bad %q", out.verdict, out.reason, tc.reason)
			}
			if s.base || len(s.view) != 0 {
				t.Fatal("a bad message changed the session")
			}
		})
	}
	t.Run("bad alerts dropped, message kept", func(t *testing.T) {
		s := newSession("relay")
		msg := `{"v":1,"type":"snapshot","seq":3,"alerts":[` +
			`{"fingerprint":"ok","state":"firing","source":"am"},` +
			`{"fingerprint":"","state":"firing","source":"am"},` +
			`{"fingerprint":"st","state":"exploded","source":"am"},` +
			`{"fingerprint":"big","state":"firing","source":"am","labels":{"l":"` + huge + `"}}]}`
		out := s.handle([]byte(msg))
		if out.verdict != vEvent || len(out.ev.Alerts) != 1 || out.ev.Alerts[0].Fingerprint != "ok" {
			t.Fatalf("got %+v", out)
		}
		if out.badAlerts[reasonBadAlert] != 2 || out.badAlerts[reasonHugeLabel] != 1 {
			t.Fatalf("bad alerts = %v", out.badAlerts)
		}
		if s.seq != 3 {
			t.Fatalf("seq = %d", s.seq)
		}
	})
}

func TestOutboxCoalescing(t *testing.T) {
	a := func(fp string, upd time.Duration) datasource.Alert { return mkAlert(fp, datasource.StateFiring, upd) }
	var o outbox
	o.add(datasource.AlertEvent{Kind: datasource.Delta, Alerts: []datasource.Alert{a("x", 1), a("y", 1)}, Truncated: 1})
	o.add(datasource.AlertEvent{Kind: datasource.Delta, Alerts: []datasource.Alert{a("x", 3), a("z", 1)}, Truncated: 2})
	o.add(datasource.AlertEvent{Kind: datasource.Delta, Alerts: []datasource.Alert{a("x", 2)}, Truncated: 4})
	ev, ok := o.take()
	if !ok || ev.Kind != datasource.Delta || len(ev.Alerts) != 3 || ev.Truncated != 4 {
		t.Fatalf("merged deltas: %+v", ev)
	}
	if ev.Alerts[0].UpdatedAt != t0.Add(3) {
		t.Fatalf("newest update lost: %v", ev.Alerts[0].UpdatedAt)
	}
	if _, ok := o.take(); ok {
		t.Fatal("outbox not emptied")
	}
	o.add(datasource.AlertEvent{Kind: datasource.Delta, Alerts: []datasource.Alert{a("x", 1)}})
	o.add(datasource.AlertEvent{Kind: datasource.Snapshot, Alerts: []datasource.Alert{a("q", 1)}})
	o.add(datasource.AlertEvent{Kind: datasource.Delta, Alerts: []datasource.Alert{a("r", 1)}})
	ev, _ = o.take()
	if ev.Kind != datasource.Snapshot || len(ev.Alerts) != 2 {
		t.Fatalf("delta after snapshot must stay a snapshot with both: %+v", ev)
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	in := mkAlert("fp1", datasource.StateSuppressed, time.Second)
	in.Source, in.EndsAt, in.GeneratorURL = "am", t0.Add(time.Hour), "http://prom/graph"
	in.SilencedBy, in.InhibitedBy = []string{"s1"}, []string{"i1", "i2"}
	data, err := encodeMsg(outMsg{Type: typeSnapshot, Seq: 9, Epoch: "e", Alerts: []wireAlert{toWire(in)}, Truncated: 3})
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(data, &generic); err != nil || generic["v"] != 1.0 {
		t.Fatalf("not versioned: %s", data)
	}
	s := newSession("relay")
	out := s.handle(data)
	if out.verdict != vEvent || out.ev.Kind != datasource.Snapshot || out.ev.Truncated != 3 || len(out.ev.Alerts) != 1 {
		t.Fatalf("decode: %+v", out)
	}
	if !alertEqual(out.ev.Alerts[0], in) {
		t.Fatalf("round trip changed the alert:\n got %+v\nwant %+v", out.ev.Alerts[0], in)
	}
	if hb := encodeHeartbeat(9); s.handle(hb).verdict != vNoop {
		t.Fatalf("heartbeat %s not accepted", hb)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
