package runbooks

import (
	"net/url"
	"strings"
	"testing"
)

func TestLinkAllowed(t *testing.T) {
	tests := []struct {
		href string
		want bool
	}{
		{"https://example.com", true},
		{"https://example.com/a/b?c=d&e=f#g", true},
		{"http://grafana.internal:3000/d/abc", true},
		{"HTTPS://EXAMPLE.COM/", true},
		{"mailto:oncall@example.com", true},
		{"MailTo:oncall@example.com?subject=SEV2", true},
		{"foo.md", true},
		{"./foo.md", true},
		{"../x/foo.md#anchor", true},
		{"sub/dir/Foo.MD", true},
		{"foo.md#step-3", true},

		{"", false},
		{"javascript:alert(1)", false},
		{"JaVaScRiPt:alert(1)", false},
		{"java\tscript:alert(1)", false},
		{"java\nscript:alert(1)", false},
		{" javascript:alert(1)", false},
		{"\x01javascript:alert(1)", false},
		{"&#106;avascript:alert(1)", false},
		{"&#x6A;avascript:alert(1)", false},
		{"%6Aavascript:alert(1)", false},
		{"javascript:alert(1)//x.md", false},
		{"javascript%3Aalert(1).md", false},
		{"vbscript:msgbox(1)", false},
		{"data:text/html;base64,PHNjcmlwdD4=", false},
		{"file:///etc/passwd", false},
		{"file:foo.md", false},
		{"slack://channel?id=C123", false},
		{"ftp://example.com/x", false},
		{"//evil.example/x.md", false},
		{"/etc/runbook.md", false},
		{`..\..\secret.md`, false},
		{"https:evil.example", false},
		{"https://", false},
		{"https:///path", false},
		{"https://exa mple.com", false},
		{"https://example.com/\u202egnp.md", false},
		{"https://example.com/\u200b", false},
		{"mailto:", false},
		{"foo.txt", false},
		{".md", false},
		{"foo.md?x=1", false},
		{"foo.md#", false},
		{"foo.md#a b", false},
		{"foo%2e.md", false},
		{"a//b.md", false},
		{"\xff.md", false},
		{"https://example.com/" + strings.Repeat("a", maxHref), false},
	}
	for _, tc := range tests {
		t.Run(tc.href, func(t *testing.T) {
			if got := LinkAllowed(tc.href); got != tc.want {
				t.Errorf("LinkAllowed(%q) = %v, want %v", tc.href, got, tc.want)
			}
		})
	}
}

// FuzzLinkAllowed checks the policy's invariant: whatever it accepts is an
// http(s) URL with a host, a mailto URL, or a plain relative .md path.
func FuzzLinkAllowed(f *testing.F) {
	for _, s := range []string{"https://example.com", "mailto:a@b.c", "../x/foo.md#a", "javascript:alert(1)", "&#106;avascript:", "%6Aavascript:", "java\tscript:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, href string) {
		if !LinkAllowed(href) {
			return
		}
		for _, r := range href {
			if r <= ' ' || r == 0x7f || r == '\\' {
				t.Fatalf("accepted %q with a control, space or backslash", href)
			}
		}
		lower := strings.ToLower(href)
		switch {
		case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
			u, err := url.Parse(href)
			if err != nil || u.Host == "" {
				t.Fatalf("accepted %q: %v", href, err)
			}
		case strings.HasPrefix(lower, "mailto:"):
		default:
			p, _, _ := strings.Cut(href, "#")
			if strings.ContainsAny(href, ":%&?") || strings.HasPrefix(href, "/") || !strings.HasSuffix(strings.ToLower(p), ".md") {
				t.Fatalf("accepted %q as a relative runbook link", href)
			}
		}
	})
}
