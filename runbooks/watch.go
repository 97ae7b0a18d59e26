package runbooks

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watch defaults.
const (
	// DefaultDebounce is how long a Watcher waits for the files to settle.
	DefaultDebounce = 200 * time.Millisecond
	// DefaultMaxDelay bounds how long steady writes can postpone a reload.
	DefaultMaxDelay = 2 * time.Second
	// maxWatchedDirs bounds the directories one Watcher watches (each costs
	// an inotify watch, a limited resource shared by the whole user).
	maxWatchedDirs = 4096
)

// DirRoot opens a runbook folder on disk as a Root named after it, with Dir
// set so that a Watcher can watch it. The file system is an *os.Root, which
// refuses symlinks that lead out of the folder.
func DirRoot(dir string) (Root, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return Root{}, fmt.Errorf("open runbook folder %q: %w", dir, err)
	}
	return Root{Name: dir, FS: r.FS(), Dir: dir}, nil
}

// WatchOptions tunes a Watcher. The zero value uses the defaults.
type WatchOptions struct {
	// Debounce is the quiet time after the last change before the library
	// reloads (DefaultDebounce when zero), so an editor's burst of writes,
	// renames and deletes causes one reload.
	Debounce time.Duration
	// MaxDelay bounds how long a steady stream of changes can postpone a
	// reload (DefaultMaxDelay when zero).
	MaxDelay time.Duration
	// OnError receives problems with the watch itself: a folder that cannot
	// be watched, an overflowing event queue. nil drops them.
	OnError func(error)
}

// Watcher reloads a Library when markdown files change under the Dir of
// any of its roots. It watches every directory below each Dir (skipping
// hidden ones, as Load does) and adds new subdirectories as they appear.
// Saves that replace a file by rename (vim, atomic writes) look like a
// create of the markdown name and are picked up like any write.
type Watcher struct {
	lib  *Library
	opts WatchOptions
	fsw  *fsnotify.Watcher
	dirs []string // the roots' Dirs, cleaned

	mu      sync.Mutex
	watched map[string]bool // directories with a watch
	full    bool            // maxWatchedDirs reached and reported
	running bool

	reloads atomic.Int64 // reloads done, for tests
}

// NewWatcher starts watching the on-disk roots of lib; the watches are in
// place when it returns, so later changes are seen. Call Run to act on
// them, or Close.
func NewWatcher(lib *Library, opts WatchOptions) (*Watcher, error) {
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = DefaultMaxDelay
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch runbooks: %w", err)
	}
	w := &Watcher{lib: lib, opts: opts, fsw: fsw, watched: map[string]bool{}}
	for _, r := range lib.roots {
		if r.Dir != "" {
			w.dirs = append(w.dirs, filepath.Clean(r.Dir))
		}
	}
	for _, d := range w.dirs {
		if err := w.addTree(d); err != nil {
			fsw.Close()
			return nil, err
		}
	}
	return w, nil
}

// Watch reloads lib whenever its folders change, with the default
// options, until ctx ends. See Watcher.Run.
func Watch(ctx context.Context, lib *Library, onChange func(LoadReport)) error {
	w, err := NewWatcher(lib, WatchOptions{})
	if err != nil {
		return err
	}
	return w.Run(ctx, onChange)
}

// Close stops watching. Run calls it on return.
func (w *Watcher) Close() error {
	return w.fsw.Close()
}

