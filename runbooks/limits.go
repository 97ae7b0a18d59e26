package runbooks

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// Safety caps, checked by a linear pre-scan before goldmark runs, so that a
// hostile file is rejected in time proportional to its size and never builds
// a deep or wide tree.
const (
	// MaxSize is the largest runbook file accepted, in bytes.
	MaxSize = 2 << 20
	// MaxLineLength is the longest line accepted, in bytes.
	MaxLineLength = 64 << 10
	// MaxNesting is the deepest nesting of block quotes and lists accepted.
	// The pre-scan over-estimates depth (two columns of indentation count as
	// one level on any line that opens a quote or list item), so genuine
	// documents reach the cap only well past realistic depths.
	MaxNesting = 32
	// MaxTableColumns is the widest table accepted.
	MaxTableColumns = 64
	// MaxFrontMatter is the largest YAML front matter accepted, in bytes.
	MaxFrontMatter = 64 << 10
	// MaxElements bounds the size of the tree goldmark builds: lines, block
	// markers at the start of a line (> - + * 1. #) and inline markup
	// characters ([ ] * _ ~ ` < |). Together with our model, a parse spends
	// 100 to 2,500 bytes per element, so this keeps the densest files we
	// found to about 160 MB of transient heap and 0.2 s (2 MiB of "[" alone
	// would take 750 MB). Runbook prose runs at one element per 12 to 25
	// bytes, so a 2 MiB runbook fits.
	MaxElements = 250000
	// MaxBracketWork bounds a cost in goldmark that is quadratic: resolving a
	// "]" scans the lines of its paragraph, so many brackets in one long run
	// of lines (link reference definitions, shortcut links) take seconds to
	// minutes. The pre-scan sums, for every "]", the lines that follow it in
	// the same run of non-blank lines.
	MaxBracketWork = 50_000_000
	// MaxEmphasisWork bounds another quadratic cost: with openers of one
	// emphasis character and closers of another ("*a_ *a_ …"), each closer
	// scans back over every opener of its paragraph. The pre-scan sums, over
	// runs of non-blank lines, the square of the number of "*", "~" and
	// non-intraword "_" characters.
	MaxEmphasisWork = 50_000_000
)

// What a LimitError is about.
const (
	LimitSize         = "file size"
	LimitLineLength   = "line length"
	LimitNesting      = "nesting depth"
	LimitTableColumns = "table columns"
	LimitFrontMatter  = "front matter size"
	LimitElements     = "markup elements (lines, block markers and [ ] * _ ~ ` < | characters)"
	LimitBracketWork  = "bracket work (closing brackets times lines after them in one paragraph)"
	LimitEmphasisWork = "emphasis work (squared count of * _ ~ per paragraph, summed)"
)

// LimitError reports a runbook that exceeds one of the safety caps. Find it
// with errors.As.
type LimitError struct {
	What  string // one of the Limit… constants
	Line  int    // 1-based line where the cap was exceeded; 0 for the whole file
	Got   int    // the measured value (a lower bound: scanning stops at the cap)
	Limit int
}

func (e *LimitError) Error() string {
	unit := ""
	switch e.What {
	case LimitSize, LimitLineLength, LimitFrontMatter:
		unit = " bytes"
	case LimitNesting:
		unit = " levels"
	}
	msg := fmt.Sprintf("%s %d%s exceeds the limit of %d%s", e.What, e.Got, unit, e.Limit, unit)
	if e.What == LimitNesting { // the scan stops at the cap, so Got is only a lower bound
		msg = fmt.Sprintf("%s exceeds the limit of %d%s", e.What, e.Limit, unit)
	}
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, msg)
	}
	return msg
}

var bom = []byte("\xef\xbb\xbf")

