package alertmanager

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/datasource"
)

// apiPayload is a GET /api/v2/alerts answer of n realistic alerts (about 500 bytes each).
func apiPayload(n int) []byte {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		state, silenced := "active", "[]"
		if i%7 == 0 {
			state, silenced = "suppressed", `["7d0b6f4e-3a1c-4c55-9d8e-2f6a1b0c9e11"]`
		}
		fmt.Fprintf(&b, `{"annotations":{"description":"%d%% of requests to pod checkout-%05d fail with 5xx over the last 5 minutes.","runbook_url":"https://runbooks.example.com/checkout/high-error-rate","summary":"Checkout error rate above 5%%"},`+
			`"endsAt":"2026-03-01T12:04:00.000Z","fingerprint":"%016x","receivers":[{"name":"pager"}],"startsAt":"2026-03-01T11:52:30.123Z",`+
			`"status":{"inhibitedBy":[],"silencedBy":%s,"state":%q},"updatedAt":"2026-03-01T11:59:30.456Z",`+
			`"generatorURL":"http://prometheus-0.example:9090/graph?g0.expr=job%%3Acheckout_errors%%3Aratio5m+%%3E+0.05&g0.tab=1",`+
			`"labels":{"alertname":"CheckoutHighErrorRate","job":"checkout","namespace":"shop","pod":"checkout-%05d","prometheus":"monitoring/k8s","severity":"critical","team":"payments"}}`,
			i%100, i, uint64(i)*0x9e3779b97f4a7c15, silenced, state, i)
	}
	b.WriteByte(']')
	return []byte(b.String())
}

// BenchmarkP1AlertIngest measures QUALITY P1: decoding, deduplicating and merging a
// 10,000-alert Alertmanager answer (7.5 MB, heavier than P1's ~5 MB), against encoding/json decoding the same
// bytes into []map[string]any in the same run. "ratio" is ours over the baseline.
func BenchmarkP1AlertIngest(b *testing.B) {
	body := apiPayload(10000)
	now := t0
	var ours, base time.Duration
	n := 0
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		n++
		start := time.Now()
		alerts, _, err := decodeAPIAlerts(body, "main", now)
		if err != nil {
			b.Fatal(err)
		}
		merged := mergeAlerts([][]datasource.Alert{alerts})
		if len(merged) != 10000 {
			b.Fatalf("%d alerts", len(merged))
		}
		ours += time.Since(start)

		start = time.Now()
		var generic []map[string]any
		if err := json.Unmarshal(body, &generic); err != nil {
			b.Fatal(err)
		}
		base += time.Since(start)
	}
	b.ReportMetric(float64(ours)/float64(base), "ratio")
	b.ReportMetric(float64(ours)/float64(n)/1e6, "ms")
	b.ReportMetric(float64(len(body))/1e6, "MB")
}
