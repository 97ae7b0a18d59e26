package runbooks

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// genRunbook builds a realistic runbook of at least size bytes: front
// matter, then sections in the Meaning / Impact / Diagnosis / Mitigation
// shape with prose, inline markup, links, tables, lists, task lists and code.
func genRunbook(size int) []byte {
	var b bytes.Buffer
	b.WriteString("---\ntitle: Generated runbook\nalerts: [GeneratedAlert]\nservices: [checkout]\nowner: team-checkout\nlast_reviewed: 2026-10-01\nseverity: warning\n---\n\n# Generated runbook\n\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "## Service %d\n\n", i)
		fmt.Fprintf(&b, "The **checkout-%d** service is answering slowly: p99 latency of `http_request_duration_seconds` has been above *500 ms* for two minutes. "+
			"Customers see a spinner after they press *Place order*, and mobile clients retry, which adds load. See [the latency runbook](checkoutlatencyhigh.md) "+
			"and <https://prometheus.io/docs/practices/histograms/> for background; ~~old advice~~ no longer applies.\n\n", i)
		b.WriteString("### Meaning\n\n| Signal | Warning | Critical | Source |\n|:---|---:|---:|:---|\n")
		for r := 0; r < 4; r++ {
			fmt.Fprintf(&b, "| p%d latency | > %d ms | > %d ms | `metric_%d_bucket` |\n", 90+r, 100*(r+1), 200*(r+1), r)
		}
		b.WriteString("\n### Impact\n\n- Slower checkouts convert worse; every 100 ms costs about 1% of orders.\n- Clients time out at 3 s and the error budget burns.\n  - Nested detail with a [link](https://example.com/a?b=c).\n- Retries multiply load.\n\n")
		b.WriteString("### Diagnosis\n\n1. Confirm the alert with the query below.\n2. Check for a recent deploy.\n3. Split latency by upstream.\n\n")
		fmt.Fprintf(&b, "```promql\nhistogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service=\"checkout-%d\"}[5m])))\n```\n\n", i)
		b.WriteString("```bash\nkubectl -n checkout rollout history deployment/checkout\nkubectl -n checkout get pods -l app=checkout -o wide\n```\n\n")
		b.WriteString("### Mitigation\n\n")
		for s := 0; s < 6; s++ {
			fmt.Fprintf(&b, "- [ ] Step %d for service %d: run `kubectl -n checkout rollout undo deployment/checkout` and watch p99.\n", s, i)
		}
		b.WriteString("\n> **Note:** roll back before you debug. Escalate after 15 minutes.\n\n---\n\n")
	}
	return b.Bytes()
}

// BenchmarkP7Runbook measures Parse of a 200 KiB runbook against goldmark
// rendering the same bytes to HTML in the same run (QUALITY.md P7).
func BenchmarkP7Runbook(b *testing.B) {
	src := genRunbook(200 << 10)
	md := goldmark.New(goldmark.WithExtensions(extension.GFM))
	if _, err := Parse("bench.md", src); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	var ours, base time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		if _, err := Parse("bench.md", src); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := md.Convert(src, io.Discard); err != nil {
			b.Fatal(err)
		}
		ours += t1.Sub(t0)
		base += time.Since(t1)
		n++
	}
	b.ReportMetric(float64(ours)/float64(base), "ratio")
	b.ReportMetric(float64(ours.Microseconds())/1000/float64(n), "ms")
	b.ReportMetric(float64(base.Microseconds())/1000/float64(n), "baseline-ms")
}
