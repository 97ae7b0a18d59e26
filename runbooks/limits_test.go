package runbooks

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestLimits(t *testing.T) {
	deepList := func(n int) string {
		var sb strings.Builder
		for i := 0; i < n; i++ {
			sb.WriteString(strings.Repeat("  ", i))
			sb.WriteString("- item\n")
		}
		return sb.String()
	}
	tests := []struct {
		name     string
		src      string
		what     string
		wantLine int
	}{
		{"10 MB single line", strings.Repeat("a", 10<<20), LimitSize, 0},
		{"just over max size", strings.Repeat("word ", MaxSize/5) + "more\n", LimitSize, 0},
		{"long line", "ok\n" + strings.Repeat("x", MaxLineLength+1) + "\n", LimitLineLength, 2},
		{"> x 100k", strings.Repeat(">", 100000), LimitLineLength, 1},
		{"quote 1,000 deep", "# t\n\n" + strings.Repeat(">", 1000) + " deep\n", LimitNesting, 3},
		{"spaced quote 1,000 deep", strings.Repeat("> ", 1000) + "x\n", LimitNesting, 1},
		{"list markers on one line", strings.Repeat("- ", 100) + "x\n", LimitNesting, 1},
		{"ordered markers on one line", strings.Repeat("1. ", 60) + "x\n", LimitNesting, 1},
		{"indented list 1,000 deep", deepList(1000), LimitNesting, 33},
		{"quoted lists", strings.Repeat("> - ", 40) + "x\n", LimitNesting, 1},
		{"2,000-column table", "|" + strings.Repeat(" h |", 2000) + "\n|" + strings.Repeat("---|", 2000) + "\n", LimitTableColumns, 2},
		{"wide table without outer pipes", "a" + strings.Repeat("|b", 100) + "\n-" + strings.Repeat("|-", 100) + "\n", LimitTableColumns, 2},
		{"wide table in a quote", "> a|b\n> " + strings.Repeat(":-:|", 65) + "\n", LimitTableColumns, 2},
		{"link reference definitions", strings.Repeat("[a]: https://x.example\n", 20000), LimitBracketWork, 10001},
		{"mismatched emphasis", strings.Repeat("*a_ ", 40) + "\n" + strings.Repeat(strings.Repeat("*a_ ", 200)+"\n", 60), LimitEmphasisWork, 19},
		{"dense brackets", strings.Repeat(strings.Repeat("[", 500)+"\n\n", 600), LimitElements, 997},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := Parse("evil.md", []byte(tc.src))
			if d := time.Since(start); d > 500*time.Millisecond {
				t.Errorf("took %v to reject", d)
			}
			var le *LimitError
			if !errors.As(err, &le) {
				t.Fatalf("got %v, want a *LimitError", err)
			}
			if le.What != tc.what || le.Line != tc.wantLine {
				t.Errorf("got %q at line %d, want %q at line %d (%v)", le.What, le.Line, tc.what, tc.wantLine, err)
			}
			if le.Got <= le.Limit {
				t.Errorf("Got %d not above Limit %d", le.Got, le.Limit)
			}
			msg := err.Error()
			if !strings.Contains(msg, "evil.md") || !strings.Contains(msg, tc.what) || (tc.wantLine > 0 && !strings.Contains(msg, "line ")) {
				t.Errorf("message %q should name the file, the limit and the line", msg)
			}
		})
	}
}

func TestLineDepth(t *testing.T) {
	tests := []struct {
		line string
		want int
	}{
		{"plain text", 0},
		{strings.Repeat(" ", 500) + "indented text, no marker", 0},
		{"- item", 1},
		{"> > quote", 3}, // spaces between markers count as indentation
		{"  - nested", 2},
		{"\t- tab", 3},
		{"1. one", 1},
		{"1234567890. not a marker", 0},
		{"-not a marker", 0},
		{"> 1) - [ ] task", 4},
		{strings.Repeat(" ", 100) + "- far right", 51},
		{strings.Repeat("- ", 200), 49}, // counting stops past the cap
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			if got, _ := lineDepth([]byte(tc.line)); got != tc.want {
				t.Errorf("lineDepth = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestWithinLimits checks that realistic markup just inside the caps parses.
func TestWithinLimits(t *testing.T) {
	tests := []struct {
		name string
		src  string
	}{
		{"nested list 10 deep", func() string {
			var sb strings.Builder
			for i := 0; i < 10; i++ {
				sb.WriteString(strings.Repeat("  ", i) + "- item\n")
			}
			return sb.String()
		}()},
		{"64-column table", "|" + strings.Repeat(" h |", 64) + "\n|" + strings.Repeat("---|", 64) + "\n"},
		{"deeply indented code without markers", "```json\n" + strings.Repeat(" ", 200) + "{\"a\": 1}\n```\n"},
		{"thematic break", "* * * * * * * * * *\n"},
		{"snake_case is not emphasis", strings.Repeat(strings.Repeat("http_request_duration_seconds_bucket ", 100)+"\n", 100)},
		{"tight task list of 1,000 steps", strings.Repeat("- [ ] check the dashboard\n", 1000)},
		{"front matter list", "---\nalerts:\n  - A\n  - B\n---\n"},
		{"max line length", strings.Repeat("x", MaxLineLength)},
		{"realistic runbook near max size", string(genRunbook(MaxSize - 16<<10))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse("ok.md", []byte(tc.src)); err != nil {
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
}

// TestP8Pathological is QUALITY.md P8: each pathological runbook is
// rejected or parsed within 500 ms with at most 50 MB of heap growth.
func TestP8Pathological(t *testing.T) {
	cases := []struct {
		name string
		src  []byte
	}{
		{"nesting 1,000 deep", []byte(strings.Repeat("> ", 1000) + "x\n")},
		{"2,000-column table", []byte("|" + strings.Repeat("a|", 2000) + "\n|" + strings.Repeat("-|", 2000) + "\n" + strings.Repeat("|"+strings.Repeat("b|", 2000)+"\n", 100))},
		{"> x 100k", []byte(strings.Repeat(">", 100000))},
		{"> x 100k over lines", []byte(strings.Repeat(">", 100) + strings.Repeat("\n"+strings.Repeat(">", 100), 999))},
		{"10 MB single line", []byte(strings.Repeat("x", 10<<20))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			rb, err := Parse("p8.md", tc.src)
			d := time.Since(start)
			runtime.ReadMemStats(&after)
			if err == nil && rb == nil {
				t.Fatal("neither runbook nor error")
			}
			if d > 500*time.Millisecond {
				t.Errorf("took %v, bar is 500ms", d)
			}
			// Total allocation bounds heap growth from above.
			if grown := after.TotalAlloc - before.TotalAlloc; grown > 50<<20 {
				t.Errorf("allocated %d MB, bar is 50 MB", grown>>20)
			}
			t.Logf("%v in %v", err, d)
		})
	}
}
