package runbooks

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strings"
	"sync"
)

// MaxFiles is the most runbook files loaded from one root; a folder holding
// more is reported and the rest skipped.
const MaxFiles = 10000

// Root is one place runbooks come from: the embedded samples, or a folder on
// disk. For folders prefer (*os.Root).FS(), which refuses symlinks that lead
// out of the folder; os.DirFS works too, since Library never follows
// symlinks it finds while walking.
type Root struct {
	Name string
	FS   fs.FS
	// Dir is the folder on disk that FS reads, if any. A Watcher watches
	// it; leave it empty for embedded or in-memory file systems.
	Dir string
}

// URLMapping maps runbook_url annotations that start with Prefix to runbook
// files in the root named Root ("" means any root).
type URLMapping struct {
	Prefix string
	Root   string
}

// LoadError reports a runbook file that could not be loaded.
type LoadError struct {
	Root string
	Path string
	Err  error
	// KeptPrevious is true when an earlier good copy of the file stays in
	// the library (the file broke or vanished while being read on reload).
	KeptPrevious bool
}

func (e LoadError) Error() string {
	s := fmt.Sprintf("%s: %s: %v", e.Root, e.Path, e.Err)
	if e.KeptPrevious {
		s += " (showing the last good copy)"
	}
	return s
}

func (e LoadError) Unwrap() error { return e.Err }

// errSymlink and errNotRegular explain skipped directory entries.
var (
	errSymlink    = errors.New("symbolic link not followed")
	errNotRegular = errors.New("not a regular file")
)

// Library is a set of runbooks loaded from one or more roots, indexed for
// lookup by name and by alert. Its methods are safe for concurrent use; Load
// swaps in a complete new index, so readers never see a half-loaded library.
type Library struct {
	// URLMap maps runbook_url prefixes to roots. Set it before the library
	// is shared; it is read without locking.
	URLMap []URLMapping

	roots []Root

	loadMu sync.Mutex // one Load at a time, so each builds on the last
	mu     sync.RWMutex
	idx    *index
}

type index struct {
	all     []*Runbook                     // sorted by title
	byKey   map[string]*Runbook            // root + "\x00" + path
	byName  map[string][]*Runbook          // lower-cased file name → root order
	byAlert map[string][]*Runbook          // lower-cased alert name → root order
	byRoot  map[string]map[string]*Runbook // root → path → runbook
	// sums holds a SHA-256 of each file as read, by key; a reload reuses
	// the parsed runbook of a file whose bytes did not change.
	sums   map[string][sha256.Size]byte
	search *searchIndex
}

// NewLibrary returns an empty library over roots. Earlier roots win when two
// roots hold a file of the same name (put user folders before the samples).
func NewLibrary(roots ...Root) *Library {
	return &Library{roots: roots, idx: newIndex()}
}

func newIndex() *index {
	return &index{
		byKey:   map[string]*Runbook{},
		byName:  map[string][]*Runbook{},
		byAlert: map[string][]*Runbook{},
		byRoot:  map[string]map[string]*Runbook{},
		sums:    map[string][sha256.Size]byte{},
		search:  &searchIndex{},
	}
}

func key(root, p string) string { return root + "\x00" + p }

// Load (re)reads every root and returns one LoadError per file that failed;
// the others load. On a reload, a file that fails keeps its last good copy.
func (l *Library) Load() []LoadError {
	return l.Reload().Errors
}

// FileRef names one runbook file: the Root it comes from and its path there.
type FileRef struct {
	Root string
	Path string
}

// LoadReport is the outcome of one (re)load of a Library.
type LoadReport struct {
	// Errors has one entry per file that failed; see Load.
	Errors []LoadError
	// Added, Changed and Removed list the runbooks that appeared, were
	// replaced by a new parse, or disappeared since the previous load,
	// sorted by root and path. A file that failed and kept its last good
	// copy is not Changed.
	Added, Changed, Removed []FileRef
	// Runbooks is the number of runbooks loaded.
	Runbooks int
}

