package alertmanager

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/datasource"
)

func TestDecodeAPIAlertsFixture(t *testing.T) {
	alerts, skipped, err := decodeAPIAlerts(readFixture(t, "api_v2_alerts.json"), "main", t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 0 || len(alerts) != 5 {
		t.Fatalf("%d alerts, skipped %v", len(alerts), skipped)
	}
	got := byFingerprint(alerts)
	tests := []struct {
		name        string
		fp          string
		state       datasource.AlertState
		silencedBy  []string
		inhibitedBy []string
		alertname   string
	}{
		{"active fires", "3c8f2a7d9e1b4f60", datasource.StateFiring, nil, nil, "CheckoutHighErrorRate"},
		{"silenced is suppressed", "a1b2c3d4e5f60718", datasource.StateSuppressed, []string{"7d0b6f4e-3a1c-4c55-9d8e-2f6a1b0c9e11"}, nil, "DiskAlmostFull"},
		{"inhibited is suppressed", "0f1e2d3c4b5a6978", datasource.StateSuppressed, nil, []string{"3c8f2a7d9e1b4f60"}, "PodNotReady"},
		{"unprocessed fires", "99aa88bb77cc66dd", datasource.StateFiring, nil, nil, "Watchdog"},
		{"endsAt in the past is resolved", "1234abcd5678ef90", datasource.StateResolved, nil, nil, "CheckoutSlow"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, ok := got[tc.fp]
			if !ok {
				t.Fatalf("no alert %s", tc.fp)
			}
			if a.State != tc.state || !slices.Equal(a.SilencedBy, tc.silencedBy) || !slices.Equal(a.InhibitedBy, tc.inhibitedBy) {
				t.Errorf("state %s silencedBy %v inhibitedBy %v", a.State, a.SilencedBy, a.InhibitedBy)
			}
			if a.Name() != tc.alertname || a.Source != "main" {
				t.Errorf("name %q source %q", a.Name(), a.Source)
			}
		})
	}
	a := got["3c8f2a7d9e1b4f60"]
	wantStart := time.Date(2026, 3, 1, 11, 52, 30, 123e6, time.UTC)
	wantUpd := time.Date(2026, 3, 1, 11, 59, 30, 456e6, time.UTC)
	if !a.StartsAt.Equal(wantStart) || !a.UpdatedAt.Equal(wantUpd) || a.Severity() != "critical" ||
		a.Annotations["runbook_url"] != "https://runbooks.example.com/checkout/high-error-rate" ||
		!strings.HasPrefix(a.GeneratorURL, "http://prometheus-0.example:9090/graph?") {
		t.Errorf("fields: %+v", a)
	}
}

func TestDecodeAPIAlertsCases(t *testing.T) {
	long := strings.Repeat("x", MaxLabelBytes+10)
	tests := []struct {
		name    string
		body    string
		wantErr string // decodeErrorReason of the error, "" for none
		n       int
		skipped map[string]int
		check   func(t *testing.T, a []datasource.Alert)
	}{
		{name: "empty list", body: `[]`},
		{name: "null", body: `null`},
		{name: "missing fingerprint skipped", body: `[{"labels":{"a":"b"},"status":{"state":"active"}},{"fingerprint":"f1","status":{"state":"active"}}]`,
			n: 1, skipped: map[string]int{reasonMissingFingerprint: 1}},
		{name: "huge fingerprint skipped", body: `[{"fingerprint":"` + strings.Repeat("f", 300) + `"}]`, skipped: map[string]int{reasonBadAlert: 1}},
		{name: "unknown state fires", body: `[{"fingerprint":"f1","status":{"state":"muted-by-the-future"}}]`, n: 1,
			check: func(t *testing.T, a []datasource.Alert) {
				if a[0].State != datasource.StateFiring {
					t.Errorf("state %s", a[0].State)
				}
			}},
		{name: "no status at all fires", body: `[{"fingerprint":"f1","labels":null,"annotations":null}]`, n: 1,
			check: func(t *testing.T, a []datasource.Alert) {
				if a[0].State != datasource.StateFiring {
					t.Errorf("state %s", a[0].State)
				}
			}},
		{name: "suppressed and ended is resolved", body: `[{"fingerprint":"f1","endsAt":"2026-03-01T11:00:00Z","status":{"state":"suppressed","silencedBy":["s"]}}]`, n: 1,
			check: func(t *testing.T, a []datasource.Alert) {
				if a[0].State != datasource.StateResolved {
					t.Errorf("state %s", a[0].State)
				}
			}},
		{name: "long label cut, not dropped", body: `[{"fingerprint":"f1","labels":{"alertname":"A","big":"` + long + `"}}]`, n: 1,
			check: func(t *testing.T, a []datasource.Alert) {
				if v := a[0].Labels["big"]; len(v) > MaxLabelBytes || !strings.HasSuffix(v, "…") {
					t.Errorf("label of %d bytes", len(v))
				}
			}},
		{name: "invalid JSON", body: `[{"fingerprint":`, wantErr: reasonInvalidJSON},
		{name: "HTML", body: `<html><title>502 Bad Gateway</title></html>`, wantErr: reasonInvalidJSON},
		{name: "object, not list", body: `{"status":"success"}`, wantErr: reasonWrongType},
		{name: "label of wrong type", body: `[{"fingerprint":"f1","labels":{"a":1}}]`, wantErr: reasonWrongType},
		{name: "bad timestamp", body: `[{"fingerprint":"f1","startsAt":"yesterday"}]`, wantErr: reasonWrongType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			alerts, skipped, err := decodeAPIAlerts([]byte(tc.body), "main", t0)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("no error, %d alerts", len(alerts))
				}
				if got := decodeErrorReason(err); got != tc.wantErr {
					t.Fatalf("reason %s, want %s (%v)", got, tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(alerts) != tc.n {
				t.Fatalf("%d alerts, want %d", len(alerts), tc.n)
			}
			for r, n := range tc.skipped {
				if skipped[r] != n {
					t.Errorf("skipped %v, want %v", skipped, tc.skipped)
				}
			}
			if tc.check != nil {
				tc.check(t, alerts)
			}
		})
	}
}

