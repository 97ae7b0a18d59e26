package runbooks

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

func rbFile(title string, alerts ...string) *fstest.MapFile {
	fm := "---\ntitle: " + title + "\n"
	if len(alerts) > 0 {
		fm += "alerts: [" + strings.Join(alerts, ", ") + "]\n"
	}
	return &fstest.MapFile{Data: []byte(fm + "---\n# " + title + "\n\n- [ ] do it\n")}
}

func teamFS() fstest.MapFS {
	return fstest.MapFS{
		"kube/kubepodcrashlooping.md": rbFile("Kube pod crash looping"),
		"node/nodediskfull.md":        rbFile("Node disk full"),
		"db/orders-db.md":             rbFile("Orders database", "CheckoutSlowQueries", "CheckoutLatencyHigh"),
		"diskpressure.md":             rbFile("Disk pressure"),
		"checkoutlatencyhigh.md":      rbFile("Team override of checkout latency"),
		"broken.md":                   {Data: []byte("---\ntitle: x\nbogus: 1\n---\n")},
		"huge.md":                     {Data: []byte(strings.Repeat("x", MaxSize+1))},
		"pipe.md":                     {Mode: fs.ModeNamedPipe},
		"notes.txt":                   {Data: []byte("not a runbook")},
		".git/config.md":              rbFile("hidden"),
	}
}

func newTestLibrary(t *testing.T) (*Library, []LoadError) {
	t.Helper()
	lib := NewLibrary(Root{Name: "team", FS: teamFS()}, Root{Name: "samples", FS: os.DirFS("../assets/runbooks")})
	lib.URLMap = []URLMapping{
		{Prefix: "https://runbooks.prometheus-operator.dev/runbooks/", Root: "team"},
		{Prefix: "https://wiki.example.com/ops/"},
	}
	return lib, lib.Load()
}

func TestLibraryLoad(t *testing.T) {
	lib, errs := newTestLibrary(t)
	wantErrs := map[string]string{
		"broken.md": `unknown field "bogus"`,
		"huge.md":   LimitSize,
		"pipe.md":   "not a regular file",
	}
	if len(errs) != len(wantErrs) {
		t.Errorf("got %d load errors, want %d: %v", len(errs), len(wantErrs), errs)
	}
	for _, e := range errs {
		want, ok := wantErrs[e.Path]
		if !ok || e.Root != "team" || !strings.Contains(e.Error(), want) || !strings.Contains(e.Error(), e.Path) {
			t.Errorf("unexpected load error %v", e)
		}
	}
	var le *LimitError
	for _, e := range errs {
		if e.Path == "huge.md" && !errors.As(e, &le) {
			t.Errorf("huge.md: %v is not a LimitError", e)
		}
	}

	all := lib.All()
	if len(all) != 8 {
		t.Errorf("loaded %d runbooks, want 8", len(all))
	}
	for i := 1; i < len(all); i++ {
		if strings.ToLower(all[i-1].Title()) > strings.ToLower(all[i].Title()) {
			t.Errorf("All not sorted by title: %q before %q", all[i-1].Title(), all[i].Title())
		}
	}
	all[0] = nil // the caller owns the slice
	if lib.All()[0] == nil {
		t.Error("All returned the library's own slice")
	}

	t.Run("ByName prefers the earlier root", func(t *testing.T) {
		rb := lib.ByName("CheckoutLatencyHigh.md")
		if rb == nil || rb.Root != "team" || rb.Title() != "Team override of checkout latency" {
			t.Errorf("got %+v", rb)
		}
		if rb := lib.ByName("paymentsdependencydegraded.md"); rb == nil || rb.Root != "samples" || rb.Path != "paymentsdependencydegraded.md" {
			t.Errorf("got %+v", rb)
		}
		if lib.ByName("config.md") != nil {
			t.Error("loaded a file from a hidden directory")
		}
	})
}

