package runbooks

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func searchFS() fstest.MapFS {
	md := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	return fstest.MapFS{
		"checkoutlatencyhigh.md": md("---\ntitle: Checkout latency\n---\n# Checkout latency\n\n## Meaning\n\nRequests are slow.\n\n## Rollback the deploy\n\nRun this:\n\n```bash\nkubectl -n checkout rollout undo deployment/checkout\n```\n"),
		"payments.md":            md("---\ntitle: Payments gateway errors\n---\n## Checkout latency impact\n\nPayments time out.\n\n## Mitigation\n\nFail over the gateway.\n"),
		"orders.md":              md("---\ntitle: Orders database\n---\n## Meaning\n\nSlow queries raise the latency of checkout for every customer.\n"),
		"nodedisk.md":            md("---\ntitle: Node disk full\n---\nFree some disk space.\n"),
		"diskpressure.md":        md("---\ntitle: Disk pressure\n---\nKubelet evicts pods.\n"),
		"redis.md":               md("---\ntitle: Redis backup keys\n---\nBackups run nightly.\n"),
		"unicode.md":             md("---\ntitle: ÉCHEC der Größe\n---\n## Überlauf\n\nDie GRÖSSE des Puffers ist überschritten.\n"),
	}
}

func searchLib(t testing.TB, fsys fstest.MapFS) *Library {
	t.Helper()
	lib := NewLibrary(Root{Name: "r", FS: fsys})
	if errs := lib.Load(); len(errs) > 0 {
		t.Fatal(errs)
	}
	return lib
}

// checkSpans asserts that every highlighted range of a hit is inside the
// snippet and, for exact matches, spells one of the query words.
func checkSpans(t *testing.T, h Hit, query string) {
	t.Helper()
	terms := queryTerms(query)
	last := -1
	for _, s := range h.Matches {
		if s.Start < 0 || s.End > len(h.Snippet) || s.Start >= s.End || s.Start <= last {
			t.Fatalf("%s: bad span %v in %q (%v)", h.Runbook.Path, s, h.Snippet, h.Matches)
		}
		last = s.End
		if h.Fuzzy {
			continue
		}
		got := fold(h.Snippet[s.Start:s.End])
		ok := false
		for _, term := range terms {
			ok = ok || strings.Contains(got, term)
		}
		if !ok {
			t.Errorf("%s: span %q of %q matches no query word %v", h.Runbook.Path, got, h.Snippet, terms)
		}
	}
	if len(h.Matches) == 0 {
		t.Errorf("%s: no highlight in %q", h.Runbook.Path, h.Snippet)
	}
}

func TestSearch(t *testing.T) {
	lib := searchLib(t, searchFS())
	type want struct {
		path   string
		field  Field
		fuzzy  bool
		anchor string
	}
	tests := []struct {
		name  string
		query string
		want  []want
	}{
		{"exact title beats heading beats body", "checkout LATENCY", []want{
			{"checkoutlatencyhigh.md", FieldTitle, false, ""},
			{"payments.md", FieldHeading, false, "checkout-latency-impact"},
			{"orders.md", FieldBody, false, "meaning"},
		}},
		{"fuzzy title", "chk lat", []want{{"checkoutlatencyhigh.md", FieldTitle, true, ""}}},
		{"heading with anchor", "rollback", []want{{"checkoutlatencyhigh.md", FieldHeading, false, "rollback-the-deploy"}}},
		{"body in code, section anchor", "rollout undo", []want{{"checkoutlatencyhigh.md", FieldBody, false, "rollback-the-deploy"}}},
		{"ties by title", "disk", []want{
			{"diskpressure.md", FieldTitle, false, ""},
			{"nodedisk.md", FieldTitle, false, ""},
		}},
		{"fuzzy needs word starts (not Redis backup keys)", "dsk", []want{
			{"diskpressure.md", FieldTitle, true, ""},
			{"nodedisk.md", FieldTitle, true, ""},
		}},
		{"every word must match", "checkout nightly", nil},
		{"unicode folding", "größe", []want{{"unicode.md", FieldTitle, false, ""}}},
		{"unicode heading", "überlauf", []want{{"unicode.md", FieldHeading, false, "überlauf"}}},
		{"empty", "   ", nil},
		{"nothing", "xyzzy", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hits := lib.Search(tc.query, 0)
			var got []want
			for _, h := range hits {
				got = append(got, want{h.Runbook.Path, h.Field, h.Fuzzy, h.Anchor})
				checkSpans(t, h, tc.query)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("Search(%q)\n got %v\nwant %v", tc.query, got, tc.want)
			}
			for i := 1; i < len(hits); i++ {
				if hits[i-1].Score < hits[i].Score {
					t.Errorf("scores not descending: %d then %d", hits[i-1].Score, hits[i].Score)
				}
			}
		})
	}

	t.Run("fuzzy highlights the abbreviated letters", func(t *testing.T) {
		h := lib.Search("chk lat", 1)[0]
		var sb strings.Builder
		for _, s := range h.Matches {
			sb.WriteString(h.Snippet[s.Start:s.End])
		}
		if sb.String() != "Chklat" {
			t.Errorf("highlighted %q in %q", sb.String(), h.Snippet)
		}
	})
	t.Run("body snippet", func(t *testing.T) {
		h := lib.Search("rollout undo", 1)[0]
		if !strings.Contains(h.Snippet, "rollout undo deployment") || strings.Contains(h.Snippet, "\n") {
			t.Errorf("snippet %q", h.Snippet)
		}
	})
	t.Run("limit", func(t *testing.T) {
		if n := len(lib.Search("e", 2)); n != 2 {
			t.Errorf("got %d hits, want 2", n)
		}
	})
	t.Run("empty library", func(t *testing.T) {
		if hits := NewLibrary().Search("x", 5); hits != nil {
			t.Errorf("got %v", hits)
		}
	})
}