func TestMergeAlerts(t *testing.T) {
	mk := func(fp string, upd time.Duration, summary string) datasource.Alert {
		return datasource.Alert{Fingerprint: fp, UpdatedAt: t0.Add(upd), Annotations: map[string]string{"s": summary}}
	}
	tests := []struct {
		name  string
		lists [][]datasource.Alert
		want  map[string]string // fingerprint → summary of the winner
		order []string
	}{
		{"one peer", [][]datasource.Alert{{mk("a", 0, "1"), mk("b", 0, "1")}}, map[string]string{"a": "1", "b": "1"}, []string{"a", "b"}},
		{"newer on second peer wins", [][]datasource.Alert{{mk("a", 0, "old")}, {mk("a", time.Second, "new")}}, map[string]string{"a": "new"}, []string{"a"}},
		{"newer on first peer wins", [][]datasource.Alert{{mk("a", time.Second, "new")}, {mk("a", 0, "old")}}, map[string]string{"a": "new"}, []string{"a"}},
		{"tie keeps first peer", [][]datasource.Alert{{mk("a", 0, "first")}, {mk("a", 0, "second")}}, map[string]string{"a": "first"}, []string{"a"}},
		{"union in order of appearance", [][]datasource.Alert{{mk("a", 0, "1")}, {mk("c", 0, "2"), mk("a", 0, "2"), mk("b", 0, "2")}},
			map[string]string{"a": "1", "b": "2", "c": "2"}, []string{"a", "c", "b"}},
		{"no peers", nil, map[string]string{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mergeAlerts(tc.lists)
			var order []string
			for _, a := range got {
				order = append(order, a.Fingerprint)
				if tc.want[a.Fingerprint] != a.Annotations["s"] {
					t.Errorf("%s: got %q, want %q", a.Fingerprint, a.Annotations["s"], tc.want[a.Fingerprint])
				}
			}
			if !slices.Equal(order, tc.order) {
				t.Errorf("order %v, want %v", order, tc.order)
			}
		})
	}
}

