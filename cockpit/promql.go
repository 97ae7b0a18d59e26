package cockpit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/opscockpit/opscockpit/datasource"
)

// Limits of a runbook's promql block: a runbook is untrusted text, so what it can ask of
// the metrics source is bounded.
const (
	MaxBlockQuery   = 4096             // bytes of PromQL
	MaxBlockSeries  = 8                // series shown under a block
	BlockSparkSteps = 60               // points in a range selection's sparkline
	BlockTimeout    = 10 * time.Second // per evaluation
)

// BlockSeries is one series of a promql block's result.
type BlockSeries struct {
	Name    string              // legend: the labels, or "value"
	Value   float64             // latest value (NaN when the newest point is a gap)
	Samples []datasource.Sample // the range selection's points (nil for an instant value)
}

// BlockResult is what a runbook's promql block shows under its code.
type BlockResult struct {
	At       time.Time
	Range    time.Duration // > 0 when the block is a range selection (a sparkline)
	Series   []BlockSeries
	Total    int // series the query returned (Series holds at most MaxBlockSeries)
	Warnings []string
}

// rangeSel matches a trailing range selection or subquery: `expr[5m]`, `expr[1h:1m]`.
var rangeSel = regexp.MustCompile(`\[\s*((?:[0-9]+(?:ms|[smhdwy]))+)\s*(?::\s*((?:[0-9]+(?:ms|[smhdwy]))*)\s*)?\]\s*$`)

// ErrBlockQuery marks a promql block this cockpit will not send (empty or too long).
var ErrBlockQuery = errors.New("promql block not run")

// EvalBlock runs a runbook's promql block read-only against src at now. An instant
// expression gives each series' value; a range selection (`metric[30m]`, or a subquery)
// is run as a range query of the inner expression over that window, giving a sparkline
// and its newest value. Only the query endpoints are used: a block cannot change anything.
func EvalBlock(ctx context.Context, src datasource.MetricsSource, query string, now time.Time) (BlockResult, error) {
	q := strings.TrimSpace(query)
	res := BlockResult{At: now}
	switch {
	case q == "":
		return res, fmt.Errorf("%w: the block is empty", ErrBlockQuery)
	case len(q) > MaxBlockQuery:
		return res, fmt.Errorf("%w: %d bytes is over the %d-byte limit", ErrBlockQuery, len(q), MaxBlockQuery)
	case src == nil:
		return res, fmt.Errorf("%w: no metrics source is configured", ErrBlockQuery)
	}
	ctx, cancel := context.WithTimeout(ctx, BlockTimeout)
	defer cancel()
	var (
		r   datasource.Result
		err error
	)
	if m := rangeSel.FindStringSubmatchIndex(q); m != nil {
		window, perr := parsePromDuration(q[m[2]:m[3]])
		inner := strings.TrimSpace(q[:m[0]])
		if perr != nil || window <= 0 || inner == "" {
			return res, fmt.Errorf("%w: bad range %q", ErrBlockQuery, q[m[0]:])
		}
		step := (window / BlockSparkSteps).Truncate(time.Second)
		if step < time.Second {
			step = time.Second
		}
		end := now.Truncate(step)
		res.Range = window
		r, err = src.QueryRange(ctx, inner, datasource.Range{Start: end.Add(-window), End: end, Step: step})
	} else {
		r, err = src.Query(ctx, q, now)
	}
	if err != nil {
		return res, fmt.Errorf("promql block on %s: %w", src.Name(), err)
	}
	res.Warnings = r.Warnings
	res.Total = len(r.Series)
	series := slices.Clone(r.Series)
	// Most urgent first: the largest latest values lead, as a person scanning for the
	// culprit would sort them.
	slices.SortStableFunc(series, func(a, b datasource.Series) int {
		va, vb := lastValue(a.Samples), lastValue(b.Samples)
		switch {
		case math.IsNaN(va) && math.IsNaN(vb):
			return 0
		case math.IsNaN(va):
			return 1
		case math.IsNaN(vb):
			return -1
		case va > vb:
			return -1
		case va < vb:
			return 1
		}
		return 0
	})
	for _, s := range series[:min(len(series), MaxBlockSeries)] {
		bs := BlockSeries{Name: LegendName("", s.Labels), Value: lastValue(s.Samples)}
		if res.Range > 0 {
			bs.Samples = s.Samples
		}
		res.Series = append(res.Series, bs)
	}
	return res, nil
}

func lastValue(s []datasource.Sample) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	return s[len(s)-1].V
}

// parsePromDuration reads Prometheus's duration notation ("1h30m", "90s", "2w", "500ms").
func parsePromDuration(s string) (time.Duration, error) {
	units := map[string]time.Duration{
		"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour,
		"d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "y": 365 * 24 * time.Hour,
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		n := 0
		for _, c := range s[:i] {
			n = n*10 + int(c-'0')
			if n > 1e9 {
				return 0, fmt.Errorf("duration %q too long", s)
			}
		}
		s = s[i:]
		u := "ms"
		if !strings.HasPrefix(s, "ms") {
			if s == "" {
				return 0, fmt.Errorf("duration without a unit")
			}
			u = s[:1]
		}
		d, ok := units[u]
		if !ok {
			return 0, fmt.Errorf("unknown duration unit %q", u)
		}
		total += time.Duration(n) * d
		s = s[len(u):]
	}
	return total, nil
}
