package runbooks

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestEmbeddedSamples checks the sample runbooks shipped in assets/runbooks:
// they parse cleanly and carry what the demo scenario relies on.
func TestEmbeddedSamples(t *testing.T) {
	lib := NewLibrary(Root{Name: "samples", FS: os.DirFS("../assets/runbooks")})
	if errs := lib.Load(); len(errs) != 0 {
		t.Fatalf("load errors: %v", errs)
	}
	want := map[string]string{
		"checkoutlatencyhigh.md":        "CheckoutLatencyHigh",
		"checkouterrorbudgetburn.md":    "CheckoutErrorBudgetBurn",
		"paymentsdependencydegraded.md": "PaymentsDependencyDegraded",
	}
	if got := len(lib.All()); got != len(want) {
		t.Errorf("got %d samples, want %d", got, len(want))
	}
	reviewed := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for name, alert := range want {
		t.Run(name, func(t *testing.T) {
			rb := lib.ByName(name)
			if rb == nil {
				t.Fatal("not loaded")
			}
			m := rb.Meta
			if m.Title == "" || m.Owner == "" || m.Severity == "" || len(m.Services) == 0 || len(m.Escalation) < 2 || !m.LastReviewed.Equal(reviewed) {
				t.Errorf("incomplete front matter: %+v", m)
			}
			if got := lib.ForAlert(map[string]string{"alertname": alert}, nil); len(got) != 1 || got[0] != rb {
				t.Errorf("ForAlert(%s) = %v", alert, got)
			}
			if n := len(rb.Doc.Steps); n < 5 || n > 8 {
				t.Errorf("%d steps, want 5–8", n)
			}
			backout := false
			for _, s := range rb.Doc.Steps {
				if s.Heading != "Mitigation" {
					t.Errorf("step %q under %q, want Mitigation", s.Text, s.Heading)
				}
				backout = backout || strings.HasPrefix(s.Text, "Backout")
			}
			if !backout {
				t.Error("no backout step")
			}
			var sections []string
			for _, h := range rb.Doc.Outline {
				if h.Level == 2 {
					sections = append(sections, h.Text)
				}
			}
			if got := strings.Join(sections, ","); !strings.HasPrefix(got, "Meaning,Impact,Diagnosis,Mitigation") {
				t.Errorf("sections %s, want Meaning / Impact / Diagnosis / Mitigation first", got)
			}
			kinds := map[string]bool{}
			var blocks func([]Block)
			blocks = func(bs []Block) {
				for _, b := range bs {
					switch {
					case b.Kind == KindCode:
						kinds["code:"+b.Lang] = true
					case b.Kind == KindList && b.Ordered:
						kinds["ordered"] = true
					case b.Kind == KindList:
						kinds["bullets"] = true
					default:
						kinds[b.Kind.String()] = true
					}
					for _, it := range b.Items {
						blocks(it.Blocks)
					}
					blocks(b.Children)
				}
			}
			blocks(rb.Doc.Blocks)
			for _, k := range []string{"code:promql", "code:bash", "table", "ordered", "bullets", "paragraph"} {
				if !kinds[k] {
					t.Errorf("no %s block", k)
				}
			}
			https, relative := false, 0
			walkInlines(rb.Doc.Blocks, func(in Inline) {
				switch {
				case strings.HasPrefix(in.Link, "https://"):
					https = true
				case strings.HasSuffix(in.Link, ".md"):
					relative++
					if target, _ := lib.Resolve(rb, in.Link); target == nil {
						t.Errorf("link %q does not resolve", in.Link)
					}
				}
			})
			if !https || relative == 0 {
				t.Errorf("want an https link and links to other runbooks (https %v, relative %d)", https, relative)
			}
		})
	}
}
