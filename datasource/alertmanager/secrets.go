package alertmanager

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	commoncfg "github.com/prometheus/common/config"

	"github.com/opscockpit/opscockpit/internal/httpsource"
)

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
	var set httpsource.Secrets
	userinfo := func(u *url.URL) {
		set.AddUserinfo(u)
		set.AddQuery(u)
	}
	for _, u := range urls {
		userinfo(u)
	}
	set.AddHTTPConfig(cfg, httpsource.HTTPConfigParts{
		BasicAuth: basicAuth,
		ProxyURL:  userinfo,
	})
	s := &scrubber{secrets: set.Values()}
	slices.SortFunc(s.secrets, func(a, b string) int { return len(b) - len(a) })
	s.secrets = slices.Compact(s.secrets)
	return s
}

// basicAuth is the user and password basic_auth resolves to: a file that can be read
// and is not empty wins over the inline value.
func basicAuth(b *commoncfg.BasicAuth) (user, pass string) {
	user = b.Username
	if f := httpsource.ReadSecretFile(b.UsernameFile); f != "" {
		user = f
	}
	pass = string(b.Password)
	if f := httpsource.ReadSecretFile(b.PasswordFile); f != "" {
		pass = f
	}
	return user, pass
}

// scrub replaces every known secret, and anything shaped like an echoed credential,
// with <secret>.
func (s *scrubber) scrub(msg string) string {
	if s != nil {
		msg = httpsource.ReplaceSecrets(msg, s.secrets)
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
	if cut, ok := httpsource.CutSecretStart(body, s.secrets); ok {
		return cut + "…"
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