// HasChanges reports whether the load added, changed or removed a runbook.
func (r LoadReport) HasChanges() bool {
	return len(r.Added)+len(r.Changed)+len(r.Removed) > 0
}

// Reload is Load that also says which runbooks changed. Files whose bytes
// are unchanged since the previous load are not parsed again: their
// *Runbook stays the same pointer. Calls are serialised.
func (l *Library) Reload() LoadReport {
	l.loadMu.Lock()
	defer l.loadMu.Unlock()
	l.mu.RLock()
	prev := l.idx
	l.mu.RUnlock()

	var rep LoadReport
	var list []loaded
	next := newIndex()
	for _, root := range l.roots {
		rbs, es := loadRoot(root, prev)
		list = append(list, rbs...)
		rep.Errors = append(rep.Errors, es...)
	}
	for _, ld := range list {
		rb := ld.rb
		k := key(rb.Root, rb.Path)
		if next.byKey[k] != nil {
			continue // two roots with the same name
		}
		next.byKey[k] = rb
		if ld.hasSum {
			next.sums[k] = ld.sum
		}
		if next.byRoot[rb.Root] == nil {
			next.byRoot[rb.Root] = map[string]*Runbook{}
		}
		next.byRoot[rb.Root][rb.Path] = rb
		n := strings.ToLower(rb.Name)
		next.byName[n] = append(next.byName[n], rb)
		for _, a := range rb.Meta.Alerts {
			a = strings.ToLower(strings.TrimSpace(a))
			if a != "" && !contains(next.byAlert[a], rb) {
				next.byAlert[a] = append(next.byAlert[a], rb)
			}
		}
		next.all = append(next.all, rb)
	}
	// Titles are computed once per runbook, not once per comparison.
	titles := make(map[*Runbook]string, len(next.all))
	for _, rb := range next.all {
		titles[rb] = strings.ToLower(rb.Title())
	}
	sort.SliceStable(next.all, func(i, j int) bool { return titles[next.all[i]] < titles[next.all[j]] })
	next.search = buildSearchIndex(next.all, titles)

	for k, rb := range next.byKey {
		switch old := prev.byKey[k]; {
		case old == nil:
			rep.Added = append(rep.Added, FileRef{Root: rb.Root, Path: rb.Path})
		case old != rb:
			rep.Changed = append(rep.Changed, FileRef{Root: rb.Root, Path: rb.Path})
		}
	}
	for k, rb := range prev.byKey {
		if next.byKey[k] == nil {
			rep.Removed = append(rep.Removed, FileRef{Root: rb.Root, Path: rb.Path})
		}
	}
	for _, refs := range [][]FileRef{rep.Added, rep.Changed, rep.Removed} {
		sort.Slice(refs, func(i, j int) bool {
			if refs[i].Root != refs[j].Root {
				return refs[i].Root < refs[j].Root
			}
			return refs[i].Path < refs[j].Path
		})
	}
	rep.Runbooks = len(next.all)

	l.mu.Lock()
	l.idx = next
	l.mu.Unlock()
	return rep
}

// loaded is one runbook found by loadRoot, with the checksum of the bytes it
// was parsed from.
type loaded struct {
	rb     *Runbook
	sum    [sha256.Size]byte
	hasSum bool
}

