package alertmanager

import (
	"encoding/base64"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"

	commoncfg "github.com/prometheus/common/config"
)

// shortestSecret is the shortest credential scrubbed by its value: shorter ones would
// match everywhere and shred every message. They are still never printed, because no
// message is built from a credential or from request headers.
const shortestSecret = 4

// echoed matches credentials a server or proxy may echo back, whatever they are:
// "Bearer x", "Basic x", "Authorization: x", "password=x".
var (
	echoedScheme = regexp.MustCompile(`(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/\-]{8,}=*`)
	echoedField  = regexp.MustCompile(`(?i)\b(authorization|x-api-key|api[_-]?key|access[_-]?token|token|password|passwd|secret)(["']?\s*[:=]\s*["']?)[^\s"',;&]{6,}`)
)

// scrubber removes known secrets from text before it reaches a user, a log or a
// metric: the second line of defence behind never quoting requests.
type scrubber struct {
	secrets []string // longest first, so a secret that contains another goes whole
}

// newScrubber collects every credential the poller may send: inline secrets and the
// files holding them (as they are now), userinfo passwords and query values of every
// peer URL and of the proxy, and their URL- and base64-encoded forms.
func newScrubber(urls []*url.URL, cfg *commoncfg.HTTPClientConfig) *scrubber {
	s := &scrubber{}
	add := func(v string) {
		v = strings.TrimSpace(v)
		if len(v) < shortestSecret {
			return
		}
		s.secrets = append(s.secrets, v)
		for _, enc := range []string{url.QueryEscape(v), url.PathEscape(v)} {
			if enc != v {
				s.secrets = append(s.secrets, enc)
			}
		}
	}
	fromFile := func(path string) string {
		if path == "" {
			return ""
		}
		b, err := os.ReadFile(path)
		if err != nil || len(b) > 64<<10 {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	basic := func(user, pass string) {
		if pass == "" {
			return
		}
		add(pass)
		add(base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)))
	}
	userinfo := func(u *url.URL) {
		if u == nil {
			return
		}
		if u.User != nil {
			p, _ := u.User.Password()
			basic(u.User.Username(), p)
		}
		for _, vs := range u.Query() {
			for _, v := range vs {
				add(v)
			}
		}
	}
	for _, u := range urls {
		userinfo(u)
	}
	if cfg != nil {
		add(string(cfg.BearerToken))
		add(fromFile(cfg.BearerTokenFile))
		if a := cfg.Authorization; a != nil {
			add(string(a.Credentials))
			add(fromFile(a.CredentialsFile))
		}
		if b := cfg.BasicAuth; b != nil {
			user := b.Username
			if f := fromFile(b.UsernameFile); f != "" {
				user = f
			}
			pass := string(b.Password)
			if f := fromFile(b.PasswordFile); f != "" {
				pass = f
			}
			basic(user, pass)
		}
		if o := cfg.OAuth2; o != nil {
			add(string(o.ClientSecret))
			add(fromFile(o.ClientSecretFile))
			add(string(o.ClientCertificateKey))
		}
		add(string(cfg.TLSConfig.Key))
		userinfo(cfg.ProxyURL.URL)
		for _, h := range cfg.ProxyConnectHeader {
			for _, v := range h {
				add(string(v))
			}
		}
		if cfg.HTTPHeaders != nil {
			for _, h := range cfg.HTTPHeaders.Headers {
				for _, v := range h.Secrets {
					add(string(v))
				}
				for _, f := range h.Files {
					add(fromFile(f))
				}
			}
		}
	}
	slices.SortFunc(s.secrets, func(a, b string) int { return len(b) - len(a) })
	s.secrets = slices.Compact(s.secrets)
	return s
}

// scrub replaces every known secret, and anything shaped like an echoed credential,
// with <secret>.
func (s *scrubber) scrub(msg string) string {
	if s != nil {
		for _, v := range s.secrets {
			msg = strings.ReplaceAll(msg, v, "<secret>")
		}
	}
	msg = echoedScheme.ReplaceAllString(msg, "$1$2<secret>")
	return echoedField.ReplaceAllString(msg, "$1$2<secret>")
}

// scrubTail drops the end of a text that was cut short if it is the beginning of a
// secret, so a cut through a token does not print its first half.
func (s *scrubber) scrubTail(msg string) string {
	if s == nil {
		return msg
	}
	body, cut := strings.CutSuffix(msg, "…")
	if !cut {
		return msg
	}
	for _, v := range s.secrets {
		for k := len(v) - 1; k >= shortestSecret; k-- {
			if strings.HasSuffix(body, v[:k]) {
				return body[:len(body)-k] + "<secret>…"
			}
		}
	}
	return msg
}

// redact prints u without userinfo, query or fragment: not even a user name reaches a
// status chip.
func redact(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery, c.Fragment, c.RawFragment = "", "", ""
	return strings.TrimRight(c.String(), "/")
}
