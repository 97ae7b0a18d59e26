package matcher

import (
	"errors"
	"regexp/syntax"
	"strings"
	"testing"
)

func mustParse(t *testing.T, s string) Matchers {
	t.Helper()
	ms, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return ms
}

func TestMatchersMatches(t *testing.T) {
	type check struct {
		labels map[string]string
		want   bool
	}
	tests := []struct {
		name   string
		in     string
		checks []check
	}{
		{"equal", `a="x"`, []check{
			{map[string]string{"a": "x"}, true},
			{map[string]string{"a": "xy"}, false},
			{map[string]string{"a": "X"}, false},
			{map[string]string{"b": "x"}, false},
			{nil, false},
		}},
		{"not equal", `a!="x"`, []check{
			{map[string]string{"a": "x"}, false},
			{map[string]string{"a": "y"}, true},
			{map[string]string{}, true},
		}},
		{"regexp is anchored at both ends", `a=~"x.*"`, []check{
			{map[string]string{"a": "x"}, true},
			{map[string]string{"a": "xyz"}, true},
			{map[string]string{"a": "axyz"}, false},
			{map[string]string{}, false},
		}},
		{"regexp matches the whole value, not a substring", `a=~"x"`, []check{
			{map[string]string{"a": "x"}, true},
			{map[string]string{"a": "xx"}, false},
			{map[string]string{"a": "ax"}, false},
		}},
		{"alternation is grouped inside the anchors", `a=~"x|y"`, []check{
			{map[string]string{"a": "y"}, true},
			{map[string]string{"a": "xy"}, false},
			{map[string]string{"a": "ay"}, false},
			{map[string]string{"a": "xa"}, false},
		}},
		{"not regexp", `a!~"b.*"`, []check{
			{map[string]string{"a": "bar"}, false},
			{map[string]string{"a": "foo"}, true},
			{map[string]string{"a": "abar"}, true},
		}},
		{"case-insensitive flag stays inside the group", `a=~"(?i)x"`, []check{
			{map[string]string{"a": "X"}, true},
			{map[string]string{"a": "xX"}, false},
		}},
		{"dot does not match newline, as in Alertmanager", `a=~".*"`, []check{
			{map[string]string{"a": "x\ny"}, false},
			{map[string]string{"a": ""}, true},
		}},
		{"missing label is the empty value for =", `a=""`, []check{
			{nil, true},
			{map[string]string{"a": ""}, true},
			{map[string]string{"a": "x"}, false},
		}},
		{"missing label fails !=\"\"", `a!=""`, []check{
			{nil, false},
			{map[string]string{"a": "x"}, true},
		}},
		{"missing label passes !~ of a non-empty pattern", `a!~"bar"`, []check{
			{nil, true},
			{map[string]string{"a": "bar"}, false},
		}},
		{"missing label fails !~ of a pattern matching empty", `a!~".*"`, []check{
			{nil, false},
			{map[string]string{"a": "x"}, false},
		}},
		{"missing label passes =~ of a pattern matching empty", `a=~"|x"`, []check{
			{nil, true},
			{map[string]string{"a": "x"}, true},
			{map[string]string{"a": "y"}, false},
		}},
		{"every matcher must match", `{severity="critical", service=~"check.*", alertname!=Watchdog}`, []check{
			{map[string]string{"severity": "critical", "service": "checkout", "alertname": "HighLatency"}, true},
			{map[string]string{"severity": "critical", "service": "checkout", "alertname": "Watchdog"}, false},
			{map[string]string{"severity": "warning", "service": "checkout"}, false},
			{map[string]string{"severity": "critical", "service": "payments"}, false},
		}},
		{"zero matchers match everything", ``, []check{
			{nil, true},
			{map[string]string{"a": "x"}, true},
		}},
		{"quoted name", `"team name"="sre"`, []check{
			{map[string]string{"team name": "sre"}, true},
			{map[string]string{"team": "sre"}, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := mustParse(t, tt.in)
			for _, c := range tt.checks {
				if got := ms.Matches(c.labels); got != c.want {
					t.Errorf("%s.Matches(%v) = %v, want %v", ms, c.labels, got, c.want)
				}
			}
		})
	}
}

func TestHandBuiltMatcher(t *testing.T) {
	tests := []struct {
		name string
		m    Matcher
		v    string
		want bool
	}{
		{"regexp compiles on demand", Matcher{Name: "a", Type: Regexp, Value: "x.*"}, "xy", true},
		{"regexp compiled on demand is anchored", Matcher{Name: "a", Type: Regexp, Value: "x"}, "ax", false},
		{"not regexp compiles on demand", Matcher{Name: "a", Type: NotRegexp, Value: "x.*"}, "y", true},
		{"invalid regexp matches nothing", Matcher{Name: "a", Type: Regexp, Value: "("}, "(", false},
		{"invalid regexp matches nothing with !~ either", Matcher{Name: "a", Type: NotRegexp, Value: "("}, "x", false},
		{"anchor escape matches nothing", Matcher{Name: "a", Type: Regexp, Value: "a)|(b"}, "a", false},
		{"unknown type matches nothing", Matcher{Name: "a", Type: Type(9), Value: "x"}, "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.Matches(tt.v); got != tt.want {
				t.Errorf("%s.Matches(%q) = %v, want %v", &tt.m, tt.v, got, tt.want)
			}
		})
	}
}

