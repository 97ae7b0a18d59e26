package alertmanager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/opscockpit/opscockpit/internal/httpsource"
)

// MaxErrorLen caps the length in bytes of every error message this package produces, so
// a proxy's error page never floods a status chip.
const MaxErrorLen = 1024

// Kind classifies a failed request to an Alertmanager by what someone has to do about it.
type Kind string

// The kinds of failure. Their values double as the `result` label of
// opscockpit_alertmanager_polls_total.
const (
	// KindAuth is HTTP 401 or 403: the credentials are missing, wrong or not allowed.
	KindAuth Kind = "auth"
	// KindTLS is a failed TLS handshake: expired, untrusted or wrong-host certificate.
	KindTLS Kind = "tls"
	// KindUnavailable is a 5xx or 429 answer: the server or a proxy is in trouble.
	KindUnavailable Kind = "unavailable"
	// KindBadRequest is a request the server refused (400, 404, 422): a URL that is not
	// an Alertmanager, an invalid silence, an unknown silence ID. Not retried.
	KindBadRequest Kind = "bad_request"
	// KindBadResponse is an answer that is not a usable Alertmanager API response, such
	// as a proxy's HTML page with status 200.
	KindBadResponse Kind = "bad_response"
	// KindTooLarge is a response body over PollerOptions.MaxResponseBytes.
	KindTooLarge Kind = "too_large"
	// KindTimeout is a request that did not finish before its deadline.
	KindTimeout Kind = "timeout"
	// KindNetwork is a failure to reach the server: refused, reset, DNS.
	KindNetwork Kind = "network"
)

// Error is a failed request to one Alertmanager peer. Msg is plain words for a status
// chip, at most MaxErrorLen bytes, and never holds a password, token or Authorization
// header.
type Error struct {
	Kind   Kind
	Status int    // HTTP status, 0 when no response arrived
	Peer   string // the peer's short name, such as "am-2"
	Msg    string

	notFound bool // the peer does not know the silence asked for

	// cause is kept for errors.Is/As only (context.DeadlineExceeded, x509 errors); it is
	// never printed, because lower layers may quote things we do not control.
	cause error
}

// Error returns the message shown to the user.
func (e *Error) Error() string { return e.Msg }

// Unwrap gives errors.Is access to the cause, such as context.DeadlineExceeded.
func (e *Error) Unwrap() error { return e.cause }

// NotFound reports whether the peers did not know the silence a request named (it may
// have been deleted, or never existed).
func (e *Error) NotFound() bool { return e.notFound }

// Retryable reports whether the same request may succeed later without anyone fixing a
// URL, credential, certificate or silence; datasource.Retryable reads it.
func (e *Error) Retryable() bool {
	switch e.Kind {
	case KindAuth, KindTLS, KindBadRequest, KindTooLarge:
		return false
	}
	return true
}

// errTooLarge is what a capped body returns once it goes past the cap.
type errTooLarge struct{ limit int64 }

func (e *errTooLarge) Error() string {
	return fmt.Sprintf("response too large (over %s)", httpsource.HumanBytes(e.limit))
}

// classifyStatus turns a non-2xx answer into an *Error; body is its start, for a snippet.
func (c *conn) classifyStatus(pr *peer, what string, status int, contentType string, body []byte) *Error {
	reason := fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
	detail := c.bodySnippet(body)
	with := func(msg string) string {
		if detail == "" {
			return msg
		}
		return msg + ": " + httpsource.QuoteSnippet(detail)
	}
	switch {
	case status == http.StatusUnauthorized:
		return c.newError(KindAuth, status, pr, nil, "%s from %s: the server did not accept the credentials; check basic_auth, authorization or bearer_token in the Alertmanager's http_config", reason, pr.display)
	case status == http.StatusForbidden:
		return c.newError(KindAuth, status, pr, nil, "%s from %s: the credentials are not allowed to %s; check the Alertmanager's http_config and the server's access rules", reason, pr.display, what)
	case status == http.StatusNotFound && what == "list alerts":
		return c.newError(KindBadRequest, status, pr, nil, "%s from %s: no Alertmanager API v2 there; check the URL (it should not end in /api/v2)", reason, pr.display)
	case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout:
		return c.newError(KindUnavailable, status, pr, nil, "%s", with(fmt.Sprintf("%s from %s: the server is overloaded", reason, pr.display)))
	case status >= 500:
		return c.newError(KindUnavailable, status, pr, nil, "%s", with(fmt.Sprintf("%s from %s", reason, pr.display)))
	case status >= 400:
		return c.newError(KindBadRequest, status, pr, nil, "%s", with(fmt.Sprintf("%s refused to %s (%s)", pr.display, what, reason)))
	case status >= 300:
		return c.newError(KindBadResponse, status, pr, nil, "%s from %s: redirect not followed; set the URL to the final address", reason, pr.display)
	}
	ct := contentType
	if ct == "" {
		ct = "no content type"
	}
	return c.newError(KindBadResponse, status, pr, nil, "unexpected %s from %s (%s)", reason, pr.display, ct)
}

