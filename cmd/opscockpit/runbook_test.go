package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opscockpit/opscockpit/internal/testserver"
)

func TestRunbookRenderChecksAndSearches(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	out := filepath.Join(t.TempDir(), "rb.png")
	code, stdout, stderr := runCmd(t, "runbook", "render", "../../assets/runbooks/checkoutlatencyhigh.md", "--out", out, "--size", "1000x1400", "--at", "5m")
	if code != 0 || !strings.Contains(stdout, "Checkout latency high") {
		t.Fatalf("render exit %d: %s %s", code, stdout, stderr)
	}
	if st, err := os.Stat(out); err != nil || st.Size() < 10_000 {
		t.Fatalf("render wrote %v %v", st, err)
	}
	if code, _, stderr := runCmd(t, "runbook", "render", "nope.md", "--out", out); code != 1 || !strings.Contains(stderr, "nope.md") {
		t.Fatalf("missing file: exit %d %s", code, stderr)
	}

	// the shipped runbooks lint clean; a broken folder fails with each problem named
	if code, stdout, stderr := runCmd(t, "runbook", "check", "../../assets/runbooks"); code != 0 {
		t.Fatalf("embedded runbooks: exit %d\n%s%s", code, stdout, stderr)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.md"), []byte("---\ntitle: Bad\nlast_reviewed: 2019-01-01\n---\n# Bad\n\nSee [gone](missing.md).\n"), 0o600)
	code, stdout, _ = runCmd(t, "runbook", "check", dir, "--max-age", "30d")
	if code != 1 || !strings.Contains(stdout, "missing.md") || !strings.Contains(stdout, "bad.md") {
		t.Fatalf("broken folder: exit %d\n%s", code, stdout)
	}
	if code, _, _ := runCmd(t, "runbook", "check", filepath.Join(dir, "bad.md")); code != 2 {
		t.Fatalf("a file instead of a folder: exit %d", code)
	}

	if code, stdout, _ := runCmd(t, "runbook", "search", "payments", "gateway"); code != 0 || !strings.Contains(stdout, "Payments dependency degraded") {
		t.Fatalf("search exit %d:\n%s", code, stdout)
	}
	if code, _, _ := runCmd(t, "runbook", "frobnicate"); code != 2 {
		t.Fatalf("unknown subcommand exit %d", code)
	}
}

// TestRunbookCheckAgainstRealPrometheusRules: a real Prometheus with two alerting rules,
// one with a runbook in the folder and one without; the lint names the missing one.
func TestRunbookCheckAgainstRealPrometheusRules(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus")
	}
	prom := testserver.Prometheus(t, nil, "groups:\n  - name: t\n    rules:\n"+
		"      - alert: DiskFull\n        expr: vector(0) > 1\n"+
		"      - alert: ApiDown\n        expr: vector(0) > 1\n")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "diskfull.md"), []byte("---\ntitle: Disk full\nowner: sre\nlast_reviewed: 2026-11-01\nalerts: [DiskFull]\n---\n# Disk full\n"), 0o600)
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(cfg, []byte("metrics:\n  sources:\n    - {name: prod, url: \""+prom+"\"}\n"), 0o600)
	code, stdout, stderr := runCmd(t, "runbook", "check", dir, "--config", cfg, "--rules-source", "prod", "--max-age", "3650d")
	t.Log(stdout)
	if code != 1 || !strings.Contains(stdout, "ApiDown") || strings.Contains(stdout, "DiskFull has no") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
}
