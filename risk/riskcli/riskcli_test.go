package riskcli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/risk"
	"github.com/opscockpit/opscockpit/risk/riskcli"
)

type harness struct {
	t   *testing.T
	dir string
	db  string
	clk *clock.Fake
}

func newHarness(t *testing.T) *harness {
	dir := t.TempDir()
	return &harness{t: t, dir: dir, db: filepath.Join(dir, "risk.db"), clk: clock.NewFake(time.Date(2025, 4, 1, 8, 0, 0, 0, time.UTC))}
}

func (h *harness) run(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = riskcli.Run(context.Background(), args, riskcli.Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Clock: h.clk, DBPath: h.db, Actor: "tester"})
	return code, out.String(), errb.String()
}

func (h *harness) ok(args ...string) string {
	h.t.Helper()
	code, out, errs := h.run("", args...)
	if code != 0 {
		h.t.Fatalf("risk %v: exit %d: %s", args, code, errs)
	}
	return out
}

func TestCLIWorkflow(t *testing.T) {
	h := newHarness(t)
	// an empty register lists as an empty JSON array and exports a header
	if out := h.ok("list", "--json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("empty list: %q", out)
	}
	if out := h.ok("export", "--format", "csv"); !strings.HasPrefix(out, "id,title,") || strings.Count(out, "\n") != 1 {
		t.Fatalf("empty export: %q", out)
	}
	out := h.ok("add", "--title", "Payments provider outage", "--owner", "ann", "--likelihood", "4", "--impact", "5", "--service", "pay", "--next-review", "2025-04-10")
	if out != "created risk 1 (Very High)\n" {
		t.Fatalf("add: %q", out)
	}
	h.ok("add", "--title", "Cert expiry", "--owner", "bob", "--likelihood", "2", "--impact", "2")
	// flags after the positional argument
	if out := h.ok("update", "2", "--owner", "carol", "--status", "mitigating"); !strings.Contains(out, "updated risk 2") {
		t.Fatalf("update: %q", out)
	}
	if out := h.ok("escalate", "1", "--to", "engineering director", "--note", "Very High since the last outage"); !strings.Contains(out, "from team to engineering director") {
		t.Fatalf("escalate: %q", out)
	}
	var risks []risk.Risk
	if err := json.Unmarshal([]byte(h.ok("list", "--json", "--sort", "score", "--desc")), &risks); err != nil {
		t.Fatal(err)
	}
	if len(risks) != 2 || risks[0].Title != "Payments provider outage" || risks[1].Owner != "carol" || risks[0].Escalation != "engineering director" {
		t.Fatalf("list: %+v", risks)
	}
	if out := h.ok("list", "--q", "paym"); !strings.Contains(out, "Payments provider outage") || !strings.Contains(out, "1 of 1 risks") {
		t.Fatalf("search: %q", out)
	}
	h.clk.Advance(15 * 24 * time.Hour)
	if out := h.ok("list", "--overdue"); !strings.Contains(out, "review-overdue") || strings.Contains(out, "Cert expiry") {
		t.Fatalf("overdue: %q", out)
	}
	var d risk.Detail
	if err := json.Unmarshal([]byte(h.ok("show", "1", "--json")), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Escalations) != 1 || len(d.Audit) != 2 || d.Audit[0].Actor != "tester" {
		t.Fatalf("show: %+v", d)
	}
	if out := h.ok("show", "--db", h.db, "1"); !strings.Contains(out, "Very High (likelihood 4 × impact 5 = 20)") || !strings.Contains(out, "Audit trail:") {
		t.Fatalf("show text: %s", out)
	}
	if out := h.ok("verify"); !strings.HasPrefix(out, "ok: database intact, audit trail of 5 rows verifies") {
		t.Fatalf("verify: %q", out)
	}
	backup := filepath.Join(h.dir, "b", "copy.db")
	h.ok("backup", "--out", backup)
	if st, err := os.Stat(backup); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup: %v", err)
	}
	csvPath := filepath.Join(h.dir, "out.csv")
	h.ok("export", "--out", csvPath)
	data, _ := os.ReadFile(csvPath)
	if strings.Count(string(data), "\n") != 3 {
		t.Fatalf("export file: %s", data)
	}
	pack := filepath.Join(h.dir, "pack")
	if out := h.ok("review-pack", "--since", "2025-03-01", "--out", pack); !strings.Contains(out, "heatmap.png") {
		t.Fatalf("review-pack: %q", out)
	}
	md, _ := os.ReadFile(filepath.Join(pack, "review.md"))
	if !strings.Contains(string(md), "Very High since the last outage") {
		t.Fatal("review pack lacks the escalation")
	}
	// the export imports again (as new risks)
	if out := h.ok("import", csvPath); out != "imported 2 risks\n" {
		t.Fatalf("import: %q", out)
	}
}

