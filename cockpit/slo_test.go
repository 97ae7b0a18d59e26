package cockpit

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
)

// ratios answers SLO queries from a table keyed by the window in the query text.
type ratios struct {
	fakeMetrics
	byWindow map[string]float64
}

func (r *ratios) Query(_ context.Context, q string, at time.Time) (datasource.Result, error) {
	for w, v := range r.byWindow {
		if strings.Contains(q, "["+w+"]") {
			return datasource.Result{Series: []datasource.Series{{Samples: []datasource.Sample{{T: at, V: v}}}}}, nil
		}
	}
	return datasource.Result{}, nil
}

func TestSLOEvaluation(t *testing.T) {
	tests := []struct {
		name      string
		ratios    map[string]float64
		level     SLOLevel
		remaining float64
	}{
		{"healthy", map[string]float64{"5m": 0.0005, "30m": 0.0004, "1h": 0.0004, "6h": 0.0003, "30d": 0.0002}, SLOOK, 0.8},
		{"fast burn pages", map[string]float64{"5m": 0.02, "30m": 0.018, "1h": 0.016, "6h": 0.004, "30d": 0.0003}, SLOPage, 0.7},
		{"short window alone does not page", map[string]float64{"5m": 0.02, "30m": 0.001, "1h": 0.001, "6h": 0.001, "30d": 0.0003}, SLOOK, 0.7},
		{"slow burn tickets", map[string]float64{"5m": 0.005, "30m": 0.007, "1h": 0.008, "6h": 0.0065, "30d": 0.0005}, SLOTicket, 0.5},
		{"overspent", map[string]float64{"5m": 0, "30m": 0, "1h": 0, "6h": 0, "30d": 0.0015}, SLOOK, -0.5},
		{"no data", map[string]float64{}, SLOUnknown, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			spec := PanelSpec{Title: "slo", Type: PanelSLO, Source: "p", Query: `sum(rate(err[$window])) / sum(rate(req[$window]))`, Objective: 99.9}
			h := NewHub(clk, HubOptions{Panels: []PanelSpec{spec}})
			p := &Poller{Hub: h, Clock: clk, Panels: []PanelSpec{spec}, Sources: map[string]datasource.MetricsSource{"p": &ratios{fakeMetrics: fakeMetrics{name: "p"}, byWindow: tt.ratios}}}
			p.RefreshAll(context.Background())
			ps := h.Publish().Panels[0]
			st := EvaluateSLO(ps.Spec, ps.Result)
			if st.Level != tt.level {
				t.Errorf("level = %s, want %s (burn 1h %.1f, 5m %.1f)", st.Level, tt.level, st.Burn(time.Hour), st.Burn(5*time.Minute))
			}
			if math.IsNaN(tt.remaining) != math.IsNaN(st.BudgetRemaining) || (!math.IsNaN(tt.remaining) && math.Abs(st.BudgetRemaining-tt.remaining) > 1e-9) {
				t.Errorf("budget remaining = %v, want %v", st.BudgetRemaining, tt.remaining)
			}
		})
	}
}

func TestPromDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{30 * 24 * time.Hour: "30d", 6 * time.Hour: "6h", 5 * time.Minute: "5m", 90 * time.Second: "90s"} {
		if got := PromDuration(d); got != want {
			t.Errorf("%s → %q, want %q", d, got, want)
		}
	}
	if q := SLOQuery("rate(x[$window]) / rate(y[$window])", time.Hour); q != "rate(x[1h]) / rate(y[1h])" {
		t.Errorf("SLOQuery = %q", q)
	}
}
