package runbooks

import (
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark/util"
)

// maxHref bounds the length of a link target we are willing to keep.
const maxHref = 4096

// LinkAllowed reports whether a link target may be opened: an absolute
// http, https or mailto URL, or a relative link to another runbook
// ("foo.md", "../x/foo.md#anchor"). Everything else — javascript:, data:,
// file:, vbscript:, custom schemes, protocol-relative "//host", absolute
// paths, anything holding whitespace, control or invisible format characters,
// backslashes, or percent or entity escapes in a relative link — is refused.
// href must already be decoded (Parse resolves markdown escapes and entities
// before asking), so an encoded scheme never reaches here as a scheme.
func LinkAllowed(href string) bool {
	if href == "" || len(href) > maxHref || !utf8.ValidString(href) {
		return false
	}
	for _, r := range href {
		if r <= ' ' || r == 0x7f || r == '\\' || unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	lower := strings.ToLower(href)
	switch {
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		u, err := url.Parse(href)
		return err == nil && u.Host != "" && u.Opaque == "" &&
			(strings.EqualFold(u.Scheme, "http") || strings.EqualFold(u.Scheme, "https"))
	case strings.HasPrefix(lower, "mailto:"):
		rest := href[len("mailto:"):]
		if rest == "" || rest[0] == '/' {
			return false
		}
		u, err := url.Parse(href)
		return err == nil && u.Opaque != ""
	}
	return runbookLink(href)
}

// runbookLink accepts a relative path to a .md file with an optional
// #anchor, made only of plain path characters, or a bare #anchor (a section of
// the same runbook).
func runbookLink(href string) bool {
	p, anchor, hasAnchor := strings.Cut(href, "#")
	if hasAnchor && (anchor == "" || !allRunes(anchor, anchorRune)) {
		return false
	}
	if p == "" && hasAnchor {
		return true // a section of the same runbook: "#rollback"
	}
	if p == "" || p[0] == '/' {
		return false
	}
	segs := strings.Split(p, "/")
	for _, s := range segs {
		if s == "" || !allRunes(s, pathRune) {
			return false
		}
	}
	base := segs[len(segs)-1]
	return len(base) > len(".md") && strings.EqualFold(base[len(base)-3:], ".md")
}

func pathRune(r rune) bool {
	return r == '.' || r == '-' || r == '_' || r == '~' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

func anchorRune(r rune) bool {
	return r == '-' || r == '_' || r == '.' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

func allRunes(s string, ok func(rune) bool) bool {
	for _, r := range s {
		if !ok(r) {
			return false
		}
	}
	return true
}

// unescapeText resolves markdown backslash escapes and HTML character
// references the way goldmark's HTML renderer does for text and link
// destinations, and replaces NUL with U+FFFD.
func unescapeText(b []byte) string {
	if !needsUnescape(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '\\' && i+1 < len(b) && util.IsPunct(b[i+1]):
			sb.WriteByte(b[i+1])
			i++
		case c == 0:
			sb.WriteRune(utf8.RuneError)
		case c == '&':
			if r, n, ok := charRef(b[i:]); ok {
				sb.WriteString(r)
				i += n - 1
				continue
			}
			sb.WriteByte(c)
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

func needsUnescape(b []byte) bool {
	for _, c := range b {
		if c == '\\' || c == '&' || c == 0 {
			return true
		}
	}
	return false
}

// charRef decodes a character reference at the start of b ("&amp;",
// "&#106;", "&#x6A;") and returns its text and length.
func charRef(b []byte) (string, int, bool) {
	end := -1
	for k := 1; k < len(b) && k < 40; k++ {
		if b[k] == ';' {
			end = k
			break
		}
	}
	if end < 2 {
		return "", 0, false
	}
	body := string(b[1:end])
	if body[0] == '#' {
		num := body[1:]
		base := 10
		if num != "" && (num[0] == 'x' || num[0] == 'X') {
			num, base = num[1:], 16
		}
		if num == "" || (base == 10 && len(num) > 7) || (base == 16 && len(num) > 6) {
			return "", 0, false
		}
		v, err := strconv.ParseUint(num, base, 32)
		if err != nil {
			return "", 0, false
		}
		return string(util.ToValidRune(rune(v))), end + 1, true
	}
	if !allRunes(body, func(r rune) bool { return r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) }) {
		return "", 0, false
	}
	e, ok := util.LookUpHTML5EntityByName(body)
	if !ok {
		return "", 0, false
	}
	return string(e.Characters), end + 1, true
}
