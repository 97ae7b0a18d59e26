package cockpit

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/datasource"
)

// recordingMetrics answers every query with n series and remembers what it was asked.
type recordingMetrics struct {
	n       int
	queries []string
	ranges  []datasource.Range
	err     error
}

func (r *recordingMetrics) Name() string              { return "rec" }
func (r *recordingMetrics) Health() datasource.Health { return datasource.Health{Source: "rec"} }
func (r *recordingMetrics) Query(ctx context.Context, q string, at time.Time) (datasource.Result, error) {
	r.queries = append(r.queries, "instant:"+q)
	if r.err != nil {
		return datasource.Result{}, r.err
	}
	var res datasource.Result
	for i := range r.n {
		res.Series = append(res.Series, datasource.Series{
			Labels:  map[string]string{"pod": string(rune('a' + i))},
			Samples: []datasource.Sample{{T: at, V: float64(i)}},
		})
	}
	return res, nil
}
func (r *recordingMetrics) QueryRange(ctx context.Context, q string, rg datasource.Range) (datasource.Result, error) {
	r.queries = append(r.queries, "range:"+q)
	r.ranges = append(r.ranges, rg)
	var s []datasource.Sample
	for t := rg.Start; !t.After(rg.End); t = t.Add(rg.Step) {
		s = append(s, datasource.Sample{T: t, V: 1})
	}
	s[len(s)-1].V = 7
	return datasource.Result{Series: []datasource.Series{{Labels: map[string]string{"job": "api"}, Samples: s}}}, nil
}

func TestEvalBlockInstantAndRange(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	src := &recordingMetrics{n: 12}
	res, err := EvalBlock(ctx, src, "  up == 0\n", now)
	if err != nil {
		t.Fatal(err)
	}
	if src.queries[0] != "instant:up == 0" || res.Range != 0 || res.Total != 12 || len(res.Series) != MaxBlockSeries {
		t.Fatalf("instant: queries %v, result %+v", src.queries, res)
	}
	if res.Series[0].Value != 11 || res.Series[0].Name != "l" || res.Series[0].Samples != nil {
		t.Fatalf("largest value should lead: %+v", res.Series[0])
	}

	for _, q := range []string{`http_requests_total{code=~"5.."}[30m]`, `rate(x[5m])[30m:1m]`} {
		src = &recordingMetrics{}
		res, err = EvalBlock(ctx, src, q, now)
		if err != nil {
			t.Fatal(err)
		}
		inner := q[:strings.LastIndex(q, "[")]
		if src.queries[0] != "range:"+inner || res.Range != 30*time.Minute {
			t.Fatalf("%s: queries %v, range %v", q, src.queries, res.Range)
		}
		rg := src.ranges[0]
		if rg.End.Sub(rg.Start) != 30*time.Minute || rg.Step != 30*time.Second {
			t.Fatalf("%s: range %+v", q, rg)
		}
		if res.Series[0].Value != 7 || len(res.Series[0].Samples) != 61 {
			t.Fatalf("%s: series %+v", q, res.Series[0])
		}
	}
	// rate(x[5m]) is an instant expression, not a range selection
	src = &recordingMetrics{n: 1}
	if _, err := EvalBlock(ctx, src, "rate(x[5m])", now); err != nil || src.queries[0] != "instant:rate(x[5m])" {
		t.Fatalf("rate: %v %v", src.queries, err)
	}
}

func TestEvalBlockRefusesAndWraps(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	src := &recordingMetrics{}
	for _, q := range []string{"", "   ", strings.Repeat("a", MaxBlockQuery+1)} {
		if _, err := EvalBlock(ctx, src, q, now); !errors.Is(err, ErrBlockQuery) {
			t.Errorf("%.20q: %v", q, err)
		}
	}
	if _, err := EvalBlock(ctx, nil, "up", now); !errors.Is(err, ErrBlockQuery) {
		t.Errorf("nil source: %v", err)
	}
	if len(src.queries) != 0 {
		t.Fatalf("refused blocks reached the source: %v", src.queries)
	}
	src.err = errors.New("bad_data: parse error")
	if _, err := EvalBlock(ctx, src, "up{", now); err == nil || !strings.Contains(err.Error(), "rec") || !strings.Contains(err.Error(), "parse error") {
		t.Fatalf("error not wrapped with the source: %v", err)
	}
	if d, err := parsePromDuration("1h30m"); err != nil || d != 90*time.Minute {
		t.Fatal(d, err)
	}
	if d, err := parsePromDuration("500ms"); err != nil || d != 500*time.Millisecond {
		t.Fatal(d, err)
	}
	if _, err := parsePromDuration("5x"); err == nil {
		t.Fatal("5x parsed")
	}
	if !math.IsNaN(lastValue(nil)) {
		t.Fatal("lastValue(nil)")
	}
}
