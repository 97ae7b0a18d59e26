package matcher

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// m is shorthand for an expected matcher.
type m struct {
	name string
	typ  Type
	val  string
}

func checkMatchers(t *testing.T, got Matchers, want []m) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d matchers %s, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Name != w.name || g.Type != w.typ || g.Value != w.val {
			t.Errorf("matcher %d = %s (%q %v %q), want %q %v %q", i+1, g, g.Name, g.Type, g.Value, w.name, w.typ, w.val)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  []m
		canon string // the String of the result
	}{
		// Operators.
		{"equal", `a="x"`, []m{{"a", Equal, "x"}}, `{a="x"}`},
		{"not equal", `a!="x"`, []m{{"a", NotEqual, "x"}}, `{a!="x"}`},
		{"regexp", `a=~"x.*"`, []m{{"a", Regexp, "x.*"}}, `{a=~"x.*"}`},
		{"not regexp", `a!~"x.*"`, []m{{"a", NotRegexp, "x.*"}}, `{a!~"x.*"}`},
		{"all four", `{a="1",b!="2",c=~"3",d!~"4"}`,
			[]m{{"a", Equal, "1"}, {"b", NotEqual, "2"}, {"c", Regexp, "3"}, {"d", NotRegexp, "4"}},
			`{a="1",b!="2",c=~"3",d!~"4"}`},

		// Braces, commas, emptiness.
		{"empty input", ``, nil, `{}`},
		{"only whitespace", " \t\n ", nil, `{}`},
		{"empty braces", `{}`, nil, `{}`},
		{"empty braces with spaces", ` { } `, nil, `{}`},
		{"braces", `{severity="critical", service=~"check.*"}`,
			[]m{{"severity", Equal, "critical"}, {"service", Regexp, "check.*"}},
			`{severity="critical",service=~"check.*"}`},
		{"no braces, several matchers", `a="1",b="2"`, []m{{"a", Equal, "1"}, {"b", Equal, "2"}}, `{a="1",b="2"}`},
		{"trailing comma", `a="1",`, []m{{"a", Equal, "1"}}, `{a="1"}`},
		{"trailing comma in braces", `{a="1", }`, []m{{"a", Equal, "1"}}, `{a="1"}`},

		// Bare names and values.
		{"bare value", `severity=critical`, []m{{"severity", Equal, "critical"}}, `{severity="critical"}`},
		{"bare not-equal value", `alertname!=Watchdog`, []m{{"alertname", NotEqual, "Watchdog"}}, `{alertname!="Watchdog"}`},
		{"bare regexp value", `service=~check.*`, []m{{"service", Regexp, "check.*"}}, `{service=~"check.*"}`},
		{"bare regexp with alternation and parens", `a=~(x|y)+`, []m{{"a", Regexp, "(x|y)+"}}, `{a=~"(x|y)+"}`},
		{"bare name with dots and slashes", `k8s.io/app=web`, []m{{"k8s.io/app", Equal, "web"}}, `{k8s.io/app="web"}`},
		{"bare unicode", `ünïcode=värde`, []m{{"ünïcode", Equal, "värde"}}, `{ünïcode="värde"}`},
		{"bare name starting with a digit", `1a=b`, []m{{"1a", Equal, "b"}}, `{1a="b"}`},

		// Quoting and escapes.
		{"quoted name", `"team name"="sre"`, []m{{"team name", Equal, "sre"}}, `{"team name"="sre"}`},
		{"quoted name with operator runes", `"a=~b"!="c"`, []m{{"a=~b", NotEqual, "c"}}, `{"a=~b"!="c"}`},
		{"escaped quote", `a="say \"hi\""`, []m{{"a", Equal, `say "hi"`}}, `{a="say \"hi\""}`},
		{"escaped backslash", `a="C:\\temp"`, []m{{"a", Equal, `C:\temp`}}, `{a="C:\\temp"}`},
		{"escaped newline", `a="x\ny"`, []m{{"a", Equal, "x\ny"}}, `{a="x\ny"}`},
		{"other Go escapes", `a="\t\u00e9\x41\101"`, []m{{"a", Equal, "\téAA"}}, "{a=\"\téAA\"}"},
		{"regexp backslashes", `a=~"\\d+\\.\\d+"`, []m{{"a", Regexp, `\d+\.\d+`}}, `{a=~"\\d+\\.\\d+"}`},
		{"empty quoted value", `a=""`, []m{{"a", Equal, ""}}, `{a=""}`},
		{"quoted value with reserved runes", `a="{},=~! '"`, []m{{"a", Equal, "{},=~! '"}}, `{a="{},=~! '"}`},

		// Whitespace anywhere between tokens.
		{"spaces between tokens", ` { a = "x" , b !~ y , } `, []m{{"a", Equal, "x"}, {"b", NotRegexp, "y"}}, `{a="x",b!~"y"}`},
		{"tabs and newlines", "{\n\ta=~\"x\",\n\tb!=\"y\"\n}\n", []m{{"a", Regexp, "x"}, {"b", NotEqual, "y"}}, `{a=~"x",b!="y"}`},
		{"unicode space", "a\u00a0=\u2003x", []m{{"a", Equal, "x"}}, `{a="x"}`},
		{"no spaces at all", `{a="x",b="y"}`, []m{{"a", Equal, "x"}, {"b", Equal, "y"}}, `{a="x",b="y"}`},

		// Real payloads: amtool and Alertmanager route examples.
		{"amtool silence", `alertname="Test_Alert"`, []m{{"alertname", Equal, "Test_Alert"}}, `{alertname="Test_Alert"}`},
		{"route matchers", `{severity=~"warning|critical", team!~"^$"}`,
			[]m{{"severity", Regexp, "warning|critical"}, {"team", NotRegexp, "^$"}},
			`{severity=~"warning|critical",team!~"^$"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := mustParse(t, tt.in)
			checkMatchers(t, ms, tt.want)
			if ms == nil {
				t.Errorf("Parse returned nil Matchers without an error")
			}
			if got := ms.String(); got != tt.canon {
				t.Errorf("String() = %s, want %s", got, tt.canon)
			}
			again := mustParse(t, ms.String())
			checkMatchers(t, again, tt.want)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"operator typo", `a="b", service~"x"`, `matcher 2 at char 15: expected an operator (=, !=, =~, !~), got "~"`},
		{"no operator", `alertname`, `matcher 1 at char 10: expected an operator (=, !=, =~, !~), got end of input`},
		{"bang alone", `a!b`, `matcher 1 at char 2: expected an operator (=, !=, =~, !~), got "!"`},
		{"double equals", `a==b`, `matcher 1 at char 3: expected a label value, got "="`},
		{"missing value", `a=`, `matcher 1 at char 3: expected a label value, got end of input`},
		{"missing value before comma", `a=,b=c`, `matcher 1 at char 3: expected a label value, got ","`},
		{"single-quoted value", `a='x'`, `matcher 1 at char 3: expected a label value, got "'"; quote with double quotes`},
		{"backquoted name", "`a`=x", "matcher 1 at char 1: expected a label name, got \"`\"; quote with double quotes"},
		{"missing name", `="x"`, `matcher 1 at char 1: expected a label name, got "="`},
		{"empty quoted name", `""="x"`, `matcher 1 at char 1: label name must not be empty`},
		{"leading comma", `,a=b`, `matcher 1 at char 1: expected a label name, got ","`},
		{"double comma", `a=b,,c=d`, `matcher 2 at char 5: expected a label name, got ","`},
		{"comma only in braces", `{,}`, `matcher 1 at char 2: expected a label name, got ","`},
		{"missing comma", `a="b" c="d"`, `at char 7: expected ',' between matchers 1 and 2, got "c"`},
		{"missing comma in braces", `{a="b" "c"="d"}`, `at char 8: expected ',' or '}' after matcher 1, got "\"c\""`},
		{"unclosed brace", `{a=b`, `at char 5: expected ',' or '}' after matcher 1, got end of input`},
		{"unclosed brace after comma", `{a=b,`, `at char 6: expected a matcher or '}' to close the '{' at char 1, got end of input`},
		{"lone open brace", ` {`, `at char 3: expected a matcher or '}' to close the '{' at char 2, got end of input`},
		{"close brace without open", `a=b}`, `at char 4: '}' without a matching '{'`},
		{"lone close brace", `}`, `at char 1: '}' without a matching '{'`},
		{"text after close brace", `{a=b} c=d`, `at char 7: expected end of input after '}', got "c"`},
		{"second close brace", `{a=b}}`, `at char 6: expected end of input after '}', got "}"`},
		{"nested brace", `{{a=b}}`, `matcher 1 at char 2: expected a label name, got "{"`},
		{"unterminated quote", `a="x`, `matcher 1 at char 3: quoted string has no closing '"'`},
		{"escaped closing quote", `a="x\"`, `matcher 1 at char 3: quoted string has no closing '"'`},
		{"bad escape", `a="x\qy"`, `matcher 1 at char 5: invalid escape "\\q" in quoted string; use \", \\, \n or another Go escape`},
		{"escaped single quote", `a="\'"`, `matcher 1 at char 4: invalid escape "\\'" in quoted string; use \", \\, \n or another Go escape`},
		{"raw newline in quotes", "a=\"x\ny\"", `matcher 1 at char 5: newline in quoted string; write \n`},
		{"escape to invalid UTF-8", `a="\xff"`, `matcher 1 at char 3: quoted string is not valid UTF-8 once unescaped`},
		{"invalid UTF-8 input", "a=\xff", `at char 3: invalid UTF-8`},
		{"positions count characters, not bytes", `"é"="x", ü~y`, `matcher 2 at char 11: expected an operator (=, !=, =~, !~), got "~"`},
		{"bad regexp names the matcher", `a="b", service=~"check(.*"`,
			`matcher 2 at char 17: invalid regular expression "check(.*" for label "service": missing closing )`},
		{"bad bare regexp", `a=~x[`, `matcher 1 at char 4: invalid regular expression "x[" for label "a": missing closing ]`},
		{"bad not-regexp", `a!~"*"`, `matcher 1 at char 4: invalid regular expression "*" for label "a": missing argument to repetition operator`},
		{"regexp escaping the anchors", `a=~"x)|(y"`, `matcher 1 at char 4: invalid regular expression "x)|(y" for label "a": unexpected )`},
		{"\\Q quoting to the end swallows the closing anchor", `a=~"\\Qx"`, `matcher 1 at char 4: invalid regular expression "\\Qx" for label "a": missing closing )`},
		{"unterminated quote after a matcher", `a="b" "c`, `at char 7: expected ',' between matchers 1 and 2, got "\"c"`},
		{"perl lookahead is not RE2", `a=~"(?=x)"`, `matcher 1 at char 4: invalid regular expression "(?=x)" for label "a": invalid or unsupported Perl syntax`},
		{"long token in an error is shortened", `a="x" ` + strings.Repeat("y", 200),
			`at char 7: expected ',' between matchers 1 and 2, got "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy…"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want error %q", tt.in, ms, tt.want)
			}
			if ms != nil {
				t.Errorf("Parse returned matchers %s with an error", ms)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse(%q) error\n got %s\nwant %s", tt.in, err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error %T is not *Error", err)
			}
		})
	}
}

func TestParseCaps(t *testing.T) {
	nMatchers := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf("l%d=v", i)
		}
		return strings.Join(parts, ",")
	}
	quoted := func(op string, n int) string { return `a` + op + `"` + strings.Repeat("x", n) + `"` }
	tests := []struct {
		name    string
		in      string
		wantN   int    // matchers, when it parses
		wantErr string // otherwise
	}{
		{name: "input at the cap", in: quoted("=", MaxInputBytes-4), wantN: 1},
		{name: "input over the cap", in: quoted("=", MaxInputBytes-3),
			wantErr: "matchers are 4097 bytes, more than the 4096 allowed"},
		{name: "matchers at the cap", in: nMatchers(MaxMatchers), wantN: MaxMatchers},
		{name: "matchers at the cap, trailing comma", in: nMatchers(MaxMatchers) + ",", wantN: MaxMatchers},
		{name: "matchers over the cap", in: nMatchers(MaxMatchers + 1),
			wantErr: "matcher 65 at char 375: more than the 64 matchers allowed"},
		{name: "regexp at the cap", in: quoted("=~", MaxRegexBytes), wantN: 1},
		{name: "regexp over the cap", in: quoted("!~", MaxRegexBytes+1),
			wantErr: `matcher 1 at char 4: regular expression for label "a" is 1025 bytes, more than the 1024 allowed`},
		{name: "equal value may be longer than a regexp", in: quoted("=", MaxRegexBytes+1), wantN: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Parse(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if len(ms) != tt.wantN {
					t.Fatalf("got %d matchers, want %d", len(ms), tt.wantN)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("Parse error %v, want %q", err, tt.wantErr)
			}
			if !errors.Is(err, ErrTooLarge) {
				t.Errorf("error %v does not wrap ErrTooLarge", err)
			}
		})
	}
}

// TestRegexpCostIsBounded checks that the worst regexes the caps let through
// compile and run in time linear in the input: RE2 has no backtracking, and
// the compiler refuses programs that would blow up.
func TestRegexpCostIsBounded(t *testing.T) {
	value := strings.Repeat("a", 64<<10) + "!"
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{name: "nested stars", in: `a=~"(a*)*b"`},
		{name: "overlapping alternation", in: `a=~"(a|aa|aaa)+b"`},
		{name: "catastrophic for backtracking", in: `a=~"(x+x+)+y|(a+a+)+b"`},
		{name: "counted repetition under the limit", in: `a=~"a{1000}"`},
		{name: "counted repetition over RE2's limit", in: `a=~"a{1001}"`,
			wantErr: `matcher 1 at char 4: invalid regular expression "a{1001}" for label "a": invalid repeat count`},
		{name: "nested counted repetition", in: `a=~"((a{100}){100}){100}"`,
			wantErr: `matcher 1 at char 4: invalid regular expression "((a{100}){100}){100}" for label "a": invalid repeat count`},
		{name: "large unicode program", in: `a=~"(?i)[\\pL\\pN]{1000}"`},
		{name: "nested stars ten deep", in: `a=~"((((((((((a*)*)*)*)*)*)*)*)*)*)b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			ms, err := Parse(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Parse error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			ms.Matches(map[string]string{"a": value})
			// A generous bound: a backtracking engine would take longer than
			// the universe on these; RE2 takes milliseconds even under -race.
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("parse and match took %v", d)
			}
		})
	}
}

func ExampleParse() {
	ms, err := Parse(`{severity="critical", service=~"check.*", alertname!=Watchdog}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ms)
	fmt.Println(ms.Matches(map[string]string{"severity": "critical", "service": "checkout", "alertname": "HighLatency"}))
	fmt.Println(ms.Matches(map[string]string{"severity": "critical", "service": "payments"}))

	_, err = Parse(`severity="critical", service~"check.*"`)
	fmt.Println(err)
	// Output:
	// {severity="critical",service=~"check.*",alertname!="Watchdog"}
	// true
	// false
	// matcher 2 at char 29: expected an operator (=, !=, =~, !~), got "~"
}