func TestForAlert(t *testing.T) {
	lib, _ := newTestLibrary(t)
	titles := func(rbs []*Runbook) []string {
		var out []string
		for _, rb := range rbs {
			out = append(out, rb.Root+":"+rb.Path)
		}
		return out
	}
	tests := []struct {
		name        string
		labels      map[string]string
		annotations map[string]string
		want        []string
	}{
		{
			name:        "runbook_url mapped, last element lower-cased",
			labels:      map[string]string{"alertname": "KubePodCrashLooping"},
			annotations: map[string]string{"runbook_url": "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/KubePodCrashLooping"},
			want:        []string{"team:kube/kubepodcrashlooping.md"},
		},
		{
			name:        "runbook_url mapped, full remainder path",
			labels:      map[string]string{"alertname": "NodeFilesystemAlmostFull"},
			annotations: map[string]string{"runbook_url": "https://runbooks.prometheus-operator.dev/runbooks/node/nodediskfull?x=1#mitigation"},
			want:        []string{"team:node/nodediskfull.md"},
		},
		{
			name:        "runbook_url naming a runbook file anywhere",
			labels:      map[string]string{"alertname": "KubeletDiskPressure"},
			annotations: map[string]string{"runbook_url": "https://git.example.com/ops/runbooks/blob/main/diskpressure.md"},
			want:        []string{"team:diskpressure.md"},
		},
		{
			name:   "file named after alertname, both roots, then front matter",
			labels: map[string]string{"alertname": "CheckoutLatencyHigh"},
			want:   []string{"team:checkoutlatencyhigh.md", "samples:checkoutlatencyhigh.md", "team:db/orders-db.md"},
		},
		{
			name:   "front matter only",
			labels: map[string]string{"alertname": "CheckoutSlowQueries"},
			want:   []string{"team:db/orders-db.md"},
		},
		{
			name:        "priority order and dedup",
			labels:      map[string]string{"alertname": "PaymentsDependencyDegraded"},
			annotations: map[string]string{"runbook_url": "https://wiki.example.com/ops/DiskPressure"},
			want:        []string{"team:diskpressure.md", "samples:paymentsdependencydegraded.md"},
		},
		{
			name:        "url and name agree: listed once",
			labels:      map[string]string{"alertname": "CheckoutErrorBudgetBurn"},
			annotations: map[string]string{"runbook_url": "https://wiki.example.com/ops/checkouterrorbudgetburn.md"},
			want:        []string{"samples:checkouterrorbudgetburn.md"},
		},
		{name: "unknown alert", labels: map[string]string{"alertname": "Nope"}},
		{name: "no labels"},
		{name: "alertname with a slash", labels: map[string]string{"alertname": "kube/kubepodcrashlooping"}},
	}
	traversals := []string{
		"https://runbooks.prometheus-operator.dev/runbooks/../../../etc/passwd",
		"https://runbooks.prometheus-operator.dev/runbooks/..%2F..%2Fdiskpressure",
		"https://runbooks.prometheus-operator.dev/runbooks/%2e%2e/diskpressure",
		"https://wiki.example.com/ops/../diskpressure.md",
		"https://wiki.example.com/ops/..\\diskpressure.md",
		"https://wiki.example.com/ops//etc/diskpressure.md",
		"file:///etc/passwd",
		"/etc/passwd",
		"../../../../etc/passwd",
	}
	for _, u := range traversals {
		tests = append(tests, struct {
			name        string
			labels      map[string]string
			annotations map[string]string
			want        []string
		}{name: "traversal " + u, labels: map[string]string{"alertname": "Unknown"}, annotations: map[string]string{"runbook_url": u}})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := titles(lib.ForAlert(tc.labels, tc.annotations))
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLibraryDiskSafety(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "runbooks")
	outside := filepath.Join(dir, "outside")
	for _, d := range []string{root, outside, filepath.Join(root, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(outside, "secret.md"), "# Secret\n")
	write(filepath.Join(root, "ok.md"), "# OK\n\nSee [sub](sub/inner.md#step) and [out](../outside/secret.md).\n")
	write(filepath.Join(root, "sub", "inner.md"), "# Inner\n")
	if err := os.Symlink(filepath.Join(outside, "secret.md"), filepath.Join(root, "escape.md")); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "outdir")); err != nil {
		t.Fatal(err)
	}

	lib := NewLibrary(Root{Name: "disk", FS: os.DirFS(root)})
	errs := lib.Load()
	// The symlinked directory is not walked and, not being a .md file, not
	// reported; the symlinked runbook is reported and skipped.
	if len(errs) != 1 || errs[0].Path != "escape.md" || !errors.Is(errs[0], errSymlink) {
		t.Errorf("got %v, want one symlink error for escape.md", errs)
	}
	for _, rb := range lib.All() {
		if rb.Title() == "Secret" {
			t.Fatalf("loaded a runbook from outside the root: %s", rb.Path)
		}
	}
	if got := lib.ForAlert(map[string]string{"alertname": "secret"}, map[string]string{"runbook_url": "https://x/../outside/secret.md"}); len(got) != 0 {
		t.Errorf("ForAlert reached outside the root: %v", got)
	}

	t.Run("Resolve", func(t *testing.T) {
		from := lib.ByName("ok.md")
		if rb, anchor := lib.Resolve(from, "sub/inner.md#step"); rb == nil || rb.Path != "sub/inner.md" || anchor != "step" {
			t.Errorf("got %v %q", rb, anchor)
		}
		inner := lib.ByName("inner.md")
		if rb, _ := lib.Resolve(inner, "../ok.md"); rb != from {
			t.Errorf("relative ../ did not resolve: %v", rb)
		}
		for _, href := range []string{"../outside/secret.md", "../../etc/passwd.md", "https://x/ok.md", "javascript:x.md", "missing.md"} {
			if rb, _ := lib.Resolve(from, href); rb != nil {
				t.Errorf("Resolve(%q) = %s", href, rb.Path)
			}
		}
	})
}

