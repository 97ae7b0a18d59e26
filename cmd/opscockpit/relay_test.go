package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/config"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/datasource/stream"
	"github.com/opscockpit/opscockpit/internal/testserver"
)

// TestRelayInFrontOfRealAlertmanager is issue #4's real-parts test: Debian's
// Alertmanager notifies `opscockpit relay` by webhook, the relay streams to two cockpit
// clients over real websockets, a cockpit polling the same Alertmanager sees the alerts
// too, and an ack with a silence creates a real silence that Alertmanager reports.
func TestRelayInFrontOfRealAlertmanager(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	addr, done, err := startRelay(ctx, relayOptions{Listen: "127.0.0.1:0", Tokens: []string{"relay-token"}}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); <-done }()
	amURL := testserver.Alertmanager(t, fmt.Sprintf("http://%s/webhook", addr))

	now := time.Now().UTC()
	postAlerts(t, amURL, []map[string]any{
		{"labels": map[string]string{"alertname": "CheckoutDown", "severity": "critical", "service": "checkout"},
			"annotations": map[string]string{"summary": "checkout is down"}, "startsAt": now.Add(-time.Minute)},
		{"labels": map[string]string{"alertname": "DiskFilling", "severity": "warning", "instance": "db-1"}, "startsAt": now},
	})

	// two cockpits following the relay
	url := fmt.Sprintf("ws://%s%s", addr, stream.DefaultPath)
	for i := range 2 {
		c, err := stream.NewClient(stream.ClientOptions{Name: fmt.Sprintf("cockpit-%d", i), URL: url, Token: "relay-token", Log: log})
		if err != nil {
			t.Fatal(err)
		}
		sub, err := c.Subscribe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		waitForAlerts(t, sub, 2, fmt.Sprintf("cockpit %d via the relay", i))
	}

	// a cockpit polling Alertmanager directly, and acking with a silence
	cfg, err := config.Load([]byte(fmt.Sprintf("alerts:\n  alertmanagers:\n    - {name: am, urls: [%q]}\n", amURL)), "am.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sys, err := assemble(cfg, clock.Real{}, -1, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := firstAlerts(ctx, sys, "am"); err != nil {
		t.Fatal(err)
	}
	snap := sys.hub.Publish()
	if len(snap.Alerts) != 2 {
		t.Fatalf("poller sees %d alerts", len(snap.Alerts))
	}
	var down datasource.Alert
	for _, a := range snap.Alerts {
		if a.Name() == "CheckoutDown" {
			down = a
		}
	}
	id, err := sys.silencer.Silence(ctx, down, "alice", "rolling back", time.Hour)
	if err != nil || id == "" {
		t.Fatalf("silence: %q %v", id, err)
	}
	silenced := waitForState(t, ctx, sys, down.Fingerprint, func(a datasource.Alert) bool {
		return a.State == datasource.StateSuppressed && len(a.SilencedBy) == 1 && a.SilencedBy[0] == id
	}, "silenced by "+id)
	// and lifted again from the cockpit
	if err := sys.unsilence(ctx, silenced); err != nil {
		t.Fatal(err)
	}
	waitForState(t, ctx, sys, down.Fingerprint, func(a datasource.Alert) bool { return a.State == datasource.StateFiring }, "firing again")
}

// waitForState polls the cockpit's Alertmanager until the alert satisfies ok (15 s).
func waitForState(t *testing.T, ctx context.Context, sys *system, fp string, ok func(datasource.Alert) bool, what string) datasource.Alert {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if err := firstAlerts(ctx, sys, "am"); err != nil {
			t.Fatal(err)
		}
		for _, a := range sys.hub.Publish().Alerts {
			if a.Fingerprint == fp && ok(a) {
				return a
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Alertmanager never reported the alert %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func postAlerts(t *testing.T, amURL string, alerts []map[string]any) {
	t.Helper()
	b, _ := json.Marshal(alerts)
	resp, err := http.Post(amURL+"/api/v2/alerts", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("post alerts: %s", resp.Status)
	}
}

// waitForAlerts reads events until the merged state holds n alerts (at most 30 s).
func waitForAlerts(t *testing.T, sub datasource.Subscription, n int, who string) {
	t.Helper()
	state := map[string]datasource.Alert{}
	timeout := time.After(30 * time.Second)
	for len(state) < n {
		select {
		case ev, ok := <-sub.C():
			if !ok {
				t.Fatalf("%s: feed ended: %v", who, sub.Err())
			}
			if ev.Kind == datasource.Snapshot {
				clear(state)
			}
			for _, a := range ev.Alerts {
				state[a.Fingerprint] = a
			}
		case <-timeout:
			t.Fatalf("%s: %d of %d alerts after 30s", who, len(state), n)
		}
	}
}

func TestRelayCommandFlags(t *testing.T) {
	if code, _, errs := runCmd(t, "relay", "--tls-cert-file", "x.pem"); code != 2 || !bytes.Contains([]byte(errs), []byte("go together")) {
		t.Fatalf("exit %d: %s", code, errs)
	}
	empty := filepath.Join(t.TempDir(), "tok")
	os.WriteFile(empty, nil, 0o600)
	if code, _, errs := runCmd(t, "relay", "--token-file", empty); code != 2 || !bytes.Contains([]byte(errs), []byte("empty")) {
		t.Fatalf("exit %d: %s", code, errs)
	}
}