func TestSearchLongBodySnippet(t *testing.T) {
	body := strings.Repeat("lorem ipsum dolor sit amet ", 40) + "the NEEDLE is here " + strings.Repeat("consectetur adipiscing elit ", 40)
	lib := searchLib(t, fstest.MapFS{"a.md": {Data: []byte("# A\n\n" + body + "\n")}})
	hits := lib.Search("needle", 0)
	if len(hits) != 1 {
		t.Fatalf("got %v", hits)
	}
	h := hits[0]
	checkSpans(t, h, "needle")
	if !strings.HasPrefix(h.Snippet, "…") || !strings.HasSuffix(h.Snippet, "…") || len(h.Snippet) > snippetBefore+snippetAfter+10 {
		t.Errorf("snippet %q", h.Snippet)
	}
	if s := h.Matches[0]; h.Snippet[s.Start:s.End] != "NEEDLE" {
		t.Errorf("highlight %q", h.Snippet[s.Start:s.End])
	}
}

func TestSearchIndexRebuiltOnReload(t *testing.T) {
	fsys := searchFS()
	lib := searchLib(t, fsys)
	idx := lib.index().search
	lib.Search("gateway", 0)
	if lib.index().search != idx {
		t.Fatal("a query rebuilt the index")
	}
	fsys["payments.md"] = &fstest.MapFile{Data: []byte("---\ntitle: Payments gateway errors\n---\nSwitch to the standby acquirer.\n")}
	delete(fsys, "nodedisk.md")
	if errs := lib.Load(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if hits := lib.Search("acquirer", 0); len(hits) != 1 || hits[0].Runbook.Path != "payments.md" {
		t.Errorf("new text not found: %v", hits)
	}
	if hits := lib.Search("fail over", 0); len(hits) != 0 {
		t.Errorf("old text still found: %v", hits)
	}
	if hits := lib.Search("node disk", 0); len(hits) != 0 {
		t.Errorf("deleted runbook still found: %v", hits)
	}
}

func TestFoldKeepsOffsets(t *testing.T) {
	for _, s := range []string{"ABC", "Größe", "ÉCHEC", "İstanbul", "Ⱥb", "a\xffB", "K"} { // K is the Kelvin sign
		if f := fold(s); len(f) != len(s) {
			t.Errorf("fold(%q) = %q changes the length", s, f)
		}
	}
	if fold("ÉCHEC Größe") != "échec größe" {
		t.Errorf("got %q", fold("ÉCHEC Größe"))
	}
}

// genLibraryFS builds n runbooks of 3–10 KB with varied titles, headings and
// prose, deterministically.
func genLibraryFS(n int) fstest.MapFS {
	r := rand.New(rand.NewPCG(1, 2))
	services := []string{"checkout", "payments", "orders", "inventory", "search", "auth", "billing", "shipping", "catalog", "gateway", "kafka", "redis", "postgres", "ingress", "dns", "node"}
	symptoms := []string{"latency high", "error budget burn", "disk full", "memory pressure", "crash looping", "replication lag", "certificate expiry", "queue backlog", "5xx rate", "saturation", "connection pool exhausted", "dependency degraded"}
	words := strings.Fields("the service request latency error budget pod node deploy rollback upstream timeout retry customer order payment queue consumer lag partition broker replica leader primary cache hit ratio eviction memory cpu throttling limit quota certificate renewal dns resolver ingress controller load balancer health check probe readiness liveness config flag traffic canary region zone failover database index vacuum lock contention connection pool thread heap garbage collection")
	fsys := fstest.MapFS{}
	for i := range n {
		svc, sym := services[i%len(services)], symptoms[(i/len(services))%len(symptoms)]
		title := fmt.Sprintf("%s %s %d", strings.ToUpper(svc[:1])+svc[1:], sym, i)
		size := 3<<10 + r.IntN(7<<10)
		var b bytes.Buffer
		fmt.Fprintf(&b, "---\ntitle: %s\nalerts: [Alert%d]\nservices: [%s]\nowner: team-%s\nlast_reviewed: 2026-09-01\nseverity: warning\n---\n\n# %s\n\n", title, i, svc, svc, title)
		for s := 0; b.Len() < size; s++ {
			fmt.Fprintf(&b, "## %s\n\n", []string{"Meaning", "Impact", "Diagnosis", "Mitigation", "Escalation", "Backout"}[s%6])
			for p := 0; p < 3; p++ {
				for w := 0; w < 40; w++ {
					b.WriteString(words[r.IntN(len(words))])
					if w%9 == 8 {
						b.WriteString(". ")
					} else {
						b.WriteByte(' ')
					}
				}
				b.WriteString("\n\n")
			}
			fmt.Fprintf(&b, "- [ ] Check `%s` dashboards for %s.\n- [ ] Page the %s on-call if it persists.\n\n", svc, sym, svc)
			fmt.Fprintf(&b, "```promql\nrate(http_requests_total{service=%q,code=~\"5..\"}[5m])\n```\n\n", svc)
		}
		fsys[fmt.Sprintf("%s/rb%04d.md", svc, i)] = &fstest.MapFile{Data: b.Bytes()}
	}
	return fsys
}

// BenchmarkSearch1000 measures one query over 1,000 runbooks of 3–10 KB
// against a naive case-insensitive strings.Contains over every raw file in
// the same run. Target: ≤ 50 ms per query.
func BenchmarkSearch1000(b *testing.B) {
	fsys := genLibraryFS(1000)
	lib := NewLibrary(Root{Name: "gen", FS: fsys})
	if errs := lib.Load(); len(errs) > 0 {
		b.Fatal(errs)
	}
	raws := make([]string, 0, len(fsys))
	total := 0
	for _, f := range fsys {
		raws = append(raws, string(f.Data))
		total += len(f.Data)
	}
	queries := []string{"chk lat", "rollback", "connection pool exhausted", "Payments latency high 417", "replica leader failover", "dns", "xyzzy plugh", "queue backlog kafka"}
	var ours, base time.Duration
	n := 0
	for b.Loop() {
		for _, q := range queries {
			t0 := time.Now()
			hits := lib.Search(q, 50)
			t1 := time.Now()
			lq, found := strings.ToLower(q), 0
			for _, s := range raws {
				if strings.Contains(strings.ToLower(s), lq) {
					found++
				}
			}
			base += time.Since(t1)
			ours += t1.Sub(t0)
			n++
			_, _ = hits, found
		}
	}
	b.ReportMetric(float64(ours.Microseconds())/1000/float64(n), "ms/query")
	b.ReportMetric(float64(base.Microseconds())/1000/float64(n), "baseline-ms/query")
	b.ReportMetric(float64(ours)/float64(base), "ratio")
	b.ReportMetric(float64(total)/float64(len(raws))/1024, "KiB/runbook")
}

// BenchmarkReload1000 measures reloading 1,000 unchanged runbooks (read and
// hash only) against the first load (parse and index) in the same run.
func BenchmarkReload1000(b *testing.B) {
	fsys := genLibraryFS(1000)
	var first, again time.Duration
	n := 0
	for b.Loop() {
		lib := NewLibrary(Root{Name: "gen", FS: fsys})
		t0 := time.Now()
		lib.Load()
		t1 := time.Now()
		lib.Load()
		first += t1.Sub(t0)
		again += time.Since(t1)
		n++
	}
	b.ReportMetric(float64(first.Milliseconds())/float64(n), "load-ms")
	b.ReportMetric(float64(again.Milliseconds())/float64(n), "reload-ms")
	b.ReportMetric(float64(again)/float64(first), "ratio")
}
