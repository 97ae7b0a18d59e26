package runbooks

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse checks invariants of Parse on arbitrary input: it never panics;
// it returns a runbook or a typed error, never both or neither; every kept
// link passes LinkAllowed; step IDs are unique and match the task items;
// indexes point inside the document; and parsing is deterministic.
func FuzzParse(f *testing.F) {
	samples, _ := filepath.Glob("../assets/runbooks/*.md")
	for _, p := range samples {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"",
		"---\ntitle: t\nalerts: [A]\nlast_reviewed: 2026-10-01\n---\n# H\n\n- [ ] step\n- [x] step\n",
		"---\nbogus: 1\n---\n",
		"<script>alert(1)</script>\n\nx <img src=x onerror=alert(1)> y <iframe src=//evil>",
		"[a](javascript:alert(1)) [b](&#106;avascript:x) <javascript:x> [c](foo.md#x) <a@b.c> www.x.com",
		"![alt [link](https://x.example)](y.png)",
		"| a | b |\n|:-|-:|\n| `c|d` | **e** |\n| f |",
		"> - [ ] quoted task\n>   1. nested\n>      ```promql\n>      up\n>      ```\n",
		strings.Repeat("> ", 40) + "x",
		strings.Repeat("- ", 40) + "x",
		strings.Repeat("> - ", 8) + "x\n" + strings.Repeat("  ", 12) + "- y\n",
		"- a\n  - b\n    - c\n      - d\n        1. e\n           > f\n",
		"\xef\xbb\xbf# bom\r\ncrlf\r\n\xff\xfe invalid\x00nul",
		"***a*** ~~b~~ `c` \\* &amp; &#0; &#x110000;",
		"Setext\n===\n\n    code\n\n---\n\n[r]: https://x.example\n\n[r]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		rb, err := Parse("fuzz.md", src)
		if (rb == nil) == (err == nil) {
			t.Fatalf("Parse returned runbook %v and error %v", rb != nil, err)
		}
		if err != nil {
			var le *LimitError
			var fe *FrontMatterError
			if !errors.As(err, &le) && !errors.As(err, &fe) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		checkDocument(t, &rb.Doc)
		again, err := Parse("fuzz.md", src)
		if err != nil || !reflect.DeepEqual(again, rb) {
			t.Fatalf("second parse differs (err %v)", err)
		}
	})
}

// checkDocument asserts the structural invariants of a parsed document.
func checkDocument(t *testing.T, doc *Document) {
	t.Helper()
	ids := map[string]bool{}
	for _, s := range doc.Steps {
		if s.ID == "" || ids[s.ID] {
			t.Fatalf("empty or duplicate step ID %q", s.ID)
		}
		ids[s.ID] = true
	}
	var taskIDs []string
	headings := 0
	var walk func([]Block, int)
	walk = func(bs []Block, depth int) {
		// The pre-scan over-estimates nesting, so the real tree never gets
		// deeper than the cap; a failure here means the scan missed a way
		// to nest.
		if depth > MaxNesting {
			t.Fatalf("nesting depth %d passed the pre-scan", depth)
		}
		for _, b := range bs {
			if b.Kind < KindHeading || b.Kind > KindRule {
				t.Fatalf("bad block kind %d", b.Kind)
			}
			if b.Kind == KindHeading {
				headings++
			}
			checkInlines(t, b.Inlines)
			for _, it := range b.Items {
				if it.Task != (it.StepID != "") {
					t.Fatalf("task %v with step ID %q", it.Task, it.StepID)
				}
				if it.Task {
					taskIDs = append(taskIDs, it.StepID)
				}
				walk(it.Blocks, depth+1)
			}
			walk(b.Children, depth+1)
			if b.Kind == KindTable {
				if len(b.Header) != len(b.Align) {
					t.Fatalf("header has %d cells for %d columns", len(b.Header), len(b.Align))
				}
				if len(b.Align) > MaxTableColumns {
					t.Fatalf("table with %d columns", len(b.Align))
				}
				for _, c := range b.Header {
					checkInlines(t, c.Inlines)
				}
				for _, r := range b.Rows {
					if len(r) != len(b.Align) {
						t.Fatalf("row has %d cells for %d columns", len(r), len(b.Align))
					}
					for _, c := range r {
						checkInlines(t, c.Inlines)
					}
				}
			}
		}
	}
	walk(doc.Blocks, 0)
	if len(taskIDs) != len(doc.Steps) {
		t.Fatalf("%d task items but %d steps", len(taskIDs), len(doc.Steps))
	}
	for i, id := range taskIDs {
		if doc.Steps[i].ID != id {
			t.Fatalf("task item %d has ID %s, step has %s", i, id, doc.Steps[i].ID)
		}
	}
	if headings != len(doc.Outline) {
		t.Fatalf("%d headings but %d outline entries", headings, len(doc.Outline))
	}
	anchors := map[string]bool{}
	for _, h := range doc.Outline {
		if h.Block < 0 || h.Block >= len(doc.Blocks) || h.Level < 1 || h.Level > 6 {
			t.Fatalf("bad outline entry %+v", h)
		}
		if anchors[h.Anchor] {
			t.Fatalf("duplicate anchor %q", h.Anchor)
		}
		anchors[h.Anchor] = true
	}
}

func checkInlines(t *testing.T, inl []Inline) {
	t.Helper()
	for i, in := range inl {
		if in.Text == "" {
			t.Fatal("empty inline run")
		}
		if in.Link != "" && !LinkAllowed(in.Link) {
			t.Fatalf("kept a link the policy refuses: %q", in.Link)
		}
		if i > 0 && inl[i-1].Style == in.Style && inl[i-1].Link == in.Link {
			t.Fatalf("adjacent runs not merged: %+v %+v", inl[i-1], in)
		}
	}
}