// normalize strips a UTF-8 byte order mark, turns CRLF and lone CR into LF,
// replaces invalid UTF-8 and NUL with U+FFFD. It never modifies src.
func normalize(src []byte) []byte {
	b := bytes.TrimPrefix(src, bom)
	if bytes.IndexByte(b, '\r') >= 0 {
		b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
		b = bytes.ReplaceAll(b, []byte("\r"), []byte("\n"))
	}
	if !utf8.Valid(b) {
		b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	if bytes.IndexByte(b, 0) >= 0 {
		b = bytes.ReplaceAll(b, []byte{0}, []byte("\uFFFD"))
	}
	return b
}

// precheck enforces every cap except MaxSize in one pass over normalised
// text.
//
// Nesting: goldmark can only open containers (quotes, list items) at the
// start of a line, after the markers and indentation that continue the
// containers already open. So the depth on any line is at most the number of
// '>' and list markers in its leading prefix plus half its indentation (each
// list level needs at least two columns), and a line without a marker opens
// nothing. The scan does not try to know about fenced code: marker-like
// prefixes inside code are counted too, which can only over-estimate.
//
// Tables: goldmark takes a table's width from its delimiter row and drops
// surplus cells in body rows, so only lines that could be a delimiter row
// are measured.
//
// Bracket and emphasis work: a paragraph never spans a blank line, so runs
// of non-blank lines bound paragraphs from above, and sums over runs bound
// goldmark's per-paragraph quadratic costs.
func precheck(b []byte) error {
	var (
		line, elements int
		emphasisWork   int
		// the current run of non-blank lines
		runLines, runClosers, runCloserLines, runEmphasis int
	)
	endRun := func() {
		emphasisWork += runEmphasis * runEmphasis
		runLines, runClosers, runCloserLines, runEmphasis = 0, 0, 0, 0
	}
	for len(b) > 0 {
		line++
		n := bytes.IndexByte(b, '\n')
		var l []byte
		if n < 0 {
			l, b = b, nil
		} else {
			l, b = b[:n], b[n+1:]
		}
		if len(l) > MaxLineLength {
			return &LimitError{What: LimitLineLength, Line: line, Got: len(l), Limit: MaxLineLength}
		}
		d, markers := lineDepth(l)
		if d > MaxNesting {
			return &LimitError{What: LimitNesting, Line: line, Got: d, Limit: MaxNesting}
		}
		elements += markers
		if c := delimiterColumns(l); c > MaxTableColumns {
			return &LimitError{What: LimitTableColumns, Line: line, Got: c, Limit: MaxTableColumns}
		}
		blank, closers, emphasis := true, 0, 0
		for i, c := range l {
			if c != ' ' && c != '\t' {
				blank = false
			}
			if !markup[c] {
				continue
			}
			elements++
			switch c {
			case ']':
				closers++
			case '*', '~':
				emphasis++
			case '_':
				// "_" between two alphanumerics can neither open nor close.
				if i == 0 || i+1 == len(l) || !alnum(l[i-1]) || !alnum(l[i+1]) {
					emphasis++
				}
			}
		}
		elements++ // the line itself
		if elements > MaxElements {
			return &LimitError{What: LimitElements, Line: line, Got: elements, Limit: MaxElements}
		}
		if blank {
			endRun()
			continue
		}
		runLines++
		runClosers += closers
		runCloserLines += closers * runLines
		if w := runClosers*runLines - runCloserLines; w > MaxBracketWork {
			return &LimitError{What: LimitBracketWork, Line: line, Got: w, Limit: MaxBracketWork}
		}
		runEmphasis += emphasis
		if w := emphasisWork + runEmphasis*runEmphasis; w > MaxEmphasisWork {
			return &LimitError{What: LimitEmphasisWork, Line: line, Got: w, Limit: MaxEmphasisWork}
		}
	}
	return nil
}

// markup marks the bytes counted towards MaxElements.
var markup = func() (m [256]bool) {
	for _, c := range []byte("[]*_~`<|") {
		m[c] = true
	}
	return m
}()

func alnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// lineDepth over-estimates how many quotes and list items are open after the
// container prefix of l, and counts the block markers in that prefix (a
// heading's "#" included). It reads the whole prefix (a marker may follow any
// amount of indentation) but stops once the markers alone pass MaxNesting.
func lineDepth(l []byte) (depth, markers int) {
	cols := 0
	i := 0
scan:
	for i < len(l) && markers <= MaxNesting {
		switch c := l[i]; c {
		case ' ':
			cols++
			i++
		case '\t':
			cols += 4 - cols%4
			i++
		case '>':
			markers++
			i++
		case '-', '*', '+':
			if i+1 < len(l) && l[i+1] != ' ' && l[i+1] != '\t' {
				break scan
			}
			markers++
			i++
		default:
			j := i
			for j < len(l) && j-i < 10 && l[j] >= '0' && l[j] <= '9' {
				j++
			}
			if j == i || j-i > 9 || j >= len(l) || (l[j] != '.' && l[j] != ')') {
				break scan
			}
			if j+1 < len(l) && l[j+1] != ' ' && l[j+1] != '\t' {
				break scan
			}
			markers++
			i = j + 1
		}
	}
	if markers == 0 {
		// A line without markers cannot open a container.
		if i < len(l) && l[i] == '#' {
			return 0, 1
		}
		return 0, 0
	}
	if i < len(l) && l[i] == '#' {
		return markers + cols/2, markers + 1
	}
	return markers + cols/2, markers
}

// delimiterColumns returns the number of cells if l could be a GFM table
// delimiter row ("| --- | :-: |", possibly after quote markers), else 0.
func delimiterColumns(l []byte) int {
	i := 0
	for i < len(l) && (l[i] == ' ' || l[i] == '\t' || l[i] == '>') {
		i++
	}
	l = l[i:]
	pipes := 0
	for _, c := range l {
		switch c {
		case '|':
			pipes++
		case '-', ':', ' ', '\t':
		default:
			return 0
		}
	}
	if pipes == 0 {
		return 0 // goldmark needs a pipe somewhere in the header or delimiter; one column is harmless
	}
	// Count cells the way goldmark does: split on '|', drop blank first and
	// last, and every remaining cell must hold a '-'.
	cells, hasDash, blank := 0, false, true
	first := true
	for k := 0; k <= len(l); k++ {
		if k == len(l) || l[k] == '|' {
			last := k == len(l)
			switch {
			case blank && (first || last):
				// leading or trailing pipe
			case !hasDash:
				return 0
			default:
				cells++
			}
			first, hasDash, blank = false, false, true
			continue
		}
		if l[k] == '-' {
			hasDash = true
		}
		if l[k] != ' ' && l[k] != '\t' {
			blank = false
		}
	}
	return cells
}
