package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
