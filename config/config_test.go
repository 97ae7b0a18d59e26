package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	commoncfg "github.com/prometheus/common/config"
)

const name = "opscockpit.yaml"

// mustLoad loads src and fails the test on any error.
func mustLoad(t *testing.T, src string) *Config {
	t.Helper()
	c, err := Load([]byte(src), name)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func TestLoadFullConfig(t *testing.T) {
	data, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(data, "testdata/full.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	dec := func(d Duration) string { return d.String() }
	tests := []struct {
		name      string
		got, want any
	}{
		{"title", c.Title, "Checkout war room"},
		{"theme", c.Theme, ThemeDark},
		{"scenario", c.Scenario == nil, true},
		{"refresh", dec(c.Metrics.Refresh), "15s"},
		{"timeout", dec(c.Metrics.Timeout), "5s"},
		{"sources", len(c.Metrics.Sources), 2},
		// prometheus/common turns the legacy bearer_token_file into an authorization block.
		{"bearer token file", c.Metrics.Sources[0].HTTPConfig.Authorization.CredentialsFile, "/etc/opscockpit/prom.token"},
		{"basic auth user", c.Metrics.Sources[1].HTTPConfig.BasicAuth.Username, "cockpit"},
		{"relative file kept by Load", c.Metrics.Sources[1].HTTPConfig.BasicAuth.PasswordFile, "thanos.pass"},
		{"panels", len(c.Metrics.Panels), 3},
		{"panel type", c.Metrics.Panels[0].Type, PanelTimeseries},
		{"panel query", c.Metrics.Panels[0].Query, `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="checkout"}[5m])))`},
		{"thresholds", c.Metrics.Panels[0].Thresholds, []Threshold{{0.5, "amber"}, {1, "red"}}},
		{"legend", c.Metrics.Panels[0].Legend, "{{service}}"},
		{"min", *c.Metrics.Panels[0].Min, 0.0},
		{"max unset", c.Metrics.Panels[0].Max == nil, true},
		{"range", dec(c.Metrics.Panels[0].Range), "1h"},
		{"row", c.Metrics.Panels[1].Row, "Checkout"},
		{"decimals", *c.Metrics.Panels[1].Decimals, 2},
		{"hex color", c.Metrics.Panels[1].Thresholds[1].Color, "#ffbf00"},
		{"objective", c.Metrics.Panels[2].Objective, 99.9},
		{"window", dec(c.Metrics.Panels[2].Window), "4w"},
		{"alertmanager urls", c.Alerts.Alertmanagers[0].URLs, []string{"http://am-1.example:9093", "http://am-2.example:9093"}},
		{"webhook", c.Alerts.Webhook.Listen, "127.0.0.1:9097"},
		{"stream", c.Alerts.Streams[0], Stream{Name: "relay", URL: "wss://relay.example:9443/stream", TokenFile: "/etc/opscockpit/relay.token"}},
		{"feed silent", dec(c.Alerts.FeedSilentAfter), "15m"},
		{"runbook dirs", c.Runbooks.Dirs, []string{"~/runbooks"}},
		{"url map", c.Runbooks.URLMap, []URLMap{{Prefix: "https://runbooks.prometheus-operator.dev/runbooks/", Dir: "~/runbooks/kube"}}},
		{"stale after", dec(c.Runbooks.StaleAfter), "180d"},
		{"risk", c.Risk, Risk{DB: "~/.config/opscockpit/cockpit.db", Matrix: "~/.config/opscockpit/matrix.yaml"}},
		{"web", c.Web.Listen, "127.0.0.1:9099"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !equal(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate after Load: %v", err)
	}
}

func TestLoadScenario(t *testing.T) {
	c := mustLoad(t, `
scenario:
  file: embedded:checkout-outage
  speed: 10
  loop: true
  start: 5m
metrics:
  panels:
    - {title: Errors, type: stat, query: errors}
`)
	want := Scenario{File: "embedded:checkout-outage", Speed: 10, Loop: true, Start: Duration(5 * time.Minute)}
	if *c.Scenario != want {
		t.Errorf("scenario = %+v, want %+v", *c.Scenario, want)
	}
	if got := c.Metrics.Panels[0].Source; got != ScenarioSource {
		t.Errorf("panel source = %q, want %q", got, ScenarioSource)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // the error's lines, exactly
	}{
		{
			name: "unknown top-level field",
			src:  "title: x\ntheem: light\n",
			want: []string{`opscockpit.yaml:2: theem: unknown field; did you mean "theme"?`},
		},
		{
			name: "unknown top-level field far from any",
			src:  "panels: []\n",
			want: []string{`opscockpit.yaml:1: panels: unknown field; want one of title, theme, scenario, metrics, alerts, runbooks, risk, web, display, incidents`},
		},
		{
			name: "unknown nested field",
			src: `metrics:
  sources:
    - name: prod
      url: http://prom:9090
  panels:
    - title: Up
      type: stat
      query: up
      qurey: up
`,
			want: []string{`opscockpit.yaml:9: metrics.panels[0].qurey: unknown field; did you mean "query"?`},
		},
		{
			name: "unknown field inside http_config",
			src: `metrics:
  sources:
    - name: prod
      url: http://prom:9090
      http_config:
        bearer_tokn_file: /x
`,
			want: []string{`opscockpit.yaml:6: metrics.sources[0].http_config.bearer_tokn_file: unknown field; did you mean "bearer_token_file"?`},
		},
		{
			name: "wrong types",
			src: `scenario:
  file: s.yaml
  speed: fast
  loop: maybe
metrics:
  sources: {name: prod}
`,
			want: []string{
				`opscockpit.yaml:3: scenario.speed: want a number, got a string "fast"`,
				`opscockpit.yaml:4: scenario.loop: want true or false, got a string "maybe"`,
				`opscockpit.yaml:6: metrics.sources: want a list, got a mapping`,
			},
		},
		{
			name: "bad durations",
			src: `metrics:
  refresh: 15
  timeout: 5x
alerts:
  feed_silent_after: {minutes: 10}
`,
			want: []string{
				`opscockpit.yaml:2: metrics.refresh: invalid duration "15": want a number and a unit (ms, s, m, h, d, w or y) such as 15s, 1h30m or 30d`,
				`opscockpit.yaml:3: metrics.timeout: invalid duration "5x": want a number and a unit (ms, s, m, h, d, w or y) such as 15s, 1h30m or 30d`,
				`opscockpit.yaml:5: alerts.feed_silent_after: want a duration such as 15s, 1h30m or 30d, got a mapping`,
			},
		},
		{
			name: "unknown panel type",
			src: `title: Checkout
metrics:
  sources:
    - name: prod
      url: http://prom:9090
  panels:
    - title: a
      type: stat
      query: up
    - {title: b, type: stat, query: up}
    - title: c
      type: gauge
      query: up
`,
			want: []string{`opscockpit.yaml:12: metrics.panels[2].type: unknown panel type "gauge" (want stat, timeseries or slo)`},
		},
		{
			name: "panel with unknown source",
			src: `metrics:
  sources:
    - {name: prod, url: "http://prom:9090"}
    - {name: staging, url: "http://prom-staging:9090"}
  panels:
    - {title: a, type: stat, query: up, source: prd}
    - {title: b, type: stat, query: up}
    - {title: c, type: stat, query: up, source: scenario}
`,
			want: []string{
				`opscockpit.yaml:6: metrics.panels[0].source: unknown source "prd" (want one of "prod", "staging")`,
				`opscockpit.yaml:7: metrics.panels[1].source: missing source (want one of "prod", "staging")`,
				`opscockpit.yaml:8: metrics.panels[2].source: source "scenario" needs a scenario, and none is configured`,
			},
		},
		{
			name: "runbook promql source unknown",
			src: `metrics:
  sources:
    - {name: prod, url: "http://prom:9090"}
runbooks:
  promql_source: staging
`,
			want: []string{`opscockpit.yaml:5: runbooks.promql_source: unknown source "staging" (want one of "prod")`},
		},
		{
			name: "duplicate names",
			src: `metrics:
  sources:
    - {name: prod, url: "http://a:9090"}
    - {name: prod, url: "http://b:9090"}
    - {name: scenario, url: "http://c:9090"}
alerts:
  alertmanagers:
    - {name: main, urls: ["http://am:9093"]}
  streams:
    - {name: main, url: "wss://relay:9443/stream"}
    - {url: "wss://relay:9443/stream"}
`,
			want: []string{
				`opscockpit.yaml:4: metrics.sources[1].name: name "prod" is used more than once in metrics.sources`,
				`opscockpit.yaml:5: metrics.sources[2].name: the source name "scenario" is reserved for the scenario replay`,
				`opscockpit.yaml:10: alerts.streams[0].name: name "main" is used more than once in alert sources`,
				`opscockpit.yaml:11: alerts.streams[1].name: missing name`,
			},
		},
		{
			name: "bad URLs",
			src: `metrics:
  sources:
    - {name: a, url: "ftp://prom:9090"}
    - {name: b, url: "prom:9090"}
    - {name: c, url: "http://"}
    - {name: d, url: "http://[::1"}
alerts:
  alertmanagers:
    - {name: am, urls: ["ws://am:9093", "http://am:9093", "http://am:9093"]}
    - {name: am2}
  streams:
    - {name: s, url: "https://relay/stream"}
runbooks:
  url_map:
    - {prefix: "/runbooks/", dir: rb}
`,
			want: []string{
				`opscockpit.yaml:3: metrics.sources[0].url: unsupported URL scheme "ftp" (want http or https)`,
				`opscockpit.yaml:4: metrics.sources[1].url: unsupported URL scheme "prom" (want http or https)`,
				`opscockpit.yaml:5: metrics.sources[2].url: URL has no host`,
				`opscockpit.yaml:6: metrics.sources[3].url: invalid URL: missing ']' in host`,
				`opscockpit.yaml:9: alerts.alertmanagers[0].urls[0]: unsupported URL scheme "ws" (want http or https)`,
				`opscockpit.yaml:9: alerts.alertmanagers[0].urls[2]: URL is listed twice`,
				`opscockpit.yaml:10: alerts.alertmanagers[1].urls: missing urls (one per Alertmanager peer)`,
				`opscockpit.yaml:12: alerts.streams[0].url: unsupported URL scheme "https" (want ws or wss)`,
				`opscockpit.yaml:15: runbooks.url_map[0].prefix: URL has no scheme (want http://host…)`,
			},
		},
		{
			name: "thresholds not ascending and bad colors",
			src: `metrics:
  sources: [{name: prod, url: "http://prom:9090"}]
  panels:
    - title: Latency
      type: stat
      query: up
      thresholds:
        - {value: 1, color: green}
        - {value: 0.5, color: amber}
        - {value: 0.5, color: crimson}
        - {value: .nan, color: "#12345"}
`,
			want: []string{
				`opscockpit.yaml:9: metrics.panels[0].thresholds[1].value: thresholds must be in strictly ascending order: 0.5 follows 1`,
				`opscockpit.yaml:10: metrics.panels[0].thresholds[2].value: thresholds must be in strictly ascending order: 0.5 follows 0.5`,
				`opscockpit.yaml:10: metrics.panels[0].thresholds[2].color: unknown color "crimson" (want green, amber, red, blue or #rrggbb)`,
				`opscockpit.yaml:11: metrics.panels[0].thresholds[3].value: threshold value NaN is not a finite number`,
				`opscockpit.yaml:11: metrics.panels[0].thresholds[3].color: unknown color "#12345" (want green, amber, red, blue or #rrggbb)`,
			},
		},
		{
			name: "slo objective out of range",
			src: `metrics:
  sources: [{name: prod, url: "http://prom:9090"}]
  panels:
    - {title: a, type: slo, query: "r[$window]", objective: 100}
    - {title: b, type: slo, query: "r[$window]", objective: -1}
    - {title: c, type: slo, query: "r[$window]"}
`,
			want: []string{
				`opscockpit.yaml:4: metrics.panels[0].objective: objective 100 out of range (want a percentage strictly between 0 and 100, such as 99.9)`,
				`opscockpit.yaml:5: metrics.panels[1].objective: objective -1 out of range (want a percentage strictly between 0 and 100, such as 99.9)`,
				`opscockpit.yaml:6: metrics.panels[2].objective: missing objective for an slo panel (a percentage such as 99.9)`,
			},
		},
		{
			name: "slo query without $window",
			src: `metrics:
  sources: [{name: p, url: "http://p:9090"}]
  panels:
    - {title: a, type: slo, query: "sum(rate(err[5m]))", objective: 99.9}
`,
			want: []string{`opscockpit.yaml:4: metrics.panels[0].query: an slo query is a ratio of bad to all events with $window as its rate window, e.g. sum(rate(errors[$window])) / sum(rate(requests[$window]))`},
		},
		{
			name: "other panel checks",
			src: `metrics:
  sources: [{name: prod, url: "http://prom:9090"}]
  panels:
    - {title: a, type: stat, query: " ", decimals: 11}
    - {title: b, query: up, legend: "{{ service } x"}
    - {title: c, type: timeseries, query: up, legend: "{{.service}}", min: 5, max: 1}
`,
			want: []string{
				`opscockpit.yaml:4: metrics.panels[0].query: missing query`,
				`opscockpit.yaml:4: metrics.panels[0].decimals: decimals 11 out of range (want 0 to 10)`,
				`opscockpit.yaml:5: metrics.panels[1].type: missing panel type (want stat, timeseries or slo)`,
				`opscockpit.yaml:5: metrics.panels[1].legend: unclosed {{ in legend`,
				`opscockpit.yaml:6: metrics.panels[2].legend: ".service" is not a label name (want {{label}}, such as {{service}})`,
				`opscockpit.yaml:6: metrics.panels[2].max: max 1 must be greater than min 5`,
			},
		},
		{
			name: "scenario, theme, refresh and timeout",
			src: `theme: solarized
scenario:
  speed: 500
metrics:
  refresh: 500ms
`,
			want: []string{
				`opscockpit.yaml:1: theme: unknown theme "solarized" (want dark or light)`,
				`opscockpit.yaml:2: scenario.file: missing scenario file (a path, or embedded:NAME)`,
				`opscockpit.yaml:3: scenario.speed: speed 500 out of range (want 0.1 to 100)`,
				`opscockpit.yaml:5: metrics.refresh: refresh 500ms is too short (want at least 1s)`,
			},
		},
		{
			name: "timeout longer than refresh",
			src:  "scenario: {file: \"embedded: \"}\nmetrics:\n  refresh: 10s\n  timeout: 1m\n",
			want: []string{
				`opscockpit.yaml:1: scenario.file: missing scenario name after "embedded:"`,
				`opscockpit.yaml:4: metrics.timeout: timeout 1m is longer than refresh 10s`,
			},
		},
		{
			name: "listen addresses",
			src: `alerts:
  webhook:
    listen: 9097
web:
  listen: "localhost:http"
`,
			want: []string{
				`opscockpit.yaml:3: alerts.webhook.listen: invalid listen address "9097" (want host:port, such as 127.0.0.1:9097)`,
				`opscockpit.yaml:5: web.listen: invalid port "http" in listen address (want 1 to 65535)`,
			},
		},
		{
			name: "http_config rejected by prometheus/common",
			src: `metrics:
  sources:
    - name: prod
      url: http://prom:9090
      http_config:
        bearer_token: x
        bearer_token_file: /y
`,
			want: []string{`opscockpit.yaml:5: metrics.sources[0].http_config: at most one of bearer_token & bearer_token_file must be configured`},
		},
		{
			name: "http_config through an alias and a merge",
			src: `metrics:
  sources:
    - name: a
      url: http://a
      http_config: &auth {bearer_token: x, bearer_token_file: /y}
    - name: b
      url: http://b
      http_config: *auth
    - name: c
      url: http://c
      http_config:
        <<: {bearer_tokn: x}
`,
			want: []string{`opscockpit.yaml:5: metrics.sources[0].http_config: at most one of bearer_token & bearer_token_file must be configured`},
		},
		{
			name: "unknown field merged in",
			src: `metrics:
  sources:
    - name: c
      url: http://c
      http_config:
        <<: {bearer_tokn: x}
`,
			want: []string{`opscockpit.yaml:6: metrics.sources[0].http_config.bearer_tokn: unknown field; did you mean "bearer_token"?`},
		},
		{
			name: "key set twice",
			src:  "title: a\nweb: {listen: ':1'}\ntitle: b\n",
			want: []string{`opscockpit.yaml:3: title: "title" is set more than once (first at line 1)`},
		},
		{
			name: "syntax error",
			src:  "title: a\nweb: listen: x\n",
			want: []string{`opscockpit.yaml:2: mapping values are not allowed in this context`},
		},
		{
			name: "not a mapping",
			src:  "just some text\n",
			want: []string{`opscockpit.yaml:1: want a mapping, got a string "just some text"`},
		},
		{
			name: "two documents",
			src:  "title: a\n---\ntitle: b\n",
			want: []string{`opscockpit.yaml:2: more than one YAML document (want one)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load([]byte(tt.src), name)
			if err == nil {
				t.Fatalf("Load succeeded, want errors:\n%s\nconfig:\n%s", strings.Join(tt.want, "\n"), c.Redacted())
			}
			var ve ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T is not a ValidationError: %v", err, err)
			}
			if got, want := err.Error(), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
			var first FieldError
			if !errors.As(err, &first) || first != ve[0] {
				t.Errorf("errors.As to FieldError gave %+v, want %+v", first, ve[0])
			}
			for _, fe := range ve {
				if fe.File != name || fe.Line == 0 {
					t.Errorf("entry %+v lacks the file or the line", fe)
				}
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "empty file",
			src:  "",
			check: func(t *testing.T, c *Config) {
				want := Config{Title: DefaultTitle, Theme: ThemeDark,
					Metrics:  Metrics{Refresh: DefaultRefresh, Timeout: DefaultTimeout},
					Alerts:   Alerts{FeedSilentAfter: DefaultFeedSilentAfter, HistoryRetention: DefaultHistoryRetention},
					Runbooks: Runbooks{StaleAfter: DefaultStaleAfter},
					Display:  Display{KioskTextScale: 1.5}}
				if !equal(*c, want) {
					t.Errorf("got %+v\nwant %+v", *c, want)
				}
			},
		},
		{
			name: "one source",
			src: `metrics:
  sources: [{name: prod, url: "http://prom:9090"}]
  panels:
    - {title: a, type: stat, query: up}
    - {title: b, type: timeseries, query: up}
    - {title: c, type: slo, query: "r[$window]", objective: 99.5}
alerts:
  alertmanagers: [{name: main, urls: ["http://am:9093"]}]
`,
			check: func(t *testing.T, c *Config) {
				for i, p := range c.Metrics.Panels {
					if p.Source != "prod" {
						t.Errorf("panel %d source = %q, want the only source", i, p.Source)
					}
				}
				if p := c.Metrics.Panels[0]; p.Range != 0 || p.Window != 0 || p.Decimals != nil {
					t.Errorf("stat panel got timeseries/slo defaults: %+v", p)
				}
				if got := c.Metrics.Panels[1].Range; got != DefaultRange {
					t.Errorf("timeseries range = %v, want %v", got, DefaultRange)
				}
				if got := c.Metrics.Panels[2].Window; got != DefaultSLOWindow {
					t.Errorf("slo window = %v, want %v", got, DefaultSLOWindow)
				}
				for _, hc := range []*commoncfg.HTTPClientConfig{c.Metrics.Sources[0].HTTPConfig, c.Alerts.Alertmanagers[0].HTTPConfig} {
					if hc == nil || !hc.FollowRedirects || !hc.EnableHTTP2 {
						t.Errorf("http_config = %+v, want prometheus/common's defaults", hc)
					}
				}
				if c.Metrics.Sources[0].HTTPConfig == c.Alerts.Alertmanagers[0].HTTPConfig {
					t.Error("http_config defaults share one struct")
				}
			},
		},
		{
			name: "timeout follows a short refresh",
			src:  "metrics: {refresh: 5s}\n",
			check: func(t *testing.T, c *Config) {
				if c.Metrics.Timeout != Duration(5*time.Second) {
					t.Errorf("timeout = %v, want 5s", c.Metrics.Timeout)
				}
			},
		},
		{
			name: "scenario",
			src: `scenario: {file: drills/outage.yaml}
metrics:
  sources: [{name: prod, url: "http://prom:9090"}]
  panels: [{title: a, type: stat, query: up}]
`,
			check: func(t *testing.T, c *Config) {
				if c.Scenario.Speed != DefaultSpeed {
					t.Errorf("speed = %v, want %v", c.Scenario.Speed, DefaultSpeed)
				}
				if got := c.Metrics.Panels[0].Source; got != ScenarioSource {
					t.Errorf("panel source = %q, want %q", got, ScenarioSource)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, mustLoad(t, tt.src))
		})
	}
}

// sentinel stands for a real credential; it must never be printed.
const sentinel = "s3ntinel-Secret-4242"

const secretsConfig = `metrics:
  sources:
    - name: bearer
      url: http://prom:9090
      http_config:
        bearer_token: ` + sentinel + `
    - name: basic
      url: https://user:` + sentinel + `@prom:9090
      http_config:
        basic_auth: {username: u, password: ` + sentinel + `}
        tls_config: {cert: "-----BEGIN CERTIFICATE-----", key: ` + sentinel + `}
    - name: oauth
      url: http://prom:9090
      http_config:
        oauth2:
          client_id: cockpit
          client_secret: ` + sentinel + `
          token_url: https://auth.example/token
        proxy_url: http://proxy:3128
        proxy_connect_header:
          Proxy-Authorization: [` + sentinel + `]
        http_headers:
          X-Scope-OrgID:
            secrets: [` + sentinel + `]
alerts:
  alertmanagers:
    - name: main
      urls: ["http://am:9093"]
      http_config:
        authorization: {credentials: ` + sentinel + `}
`

func TestRedactedHidesSecrets(t *testing.T) {
	c := mustLoad(t, secretsConfig)
	for _, tt := range []struct {
		name        string
		marshalOpen bool
	}{
		{"default", false},
		// Redacted must not depend on a package-level switch someone else may flip.
		{"MarshalSecretValue on", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			old := commoncfg.MarshalSecretValue
			commoncfg.MarshalSecretValue = tt.marshalOpen
			defer func() { commoncfg.MarshalSecretValue = old }()

			out := c.Redacted()
			if strings.Contains(out, sentinel) {
				t.Fatalf("Redacted shows the secret:\n%s", out)
			}
			// bearer (as authorization), basic password, tls key, client_secret,
			// proxy header, http header, alertmanager credentials.
			if n := strings.Count(out, secretMark); n != 7 {
				t.Errorf("Redacted shows %d <secret> marks, want 7:\n%s", n, out)
			}
			if !strings.Contains(out, "https://user:xxxxx@prom:9090") {
				t.Errorf("URL password not masked:\n%s", out)
			}
			// The dump is itself a valid config.
			if _, err := Load([]byte(out), "redacted.yaml"); err != nil {
				t.Errorf("Redacted output does not load: %v\n%s", err, out)
			}
		})
	}
	if got := string(c.Metrics.Sources[1].HTTPConfig.BasicAuth.Password); got != sentinel {
		t.Errorf("Redacted changed the config itself: password = %q", got)
	}
}

func TestErrorsHideSecrets(t *testing.T) {
	for _, src := range []string{
		"metrics:\n  sources: [{name: a, url: \"ftp://u:" + sentinel + "@h\"}]\n",
		"metrics:\n  sources: [{name: a, url: \"http://u:" + sentinel + "@[::1\"}]\n",
		"metrics:\n  sources: [{name: a, url: \"http://h\", http_config: {basic_auth: {password: !!binary " + sentinel + "}}}]\n",
		"metrics:\n  sources: [{name: a, url: \"http://h\", http_config: {basic_auth: {password: {x: " + sentinel + "}}}}]\n",
		"metrics:\n  sources: [{name: a, url: \"http://h\", http_config: {bearer_token: " + sentinel + ", bearer_token_file: f}}]\n",
		"metrics:\n  sources: [{name: a, url: \"http://h\", http_config: {proxy_url: \"http://u:" + sentinel + "@[::1\"}}]\n",
	} {
		_, err := Load([]byte(src), name)
		if err == nil {
			t.Errorf("Load(%q) succeeded, want an error", src)
			continue
		}
		if strings.Contains(err.Error(), sentinel) || strings.Contains(err.Error(), sentinel[:7]) {
			t.Errorf("error shows the secret: %v", err)
		}
	}
}

func TestLoadFileWarnings(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes on Windows")
	}
	plain := "metrics:\n  sources: [{name: a, url: \"http://h\", http_config: {bearer_token_file: /t}}]\n"
	inURL := "metrics:\n  sources: [{name: a, url: \"http://u:" + sentinel + "@h\"}]\n"
	tests := []struct {
		name string
		src  string
		mode os.FileMode
		warn bool
	}{
		{"secret, 0644", secretsConfig, 0o644, true},
		{"secret, 0640", secretsConfig, 0o640, true},
		{"secret, 0600", secretsConfig, 0o600, false},
		{"password in URL, 0644", inURL, 0o644, true},
		{"secret file only, 0644", plain, 0o644, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "opscockpit.yaml")
			if err := os.WriteFile(path, []byte(tt.src), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			c, err := LoadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			if tt.warn {
				want = []string{fmt.Sprintf("config file %s holds a secret and is readable by others (mode %04o); chmod 600 it", path, tt.mode)}
			}
			if !equal(c.Warnings, want) {
				t.Errorf("warnings = %q, want %q", c.Warnings, want)
			}
			if c.Path != path {
				t.Errorf("Path = %q, want %q", c.Path, path)
			}
			for _, w := range c.Warnings {
				if strings.Contains(w, sentinel) {
					t.Errorf("warning shows the secret: %s", w)
				}
			}
		})
	}
}

func TestLoadFileResolvesPaths(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	dir := t.TempDir()
	path := filepath.Join(dir, "opscockpit.yaml")
	src := `scenario: {file: drills/outage.yaml}
metrics:
  sources:
    - name: prod
      url: http://prom:9090
      http_config:
        bearer_token_file: prom.token
        tls_config: {ca_file: ~/ca.pem}
alerts:
  streams: [{name: relay, url: "wss://relay/stream", token_file: /etc/relay.token}]
runbooks:
  dirs: [~/runbooks, runbooks]
  url_map: [{prefix: "https://rb.example/", dir: kube}]
risk: {db: ~/cockpit.db}
`
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, got, want string }{
		{"scenario", c.Scenario.File, filepath.Join(dir, "drills/outage.yaml")},
		{"bearer token file", c.Metrics.Sources[0].HTTPConfig.Authorization.CredentialsFile, filepath.Join(dir, "prom.token")},
		{"ca file", c.Metrics.Sources[0].HTTPConfig.TLSConfig.CAFile, filepath.Join(home, "ca.pem")},
		{"absolute token file", c.Alerts.Streams[0].TokenFile, "/etc/relay.token"},
		{"home runbooks", c.Runbooks.Dirs[0], filepath.Join(home, "runbooks")},
		{"relative runbooks", c.Runbooks.Dirs[1], filepath.Join(dir, "runbooks")},
		{"url map dir", c.Runbooks.URLMap[0].Dir, filepath.Join(dir, "kube")},
		{"risk db", c.Risk.DB, filepath.Join(home, "cockpit.db")},
		{"matrix unset", c.Risk.Matrix, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	dir := t.TempDir()
	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(dir, "nope.yaml")
		_, err := LoadFile(path)
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
			t.Errorf("err = %v, want a not-exist error naming %s", err, path)
		}
	})
	t.Run("invalid file", func(t *testing.T) {
		path := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(path, []byte("metrics:\n  refresh: soon\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadFile(path)
		var ve ValidationError
		if !errors.As(err, &ve) || !strings.HasPrefix(err.Error(), path+":2: metrics.refresh: ") {
			t.Errorf("err = %v, want a ValidationError at %s:2", err, path)
		}
	})
	t.Run("directory", func(t *testing.T) {
		if _, err := LoadFile(dir); err == nil || !strings.Contains(err.Error(), dir) {
			t.Errorf("err = %v, want an error naming %s", err, dir)
		}
	})
}

func TestValidateBuiltConfig(t *testing.T) {
	c := &Config{
		Path: "built.yaml",
		Metrics: Metrics{
			Refresh: Duration(-time.Second),
			Sources: []Source{{Name: "p", URL: "http://p", HTTPConfig: &commoncfg.HTTPClientConfig{
				BearerToken: "x", BasicAuth: &commoncfg.BasicAuth{Username: "u"}}}},
			Panels: []Panel{{Type: PanelTimeseries, Query: "up", Range: Duration(-time.Minute)}},
		},
		Alerts: Alerts{Webhook: &Webhook{}},
	}
	err := c.Validate()
	want := []string{
		`built.yaml: metrics.refresh: refresh -1s is too short (want at least 1s)`,
		`built.yaml: metrics.sources[0].http_config: at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured`,
		`built.yaml: metrics.panels[0].range: range -1m is negative`,
		`built.yaml: alerts.webhook.listen: missing listen address (host:port)`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("Validate:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
	if err := (&Config{}).Validate(); err != nil {
		t.Errorf("Validate of an empty config: %v", err)
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		out  string
	}{
		{"15s", 15 * time.Second, "15s"},
		{"1h30m", 90 * time.Minute, "1h30m"},
		{"30d", 30 * 24 * time.Hour, "30d"},
		{"90d", 90 * 24 * time.Hour, "90d"},
		{"14d", 14 * 24 * time.Hour, "2w"},
		{"250ms", 250 * time.Millisecond, "250ms"},
		{"0", 0, "0s"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c := mustLoad(t, "runbooks: {stale_after: "+tt.in+"}\n")
			if got := time.Duration(c.Runbooks.StaleAfter); tt.want != 0 && got != tt.want {
				t.Errorf("parsed %v, want %v", got, tt.want)
			}
			if got := Duration(tt.want).String(); got != tt.out {
				t.Errorf("String = %q, want %q", got, tt.out)
			}
			back := mustLoad(t, "runbooks: {stale_after: "+Duration(tt.want).String()+"}\n")
			if tt.want != 0 && time.Duration(back.Runbooks.StaleAfter) != tt.want {
				t.Errorf("round trip gave %v", time.Duration(back.Runbooks.StaleAfter))
			}
		})
	}
}

func TestDataDir(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" || runtime.GOOS == "ios" || runtime.GOOS == "plan9" {
		t.Skip("os.UserConfigDir ignores XDG_CONFIG_HOME here")
	}
	base := filepath.Join(t.TempDir(), "xdg")
	t.Setenv("XDG_CONFIG_HOME", base)
	dir, err := DataDir()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(base, "opscockpit"); dir != want {
		t.Errorf("DataDir = %q, want %q", dir, want)
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !info.IsDir() || info.Mode().Perm() != 0o700 {
		t.Errorf("DataDir mode = %v, want a directory with 0700", info.Mode())
	}
	if again, err := DataDir(); err != nil || again != dir {
		t.Errorf("second DataDir = %q, %v", again, err)
	}
	if got, want := DefaultPath(), filepath.Join(dir, FileName); got != want {
		t.Errorf("DefaultPath = %q, want %q", got, want)
	}
}

func TestFieldErrorFormat(t *testing.T) {
	tests := []struct {
		e    FieldError
		want string
	}{
		{FieldError{"f.yaml", 3, "a.b", "bad"}, "f.yaml:3: a.b: bad"},
		{FieldError{"f.yaml", 0, "a.b", "bad"}, "f.yaml: a.b: bad"},
		{FieldError{"f.yaml", 3, "", "bad"}, "f.yaml:3: bad"},
		{FieldError{"", 3, "a", "bad"}, "line 3: a: bad"},
		{FieldError{"", 0, "", "two\nlines"}, `two\nlines`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.e.Error(); got != tt.want {
				t.Errorf("got %q", got)
			}
		})
	}
}

func equal(a, b any) bool { return reflect.DeepEqual(a, b) }
