package runbooks

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fm renders front matter from the fields of a good runbook, with changes:
// "key: value" replaces or adds a field, "-key" drops it.
func fm(changes ...string) string {
	keys := []string{"title", "alerts", "services", "owner", "last_reviewed", "severity", "escalation"}
	vals := map[string]string{
		"title":         "title: Good runbook",
		"alerts":        "alerts: [GoodAlert]",
		"services":      "services: [checkout]",
		"owner":         "owner: team-checkout",
		"last_reviewed": "last_reviewed: 2026-10-01",
		"severity":      "severity: warning",
		"escalation":    "escalation:\n  - name: Checkout on-call\n    role: primary\n    contact: \"pager: checkout-primary\"",
	}
	for _, c := range changes {
		if k, ok := strings.CutPrefix(c, "-"); ok {
			delete(vals, k)
			continue
		}
		k, _, _ := strings.Cut(c, ":")
		if _, ok := vals[k]; !ok {
			keys = append(keys, k)
		}
		vals[k] = c
	}
	var b strings.Builder
	b.WriteString("---\n")
	for _, k := range keys {
		if v, ok := vals[k]; ok {
			b.WriteString(v + "\n")
		}
	}
	b.WriteString("---\n")
	return b.String()
}

// lineOf returns the 1-based line of the first occurrence of marker.
func lineOf(t *testing.T, content, marker string) int {
	t.Helper()
	i := strings.Index(content, marker)
	if i < 0 {
		t.Fatalf("marker %q not in %q", marker, content)
	}
	return 1 + strings.Count(content[:i], "\n")
}

var checkNow = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

func checkFixture(t *testing.T) (string, map[string]string) {
	t.Helper()
	base := t.TempDir()
	dir := filepath.Join(base, "runbooks")
	files := map[string]string{
		"good.md": fm() + "# Good runbook\n\n## Meaning\n\nSee [other](other.md#section-two), [the top](#meaning), [docs](https://example.com/x), " +
			"[mail](mailto:oncall@example.com), [scripts](scripts/), the runbook [in a folder](sub/deep.md) and ![diagram](img/diagram.png).\n",
		"other.md":             fm("title: Other") + "# Other\n\n## Section two\n\nBack to [good](good.md).\n",
		"sub/deep.md":          fm("title: Deep") + "# Deep\n\nUp to [good](../good.md#meaning) and ![up](../img/diagram.png).\n",
		"missing-title.md":     fm("-title") + "# Heading only\n",
		"missing-owner.md":     fm("-owner") + "body\n",
		"future.md":            fm("last_reviewed: 2026-11-02") + "body\n",
		"stale.md":             fm("last_reviewed: 2026-01-15") + "body\n",
		"undated.md":           fm("-last_reviewed") + "body\n",
		"bad-date.md":          fm("last_reviewed: last week") + "body\n",
		"severity.md":          fm("severity: urgent") + "body\n",
		"no-severity.md":       fm("-severity") + "body\n",
		"wrong-type.md":        fm("alerts: {GoodAlert: yes}") + "body\n",
		"no-front-matter.md":   "# Plain\n\nJust text.\n",
		"lists.md":             fm("alerts:\n  - GoodAlert\n  - ''\n  - goodalert\n  - Bad Name\n  - bad-name", "services:\n  - checkout\n  - \" payments\"") + "body\n",
		"contacts.md":          fm("escalation:\n  - name: ''\n    contact: \"pager: x\"\n  - name: Bob\n    contact: ''\n  - name: Eve\n    contact: call me maybe\n  - name: Ann\n    contact: ann@example.com\n  - name: Tel\n    contact: \"+44 20 7946 0000\"\n  - name: Chan\n    contact: \"#checkout-oncall\"\n  - name: Mail\n    contact: \"email: not-an-address\"") + "body\n",
		"no-escalation.md":     fm("-escalation") + "body\n",
		"huge.md":              strings.Repeat("x", MaxSize+1),
		"deep-nesting.md":      fm() + "ok\n\n" + strings.Repeat(">", MaxNesting+5) + " deep\n",
		"scripts/restart.sh":   "#!/bin/sh\n",
		"img/diagram.png":      "png",
		".git/ignored.md":      "# ignored, even broken: [x](nope.md)\n",
		"links.md":             fm("title: Links") + "# Links\n\n## Real section\n\nA [missing](missing.md) file.\n\nA [bad anchor](other.md#nope) and [local](#nowhere), [fine](#real-section).\n\n[escape](../outside.md) and [abs](/etc/passwd.md)\n\n[js](javascript:alert(1)) [spaced](other%20copy.md)\n\n[ref link][r]\n\n[r]: gone.md\n",
		"images.md":            fm("title: Images") + "# Images\n\n![up](../secret.png)\n\n![abs](/etc/passwd)\n\n![file](file:///etc/passwd)\n\n![gone](img/none.png)\n\n![ok](img/diagram.png) ![remote](https://example.com/a.png)\n\n![linked](img/escape.png)\n",
		"../secret.png":        "secret",
		"../outside/secret.md": "# Secret\n",
	}
	for p, s := range files {
		writeFile(t, filepath.Join(dir, filepath.FromSlash(p)), s)
	}
	if err := os.Symlink(filepath.Join(base, "outside", "secret.md"), filepath.Join(dir, "escape.md")); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
	if err := os.Symlink(filepath.Join(base, "secret.png"), filepath.Join(dir, "img", "escape.png")); err != nil {
		t.Fatal(err)
	}
	return dir, files
}

