package cockpit

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// LegendName names a series for a legend: the panel's template with {{label}} replaced
// by label values, or else the labels themselves (the single value when there is one).
func LegendName(tpl string, labels map[string]string) string {
	if tpl != "" {
		var b strings.Builder
		for {
			i := strings.Index(tpl, "{{")
			if i < 0 {
				break
			}
			j := strings.Index(tpl[i:], "}}")
			if j < 0 {
				break
			}
			b.WriteString(tpl[:i])
			b.WriteString(labels[strings.TrimSpace(tpl[i+2:i+j])])
			tpl = tpl[i+j+2:]
		}
		b.WriteString(tpl)
		return b.String()
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		if k != "__name__" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	switch len(keys) {
	case 0:
		return "value"
	case 1:
		return labels[keys[0]]
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + labels[k]
	}
	return strings.Join(parts, ", ")
}

// HumanDuration prints a duration the way an on-call engineer says it: 45s, 12m, 1h05m, 2d3h.
func HumanDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd%dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

// ClockOffset prints a scenario offset as mm:ss (or h:mm:ss past an hour), with a
// leading minus before the scenario starts.
func ClockOffset(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	s := int(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%s%d:%02d:%02d", sign, s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%s%02d:%02d", sign, s/60, s%60)
}
