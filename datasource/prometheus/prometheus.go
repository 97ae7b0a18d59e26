// Package prometheus reads metrics from any Prometheus-compatible HTTP API (Prometheus,
// Thanos, Mimir, VictoriaMetrics, Cortex) through client_golang's api/prometheus/v1.
//
// A Source turns the API's answers into datasource results that a panel can draw as
// they are: range results sit on the requested step grid with NaN where a step is
// missing, series and label values are capped, and warnings travel with the data. Every
// failure is an *Error of a Kind that says what to do about it, in words fit for a panel
// and free of credentials. Response bodies are capped in size while they are read, so a
// cardinality blow-up costs a bounded amount of memory and fails on its panel only.
package prometheus

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/opscockpit/opscockpit/datasource"
)

// Defaults for the zero values of Options' limits.
const (
	DefaultMaxResponseBytes = 64 << 20
	DefaultMaxSeries        = 1000
	DefaultMaxLabelLen      = 256
)

// MaxPoints is the most steps a range query may have; Prometheus refuses more.
const MaxPoints = 11000

// HealthKind is the Kind of every Health this package reports.
const HealthKind = "prometheus"

// Options configure a Source.
type Options struct {
	// Name identifies the source in panels, health chips and self-metrics.
	Name string
	// URL is the server's base http or https URL, without /api/v1.
	URL string
	// HTTPConfig is basic auth, bearer token (or file), TLS CA/cert/insecure and proxy, in
	// the shape of prometheus.yml's http_config. The zero value means prometheus/common's
	// defaults (follow redirects, HTTP/2).
	HTTPConfig commoncfg.HTTPClientConfig
	// MaxResponseBytes caps a response body (default 64 MiB); a bigger one is aborted
	// with KindTooLarge.
	MaxResponseBytes int64
	// MaxSeries caps the series of one result (default 1,000); the rest are dropped
	// with a warning.
	MaxSeries int
	// MaxLabelLen caps label values, in runes (default 256); longer ones end in "…".
	MaxLabelLen int
	// Now is the clock for health timestamps (required).
	Now func() time.Time
	// Metrics, if set, receives the source's self-metrics.
	Metrics *Metrics
}

// Source queries one Prometheus-compatible server. It is safe for concurrent use and
// keeps its connections alive between queries.
type Source struct {
	name     string
	base     string // the URL without credentials, for messages
	host     string
	api      v1.API
	client   *http.Client
	now      func() time.Time
	metrics  *Metrics
	scrub    *scrubber
	maxSer   int
	maxLabel int

	mu     sync.Mutex
	health datasource.Health
}

var _ datasource.MetricsSource = (*Source)(nil)

// New checks opts and builds a Source with one keep-alive HTTP client configured from
// opts.HTTPConfig. Nothing is sent until the first query.
func New(opts Options) (*Source, error) { return newSource(opts, nil) }

