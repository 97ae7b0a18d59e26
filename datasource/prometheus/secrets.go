package prometheus

import (
	"encoding/base64"
	"net/url"
	"os"
	"regexp"
	"strings"

	commoncfg "github.com/prometheus/common/config"
)

// minScrubLen is the shortest secret scrubbed by value. Shorter ones would shred every
// message (a one-letter password matches everywhere); they are still never printed,
// because no message is built from a credential or a request header.
const minScrubLen = 4

// Credentials that a server or proxy echoed back, whatever they are: "Bearer x",
// "Basic x", "Authorization: x".
var (
	schemePattern = regexp.MustCompile(`(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/\-]{8,}=*`)
	headerPattern = regexp.MustCompile(`(?i)\b(authorization|x-api-key|api[_-]?key|access[_-]?token|password)(["']?\s*[:=]\s*["']?)[^\s"',;&]{8,}`)
)

// scrubber removes known secrets from text before it reaches the user: the second line of
// defence behind never quoting requests, in case a server echoes them back.
type scrubber struct {
	secrets []string
}

// newScrubber collects every credential the source may send: inline secrets, the files
// they are read from (as they are now), the URL's and the proxy's userinfo passwords, the
// URL's query values, and their encoded forms.
func newScrubber(u *url.URL, cfg *commoncfg.HTTPClientConfig) *scrubber {
	s := &scrubber{}
	add := func(v string) {
		v = strings.TrimSpace(v)
		if len(v) < minScrubLen {
			return
		}
		s.secrets = append(s.secrets, v)
		if e := url.QueryEscape(v); e != v {
			s.secrets = append(s.secrets, e)
		}
		if e := url.PathEscape(v); e != v {
			s.secrets = append(s.secrets, e)
		}
	}
	addFile := func(path string) {
		if path == "" {
			return
		}
		if b, err := os.ReadFile(path); err == nil && len(b) <= 64<<10 {
			add(string(b))
		}
	}
	basic := func(user, pass string) {
		if pass == "" {
			return
		}
		add(pass)
		add(base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)))
	}
	if u != nil && u.User != nil {
		p, _ := u.User.Password()
		basic(u.User.Username(), p)
	}
	if u != nil {
		for _, vs := range u.Query() { // such as ?api_key=…
			for _, v := range vs {
				add(v)
			}
		}
	}
	if cfg != nil {
		add(string(cfg.BearerToken))
		addFile(cfg.BearerTokenFile)
		if a := cfg.Authorization; a != nil {
			add(string(a.Credentials))
			addFile(a.CredentialsFile)
		}
		if b := cfg.BasicAuth; b != nil {
			user := b.Username
			if b.UsernameFile != "" {
				if v, err := os.ReadFile(b.UsernameFile); err == nil {
					user = strings.TrimSpace(string(v))
				}
			}
			pass := string(b.Password)
			if b.PasswordFile != "" {
				if v, err := os.ReadFile(b.PasswordFile); err == nil {
					pass = strings.TrimSpace(string(v))
				}
			}
			basic(user, pass)
		}
		if o := cfg.OAuth2; o != nil {
			add(string(o.ClientSecret))
			addFile(o.ClientSecretFile)
			add(string(o.ClientCertificateKey))
		}
		add(string(cfg.TLSConfig.Key))
		if p := cfg.ProxyURL.URL; p != nil && p.User != nil {
			pw, _ := p.User.Password()
			basic(p.User.Username(), pw)
		}
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
					addFile(f)
				}
			}
		}
	}
	return s
}

// scrub replaces every known secret, and anything shaped like an echoed credential, with
// <secret>.
func (s *scrubber) scrub(msg string) string {
	if s != nil {
		for _, v := range s.secrets {
			msg = strings.ReplaceAll(msg, v, "<secret>")
		}
	}
	msg = headerPattern.ReplaceAllString(msg, "$1$2<secret>")
	return schemePattern.ReplaceAllString(msg, "$1$2<secret>")
}

// scrubTail drops the end of a text that was cut short if it is the start of a secret,
// so a cut through the middle of a token does not print its first half.
func (s *scrubber) scrubTail(msg string) string {
	if s == nil {
		return msg
	}
	trimmed := strings.TrimSuffix(msg, "…")
	for _, v := range s.secrets {
		for k := len(v) - 1; k >= minScrubLen; k-- {
			if strings.HasSuffix(trimmed, v[:k]) {
				return trimmed[:len(trimmed)-k] + "<secret>…"
			}
		}
	}
	return msg
}
