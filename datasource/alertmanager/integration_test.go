//go:build unix

package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/internal/testserver"
)

// TestIntegrationRealAlertmanager runs a real Alertmanager on loopback that routes
// everything to our Webhook, posts alerts to it, and follows them through the Poller
// and the Webhook: fingerprints, states, a silence created and expired through the
// Poller, and a resolution.
func TestIntegrationRealAlertmanager(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an Alertmanager server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	logs := &syncBuffer{}
	defer func() {
		if t.Failed() {
			t.Logf("our log:\n%s", logs.String())
		}
	}()

	hook, err := NewWebhook(WebhookOptions{Name: "hook", Log: testLogger(logs)})
	if err != nil {
		t.Fatal(err)
	}
	hookSrv := httptest.NewServer(hook.Handler())
	defer hookSrv.Close()
	hookSub, err := hook.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hookSub.Close()
	recv(t, hookSub, time.Second) // the empty snapshot

	start := time.Now()
	amURL := testserver.Alertmanager(t, hookSrv.URL+"/alerts")
	t.Logf("alertmanager ready after %s", time.Since(start).Round(time.Millisecond))

	p, err := NewPoller(PollerOptions{Name: "it", URLs: []string{amURL}, Interval: 200 * time.Millisecond, Timeout: 2 * time.Second, Log: testLogger(logs)})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := p.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	labelsA := map[string]string{"alertname": "OpsCockpitIT", "severity": "critical", "instance": "a:9100"}
	labelsB := map[string]string{"alertname": "OpsCockpitIT", "severity": "warning", "instance": "b:9100"}
	fpA := model.LabelSet(toLabelSet(labelsA)).Fingerprint().String()
	fpB := model.LabelSet(toLabelSet(labelsB)).Fingerprint().String()
	began := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	postAlerts(t, amURL, []map[string]any{
		{"labels": labelsA, "annotations": map[string]string{"summary": "A is broken"}, "startsAt": began, "generatorURL": "http://prom:9090/graph?g0.expr=a"},
		{"labels": labelsB, "annotations": map[string]string{"summary": "B is slow"}, "startsAt": began},
	})

	// waitPoll reads snapshots until one satisfies ok.
	waitPoll := func(what string, ok func(map[string]datasource.Alert) bool) map[string]datasource.Alert {
		t.Helper()
		deadline := time.After(10 * time.Second)
		var last datasource.AlertEvent
		for {
			select {
			case ev := <-sub.C():
				if ev.Kind != datasource.Snapshot || ev.Source != "it" {
					t.Fatalf("poller event %s", describe(ev))
				}
				last = ev
				if m := byFingerprint(ev.Alerts); ok(m) {
					return m
				}
			case <-deadline:
				t.Fatalf("poller: %s not seen within 10s; last %s", what, describe(last))
			}
		}
	}
	hookState := hub{}
	waitHook := func(what string, ok func(hub) bool) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for !ok(hookState) {
			select {
			case ev := <-hookSub.C():
				if ev.Kind != datasource.Delta || ev.Source != "hook" {
					t.Fatalf("webhook event %s", describe(ev))
				}
				hookState = hookState.apply(ev)
			case <-deadline:
				t.Fatalf("webhook: %s not seen within 10s; have %v", what, hookState)
			}
		}
	}

	got := waitPoll("both alerts firing", func(m map[string]datasource.Alert) bool {
		return m[fpA].State == datasource.StateFiring && m[fpB].State == datasource.StateFiring
	})
	a := got[fpA]
	if a.Labels["instance"] != "a:9100" || a.Annotations["summary"] != "A is broken" || !a.StartsAt.Equal(began) ||
		a.GeneratorURL != "http://prom:9090/graph?g0.expr=a" || a.UpdatedAt.IsZero() || !a.EndsAt.After(time.Now()) {
		t.Errorf("alert A from the API: %+v", a)
	}
	if h := p.Health(); h.State != datasource.HealthUp {
		t.Errorf("poller health %+v", h)
	}
	waitHook("both alerts firing", func(h hub) bool {
		return h[fpA].State == datasource.StateFiring && h[fpB].State == datasource.StateFiring
	})
	if a := hookState[fpA]; !a.StartsAt.Equal(began) || a.Labels["severity"] != "critical" || a.Annotations["summary"] != "A is broken" {
		t.Errorf("alert A from the webhook: %+v", a)
	}
	t.Logf("alerts seen by poller and webhook after %s", time.Since(start).Round(time.Millisecond))

	// Silence A from its labels: A turns suppressed by that silence on the next poll.
	id, err := p.CreateSilence(ctx, Silence{
		Matchers:  MatchersForAlert(labelsA),
		EndsAt:    time.Now().Add(time.Hour),
		CreatedBy: "opscockpit integration test",
		Comment:   "checking that silences work",
	})
	if err != nil {
		t.Fatal(err)
	}
	waitPoll("A silenced", func(m map[string]datasource.Alert) bool {
		return m[fpA].State == datasource.StateSuppressed && slices.Equal(m[fpA].SilencedBy, []string{id}) &&
			m[fpB].State == datasource.StateFiring
	})
	list, err := p.Silences(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(list, func(s Silence) bool { return s.ID == id }); i < 0 || list[i].State != SilenceActive ||
		len(list[i].Matchers) != 3 || list[i].CreatedBy != "opscockpit integration test" {
		t.Fatalf("silences: %+v", list)
	}

	// Expire it: A fires again.
	if err := p.ExpireSilence(ctx, id); err != nil {
		t.Fatal(err)
	}
	waitPoll("A firing again", func(m map[string]datasource.Alert) bool {
		return m[fpA].State == datasource.StateFiring && len(m[fpA].SilencedBy) == 0
	})
	list, err = p.Silences(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(list, func(s Silence) bool { return s.ID == id }); i < 0 || list[i].State != SilenceExpired {
		t.Fatalf("silences after expiry: %+v", list)
	}
	err = p.ExpireSilence(ctx, "00000000-0000-0000-0000-000000000000")
	if e := asError(t, err, KindBadRequest); !e.NotFound() {
		t.Errorf("expiring an unknown silence: %+v", e)
	}

	// Resolve B: it leaves the API's list and comes through the webhook as resolved.
	ended := time.Now().Add(-time.Second).UTC().Truncate(time.Millisecond)
	postAlerts(t, amURL, []map[string]any{{"labels": labelsB, "startsAt": began, "endsAt": ended}})
	waitPoll("B gone", func(m map[string]datasource.Alert) bool {
		_, has := m[fpB]
		return !has && m[fpA].State == datasource.StateFiring
	})
	waitHook("B resolved", func(h hub) bool { return h[fpB].State == datasource.StateResolved })
	if b := hookState[fpB]; !b.EndsAt.Equal(ended) {
		t.Errorf("resolved B from the webhook: %+v", b)
	}
	t.Logf("done after %s", time.Since(start).Round(time.Millisecond))
}

func toLabelSet(m map[string]string) model.LabelSet {
	ls := make(model.LabelSet, len(m))
	for k, v := range m {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls
}

// postAlerts sends alerts to Alertmanager as Prometheus would.
func postAlerts(t *testing.T, amURL string, alerts []map[string]any) {
	t.Helper()
	b, err := json.Marshal(alerts)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(amURL+"/api/v2/alerts", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("post alerts: %s", resp.Status)
	}
}