// newSource is New with the bottom transport replaced, for tests that fake the network.
func newSource(opts Options, transport http.RoundTripper) (*Source, error) {
	if opts.Name == "" {
		return nil, errors.New("prometheus source: a name is required")
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("prometheus source %q: "+format, append([]any{opts.Name}, args...)...)
	}
	if opts.Now == nil {
		return nil, fail("Options.Now is required")
	}
	u, err := url.Parse(opts.URL)
	if err != nil {
		// url.Parse quotes the whole input, password included: keep only its reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fail("invalid URL: %s", newScrubber(nil, &opts.HTTPConfig).scrub(err.Error()))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fail("URL %s: want an http:// or https:// URL", redact(u))
	case u.Host == "":
		return nil, fail("URL %s: no host", redact(u))
	case strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/api/v1"):
		return nil, fail("URL %s: leave out /api/v1, it is added to every query", redact(u))
	}
	cfg := opts.HTTPConfig
	if reflect.DeepEqual(cfg, commoncfg.HTTPClientConfig{}) {
		cfg = commoncfg.DefaultHTTPClientConfig // left out entirely: what prometheus.yml would mean
	}
	if err := cfg.Validate(); err != nil {
		return nil, fail("http_config: %v", err)
	}
	scrub := newScrubber(u, &cfg)
	hc, err := commoncfg.NewClientFromConfig(cfg, opts.Name, commoncfg.WithUserAgent("OpsCockpit"))
	if err != nil {
		return nil, fail("http_config: %s", scrub.scrub(err.Error()))
	}
	if transport != nil {
		hc.Transport = transport
	}
	maxBytes := opts.MaxResponseBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxResponseBytes
	}
	hc.Transport = &limitTransport{next: hc.Transport, max: maxBytes}
	s := &Source{
		name:     opts.Name,
		base:     redact(u),
		host:     u.Host,
		client:   hc,
		now:      opts.Now,
		metrics:  opts.Metrics,
		scrub:    scrub,
		maxSer:   opts.MaxSeries,
		maxLabel: opts.MaxLabelLen,
		health:   datasource.Health{Source: opts.Name, Kind: HealthKind, State: datasource.HealthUnknown},
	}
	if s.maxSer <= 0 {
		s.maxSer = DefaultMaxSeries
	}
	if s.maxLabel <= 0 {
		s.maxLabel = DefaultMaxLabelLen
	}
	u.Path = strings.TrimRight(u.Path, "/")
	s.api = v1.NewAPI(&apiClient{endpoint: u, hc: hc})
	return s, nil
}

// redact prints u without its userinfo: not even the user name reaches a panel.
func redact(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery, c.Fragment = "", ""
	return strings.TrimRight(c.String(), "/")
}

// Name is the source's configured name.
func (s *Source) Name() string { return s.name }

// Health is the source's condition after its last query: up when the server answered,
// even if only to refuse a bad query, down with the reason otherwise.
func (s *Source) Health() datasource.Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.health
}

// Query evaluates query at one instant. A vector gives one sample per series at the
// time the server returns; a scalar gives one unlabelled series.
func (s *Source) Query(ctx context.Context, query string, at time.Time) (datasource.Result, error) {
	return s.run(ctx, "instant", nil, func(ctx context.Context) (model.Value, v1.Warnings, v1.Infos, error) {
		return s.api.Query(ctx, query, at)
	})
}

// QueryRange evaluates query over r. Every series comes back on r's step grid, from
// r.Start to r.End, with NaN samples where the server had no value, so charts draw gaps.
func (s *Source) QueryRange(ctx context.Context, query string, r datasource.Range) (datasource.Result, error) {
	switch {
	case r.Step <= 0:
		return datasource.Result{}, s.newError(KindBadQuery, 0, nil, "range query needs a positive step, got %s", r.Step)
	case r.End.Before(r.Start):
		return datasource.Result{}, s.newError(KindBadQuery, 0, nil, "range query ends before it starts")
	case r.End.Sub(r.Start)/r.Step >= MaxPoints:
		return datasource.Result{}, s.newError(KindBadQuery, 0, nil, "range query of %s at a %s step has more than %s points; use a larger step",
			r.End.Sub(r.Start), r.Step, thousands(MaxPoints))
	}
	return s.run(ctx, "range", &r, func(ctx context.Context) (model.Value, v1.Warnings, v1.Infos, error) {
		return s.api.QueryRange(ctx, query, v1.Range{Start: r.Start, End: r.End, Step: r.Step})
	})
}

type call func(ctx context.Context) (model.Value, v1.Warnings, v1.Infos, error)

