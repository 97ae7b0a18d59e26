package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
)

var knownReasons = map[string]bool{
	reasonMethod: true, reasonContentType: true, reasonTooLarge: true, reasonReadFailed: true,
	reasonInvalidUTF8: true, reasonTooDeep: true, reasonInvalidJSON: true, reasonWrongType: true,
	reasonUnknownVersion: true, reasonMissingFingerprint: true, reasonBadStatus: true,
	reasonLabelTooLarge: true, reasonBadAlert: true,
}

var knownKinds = map[Kind]bool{
	KindAuth: true, KindTLS: true, KindUnavailable: true, KindBadRequest: true,
	KindBadResponse: true, KindTooLarge: true, KindTimeout: true, KindNetwork: true,
}

// FuzzWebhookPayload feeds arbitrary bodies to the webhook decoder and handler.
// Invariants: no panic; a refusal has a known reason, a 4xx status and a short message;
// an accepted payload is a Delta whose alerts all have a fingerprint, a known state
// (resolved ones with an end time) and labels within the cap; the handler answers 200
// exactly when the decoder accepts.
func FuzzWebhookPayload(f *testing.F) {
	for _, name := range []string{"webhook_firing.json", "webhook_resolved.json", "webhook_truncated.json"} {
		f.Add(readFixture(f, name))
	}
	for _, s := range []string{
		`{"version":"4","alerts":[]}`,
		`{"version":"4","truncatedAlerts":18446744073709551615,"alerts":[{"status":"resolved","fingerprint":"a"}]}`,
		`{"version":"4","alerts":[{"status":"firing","fingerprint":"a","labels":{"a":1}}]}`,
		`{"version":"4","alerts":[{"status":"firing","fingerprint":"","labels":{}}]}`,
		`{"version":"3"}`, `null`, `[]`, `"4"`, "{\"version\":\"4\xff\"}",
		`{"version":"4","alerts":[{"status":"firing","fingerprint":"a","startsAt":"2026-13-01T00:00:00Z"}]}`,
		`{"version":"4","alerts":[` + strings.Repeat("[", 40),
	} {
		f.Add([]byte(s))
	}
	clk := clock.NewFake(t0)
	w, err := NewWebhook(WebhookOptions{Name: "hook", Clock: clk, Log: testLogger(nil), MaxTracked: 1000})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, bad := decodeWebhook(body, "hook", t0)
		if bad != nil {
			if !knownReasons[bad.Reason] || bad.Status < 400 || bad.Status > 499 || len(bad.Error()) > 300 || !utf8.ValidString(bad.Msg) {
				t.Fatalf("refusal %+v", bad)
			}
		} else {
			if ev.Kind != datasource.Delta || ev.Source != "hook" || ev.Truncated < 0 {
				t.Fatalf("event %s", describe(ev))
			}
			for _, a := range ev.Alerts {
				if a.Fingerprint == "" || len(a.Fingerprint) > maxFingerprintLen {
					t.Fatalf("fingerprint %q", a.Fingerprint)
				}
				switch a.State {
				case datasource.StateFiring:
				case datasource.StateResolved:
					if a.EndsAt.IsZero() {
						t.Fatal("resolved without an end")
					}
				default:
					t.Fatalf("state %q", a.State)
				}
				for k, v := range a.Labels {
					if len(k) > MaxLabelBytes || len(v) > MaxLabelBytes {
						t.Fatal("label over the cap")
					}
				}
				if !a.UpdatedAt.Equal(t0) || a.Labels == nil {
					t.Fatalf("alert %+v", a)
				}
			}
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w.ServeHTTP(rec, req)
		if want := bad == nil; (rec.Code == 200) != want {
			t.Fatalf("handler answered %d, decoder accepted: %v", rec.Code, want)
		}
	})
}

// fixedTransport answers every request in memory with one status and body.
type fixedTransport struct {
	status int
	body   []byte
}

func (f *fixedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode:    f.status,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(f.body)),
		ContentLength: int64(len(f.body)),
		Request:       req,
		ProtoMajor:    1, ProtoMinor: 1,
	}, nil
}

