package httpsource

import (
	"encoding/base64"
	"net/url"
	"os"
	"strings"

	commoncfg "github.com/prometheus/common/config"
)

// MinSecretLen is the shortest secret scrubbed by value. Shorter ones would shred every
// message (a one-letter password matches everywhere); they are still never printed,
// because no message is built from a credential or a request header.
const MinSecretLen = 4

// maxSecretFile is the largest credential file read for scrubbing.
const maxSecretFile = 64 << 10

// Secrets collects the credentials a source may send, in the order they are added and
// in the forms a server may echo them back in. The zero value is empty and ready.
type Secrets struct {
	values []string
}

// Values returns the collected secrets, in the order they were added.
func (s *Secrets) Values() []string { return s.values }

// Add adds v, trimmed, with its URL-encoded forms; values shorter than MinSecretLen are
// left out.
func (s *Secrets) Add(v string) {
	v = strings.TrimSpace(v)
	if len(v) < MinSecretLen {
		return
	}
	s.values = append(s.values, v)
	for _, enc := range []string{url.QueryEscape(v), url.PathEscape(v)} {
		if enc != v {
			s.values = append(s.values, enc)
		}
	}
}

// ReadSecretFile returns a credential file's content, trimmed, as it is now; "" if the
// path is empty, the file cannot be read or is over 64 KiB.
func ReadSecretFile(path string) string {
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil || len(b) > maxSecretFile {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// AddBasic adds a basic-auth password and the base64 form it takes in an Authorization
// header; nothing if pass is empty.
func (s *Secrets) AddBasic(user, pass string) {
	if pass == "" {
		return
	}
	s.Add(pass)
	s.Add(base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)))
}

// AddUserinfo adds the password in u's userinfo, if any.
func (s *Secrets) AddUserinfo(u *url.URL) {
	if u != nil && u.User != nil {
		p, _ := u.User.Password()
		s.AddBasic(u.User.Username(), p)
	}
}

// AddQuery adds every value of u's query, such as ?api_key=….
func (s *Secrets) AddQuery(u *url.URL) {
	if u == nil {
		return
	}
	for _, vs := range u.Query() {
		for _, v := range vs {
			s.Add(v)
		}
	}
}

// HTTPConfigParts are the parts of an http_config whose handling an adapter chooses.
type HTTPConfigParts struct {
	// BasicAuth gives the user and password that basic_auth resolves to.
	BasicAuth func(*commoncfg.BasicAuth) (user, pass string)
	// ProxyURL adds the secrets of proxy_url (never nil when called).
	ProxyURL func(*url.URL)
}

// AddHTTPConfig adds every credential cfg may send: bearer token, authorization,
// basic auth, OAuth2 client secret and key, TLS key, proxy URL, proxy-connect and other
// secret headers, and the files holding them. A nil cfg adds nothing.
func (s *Secrets) AddHTTPConfig(cfg *commoncfg.HTTPClientConfig, parts HTTPConfigParts) {
	if cfg == nil {
		return
	}
	s.Add(string(cfg.BearerToken))
	s.Add(ReadSecretFile(cfg.BearerTokenFile))
	if a := cfg.Authorization; a != nil {
		s.Add(string(a.Credentials))
		s.Add(ReadSecretFile(a.CredentialsFile))
	}
	if b := cfg.BasicAuth; b != nil {
		s.AddBasic(parts.BasicAuth(b))
	}
	if o := cfg.OAuth2; o != nil {
		s.Add(string(o.ClientSecret))
		s.Add(ReadSecretFile(o.ClientSecretFile))
		s.Add(string(o.ClientCertificateKey))
	}
	s.Add(string(cfg.TLSConfig.Key))
	if p := cfg.ProxyURL.URL; p != nil {
		parts.ProxyURL(p)
	}
	for _, h := range cfg.ProxyConnectHeader {
		for _, v := range h {
			s.Add(string(v))
		}
	}
	if cfg.HTTPHeaders != nil {
		for _, h := range cfg.HTTPHeaders.Headers {
			for _, v := range h.Secrets {
				s.Add(string(v))
			}
			for _, f := range h.Files {
				s.Add(ReadSecretFile(f))
			}
		}
	}
}

// ReplaceSecrets replaces every occurrence of each secret in msg, in order, with
// <secret>.
func ReplaceSecrets(msg string, secrets []string) string {
	for _, v := range secrets {
		msg = strings.ReplaceAll(msg, v, "<secret>")
	}
	return msg
}

// CutSecretStart replaces the end of text with <secret> if it is the start (at least
// MinSecretLen bytes, not the whole) of one of secrets, so a cut through a token does
// not print its first half; ok is false, and text is returned as is, if none is.
func CutSecretStart(text string, secrets []string) (cut string, ok bool) {
	for _, v := range secrets {
		for k := len(v) - 1; k >= MinSecretLen; k-- {
			if strings.HasSuffix(text, v[:k]) {
				return text[:len(text)-k] + "<secret>", true
			}
		}
	}
	return text, false
}
