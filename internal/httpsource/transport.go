package httpsource

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
)

// TLSProblem is what went wrong in a TLS handshake, in terms of what to fix.
type TLSProblem int

// The TLS problems ClassifyTLS tells apart, in the order it checks for them.
const (
	// NotTLS means err is not a TLS failure at all.
	NotTLS TLSProblem = iota
	// CertNotYetValid is a certificate whose validity starts in the future.
	CertNotYetValid
	// CertExpired is a certificate whose validity has ended.
	CertExpired
	// CertInvalid is any other x509.CertificateInvalidError.
	CertInvalid
	// CertSelfSigned is a self-signed certificate that is not trusted.
	CertSelfSigned
	// CertUnknownAuthority is a certificate signed by a CA that is not trusted.
	CertUnknownAuthority
	// CertWrongHost is a certificate that does not cover the host name dialled.
	CertWrongHost
	// CertUnverified is any other failed certificate verification.
	CertUnverified
	// PlainHTTP is a server that answered a TLS handshake in plain HTTP.
	PlainHTTP
	// HandshakeRefused is a TLS alert from the server (client certificate, versions).
	HandshakeRefused
	// HandshakeFailed is any other error that mentions TLS.
	HandshakeFailed
)

// TLSFailure is a TLS failure taken apart for a message.
type TLSFailure struct {
	Problem TLSProblem
	// Cert is the certificate at fault, when the error names one.
	Cert *x509.Certificate
	// Host is the name dialled, for CertWrongHost.
	Host string
	// Detail is the error's own words: for CertInvalid, CertUnverified, HandshakeRefused
	// and HandshakeFailed.
	Detail string
	// Cause is the typed error found, for errors.Is/As; nil when none was.
	Cause error
}

// ClassifyTLS takes apart a failed request's error if it is a TLS failure; the result's
// Problem is NotTLS if it is not one.
func ClassifyTLS(err error) TLSFailure {
	var invalid x509.CertificateInvalidError
	var unknown x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recordErr tls.RecordHeaderError
	var alert tls.AlertError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired && invalid.Cert != nil {
			if strings.Contains(invalid.Detail, "before") {
				return TLSFailure{Problem: CertNotYetValid, Cert: invalid.Cert, Cause: invalid}
			}
			return TLSFailure{Problem: CertExpired, Cert: invalid.Cert, Cause: invalid}
		}
		return TLSFailure{Problem: CertInvalid, Cert: invalid.Cert, Detail: invalid.Error(), Cause: invalid}
	case errors.As(err, &unknown):
		if c := unknown.Cert; c != nil && c.Subject.String() == c.Issuer.String() {
			return TLSFailure{Problem: CertSelfSigned, Cert: c, Cause: unknown}
		}
		return TLSFailure{Problem: CertUnknownAuthority, Cert: unknown.Cert, Cause: unknown}
	case errors.As(err, &hostErr):
		return TLSFailure{Problem: CertWrongHost, Cert: hostErr.Certificate, Host: hostErr.Host, Cause: hostErr}
	case errors.As(err, &verify):
		return TLSFailure{Problem: CertUnverified, Detail: fmt.Sprintf("%s", verify.Err), Cause: verify}
	case errors.As(err, &recordErr), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return TLSFailure{Problem: PlainHTTP}
	case errors.As(err, &alert):
		return TLSFailure{Problem: HandshakeRefused, Detail: alert.Error()}
	case strings.Contains(err.Error(), "tls: "):
		return TLSFailure{Problem: HandshakeFailed, Detail: Innermost(err)}
	}
	return TLSFailure{Problem: NotTLS}
}

// CertNames lists the names a certificate covers for a message: its DNS names and IP
// addresses (else its common name), at most five, or "no names".
func CertNames(c *x509.Certificate) string {
	if c == nil {
		return "no names"
	}
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = append(names, c.Subject.CommonName)
	}
	if len(names) == 0 {
		return "no names"
	}
	if len(names) > 5 {
		names = append(names[:5], "…")
	}
	return strings.Join(names, ", ")
}

// NetProblem is why a server could not be reached at all.
type NetProblem int

// The network problems ClassifyNet tells apart, in the order it checks for them.
const (
	// NetOther is any failure not named below.
	NetOther NetProblem = iota
	// NetDNS is a host name that did not resolve.
	NetDNS
	// NetRefused is a connection refused: nothing listens on the port.
	NetRefused
	// NetClosed is a connection reset or closed before a full answer arrived.
	NetClosed
	// NetUnreachable is no route to the host or its network.
	NetUnreachable
	// NetTimeout is a network operation that timed out.
	NetTimeout
)

// NetFailure is a failure to reach a server taken apart for a message.
type NetFailure struct {
	Problem NetProblem
	// DNSName and DNSReason are the name that did not resolve and why ("not found",
	// or the resolver's words), for NetDNS.
	DNSName, DNSReason string
}

// ClassifyNet takes apart a failure to reach a server. It does not look at TLS or at
// the request's context; callers check those first.
func ClassifyNet(err error) NetFailure {
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case errors.As(err, &dnsErr):
		why := "not found"
		if !dnsErr.IsNotFound {
			why = dnsErr.Err
		}
		return NetFailure{Problem: NetDNS, DNSName: dnsErr.Name, DNSReason: why}
	case errors.Is(err, syscall.ECONNREFUSED):
		return NetFailure{Problem: NetRefused}
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return NetFailure{Problem: NetClosed}
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return NetFailure{Problem: NetUnreachable}
	case errors.As(err, &netErr) && netErr.Timeout():
		return NetFailure{Problem: NetTimeout}
	}
	return NetFailure{Problem: NetOther}
}