func TestNewMatcher(t *testing.T) {
	tests := []struct {
		name    string
		typ     Type
		n, v    string
		wantErr string
		isLarge bool
	}{
		{name: "equal", typ: Equal, n: "a", v: "x"},
		{name: "regexp", typ: Regexp, n: "a", v: "x|y"},
		{name: "empty value", typ: NotEqual, n: "a", v: ""},
		{name: "regexp at the cap", typ: Regexp, n: "a", v: strings.Repeat("x", MaxRegexBytes)},
		{name: "equal value over the regexp cap", typ: Equal, n: "a", v: strings.Repeat("x", MaxRegexBytes+1)},
		{name: "empty name", typ: Equal, n: "", v: "x", wantErr: "label name must not be empty"},
		{name: "unknown type", typ: Type(7), n: "a", v: "x", wantErr: "unknown operator Type(7)"},
		{name: "negative type", typ: Type(-1), n: "a", v: "x", wantErr: "unknown operator Type(-1)"},
		{name: "invalid UTF-8", typ: Equal, n: "a", v: "\xff", wantErr: "label name and value must be valid UTF-8"},
		{name: "bad regexp", typ: NotRegexp, n: "a", v: "x(", wantErr: `invalid regular expression "x(" for label "a": missing closing )`},
		{name: "regexp over the cap", typ: Regexp, n: "a", v: strings.Repeat("x", MaxRegexBytes+1),
			wantErr: `regular expression for label "a" is 1025 bytes, more than the 1024 allowed`, isLarge: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMatcher(tt.typ, tt.n, tt.v)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("NewMatcher: %v", err)
				}
				if m.Name != tt.n || m.Type != tt.typ || m.Value != tt.v {
					t.Fatalf("NewMatcher = %+v", m)
				}
				if (tt.typ == Equal || tt.typ == NotEqual) && m.Matches(tt.v) != (tt.typ == Equal) {
					t.Errorf("%s.Matches(its own value) = %v", m, !(tt.typ == Equal))
				}
				return
			}
			if err == nil {
				t.Fatalf("NewMatcher = %s, want error %q", m, tt.wantErr)
			}
			if err.Error() != tt.wantErr {
				t.Errorf("error %q, want %q", err, tt.wantErr)
			}
			var e *Error
			if !errors.As(err, &e) || e.Matcher != 0 || e.Char != 0 {
				t.Errorf("error %#v, want *Error without a position", err)
			}
			if errors.Is(err, ErrTooLarge) != tt.isLarge {
				t.Errorf("errors.Is(err, ErrTooLarge) = %v, want %v", !tt.isLarge, tt.isLarge)
			}
		})
	}
}