// classifyDecode names a body that is not the JSON the API promises.
func (c *conn) classifyDecode(pr *peer, status int, contentType string, body []byte, err error) *Error {
	if !looksLikeJSON(body) {
		ct := contentType
		if ct == "" {
			ct = "no content type"
		}
		return c.newError(KindBadResponse, status, pr, err, "not an Alertmanager API response from %s (%s: %s); check the URL or the proxy in front of it", pr.display, ct, httpsource.QuoteSnippet(c.bodySnippet(body)))
	}
	return c.newError(KindBadResponse, status, pr, err, "malformed Alertmanager API response from %s: %s", pr.display, decodeReason(err))
}

// decodeReason is a JSON decoding error in short words that quote no input.
func decodeReason(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the top level"
		}
		return fmt.Sprintf("%s where %s expects %s", typ.Value, field, typeName(typ.Type.String()))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends early"
	}
	var perr *time.ParseError
	if errors.As(err, &perr) {
		return "a timestamp is not in RFC 3339 form"
	}
	return "wrong JSON types"
}

func typeName(t string) string {
	switch {
	case t == "string":
		return "a string"
	case strings.HasPrefix(t, "map["):
		return "an object"
	case strings.HasPrefix(t, "[]"):
		return "an array"
	case t == "time.Time":
		return "a timestamp"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"), strings.HasPrefix(t, "float"):
		return "a number"
	case t == "bool":
		return "true or false"
	}
	return "an object"
}

// classifyTransport turns a failure to get any answer into an *Error.
func (c *conn) classifyTransport(ctx context.Context, pr *peer, err error) *Error {
	var tooLarge *errTooLarge
	switch ctxErr := ctx.Err(); {
	case errors.As(err, &tooLarge):
		return c.newError(KindTooLarge, 0, pr, tooLarge, "%s from %s", tooLarge.Error(), pr.display)
	case errors.Is(ctxErr, context.DeadlineExceeded):
		return c.newError(KindTimeout, 0, pr, ctxErr, "no complete answer from %s before the deadline", pr.display)
	case errors.Is(ctxErr, context.Canceled):
		return c.newError(KindTimeout, 0, pr, ctxErr, "request to %s cancelled", pr.display)
	}
	if e := c.classifyTLS(pr, err); e != nil {
		return e
	}
	switch f := httpsource.ClassifyNet(err); f.Problem {
	case httpsource.NetDNS:
		return c.newError(KindNetwork, 0, pr, nil, "cannot resolve host %s: %s", f.DNSName, f.DNSReason)
	case httpsource.NetRefused:
		return c.newError(KindNetwork, 0, pr, nil, "cannot connect to %s: connection refused (is Alertmanager running, is the port right?)", pr.host)
	case httpsource.NetClosed:
		return c.newError(KindNetwork, 0, pr, nil, "connection to %s closed before a full answer arrived", pr.host)
	case httpsource.NetUnreachable:
		return c.newError(KindNetwork, 0, pr, nil, "cannot reach %s: no route to host", pr.host)
	case httpsource.NetTimeout:
		return c.newError(KindTimeout, 0, pr, nil, "no answer from %s in time", pr.host)
	}
	return c.newError(KindNetwork, 0, pr, nil, "cannot reach %s: %s", pr.display, httpsource.Innermost(err))
}

