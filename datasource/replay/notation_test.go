package replay

import (
	"math"
	"strings"
	"testing"
)

func vals(pts []Point) []float64 {
	out := make([]float64, len(pts))
	for i, p := range pts {
		switch {
		case p.Missing:
			out[i] = -999
		case p.Stale:
			out[i] = -888
		default:
			out[i] = p.V
		}
	}
	return out
}

func TestParseValues(t *testing.T) {
	const missing, stale = -999, -888
	tests := []struct {
		name string
		in   string
		want []float64
	}{
		{"single", "1", []float64{1}},
		{"list", "1 2 3", []float64{1, 2, 3}},
		{"increase", "0+10x3", []float64{0, 10, 20, 30}},
		{"decrease", "10-2x2", []float64{10, 8, 6}},
		{"negative start", "-2+4x3", []float64{-2, 2, 6, 10}},
		{"repeat shorthand", "1x4", []float64{1, 1, 1, 1, 1}},
		{"zero repeat", "5x0", []float64{5}},
		{"issue example", "0.02+0x2 0.4+0.05x2", []float64{0.02, 0.02, 0.02, 0.4, 0.45, 0.5}},
		{"missing", "1 _ 3", []float64{1, missing, 3}},
		{"missing run", "1 _x3 stale", []float64{1, missing, missing, missing, stale}},
		{"scientific", "1e-3+1e-3x2", []float64{0.001, 0.002, 0.003}},
		{"scientific negative delta", "1e+2-1e1x1", []float64{100, 90}},
		{"explicit plus", "+3", []float64{3}},
		{"empty", "", nil},
		{"whitespace", "  1 \n\t 2  ", []float64{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pts, err := ParseValues(tt.in)
			if err != nil {
				t.Fatalf("ParseValues(%q): %v", tt.in, err)
			}
			got := vals(pts)
			if len(got) != len(tt.want) {
				t.Fatalf("ParseValues(%q) = %v, want %v", tt.in, got, tt.want)
			}
			for i := range got {
				if math.Abs(got[i]-tt.want[i]) > 1e-9 {
					t.Fatalf("ParseValues(%q) = %v, want %v", tt.in, got, tt.want)
				}
			}
		})
	}
}

func TestParseValuesSpecialFloats(t *testing.T) {
	pts, err := ParseValues("Inf -Inf NaN +Inf inf")
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsInf(pts[0].V, 1) || !math.IsInf(pts[1].V, -1) || !math.IsNaN(pts[2].V) || !math.IsInf(pts[3].V, 1) || !math.IsInf(pts[4].V, 1) {
		t.Fatalf("got %+v", pts)
	}
}

func TestParseValuesErrors(t *testing.T) {
	tests := []struct {
		name, in, wantMsg string
	}{
		{"word", "abc", `term 1 "abc": "abc" is not a number`},
		{"bad count", "1+1xq", `repeat count "q"`},
		{"negative count", "1x-1", `repeat count "-1"`},
		{"huge count", "1x99999999999", "exceeds"},
		{"out of range", "1e999", "out of range"},
		{"bad delta", "1+zx3", `"z" is not a number`},
		{"second term", "1 2 x", `term 3`},
		{"histogram", "{{schema:0}}", "native histogram"},
		{"too long overall", strings.Repeat("1x60000 ", 2), "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseValues(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("ParseValues(%q) error = %v, want it to contain %q", tt.in, err, tt.wantMsg)
			}
		})
	}
}

func FuzzParseValues(f *testing.F) {
	for _, s := range []string{"0.02+0x10 0.4+0.05x20", "1 _x3 stale", "-2+4x3", "1e-3-1e-4x5", "Inf NaN", "_", "1x0", "x", "+-x3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pts, err := ParseValues(s)
		if err != nil {
			if pts != nil {
				t.Fatalf("error %v with points", err)
			}
			return
		}
		if len(pts) > MaxPoints {
			t.Fatalf("%d points exceeds cap", len(pts))
		}
		terms := len(strings.Fields(s))
		if len(pts) < terms-strings.Count(s, "_x0") {
			// every term yields at least one point, except "_x0" which yields none
			t.Fatalf("%q: %d points for %d terms", s, len(pts), terms)
		}
		for _, p := range pts {
			if p.Missing && p.Stale {
				t.Fatalf("point both missing and stale: %+v", p)
			}
		}
	})
}
