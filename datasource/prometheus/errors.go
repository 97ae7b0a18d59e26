package prometheus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/opscockpit/opscockpit/internal/httpsource"
)

// MaxErrorLen caps the length in bytes of every error message and warning this package
// produces, so that a proxy's 2 MB error page never floods a panel.
const MaxErrorLen = 1024

// Kind classifies a failed query by what someone has to do about it.
type Kind string

// The kinds of query failure. Their values double as the `kind` label of
// opscockpit_datasource_errors_total.
const (
	// KindBadQuery is a query (or source URL) the server refuses: HTTP 400/422, bad_data.
	// Fixing it takes a config change, so it is not retried.
	KindBadQuery Kind = "bad_query"
	// KindAuth is HTTP 401 or 403: the credentials are missing, wrong or not allowed.
	KindAuth Kind = "auth"
	// KindTLS is a failed TLS handshake: expired, untrusted or wrong-host certificate.
	KindTLS Kind = "tls"
	// KindUnavailable is a 5xx (or 429) answer: the server or a proxy is in trouble.
	KindUnavailable Kind = "unavailable"
	// KindBadResponse is an answer that is not a usable Prometheus API response, such
	// as a proxy's HTML page with status 200.
	KindBadResponse Kind = "bad_response"
	// KindTooLarge is a response body over Options.MaxResponseBytes.
	KindTooLarge Kind = "too_large"
	// KindTimeout is a query that did not finish before its context's deadline.
	KindTimeout Kind = "timeout"
	// KindNetwork is a failure to reach the server: refused, reset, DNS.
	KindNetwork Kind = "network"
)

// Error is a failed query. Msg is plain words for a panel, at most MaxErrorLen bytes,
// and never holds a password, token or Authorization header.
type Error struct {
	Kind   Kind
	Status int // HTTP status, 0 when no response arrived
	Msg    string

	// cause is kept for errors.Is/As only (context.DeadlineExceeded, x509 errors); it is
	// never printed, because lower layers may quote things we do not control.
	cause error
}

// Error returns the message shown to the user.
func (e *Error) Error() string { return e.Msg }

// Unwrap gives errors.Is access to the cause, such as context.DeadlineExceeded.
func (e *Error) Unwrap() error { return e.cause }

// Retryable reports whether the same query, unchanged, may succeed on a later attempt
// without anyone fixing the query, the config or a certificate; callers hot-retry only
// these.
func (e *Error) Retryable() bool {
	switch e.Kind {
	case KindBadQuery, KindAuth, KindTLS, KindTooLarge:
		return false
	default:
		return true
	}
}

// IsRetryable reports whether err is worth retrying: an *Error that says so, or any
// error this package does not know (better one more try than a silent stop). A nil
// error is not: nothing failed.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Retryable()
	}
	return true
}

// errTooLarge is returned by the response body once it goes past the size cap.
type errTooLarge struct{ limit int64 }

func (e *errTooLarge) Error() string {
	return fmt.Sprintf("result too large (> %s); narrow the query", humanBytes(e.limit))
}

// exchange records what the HTTP layer saw of the last request made for one query;
// client_golang's API hides the response, and the classification needs it.
type exchange struct {
	status      int
	contentType string
	bytes       int64
	head        []byte // the start of the body, for a snippet in error messages
}

type exchangeKey struct{}

func exchangeFrom(ctx context.Context) *exchange {
	x, _ := ctx.Value(exchangeKey{}).(*exchange)
	return x
}

// classify turns whatever the client returned into an *Error with a plain message.
func (s *Source) classify(ctx context.Context, err error, x *exchange) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if x == nil {
		x = &exchange{}
	}
	switch ctxErr := ctx.Err(); {
	case errors.Is(ctxErr, context.DeadlineExceeded):
		return s.newError(KindTimeout, 0, ctxErr, "no complete answer from %s before the deadline", s.base)
	case errors.Is(ctxErr, context.Canceled):
		return s.newError(KindTimeout, 0, ctxErr, "query to %s cancelled", s.base)
	}
	var tooLarge *errTooLarge
	if errors.As(err, &tooLarge) {
		return s.newError(KindTooLarge, x.status, tooLarge, "%s", tooLarge.Error())
	}
	var apiErr *v1.Error
	if errors.As(err, &apiErr) {
		return s.classifyAPI(apiErr, x)
	}
	if e := s.classifyTLS(err); e != nil {
		return e
	}
	return s.classifyNet(err)
}