// loadRoot walks one root in lexical order.
func loadRoot(root Root, prev *index) ([]loaded, []LoadError) {
	var out []loaded
	var errs []LoadError
	fail := func(p string, err error) {
		le := LoadError{Root: root.Name, Path: p, Err: err}
		k := key(root.Name, p)
		if old := prev.byKey[k]; old != nil {
			sum, ok := prev.sums[k]
			out = append(out, loaded{rb: old, sum: sum, hasSum: ok})
			le.KeptPrevious = true
		}
		errs = append(errs, le)
	}
	if root.FS == nil {
		return nil, []LoadError{{Root: root.Name, Path: ".", Err: errors.New("no file system")}}
	}
	files := 0
	err := fs.WalkDir(root.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == "." {
				return err
			}
			errs = append(errs, LoadError{Root: root.Name, Path: p, Err: err})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if p != "." && strings.HasPrefix(name, ".") {
				return fs.SkipDir // .git and friends
			}
			return nil
		}
		if !isMarkdown(name) || strings.HasPrefix(name, ".") {
			return nil
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			errs = append(errs, LoadError{Root: root.Name, Path: p, Err: errSymlink})
			return nil
		case !d.Type().IsRegular():
			errs = append(errs, LoadError{Root: root.Name, Path: p, Err: errNotRegular})
			return nil
		}
		files++
		if files > MaxFiles {
			errs = append(errs, LoadError{Root: root.Name, Path: p, Err: fmt.Errorf("more than %d runbook files; the rest are skipped", MaxFiles)})
			return fs.SkipAll
		}
		src, err := readCapped(root.FS, p)
		if err != nil {
			fail(p, err)
			return nil
		}
		k := key(root.Name, p)
		sum := sha256.Sum256(src)
		if old, ok := prev.sums[k]; ok && old == sum && prev.byKey[k] != nil {
			out = append(out, loaded{rb: prev.byKey[k], sum: sum, hasSum: true})
			return nil
		}
		rb, err := Parse(name, src)
		if err != nil {
			fail(p, err)
			return nil
		}
		rb.Root, rb.Path = root.Name, p
		out = append(out, loaded{rb: rb, sum: sum, hasSum: true})
		return nil
	})
	if err != nil {
		// The root itself is unreadable (a folder unmounted or renamed while
		// we reload): keep what it held before rather than emptying it.
		le := LoadError{Root: root.Name, Path: ".", Err: err}
		if old := prev.byRoot[root.Name]; len(old) > 0 && len(out) == 0 {
			paths := make([]string, 0, len(old))
			for p := range old {
				paths = append(paths, p)
			}
			sort.Strings(paths)
			for _, p := range paths {
				out = append(out, loaded{rb: old[p]})
			}
			le.KeptPrevious = true
		}
		errs = append(errs, le)
	}
	return out, errs
}

// readCapped reads a regular file of at most MaxSize bytes. The size is
// checked again while reading, since the file may grow under us.
func readCapped(fsys fs.FS, p string) ([]byte, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errNotRegular
	}
	if st.Size() > MaxSize {
		return nil, &LimitError{What: LimitSize, Got: int(min(st.Size(), 1<<40)), Limit: MaxSize}
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxSize {
		return nil, &LimitError{What: LimitSize, Got: len(b), Limit: MaxSize}
	}
	return b, nil
}

func isMarkdown(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return ext == ".md" || ext == ".markdown"
}

func contains(list []*Runbook, rb *Runbook) bool {
	for _, x := range list {
		if x == rb {
			return true
		}
	}
	return false
}

func (l *Library) index() *index {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.idx
}

// All returns every loaded runbook sorted by title. The slice is the
// caller's; the runbooks are shared and must not be modified.
func (l *Library) All() []*Runbook {
	return append([]*Runbook(nil), l.index().all...)
}

// ByName returns the runbook with this file name (case-insensitive, e.g.
// "checkoutlatencyhigh.md"), from the earliest root that has one, or nil.
func (l *Library) ByName(name string) *Runbook {
	if list := l.index().byName[strings.ToLower(name)]; len(list) > 0 {
		return list[0]
	}
	return nil
}

