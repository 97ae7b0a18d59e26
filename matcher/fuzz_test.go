package matcher

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks invariants of Parse on arbitrary input: it never panics;
// it returns matchers or an *Error, never both or neither; errors are short,
// one line and point inside the input; results respect the caps; the
// canonical String parses back to equal matchers that match the same label
// sets; = and != (and =~ and !~) are complements; and a regex matches exactly
// when it matches the whole value, checked with an independently compiled
// unanchored regex.
func FuzzParse(f *testing.F) {
	for _, seed := range []struct{ in, value string }{
		// What operators type and what Alertmanager and amtool print.
		{`{severity="critical", service=~"check.*"}`, "checkout"},
		{`alertname!=Watchdog`, "Watchdog"},
		{`"team name"="sre"`, "sre"},
		{`{alertname="HighLatency",instance=~"10\\.0\\.0\\.[0-9]+:9100",job!~"node|blackbox"}`, "10.0.0.12:9100"},
		{`severity=~"warning|critical", team!~"^$",`, "warning"},
		{`{ünïcode="värde", "k8s.io/app"!="web"}`, "värde"},
		// Edges.
		{``, ""},
		{`{}`, ""},
		{`a=""`, ""},
		{`a!~".*"`, "x\ny"},
		{`a=~"(?i)x|y"`, "X"},
		{`a=~"a|ab"`, "ab"},
		{`a=~"\\bx\\b"`, "x"},
		{`a=~"(?m)^x$"`, "x\n"},
		{`a="say \"hi\"\\\n\t\u00e9\x41"`, "say"},
		{`a="b", service~"x"`, ""},
		{`a=~"x)|(y"`, "x"},
		{`{a=b`, ""},
		{"a=\xff", ""},
		{`a="\xff"`, ""},
		{`"` + strings.Repeat("x", 300) + `"~`, ""},
		{`a=~"` + strings.Repeat("(", 200) + `"`, ""},
		{strings.Repeat("a=b,", MaxMatchers+1), "b"},
	} {
		f.Add(seed.in, seed.value)
	}
	f.Fuzz(func(t *testing.T, in, value string) {
		ms, err := Parse(in)
		if (ms == nil) == (err == nil) {
			t.Fatalf("Parse(%q) = %v, %v: want exactly one of matchers and error", in, ms, err)
		}
		if err != nil {
			checkError(t, in, err)
			_, again := Parse(in)
			if again == nil || again.Error() != err.Error() {
				t.Fatalf("second Parse(%q) error %v, first %v", in, again, err)
			}
			return
		}

		if len(ms) > MaxMatchers {
			t.Fatalf("%d matchers, more than %d", len(ms), MaxMatchers)
		}
		labelSets := []map[string]string{nil, {}, {}, {}}
		for _, m := range ms {
			checkMatcher(t, m, value)
			labelSets[1][m.Name] = m.Value
			labelSets[2][m.Name] = value
		}
		labelSets[3][""] = value

		canon := ms.String()
		back, err := Parse(canon)
		if len(canon) > MaxInputBytes {
			// Quoting bare values can grow the text past the cap; then the
			// only acceptable answer is the size error.
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("canonical %d bytes: Parse error %v, want ErrTooLarge", len(canon), err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Parse(%q) of the canonical form of %q: %v", canon, in, err)
		}
		if len(back) != len(ms) {
			t.Fatalf("round trip of %q via %q: %d matchers, want %d", in, canon, len(back), len(ms))
		}
		for i := range ms {
			a, b := ms[i], back[i]
			if a.Name != b.Name || a.Type != b.Type || a.Value != b.Value {
				t.Fatalf("round trip of %q via %q: matcher %d is %s, want %s", in, canon, i+1, b, a)
			}
		}
		if s := back.String(); s != canon {
			t.Fatalf("canonical form is not stable: %q then %q", canon, s)
		}
		for _, ls := range labelSets {
			if got, want := back.Matches(ls), ms.Matches(ls); got != want {
				t.Fatalf("%s.Matches(%q) = %v after the round trip, %v before", canon, ls, got, want)
			}
		}
	})
}

// checkError asserts what every Parse error must be.
func checkError(t *testing.T, in string, err error) {
	t.Helper()
	msg := err.Error()
	if msg == "" || len(msg) > maxErrorBytes || !utf8.ValidString(msg) || strings.ContainsAny(msg, "\r\n") {
		t.Fatalf("Parse(%q): bad error message %q (%d bytes)", in, msg, len(msg))
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Parse(%q): error %T is not *Error", in, err)
	}
	if e.Char < 0 || e.Char > utf8.RuneCountInString(in)+1 {
		t.Fatalf("Parse(%q): error at char %d, outside the input", in, e.Char)
	}
	if e.Matcher < 0 || e.Matcher > MaxMatchers+1 {
		t.Fatalf("Parse(%q): error in matcher %d", in, e.Matcher)
	}
	if len(in) <= MaxInputBytes && utf8.ValidString(in) && e.Char == 0 {
		t.Fatalf("Parse(%q): error %q has no position", in, msg)
	}
}

// checkMatcher asserts the invariants of one parsed matcher against value.
func checkMatcher(t *testing.T, m *Matcher, value string) {
	t.Helper()
	if m.Name == "" || !utf8.ValidString(m.Name) || !utf8.ValidString(m.Value) {
		t.Fatalf("matcher %s: empty name or invalid UTF-8", m)
	}
	var complement Type
	switch m.Type {
	case Equal:
		complement = NotEqual
		if !m.Matches(m.Value) {
			t.Fatalf("%s does not match its own value", m)
		}
	case NotEqual:
		complement = Equal
	case Regexp, NotRegexp:
		complement = Regexp + NotRegexp - m.Type
		if m.re == nil || len(m.Value) > MaxRegexBytes {
			t.Fatalf("%s: regex not compiled, or %d bytes", m, len(m.Value))
		}
		// Anchoring, checked without the ^(?:…)$ wrapping: leftmost-longest
		// finds a match from 0 to the end whenever there is one.
		re := regexp.MustCompile(m.Value)
		re.Longest()
		for _, v := range []string{value, m.Value, ""} {
			loc := re.FindStringIndex(v)
			whole := loc != nil && loc[0] == 0 && loc[1] == len(v)
			if got := m.Matches(v); got != (whole == (m.Type == Regexp)) {
				t.Fatalf("%s.Matches(%q) = %v, but the whole-value match is %v", m, v, got, whole)
			}
		}
	default:
		t.Fatalf("matcher %s: unknown type", m)
	}
	c, err := NewMatcher(complement, m.Name, m.Value)
	if err != nil {
		t.Fatalf("NewMatcher for the complement of %s: %v", m, err)
	}
	for _, v := range []string{value, m.Value, ""} {
		if m.Matches(v) == c.Matches(v) {
			t.Fatalf("%s and %s agree on %q", m, c, v)
		}
	}
}
