package runbooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/mail"
	"net/url"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
	"go.yaml.in/yaml/v3"
)

// DefaultMaxAge is how long a review stays fresh when CheckOptions.MaxAge
// is zero.
const DefaultMaxAge = 90 * 24 * time.Hour

// Level is how serious a Finding is.
type Level int

// Finding levels. Only errors fail a check.
const (
	LevelWarning Level = iota + 1
	LevelError
)

func (l Level) String() string {
	switch l {
	case LevelWarning:
		return "warning"
	case LevelError:
		return "error"
	}
	return "unknown"
}

// CheckKind says what a Finding is about.
type CheckKind string

// Kinds of finding.
const (
	CheckLoad        CheckKind = "load"         // the file could not be read or parsed
	CheckLimit       CheckKind = "limit"        // the file exceeds a safety cap
	CheckFrontMatter CheckKind = "front-matter" // a front matter field is missing or malformed
	CheckStale       CheckKind = "stale"        // last_reviewed is older than MaxAge, or missing
	CheckLink        CheckKind = "link"         // a link that is broken, leaves the folder or will not open
	CheckImage       CheckKind = "image"        // an image outside the folder, missing, or never shown
	CheckAlert       CheckKind = "alert"        // an alerting rule without a runbook, or the reverse
)

// Finding is one problem Check found.
type Finding struct {
	// File is the slash-separated path inside the checked folder; "" for
	// findings about the folder as a whole or about alert rules.
	File    string
	Line    int // 1-based line in File; 0 when not known
	Level   Level
	Kind    CheckKind
	Message string
}

func (f Finding) String() string {
	loc := f.File
	if loc == "" {
		loc = "."
	}
	if f.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, f.Line)
	}
	return fmt.Sprintf("%s: %s: %s", loc, f.Level, f.Message)
}

// AlertRule is one alerting rule, for checking that it has a runbook.
type AlertRule struct {
	Name string
	// RunbookURL is the rule's runbook_url annotation, "" when it has none.
	RunbookURL string
}

// CheckOptions configures Check. The zero value checks the folder alone.
type CheckOptions struct {
	// Now is the time to judge review dates against. Zero means the wall
	// clock when Check starts.
	Now time.Time
	// MaxAge is how old last_reviewed may be before a runbook is stale
	// (DefaultMaxAge when zero).
	MaxAge time.Duration
	// RuleAlerts, when set, lists the alert names of the alerting rules in
	// use (e.g. from Prometheus /api/v1/rules); every one must find a
	// runbook by file name or front matter alerts.
	RuleAlerts func(ctx context.Context) ([]string, error)
	// Rules is RuleAlerts with each rule's runbook_url annotation, so that
	// rules whose runbook is found through URLMap also count as covered.
	// When both are set, Rules is used.
	Rules func(ctx context.Context) ([]AlertRule, error)
	// URLMap maps runbook_url prefixes into the checked folder, as
	// Library.URLMap does (the Root of each mapping is ignored).
	URLMap []URLMapping
}

// CheckReport is the outcome of Check.
type CheckReport struct {
	Dir    string
	Files  int // markdown files examined
	Alerts int // distinct alert rules checked
	// Findings are sorted by file and line; folder-wide findings come last.
	Findings []Finding
}

// Failed reports whether any finding is an error.
func (r CheckReport) Failed() bool { return r.Count(LevelError) > 0 }

// Count returns the number of findings at level.
func (r CheckReport) Count(level Level) int {
	n := 0
	for _, f := range r.Findings {
		if f.Level == level {
			n++
		}
	}
	return n
}

