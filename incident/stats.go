package incident

import (
	"context"
	"time"

	"github.com/opscockpit/opscockpit/datasource"
)

// Stats are MTTx figures across the incidents declared in a period. Means are over the
// incidents whose span is known (N… counts them), so an open incident does not drag the
// MTTR down to zero.
type Stats struct {
	From, To time.Time
	Count    int // incidents declared in [From, To)
	Open     int
	BySev    map[Severity]int
	MTTA     time.Duration // mean time to acknowledge
	MTTM     time.Duration // mean time to mitigate
	MTTR     time.Duration // mean time to resolve
	NAck     int
	NMit     int
	NRes     int
}

// Summarise computes Stats for the incidents declared in [from, to).
func Summarise(incs []Incident, from, to time.Time) Stats {
	st := Stats{From: from, To: to, BySev: map[Severity]int{}}
	var ack, mit, res time.Duration
	for _, inc := range incs {
		d := inc.DeclaredAt()
		if d.Before(from) || !d.Before(to) {
			continue
		}
		st.Count++
		st.BySev[inc.Severity]++
		if inc.Status.Open() {
			st.Open++
		}
		du := inc.Milestones.Durations()
		if du.TimeToAcknowledge.Known {
			ack += du.TimeToAcknowledge.D
			st.NAck++
		}
		if du.TimeToMitigate.Known {
			mit += du.TimeToMitigate.D
			st.NMit++
		}
		if du.TimeToResolve.Known && inc.Status == Resolved {
			res += du.TimeToResolve.D
			st.NRes++
		}
	}
	mean := func(sum time.Duration, n int) time.Duration {
		if n == 0 {
			return 0
		}
		return (sum / time.Duration(n)).Round(time.Second)
	}
	st.MTTA, st.MTTM, st.MTTR = mean(ack, st.NAck), mean(mit, st.NMit), mean(res, st.NRes)
	return st
}

// Recorder is what the rest of the cockpit calls to put what happens onto an incident's
// timeline. Every method is idempotent where its input can repeat (alert batches are
// replayed after a reconnect) and takes the time of the event, never asking a clock.
type Recorder interface {
	// RecordAlertEvents links alerts to the incident and records each state change
	// (alert_firing, alert_resolved) once; the earliest startsAt sets the detected
	// milestone unless it was set by hand.
	RecordAlertEvents(ctx context.Context, incidentID int64, alerts []datasource.Alert, at time.Time) error
	// RecordAck records an acknowledgement; the first sets the acknowledged milestone.
	RecordAck(ctx context.Context, incidentID int64, fingerprint, alertname, comment, by string, at time.Time) error
	// RecordSilence records a silence created during the incident.
	RecordSilence(ctx context.Context, incidentID int64, silenceID, matchers string, until time.Time, by string, at time.Time) error
	// RecordRunbookStep records a runbook checklist tick or untick.
	RecordRunbookStep(ctx context.Context, incidentID int64, runbook, stepID, stepText string, checked bool, by string, at time.Time) error
	// RecordRiskChange records a change to a risk linked to the incident.
	RecordRiskChange(ctx context.Context, incidentID int64, riskID, change, by string, at time.Time) error
}