func TestDecodeWebhookFixtures(t *testing.T) {
	now := t0.Add(5 * time.Minute)
	tests := []struct {
		file      string
		truncated int
		want      map[string]datasource.AlertState
		endsAt    map[string]time.Time
	}{
		{"webhook_firing.json", 0, map[string]datasource.AlertState{"3c8f2a7d9e1b4f60": datasource.StateFiring, "4d9f3b8e0f2c5a71": datasource.StateFiring}, nil},
		{"webhook_resolved.json", 0, map[string]datasource.AlertState{"3c8f2a7d9e1b4f60": datasource.StateResolved},
			map[string]time.Time{"3c8f2a7d9e1b4f60": time.Date(2026, 3, 1, 12, 7, 45, 0, time.UTC)}},
		{"webhook_truncated.json", 7, map[string]datasource.AlertState{"b0b0b0b0b0b00001": datasource.StateFiring, "b0b0b0b0b0b00002": datasource.StateResolved},
			map[string]time.Time{"b0b0b0b0b0b00002": time.Date(2026, 3, 1, 11, 57, 0, 0, time.UTC)}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			ev, bad := decodeWebhook(readFixture(t, tc.file), "hook", now)
			if bad != nil {
				t.Fatal(bad)
			}
			if ev.Kind != datasource.Delta || ev.Source != "hook" || ev.Truncated != tc.truncated || len(ev.Alerts) != len(tc.want) {
				t.Fatalf("event %s", describe(ev))
			}
			for _, a := range ev.Alerts {
				if a.State != tc.want[a.Fingerprint] || !a.UpdatedAt.Equal(now) || a.Source != "hook" || a.Name() == "" {
					t.Errorf("alert %+v", a)
				}
				if want, ok := tc.endsAt[a.Fingerprint]; ok && !a.EndsAt.Equal(want) {
					t.Errorf("%s endsAt %v, want %v", a.Fingerprint, a.EndsAt, want)
				}
				if a.State == datasource.StateFiring && !a.EndsAt.IsZero() {
					t.Errorf("firing alert with endsAt %v (webhooks send the zero time)", a.EndsAt)
				}
			}
		})
	}
}

func TestTooDeep(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`{"alerts":[{"labels":{}}]}`, false},
		{strings.Repeat("[", 17) + strings.Repeat("]", 17), true},
		{strings.Repeat("[", 16) + strings.Repeat("]", 16), false},
		{`{"a":"` + strings.Repeat("[", 100) + `"}`, false}, // brackets in a string
		{`{"a":"\"` + strings.Repeat("{", 100) + `"}`, false},
	}
	for _, tc := range tests {
		if got := tooDeep([]byte(tc.in), maxDepth); got != tc.want {
			t.Errorf("tooDeep(%.40q) = %v", tc.in, got)
		}
	}
}

// TestFastAlerts: the fast decoder takes what Alertmanager writes and agrees with
// encoding/json; what it does not handle it leaves to encoding/json.
func TestFastAlerts(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		accept bool
	}{
		{"fixture", string(readFixture(t, "api_v2_alerts.json")), true},
		{"benchmark payload", string(apiPayload(50)), true},
		{"escapes as Alertmanager writes them", `[{"fingerprint":"a","generatorURL":"http://p/graph?g0.expr=a%3E1\u0026g0.tab=1","annotations":{"d":"x \u003c y\n\"q\""}}]`, true},
		{"non-ASCII", `[{"fingerprint":"a","labels":{"ünïcode":"日本"}}]`, true},
		{"unknown fields of every type", `[{"fingerprint":"a","receivers":[{"name":"x"}],"n":-1.5e3,"b":true,"z":null,"o":{"p":[[]]}}]`, true},
		{"empty", ` [ ] `, true},
		{"key in other case", `[{"Fingerprint":"a"}]`, false},
		{"repeated key", `[{"labels":{"a":"1"},"labels":{"b":"2"}}]`, false},
		{"null field", `[{"fingerprint":null}]`, false},
		{"null element", `[null]`, false},
		{"trailing text", `[] x`, false},
		{"number for a string", `[{"fingerprint":1}]`, false},
		{"invalid UTF-8, replaced as encoding/json does", "[{\"fingerprint\":\"a\xff\"}]", true},
		{"control character", "[{\"fingerprint\":\"a\x01\"}]", false},
		{"cut short", `[{"fingerprint":"a"`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fast, ok := fastAlerts([]byte(tc.body))
			if ok != tc.accept {
				t.Fatalf("accepted = %v", ok)
			}
			var slow []apiAlert
			err := json.Unmarshal([]byte(tc.body), &slow)
			if ok && (err != nil || !sameAPIAlerts(fast, slow)) {
				t.Fatalf("disagrees with encoding/json (%v):\n%+v\n%+v", err, fast, slow)
			}
			// Either way, decodeAPIAlerts gives what encoding/json gives.
			if _, _, derr := decodeAPIAlerts([]byte(tc.body), "m", t0); (derr == nil) != (err == nil) {
				t.Fatalf("decodeAPIAlerts err %v, encoding/json err %v", derr, err)
			}
		})
	}
}
