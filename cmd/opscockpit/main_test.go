package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/assets"
	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/config"
	"github.com/opscockpit/opscockpit/datasource"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestSnapshotRendersTheDemo(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // no user config: the embedded demo
	out := filepath.Join(t.TempDir(), "shot.png")
	code, stdout, stderr := runCmd(t, "snapshot", "--out", out, "--size", "1280x720", "--at", "5m")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "scenario offset 5m0s, 3 alerts") {
		t.Errorf("stdout = %q", stdout)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 720 {
		t.Fatalf("size %v", b)
	}
	if n := colours(img); n < 200 {
		t.Fatalf("only %d colours: the render is blank", n)
	}
}

func colours(img image.Image) int {
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
		}
	}
	return len(seen)
}

func TestSnapshotBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"snapshot"}, "--out is required"},
		{[]string{"snapshot", "--out", "x.png", "--size", "big"}, `--size "big"`},
		{[]string{"snapshot", "--out", "x.png", "--size", "10x10"}, "between 320x240"},
		{[]string{"snapshot", "--bogus"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		code, _, stderr := runCmd(t, tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", "title: T\nscenario:\n  file: embedded:checkout-deploy\nmetrics:\n  panels:\n    - title: p\n      type: stat\n      query: up\n")
	unknown := write("unknown.yaml", "title: T\nmetrics:\n  refrsh: 5s\n")
	badScenario := write("scen.yaml", "scenario:\n  file: embedded:nope\n")
	tests := []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{"valid", []string{"check-config", good}, 0, "good.yaml: ok (1 panels", ""},
		{"unknown field names file line and field", []string{"check-config", unknown}, 1, "", "unknown.yaml:3: metrics.refrsh"},
		{"missing scenario", []string{"check-config", badScenario}, 1, "", `embedded scenario "nope" not found`},
		{"no such file", []string{"check-config", filepath.Join(dir, "nope.yaml")}, 1, "", "no such file"},
		{"no argument", []string{"check-config"}, 2, "", "Usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCmd(t, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errs, tt.err) {
				t.Fatalf("exit %d\nstdout %q\nstderr %q", code, out, errs)
			}
		})
	}
}

func TestVersionAndUnknownCommand(t *testing.T) {
	if code, out, _ := runCmd(t, "--version"); code != 0 || !strings.HasPrefix(out, "opscockpit ") {
		t.Fatalf("--version: %d %q", code, out)
	}
	if code, out, _ := runCmd(t, "version"); code != 0 || !strings.HasPrefix(out, "opscockpit ") {
		t.Fatalf("version: %d %q", code, out)
	}
	if code, _, errs := runCmd(t, "frobnicate"); code != 2 || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Fatalf("unknown: %d %q", code, errs)
	}
	if code, _, errs := runCmd(t, "--log-level", "loud"); code != 2 || !strings.Contains(errs, "--log-level") {
		t.Fatalf("bad log level: %d %q", code, errs)
	}
}

// The demo config and the scenario it plays must agree: every panel's query has data
// at the height of the incident, and every scripted alert has a runbook.
func TestDemoIsCoherent(t *testing.T) {
	cfg, err := config.Load(assets.DemoConfig(), assets.DemoConfigName)
	if err != nil {
		t.Fatal(err)
	}
	fake := clock.NewFake(time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC))
	sys, err := assemble(cfg, fake, 5*time.Minute, quiet())
	if err != nil {
		t.Fatal(err)
	}
	sys.poller.RefreshAll(context.Background())
	snap := sys.hub.Publish()
	for _, p := range snap.Panels {
		if len(p.Result.Series) == 0 || p.Err != "" {
			t.Errorf("panel %q: %d series, err %q (query not in the scenario?)", p.Spec.Title, len(p.Result.Series), p.Err)
		}
	}
	for _, a := range sys.replay.Scenario().Alerts {
		if rbs := sys.library.ForAlert(a.Labels, a.Annotations); len(rbs) == 0 {
			t.Errorf("alert %s has no runbook", a.Labels["alertname"])
		}
	}
	if len(sys.library.All()) < 3 {
		t.Errorf("embedded runbooks: %d", len(sys.library.All()))
	}
	if got := sys.replay.AlertsAt(sys.clock.Now()); len(got) != 3 || got[0].State != datasource.StateFiring {
		t.Errorf("alerts at 05:00: %+v", got)
	}
}

// The README's complete example must stay a valid configuration.
func TestReadmeExampleConfigIsValid(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i := strings.Index(s, "A complete example")
	if i < 0 {
		t.Fatal("README has no complete example")
	}
	j := strings.Index(s[i:], "```yaml\n")
	k := strings.Index(s[i+j+8:], "```")
	if j < 0 || k < 0 {
		t.Fatal("example block not found")
	}
	if _, err := config.Load([]byte(s[i+j+8:i+j+8+k]), "README.md example"); err != nil {
		t.Fatal(err)
	}
}

func TestChimeIsAValidWAV(t *testing.T) {
	b := chime()
	if string(b[:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " || len(b) < 44+15000 {
		t.Fatalf("not a WAV: % x…", b[:16])
	}
}

// demoSystem is the embedded demo, five minutes in on clk, with its panels filled and
// its alerts in the hub.
func demoSystem(ctx context.Context, t *testing.T, clk clock.Clock) *system {
	t.Helper()
	_, sys, code := loadSystem("", clk, 5*time.Minute, quiet(), os.Stderr)
	if code != 0 {
		t.Fatal("demo did not load")
	}
	sys.poller.RefreshAll(ctx)
	if err := firstAlerts(ctx, sys, "scenario"); err != nil {
		t.Fatal(err)
	}
	return sys
}
