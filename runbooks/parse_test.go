package runbooks

import (
	"reflect"
	"strings"
	"testing"
)

func mustParse(t *testing.T, src string) *Runbook {
	t.Helper()
	rb, err := Parse("test.md", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return rb
}

func TestParseBlockKinds(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		check func(t *testing.T, b Block)
	}{
		{"atx heading", "## Mitigation steps\n", func(t *testing.T, b Block) {
			want := Block{Kind: KindHeading, Level: 2, Inlines: []Inline{{Text: "Mitigation steps"}}}
			if !reflect.DeepEqual(b, want) {
				t.Errorf("got %+v, want %+v", b, want)
			}
		}},
		{"setext heading", "Title\n=====\n", func(t *testing.T, b Block) {
			if b.Kind != KindHeading || b.Level != 1 || plainText(b.Inlines) != "Title" {
				t.Errorf("got %+v", b)
			}
		}},
		{"paragraph with soft and hard breaks", "one\ntwo  \nthree\n", func(t *testing.T, b Block) {
			want := []Inline{{Text: "one two\nthree"}}
			if b.Kind != KindParagraph || !reflect.DeepEqual(b.Inlines, want) {
				t.Errorf("got %+v, want inlines %+v", b, want)
			}
		}},
		{"bullet list", "- a\n- b\n  - nested\n", func(t *testing.T, b Block) {
			if b.Kind != KindList || b.Ordered || !b.Tight || len(b.Items) != 2 {
				t.Fatalf("got %+v", b)
			}
			if got := b.Items[1].Blocks; len(got) != 2 || got[1].Kind != KindList || plainText(got[1].Items[0].Blocks[0].Inlines) != "nested" {
				t.Errorf("nested list not kept: %+v", got)
			}
		}},
		{"ordered list with start", "3. three\n4. four\n", func(t *testing.T, b Block) {
			if b.Kind != KindList || !b.Ordered || b.Start != 3 || len(b.Items) != 2 {
				t.Errorf("got %+v", b)
			}
		}},
		{"loose list", "- a\n\n- b\n", func(t *testing.T, b Block) {
			if b.Kind != KindList || b.Tight {
				t.Errorf("got %+v", b)
			}
		}},
		{"quote", "> quoted **text**\n>\n> - item\n", func(t *testing.T, b Block) {
			if b.Kind != KindQuote || len(b.Children) != 2 || b.Children[0].Kind != KindParagraph || b.Children[1].Kind != KindList {
				t.Errorf("got %+v", b)
			}
		}},
		{"fenced code", "```PromQL extra words\nsum(rate(x[5m]))\n```\n", func(t *testing.T, b Block) {
			if b.Kind != KindCode || b.Lang != "promql" || b.Code != "sum(rate(x[5m]))\n" {
				t.Errorf("got %+v", b)
			}
		}},
		{"code at end of file without newline", "```bash\nkubectl get pods", func(t *testing.T, b Block) {
			if b.Kind != KindCode || b.Lang != "bash" || b.Code != "kubectl get pods\n" {
				t.Errorf("got %+v", b)
			}
		}},
		{"indented code", "    kubectl get pods\n", func(t *testing.T, b Block) {
			if b.Kind != KindCode || b.Lang != "" || b.Code != "kubectl get pods\n" {
				t.Errorf("got %+v", b)
			}
		}},
		{"table", "| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 |\n| x | y | z | extra |\n", func(t *testing.T, b Block) {
			if b.Kind != KindTable {
				t.Fatalf("got %+v", b)
			}
			if want := []Align{AlignLeft, AlignCenter, AlignRight}; !reflect.DeepEqual(b.Align, want) {
				t.Errorf("align %v, want %v", b.Align, want)
			}
			if len(b.Header) != 3 || plainText(b.Header[2].Inlines) != "c" {
				t.Errorf("header %+v", b.Header)
			}
			if len(b.Rows) != 2 || len(b.Rows[0]) != 3 || len(b.Rows[1]) != 3 || b.Rows[0][2].Inlines != nil || plainText(b.Rows[1][2].Inlines) != "z" {
				t.Errorf("rows %+v", b.Rows)
			}
		}},
		{"rule", "---\n", func(t *testing.T, b Block) {
			if b.Kind != KindRule {
				t.Errorf("got %+v", b)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rb := mustParse(t, tc.src)
			if len(rb.Doc.Blocks) != 1 {
				t.Fatalf("got %d blocks, want 1: %+v", len(rb.Doc.Blocks), rb.Doc.Blocks)
			}
			tc.check(t, rb.Doc.Blocks[0])
		})
	}
}

func TestParseInlines(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []Inline
	}{
		{"styles", "a **b** *c* `d` ~~e~~ ***f***", []Inline{
			{Text: "a "}, {Text: "b", Style: Bold}, {Text: " "}, {Text: "c", Style: Italic}, {Text: " "},
			{Text: "d", Style: Code}, {Text: " "}, {Text: "e", Style: Strike}, {Text: " "}, {Text: "f", Style: Bold | Italic},
		}},
		{"code inside bold", "**x `y`**", []Inline{{Text: "x ", Style: Bold}, {Text: "y", Style: Bold | Code}}},
		{"allowed link", "[Grafana](https://grafana.example/d/x) now", []Inline{{Text: "Grafana", Link: "https://grafana.example/d/x"}, {Text: " now"}}},
		{"runbook link", "see [payments](paymentsdependencydegraded.md#mitigation)", []Inline{{Text: "see "}, {Text: "payments", Link: "paymentsdependencydegraded.md#mitigation"}}},
		{"styled link", "[**b** c](https://x.example)", []Inline{{Text: "b", Style: Bold, Link: "https://x.example"}, {Text: " c", Link: "https://x.example"}}},
		{"javascript link is text", "[click](javascript:alert(1))", []Inline{{Text: "click"}}},
		{"entity-encoded javascript is text", "[click](&#106;avascript:alert(1))", []Inline{{Text: "click"}}},
		{"escaped javascript is text", `[click](java\script:alert(1))`, []Inline{{Text: "click"}}},
		{"data link is text", "[x](data:text/html;base64,PHNjcmlwdD4=)", []Inline{{Text: "x"}}},
		{"autolink", "<https://example.com/a>", []Inline{{Text: "https://example.com/a", Link: "https://example.com/a"}}},
		{"autolink javascript is text", "<javascript:alert(1)>", []Inline{{Text: "javascript:alert(1)"}}},
		{"email autolink", "<oncall@example.com>", []Inline{{Text: "oncall@example.com", Link: "mailto:oncall@example.com"}}},
		{"gfm www autolink", "visit www.example.com today", []Inline{{Text: "visit "}, {Text: "www.example.com", Link: "http://www.example.com"}, {Text: " today"}}},
		{"image keeps alt text only", "![dashboard *screenshot*](https://evil.example/x.png)", []Inline{{Text: "dashboard "}, {Text: "screenshot", Style: Italic}}},
		{"link inside image alt is not a link", "![a [b](https://x.example) c](y.png)", []Inline{{Text: "a b c"}}},
		{"escapes and entities", `\*not bold\* &amp; &#35; &copy;`, []Inline{{Text: "*not bold* & # ©"}}},
		{"reference link", "[docs][d]\n\n[d]: https://docs.example/", []Inline{{Text: "docs", Link: "https://docs.example/"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rb := mustParse(t, tc.src)
			if len(rb.Doc.Blocks) == 0 {
				t.Fatal("no blocks")
			}
			got := rb.Doc.Blocks[0].Inlines
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestRawHTMLIsLiteralText(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // must appear verbatim in the text of the document
	}{
		{"script block", "<script>alert(1)</script>\n", "<script>alert(1)</script>"},
		{"iframe block", "<iframe src=\"https://evil.example\"></iframe>\n", `<iframe src="https://evil.example"></iframe>`},
		{"img onerror block", "<img src=x onerror=alert(1)>\n", "<img src=x onerror=alert(1)>"},
		{"inline script", "before <script>alert(1)</script> after\n", "before <script>alert(1)</script> after"},
		{"inline img onerror", "x <img src=x onerror=\"alert(1)\"> y\n", `x <img src=x onerror="alert(1)"> y`},
		{"comment", "<!-- hidden -->\n", "<!-- hidden -->"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rb := mustParse(t, tc.src)
			var texts []string
			walkInlines(rb.Doc.Blocks, func(in Inline) {
				if in.Link != "" {
					t.Errorf("raw HTML produced a link: %+v", in)
				}
				texts = append(texts, in.Text)
			})
			if got := strings.Join(texts, ""); !strings.Contains(got, tc.want) {
				t.Errorf("text %q does not contain %q", got, tc.want)
			}
			for _, b := range rb.Doc.Blocks {
				if b.Kind != KindParagraph {
					t.Errorf("raw HTML became a %v block", b.Kind)
				}
			}
		})
	}
}

func TestTaskSteps(t *testing.T) {
	src := `# Runbook

## Mitigation

- [ ] Roll back the release
- [x] Page the owner
- plain item
- [ ] Roll back the release
  - [ ] Nested check

## Backout

- [ ] Roll back the release
`
	rb := mustParse(t, src)
	steps := rb.Doc.Steps
	want := []struct {
		text, heading string
		checked       bool
	}{
		{"Roll back the release", "Mitigation", false},
		{"Page the owner", "Mitigation", true},
		{"Roll back the release", "Mitigation", false},
		{"Nested check", "Mitigation", false},
		{"Roll back the release", "Backout", false},
	}
	if len(steps) != len(want) {
		t.Fatalf("got %d steps, want %d: %+v", len(steps), len(want), steps)
	}
	seen := map[string]bool{}
	for i, w := range want {
		s := steps[i]
		if s.Text != w.text || s.Heading != w.heading || s.Checked != w.checked {
			t.Errorf("step %d = %+v, want %+v", i, s, w)
		}
		if s.ID == "" || seen[s.ID] {
			t.Errorf("step %d: empty or duplicate ID %q", i, s.ID)
		}
		seen[s.ID] = true
	}
	list := rb.Doc.Blocks[2]
	if !list.Items[0].Task || list.Items[0].StepID != steps[0].ID || !list.Items[1].Checked || list.Items[2].Task || list.Items[2].StepID != "" {
		t.Errorf("list items do not carry task state: %+v", list.Items)
	}

	t.Run("IDs stable across reloads and unrelated edits", func(t *testing.T) {
		edited := strings.Replace(src, "# Runbook\n", "# Runbook\n\nA new introduction paragraph.\n\n- [ ] A new step under no heading\n", 1)
		edited = strings.Replace(edited, "- [x] Page the owner", "- [ ] Page the owner", 1)
		again := mustParse(t, edited)
		ids := map[string]string{}
		for _, s := range again.Doc.Steps {
			ids[s.Heading+"|"+s.Text+"|"+s.ID] = s.ID
		}
		for _, s := range steps {
			if _, ok := ids[s.Heading+"|"+s.Text+"|"+s.ID]; !ok {
				t.Errorf("step %q under %q lost its ID %s", s.Text, s.Heading, s.ID)
			}
		}
		if again2 := mustParse(t, src); !reflect.DeepEqual(again2.Doc.Steps, steps) {
			t.Errorf("reparse changed steps")
		}
	})
	t.Run("ID depends on heading", func(t *testing.T) {
		if steps[0].ID == steps[4].ID {
			t.Error("same text under different headings got the same ID")
		}
	})
}

func TestOutlineAndTitle(t *testing.T) {
	rb := mustParse(t, "intro\n\n# Big *title*\n\n## Step\n\n> ## Step\n\n## Step\n")
	want := []Heading{
		{Level: 1, Text: "Big title", Anchor: "big-title", Block: 1},
		{Level: 2, Text: "Step", Anchor: "step", Block: 2},
		{Level: 2, Text: "Step", Anchor: "step-1", Block: 3},
		{Level: 2, Text: "Step", Anchor: "step-2", Block: 4},
	}
	if !reflect.DeepEqual(rb.Doc.Outline, want) {
		t.Errorf("outline\n got %+v\nwant %+v", rb.Doc.Outline, want)
	}
	t.Run("anchors stay unique", func(t *testing.T) {
		rb := mustParse(t, "# Step\n# Step 1\n# Step\n# !!!\n# ???\n")
		var got []string
		for _, h := range rb.Doc.Outline {
			got = append(got, h.Anchor)
		}
		if want := []string{"step", "step-1", "step-2", "", "-1"}; !reflect.DeepEqual(got, want) {
			t.Errorf("anchors %q, want %q", got, want)
		}
	})
	tests := []struct {
		name, src, want string
	}{
		{"front matter title", "---\ntitle: From meta\n---\n# From heading\n", "From meta"},
		{"first h1", "## Not this\n\n# From heading\n", "From heading"},
		{"file name", "no headings\n", "test"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustParse(t, tc.src).Title(); got != tc.want {
				t.Errorf("Title() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNormalisation(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // text of the first paragraph
	}{
		{"BOM", "\xef\xbb\xbfhello", "hello"},
		{"CRLF", "one\r\ntwo\r\n", "one two"},
		{"lone CR", "one\rtwo", "one two"},
		{"invalid UTF-8", "bad \xff\xfe byte", "bad \uFFFD byte"},
		{"NUL", "a\x00b", "a\uFFFDb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := []byte(tc.src)
			orig := string(src)
			rb := mustParse(t, tc.src)
			if got := plainText(rb.Doc.Blocks[0].Inlines); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if string(src) != orig {
				t.Error("Parse modified its input")
			}
		})
	}
	t.Run("BOM and CRLF before front matter", func(t *testing.T) {
		rb := mustParse(t, "\xef\xbb\xbf---\r\ntitle: T\r\n---\r\n# H\r\n")
		if rb.Meta.Title != "T" || rb.Doc.Blocks[0].Kind != KindHeading {
			t.Errorf("got %+v", rb)
		}
	})
}

// walkInlines calls f for every inline in blocks, recursively.
func walkInlines(blocks []Block, f func(Inline)) {
	for _, b := range blocks {
		for _, in := range b.Inlines {
			f(in)
		}
		for _, it := range b.Items {
			walkInlines(it.Blocks, f)
		}
		walkInlines(b.Children, f)
		for _, c := range b.Header {
			for _, in := range c.Inlines {
				f(in)
			}
		}
		for _, row := range b.Rows {
			for _, c := range row {
				for _, in := range c.Inlines {
					f(in)
				}
			}
		}
	}
}
