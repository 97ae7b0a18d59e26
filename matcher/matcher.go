// Package matcher parses and evaluates Alertmanager label matchers such as
// {severity="critical", service=~"check.*"}: the cockpit's alert filter box,
// the links from risks to the alerts they cover, and the matchers of the
// silences it creates all speak this syntax, so an operator can paste what
// amtool and the Alertmanager UI accept.
//
// The grammar is the UTF-8 matchers syntax of Alertmanager 0.27 and later:
// optional surrounding braces, comma-separated matchers (a trailing comma is
// fine), label names and values either double-quoted with Go escapes or bare
// when they hold none of the reserved characters (whitespace and {}!=~,\"'`),
// and the operators =, !=, =~ and !~. Regular expressions are RE2 (linear
// time) and fully anchored, as in Prometheus: ^(?:re)$.
//
// This is our own small parser rather than an import of
// github.com/prometheus/alertmanager/matcher/parse. Measured with v0.34.2,
// the code it would link is small (two packages; the rest of what they
// import is already in our build) and go.sum grows by two lines, but it puts
// the alertmanager application module in go.mod, which grows the module
// graph by about 95 modules (116 to 211 when measured), forces an upgrade of
// the fsnotify that Fyne uses, and ties our Go version to theirs (their
// go.mod asks for go 1.26.0), all for a package whose Go API alertmanager
// does not promise to keep (matcher parsing moved there in 0.27). It would
// also need a wrapper nearly as large as this parser: its errors carry
// column pairs ("14:15: ~: invalid input: …") rather than "matcher N at char
// P", it has no size limits, it accepts regexes such as x)|(y that break out
// of the ^(?:…)$ anchoring, and its String does not round-trip an empty
// label name. A differential fuzz run against it (kept out of this module,
// as it needs the import) found no other difference.
//
// Where this parser is stricter than upstream: input must be valid UTF-8, a
// label name must not be empty, a regex must be valid on its own (not only
// once wrapped in ^(?:…)$), and the caps below apply.
package matcher

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Caps on what Parse and NewMatcher accept. The filter box, risk links and
// silences hold matchers typed by people or read from files; these bound the
// work one of them can cost, since each regex is compiled and run per alert.
const (
	MaxInputBytes = 4 << 10 // one Parse input
	MaxMatchers   = 64      // matchers in one input
	MaxRegexBytes = 1 << 10 // the value of one =~ or !~ matcher
)

// maxErrorBytes bounds an error message, so an error shown in the filter box
// or logged cannot carry the whole (possibly hostile) input.
const maxErrorBytes = 512

// ErrTooLarge is wrapped by the errors for input beyond one of the caps.
var ErrTooLarge = errors.New("over a size limit")

// Type is a matcher's operator.
type Type int

// The four operators, in Alertmanager's order.
const (
	Equal     Type = iota // =
	NotEqual              // !=
	Regexp                // =~
	NotRegexp             // !~
)

