package replay

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Point is one step of a scripted series: a value, a missing scrape, or a staleness
// marker that ends the series until the next value.
type Point struct {
	V       float64
	Missing bool
	Stale   bool
}

// MaxPoints caps how many points one series line may expand to, so a typo such as
// `1x99999999999` is an error rather than an out-of-memory.
const MaxPoints = 100_000

// ParseValues expands promtool's expanding notation, as used in Prometheus unit tests:
//
//	a+bxn   a, a+b, a+2b, … a+nb   (n+1 points)
//	a-bxn   a, a-b, … a-nb
//	axn     a repeated n+1 times
//	_       one missing sample;  _xn  n missing samples
//	stale   a staleness marker
//
// Values may be integers, decimals, scientific notation, Inf, -Inf or NaN.
func ParseValues(s string) ([]Point, error) {
	var out []Point
	for i, tok := range strings.Fields(s) {
		pts, err := parseToken(tok)
		if err != nil {
			return nil, fmt.Errorf("term %d %q: %w", i+1, tok, err)
		}
		if len(out)+len(pts) > MaxPoints {
			return nil, fmt.Errorf("term %d %q: series longer than %d points", i+1, tok, MaxPoints)
		}
		out = append(out, pts...)
	}
	return out, nil
}

func parseToken(tok string) ([]Point, error) {
	if tok == "stale" {
		return []Point{{Stale: true}}, nil
	}
	if tok == "_" {
		return []Point{{Missing: true}}, nil
	}
	if strings.HasPrefix(tok, "{{") {
		return nil, errors.New("native histogram samples are not supported in scenarios")
	}
	base, countStr, hasX := cutLast(tok, 'x')
	if !hasX {
		v, err := parseFloat(tok)
		if err != nil {
			return nil, err
		}
		return []Point{{V: v}}, nil
	}
	n, err := strconv.Atoi(countStr)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("repeat count %q is not a whole number ≥ 0", countStr)
	}
	if n >= MaxPoints {
		return nil, fmt.Errorf("repeat count %d exceeds %d", n, MaxPoints)
	}
	if base == "_" {
		pts := make([]Point, n)
		for i := range pts {
			pts[i].Missing = true
		}
		return pts, nil
	}
	start, delta, err := splitStartDelta(base)
	if err != nil {
		return nil, err
	}
	pts := make([]Point, n+1)
	for i := range pts {
		pts[i].V = start + float64(i)*delta
	}
	return pts, nil
}

// cutLast splits at the last sep: promtool's grammar puts the repeat count after it.
func cutLast(s string, sep byte) (before, after string, found bool) {
	i := strings.LastIndexByte(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// splitStartDelta parses "a+b", "a-b" or "a" (delta 0). The sign that separates the two
// is the last + or - that is not at the start and not right after an exponent 'e'.
func splitStartDelta(s string) (start, delta float64, err error) {
	for i := len(s) - 1; i > 0; i-- {
		c := s[i]
		if c != '+' && c != '-' {
			continue
		}
		if p := s[i-1]; p == 'e' || p == 'E' {
			continue
		}
		if start, err = parseFloat(s[:i]); err != nil {
			return 0, 0, err
		}
		if delta, err = parseFloat(s[i+1:]); err != nil {
			return 0, 0, err
		}
		if c == '-' {
			delta = -delta
		}
		return start, delta, nil
	}
	start, err = parseFloat(s)
	return start, 0, err
}

func parseFloat(s string) (float64, error) {
	switch strings.ToLower(strings.TrimPrefix(s, "+")) {
	case "inf":
		return math.Inf(1), nil
	case "-inf":
		return math.Inf(-1), nil
	case "nan":
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if errors.Is(err, strconv.ErrRange) { // "1e999": say so rather than guess ±Inf
		return 0, fmt.Errorf("%q is out of range", s)
	}
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return v, nil
}
