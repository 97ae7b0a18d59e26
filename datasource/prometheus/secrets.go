package prometheus

import (
	"net/url"
	"os"
	"regexp"
	"strings"

	commoncfg "github.com/prometheus/common/config"

	"github.com/opscockpit/opscockpit/internal/httpsource"
)

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
	var set httpsource.Secrets
	set.AddUserinfo(u)
	set.AddQuery(u)
	set.AddHTTPConfig(cfg, httpsource.HTTPConfigParts{
		BasicAuth: basicAuth,
		ProxyURL:  set.AddUserinfo,
	})
	return &scrubber{secrets: set.Values()}
}

// basicAuth is the user and password basic_auth resolves to: a file, when it can be
// read, wins over the inline value, even when it is empty.
func basicAuth(b *commoncfg.BasicAuth) (user, pass string) {
	user = b.Username
	if b.UsernameFile != "" {
		if v, err := os.ReadFile(b.UsernameFile); err == nil {
			user = strings.TrimSpace(string(v))
		}
	}
	pass = string(b.Password)
	if b.PasswordFile != "" {
		if v, err := os.ReadFile(b.PasswordFile); err == nil {
			pass = strings.TrimSpace(string(v))
		}
	}
	return user, pass
}

// scrub replaces every known secret, and anything shaped like an echoed credential, with
// <secret>.
func (s *scrubber) scrub(msg string) string {
	if s != nil {
		msg = httpsource.ReplaceSecrets(msg, s.secrets)
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
	if cut, ok := httpsource.CutSecretStart(strings.TrimSuffix(msg, "…"), s.secrets); ok {
		return cut + "…"
	}
	return msg
}
