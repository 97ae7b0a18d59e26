package alertmanager

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	commoncfg "github.com/prometheus/common/config"
)

// TestS1SecretsNeverEchoed puts a sentinel secret in each kind of credential, has the
// server echo everything it got back in every kind of answer, and checks that the
// sentinel shows up in no error, health, log line or metric.
func TestS1SecretsNeverEchoed(t *testing.T) {
	const (
		basicPW  = "S3ntinel-basic-pw-0001"
		bearer   = "S3ntinel-bearer-tok-0002"
		urlPW    = "S3ntinel-url-pw-0003"
		urlQuery = "S3ntinel-query-key-0004"
	)
	sentinels := []string{basicPW, bearer, urlPW, urlQuery}
	echo := func(status int, html bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			user, pass, _ := r.BasicAuth()
			text := fmt.Sprintf("denied: Authorization=%s decoded=%s:%s url=%s query=%s",
				r.Header.Get("Authorization"), user, pass, r.URL.String(), r.URL.RawQuery)
			if html {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(status)
				fmt.Fprintf(w, "<html><head><title>%s</title></head><body>%s</body></html>", text, text)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprintf(w, "%q", text)
		}
	}
	answers := []struct {
		name  string
		fault http.HandlerFunc
	}{
		{"401", echo(401, false)},
		{"403 HTML", echo(403, true)},
		{"500", echo(500, false)},
		{"400", echo(400, false)},
		{"200 HTML", echo(200, true)},
		{"502 long", func(w http.ResponseWriter, r *http.Request) {
			// The credential sits where a 200-byte snippet cuts it in half.
			w.WriteHeader(502)
			fmt.Fprintf(w, "%s Authorization=%s", strings.Repeat("e", 170), r.Header.Get("Authorization"))
		}},
	}
	creds := []struct {
		name string
		mod  func(o *PollerOptions, base string)
	}{
		{"basic auth", func(o *PollerOptions, base string) {
			o.URLs = []string{base}
			o.HTTPConfig = commoncfg.HTTPClientConfig{BasicAuth: &commoncfg.BasicAuth{Username: "ops", Password: basicPW}, FollowRedirects: true}
		}},
		{"bearer token", func(o *PollerOptions, base string) {
			o.URLs = []string{base}
			o.HTTPConfig = commoncfg.HTTPClientConfig{BearerToken: bearer, FollowRedirects: true}
		}},
		{"URL userinfo and query", func(o *PollerOptions, base string) {
			o.URLs = []string{strings.Replace(base, "http://", "http://ops:"+urlPW+"@", 1) + "/?api_key=" + urlQuery}
		}},
	}
	for _, c := range creds {
		for _, a := range answers {
			t.Run(c.name+"/"+a.name, func(t *testing.T) {
				am := newFakeAM(t, "[]")
				am.setFault(a.fault)
				logs := &syncBuffer{}
				reg := prometheus.NewRegistry()
				p, _ := newTestPoller(t, nil, func(o *PollerOptions) {
					c.mod(o, am.URL)
					o.Log = testLogger(logs)
					o.Metrics = NewMetrics(reg)
				})
				ctx := ctxTimeout(t, 10*time.Second)
				var texts []string
				if _, err := p.Poll(ctx); err != nil {
					texts = append(texts, err.Error())
				}
				if a.name == "200 HTML" && !strings.Contains(strings.Join(texts, ""), "not an Alertmanager API response") {
					t.Errorf("poll: %v", texts)
				}
				am.mu.Lock()
				sent := am.lastAuth
				am.mu.Unlock()
				if sent == "" {
					t.Fatal("no credential was sent")
				}
				_, err := p.CreateSilence(ctx, Silence{Matchers: MatchersForAlert(map[string]string{"a": "b"}), EndsAt: t0.Add(time.Hour), CreatedBy: "x", Comment: "y"})
				if err != nil {
					texts = append(texts, err.Error())
				}
				if _, err := p.Silences(ctx); err != nil {
					texts = append(texts, err.Error())
				}
				if err := p.ExpireSilence(ctx, "some-id"); err != nil {
					texts = append(texts, err.Error())
				}
				h := p.Health()
				texts = append(texts, h.LastError, h.Source, logs.String())
				for _, ph := range p.PeerHealth() {
					texts = append(texts, ph.LastError, ph.Source)
				}
				mfs, err := reg.Gather()
				if err != nil {
					t.Fatal(err)
				}
				for _, mf := range mfs {
					texts = append(texts, mf.String())
				}
				all := strings.Join(texts, "\n")
				for _, s := range sentinels {
					for _, part := range []string{s, s[:12]} { // not even the start of one
						if strings.Contains(all, part) {
							t.Fatalf("%q leaks:\n%s", part, all)
						}
					}
				}
				if !strings.Contains(all, "<secret>") && a.name != "401" && a.name != "403 HTML" {
					t.Logf("nothing needed scrubbing? %s", all)
				}
			})
		}
	}
}

// TestScrubber covers the encodings a credential may come back in.
func TestScrubber(t *testing.T) {
	s := newScrubber(nil, &commoncfg.HTTPClientConfig{
		BasicAuth: &commoncfg.BasicAuth{Username: "ops", Password: "p@ss word/1"},
	})
	tests := []struct{ in, leak string }{
		{"pw p@ss word/1 here", "p@ss word/1"},
		{"query p%40ss+word%2F1", "p%40ss+word%2F1"},
		{"path p@ss%20word%2F1", "p@ss%20word%2F1"},
		{"header Basic b3BzOnBAc3Mgd29yZC8x", "b3BzOnBAc3Mgd29yZC8x"},
		{`{"password": "hunter2hunter2"}`, "hunter2hunter2"},
		{"x-api-key=abcdefgh12345", "abcdefgh12345"},
	}
	for _, tc := range tests {
		if got := s.scrub(tc.in); strings.Contains(got, tc.leak) || !strings.Contains(got, "<secret>") {
			t.Errorf("scrub(%q) = %q", tc.in, got)
		}
	}
	if got := s.scrubTail("see p@ss wo…"); got != "see <secret>…" {
		t.Errorf("scrubTail = %q", got)
	}
	if got := s.scrubTail("nothing here…"); got != "nothing here…" {
		t.Errorf("scrubTail = %q", got)
	}
}