// FuzzAPIAlerts feeds arbitrary answers to GET /api/v2/alerts through the whole poll
// path of two peers. Invariants: no panic; an error is an *Error of a known kind with
// a short one-line message; a snapshot's alerts have unique, non-empty fingerprints and
// a known state.
func FuzzAPIAlerts(f *testing.F) {
	f.Add(200, readFixture(f, "api_v2_alerts.json"))
	for _, s := range []string{
		`[]`, `null`, `{}`, `[{}]`, `[{"fingerprint":"a"},{"fingerprint":"a","updatedAt":"2030-01-01T00:00:00Z"}]`,
		`[{"fingerprint":"a","status":{"state":"suppressed","silencedBy":["x",""],"inhibitedBy":null}}]`,
		`[{"fingerprint":"a","endsAt":"2000-01-01T00:00:00Z"}]`,
		`[{"fingerprint":"a","labels":{"a":["b"]}}]`,
		`<html><title>oops</title></html>`,
		`[{"fingerprint":"a","generatorURL":"http://p/graph?g0.expr=up\u0026g0.tab=1","labels":{"k\"ey":"v\u00e9\n","ü":"ß"}}]`,
		`[{"Fingerprint":"a"}]`, `[{"fingerprint":"a","fingerprint":"b"}]`, `[{"labels":{"a":"1"},"labels":{"b":"2"}}]`,
		`[{"fingerprint":null,"labels":null,"status":null}]`, `[null]`, `[{"fingerprint":"a"}] x`,
		`[{"fingerprint":"a","extra":{"deep":[1,2.5e3,-0.1,true,false,null,"s\\"]},"status":{"STATE":"x"}}]`,
		"[{\"fingerprint\":\"a\xff\"}]", `[{"fingerprint":"a","startsAt":"2026-03-01T12:00:00+02:00"}]`,
	} {
		f.Add(200, []byte(s))
	}
	f.Add(503, []byte(`"unavailable"`))
	f.Add(401, []byte(`Authorization: Bearer abcdefghijklmnop`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 599 {
			status = 200
		}
		// The fast decoder, when it accepts, agrees with encoding/json.
		if fast, ok := fastAlerts(body); ok {
			var slow []apiAlert
			if err := json.Unmarshal(body, &slow); err != nil {
				t.Fatalf("fast decoder accepted what encoding/json refuses: %v", err)
			}
			if !sameAPIAlerts(fast, slow) {
				t.Fatalf("fast decoder disagrees:\n%+v\n%+v", fast, slow)
			}
		}
		p, err := newPoller(PollerOptions{
			Name: "main", URLs: []string{"http://am-1:9093", "http://am-2:9093"},
			Clock: clock.NewFake(t0), Log: testLogger(nil), MaxResponseBytes: 1 << 20,
		}, &fixedTransport{status: status, body: body})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := p.Poll(context.Background())
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !knownKinds[e.Kind] || len(e.Msg) > MaxErrorLen || strings.ContainsAny(e.Msg, "\r\n") || !utf8.ValidString(e.Msg) {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		if ev.Kind != datasource.Snapshot || ev.Alerts == nil {
			t.Fatalf("event %s", describe(ev))
		}
		seen := map[string]bool{}
		for _, a := range ev.Alerts {
			if a.Fingerprint == "" || seen[a.Fingerprint] {
				t.Fatalf("fingerprint %q empty or repeated", a.Fingerprint)
			}
			seen[a.Fingerprint] = true
			switch a.State {
			case datasource.StateFiring, datasource.StateSuppressed, datasource.StateResolved:
			default:
				t.Fatalf("state %q", a.State)
			}
		}
	})
}

// sameAPIAlerts compares decoded alerts, times by instant and offset.
func sameAPIAlerts(a, b []apiAlert) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		for _, p := range [][2]*time.Time{{&x.StartsAt, &y.StartsAt}, {&x.EndsAt, &y.EndsAt}, {&x.UpdatedAt, &y.UpdatedAt}} {
			if !p[0].Equal(*p[1]) || p[0].Format(time.RFC3339Nano) != p[1].Format(time.RFC3339Nano) {
				return false
			}
			*p[0], *p[1] = time.Time{}, time.Time{}
		}
		if !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}
