package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/incident"
)

// BenchmarkTimelinePage10k measures what the timeline panel does on every refresh of a
// 10,000-entry incident: the newest page of 50, a filtered page (notes and decisions)
// and a deep page 100 pages in, via a cursor. The baseline, measured in the same run, is
// a plain `SELECT * FROM incident_timeline` scan of the same file read to the end;
// ratio = ours / baseline (lower is better).
func BenchmarkTimelinePage10k(b *testing.B) {
	ctx := context.Background()
	s := openTest(b)
	inc := declare(b, s, "bench", t0.Add(-time.Hour))
	seedTimeline(b, s, inc.ID, 10_000)
	deep := &incident.Cursor{At: t0.Add(5000 * time.Second), ID: 5001}
	queries := []incident.TimelineQuery{
		{Limit: 50, Desc: true},
		{Limit: 50, Desc: true, Kinds: []incident.Kind{incident.KindNote, incident.KindDecision}},
		{Limit: 50, After: deep},
	}
	ours := func() {
		for _, q := range queries {
			p, err := s.Timeline(ctx, inc.ID, q)
			if err != nil || len(p.Entries) != 50 {
				b.Fatalf("page: %d entries, %v", len(p.Entries), err)
			}
		}
	}
	baseline := func() {
		rows, err := s.db.R.QueryContext(ctx, `SELECT * FROM incident_timeline`)
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var (
				id, incID, at            int64
				author, kind, text, flds string
				corrects                 *int64
			)
			if err := rows.Scan(&id, &incID, &at, &author, &kind, &text, &flds, &corrects); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 10_001 {
			b.Fatalf("scan saw %d rows", n)
		}
	}
	ours()
	baseline()
	b.ResetTimer()
	var oursT, baseT time.Duration
	for b.Loop() {
		start := time.Now()
		ours()
		oursT += time.Since(start)
		start = time.Now()
		baseline()
		baseT += time.Since(start)
	}
	n := float64(b.N)
	b.ReportMetric(float64(oursT.Microseconds())/1000/n/float64(len(queries)), "ms/page")
	b.ReportMetric(float64(baseT.Microseconds())/1000/n, "baseline-ms")
	b.ReportMetric(float64(oursT)/float64(len(queries))/float64(baseT), "ratio")
}
