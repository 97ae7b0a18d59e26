package httpsource

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

func TestTruncate(t *testing.T) {
	tests := []struct {
		name, in string
		n        int
		want     string
	}{
		{"fits", "abc", 3, "abc"},
		{"cut", "abcdef", 5, "ab…"},
		{"rune boundary", "aéééé", 5, "a…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Truncate(tc.in, tc.n); got != tc.want {
				t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
		})
	}
}

func TestOneLine(t *testing.T) {
	if got := OneLine("a\nb\x00c\xff", 100); got != "a b c\uFFFD" {
		t.Errorf("OneLine = %q", got)
	}
}

func TestHTMLText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"title", "<html><TITLE>502 Bad Gateway</title></html>", "502 Bad Gateway"},
		{"tags", "<p>no<b>title</b></p>", " no title  "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := HTMLText(tc.in); got != tc.want {
				t.Errorf("HTMLText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	if got := CollapseSpace("  a \t\n b "); got != "a b" {
		t.Errorf("CollapseSpace = %q", got)
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{100: "100 B", 1536: "1.5 KiB", 512 << 10: "512 KiB", 64 << 20: "64 MiB", 1 << 30: "1024 MiB"} {
		if got := HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestClassifyNet(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want NetFailure
	}{
		{"refused", &url.Error{Op: "Get", URL: "http://x", Err: &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}, NetFailure{Problem: NetRefused}},
		{"dns", &net.DNSError{Name: "nope.invalid", Err: "no such host", IsNotFound: true}, NetFailure{Problem: NetDNS, DNSName: "nope.invalid", DNSReason: "not found"}},
		{"other", errors.New("boom"), NetFailure{Problem: NetOther}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ClassifyNet(tc.err); got != tc.want {
				t.Errorf("ClassifyNet = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestClassifyTLS(t *testing.T) {
	if got := ClassifyTLS(errors.New("connection refused")); got.Problem != NotTLS {
		t.Errorf("plain error classified as %v", got.Problem)
	}
	hostErr := x509.HostnameError{Certificate: &x509.Certificate{DNSNames: []string{"a", "b"}}, Host: "c"}
	got := ClassifyTLS(fmt.Errorf("get: %w", hostErr))
	if got.Problem != CertWrongHost || got.Host != "c" || CertNames(got.Cert) != "a, b" {
		t.Errorf("ClassifyTLS = %+v", got)
	}
	if got := CertNames(nil); got != "no names" {
		t.Errorf("CertNames(nil) = %q", got)
	}
}

func TestSecrets(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte(" from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var s Secrets
	s.Add("abc") // too short
	s.Add(" a b+c ")
	s.Add(ReadSecretFile(file))
	s.AddUserinfo(&url.URL{User: url.UserPassword("u", "pass")})
	want := []string{"a b+c", "a+b%2Bc", "a%20b+c", "from-file", "pass", "dTpwYXNz"}
	if got := s.Values(); !slices.Equal(got, want) {
		t.Errorf("Values = %q, want %q", got, want)
	}
	if got := ReplaceSecrets("x from-file y", s.Values()); got != "x <secret> y" {
		t.Errorf("ReplaceSecrets = %q", got)
	}
	if got, ok := CutSecretStart("see from-f", s.Values()); !ok || got != "see <secret>" {
		t.Errorf("CutSecretStart = %q, %v", got, ok)
	}
	if got, ok := CutSecretStart("see fro", s.Values()); ok || got != "see fro" {
		t.Errorf("CutSecretStart of a short start = %q, %v", got, ok)
	}
}