func TestCheck(t *testing.T) {
	dir, files := checkFixture(t)
	rep := Check(context.Background(), dir, CheckOptions{Now: checkNow})

	type want struct {
		file   string
		marker string // text on the expected line; "" for no line
		line   int    // used when marker is ""
		level  Level
		kind   CheckKind
		msg    string
	}
	tests := []want{
		{"missing-title.md", "", 1, LevelError, CheckFrontMatter, "title is missing"},
		{"missing-owner.md", "", 1, LevelError, CheckFrontMatter, "owner is missing"},
		{"future.md", "last_reviewed", 0, LevelError, CheckFrontMatter, "2026-11-02 is in the future"},
		{"stale.md", "last_reviewed", 0, LevelWarning, CheckStale, "last reviewed 2026-01-15, 290 days ago (limit 90 days)"},
		{"undated.md", "", 1, LevelWarning, CheckStale, "no last_reviewed date"},
		{"bad-date.md", "last_reviewed", 0, LevelError, CheckFrontMatter, `"last week" is not a date`},
		{"severity.md", "severity", 0, LevelError, CheckFrontMatter, `severity "urgent" is not one of critical`},
		{"no-severity.md", "", 1, LevelWarning, CheckFrontMatter, "severity is missing"},
		{"wrong-type.md", "alerts", 0, LevelError, CheckFrontMatter, "cannot unmarshal"},
		{"no-front-matter.md", "", 1, LevelError, CheckFrontMatter, "no front matter"},
		{"lists.md", "''", 0, LevelError, CheckFrontMatter, "alerts entry 2 is blank"},
		{"lists.md", "goodalert", 0, LevelWarning, CheckFrontMatter, `"goodalert" is listed twice`},
		{"lists.md", "Bad Name", 0, LevelError, CheckFrontMatter, `"Bad Name" holds white space`},
		{"lists.md", "bad-name", 0, LevelWarning, CheckFrontMatter, `"bad-name" is not a valid Prometheus alert name`},
		{"lists.md", `" payments"`, 0, LevelError, CheckFrontMatter, `services entry " payments" holds white space`},
		{"contacts.md", "name: ''", 0, LevelError, CheckFrontMatter, "contact 1 has no name"},
		{"contacts.md", "name: Bob", 0, LevelError, CheckFrontMatter, "contact 2 (Bob) has no contact"},
		{"contacts.md", "name: Eve", 0, LevelError, CheckFrontMatter, `"call me maybe" is not a phone number`},
		{"contacts.md", "name: Mail", 0, LevelError, CheckFrontMatter, `"email: not-an-address" is not`},
		{"no-escalation.md", "", 1, LevelWarning, CheckFrontMatter, "no escalation contacts"},
		{"huge.md", "", 0, LevelError, CheckLimit, "rejected by the safety caps: file size"},
		{"deep-nesting.md", "deep", 0, LevelError, CheckLimit, "nesting depth exceeds"},
		{"escape.md", "", 0, LevelError, CheckLoad, "symbolic link"},
		{"links.md", "[missing]", 0, LevelError, CheckLink, `broken link "missing.md": missing.md does not exist`},
		{"links.md", "[bad anchor]", 0, LevelError, CheckLink, `"other.md#nope": other.md has no heading with anchor #nope`},
		{"links.md", "[local]", 0, LevelError, CheckLink, `"#nowhere": this runbook has no heading`},
		{"links.md", "[escape]", 0, LevelError, CheckLink, `"../outside.md" leads outside the runbook folder`},
		{"links.md", "[abs]", 0, LevelError, CheckLink, `"/etc/passwd.md" is an absolute path`},
		{"links.md", "[js]", 0, LevelWarning, CheckLink, `"javascript:alert(1)" is shown as text`},
		{"links.md", "[spaced]", 0, LevelError, CheckLink, `"other%20copy.md": other copy.md does not exist`},
		{"links.md", "[ref link]", 0, LevelError, CheckLink, `"gone.md": gone.md does not exist`},
		{"images.md", "![up]", 0, LevelError, CheckImage, `"../secret.png" is outside the runbook folder`},
		{"images.md", "![abs]", 0, LevelError, CheckImage, `"/etc/passwd" is outside`},
		{"images.md", "![file]", 0, LevelError, CheckImage, `"file:///etc/passwd" is outside`},
		{"images.md", "![gone]", 0, LevelWarning, CheckImage, `"img/none.png" not found`},
		{"images.md", "![linked]", 0, LevelError, CheckImage, `"img/escape.png" is outside the runbook folder (symbolic link)`},
	}
	matched := make([]bool, len(rep.Findings))
	for _, tc := range tests {
		line := tc.line
		if tc.marker != "" {
			line = lineOf(t, files[tc.file], tc.marker)
		}
		found := false
		for i, f := range rep.Findings {
			if f.File == tc.file && f.Line == line && f.Level == tc.level && f.Kind == tc.kind && strings.Contains(f.Message, tc.msg) {
				found, matched[i] = true, true
			}
		}
		if !found {
			t.Errorf("missing %s:%d: %s: %s (%s)", tc.file, line, tc.level, tc.msg, tc.kind)
		}
	}
	// Other findings are allowed only in files made to be wrong, and only
	// the side effects we know of (a file without front matter also lacks
	// a title, an owner, a date …).
	clean := []string{"good.md", "other.md", "sub/deep.md", "images.md", "links.md", "future.md", "stale.md", "severity.md"}
	for i, f := range rep.Findings {
		if matched[i] {
			continue
		}
		for _, c := range clean {
			if f.File == c {
				t.Errorf("unexpected finding %v", f)
			}
		}
		if strings.Contains(f.File, ".git") {
			t.Errorf("hidden folder checked: %v", f)
		}
	}
	if !rep.Failed() {
		t.Error("Failed() = false with errors")
	}
	if n := len(files) - 5 + 1; rep.Files != n { // minus the non-runbook files, plus the symlink
		t.Errorf("Files = %d, want %d", rep.Files, n)
	}
	for i := 1; i < len(rep.Findings); i++ {
		a, b := rep.Findings[i-1], rep.Findings[i]
		if a.File > b.File || a.File == b.File && a.Line > b.Line {
			t.Errorf("findings out of order: %v before %v", a, b)
		}
	}
	if testing.Verbose() {
		var buf bytes.Buffer
		_ = rep.Format(&buf)
		t.Log("\n" + buf.String())
	}
}

