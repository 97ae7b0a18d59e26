package chart

import (
	"math"
	"strconv"
	"strings"
)

// NoValue is what FormatValue shows for NaN: a dash reads as "nothing here" from across
// a room, where "NaN" reads as a fault of the cockpit itself.
const NoValue = "–"

// FormatValue formats v for display in the given unit. decimals < 0 means automatic
// (about three significant digits, trailing zeros dropped); otherwise it is the number
// of digits after the decimal point once v has been scaled to its display unit.
//
// Units: "s" and "ms" (scaled through ns, µs, ms, s, min and h), "percent" (v is
// already 0–100), "percentunit" (v is a 0–1 ratio), "bytes" (KiB, MiB, GiB, …),
// "reqps" (SI-prefixed, " req/s") and "" (SI short: 1.2k, 3.4M). Any other unit is
// appended after an SI-short number. NaN gives NoValue; ±Inf gives "+Inf"/"-Inf".
func FormatValue(v float64, unit string, decimals int) string {
	return formatSig(v, unit, decimals, 3)
}

// formatSig is FormatValue with a chosen number of significant digits, so that axis
// labels one step apart can ask for more digits until they differ.
func formatSig(v float64, unit string, decimals, sig int) string {
	switch {
	case math.IsNaN(v):
		return NoValue
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	if v == 0 {
		v = 0 // no "-0"
	}
	switch unit {
	case "s":
		return formatSeconds(v, decimals, sig)
	case "ms":
		return formatSeconds(v/1000, decimals, sig)
	case "percent":
		return formatNumber(roundAuto(v, decimals, sig), decimals, sig) + "%"
	case "percentunit":
		return formatNumber(roundAuto(v*100, decimals, sig), decimals, sig) + "%"
	case "bytes":
		return formatScaled(v, decimals, sig, 1024, "B", binaryPrefixes)
	case "reqps":
		return formatSI(v, decimals, sig) + " req/s"
	case "":
		return formatSI(v, decimals, sig)
	default:
		return formatSI(v, decimals, sig) + " " + unit
	}
}

var (
	siPrefixes     = []string{"", "k", "M", "G", "T", "P", "E"}
	binaryPrefixes = []string{" B", " KiB", " MiB", " GiB", " TiB", " PiB", " EiB"}
)

func formatSI(v float64, decimals, sig int) string {
	return formatScaled(v, decimals, sig, 1000, "", siPrefixes)
}

// formatScaled divides v by base until it is below base (or the prefixes run out) and
// appends that prefix. In automatic mode the value is rounded first, so 999.96 becomes
// "1k" rather than "1000".
func formatScaled(v float64, decimals, sig int, base float64, plain string, prefixes []string) string {
	orig := v
	i := 0
	for math.Abs(roundAuto(v, decimals, sig)) >= base {
		if i == len(prefixes)-1 { // beyond the largest prefix: scientific notation
			s := strconv.FormatFloat(orig, 'g', sig, 64)
			if plain != "" {
				return s + " " + plain
			}
			return s
		}
		v /= base
		i++
	}
	s := formatNumber(roundAuto(v, decimals, sig), decimals, sig)
	if i == 0 && plain != "" {
		return s + " " + plain
	}
	return s + prefixes[i]
}

// durationUnits are the display units of "s", smallest first, with their size in seconds.
var durationUnits = []struct {
	name string
	secs float64
}{
	{"ns", 1e-9}, {"µs", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"min", 60}, {"h", 3600},
}

func formatSeconds(v float64, decimals, sig int) string {
	if v == 0 {
		return formatNumber(0, decimals, sig) + " s"
	}
	a := math.Abs(v)
	// Pick the largest unit the rounded value reaches; below 1 ns stay in ns.
	u := 0
	for i := len(durationUnits) - 1; i > 0; i-- {
		if math.Abs(roundAuto(a/durationUnits[i].secs, decimals, sig)) >= 1 {
			u = i
			break
		}
	}
	scaled := v / durationUnits[u].secs
	return formatNumber(roundAuto(scaled, decimals, sig), decimals, sig) + " " + durationUnits[u].name
}

// roundAuto rounds v to sig significant digits in automatic mode and to the fixed
// number of decimals otherwise.
func roundAuto(v float64, decimals, sig int) float64 {
	if decimals >= 0 {
		p := math.Pow(10, float64(decimals))
		if r := math.Round(v*p) / p; !math.IsInf(r, 0) && !math.IsNaN(r) {
			return r
		}
		return v
	}
	return roundSig(v, sig)
}

func roundSig(v float64, sig int) float64 {
	if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return v
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', sig, 64), 64)
	if err != nil {
		return v
	}
	return r
}

// formatNumber prints an already rounded v: fixed decimals, or in automatic mode just
// enough digits for sig significant ones with trailing zeros dropped.
func formatNumber(v float64, decimals, sig int) string {
	if v == 0 {
		v = 0
	}
	if decimals >= 0 {
		return strconv.FormatFloat(v, 'f', decimals, 64)
	}
	a := math.Abs(v)
	if a == 0 {
		return "0"
	}
	if a >= 1e15 || a < 1e-4 {
		return strconv.FormatFloat(v, 'g', sig, 64)
	}
	d := sig - 1 - int(math.Floor(math.Log10(a)))
	if d < 0 {
		d = 0
	}
	s := strconv.FormatFloat(v, 'f', d, 64)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}
