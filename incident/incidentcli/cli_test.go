package incidentcli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/incident"
	"github.com/opscockpit/opscockpit/incident/bundle"
)

var t0 = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

type harness struct {
	t   *testing.T
	env Env
	clk *clock.Fake
	db  string
}

func newHarness(t *testing.T) *harness {
	clk := clock.NewFake(t0)
	db := filepath.Join(t.TempDir(), "cockpit.db")
	return &harness{t: t, clk: clk, db: db, env: Env{Clock: clk, DBPath: db, Author: "scribe-sam"}}
}

func (h *harness) run(args ...string) (int, string, string) {
	h.t.Helper()
	var out, errb bytes.Buffer
	env := h.env
	env.Stdout, env.Stderr = &out, &errb
	code := Run(context.Background(), args, env)
	return code, out.String(), errb.String()
}

func (h *harness) ok(args ...string) string {
	h.t.Helper()
	code, out, errs := h.run(args...)
	if code != 0 {
		h.t.Fatalf("%v: exit %d: %s", args, code, errs)
	}
	return out
}

// TestEndToEnd walks an incident through its life with the CLI alone, then checks the
// postmortem and the black box it exports.
func TestEndToEnd(t *testing.T) {
	h := newHarness(t)
	pngBytes := []byte("\x89PNG\r\n\x1a\nfake")
	h.env.Charts = func(ctx context.Context, inc incident.Incident) ([]incident.Chart, error) {
		return []incident.Chart{{Title: "p99 latency", PNG: pngBytes}}, nil
	}
	h.env.Extras = func(ctx context.Context, inc incident.Incident, _ []incident.Entry) (bundle.Extras, error) {
		return bundle.Extras{
			MetricWindows: []bundle.PanelSeries{{Panel: "p99 latency", Series: []datasource.Series{{
				Labels: map[string]string{"service": "checkout"}, Samples: []datasource.Sample{{T: t0, V: 1.2}}}}}},
			Runbooks: map[string]string{"checkout": "# Checkout\n"},
		}, nil
	}
	out := h.ok("declare", "--title", "Checkout errors", "--severity", "sev2", "--service", "checkout", "--service", "payments")
	id := strings.TrimSpace(out)
	if n, err := strconv.Atoi(id); err != nil || n <= 0 {
		t.Fatalf("declare printed %q, want the id alone", out)
	}
	h.clk.Advance(2 * time.Minute)
	h.ok("note", id, "5xx rate at 12% on checkout")
	h.clk.Advance(time.Minute)
	h.ok("note", id, "rollback", "started", "--by", "ops-olga") // words joined, flag after positionals
	h.ok("role", "INC-"+id, "commander", "Ana", "Lopez")
	h.clk.Advance(time.Minute)
	h.ok("decide", id, "--because", "the deploy at 08:55 matches the onset", "roll back release 4.2")
	h.clk.Advance(6 * time.Minute)
	h.ok("status", id, "mitigated")
	h.clk.Advance(20 * time.Minute)
	h.ok("status", id, "resolved", "--reason", "error rate normal for 15m")

	var shown struct {
		Incident  incident.Incident
		Durations incident.Durations
		Clocks    incident.ClockState
		Timeline  []incident.Entry
	}
	if err := json.Unmarshal([]byte(h.ok("show", id, "--json")), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Incident.Status != incident.Resolved || shown.Incident.Roles[incident.Commander] != "Ana Lopez" ||
		!slices.Equal(shown.Incident.Services, []string{"checkout", "payments"}) || shown.Incident.Severity != incident.SEV2 {
		t.Errorf("shown %+v", shown.Incident)
	}
	if shown.Durations.TimeToMitigate.D != 10*time.Minute || shown.Durations.TimeToResolve.D != 30*time.Minute {
		t.Errorf("durations %+v", shown.Durations)
	}
	if shown.Clocks.Update != incident.UpdateOff || shown.Clocks.SinceDeclaration != 30*time.Minute {
		t.Errorf("clocks of a resolved incident %+v", shown.Clocks)
	}
	var authors []string
	for _, e := range shown.Timeline {
		authors = append(authors, e.Author)
	}
	if !slices.Contains(authors, "ops-olga") || !slices.Contains(authors, "scribe-sam") {
		t.Errorf("authors %v", authors)
	}
	text := h.ok("show", id)
	for _, want := range []string{"INC-" + id, "SEV2", "resolved", "Ana Lopez", "rollback started", "mitigate 10m00s", "resolve 30m00s"} {
		if !strings.Contains(text, want) {
			t.Errorf("show lacks %q:\n%s", want, text)
		}
	}
	var listed []struct{ incident.Incident }
	if err := json.Unmarshal([]byte(h.ok("list", "--json")), &listed); err != nil || len(listed) != 1 {
		t.Fatalf("list --json: %v %v", listed, err)
	}
	if l := h.ok("list"); !strings.Contains(l, "Checkout errors") || !strings.Contains(l, "30m00s") {
		t.Errorf("list:\n%s", l)
	}

	dir := t.TempDir()
	md := filepath.Join(dir, "pm.md")
	h.ok("export", id, "--format", "markdown", "--out", md)
	body, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Postmortem: INC-" + id, "## Timeline", "roll back release 4.2** because the deploy", "](pm-chart-1.png)", "| Time to resolve | 30m00s |"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("postmortem lacks %q:\n%s", want, body)
		}
	}
	if png, _ := os.ReadFile(filepath.Join(dir, "pm-chart-1.png")); !bytes.Equal(png, pngBytes) {
		t.Error("chart not written next to the markdown")
	}

	box := filepath.Join(dir, "inc.ocbx")
	h.ok("export", id, "--out", box, "--format", "bundle")
	b, err := bundle.Open(box)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[incident.MilestoneKind]time.Time{
		incident.MilestoneDeclared: t0, incident.MilestoneDetected: t0,
		incident.MilestoneMitigated: t0.Add(10 * time.Minute), incident.MilestoneResolved: t0.Add(30 * time.Minute),
	} {
		if got, ok := b.Incident.Milestones.At(k); !ok || !got.Equal(want) {
			t.Errorf("bundle milestone %s = %v, want %v", k, got, want)
		}
	}
	var ks []incident.Kind
	for _, e := range b.Timeline {
		ks = append(ks, e.Kind)
	}
	want := []incident.Kind{incident.KindStatusChange, incident.KindNote, incident.KindNote, incident.KindRoleChange,
		incident.KindDecision, incident.KindStatusChange, incident.KindStatusChange}
	if !slices.Equal(ks, want) {
		t.Errorf("bundle timeline %v, want %v", ks, want)
	}
	if len(b.MetricWindows) != 1 || b.Runbooks["checkout"] == "" || b.ExportedBy != "scribe-sam" {
		t.Errorf("bundle extras %+v %v", b.MetricWindows, b.Runbooks)
	}
}