// classifyTLS names a TLS failure in words someone can act on; nil if err is not one.
func (c *conn) classifyTLS(pr *peer, err error) *Error {
	switch f := httpsource.ClassifyTLS(err); f.Problem {
	case httpsource.CertNotYetValid, httpsource.CertExpired:
		return c.newError(KindTLS, 0, pr, f.Cause, "TLS: the certificate of %s is outside its validity (%s to %s); renew it or check the clocks",
			pr.host, f.Cert.NotBefore.UTC().Format(time.RFC3339), f.Cert.NotAfter.UTC().Format(time.RFC3339))
	case httpsource.CertInvalid:
		return c.newError(KindTLS, 0, pr, f.Cause, "TLS: the certificate of %s is not valid: %s", pr.host, f.Detail)
	case httpsource.CertSelfSigned, httpsource.CertUnknownAuthority:
		return c.newError(KindTLS, 0, pr, f.Cause, "TLS: the certificate of %s is signed by an unknown authority; set tls_config.ca_file in the Alertmanager's http_config to the CA that signed it", pr.host)
	case httpsource.CertWrongHost:
		return c.newError(KindTLS, 0, pr, f.Cause, "TLS: the certificate of %s does not cover %s; use a URL with a name the certificate covers, or set tls_config.server_name", pr.host, f.Host)
	case httpsource.CertUnverified:
		return c.newError(KindTLS, 0, pr, f.Cause, "TLS: the certificate of %s could not be verified: %s", pr.host, f.Detail)
	case httpsource.PlainHTTP:
		return c.newError(KindTLS, 0, pr, nil, "TLS: %s does not speak TLS; use an http:// URL", pr.host)
	case httpsource.HandshakeRefused, httpsource.HandshakeFailed:
		// A TLS alert gets no words of its own here: it is reported like any other
		// failed handshake, as long as the error says it is one.
		if strings.Contains(err.Error(), "tls: ") {
			return c.newError(KindTLS, 0, pr, nil, "TLS handshake with %s failed: %s", pr.host, httpsource.Innermost(err))
		}
	}
	return nil
}

// newError builds an *Error whose message is scrubbed of every known secret, one
// printable line, and at most MaxErrorLen bytes.
func (c *conn) newError(kind Kind, status int, pr *peer, cause error, format string, args ...any) *Error {
	e := &Error{Kind: kind, Status: status, Msg: c.clean(fmt.Sprintf(format, args...)), cause: cause}
	if pr != nil {
		e.Peer = pr.name
	}
	return e
}

// clean scrubs secrets from text bound for the user and makes it one printable line of
// valid UTF-8 of at most MaxErrorLen bytes.
func (c *conn) clean(msg string) string {
	return httpsource.OneLine(c.scrub.scrub(msg), MaxErrorLen)
}

// looksLikeJSON reports whether a body starts like a JSON object, array or string.
func looksLikeJSON(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[', '"':
			return true
		default:
			return false
		}
	}
	return false
}

// bodySnippet is a short, printable summary of an error body: Alertmanager's JSON error
// string, an HTML page's title, or the first words of text; scrubbed before and after
// it is cut, so half a token is not printed either.
func (c *conn) bodySnippet(b []byte) string {
	if len(b) > 4096 {
		b = b[:4096]
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil { // Alertmanager's errors are JSON strings
		s = string(b)
	}
	s = c.scrub.scrub(strings.ToValidUTF8(s, "\uFFFD"))
	if lower := strings.ToLower(s); strings.Contains(lower, "<html") || strings.Contains(lower, "<title") {
		s = httpsource.HTMLText(s)
	}
	return c.scrub.scrubTail(httpsource.Truncate(httpsource.CollapseSpace(s), 200))
}

// truncate cuts s to at most n bytes on a rune boundary, marking a cut with "…"; it is
// httpsource.Truncate under the short name this package's many call sites use.
func truncate(s string, n int) string { return httpsource.Truncate(s, n) }