// ForAlert returns the runbooks for an alert, best first and without
// duplicates:
//
//  1. from the runbook_url annotation: through URLMap (the prefix stripped,
//     the remainder tried as a path inside the mapped root and then its last
//     element, lower-cased, as a file name), then the URL's last path element
//     as a file name in any root;
//  2. the file named after the lower-cased alertname ("checkoutlatencyhigh.md");
//  3. runbooks whose front matter lists the alertname under alerts.
//
// Every lookup goes through the in-memory index of loaded files, and a
// runbook_url with ".." segments, backslashes or an invalid path is ignored,
// so no annotation can reach a file outside the roots.
func (l *Library) ForAlert(labels, annotations map[string]string) []*Runbook {
	idx := l.index()
	var out []*Runbook
	add := func(rbs ...*Runbook) {
		for _, rb := range rbs {
			if rb != nil && !contains(out, rb) {
				out = append(out, rb)
			}
		}
	}
	if u := strings.TrimSpace(annotations["runbook_url"]); u != "" {
		for _, m := range l.URLMap {
			if m.Prefix == "" || !strings.HasPrefix(u, m.Prefix) {
				continue
			}
			rest := u[len(m.Prefix):]
			if !strings.HasSuffix(m.Prefix, "/") {
				rest = strings.TrimPrefix(rest, "/")
			}
			rest, ok := cleanURLPath(rest)
			if !ok {
				continue
			}
			full := withMD(rest)
			base := strings.ToLower(withMD(path.Base(rest)))
			for _, name := range []string{full, strings.ToLower(full)} {
				if m.Root == "" {
					for _, root := range l.roots {
						add(idx.byRoot[root.Name][name])
					}
				} else {
					add(idx.byRoot[m.Root][name])
				}
			}
			for _, rb := range idx.byName[base] {
				if m.Root == "" || rb.Root == m.Root {
					add(rb)
				}
			}
		}
		if pu, err := url.Parse(u); err == nil {
			p := pu.EscapedPath()
			if p == "" {
				p = pu.Opaque
			}
			if rest, ok := cleanURLPath(strings.TrimPrefix(p, "/")); ok {
				add(idx.byName[strings.ToLower(withMD(path.Base(rest)))]...)
			}
		}
	}
	if a := strings.TrimSpace(labels["alertname"]); a != "" {
		if name := strings.ToLower(a) + ".md"; fs.ValidPath(name) && !strings.Contains(name, "/") {
			add(idx.byName[name]...)
		}
		add(idx.byAlert[strings.ToLower(a)]...)
	}
	return out
}

// Resolve follows a relative runbook link (as accepted by LinkAllowed) from
// the runbook from, within from's root. It returns the target and the anchor
// ("" if none), or nil when the link is not a runbook link, leaves the root
// or names a runbook that is not loaded.
func (l *Library) Resolve(from *Runbook, href string) (*Runbook, string) {
	if from == nil || !LinkAllowed(href) || !runbookLink(href) {
		return nil, ""
	}
	p, anchor, _ := strings.Cut(href, "#")
	target := path.Join(path.Dir(from.Path), p)
	if !fs.ValidPath(target) || target == "." {
		return nil, ""
	}
	rb := l.index().byRoot[from.Root][target]
	if rb == nil {
		return nil, ""
	}
	return rb, anchor
}

// cleanURLPath turns the path part of a runbook_url into a relative path
// inside a root: query and fragment dropped, percent-escapes decoded, one
// trailing slash trimmed. It refuses absolute paths, "..", ".", empty
// segments, backslashes and anything else fs.ValidPath rejects.
func cleanURLPath(s string) (string, bool) {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	s, err := url.PathUnescape(s)
	if err != nil {
		return "", false
	}
	s = strings.TrimSuffix(s, "/")
	if s == "" || strings.ContainsAny(s, "\\\x00") || !fs.ValidPath(s) {
		return "", false
	}
	return s, true
}

// withMD appends ".md" unless p already names a markdown file.
func withMD(p string) string {
	if isMarkdown(p) {
		return p
	}
	return p + ".md"
}

// Source is the markdown of a loaded runbook as it is on disk now (or embedded), read
// with the same size cap as loading; for exports that carry the runbooks they used.
func (l *Library) Source(rb *Runbook) ([]byte, error) {
	for _, root := range l.roots {
		if root.Name == rb.Root && root.FS != nil {
			return readCapped(root.FS, rb.Path)
		}
	}
	return nil, fmt.Errorf("runbook %s/%s: its folder is not in the library", rb.Root, rb.Path)
}