// run makes one query, converts or classifies its outcome, and records health and metrics.
func (s *Source) run(ctx context.Context, typ string, r *datasource.Range, c call) (datasource.Result, error) {
	x := &exchange{}
	ctx = context.WithValue(ctx, exchangeKey{}, x)
	// Latency is measured on the monotonic clock, not the injected one: a drill clock
	// running at 10x would otherwise report a tenth of the real wait.
	start := time.Now()
	val, warns, infos, err := s.call(ctx, c, x)
	elapsed := time.Since(start)
	var res datasource.Result
	if err == nil {
		res, err = s.convert(val, warns, infos, r)
	}
	var e *Error
	if err != nil {
		e = s.classify(ctx, err, x)
		if e.Status == 0 {
			e.Status = x.status // a result we could not use still came with a status
		}
		if errors.Is(ctx.Err(), context.Canceled) {
			return datasource.Result{}, e // the caller gave up: says nothing about the source
		}
	}
	up := e == nil || !e.sourceFault()
	s.metrics.observe(s.name, typ, elapsed, x, e, up)
	s.record(e, up)
	if e != nil {
		return datasource.Result{}, e
	}
	return res, nil
}

// call runs c, turning a panic in the decoder (outside input) into an error.
func (s *Source) call(ctx context.Context, c call, x *exchange) (val model.Value, warns v1.Warnings, infos v1.Infos, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = s.newError(KindBadResponse, x.status, nil, "unreadable response from %s", s.base)
		}
	}()
	return c(ctx)
}

// sourceFault reports whether the error says the source itself is unwell, rather than
// the one query (refused, or too big) being at fault.
func (e *Error) sourceFault() bool {
	switch e.Kind {
	case KindBadQuery, KindTooLarge:
		return false
	}
	return true
}

func (s *Source) record(e *Error, up bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	h := &s.health
	if up {
		h.State, h.LastSuccess, h.LastError, h.ErrorSince = datasource.HealthUp, now, "", time.Time{}
		return
	}
	h.State, h.LastError = datasource.HealthDown, e.Msg
	if h.ErrorSince.IsZero() {
		h.ErrorSince = now
	}
}

// convert turns the API's value into a Result, applying the caps.
func (s *Source) convert(val model.Value, warns v1.Warnings, infos v1.Infos, r *datasource.Range) (datasource.Result, error) {
	var res datasource.Result
	var own []string // ours go first, so a flood of server warnings cannot hide them
	histograms := 0
	switch v := val.(type) {
	case model.Vector:
		res.Series = make([]datasource.Series, 0, min(len(v), s.maxSer))
		for _, smp := range v[:min(len(v), s.maxSer)] {
			if smp == nil {
				continue
			}
			f := float64(smp.Value)
			if smp.Histogram != nil {
				f = math.NaN()
				histograms++
			}
			res.Series = append(res.Series, datasource.Series{
				Labels:  s.labels(smp.Metric),
				Samples: point(smp.Timestamp, f, r),
			})
		}
		if len(v) > s.maxSer {
			own = append(own, fmt.Sprintf("showing %s of %s series", thousands(s.maxSer), thousands(len(v))))
		}
	case model.Matrix:
		res.Series = make([]datasource.Series, 0, min(len(v), s.maxSer))
		for _, ss := range v[:min(len(v), s.maxSer)] {
			if ss == nil {
				continue
			}
			if len(ss.Histograms) > 0 {
				histograms++
			}
			var samples []datasource.Sample
			if r != nil {
				samples = onGrid(ss.Values, *r)
			} else {
				samples = make([]datasource.Sample, len(ss.Values))
				for i, p := range ss.Values {
					samples[i] = datasource.Sample{T: p.Timestamp.Time(), V: float64(p.Value)}
				}
			}
			res.Series = append(res.Series, datasource.Series{Labels: s.labels(ss.Metric), Samples: samples})
		}
		if len(v) > s.maxSer {
			own = append(own, fmt.Sprintf("showing %s of %s series", thousands(s.maxSer), thousands(len(v))))
		}
	case *model.Scalar:
		if v == nil {
			return res, s.newError(KindBadResponse, 0, nil, "response from %s holds no result", s.base)
		}
		res.Series = []datasource.Series{{
			Labels:  map[string]string{},
			Samples: point(v.Timestamp, float64(v.Value), r),
		}}
	case *model.String:
		return res, s.newError(KindBadResponse, 0, nil, "the query returns a string, not numbers; a panel needs a vector, matrix or scalar")
	default:
		return res, s.newError(KindBadResponse, 0, nil, "response from %s holds no result", s.base)
	}
	if histograms > 0 {
		own = append(own, fmt.Sprintf("%s series hold native histograms, which are not drawn; use histogram_quantile, histogram_count or histogram_sum", thousands(histograms)))
	}
	if len(res.Series) == 0 {
		res.Series = nil
	}
	res.Warnings = append(own, s.warnings(warns, infos)...)
	if len(res.Warnings) == 0 {
		res.Warnings = nil
	}
	return res, nil
}

