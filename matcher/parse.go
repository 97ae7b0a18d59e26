package matcher

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Parse reads matchers in Alertmanager's syntax, such as
// {severity="critical", service=~"check.*"} or alertname!=Watchdog. Empty
// input, or only whitespace or {}, gives zero matchers, which match every
// alert. Errors are *Error, naming the matcher and the character where the
// input went wrong and what was expected there.
func Parse(s string) (Matchers, error) {
	if len(s) > MaxInputBytes {
		return nil, &Error{
			Msg: fmt.Sprintf("matchers are %d bytes, more than the %d allowed", len(s), MaxInputBytes),
			Err: ErrTooLarge,
		}
	}
	if !utf8.ValidString(s) {
		off := 0
		for off < len(s) {
			r, size := utf8.DecodeRuneInString(s[off:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			off += size
		}
		p := parser{in: s}
		return nil, p.errAt(off, 0, "invalid UTF-8")
	}
	p := parser{in: s}
	return p.parse()
}

// parser is a hand-written recursive-descent parser over the input; the
// grammar is small enough that a separate lexer would only add states.
type parser struct {
	in  string
	pos int // byte offset of the next unread rune
}

func (p *parser) parse() (Matchers, error) {
	ms := Matchers{}
	p.skipSpace()
	braceAt := -1
	if p.peek() == '{' {
		braceAt = p.pos
		p.pos++
	}
	for {
		p.skipSpace()
		if p.eof() {
			if braceAt >= 0 {
				return nil, p.errAt(p.pos, 0, fmt.Sprintf(
					"expected a matcher or '}' to close the '{' at char %d, got end of input", p.char(braceAt)))
			}
			return ms, nil
		}
		if p.peek() == '}' {
			if braceAt < 0 {
				return nil, p.errAt(p.pos, 0, "'}' without a matching '{'")
			}
			p.pos++
			p.skipSpace()
			if !p.eof() {
				return nil, p.errAt(p.pos, 0, "expected end of input after '}', got "+p.got())
			}
			return ms, nil
		}
		n := len(ms) + 1
		if n > MaxMatchers {
			e := p.errAt(p.pos, n, fmt.Sprintf("more than the %d matchers allowed", MaxMatchers))
			e.Err = ErrTooLarge
			return nil, e
		}
		m, err := p.matcher(n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)

		p.skipSpace()
		switch {
		case p.eof() && braceAt < 0:
			return ms, nil
		case p.peek() == ',':
			p.pos++
		case p.peek() == '}':
			// The top of the loop closes it, or says it has no '{'.
		case braceAt >= 0:
			return nil, p.errAt(p.pos, 0, fmt.Sprintf("expected ',' or '}' after matcher %d, got %s", n, p.got()))
		default:
			return nil, p.errAt(p.pos, 0, fmt.Sprintf("expected ',' between matchers %d and %d, got %s", n, n+1, p.got()))
		}
	}
}

// matcher reads one name, operator and value; n is its 1-based index.
func (p *parser) matcher(n int) (*Matcher, error) {
	nameAt := p.pos
	name, err := p.text(n, "a label name")
	if err != nil {
		return nil, err
	}
	if name == "" {
		return nil, p.errAt(nameAt, n, "label name must not be empty")
	}

	p.skipSpace()
	var t Type
	switch rest := p.in[p.pos:]; {
	case strings.HasPrefix(rest, "=~"):
		t = Regexp
	case strings.HasPrefix(rest, "!~"):
		t = NotRegexp
	case strings.HasPrefix(rest, "!="):
		t = NotEqual
	case strings.HasPrefix(rest, "="):
		t = Equal
	default:
		return nil, p.errAt(p.pos, n, "expected an operator (=, !=, =~, !~), got "+p.got())
	}
	p.pos += len(t.String())

	p.skipSpace()
	valueAt := p.pos
	value, err := p.text(n, "a label value")
	if err != nil {
		return nil, err
	}

	m, err := NewMatcher(t, name, value)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Matcher, e.Char = n, p.char(valueAt)
			return nil, e
		}
		return nil, err
	}
	return m, nil
}