// Format writes the findings as "file:line: level: message" lines and a
// summary line.
func (r CheckReport) Format(w io.Writer) error {
	var b bytes.Buffer
	for _, f := range r.Findings {
		b.WriteString(f.String())
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%s: %s, %s, %s", r.Dir, plural(r.Files, "runbook file"), plural(r.Count(LevelError), "error"), plural(r.Count(LevelWarning), "warning"))
	if r.Alerts > 0 {
		fmt.Fprintf(&b, ", %s checked", plural(r.Alerts, "alert rule"))
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// KnownSeverities are the severity values a runbook may declare: the
// Alertmanager conventions the cockpit ranks, and SEV1–SEV4.
var KnownSeverities = []string{"critical", "page", "error", "high", "warning", "warn", "info", "low", "none", "sev1", "sev2", "sev3", "sev4"}

// Check lints the runbooks in dir for `opscockpit runbook check`: every
// file the app would refuse (unreadable, bad front matter, over a safety
// cap), front matter fields (title, owner, alerts and services lists,
// last_reviewed not in the future, severity from KnownSeverities,
// escalation contacts), review age, relative links to files or #anchors
// that do not exist or leave the folder, images outside the folder and, with
// RuleAlerts or Rules, alerting rules that no runbook answers. It reads the
// folder the way the app does (through an *os.Root, hidden folders and
// symlinks skipped). Problems with dir itself or the rules source are
// findings too; if ctx ends, the report says so and is partial.
func Check(ctx context.Context, dir string, opts CheckOptions) CheckReport {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	c := &checker{rep: CheckReport{Dir: dir}, now: now, opts: opts}
	defer c.sort()

	root, err := os.OpenRoot(dir)
	if err != nil {
		c.add("", 0, LevelError, CheckLoad, "cannot open the runbook folder: %v", err)
		return c.rep
	}
	defer root.Close()
	c.root, c.fsys = root, root.FS()
	c.lib = NewLibrary(Root{Name: dir, FS: c.fsys, Dir: dir})
	for _, m := range opts.URLMap {
		c.lib.URLMap = append(c.lib.URLMap, URLMapping{Prefix: m.Prefix})
	}
	lr := c.lib.Reload()
	for _, e := range lr.Errors {
		c.loadError(e)
	}
	all := c.lib.All()
	sort.Slice(all, func(i, j int) bool { return all[i].Path < all[j].Path })
	c.rep.Files += len(all)
	for _, rb := range all {
		if err := ctx.Err(); err != nil {
			c.add("", 0, LevelError, CheckLoad, "check interrupted: %v", err)
			return c.rep
		}
		c.file(rb)
	}
	c.alerts(ctx, all)
	return c.rep
}

type checker struct {
	rep  CheckReport
	now  time.Time
	opts CheckOptions
	root *os.Root
	fsys fs.FS
	lib  *Library
}

func (c *checker) add(file string, line int, level Level, kind CheckKind, format string, args ...any) {
	c.rep.Findings = append(c.rep.Findings, Finding{File: file, Line: line, Level: level, Kind: kind, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) sort() {
	f := c.rep.Findings
	sort.SliceStable(f, func(i, j int) bool {
		a, b := f[i], f[j]
		if (a.File == "") != (b.File == "") {
			return b.File == ""
		}
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
}

// loadError reports a file the library refused.
func (c *checker) loadError(e LoadError) {
	file := e.Path
	if file == "." {
		file = ""
	} else {
		c.rep.Files++
	}
	var le *LimitError
	var fe *FrontMatterError
	switch {
	case errors.As(e.Err, &le):
		msg := *le
		msg.Line = 0 // the finding carries the line
		c.add(file, le.Line, LevelError, CheckLimit, "rejected by the safety caps: %v", &msg)
	case errors.As(e.Err, &fe):
		c.add(file, fe.Line, LevelError, CheckFrontMatter, "%s", fe.Msg)
	case errors.Is(e.Err, errSymlink):
		c.add(file, 0, LevelError, CheckLoad, "symbolic link: not loaded (runbooks must be regular files inside the folder)")
	default:
		c.add(file, 0, LevelError, CheckLoad, "not loaded: %v", e.Err)
	}
}

// file checks one loaded runbook against its source.
func (c *checker) file(rb *Runbook) {
	src, err := readCapped(c.fsys, rb.Path)
	if err != nil {
		c.add(rb.Path, 0, LevelError, CheckLoad, "cannot read: %v", err)
		return
	}
	b := normalize(src)
	yml, body, err := splitFrontMatter(b)
	if err != nil {
		return // reported by Load
	}
	c.frontMatter(rb, yml)
	bodyLine := 1 + bytes.Count(b[:len(b)-len(body)], []byte("\n"))
	c.body(rb, body, bodyLine)
}

var (
	alertNameRe   = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	contactKindRe = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]{0,30}$`)
	phoneRe       = regexp.MustCompile(`^\+?[0-9][0-9 ().-]{4,30}[0-9]$`)
)

// frontMatter checks the fields of rb.Meta, taking line numbers from the
// YAML text.
func (c *checker) frontMatter(rb *Runbook, yml []byte) {
	f, m := rb.Path, rb.Meta
	lines := yamlLines(yml)
	if yml == nil {
		// One finding rather than one per missing field.
		c.add(f, 1, LevelError, CheckFrontMatter, "no front matter: add title, owner, alerts, last_reviewed, severity and escalation between --- lines")
		return
	}
	if m.Title == "" {
		c.add(f, lines.key("title", 1), LevelError, CheckFrontMatter, "title is missing")
	}
	if strings.TrimSpace(m.Owner) == "" {
		c.add(f, lines.key("owner", 1), LevelError, CheckFrontMatter, "owner is missing")
	}
	c.list(f, "alerts", m.Alerts, lines, true)
	c.list(f, "services", m.Services, lines, false)

	if lr := m.LastReviewed; !lr.IsZero() {
		today := time.Date(c.now.Year(), c.now.Month(), c.now.Day(), 0, 0, 0, 0, time.UTC)
		if lr.After(today) {
			c.add(f, lines.key("last_reviewed", 1), LevelError, CheckFrontMatter, "last_reviewed %s is in the future", lr.Format(dateLayout))
		} else if Stale(rb, c.now, c.opts.MaxAge) {
			days := int(c.now.Sub(lr).Hours() / 24)
			c.add(f, lines.key("last_reviewed", 1), LevelWarning, CheckStale, "stale: last reviewed %s, %d days ago (limit %d days)", lr.Format(dateLayout), days, int(c.opts.MaxAge.Hours()/24))
		}
	} else {
		c.add(f, lines.key("last_reviewed", 1), LevelWarning, CheckStale, "stale: no last_reviewed date")
	}

	switch sev := strings.ToLower(strings.TrimSpace(m.Severity)); {
	case sev == "":
		c.add(f, lines.key("severity", 1), LevelWarning, CheckFrontMatter, "severity is missing")
	case !knownSeverity(sev):
		c.add(f, lines.key("severity", 1), LevelError, CheckFrontMatter, "severity %q is not one of %s", m.Severity, strings.Join(KnownSeverities, ", "))
	}

	if len(m.Escalation) == 0 {
		c.add(f, lines.key("escalation", 1), LevelWarning, CheckFrontMatter, "no escalation contacts")
	}
	for i, ct := range m.Escalation {
		line := lines.item("escalation", i)
		if strings.TrimSpace(ct.Name) == "" {
			c.add(f, line, LevelError, CheckFrontMatter, "escalation contact %d has no name", i+1)
		}
		switch v := strings.TrimSpace(ct.Contact); {
		case v == "":
			c.add(f, line, LevelError, CheckFrontMatter, "escalation contact %d (%s) has no contact", i+1, ct.Name)
		case !contactWellFormed(v):
			c.add(f, line, LevelError, CheckFrontMatter, "escalation contact %d (%s): %q is not a phone number, e-mail address, URL, #channel, @handle or \"kind: value\"", i+1, ct.Name, ct.Contact)
		}
	}
}

// list checks an alerts or services list: no blank or duplicate entries,
// and alert names Prometheus would accept.
func (c *checker) list(file, key string, items []string, lines yamlLineIndex, alerts bool) {
	seen := map[string]bool{}
	for i, s := range items {
		line := lines.item(key, i)
		v := strings.TrimSpace(s)
		switch {
		case v == "":
			c.add(file, line, LevelError, CheckFrontMatter, "%s entry %d is blank", key, i+1)
		case v != s || strings.ContainsAny(v, " \t\n"):
			c.add(file, line, LevelError, CheckFrontMatter, "%s entry %q holds white space", key, s)
		case alerts && !alertNameRe.MatchString(v):
			c.add(file, line, LevelWarning, CheckFrontMatter, "alerts entry %q is not a valid Prometheus alert name", s)
		case seen[strings.ToLower(v)]:
			c.add(file, line, LevelWarning, CheckFrontMatter, "%s entry %q is listed twice", key, s)
		}
		seen[strings.ToLower(v)] = true
	}
}

func knownSeverity(s string) bool {
	for _, k := range KnownSeverities {
		if s == k {
			return true
		}
	}
	return false
}

// contactWellFormed accepts the ways runbooks write a contact: a URL, an
// e-mail address, a phone number, "#channel", "@handle", or "kind: value"
// ("pager: checkout-primary", "phone: +44 20 7946 0000").
func contactWellFormed(s string) bool {
	if strings.ContainsAny(s, "\n\r\t") {
		return false
	}
	if u, err := url.Parse(s); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return u.Host != ""
	}
	if (s[0] == '#' || s[0] == '@') && len(s) > 1 && !strings.ContainsAny(s, " ") {
		return true
	}
	if phoneRe.MatchString(s) || isEmail(s) {
		return true
	}
	kind, val, ok := strings.Cut(s, ":")
	val = strings.TrimSpace(val)
	if !ok || !contactKindRe.MatchString(kind) || val == "" {
		return false
	}
	switch strings.ToLower(kind) {
	case "mailto", "email", "e-mail", "mail":
		return isEmail(val)
	case "tel", "phone", "sms":
		return phoneRe.MatchString(val)
	}
	return true
}

func isEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// yamlLineIndex finds the file lines of front matter keys and list items.
type yamlLineIndex map[string]*yaml.Node

// yamlLines maps each top-level key of the front matter to its value node.
// The text is prefixed with a newline, as decodeMeta does, so node lines are
// lines of the file.
func yamlLines(yml []byte) yamlLineIndex {
	idx := yamlLineIndex{}
	var doc yaml.Node
	if err := yaml.Unmarshal(append([]byte("\n"), yml...), &doc); err != nil || len(doc.Content) == 0 {
		return idx
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return idx
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		idx[m.Content[i].Value] = m.Content[i+1]
		idx["\x00"+m.Content[i].Value] = m.Content[i]
	}
	return idx
}

// key returns the line of a top-level key, or def when it is absent.
func (x yamlLineIndex) key(k string, def int) int {
	if n := x["\x00"+k]; n != nil {
		return n.Line
	}
	return def
}

// item returns the line of the i-th item of a list value, else the key's.
func (x yamlLineIndex) item(k string, i int) int {
	if n := x[k]; n != nil && n.Kind == yaml.SequenceNode && i < len(n.Content) {
		return n.Content[i].Line
	}
	return x.key(k, 1)
}

// body checks the links and images of a runbook. bodyLine is the file line
// the body starts on.
func (c *checker) body(rb *Runbook, body []byte, bodyLine int) {
	starts := []int{0} // offsets of line starts in body
	for i, ch := range body {
		if ch == '\n' {
			starts = append(starts, i+1)
		}
	}
	lineOf := func(n ast.Node) int {
		off := n.Pos()
		for p := n; off < 0 && p != nil; p = p.Parent() {
			if p.Type() == ast.TypeBlock && p.Lines().Len() > 0 {
				off = p.Lines().At(0).Start
			}
		}
		if off < 0 {
			return 0
		}
		return bodyLine + sort.SearchInts(starts, off+1) - 1
	}
	doc := mdParser.Parse(text.NewReader(body))
	walk(doc, func(n ast.Node) {
		switch n := n.(type) {
		case *ast.Link:
			c.link(rb, unescapeText(n.Destination), lineOf(n))
		case *ast.Image:
			c.image(rb, unescapeText(n.Destination), lineOf(n))
		}
	})
}

// walk visits every node below root in document order without recursion,
// so deeply nested inlines cannot exhaust the stack.
func walk(root ast.Node, visit func(ast.Node)) {
	n := root.FirstChild()
	for n != nil {
		visit(n)
		if c := n.FirstChild(); c != nil {
			n = c
			continue
		}
		for n != nil && n != root && n.NextSibling() == nil {
			n = n.Parent()
		}
		if n == nil || n == root {
			return
		}
		n = n.NextSibling()
	}
}

// hasScheme reports whether href starts with a URL scheme ("https:").
func hasScheme(href string) (string, bool) {
	i := strings.IndexByte(href, ':')
	if i <= 0 {
		return "", false
	}
	s := href[:i]
	for k, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || k > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return "", false
		}
	}
	return strings.ToLower(s), true
}

// Why a relative reference cannot be followed.
var (
	errAbsolute = errors.New("is an absolute path; use a path relative to the runbook")
	errOutside  = errors.New("leads outside the runbook folder")
	errEscape   = errors.New("has a bad %-escape")
)

// target resolves a relative reference from rb to a path inside the folder
// ("" for a bare "#anchor") and the decoded anchor.
func (c *checker) target(rb *Runbook, ref string) (p, anchor string, err error) {
	p, anchor, _ = strings.Cut(ref, "#")
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if a, err := url.PathUnescape(anchor); err == nil {
		anchor = a
	}
	up, err := url.PathUnescape(p)
	if err != nil {
		return "", "", errEscape
	}
	if strings.HasPrefix(up, "/") || strings.Contains(up, "\\") {
		return "", "", errAbsolute
	}
	if up == "" {
		return "", anchor, nil
	}
	t := path.Join(path.Dir(rb.Path), up)
	if t == ".." || strings.HasPrefix(t, "../") || !fs.ValidPath(t) {
		return "", "", errOutside
	}
	return t, anchor, nil
}

// stat looks p up inside the folder; outside is true when p is a symbolic
// link that leads out of it.
func (c *checker) stat(p string) (fi fs.FileInfo, outside bool, err error) {
	fi, err = fs.Stat(c.fsys, p)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return fi, false, err
	}
	if li, lerr := c.root.Lstat(p); lerr == nil && li.Mode()&fs.ModeSymlink != 0 {
		return nil, true, err
	}
	return nil, false, err
}

func (c *checker) link(rb *Runbook, href string, line int) {
	f := rb.Path
	switch scheme, ok := hasScheme(href); {
	case href == "":
		c.add(f, line, LevelWarning, CheckLink, "empty link target")
		return
	case ok:
		if !LinkAllowed(href) {
			c.add(f, line, LevelWarning, CheckLink, "link %q is shown as text: only http, https and mailto links open (not %s:)", href, scheme)
		}
		return
	case strings.HasPrefix(href, "//"):
		c.add(f, line, LevelWarning, CheckLink, "link %q is shown as text: write the scheme (https://)", href)
		return
	}
	p, anchor, err := c.target(rb, href)
	if err != nil {
		c.add(f, line, LevelError, CheckLink, "link %q %v", href, err)
		return
	}
	target := rb
	if p != "" {
		fi, outside, err := c.stat(p)
		switch {
		case outside:
			c.add(f, line, LevelError, CheckLink, "link %q leads outside the runbook folder (symbolic link)", href)
			return
		case errors.Is(err, fs.ErrNotExist):
			c.add(f, line, LevelError, CheckLink, "broken link %q: %s does not exist", href, p)
			return
		case err != nil:
			c.add(f, line, LevelError, CheckLink, "link %q: %v", href, err)
			return
		}
		if !fi.Mode().IsRegular() || !isMarkdown(p) {
			return // a folder, script or document: it exists, which is all we can say
		}
		if !LinkAllowed(href) {
			c.add(f, line, LevelWarning, CheckLink, "link %q is shown as text: runbook links must be plain relative paths without spaces or %%-escapes", href)
		}
		target = c.lib.index().byRoot[rb.Root][p]
		if target == nil {
			return // the target failed to load, which is reported on its own
		}
	}
	if anchor == "" {
		if strings.HasSuffix(href, "#") {
			c.add(f, line, LevelWarning, CheckLink, "link %q has an empty #anchor", href)
		}
		return
	}
	for _, h := range target.Doc.Outline {
		if strings.EqualFold(h.Anchor, anchor) {
			return
		}
	}
	where := "this runbook"
	if target != rb {
		where = target.Path
	}
	c.add(f, line, LevelError, CheckLink, "broken link %q: %s has no heading with anchor #%s", href, where, anchor)
}

func (c *checker) image(rb *Runbook, src string, line int) {
	f := rb.Path
	switch scheme, ok := hasScheme(src); {
	case src == "":
		c.add(f, line, LevelWarning, CheckImage, "image without a source")
		return
	case ok && (scheme == "http" || scheme == "https"):
		return // never fetched by the parser; a UI may fetch it off-thread
	case ok && scheme == "file":
		c.add(f, line, LevelError, CheckImage, "image %q is outside the runbook folder", src)
		return
	case ok:
		c.add(f, line, LevelWarning, CheckImage, "image %q is never shown (%s: is not supported)", src, scheme)
		return
	case strings.HasPrefix(src, "//"):
		c.add(f, line, LevelWarning, CheckImage, "image %q is never shown: write the scheme (https://)", src)
		return
	}
	p, _, err := c.target(rb, src)
	switch {
	case errors.Is(err, errOutside) || errors.Is(err, errAbsolute):
		c.add(f, line, LevelError, CheckImage, "image %q is outside the runbook folder", src)
		return
	case err != nil:
		c.add(f, line, LevelError, CheckImage, "image %q %v", src, err)
		return
	case p == "":
		return
	}
	switch _, outside, err := c.stat(p); {
	case outside:
		c.add(f, line, LevelError, CheckImage, "image %q is outside the runbook folder (symbolic link)", src)
	case errors.Is(err, fs.ErrNotExist):
		c.add(f, line, LevelWarning, CheckImage, "image %q not found", src)
	case err != nil:
		c.add(f, line, LevelWarning, CheckImage, "image %q: %v", src, err)
	}
}

// alerts checks that every alerting rule finds a runbook, and that every
// front matter alerts entry names a rule.
func (c *checker) alerts(ctx context.Context, all []*Runbook) {
	var rules []AlertRule
	switch {
	case c.opts.Rules != nil:
		r, err := c.opts.Rules(ctx)
		if err != nil {
			c.add("", 0, LevelError, CheckAlert, "cannot list alerting rules: %v", err)
			return
		}
		rules = r
	case c.opts.RuleAlerts != nil:
		names, err := c.opts.RuleAlerts(ctx)
		if err != nil {
			c.add("", 0, LevelError, CheckAlert, "cannot list alerting rules: %v", err)
			return
		}
		for _, n := range names {
			rules = append(rules, AlertRule{Name: n})
		}
	default:
		return
	}
	known := map[string]bool{}
	seen := map[string]bool{}
	for _, r := range rules {
		name := strings.TrimSpace(r.Name)
		if name == "" {
			continue
		}
		known[strings.ToLower(name)] = true
		k := name + "\x00" + r.RunbookURL
		if seen[k] {
			continue // the same alert in several groups
		}
		seen[k] = true
		var ann map[string]string
		if r.RunbookURL != "" {
			ann = map[string]string{"runbook_url": r.RunbookURL}
		}
		if len(c.lib.ForAlert(map[string]string{"alertname": name}, ann)) == 0 {
			how := fmt.Sprintf("no %s.md and no front matter alerts entry", strings.ToLower(name))
			if r.RunbookURL != "" {
				how += fmt.Sprintf("; runbook_url %q maps to no runbook here", r.RunbookURL)
			}
			c.add("", 0, LevelError, CheckAlert, "alert %s has no runbook (%s)", name, how)
		}
	}
	c.rep.Alerts = len(known)
	for _, rb := range all {
		lines := yamlLineIndex(nil)
		for i, a := range rb.Meta.Alerts {
			if a = strings.TrimSpace(a); a == "" || known[strings.ToLower(a)] {
				continue
			}
			if lines == nil {
				lines = c.frontMatterLines(rb)
			}
			c.add(rb.Path, lines.item("alerts", i), LevelWarning, CheckAlert, "alerts lists %s, which no alerting rule defines", a)
		}
	}
}

func (c *checker) frontMatterLines(rb *Runbook) yamlLineIndex {
	src, err := readCapped(c.fsys, rb.Path)
	if err != nil {
		return yamlLineIndex{}
	}
	yml, _, err := splitFrontMatter(normalize(src))
	if err != nil {
		return yamlLineIndex{}
	}
	return yamlLines(yml)
}