func TestCheckCleanFolder(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.md"), fm("title: A")+"# A\n\n## Steps\n\n- [ ] see [b](b.md#b)\n")
	writeFile(t, filepath.Join(dir, "b.md"), fm("title: B")+"# B\n")
	rep := Check(context.Background(), dir, CheckOptions{Now: checkNow})
	if len(rep.Findings) != 0 || rep.Failed() || rep.Files != 2 {
		t.Errorf("got %+v", rep)
	}
	t.Run("MaxAge", func(t *testing.T) {
		rep := Check(context.Background(), dir, CheckOptions{Now: checkNow, MaxAge: 7 * 24 * time.Hour})
		if rep.Count(LevelWarning) != 2 || rep.Failed() {
			t.Errorf("want two stale warnings and no failure: %v", rep.Findings)
		}
	})
	t.Run("embedded samples are clean", func(t *testing.T) {
		rep := Check(context.Background(), "../assets/runbooks", CheckOptions{Now: time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC)})
		if len(rep.Findings) != 0 {
			var buf bytes.Buffer
			_ = rep.Format(&buf)
			t.Errorf("samples have findings:\n%s", buf.String())
		}
	})
}

func TestCheckRuleAlerts(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "checkoutlatencyhigh.md"), fm("title: Latency", "alerts: [CheckoutLatencyCritical]")+"body\n")
	writeFile(t, filepath.Join(dir, "kube", "podcrash.md"), fm("title: Pods", "alerts: [KubePodCrashLooping, RetiredAlert]")+"body\n")
	writeFile(t, filepath.Join(dir, "ops", "target-down.md"), fm("title: Target down", "-alerts")+"body\n")
	names := []string{"CheckoutLatencyHigh", "CheckoutLatencyCritical", "KubePodCrashLooping", "Orphan", "Orphan", "TargetDown"}

	t.Run("names", func(t *testing.T) {
		rep := Check(context.Background(), dir, CheckOptions{Now: checkNow, RuleAlerts: func(context.Context) ([]string, error) { return names, nil }})
		var errs, warns []string
		for _, f := range rep.Findings {
			if f.Kind != CheckAlert {
				t.Errorf("unexpected %v", f)
				continue
			}
			if f.Level == LevelError {
				errs = append(errs, f.File+": "+f.Message)
			} else {
				warns = append(warns, f.File+": "+f.Message)
			}
		}
		// TargetDown has a runbook only through runbook_url, which plain
		// names cannot give.
		if len(errs) != 2 || !strings.Contains(errs[0], "alert Orphan has no runbook") || !strings.Contains(errs[1], "alert TargetDown has no runbook") {
			t.Errorf("errors %q", errs)
		}
		if len(warns) != 1 || !strings.Contains(warns[0], "kube/podcrash.md: alerts lists RetiredAlert, which no alerting rule defines") {
			t.Errorf("warnings %q", warns)
		}
		if rep.Alerts != 5 || !rep.Failed() {
			t.Errorf("Alerts = %d, Failed = %v", rep.Alerts, rep.Failed())
		}
		var buf bytes.Buffer
		if err := rep.Format(&buf); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), ".: error: alert Orphan has no runbook") || !strings.Contains(buf.String(), "3 runbook files, 2 errors, 1 warning, 5 alert rules checked") {
			t.Errorf("Format:\n%s", buf.String())
		}
	})
	t.Run("rules with runbook_url", func(t *testing.T) {
		rules := []AlertRule{{Name: "TargetDown", RunbookURL: "https://wiki.example.com/runbooks/ops/target-down"}, {Name: "KubePodCrashLooping"}, {Name: "RetiredAlert"}, {Name: "CheckoutLatencyCritical"}}
		rep := Check(context.Background(), dir, CheckOptions{
			Now:    checkNow,
			Rules:  func(context.Context) ([]AlertRule, error) { return rules, nil },
			URLMap: []URLMapping{{Prefix: "https://wiki.example.com/runbooks/", Root: "ignored"}},
		})
		if len(rep.Findings) != 0 {
			t.Errorf("got %v", rep.Findings)
		}
	})
	t.Run("rules unavailable", func(t *testing.T) {
		rep := Check(context.Background(), dir, CheckOptions{Now: checkNow, RuleAlerts: func(context.Context) ([]string, error) {
			return nil, errors.New("connection refused")
		}})
		if len(rep.Findings) != 1 || !strings.Contains(rep.Findings[0].Message, "cannot list alerting rules: connection refused") || !rep.Failed() {
			t.Errorf("got %v", rep.Findings)
		}
	})
}