// text reads a label name or value: a double-quoted string, or a bare run
// of runes that are not reserved. what names it for the error.
func (p *parser) text(n int, what string) (string, error) {
	if p.eof() {
		return "", p.errAt(p.pos, n, "expected "+what+", got end of input")
	}
	r, _ := utf8.DecodeRuneInString(p.in[p.pos:])
	switch {
	case r == '"':
		return p.quoted(n)
	case !isReserved(r):
		start := p.pos
		for !p.eof() {
			r, size := utf8.DecodeRuneInString(p.in[p.pos:])
			if isReserved(r) {
				break
			}
			p.pos += size
		}
		return p.in[start:p.pos], nil
	case r == '\'' || r == '`':
		return "", p.errAt(p.pos, n, "expected "+what+", got "+p.got()+"; quote with double quotes")
	default:
		return "", p.errAt(p.pos, n, "expected "+what+", got "+p.got())
	}
}

// quoted reads a double-quoted string with Go's escapes, as Alertmanager
// does (it uses strconv.Unquote), reporting the character of a bad escape.
func (p *parser) quoted(n int) (string, error) {
	start := p.pos
	i := start + 1
	var buf []byte
	for {
		if i >= len(p.in) {
			return "", p.errAt(start, n, "quoted string has no closing '\"'")
		}
		switch c := p.in[i]; c {
		case '"':
			p.pos = i + 1
			if !utf8.Valid(buf) {
				return "", p.errAt(start, n, "quoted string is not valid UTF-8 once unescaped")
			}
			return string(buf), nil
		case '\n':
			return "", p.errAt(i, n, `newline in quoted string; write \n`)
		case '\\':
			r, multibyte, tail, err := strconv.UnquoteChar(p.in[i:], '"')
			if err != nil {
				esc := p.in[i : i+1] // the backslash and the rune after it
				if i+1 < len(p.in) {
					_, size := utf8.DecodeRuneInString(p.in[i+1:])
					esc = p.in[i : i+1+size]
				}
				return "", p.errAt(i, n, fmt.Sprintf(`invalid escape %s in quoted string; use \", \\, \n or another Go escape`, snippet(esc)))
			}
			if r < utf8.RuneSelf || !multibyte {
				buf = append(buf, byte(r))
			} else {
				buf = utf8.AppendRune(buf, r)
			}
			i = len(p.in) - len(tail)
		default:
			_, size := utf8.DecodeRuneInString(p.in[i:])
			buf = append(buf, p.in[i:i+size]...)
			i += size
		}
	}
}

func (p *parser) eof() bool { return p.pos >= len(p.in) }

// peek returns the next byte, or 0 at the end; callers compare it with ASCII.
func (p *parser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.in[p.pos]
}

func (p *parser) skipSpace() {
	for !p.eof() {
		r, size := utf8.DecodeRuneInString(p.in[p.pos:])
		if !unicode.IsSpace(r) {
			return
		}
		p.pos += size
	}
}

// char turns a byte offset into a 1-based character position.
func (p *parser) char(off int) int {
	return utf8.RuneCountInString(p.in[:off]) + 1
}

// got describes the input at p.pos for "expected …, got …": the bare word,
// quoted string or operator-like run there, or a single character.
func (p *parser) got() string {
	if p.eof() {
		return "end of input"
	}
	rest := p.in[p.pos:]
	r, size := utf8.DecodeRuneInString(rest)
	end := size
	switch {
	case r == '"':
		if j := strings.IndexByte(rest[1:], '"'); j >= 0 {
			end = j + 2
		} else {
			end = len(rest)
		}
	case strings.ContainsRune("=!~", r):
		for end < len(rest) && strings.IndexByte("=!~", rest[end]) >= 0 {
			end++
		}
	case !isReserved(r):
		for end < len(rest) {
			r, size := utf8.DecodeRuneInString(rest[end:])
			if isReserved(r) {
				break
			}
			end += size
		}
	}
	return snippet(rest[:end])
}

func (p *parser) errAt(off, matcher int, msg string) *Error {
	return &Error{Matcher: matcher, Char: p.char(off), Msg: msg}
}
