package prometheus

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/opscockpit/opscockpit/datasource"
)

// BenchmarkDecodeQueryRange fetches a 12-series × 1,200-point query_range answer over
// loopback through our Source (size-capped transport, decode, conversion onto the step
// grid) and, in the same run, through client_golang's own client alone. It reports the
// cost per sample and the ratio of the two (issue #3: no slower than client_golang's
// decode).
func BenchmarkDecodeQueryRange(b *testing.B) {
	const series, points = 12, 1200
	start := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	step := time.Second
	var body strings.Builder
	body.WriteString(`{"status":"success","data":{"resultType":"matrix","result":[`)
	for s := range series {
		if s > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"metric":{"__name__":"http_requests_total","code":"%d","instance":"checkout-%d:8080","job":"checkout"},"values":[`, 200+s, s)
		for p := range points {
			if p > 0 {
				body.WriteByte(',')
			}
			fmt.Fprintf(&body, `[%d,"%g"]`, start.Add(time.Duration(p)*step).Unix(), 400+float64((s*7+p)%97)/3)
		}
		body.WriteString(`]}`)
	}
	body.WriteString(`]}}`)
	payload := body.String()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(payload))
	}))
	defer srv.Close()

	src, err := New(Options{Name: "bench", URL: srv.URL, Now: time.Now})
	if err != nil {
		b.Fatal(err)
	}
	raw, err := api.NewClient(api.Config{Address: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	base := v1.NewAPI(raw)
	rng := datasource.Range{Start: start, End: start.Add(time.Duration(points-1) * step), Step: step}
	ctx := context.Background()
	var ours, theirs time.Duration
	b.ResetTimer()
	for range b.N {
		t := time.Now()
		res, err := src.QueryRange(ctx, "q", rng)
		ours += time.Since(t)
		if err != nil || len(res.Series) != series || len(res.Series[0].Samples) != points {
			b.Fatalf("ours: %d series, %v", len(res.Series), err)
		}
		t = time.Now()
		if _, _, _, err := base.QueryRange(ctx, "q", v1.Range{Start: rng.Start, End: rng.End, Step: step}); err != nil {
			b.Fatal(err)
		}
		theirs += time.Since(t)
	}
	b.ReportMetric(float64(ours)/float64(theirs), "ratio")
	b.ReportMetric(float64(ours)/float64(b.N)/1e6, "ms")
	b.ReportMetric(float64(ours.Nanoseconds())/float64(b.N*series*points), "ns/sample")
}