// Run reloads the library after changes settle, until ctx ends; then it
// closes the watcher and returns nil. After a reload that added, changed or
// removed a runbook, or whose errors differ from the previous reload's, it
// passes the report to onChange (which may be nil). It first reloads once,
// to catch changes made between the caller's Load and NewWatcher. onChange
// runs on Run's goroutine; a slow onChange delays the next reload, never
// loses it. Run may be called once.
func (w *Watcher) Run(ctx context.Context, onChange func(LoadReport)) error {
	w.mu.Lock()
	if w.running {
		w.mu.Unlock()
		return errors.New("watch runbooks: Run called twice")
	}
	w.running = true
	w.mu.Unlock()
	defer w.Close()

	lastErrs := ""
	report := func(rep LoadReport) {
		errs := errorsKey(rep.Errors)
		changed := rep.HasChanges() || errs != lastErrs
		lastErrs = errs
		if onChange != nil && changed {
			onChange(rep)
		}
	}
	first := w.reload()
	lastErrs = errorsKey(first.Errors) // the caller has seen these from its own Load
	if first.HasChanges() {
		report(first)
	}

	// quiet fires Debounce after the latest event, limit MaxDelay after
	// the first event of a burst; either ends the burst with a reload.
	quiet := time.NewTimer(time.Hour)
	limit := time.NewTimer(time.Hour)
	quiet.Stop()
	limit.Stop()
	pending := false
	schedule := func() {
		quiet.Reset(w.opts.Debounce)
		if !pending {
			limit.Reset(w.opts.MaxDelay)
			pending = true
		}
	}
	fire := func() {
		quiet.Stop()
		limit.Stop()
		pending = false
		report(w.reload())
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return errors.New("watch runbooks: event stream closed")
			}
			if w.relevant(ev) {
				schedule()
			}
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return errors.New("watch runbooks: event stream closed")
			}
			// On overflow events were lost: a full reload covers them.
			w.fail(fmt.Errorf("watch runbooks: %w", err))
			schedule()
		case <-quiet.C:
			if pending {
				fire()
			}
		case <-limit.C:
			if pending {
				fire()
			}
		}
	}
}

// reload brings the watches up to date, then reloads the library.
func (w *Watcher) reload() LoadReport {
	w.resync()
	w.reloads.Add(1)
	return w.lib.Reload()
}

// errorsKey identifies a list of load errors, to tell when it changes.
func errorsKey(errs []LoadError) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.Error())
		b.WriteByte(0)
	}
	return b.String()
}

// relevant says whether an event can change the library, and starts
// watching directories that appear.
func (w *Watcher) relevant(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		return false // touch, permission bits, atime: the content is unchanged
	}
	if strings.HasPrefix(filepath.Base(ev.Name), ".") {
		return false // editor swap files and hidden folders, which Load skips
	}
	if ev.Has(fsnotify.Create) {
		if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
			if err := w.addTree(ev.Name); err != nil {
				w.fail(err)
			}
			return true
		}
	}
	if isMarkdown(ev.Name) {
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.watched[ev.Name] && (ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename)) {
		delete(w.watched, ev.Name) // the kernel dropped the watch with the folder
		return true
	}
	return false
}

// addTree watches dir and every non-hidden directory below it. Symbolic
// links are not followed, as Load does not follow them.
func (w *Watcher) addTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return fmt.Errorf("watch runbook folder %q: %w", dir, err)
			}
			w.fail(fmt.Errorf("watch runbook folder %q: %w", p, err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			return fs.SkipDir
		}
		err = w.add(p)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, errTooManyDirs):
			return fs.SkipAll
		case p == dir:
			return err
		default:
			w.fail(err)
			return fs.SkipDir
		}
	})
}

var errTooManyDirs = fmt.Errorf("more than %d directories; the rest are not watched", maxWatchedDirs)

// add watches one directory unless it is watched already.
func (w *Watcher) add(p string) error {
	w.mu.Lock()
	if w.watched[p] {
		w.mu.Unlock()
		return nil
	}
	if len(w.watched) >= maxWatchedDirs {
		first := !w.full
		w.full = true
		w.mu.Unlock()
		if first {
			w.fail(fmt.Errorf("watch runbook folder %q: %w", p, errTooManyDirs))
		}
		return errTooManyDirs
	}
	err := w.fsw.Add(p)
	if err == nil {
		w.watched[p] = true
	}
	w.mu.Unlock()
	if err != nil {
		return fmt.Errorf("watch runbook folder %q: %w", p, err)
	}
	return nil
}

// resync forgets directories that are gone and watches any that a race
// let slip (a folder created and filled before its watch was added is
// still loaded, since the reload walks the files after this).
func (w *Watcher) resync() {
	w.mu.Lock()
	for p := range w.watched {
		if fi, err := os.Lstat(p); err != nil || !fi.IsDir() {
			delete(w.watched, p)
			_ = w.fsw.Remove(p) // usually gone already, with the folder
		}
	}
	w.mu.Unlock()
	for _, d := range w.dirs {
		if err := w.addTree(d); err != nil {
			w.fail(err)
		}
	}
}

// Watched returns the directories being watched, for diagnostics.
func (w *Watcher) Watched() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.watched))
	for p := range w.watched {
		out = append(out, p)
	}
	return out
}

func (w *Watcher) fail(err error) {
	if w.opts.OnError != nil {
		w.opts.OnError(err)
	}
}
