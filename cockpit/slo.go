package cockpit

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/opscockpit/opscockpit/datasource"
)

// WindowVar is the placeholder an SLO panel's query uses for its rate window, as in
// sum(rate(errors[$window])) / sum(rate(requests[$window])).
const WindowVar = "$window"

// SLO burn-rate alerting windows (Google SRE workbook, multi-window multi-burn-rate):
// a fast pair that pages at 14.4× and a slow pair that opens a ticket at 6×.
var (
	FastBurn = BurnPair{Long: time.Hour, Short: 5 * time.Minute, Factor: 14.4}
	SlowBurn = BurnPair{Long: 6 * time.Hour, Short: 30 * time.Minute, Factor: 6}
)

// BurnPair is a long and a short window that must both burn faster than Factor.
type BurnPair struct {
	Long, Short time.Duration
	Factor      float64
}

// SLOWindows are the rate windows an SLO panel queries: the two burn pairs and the
// objective's own window (for the budget).
func SLOWindows(objectiveWindow time.Duration) []time.Duration {
	return []time.Duration{FastBurn.Short, SlowBurn.Short, FastBurn.Long, SlowBurn.Long, objectiveWindow}
}

// SLOQuery fills the panel's query template for one window.
func SLOQuery(template string, window time.Duration) string {
	return strings.ReplaceAll(template, WindowVar, PromDuration(window))
}

// PromDuration writes a duration the way PromQL range selectors take it: 30d, 6h, 5m, 90s.
func PromDuration(d time.Duration) string {
	switch day := 24 * time.Hour; {
	case d%day == 0:
		return fmt.Sprintf("%dd", d/day)
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// SLOLevel is what the burn rates call for.
type SLOLevel string

// SLO levels.
const (
	SLOOK      SLOLevel = "ok"
	SLOTicket  SLOLevel = "ticket" // slow pair over 6×
	SLOPage    SLOLevel = "page"   // fast pair over 14.4×
	SLOUnknown SLOLevel = "unknown"
)

// SLOState is an SLO panel's evaluation: how fast the error budget burns over each
// window and how much of it is left.
type SLOState struct {
	Objective       float64                   // percent, e.g. 99.9
	Budget          float64                   // allowed error ratio, e.g. 0.001
	ErrorRatio      map[time.Duration]float64 // by window; missing when the query had no data
	BudgetRemaining float64                   // 1 = untouched, 0 = spent, negative = overspent; NaN if unknown
	Level           SLOLevel
}

// Burn is the burn rate over window w (error ratio / budget), NaN when unknown.
func (s SLOState) Burn(w time.Duration) float64 {
	r, ok := s.ErrorRatio[w]
	if !ok || s.Budget <= 0 {
		return math.NaN()
	}
	return r / s.Budget
}

func (s SLOState) pairBurning(p BurnPair) bool {
	return s.Burn(p.Long) > p.Factor && s.Burn(p.Short) > p.Factor
}

// EvaluateSLO reads an SLO panel's result (one series per window, labelled
// window="5m", …, as the poller builds it) against the panel's objective.
func EvaluateSLO(spec PanelSpec, res datasource.Result) SLOState {
	st := SLOState{Objective: spec.Objective, Budget: 1 - spec.Objective/100, ErrorRatio: map[time.Duration]float64{}, BudgetRemaining: math.NaN()}
	for _, w := range SLOWindows(spec.objectiveWindow()) {
		for _, s := range res.Series {
			if s.Labels[sloWindowLabel] == PromDuration(w) && len(s.Samples) > 0 && !math.IsNaN(s.Samples[0].V) {
				st.ErrorRatio[w] = s.Samples[0].V
			}
		}
	}
	if r, ok := st.ErrorRatio[spec.objectiveWindow()]; ok && st.Budget > 0 {
		st.BudgetRemaining = 1 - r/st.Budget
	}
	switch {
	case st.pairBurning(FastBurn):
		st.Level = SLOPage
	case st.pairBurning(SlowBurn):
		st.Level = SLOTicket
	case len(st.ErrorRatio) == 0:
		st.Level = SLOUnknown
	default:
		st.Level = SLOOK
	}
	return st
}

const sloWindowLabel = "window"

func (s PanelSpec) objectiveWindow() time.Duration {
	if s.Window > 0 {
		return s.Window
	}
	return 30 * 24 * time.Hour
}