// maxWarnings caps the warnings of one result; a server may send thousands.
const maxWarnings = 10

// warnings joins the server's warnings and infos, scrubbed, cut and capped.
func (s *Source) warnings(warns v1.Warnings, infos v1.Infos) []string {
	all := append(append([]string(nil), warns...), infos...)
	if len(all) == 0 {
		return nil
	}
	out := make([]string, 0, min(len(all), maxWarnings+1))
	for _, w := range all[:min(len(all), maxWarnings)] {
		out = append(out, s.clean(w))
	}
	if len(all) > maxWarnings {
		out = append(out, fmt.Sprintf("and %s more warnings", thousands(len(all)-maxWarnings)))
	}
	return out
}

// labels copies a metric's labels (__name__ included), cutting long names and values.
func (s *Source) labels(m model.Metric) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[cutRunes(string(k), s.maxLabel)] = cutRunes(string(v), s.maxLabel)
	}
	return out
}

// cutRunes keeps the first n runes of s, marking a cut with "…".
func cutRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n {
			return s[:i] + "…"
		}
		count++
	}
	return s
}

// point is an instant value as samples: just itself, or for a range query (answered
// with an instant value by a server that should not have) placed on the range's grid.
func point(t model.Time, v float64, r *datasource.Range) []datasource.Sample {
	if r == nil {
		return []datasource.Sample{{T: t.Time(), V: v}}
	}
	return onGrid([]model.SamplePair{{Timestamp: t, Value: model.SampleValue(v)}}, *r)
}

// onGrid places a range result's samples on r's steps; steps without a sample are NaN.
// A sample lands on the nearest step, so servers that round timestamps (to the
// millisecond, or downsampled stores) still line up.
func onGrid(values []model.SamplePair, r datasource.Range) []datasource.Sample {
	n := int(r.End.Sub(r.Start)/r.Step) + 1
	out := make([]datasource.Sample, n)
	for i := range out {
		out[i] = datasource.Sample{T: r.Start.Add(time.Duration(i) * r.Step), V: math.NaN()}
	}
	half := r.Step / 2
	for _, p := range values {
		d := p.Timestamp.Time().Sub(r.Start)
		if d < -half || d > r.End.Sub(r.Start)+half {
			continue
		}
		i := int((d + half) / r.Step)
		if i >= 0 && i < n {
			out[i].V = float64(p.Value)
		}
	}
	return out
}

// thousands prints n with comma separators: 10,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// AlertRule is one alerting rule the server evaluates.
type AlertRule struct {
	Name       string
	RunbookURL string // the rule's runbook_url annotation, "" when it has none
}

// AlertRules lists the alerting rules the server evaluates (/api/v1/rules), sorted by
// name, one per name (the first runbook_url seen wins): what `opscockpit runbook check`
// holds the runbook folder against.
func (s *Source) AlertRules(ctx context.Context) ([]AlertRule, error) {
	res, err := s.api.Rules(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: list rules: %w", s.base, err)
	}
	seen := map[string]int{}
	var out []AlertRule
	for _, g := range res.Groups {
		for _, r := range g.Rules {
			a, ok := r.(v1.AlertingRule)
			if !ok {
				continue
			}
			u := string(a.Annotations["runbook_url"])
			if i, dup := seen[a.Name]; dup {
				if out[i].RunbookURL == "" {
					out[i].RunbookURL = u
				}
				continue
			}
			seen[a.Name] = len(out)
			out = append(out, AlertRule{Name: a.Name, RunbookURL: u})
		}
	}
	slices.SortFunc(out, func(a, b AlertRule) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
