package runbooks

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

type watchHarness struct {
	t       *testing.T
	dir     string
	lib     *Library
	w       *Watcher
	reports chan LoadReport
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func titled(title string) string {
	return "---\ntitle: " + title + "\n---\n# " + title + "\n"
}

// startWatch loads a folder holding files and runs a Watcher on it until
// the test ends.
func startWatch(t *testing.T, opts WatchOptions, files map[string]string) *watchHarness {
	t.Helper()
	dir := t.TempDir()
	for p, s := range files {
		writeFile(t, filepath.Join(dir, p), s)
	}
	root, err := DirRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	lib := NewLibrary(root, Root{Name: "mem", FS: searchFS()}) // a root without Dir is not watched
	if errs := lib.Load(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if opts.Debounce == 0 {
		opts.Debounce = 30 * time.Millisecond
	}
	opts.OnError = func(err error) { t.Logf("watch error: %v", err) }
	w, err := NewWatcher(lib, opts)
	if err != nil {
		t.Fatal(err)
	}
	h := &watchHarness{t: t, dir: dir, lib: lib, w: w, reports: make(chan LoadReport, 100)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- w.Run(ctx, func(r LoadReport) {
			select {
			case h.reports <- r:
			case <-ctx.Done():
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	// Once a new file shows up, Run's first reload is behind us and events
	// flow: what the test does next is seen through events.
	writeFile(t, h.path("ready.md"), titled("Ready"))
	h.waitFor("the watcher to start", func(r LoadReport) bool { return hasRef(r.Added, "ready.md") })
	return h
}

func (h *watchHarness) path(p string) string { return filepath.Join(h.dir, p) }

// waitFor reads reports until ok holds for one of them and the library.
func (h *watchHarness) waitFor(what string, ok func(LoadReport) bool) LoadReport {
	h.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case r := <-h.reports:
			if ok(r) {
				return r
			}
		case <-timeout:
			h.t.Fatalf("timed out waiting for %s", what)
			return LoadReport{}
		}
	}
}

func (h *watchHarness) title(name string) string {
	if rb := h.lib.ByName(name); rb != nil && rb.Root == h.dir {
		return rb.Title()
	}
	return ""
}

func hasRef(refs []FileRef, p string) bool {
	return slices.ContainsFunc(refs, func(r FileRef) bool { return r.Path == p })
}

func TestWatchEditBreakDelete(t *testing.T) {
	h := startWatch(t, WatchOptions{}, map[string]string{"a.md": titled("Alpha"), "b.md": titled("Beta")})

	writeFile(t, h.path("a.md"), titled("Alpha two"))
	h.waitFor("the edit", func(r LoadReport) bool { return hasRef(r.Changed, "a.md") && h.title("a.md") == "Alpha two" })
	good := h.lib.ByName("a.md")

	t.Run("garbage keeps the last good copy", func(t *testing.T) {
		writeFile(t, h.path("a.md"), "---\nbogus: [1\n---\n")
		r := h.waitFor("the front matter error", func(r LoadReport) bool { return len(r.Errors) > 0 })
		if len(r.Errors) != 1 || r.Errors[0].Path != "a.md" || !r.Errors[0].KeptPrevious {
			t.Errorf("errors %v", r.Errors)
		}
		if h.lib.ByName("a.md") != good || hasRef(r.Changed, "a.md") || hasRef(r.Removed, "a.md") {
			t.Errorf("last good copy not kept: %+v", r)
		}
	})
	t.Run("over the size cap keeps the last good copy", func(t *testing.T) {
		writeFile(t, h.path("a.md"), strings.Repeat("x", MaxSize+1))
		r := h.waitFor("the size error", func(r LoadReport) bool {
			var le *LimitError
			return len(r.Errors) == 1 && errors.As(r.Errors[0], &le) && le.What == LimitSize
		})
		if !r.Errors[0].KeptPrevious || h.lib.ByName("a.md") != good {
			t.Errorf("last good copy not kept: %v", r.Errors)
		}
	})
	t.Run("fixed again", func(t *testing.T) {
		writeFile(t, h.path("a.md"), titled("Alpha three"))
		h.waitFor("the fix", func(r LoadReport) bool { return len(r.Errors) == 0 && h.title("a.md") == "Alpha three" })
	})
	t.Run("delete", func(t *testing.T) {
		if err := os.Remove(h.path("b.md")); err != nil {
			t.Fatal(err)
		}
		h.waitFor("the removal", func(r LoadReport) bool { return hasRef(r.Removed, "b.md") })
		if h.title("b.md") != "" {
			t.Error("deleted runbook still loaded")
		}
		if h.lib.ByName("checkoutlatencyhigh.md") == nil {
			t.Error("the in-memory root was lost")
		}
	})
}

func TestWatchReplaceByRename(t *testing.T) {
	h := startWatch(t, WatchOptions{}, map[string]string{"a.md": titled("Alpha")})

	t.Run("atomic write", func(t *testing.T) {
		writeFile(t, h.path(".a.md.tmp123"), titled("Atomic"))
		if err := os.Rename(h.path(".a.md.tmp123"), h.path("a.md")); err != nil {
			t.Fatal(err)
		}
		h.waitFor("the atomic replace", func(LoadReport) bool { return h.title("a.md") == "Atomic" })
	})
	t.Run("vim backup and write", func(t *testing.T) {
		if err := os.Rename(h.path("a.md"), h.path("a.md~")); err != nil {
			t.Fatal(err)
		}
		writeFile(t, h.path("a.md"), titled("Vim"))
		if err := os.Remove(h.path("a.md~")); err != nil {
			t.Fatal(err)
		}
		h.waitFor("the vim save", func(LoadReport) bool { return h.title("a.md") == "Vim" })
	})
	t.Run("moved in from elsewhere", func(t *testing.T) {
		outside := filepath.Join(t.TempDir(), "new.md")
		writeFile(t, outside, titled("Moved in"))
		if err := os.Rename(outside, h.path("new.md")); err != nil {
			t.Skipf("cross-directory rename: %v", err)
		}
		h.waitFor("the moved file", func(r LoadReport) bool { return hasRef(r.Added, "new.md") })
	})
}

func TestWatchNewSubdirectories(t *testing.T) {
	h := startWatch(t, WatchOptions{}, map[string]string{"a.md": titled("Alpha")})

	deeper := h.path(filepath.Join("sub", "deeper"))
	if err := os.MkdirAll(deeper, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(deeper, "c.md"), titled("Gamma")) // may land before the watch: the reload walks it anyway
	h.waitFor("the file in the new folder", func(LoadReport) bool { return h.title("c.md") == "Gamma" })
	if !slices.Contains(h.w.Watched(), deeper) {
		t.Fatalf("%s not watched: %v", deeper, h.w.Watched())
	}
	// Only a watch on the new folder can see this one.
	writeFile(t, filepath.Join(deeper, "d.md"), titled("Delta"))
	h.waitFor("a later file in the new folder", func(LoadReport) bool { return h.title("d.md") == "Delta" })

	t.Run("hidden folders are not watched", func(t *testing.T) {
		writeFile(t, h.path(filepath.Join(".git", "x.md")), titled("Hidden"))
		time.Sleep(150 * time.Millisecond)
		if slices.Contains(h.w.Watched(), h.path(".git")) || h.title("x.md") != "" {
			t.Error("hidden folder watched or loaded")
		}
	})
	t.Run("removed folder", func(t *testing.T) {
		if err := os.RemoveAll(h.path("sub")); err != nil {
			t.Fatal(err)
		}
		h.waitFor("the folder removal", func(LoadReport) bool { return h.title("c.md") == "" && h.title("d.md") == "" })
		if slices.Contains(h.w.Watched(), deeper) {
			t.Error("removed folder still listed as watched")
		}
	})
}

func TestWatchCoalescesAndIgnoresNoise(t *testing.T) {
	h := startWatch(t, WatchOptions{Debounce: 150 * time.Millisecond, MaxDelay: 10 * time.Second}, map[string]string{"a.md": titled("Alpha")})

	t.Run("files that are not runbooks", func(t *testing.T) {
		time.Sleep(300 * time.Millisecond) // let the start-up writes settle
		before := h.w.reloads.Load()
		writeFile(t, h.path("notes.txt"), "x")
		writeFile(t, h.path(".a.md.swp"), "x")
		if err := os.Chmod(h.path("a.md"), 0o600); err != nil {
			t.Fatal(err)
		}
		time.Sleep(400 * time.Millisecond)
		if n := h.w.reloads.Load() - before; n != 0 {
			t.Errorf("%d reloads for files that are not runbooks", n)
		}
	})
	t.Run("rapid writes", func(t *testing.T) {
		before := h.w.reloads.Load()
		for i := range 30 {
			writeFile(t, h.path("a.md"), titled("Alpha "+strings.Repeat("i", i+1)))
			time.Sleep(2 * time.Millisecond)
		}
		final := "Alpha " + strings.Repeat("i", 30)
		n := 0
		h.waitFor("the last write", func(LoadReport) bool { n++; return h.title("a.md") == final })
	drain:
		for {
			select {
			case <-h.reports:
				n++
			case <-time.After(400 * time.Millisecond):
				break drain
			}
		}
		if n > 2 {
			t.Errorf("30 writes caused %d reports", n)
		}
		if r := h.w.reloads.Load() - before; r > 2 {
			t.Errorf("30 writes caused %d reloads", r)
		}
	})
}

func TestWatchMaxDelay(t *testing.T) {
	// Writes every 20 ms never leave the 100 ms quiet time; MaxDelay forces
	// a reload anyway.
	h := startWatch(t, WatchOptions{Debounce: 100 * time.Millisecond, MaxDelay: 300 * time.Millisecond}, map[string]string{"a.md": titled("Alpha")})
	stop := time.After(3 * time.Second)
	for i := 0; ; i++ {
		select {
		case <-h.reports:
			return
		case <-stop:
			t.Fatal("steady writes postponed the reload past MaxDelay")
		case <-time.After(20 * time.Millisecond):
			writeFile(t, h.path("a.md"), titled("Alpha "+strings.Repeat("i", i%50+1)))
		}
	}
}

func TestWatchErrors(t *testing.T) {
	lib := NewLibrary(Root{Name: "gone", FS: os.DirFS("nope"), Dir: filepath.Join(t.TempDir(), "nope")})
	if _, err := NewWatcher(lib, WatchOptions{}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("got %v, want an error naming the missing folder", err)
	}
	if _, err := DirRoot(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Error("DirRoot of a missing folder succeeded")
	}
}

func TestReloadReport(t *testing.T) {
	fsys := searchFS()
	lib := NewLibrary(Root{Name: "r", FS: fsys})
	first := lib.Reload()
	if len(first.Added) != len(fsys) || first.Runbooks != len(fsys) || len(first.Changed)+len(first.Removed) != 0 {
		t.Fatalf("first load: %+v", first)
	}
	same := lib.ByName("orders.md")

	fsys["payments.md"] = &fstest.MapFile{Data: []byte(titled("Payments v2"))}
	fsys["new.md"] = &fstest.MapFile{Data: []byte(titled("New"))}
	delete(fsys, "redis.md")
	rep := lib.Reload()
	want := LoadReport{Added: []FileRef{{"r", "new.md"}}, Changed: []FileRef{{"r", "payments.md"}}, Removed: []FileRef{{"r", "redis.md"}}, Runbooks: len(fsys)}
	if !reflect.DeepEqual(rep, want) {
		t.Errorf("got %+v\nwant %+v", rep, want)
	}
	if lib.ByName("orders.md") != same {
		t.Error("an unchanged file was parsed again")
	}
	if rep := lib.Reload(); rep.HasChanges() || len(rep.Errors) != 0 {
		t.Errorf("reload without changes: %+v", rep)
	}
}