// classifyAPI handles errors client_golang built from an HTTP response.
func (s *Source) classifyAPI(apiErr *v1.Error, x *exchange) *Error {
	st := x.status
	reason := fmt.Sprintf("HTTP %d %s", st, http.StatusText(st))
	// For 400/422 client_golang has already pulled Prometheus's own message out of the
	// JSON body; for other statuses the body is in Detail.
	detail := apiErr.Msg
	if apiErr.Detail != "" || strings.HasPrefix(apiErr.Msg, "client error:") || strings.HasPrefix(apiErr.Msg, "server error:") {
		detail = s.bodySnippet([]byte(apiErr.Detail))
	}
	withDetail := func(msg string) string {
		if detail == "" {
			return msg
		}
		return msg + ": " + detail
	}
	switch {
	case st == http.StatusUnauthorized:
		return s.newError(KindAuth, st, nil, "%s from %s: the server did not accept the credentials; check basic_auth, authorization or bearer_token in the source's http_config", reason, s.base)
	case st == http.StatusForbidden:
		return s.newError(KindAuth, st, nil, "%s from %s: the credentials are not allowed to query; check the source's http_config and the server's access rules", reason, s.base)
	case st == http.StatusBadRequest || st == http.StatusUnprocessableEntity:
		what := "bad query"
		if apiErr.Type == v1.ErrExec {
			what = "query failed"
		}
		return s.newError(KindBadQuery, st, nil, "%s", withDetail(fmt.Sprintf("%s (%s, %s)", what, reason, apiErr.Type)))
	case st == http.StatusNotFound:
		return s.newError(KindBadQuery, st, nil, "%s from %s: no Prometheus query API there; check the source URL (it should not end in /api/v1)", reason, s.base)
	case st == http.StatusTooManyRequests || st == http.StatusRequestTimeout:
		return s.newError(KindUnavailable, st, nil, "%s", withDetail(fmt.Sprintf("%s from %s: the server is overloaded", reason, s.base)))
	case st >= 500:
		return s.newError(KindUnavailable, st, nil, "%s", withDetail(fmt.Sprintf("%s from %s", reason, s.base)))
	case st >= 400:
		return s.newError(KindBadQuery, st, nil, "%s", withDetail(fmt.Sprintf("%s from %s", reason, s.base)))
	case st >= 300:
		return s.newError(KindBadResponse, st, nil, "%s from %s: redirect not followed; set the source URL to the final address", reason, s.base)
	}
	// A 2xx whose body is an error or not a Prometheus response at all.
	switch apiErr.Type {
	case v1.ErrBadData, v1.ErrExec:
		return s.newError(KindBadQuery, st, nil, "bad query (%s): %s", apiErr.Type, apiErr.Msg)
	case v1.ErrTimeout, v1.ErrCanceled:
		return s.newError(KindTimeout, st, nil, "%s gave up on the query (%s): %s", s.base, apiErr.Type, apiErr.Msg)
	case v1.ErrBadResponse:
		if t, ok := strings.CutPrefix(apiErr.Msg, "unexpected value type "); ok {
			return s.newError(KindBadResponse, st, nil, "the query returns a %s, not numbers; a panel needs a vector, matrix or scalar", strings.Trim(t, `"`))
		}
		if !looksLikeJSON(x.head) {
			ct := x.contentType
			if ct == "" {
				ct = "no content type"
			}
			return s.newError(KindBadResponse, st, nil, "not a Prometheus API response from %s (%s, %s: %s); check the source URL or the proxy in front of it", s.base, reason, ct, httpsource.QuoteSnippet(s.bodySnippet(x.head)))
		}
		return s.newError(KindBadResponse, st, nil, "malformed Prometheus API response from %s: %s", s.base, apiErr.Msg)
	}
	return s.newError(KindBadResponse, st, nil, "%s answered with an error (%s): %s", s.base, apiErr.Type, apiErr.Msg)
}

