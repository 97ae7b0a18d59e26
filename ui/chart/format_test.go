package chart

import (
	"math"
	"testing"
)

func TestFormatValue(t *testing.T) {
	tests := []struct {
		name     string
		v        float64
		unit     string
		decimals int
		want     string
	}{
		{"seconds to ms", 0.0123, "s", -1, "12.3 ms"},
		{"seconds", 1.234, "s", -1, "1.23 s"},
		{"seconds whole", 2, "s", -1, "2 s"},
		{"seconds zero", 0, "s", -1, "0 s"},
		{"seconds negative zero", math.Copysign(0, -1), "s", -1, "0 s"},
		{"nanoseconds", 4.2e-9, "s", -1, "4.2 ns"},
		{"microseconds", 0.000250, "s", -1, "250 µs"},
		{"minutes", 90, "s", -1, "1.5 min"},
		{"hours", 7200, "s", -1, "2 h"},
		{"rounds up a unit", 0.99996, "s", -1, "1 s"},
		{"negative seconds", -0.5, "s", -1, "-500 ms"},
		{"fixed decimals", 0.0123, "s", 2, "12.30 ms"},
		{"ms unit", 12.3, "ms", -1, "12.3 ms"},
		{"ms unit scales up", 1500, "ms", -1, "1.5 s"},
		{"percent", 42.123, "percent", -1, "42.1%"},
		{"percent hundred", 100, "percent", -1, "100%"},
		{"percent decimals", 42.123, "percent", 0, "42%"},
		{"percentunit", 0.4213, "percentunit", -1, "42.1%"},
		{"percentunit small", 0.00012, "percentunit", -1, "0.012%"},
		{"bytes", 512, "bytes", -1, "512 B"},
		{"kibibytes", 1536, "bytes", -1, "1.5 KiB"},
		{"mebibytes", 3 * 1024 * 1024, "bytes", -1, "3 MiB"},
		{"gibibytes", 1.25 * 1024 * 1024 * 1024, "bytes", -1, "1.25 GiB"},
		{"reqps", 1200, "reqps", -1, "1.2k req/s"},
		{"reqps small", 0.5, "reqps", -1, "0.5 req/s"},
		{"short", 1200, "", -1, "1.2k"},
		{"short mega", 3.4e6, "", -1, "3.4M"},
		{"short rounds into next prefix", 999999, "", -1, "1M"},
		{"short plain", 42, "", -1, "42"},
		{"short fraction", 0.123, "", -1, "0.123"},
		{"short tiny", 1.5e-7, "", -1, "1.5e-07"},
		{"short huge", 1.5e300, "", -1, "1.5e+300"},
		{"short negative", -2500, "", -1, "-2.5k"},
		{"bytes huge", 1e300, "bytes", -1, "1e+300 B"},
		{"other unit", 21.5, "°C", -1, "21.5 °C"},
		{"NaN", math.NaN(), "s", -1, "–"},
		{"+Inf", math.Inf(1), "s", -1, "+Inf"},
		{"-Inf", math.Inf(-1), "bytes", -1, "-Inf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatValue(tt.v, tt.unit, tt.decimals); got != tt.want {
				t.Errorf("FormatValue(%v, %q, %d) = %q, want %q", tt.v, tt.unit, tt.decimals, got, tt.want)
			}
		})
	}
}

func TestAxisLabelsDistinct(t *testing.T) {
	got := axisLabels([]float64{100000, 100500, 101000}, "", -1)
	if !distinct(got) {
		t.Fatalf("labels not distinct: %q", got)
	}
}
