package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad checks Load's contract on any input: either a config that passes Validate
// and whose Redacted dump loads back to the same dump, or a ValidationError whose every
// line starts with the file name. Never a panic.
func FuzzLoad(f *testing.F) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		secretsConfig,
		"title: x\ntheem: light\n",
		"metrics:\n  refresh: 15\n  timeout: 5x\n",
		"metrics:\n  sources: [{name: prod, url: \"http://prom:9090\"}]\n  panels:\n    - {title: a, type: gauge, query: up, thresholds: [{value: 1, color: red}, {value: 0, color: \"#00ff00\"}]}\n",
		"scenario: {file: embedded:demo, speed: 10, start: 5m}\nmetrics:\n  panels: [{type: slo, query: r, objective: 99.9}]\n",
		"alerts:\n  alertmanagers: [{name: m, urls: [\"http://a:9093\"], http_config: {bearer_token: x, bearer_token_file: y}}]\n  webhook: {listen: \":9097\"}\n  streams: [{name: r, url: \"wss://r/s\"}]\n",
		"a: &a [1, 2]\nb: *a\n<<: {title: x}\n",
		"title: a\n---\ntitle: b\n",
		"metrics: {sources: [{name: p, url: \"http://p\", http_config: {tls_config: {min_version: TLS99}}}]}\n",
		"x: &x {bearer_token: a, bearer_token_file: b}\nmetrics: {sources: [{name: p, url: \"http://p\", http_config: *x}]}\n",
		"metrics: {sources: [{name: p, url: \"http://p\", http_config: {<<: {bearer_tokn: a}}}]}\n",
		"metrics: {panels: [{decimals: 99999999999999999999, min: .inf, max: -.inf}]}\n",
		"title: \"two\\nlines: x\"\nmetrics: {refresh: \"1\\n2\"}\n",
		"title: \xff\xfe\n",
		"\ttitle: x\n",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
		"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
		"metrics:\n  sources:\n    - name: p\n      url: http://p\n      http_config:\n        http_headers: {Authorization: {values: [x]}}\n",
		"runbooks: {stale_after: 999999999999y}\nweb: {listen: \"[::1]:99999\"}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "fuzz.yaml"
		c, err := Load(data, file)
		if err != nil {
			var ve ValidationError
			if !errors.As(err, &ve) || len(ve) == 0 {
				t.Fatalf("error is not a non-empty ValidationError: %T %v", err, err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, file) {
					t.Fatalf("error line does not start with the file name: %q", line)
				}
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Load returned a config that fails Validate: %v", err)
		}
		dump := c.Redacted()
		c2, err := Load([]byte(dump), "redacted.yaml")
		if err != nil {
			t.Fatalf("Redacted dump does not load: %v\n%s", err, dump)
		}
		if again := c2.Redacted(); again != dump {
			t.Fatalf("Redacted dump changes on reload:\n%s\n---\n%s", dump, again)
		}
	})
}