func TestCheckBadFolder(t *testing.T) {
	rep := Check(context.Background(), filepath.Join(t.TempDir(), "nope"), CheckOptions{Now: checkNow})
	if len(rep.Findings) != 1 || rep.Findings[0].Kind != CheckLoad || !rep.Failed() {
		t.Errorf("got %v", rep.Findings)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.md"), fm()+"x\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep = Check(ctx, dir, CheckOptions{Now: checkNow})
	if !rep.Failed() || !strings.Contains(rep.Findings[len(rep.Findings)-1].Message, "interrupted") {
		t.Errorf("got %v", rep.Findings)
	}
}

func TestContactWellFormed(t *testing.T) {
	for s, want := range map[string]bool{
		"pager: checkout-primary":   true,
		"#checkout-oncall":          true,
		"@alice":                    true,
		"alice@example.com":         true,
		"mailto:alice@example.com":  true,
		"+1 (555) 010-0000":         true,
		"tel:+15550100000":          true,
		"https://example.com/rota":  true,
		"slack: #ops":               true,
		"call me maybe":             false,
		"phone: soon":               false,
		"email: nobody":             false,
		"Alice <alice@example.com>": false,
		"#":                         false,
		"https://":                  false,
		"pager:\tx\ny":              false,
	} {
		if got := contactWellFormed(s); got != want {
			t.Errorf("contactWellFormed(%q) = %v, want %v", s, got, want)
		}
	}
}