func TestRegexpErrorWrapsSyntaxError(t *testing.T) {
	_, err := Parse(`a=~"x["`)
	var se *syntax.Error
	if !errors.As(err, &se) || se.Code != syntax.ErrMissingBracket {
		t.Fatalf("error %v does not wrap the regexp syntax error", err)
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		name string
		ms   Matchers
		want string
	}{
		{"empty", nil, `{}`},
		{"every operator", Matchers{
			{Name: "a", Type: Equal, Value: "1"},
			{Name: "b", Type: NotEqual, Value: "2"},
			{Name: "c", Type: Regexp, Value: "3.*"},
			{Name: "d", Type: NotRegexp, Value: "4|5"},
		}, `{a="1",b!="2",c=~"3.*",d!~"4|5"}`},
		{"value escapes only quote, backslash and newline", Matchers{{Name: "a", Type: Equal, Value: "q\"b\\n\nt\t\x01"}}, "{a=\"q\\\"b\\\\n\\nt\t\x01\"}"},
		{"name with a space is quoted", Matchers{{Name: "team name", Type: Equal, Value: "sre"}}, `{"team name"="sre"}`},
		{"name with a reserved rune is quoted", Matchers{{Name: "a=b", Type: Equal, Value: ""}}, `{"a=b"=""}`},
		{"unicode name stays bare", Matchers{{Name: "ünïcode.name/1", Type: Equal, Value: "é"}}, `{ünïcode.name/1="é"}`},
		{"invisible rune in a name stays bare", Matchers{{Name: "a\u200bb", Type: Equal, Value: "x"}}, "{a\u200bb=\"x\"}"},
		{"quoted name keeps other runes raw", Matchers{{Name: "a b\u200b\"", Type: Equal, Value: "x"}}, "{\"a b\u200b\\\"\"=\"x\"}"},
		{"empty name is quoted", Matchers{{Name: "", Type: Equal, Value: "x"}}, `{""="x"}`},
		{"unknown type", Matchers{{Name: "a", Type: Type(5), Value: "x"}}, `{aType(5)"x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ms.String(); got != tt.want {
				t.Errorf("String() = %s, want %s", got, tt.want)
			}
			if len(tt.ms) == 1 {
				if got := tt.ms[0].String(); "{"+got+"}" != tt.want {
					t.Errorf("Matcher.String() = %s, want it inside %s", got, tt.want)
				}
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		name string
		e    Error
		want string
	}{
		{"matcher and char", Error{Matcher: 2, Char: 15, Msg: "m"}, "matcher 2 at char 15: m"},
		{"matcher only", Error{Matcher: 2, Msg: "m"}, "matcher 2: m"},
		{"char only", Error{Char: 3, Msg: "m"}, "at char 3: m"},
		{"neither", Error{Msg: "m"}, "m"},
		{"empty message", Error{}, "invalid matchers"},
		{"newlines cannot forge a second line", Error{Msg: "a\nb\rc"}, `a\nb\rc`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("long message is cut on a rune boundary", func(t *testing.T) {
		e := Error{Matcher: 1, Char: 1, Msg: strings.Repeat("é", 400)}
		got := e.Error()
		if len(got) > maxErrorBytes || !strings.HasSuffix(got, "…") || !strings.HasPrefix(got, "matcher 1 at char 1: éé") {
			t.Errorf("Error() = %q (%d bytes)", got, len(got))
		}
		if strings.ContainsRune(got, '\uFFFD') {
			t.Errorf("cut inside a rune: %q", got)
		}
	})
}

func TestTypeString(t *testing.T) {
	for typ, want := range map[Type]string{Equal: "=", NotEqual: "!=", Regexp: "=~", NotRegexp: "!~", Type(4): "Type(4)"} {
		if got := typ.String(); got != want {
			t.Errorf("Type(%d).String() = %q, want %q", int(typ), got, want)
		}
	}
}
