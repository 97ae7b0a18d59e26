package prometheus

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	commoncfg "github.com/prometheus/common/config"

	"github.com/opscockpit/opscockpit/datasource"
)

// Sentinel secrets: none may appear in any error text, health or metric.
const (
	sentinelPassword = "SENTINEL-basic-pass-4f2a9c"
	sentinelToken    = "SENTINEL-bearer-token-8d31e7"
	sentinelURLPass  = "SENTINEL-url-pass-b61c05"
	sentinelFileTok  = "SENTINEL-file-token-2e9f44"
)

var allSentinels = []string{
	sentinelPassword, sentinelToken, sentinelURLPass, sentinelFileTok,
	base64.StdEncoding.EncodeToString([]byte("ops:" + sentinelPassword)),
	base64.StdEncoding.EncodeToString([]byte("ops:" + sentinelURLPass)),
}

// echo is a hostile server: it refuses with status, and quotes the request's
// Authorization header and URL back in its headers and body.
func echo(status int, seen *atomic.Value) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		seen.Store(auth)
		w.Header().Set("WWW-Authenticate", `Basic realm="prom", got="`+auth+`"`)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		io.WriteString(w, "<html><title>Denied for Authorization: "+auth+"</title><body>request "+r.URL.String()+" with "+auth+"</body></html>")
	}
}

// M6: 401 and 403 are KindAuth with a message that says what to check, and no credential
// shows up anywhere, even when the server echoes it.
func TestM6AuthNeverEchoesSecrets(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(sentinelFileTok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		status   int
		userinfo string
		cfg      commoncfg.HTTPClientConfig
		sent     string // what the server must have received, to prove the secret was used
	}{
		{"basic auth 401", 401, "", commoncfg.HTTPClientConfig{BasicAuth: &commoncfg.BasicAuth{Username: "ops", Password: sentinelPassword}},
			"Basic " + base64.StdEncoding.EncodeToString([]byte("ops:"+sentinelPassword))},
		{"bearer token 403", 403, "", commoncfg.HTTPClientConfig{BearerToken: sentinelToken}, "Bearer " + sentinelToken},
		{"authorization credentials 401", 401, "", commoncfg.HTTPClientConfig{Authorization: &commoncfg.Authorization{Type: "Bearer", Credentials: sentinelToken}}, "Bearer " + sentinelToken},
		{"bearer token file 403", 403, "", commoncfg.HTTPClientConfig{BearerTokenFile: tokenFile}, "Bearer " + sentinelFileTok},
		{"URL userinfo 401", 401, "ops:" + sentinelURLPass + "@", commoncfg.HTTPClientConfig{},
			"Basic " + base64.StdEncoding.EncodeToString([]byte("ops:"+sentinelURLPass))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var seen atomic.Value
			srv := newFaultServer(t, echo(tc.status, &seen))
			url := strings.Replace(srv.URL, "http://", "http://"+tc.userinfo, 1)
			reg := newRegistry()
			src, _ := newTestSource(t, url, func(o *Options) { o.HTTPConfig = tc.cfg; o.Metrics = NewMetrics(reg) })
			for _, q := range []func() error{
				func() error { _, err := src.Query(context.Background(), `up{password="x"}`, t0); return err },
				func() error {
					_, err := src.QueryRange(context.Background(), "up", datasource.Range{Start: t0.Add(-time.Hour), End: t0, Step: time.Minute})
					return err
				},
			} {
				err := q()
				e := asError(t, err, KindAuth)
				if e.Status != tc.status || e.Retryable() {
					t.Errorf("status %d retryable %v", e.Status, e.Retryable())
				}
				if !strings.Contains(e.Msg, "http_config") {
					t.Errorf("message %q should say where to look", e.Msg)
				}
				assertNoSecret(t, "error", err.Error(), allSentinels...)
				assertNoSecret(t, "health", src.Health().LastError, allSentinels...)
				t.Log(e.Msg)
			}
			if got, _ := seen.Load().(string); got != tc.sent {
				t.Fatalf("server saw Authorization %q, want %q: the credential was not used", got, tc.sent)
			}
			assertNoSecret(t, "metrics", gatherText(t, reg), allSentinels...)
		})
	}
}

// certSpec is a server certificate to issue: by ca (nil: self-signed), for hosts, valid
// from nb to na.
type certSpec struct {
	ca     *testCA
	hosts  []string
	nb, na time.Time
}

