package history

import (
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/datasource"
)

var t0 = time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)

func al(fp string, st datasource.AlertState, starts time.Duration) datasource.Alert {
	return datasource.Alert{Fingerprint: fp, State: st, StartsAt: t0.Add(starts), Labels: map[string]string{"alertname": "A" + fp, "severity": "critical"}}
}

func TestTrackerReportsChangesOnly(t *testing.T) {
	var tr Tracker
	steps := []struct {
		alerts []datasource.Alert
		want   []string // fp:state
	}{
		{[]datasource.Alert{al("1", datasource.StateFiring, -time.Hour)}, []string{"1:firing"}},
		{[]datasource.Alert{al("1", datasource.StateFiring, -time.Hour)}, nil},
		{[]datasource.Alert{al("1", datasource.StateSuppressed, -time.Hour), al("2", datasource.StateFiring, 0)}, []string{"1:suppressed", "2:firing"}},
		{[]datasource.Alert{al("2", datasource.StateResolved, 0)}, []string{"2:resolved", "1:gone"}},
		{nil, nil}, // a resolved alert leaving is not "gone"
	}
	for i, st := range steps {
		evs := tr.Observe(st.alerts, t0.Add(time.Duration(i)*time.Minute))
		var got []string
		for _, e := range evs {
			got = append(got, e.Fingerprint+":"+string(e.State))
		}
		if len(got) != len(st.want) {
			t.Fatalf("step %d: %v, want %v", i, got, st.want)
		}
		for j := range got {
			if got[j] != st.want[j] {
				t.Fatalf("step %d: %v, want %v", i, got, st.want)
			}
		}
	}
	if evs := (&Tracker{}).Observe([]datasource.Alert{al("9", datasource.StateFiring, -2*time.Hour)}, t0); !evs[0].At.Equal(t0.Add(-2 * time.Hour)) {
		t.Fatalf("an alert already firing is recorded at its start, got %s", evs[0].At)
	}
}

func TestSummariseCountsFlaps(t *testing.T) {
	ev := func(m int, fp string, st datasource.AlertState) Event {
		return Event{At: t0.Add(time.Duration(m) * time.Minute), Fingerprint: fp, Name: "Disk", State: st}
	}
	events := []Event{
		ev(0, "a", datasource.StateFiring), ev(5, "a", datasource.StateResolved),
		ev(10, "a", datasource.StateFiring), ev(12, "a", datasource.StateResolved),
		ev(20, "a", datasource.StateFiring),
		ev(3, "b", datasource.StateFiring), ev(4, "b", StateGone),
	}
	// Summarise wants time order
	ordered := []Event{events[0], events[5], events[6], events[1], events[2], events[3], events[4]}
	s := Summarise(ordered, t0.Add(30*time.Minute))
	if len(s) != 1 || s[0].Fired != 4 || s[0].Flaps != 2 || s[0].FiringFor != (5+2+10+1)*time.Minute {
		t.Fatalf("stats = %+v", s)
	}
}