func TestCLIImportReportsEveryBadLineAndImportsNothing(t *testing.T) {
	h := newHarness(t)
	in := "title,owner,likelihood,impact,status\n" +
		"Good,ann,1,2,open\n" +
		"Bad likelihood,ann,9,2,open\n" +
		",bob,1,1,open\n" +
		"Bad status,bob,1,1,later\n"
	code, _, errs := h.run(in, "import", "-")
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"line 3: likelihood: 9 is outside the matrix scale 1..5", "line 4: title: must not be empty", `line 5: status: "later" is not one of`, "nothing imported"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q: %s", want, errs)
		}
	}
	if strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Errorf("error is not one line: %q", errs)
	}
	if out := h.ok("list", "--json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("something was imported: %s", out)
	}
	code, out, errs := h.run(in, "import", "-", "--skip-bad")
	if code != 0 || out != "imported 1 risks\n" || strings.Count(errs, "skipped line") != 3 {
		t.Fatalf("skip-bad: %d %q %q", code, out, errs)
	}
}

func TestCLIUsageAndFailureExitCodes(t *testing.T) {
	h := newHarness(t)
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no command", nil, 2, "usage: risk"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"unknown flag", []string{"list", "--colour"}, 2, "flag provided but not defined"},
		{"show without id", []string{"show"}, 2, "want a risk ID"},
		{"bad id", []string{"show", "x1"}, 2, `risk ID "x1" is not a positive number`},
		{"missing risk", []string{"show", "42"}, 1, "risk 42: not found"},
		{"invalid add", []string{"add", "--title", "x", "--likelihood", "1", "--impact", "1"}, 1, "owner: must not be empty"},
		{"non-numeric", []string{"add", "--title", "x", "--owner", "o", "--likelihood", "high", "--impact", "1"}, 1, `likelihood: "high" is not a whole number`},
		{"escalate without note", []string{"escalate", "1", "--to", "executive"}, 2, "--note TEXT are required"},
		{"bad level filter", []string{"list", "--level", "Apocalyptic"}, 2, `"Apocalyptic" is not one of`},
		{"backup without out", []string{"backup"}, 2, "--out FILE is required"},
		{"review-pack bad date", []string{"review-pack", "--since", "yesterday", "--out", "x"}, 2, "not a date like"},
		{"import missing file", []string{"import", "/nonexistent/x.csv"}, 1, "no such file"},
		{"update nothing", []string{"update", "1"}, 1, "risk 1: not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := h.run("", c.args...)
			if code != c.code || !strings.Contains(errs, c.msg) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, c.code, errs, c.msg)
			}
		})
	}
}

func TestCLIRefusesAForeignFile(t *testing.T) {
	h := newHarness(t)
	os.WriteFile(h.db, []byte("just some notes\n"), 0o600)
	code, _, errs := h.run("", "list")
	if code != 1 || !strings.Contains(errs, "not a SQLite database") || !strings.Contains(errs, "no backup found") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if b, _ := os.ReadFile(h.db); string(b) != "just some notes\n" {
		t.Fatal("file changed")
	}
}

func TestCLIActionsReviewsLinksAndRestore(t *testing.T) {
	h := newHarness(t)
	h.ok("add", "--title", "Disk fills on the orders db", "--owner", "ann", "--likelihood", "3", "--impact", "4")
	aid := strings.TrimSpace(h.ok("action", "1", "--title", "Alert at 80%", "--owner", "bob", "--due", "2025-04-05"))
	if aid == "" {
		t.Fatal("no action id printed")
	}
	h.ok("action", aid, "--set-status", "done")
	h.ok("review", "1", "--reviewers", "ann,carl", "--decision", "keep mitigating", "--next-review", "2025-07-01")
	if out := h.ok("link", "1", `alertname="DiskFull"`); !strings.Contains(out, "DiskFull") {
		t.Fatalf("link: %q", out)
	}
	if code, _, errs := h.run("", "link", "1", ""); code == 0 {
		t.Fatalf("an empty matcher (matches everything) was accepted: %s", errs)
	}
	var d risk.Detail
	if err := json.Unmarshal([]byte(h.ok("show", "1", "--json")), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Actions) != 1 || d.Actions[0].Status != risk.ActionDone || len(d.Reviews) != 1 || len(d.Links) != 1 ||
		d.Risk.NextReview.Format("2006-01-02") != "2025-07-01" {
		t.Fatalf("detail %+v", d)
	}
	// restore: a clean register is not replaced without --from; a damaged one is
	backup := filepath.Join(h.dir, "b.db")
	h.ok("backup", "--out", backup)
	if code, _, errs := h.run("", "restore"); code != 1 || !strings.Contains(errs, "backup") && !strings.Contains(errs, "cleanly") {
		t.Fatalf("restore of a clean register: exit %d %s", code, errs)
	}
	if err := os.WriteFile(h.db, []byte("this is not a database at all, and never was"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(h.db + "-wal")
	os.Remove(h.db + "-shm")
	if code, _, errs := h.run("", "list"); code == 0 {
		t.Fatalf("a damaged register listed: %s", errs)
	}
	out := h.ok("restore", "--from", backup)
	if !strings.Contains(out, "kept as") {
		t.Fatalf("restore: %q", out)
	}
	if out := h.ok("list"); !strings.Contains(out, "Disk fills") {
		t.Fatalf("after restore: %q", out)
	}
}
