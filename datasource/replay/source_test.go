package replay

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
)

const testScenario = `
name: test
step: 1m
duration: 10m
series:
  - query: up{job="api"}
    labels: {job: api}
    values: 1 1 _ 0 0 stale _ 1x3
  - query: |
      sum(rate(x[5m]))
    labels: {code: "200"}
    values: 0+10x9
  - query: sum(rate(x[5m]))
    labels: {code: "500"}
    values: 5x9
alerts:
  - at: 2m
    resolve: 5m
    labels: {alertname: ApiDown, severity: critical}
    annotations: {summary: api is down}
  - at: 4m
    labels: {alertname: Slow, severity: warning}
`

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func mustParse(t *testing.T, src string) *Scenario {
	t.Helper()
	sc, err := Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestQueryFollowsTheClock(t *testing.T) {
	sc := mustParse(t, testScenario)
	clk := clock.NewFake(t0)
	src := New("s", sc, clk, t0, Options{})
	ctx := context.Background()
	tests := []struct {
		at     time.Duration
		want   float64
		absent bool
	}{
		{-time.Hour, 1, false},       // before the origin the first state holds
		{0, 1, false},                //
		{90 * time.Second, 1, false}, // within step 1
		{2 * time.Minute, 1, false},  // missing point: look back to 1
		{3 * time.Minute, 0, false},  //
		{5 * time.Minute, 0, true},   // stale marker ends the series
		{6 * time.Minute, 0, true},   // missing after stale: still nothing
		{7 * time.Minute, 1, false},  //
		{time.Hour, 1, false},        // after the end the last state holds
	}
	for _, tt := range tests {
		res, err := src.Query(ctx, `up{job="api"}`, t0.Add(tt.at))
		if err != nil {
			t.Fatal(err)
		}
		if tt.absent {
			if len(res.Series) != 0 {
				t.Errorf("at %s: got %v, want no series", tt.at, res.Series)
			}
			continue
		}
		if len(res.Series) != 1 || res.Series[0].Samples[0].V != tt.want {
			t.Errorf("at %s: got %+v, want %v", tt.at, res.Series, tt.want)
		}
	}
	// whitespace-insensitive matching, several series per query
	res, _ := src.Query(ctx, "sum(rate(x[5m]))", t0.Add(3*time.Minute))
	if len(res.Series) != 2 || res.Series[0].Samples[0].V != 30 || res.Series[1].Samples[0].V != 5 {
		t.Fatalf("multi-series query: %+v", res.Series)
	}
	if res, _ := src.Query(ctx, "nope", t0); len(res.Series) != 0 {
		t.Fatalf("unknown query answered: %+v", res)
	}
}

func TestQueryRangeGapsAreNaN(t *testing.T) {
	sc := mustParse(t, testScenario)
	src := New("s", sc, clock.NewFake(t0), t0, Options{Lookback: time.Second})
	res, err := src.QueryRange(context.Background(), `up{job="api"}`, datasource.Range{Start: t0, End: t0.Add(9 * time.Minute), Step: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Series) != 1 || len(res.Series[0].Samples) != 10 {
		t.Fatalf("got %+v", res)
	}
	var got []string
	for _, s := range res.Series[0].Samples {
		if math.IsNaN(s.V) {
			got = append(got, "_")
		} else {
			got = append(got, map[float64]string{0: "0", 1: "1"}[s.V])
		}
	}
	if strings.Join(got, " ") != "1 1 _ 0 0 _ _ 1 1 1" {
		t.Fatalf("range = %v", got)
	}
}

func TestAlertsAtAndLoop(t *testing.T) {
	sc := mustParse(t, testScenario)
	src := New("s", sc, clock.NewFake(t0), t0, Options{Loop: true, ResolvedFor: 2 * time.Minute})
	names := func(at time.Duration) string {
		var out []string
		for _, a := range src.AlertsAt(t0.Add(at)) {
			out = append(out, a.Name()+":"+string(a.State))
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		at   time.Duration
		want string
	}{
		{time.Minute, ""},
		{2 * time.Minute, "ApiDown:firing"},
		{4 * time.Minute, "Slow:firing,ApiDown:firing"},
		{5 * time.Minute, "Slow:firing,ApiDown:resolved"},
		{7 * time.Minute, "Slow:firing"},
		{12 * time.Minute, "ApiDown:firing"}, // second cycle
	}
	for _, tt := range tests {
		if got := names(tt.at); got != tt.want {
			t.Errorf("at %s: %q, want %q", tt.at, got, tt.want)
		}
	}
	a := src.AlertsAt(t0.Add(12 * time.Minute))[0]
	if !a.StartsAt.Equal(t0.Add(12 * time.Minute)) {
		t.Errorf("second cycle StartsAt = %s", a.StartsAt)
	}
	if a.Fingerprint == "" || a.Source != "s" || a.Annotations["summary"] != "api is down" {
		t.Errorf("alert = %+v", a)
	}
}

func TestSubscribeDeliversChangesOnTheClock(t *testing.T) {
	sc := mustParse(t, testScenario)
	clk := clock.NewFake(t0)
	src := New("s", sc, clk, t0, Options{Tick: time.Minute})
	sub, err := src.Subscribe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ev := <-sub.C()
	if ev.Kind != datasource.Snapshot || len(ev.Alerts) != 0 {
		t.Fatalf("first event = %+v", ev)
	}
	clk.BlockUntil(1)
	clk.Advance(time.Minute) // nothing changes: no event
	clk.Advance(time.Minute) // ApiDown fires
	select {
	case ev = <-sub.C():
	case <-time.After(5 * time.Second):
		t.Fatal("no event after ApiDown fired")
	}
	if len(ev.Alerts) != 1 || ev.Alerts[0].Name() != "ApiDown" {
		t.Fatalf("event = %+v", ev)
	}
}

func TestSubscribeNeverBlocksOnASlowReader(t *testing.T) {
	sc := mustParse(t, testScenario)
	clk := clock.NewFake(t0)
	src := New("s", sc, clk, t0, Options{Tick: time.Minute})
	sub, _ := src.Subscribe(context.Background())
	clk.BlockUntil(1)
	for range 8 { // many changes, nobody reading
		clk.Advance(time.Minute)
	}
	done := make(chan struct{})
	go func() { sub.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked: the player is stuck on an unread event")
	}
	for range sub.C() { // drained and closed
	}
}

func TestParseErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"unknown field", "name: x\nstep: 1m\nduration: 1m\nbogus: 1\n", "field bogus not found"},
		{"bad notation", "name: x\nstep: 1m\nduration: 5m\nseries:\n  - query: q\n    values: 1+zx3\n", `test.yaml:6: series[0].values: term 1 "1+zx3"`},
		{"no step", "name: x\nduration: 5m\n", "step: must be a positive duration"},
		{"alert outside", "name: x\nstep: 1m\nduration: 5m\nalerts:\n  - at: 6m\n    labels: {alertname: A}\n", "test.yaml:5: alerts[0].at: 6m is outside"},
		{"resolve before", "name: x\nstep: 1m\nduration: 5m\nalerts:\n  - at: 2m\n    resolve: 1m\n    labels: {alertname: A}\n", "alerts[0].resolve: 1m is not after"},
		{"no alertname", "name: x\nstep: 1m\nduration: 5m\nalerts:\n  - at: 1m\n", "alertname: required"},
		{"duplicate alert", "name: x\nstep: 1m\nduration: 5m\nalerts:\n  - at: 1m\n    labels: {alertname: A}\n  - at: 2m\n    labels: {alertname: A}\n", "same labels as alerts[0]"},
		{"not yaml", "{{{", "test.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

func FuzzParseScenario(f *testing.F) {
	f.Add([]byte(testScenario))
	f.Add([]byte("name: x\nstep: 1s\nduration: 1s\nseries: [{query: q, values: '1 _ stale'}]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sc, err := Parse("f.yaml", b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error without file name: %v", err)
			}
			return
		}
		if sc.Step <= 0 || sc.Duration <= 0 {
			t.Fatalf("accepted non-positive step/duration: %+v", sc)
		}
		src := New("f", sc, clock.NewFake(t0), t0, Options{Loop: true})
		for _, s := range sc.Series {
			if len(s.Points) == 0 {
				t.Fatal("accepted a series with no points")
			}
			_, _ = src.Query(context.Background(), s.Query, t0.Add(sc.Duration/2))
		}
		_ = src.AlertsAt(t0.Add(sc.Duration - 1))
	})
}