func TestExitCodesAndErrors(t *testing.T) {
	h := newHarness(t)
	id := strings.TrimSpace(h.ok("declare", "--title", "x", "--severity", "SEV3"))
	h.ok("status", id, "resolved")
	notDB := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notDB, []byte("my notes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		args    []string
		code    int
		errHas  string
		noStore bool
	}{
		{"no command", nil, 2, "usage", false},
		{"unknown command", []string{"explode"}, 2, "unknown command", false},
		{"declare without title", []string{"declare", "--severity", "SEV2"}, 2, "--title", false},
		{"bad severity", []string{"declare", "--title", "t", "--severity", "SEV9"}, 2, "severity", false},
		{"unknown flag", []string{"list", "--color"}, 2, "color", false},
		{"bad id", []string{"show", "twelve"}, 2, "incident id", false},
		{"missing text", []string{"note", id}, 2, "arguments", false},
		{"bad status", []string{"status", id, "fixed"}, 2, "status", false},
		{"bad role", []string{"role", id, "boss", "Ana"}, 2, "role", false},
		{"decide without because", []string{"decide", id, "do it"}, 2, "--because", false},
		{"export bad format", []string{"export", id, "--format", "pdf", "--out", "x"}, 2, "markdown or bundle", false},
		{"no such incident", []string{"note", "999", "hello"}, 1, "no such incident", false},
		{"resolved to identified", []string{"status", id, "identified"}, 1, "reopen", false},
		{"not a database", []string{"list", "--db", notDB}, 1, "not a SQLite database", true},
		{"help", []string{"help"}, 0, "usage", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := h.run(tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.errHas) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q), stdout %q", code, tc.code, errs, tc.errHas, out)
			}
			if code == 1 && strings.Count(strings.TrimSpace(errs), "\n") != 0 {
				t.Errorf("failure message is not one line: %q", errs)
			}
		})
	}
	if b, _ := os.ReadFile(notDB); string(b) != "my notes\n" {
		t.Error("the CLI changed a file that is not a database")
	}
	// Reopen is explicit and then the lifecycle continues.
	h.ok("reopen", id, "--reason", "came back")
	h.ok("status", id, "identified")
}

func TestMilestoneAndActionItems(t *testing.T) {
	h := newHarness(t)
	id := strings.TrimSpace(h.ok("declare", "--title", "Queue backlog", "--severity", "SEV3"))
	start := t0.Add(-20 * time.Minute).UTC().Format(time.RFC3339)
	h.ok("milestone", id, "started", start, "--reason", "customers reported errors before the alert")
	if code, _, errs := h.run("milestone", id, "started", start); code != 2 || !strings.Contains(errs, "reason") {
		t.Fatalf("milestone without a reason: exit %d %s", code, errs)
	}
	if code, _, _ := h.run("milestone", id, "lunch", start, "--reason", "x"); code != 2 {
		t.Fatal("an unknown milestone was accepted")
	}
	aid := strings.TrimSpace(h.ok("action", id, "--owner", "bob", "--due", "2026-12-31", "Alert on queue age"))
	if aid == "" {
		t.Fatal("no action id")
	}
	if code, _, _ := h.run("action", id, "No owner"); code != 2 {
		t.Fatal("an action item without an owner was accepted")
	}
	var shown struct {
		Incident incident.Incident `json:"incident"`
	}
	out := h.ok("show", id, "--json")
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatalf("show --json: %v\n%s", err, out)
	}
	if at, ok := shown.Incident.Milestones.At(incident.MilestoneStarted); !ok || !at.Equal(t0.Add(-20*time.Minute)) {
		t.Fatalf("started milestone %v %v", at, ok)
	}
}