func TestLibraryReloadKeepsLastGoodCopy(t *testing.T) {
	fsys := fstest.MapFS{
		"a.md": rbFile("A", "AlertA"),
		"b.md": rbFile("B"),
	}
	lib := NewLibrary(Root{Name: "r", FS: fsys})
	if errs := lib.Load(); len(errs) != 0 {
		t.Fatal(errs)
	}
	good := lib.ByName("a.md")

	fsys["a.md"] = &fstest.MapFile{Data: []byte("---\nlast_reviewed: yesterday\n---\n")}
	delete(fsys, "b.md")
	errs := lib.Load()
	if len(errs) != 1 || !errs[0].KeptPrevious || errs[0].Path != "a.md" || !strings.Contains(errs[0].Error(), "last good copy") {
		t.Fatalf("got %v, want one error keeping the previous copy", errs)
	}
	if lib.ByName("a.md") != good {
		t.Error("the last good copy was dropped")
	}
	if got := lib.ForAlert(map[string]string{"alertname": "AlertA"}, nil); len(got) != 1 || got[0] != good {
		t.Errorf("kept copy not indexed by alert: %v", got)
	}
	if lib.ByName("b.md") != nil {
		t.Error("a deleted file is still listed")
	}

	t.Run("root vanishes", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "c.md"), []byte("# C\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		lib := NewLibrary(Root{Name: "disk", FS: os.DirFS(dir)})
		if errs := lib.Load(); len(errs) != 0 {
			t.Fatal(errs)
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		errs := lib.Load()
		if len(errs) != 1 || !errs[0].KeptPrevious || lib.ByName("c.md") == nil {
			t.Errorf("got %v; want the previous copy kept", errs)
		}
	})
}

func TestLibraryConcurrentUse(t *testing.T) {
	lib, _ := newTestLibrary(t)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				if i%2 == 0 {
					lib.Load()
				} else {
					lib.ForAlert(map[string]string{"alertname": "CheckoutLatencyHigh"}, nil)
					lib.All()
					lib.ByName("diskpressure.md")
				}
			}
		}()
	}
	wg.Wait()
}

func TestLibraryBadRoots(t *testing.T) {
	lib := NewLibrary(Root{Name: "nil"}, Root{Name: "missing", FS: os.DirFS(filepath.Join(t.TempDir(), "nope"))})
	errs := lib.Load()
	if len(errs) != 2 {
		t.Fatalf("got %v, want one error per bad root", errs)
	}
	if len(lib.All()) != 0 {
		t.Error("loaded runbooks from nowhere")
	}
}