// M6: TLS failures say which one it is, never fall back to skipping verification, and
// work when the config does say insecure_skip_verify.
func TestM6TLS(t *testing.T) {
	ca := newCA(t, "OpsCockpit Test CA")
	otherCA := newCA(t, "Some Other CA")
	now := time.Now()
	ok := okJSON("vector", `[{"metric":{"__name__":"up"},"value":[1772366400,"1"]}]`)
	plain := httptest.NewServer(ok)
	t.Cleanup(plain.Close)

	tests := []struct {
		name     string
		cert     *certSpec
		url      string // overrides the TLS server's URL
		trustCA  bool
		insecure bool
		wantErr  bool
		contains []string
	}{
		{name: "valid", cert: &certSpec{ca, []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(time.Hour)}, trustCA: true},
		{name: "expired", cert: &certSpec{ca, []string{"127.0.0.1"}, now.Add(-48 * time.Hour), now.Add(-24 * time.Hour)}, trustCA: true, wantErr: true,
			contains: []string{"expired on " + now.Add(-24*time.Hour).UTC().Format("2006-01-02"), "renew"}},
		{name: "not yet valid", cert: &certSpec{ca, []string{"127.0.0.1"}, now.Add(24 * time.Hour), now.Add(48 * time.Hour)}, trustCA: true, wantErr: true,
			contains: []string{"not valid until", "clock"}},
		{name: "self-signed, no CA configured", cert: &certSpec{nil, []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(time.Hour)}, wantErr: true,
			contains: []string{"self-signed", "ca_file"}},
		{name: "unknown authority", cert: &certSpec{otherCA, []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(time.Hour)}, trustCA: true, wantErr: true,
			contains: []string{"unknown authority", "ca_file"}},
		{name: "wrong host", cert: &certSpec{ca, []string{"prom.example", "prom-2.example"}, now.Add(-time.Hour), now.Add(time.Hour)}, trustCA: true, wantErr: true,
			contains: []string{"is for prom.example, prom-2.example, not for 127.0.0.1", "server_name"}},
		{name: "self-signed with insecure_skip_verify", cert: &certSpec{nil, []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(time.Hour)}, insecure: true},
		{name: "https to a plain HTTP server", url: strings.Replace(plain.URL, "http://", "https://", 1), wantErr: true,
			contains: []string{"does not speak TLS", "http://"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url := tc.url
			if tc.cert != nil {
				srv := newTLSServer(t, leaf(t, tc.cert.ca, tc.cert.hosts, tc.cert.nb, tc.cert.na), ok)
				url = srv.URL
			}
			cfg := commoncfg.HTTPClientConfig{BasicAuth: &commoncfg.BasicAuth{Username: "ops", Password: sentinelPassword}}
			cfg.TLSConfig.InsecureSkipVerify = tc.insecure
			if tc.trustCA {
				cfg.TLSConfig.CA = ca.pem
			}
			src, _ := newTestSource(t, strings.Replace(url, "://", "://ops:"+sentinelURLPass+"@", 1), func(o *Options) { o.HTTPConfig = cfg })
			res, err := src.Query(ctxTimeout(t, 10*time.Second), "up", t0)
			if !tc.wantErr {
				if err != nil || len(res.Series) != 1 {
					t.Fatalf("err %v, result %+v", err, res)
				}
				return
			}
			e := asError(t, err, KindTLS)
			if e.Retryable() {
				t.Error("a certificate problem needs a person; not retryable")
			}
			for _, c := range tc.contains {
				if !strings.Contains(e.Msg, c) {
					t.Errorf("message %q should contain %q", e.Msg, c)
				}
			}
			assertNoSecret(t, "error", e.Msg, allSentinels...)
			assertNoSecret(t, "health", src.Health().LastError, allSentinels...)
			t.Log(e.Msg)
		})
	}
}

// S1: a server that quotes credentials back in any text we show (error bodies, HTML
// titles, warnings) still never gets them onto a panel, even cut in half.
func TestSecretsInServerText(t *testing.T) {
	basic := base64.StdEncoding.EncodeToString([]byte("ops:" + sentinelPassword))
	pad := strings.Repeat("x", 190)
	tests := []struct {
		name string
		h    func(w http.ResponseWriter)
	}{
		{"400 error quoting the header", func(w http.ResponseWriter) {
			w.WriteHeader(400)
			io.WriteString(w, errJSON("bad_data", "bad request with Authorization: Bearer "+sentinelToken))
		}},
		{"400 error quoting the raw token", func(w http.ResponseWriter) {
			w.WriteHeader(400)
			io.WriteString(w, errJSON("bad_data", "unknown token "+sentinelToken+" and password "+sentinelPassword))
		}},
		{"502 title", func(w http.ResponseWriter) {
			w.WriteHeader(502)
			io.WriteString(w, "<html><title>bad gateway for "+sentinelToken+" / "+basic+"</title></html>")
		}},
		{"200 text cut through the token", func(w http.ResponseWriter) {
			io.WriteString(w, pad+sentinelToken+" "+sentinelPassword)
		}},
		{"503 body cut through the password", func(w http.ResponseWriter) {
			w.WriteHeader(503)
			io.WriteString(w, pad+"pw="+sentinelPassword)
		}},
		{"warnings", func(w http.ResponseWriter) {
			io.WriteString(w, success("vector", `[]`, `,"warnings":["token `+sentinelToken+`","Basic `+basic+`"],"infos":["`+sentinelPassword+`"]`))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request) { tc.h(w) })
			for _, c := range []struct {
				cfg     commoncfg.HTTPClientConfig
				secrets []string // what this config sends; other text is not ours to hide
			}{
				{commoncfg.HTTPClientConfig{BearerToken: sentinelToken}, []string{sentinelToken}},
				{commoncfg.HTTPClientConfig{BasicAuth: &commoncfg.BasicAuth{Username: "ops", Password: sentinelPassword}}, []string{sentinelPassword, basic}},
			} {
				src, _ := newTestSource(t, srv.URL, func(o *Options) { o.HTTPConfig = c.cfg })
				res, err := src.Query(context.Background(), "up", t0)
				text := strings.Join(res.Warnings, "\n")
				if err != nil {
					text += "\n" + err.Error()
				}
				text += "\n" + src.Health().LastError
				// The prefix of a secret cut at a snippet's end counts as a leak too.
				for _, s := range c.secrets {
					assertNoSecret(t, "output", text, s[:12])
				}
				t.Log(strings.ReplaceAll(text, "\n", " | "))
			}
		})
	}
}