// classifyTLS names the TLS failure in words someone can act on; nil if err is not one.
func (s *Source) classifyTLS(err error) *Error {
	host := s.host
	f := httpsource.ClassifyTLS(err)
	switch f.Problem {
	case httpsource.CertNotYetValid:
		return s.newError(KindTLS, 0, f.Cause, "TLS: the certificate of %s is not valid until %s (check the server's or this machine's clock)",
			host, f.Cert.NotBefore.UTC().Format(time.RFC3339))
	case httpsource.CertExpired:
		return s.newError(KindTLS, 0, f.Cause, "TLS: the certificate of %s expired on %s; renew it on the server",
			host, f.Cert.NotAfter.UTC().Format(time.RFC3339))
	case httpsource.CertInvalid:
		return s.newError(KindTLS, 0, f.Cause, "TLS: the certificate of %s is not valid: %s", host, f.Detail)
	case httpsource.CertSelfSigned:
		return s.newError(KindTLS, 0, f.Cause, "TLS: the certificate of %s is self-signed and not trusted; set tls_config.ca_file (or ca) in the source's http_config to that certificate or the CA that issued it", host)
	case httpsource.CertUnknownAuthority:
		return s.newError(KindTLS, 0, f.Cause, "TLS: the certificate of %s is signed by an unknown authority; set tls_config.ca_file (or ca) in the source's http_config to the CA that signed it", host)
	case httpsource.CertWrongHost:
		return s.newError(KindTLS, 0, f.Cause, "TLS: the certificate of %s is for %s, not for %s; use a URL with a name the certificate covers, or set tls_config.server_name",
			host, httpsource.CertNames(f.Cert), f.Host)
	case httpsource.CertUnverified:
		return s.newError(KindTLS, 0, f.Cause, "TLS: the certificate of %s could not be verified: %s", host, f.Detail)
	case httpsource.PlainHTTP:
		return s.newError(KindTLS, 0, nil, "TLS: %s does not speak TLS; use an http:// URL", host)
	case httpsource.HandshakeRefused:
		return s.newError(KindTLS, 0, nil, "TLS: %s refused the handshake (%s); check tls_config (client certificate, versions)", host, f.Detail)
	case httpsource.HandshakeFailed:
		return s.newError(KindTLS, 0, nil, "TLS handshake with %s failed: %s", host, f.Detail)
	}
	return nil
}

// classifyNet handles failures to reach the server at all.
func (s *Source) classifyNet(err error) *Error {
	switch f := httpsource.ClassifyNet(err); f.Problem {
	case httpsource.NetDNS:
		return s.newError(KindNetwork, 0, nil, "cannot resolve host %s: %s", f.DNSName, f.DNSReason)
	case httpsource.NetRefused:
		return s.newError(KindNetwork, 0, nil, "cannot connect to %s: connection refused (is the server running, is the port right?)", s.host)
	case httpsource.NetClosed:
		return s.newError(KindNetwork, 0, nil, "connection to %s closed before a full answer arrived", s.host)
	case httpsource.NetUnreachable:
		return s.newError(KindNetwork, 0, nil, "cannot reach %s: no route to host", s.host)
	case httpsource.NetTimeout:
		return s.newError(KindTimeout, 0, nil, "no answer from %s in time: %s", s.host, httpsource.Innermost(err))
	}
	return s.newError(KindNetwork, 0, nil, "cannot query %s: %s", s.base, httpsource.Innermost(err))
}

// newError builds an *Error whose message has had every known secret removed and is
// cut to MaxErrorLen.
func (s *Source) newError(kind Kind, status int, cause error, format string, args ...any) *Error {
	return &Error{Kind: kind, Status: status, Msg: s.clean(fmt.Sprintf(format, args...)), cause: cause}
}

// clean scrubs secrets from text bound for the user, makes it one printable line of
// valid UTF-8 (servers and decoders quote raw bytes), and cuts it to MaxErrorLen.
func (s *Source) clean(msg string) string {
	return httpsource.OneLine(s.scrub.scrub(msg), MaxErrorLen)
}

// looksLikeJSON reports whether a body starts like a JSON object.
func looksLikeJSON(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		default:
			return false
		}
	}
	return false
}

// bodySnippet is a short, printable summary of an error body: Prometheus's JSON error
// text, an HTML page's title, or the first words of text.
// The text is scrubbed before it is cut, and a cut end that starts a secret is dropped.
func (src *Source) bodySnippet(b []byte) string {
	if len(b) > 4096 {
		b = b[:4096]
	}
	s := src.scrub.scrubTail(src.scrub.scrub(strings.ToValidUTF8(string(b), "\uFFFD")))
	if looksLikeJSON(b) {
		if i := strings.Index(s, `"error":"`); i >= 0 {
			rest := s[i+len(`"error":"`):]
			if j := strings.Index(rest, `"`); j >= 0 {
				rest = rest[:j]
			}
			s = rest
		}
	} else if lower := strings.ToLower(s); strings.Contains(lower, "<html") || strings.Contains(lower, "<!doctype") || strings.Contains(lower, "<title") {
		s = httpsource.HTMLText(s)
	}
	return src.scrub.scrubTail(httpsource.Truncate(httpsource.CollapseSpace(s), 200))
}

// humanBytes prints a size in binary units: 1 GiB, 64 MiB, 512 KiB, 100 B.
func humanBytes(n int64) string {
	if n >= 1<<30 && n%(1<<30) == 0 {
		return fmt.Sprintf("%d GiB", n>>30)
	}
	return httpsource.HumanBytes(n)
}
