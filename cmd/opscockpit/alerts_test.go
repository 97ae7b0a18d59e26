package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/datasource/stream"
)

func TestAlertsCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfg, []byte("scenario: {file: embedded:checkout-deploy, start: 5m}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "alerts", "--config", cfg, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got []alertJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(got) != 3 || got[0].Name != "CheckoutErrorBudgetBurn" || got[0].State != "firing" || got[0].Fingerprint == "" {
		t.Fatalf("alerts = %+v", got)
	}
	code, out, _ = runCmd(t, "alerts", "--config", cfg, "--filter", `severity="warning"`)
	if code != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(out, "CheckoutLatencyHigh") || strings.Contains(out, "Budget") {
		t.Fatalf("filtered table (exit %d):\n%s", code, out)
	}
	if code, _, errs := runCmd(t, "alerts", "--config", cfg, "--filter", `severity=~"(`); code != 2 || !strings.Contains(errs, "--filter") {
		t.Fatalf("bad filter: exit %d %s", code, errs)
	}
	noAlerts := filepath.Join(dir, "m.yaml")
	os.WriteFile(noAlerts, []byte("metrics:\n  sources: [{name: p, url: 'http://127.0.0.1:1'}]\n  panels: [{title: x, type: stat, query: up}]\n"), 0o600)
	if code, _, errs := runCmd(t, "alerts", "--config", noAlerts); code != 1 || !strings.Contains(errs, "no alert source") {
		t.Fatalf("no sources: exit %d %s", code, errs)
	}
}

// A cockpit fed by a relay stream: the alerts command shows what the relay publishes,
// authenticated with the token file.
func TestAlertsFromARelayStream(t *testing.T) {
	srv := stream.NewServer(stream.ServerOptions{Tokens: []string{"s3cret-token"}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Run(ctx)
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	now := time.Now()
	srv.Publish(datasource.AlertEvent{Kind: datasource.Snapshot, Source: "am", Alerts: []datasource.Alert{{
		Fingerprint: "abc123", State: datasource.StateFiring, StartsAt: now.Add(-time.Minute), UpdatedAt: now,
		Labels: map[string]string{"alertname": "RelayedAlert", "severity": "critical"}}}})

	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	os.WriteFile(tok, []byte("s3cret-token\n"), 0o600)
	cfg := filepath.Join(dir, "c.yaml")
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + stream.DefaultPath
	os.WriteFile(cfg, []byte(fmt.Sprintf("alerts:\n  streams:\n    - {name: relay, url: %q, token_file: %q}\n", url, tok)), 0o600)
	code, out, errs := runCmd(t, "alerts", "--config", cfg, "--timeout", "10s")
	if code != 0 || !strings.Contains(out, "RelayedAlert") || !strings.Contains(out, "firing") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if strings.Contains(errs+out, "s3cret-token") {
		t.Fatal("the token leaked into the output")
	}
	os.WriteFile(tok, []byte("wrong\n"), 0o600)
	code, _, errs = runCmd(t, "alerts", "--config", cfg, "--timeout", "3s")
	if code != 1 || !strings.Contains(errs, "relay") {
		t.Fatalf("wrong token: exit %d: %s", code, errs)
	}
}