// String returns the operator as written in a matcher.
func (t Type) String() string {
	switch t {
	case Equal:
		return "="
	case NotEqual:
		return "!="
	case Regexp:
		return "=~"
	case NotRegexp:
		return "!~"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

func (t Type) valid() bool { return t >= Equal && t <= NotRegexp }

// Matcher tests one label's value. Build one with Parse or NewMatcher, which
// compile and check the regex; a hand-built regex Matcher still works, but
// recompiles its regex on every call.
type Matcher struct {
	Name  string
	Type  Type
	Value string

	re *regexp.Regexp
}

// NewMatcher returns a checked matcher, with its regex compiled for =~ and !~.
// Errors are *Error without a position.
func NewMatcher(t Type, name, value string) (*Matcher, error) {
	if !t.valid() {
		return nil, &Error{Msg: fmt.Sprintf("unknown operator %s", t)}
	}
	if name == "" {
		return nil, &Error{Msg: "label name must not be empty"}
	}
	if !utf8.ValidString(name) || !utf8.ValidString(value) {
		return nil, &Error{Msg: "label name and value must be valid UTF-8"}
	}
	m := &Matcher{Name: name, Type: t, Value: value}
	if t == Regexp || t == NotRegexp {
		re, err := compile(name, value)
		if err != nil {
			return nil, err
		}
		m.re = re
	}
	return m, nil
}

// compile checks value as a regex on its own, then compiles it anchored.
// Checking it alone first rejects values such as "a)|(b", which would
// otherwise turn ^(?:a)|(b)$ into an unanchored alternation.
func compile(name, value string) (*regexp.Regexp, *Error) {
	if len(value) > MaxRegexBytes {
		return nil, &Error{
			Msg: fmt.Sprintf("regular expression for label %s is %d bytes, more than the %d allowed",
				snippet(name), len(value), MaxRegexBytes),
			Err: ErrTooLarge,
		}
	}
	bad := func(err error) *Error {
		why := err.Error()
		var se *syntax.Error
		if errors.As(err, &se) {
			// Code only: the Expr part would echo the regex a second time.
			why = se.Code.String()
		}
		return &Error{
			Msg: fmt.Sprintf("invalid regular expression %s for label %s: %s",
				snippet(value), snippet(name), why),
			Err: err,
		}
	}
	if _, err := syntax.Parse(value, syntax.Perl); err != nil {
		return nil, bad(err)
	}
	re, err := regexp.Compile("^(?:" + value + ")$")
	if err != nil {
		return nil, bad(err)
	}
	return re, nil
}

// Matches reports whether a label value v satisfies m. The regex operators
// match the whole value. An invalid regex on a hand-built Matcher matches
// nothing, with either regex operator.
func (m *Matcher) Matches(v string) bool {
	switch m.Type {
	case Equal:
		return v == m.Value
	case NotEqual:
		return v != m.Value
	case Regexp, NotRegexp:
		re := m.re
		if re == nil {
			var err *Error
			if re, err = compile(m.Name, m.Value); err != nil {
				return false
			}
		}
		return re.MatchString(v) == (m.Type == Regexp)
	}
	return false
}

// String returns m in canonical form, the same as Alertmanager prints it:
// the name bare when it can be, the value always quoted. Parse reads it back
// to an equal matcher.
func (m *Matcher) String() string {
	var b strings.Builder
	m.appendTo(&b)
	return b.String()
}

func (m *Matcher) appendTo(b *strings.Builder) {
	if m.Name != "" && !strings.ContainsFunc(m.Name, isReserved) {
		b.WriteString(m.Name)
	} else {
		writeQuoted(b, m.Name)
	}
	b.WriteString(m.Type.String())
	writeQuoted(b, m.Value)
}

// quoteEscaper escapes only what a quoted string cannot hold raw, as
// Alertmanager does (OpenMetrics escaping). strconv.Quote would escape
// every non-printable rune too, up to ten bytes for one, so a canonical form
// could outgrow MaxInputBytes and fail to parse back.
var quoteEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)

func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	quoteEscaper.WriteString(b, s)
	b.WriteByte('"')
}

// Matchers is a conjunction: a label set matches when every matcher does.
type Matchers []*Matcher

// Matches reports whether labels satisfies every matcher in ms; a label that
// is missing counts as the empty value, as in Alertmanager, so foo="" matches
// an alert without foo and foo!~"bar" matches one too. Zero matchers match
// everything.
func (ms Matchers) Matches(labels map[string]string) bool {
	for _, m := range ms {
		if !m.Matches(labels[m.Name]) {
			return false
		}
	}
	return true
}

// String returns ms in canonical form, {a="b",c=~"d"}, the same as
// Alertmanager prints it; zero matchers give {}. Parse reads it back to equal
// matchers, unless quoting bare values took it past MaxInputBytes.
func (ms Matchers) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		m.appendTo(&b)
	}
	b.WriteByte('}')
	return b.String()
}

// Error is a problem with matchers: which matcher, where in the input, and
// what was expected there.
type Error struct {
	// Matcher is the 1-based index of the matcher at fault, 0 when the
	// problem is not inside one.
	Matcher int
	// Char is the 1-based position in the input, counted in characters
	// (runes), 0 when the problem is not at one place.
	Char int
	// Msg says what is wrong and, where it helps, what was expected.
	Msg string
	// Err is the cause, when there is one: ErrTooLarge or a regexp error.
	Err error
}

// Error formats e as "matcher N at char P: message", leaving out the parts
// that are unknown, on one line and at most 512 bytes.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Matcher > 0 && e.Char > 0:
		fmt.Fprintf(&b, "matcher %d at char %d: ", e.Matcher, e.Char)
	case e.Matcher > 0:
		fmt.Fprintf(&b, "matcher %d: ", e.Matcher)
	case e.Char > 0:
		fmt.Fprintf(&b, "at char %d: ", e.Char)
	}
	msg := e.Msg
	if msg == "" {
		msg = "invalid matchers"
	}
	b.WriteString(strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(msg))
	return truncate(b.String(), maxErrorBytes)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// snippet quotes s for an error message, shortened so that a message holds
// at most a few of them well inside maxErrorBytes.
func snippet(s string) string {
	const max = 48
	q := strconv.Quote(s)
	if len(q) <= max {
		return q
	}
	prev := `"`
	for i := range s {
		q := strconv.Quote(s[:i])
		if len(q) > max-len(`…"`) {
			break
		}
		prev = q
	}
	return prev[:len(prev)-1] + `…"`
}

// isReserved reports the runes that end a bare name or value: the same set
// as Alertmanager's UTF-8 matcher lexer.
func isReserved(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune("{}!=~,\\\"'`", r)
}
