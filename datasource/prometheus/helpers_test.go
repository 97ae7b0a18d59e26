package prometheus

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// t0 is the fake clock's start and the time test payloads are stamped with.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeClock is an injected clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// faultServer is an httptest server whose behaviour a test switches at will.
type faultServer struct {
	*httptest.Server
	handler atomic.Pointer[http.HandlerFunc]
	hits    atomic.Int64
	mu      sync.Mutex
	lastReq *http.Request
	form    map[string][]string
}

func newFaultServer(t *testing.T, h http.HandlerFunc) *faultServer {
	t.Helper()
	fs := &faultServer{}
	fs.set(h)
	fs.Server = httptest.NewUnstartedServer(http.HandlerFunc(fs.serve))
	fs.Config.ErrorLog = log.New(io.Discard, "", 0)
	fs.Start()
	t.Cleanup(fs.Close)
	return fs
}

func (fs *faultServer) set(h http.HandlerFunc) { fs.handler.Store(&h) }

func (fs *faultServer) serve(w http.ResponseWriter, r *http.Request) {
	fs.hits.Add(1)
	_ = r.ParseForm()
	fs.mu.Lock()
	fs.lastReq, fs.form = r, r.Form
	fs.mu.Unlock()
	(*fs.handler.Load())(w, r)
}

func (fs *faultServer) lastForm() map[string][]string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.form
}

// reply answers with a fixed status, content type and body.
func reply(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// okJSON is a 200 Prometheus success envelope around a result.
func okJSON(resultType, result string) http.HandlerFunc {
	return reply(200, "application/json", success(resultType, result, ""))
}

func success(resultType, result, extra string) string {
	return fmt.Sprintf(`{"status":"success","data":{"resultType":%q,"result":%s}%s}`, resultType, result, extra)
}

func errJSON(errorType, msg string) string {
	return fmt.Sprintf(`{"status":"error","errorType":%q,"error":%q}`, errorType, msg)
}

// newTestSource builds a Source for url on a fake clock; mod adjusts the options.
func newTestSource(t *testing.T, url string, mod func(*Options)) (*Source, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	opts := Options{Name: "test", URL: url, Now: clk.Now}
	if mod != nil {
		mod(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, clk
}

// asError asserts err is an *Error of the wanted kind.
func asError(t *testing.T, err error, want Kind) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want a %s error, got none", want)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error of kind %s, got %T: %v", want, err, err)
	}
	if e.Kind != want {
		t.Fatalf("kind = %s, want %s (msg %q)", e.Kind, want, e.Msg)
	}
	if len(e.Msg) > MaxErrorLen {
		t.Fatalf("message is %d bytes, over %d", len(e.Msg), MaxErrorLen)
	}
	return e
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// testCA issues certificates for the TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
}

var serial atomic.Int64

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial.Add(1)),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

// leaf issues a server certificate for hosts (names or IPs) valid from nb to na; a nil
// ca makes it self-signed.
func leaf(t *testing.T, ca *testCA, hosts []string, nb, na time.Time) tls.Certificate {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)),
		Subject:      pkix.Name{CommonName: hosts[0]},
		NotBefore:    nb,
		NotAfter:     na,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	parent, signer := tmpl, key
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// newTLSServer serves h over TLS with cert.
func newTLSServer(t *testing.T, cert tls.Certificate, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// assertNoSecret fails if any sentinel shows up in text.
func assertNoSecret(t *testing.T, where, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s leaks a secret %q: %q", where, s, text)
		}
	}
}
