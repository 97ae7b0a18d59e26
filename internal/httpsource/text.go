package httpsource

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// OneLine makes msg one printable line of valid UTF-8 (servers and decoders quote raw
// bytes, and a panel shows one line) and cuts it to at most max bytes. It does not
// scrub secrets; callers scrub first.
func OneLine(msg string, max int) string {
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(msg, "\uFFFD"))
	return Truncate(msg, max)
}

// Truncate cuts s to at most n bytes on a rune boundary, marking a cut with "…".
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Innermost is an error's text without net/http's *url.Error wrapper, which repeats the
// method and URL; messages print the URL themselves, without credentials.
func Innermost(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err.Error()
	}
	return err.Error()
}

// QuoteSnippet puts a body snippet in quotation marks, or says the body was empty.
func QuoteSnippet(s string) string {
	if s == "" {
		return "empty body"
	}
	return "“" + s + "”"
}

// HTMLText is the text of an HTML error page: its title if it has one, else the page
// with its tags dropped.
func HTMLText(s string) string {
	lower := strings.ToLower(s)
	if i := strings.Index(lower, "<title>"); i >= 0 {
		rest := s[i+len("<title>"):]
		if j := strings.Index(strings.ToLower(rest), "</title>"); j >= 0 {
			rest = rest[:j]
		}
		return rest
	}
	return StripTags(s)
}

// StripTags drops everything between < and >, leaving a space for each tag.
func StripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// CollapseSpace turns runs of whitespace and control characters into single spaces and
// drops them at the start.
func CollapseSpace(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// HumanBytes prints a size in binary units up to MiB: 64 MiB, 1.5 MiB, 512 KiB, 100 B.
func HumanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
