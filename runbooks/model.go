// Package runbooks turns markdown runbooks into a toolkit-free document model
// and finds the runbook that belongs to an alert.
//
// Runbook files are untrusted input: anyone who can write to a runbook folder
// can put anything in it. Parse therefore applies size, line-length, nesting
// and table-width caps before goldmark sees the text, never interprets raw
// HTML (it becomes literal text), keeps only links that LinkAllowed accepts
// and never fetches images (their alt text is kept as text). The model holds
// plain values only; a ui package turns it into widgets.
package runbooks

import (
	"path"
	"strings"
	"time"
)

// Runbook is one parsed runbook file. A Runbook is immutable once returned:
// callers share it between goroutines and must not modify it.
type Runbook struct {
	// Name is the file name, e.g. "checkoutlatencyhigh.md".
	Name string
	// Root is the name of the Root the file was loaded from ("" from Parse).
	Root string
	// Path is the slash-separated path inside Root (equal to Name from Parse).
	Path string
	Meta Meta
	Doc  Document
}

// Title returns the front matter title, else the text of the first level-1
// heading, else the file name without its extension.
func (r *Runbook) Title() string {
	if t := strings.TrimSpace(r.Meta.Title); t != "" {
		return t
	}
	for _, h := range r.Doc.Outline {
		if h.Level == 1 && h.Text != "" {
			return h.Text
		}
	}
	return strings.TrimSuffix(r.Name, path.Ext(r.Name))
}

// Meta is the YAML front matter of a runbook. Every field is optional.
type Meta struct {
	Title    string
	Alerts   []string // alert names this runbook answers
	Services []string
	Owner    string
	// LastReviewed is the last_reviewed date (YYYY-MM-DD, midnight UTC);
	// zero when the front matter does not say.
	LastReviewed time.Time
	Severity     string
	Escalation   []Contact
}

// Contact is one escalation contact from the front matter.
type Contact struct {
	Name    string `yaml:"name"`
	Role    string `yaml:"role"`
	Contact string `yaml:"contact"` // phone, pager handle, chat channel or e-mail, as written
}

// Document is the body of a runbook as a tree of blocks, plus two flat
// indexes (outline and steps) that a UI needs without walking the tree.
type Document struct {
	Blocks []Block
	// Outline lists every heading in document order, nested ones included.
	Outline []Heading
	// Steps lists every task-list item ("- [ ] …") in document order.
	Steps []Step
}

// Heading is one entry of a document outline.
type Heading struct {
	Level  int
	Text   string
	Anchor string // GitHub-style slug, unique within the document ("rollback", "rollback-1")
	// Block is the index in Document.Blocks of the top-level block that holds
	// the heading (the heading itself unless it sits in a list or quote).
	Block int
}

// Step is a task-list item: a checkbox whose ticks a UI records.
type Step struct {
	// ID is stable across reloads as long as the step text, the heading above
	// it and the number of identical steps before it under that heading stay
	// the same, so stored ticks survive edits elsewhere in the file.
	ID      string
	Text    string
	Heading string // text of the nearest heading above the step, "" if none
	Checked bool   // as written in the file ("- [x]")
}

// BlockKind says which fields of a Block are meaningful.
type BlockKind int

// Block kinds.
const (
	KindHeading   BlockKind = iota + 1 // Level, Inlines
	KindParagraph                      // Inlines (raw HTML blocks become a paragraph of literal text)
	KindList                           // Ordered, Start, Tight, Items
	KindQuote                          // Children
	KindCode                           // Lang, Code
	KindTable                          // Header, Rows, Align
	KindRule                           // nothing
)

var kindNames = [...]string{"", "heading", "paragraph", "list", "quote", "code", "table", "rule"}

func (k BlockKind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Block is one block of a document; Kind says which fields are set.
type Block struct {
	Kind     BlockKind
	Level    int      // heading level 1–6
	Inlines  []Inline // heading and paragraph text
	Ordered  bool     // list
	Start    int      // first number of an ordered list
	Tight    bool     // list written without blank lines between items
	Items    []ListItem
	Children []Block // quote contents
	Lang     string  // code: first word of the fence info string, lower-cased ("promql", "bash", "")
	Code     string  // code: the text, always ending in a newline unless empty
	Header   []Cell  // table
	Rows     [][]Cell
	Align    []Align // one per column; every row has exactly len(Align) cells
}

// ListItem is one item of a list.
type ListItem struct {
	Task    bool // a task-list item ("- [ ] …")
	Checked bool
	StepID  string // the Step.ID of a task item, "" otherwise
	Blocks  []Block
}

// Cell is one table cell.
type Cell struct {
	Inlines []Inline
}

// Align is a table column alignment.
type Align int

// Table column alignments.
const (
	AlignNone Align = iota
	AlignLeft
	AlignCenter
	AlignRight
)

// Inline is a run of text with one style and at most one link. Adjacent runs
// never share both style and link (they are merged). A soft line break is a
// space; a hard line break is "\n".
type Inline struct {
	Text  string
	Style Style
	// Link is the target when the text is a link that LinkAllowed accepts;
	// otherwise it is "" and the text is shown as plain text.
	Link string
}

// Style is a bit set of text styles.
type Style uint8

// Text styles.
const (
	Bold Style = 1 << iota
	Italic
	Code
	Strike
)

// Stale reports whether r has not been reviewed within maxAge of now. A runbook
// without a last_reviewed date is stale.
func Stale(r *Runbook, now time.Time, maxAge time.Duration) bool {
	if r == nil {
		return false
	}
	if r.Meta.LastReviewed.IsZero() {
		return true
	}
	return now.Sub(r.Meta.LastReviewed) > maxAge
}
