package incident

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/datasource"
)

var t0 = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

func TestCheckTransition(t *testing.T) {
	for _, tc := range []struct {
		from, to Status
		want     error
	}{
		{Investigating, Identified, nil},
		{Investigating, Mitigated, nil},
		{Investigating, Resolved, nil},
		{Identified, Mitigated, nil},
		{Mitigated, Resolved, nil},
		{Mitigated, Investigating, nil}, // the mitigation did not hold
		{Mitigated, Identified, nil},
		{Identified, Investigating, ErrInvalidTransition},
		{Resolved, Investigating, ErrInvalidTransition}, // only through Reopen
		{Resolved, Mitigated, ErrInvalidTransition},
		{Identified, Identified, ErrNoChange},
		{Investigating, "fixed", ErrInvalidTransition},
	} {
		t.Run(string(tc.from)+"→"+string(tc.to), func(t *testing.T) {
			err := CheckTransition(tc.from, tc.to)
			if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("CheckTransition = %v, want %v", err, tc.want)
			}
		})
	}
	var te *TransitionError
	if err := CheckTransition(Resolved, Identified); !errors.As(err, &te) || !strings.Contains(err.Error(), "reopen") {
		t.Errorf("resolved → identified: %v", err)
	}
}

func TestParsing(t *testing.T) {
	for in, want := range map[string]Severity{"SEV1": SEV1, "sev2": SEV2, " 3 ": SEV3, "Sev4": SEV4} {
		if got, err := ParseSeverity(in); err != nil || got != want {
			t.Errorf("ParseSeverity(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "SEV0", "SEV5", "critical"} {
		if _, err := ParseSeverity(bad); !errors.Is(err, ErrInvalidSeverity) {
			t.Errorf("ParseSeverity(%q) = %v", bad, err)
		}
	}
	for _, sl := range SeverityLevels {
		if sl.Severity.Meaning() == "" {
			t.Errorf("%s has no meaning", sl.Severity)
		}
	}
	b, _ := json.Marshal(SeverityFields{From: SEV3, To: SEV1})
	var back SeverityFields
	if err := json.Unmarshal(b, &back); err != nil || back.To != SEV1 || !strings.Contains(string(b), `"SEV1"`) {
		t.Errorf("severity JSON %s → %+v, %v", b, back, err)
	}
	if r, err := ParseRole("IC"); err != nil || r != Commander {
		t.Errorf("ParseRole(IC) = %v %v", r, err)
	}
	if _, err := ParseRole("boss"); !errors.Is(err, ErrInvalidRole) {
		t.Errorf("ParseRole(boss) = %v", err)
	}
	if _, err := ParseStatus("Mitigated"); err != nil {
		t.Error(err)
	}
	if _, err := ParseKind("gossip"); !errors.Is(err, ErrInvalidKind) {
		t.Errorf("ParseKind = %v", err)
	}
}

func inc(status Status, sev Severity, ms ...Milestone) Incident {
	m := Milestones{}
	for _, x := range ms {
		m[x.Kind] = x
	}
	return Incident{ID: 7, Title: "checkout down", Severity: sev, Status: status, Milestones: m}
}

func TestClocks(t *testing.T) {
	detected := Milestone{Kind: MilestoneDetected, At: t0.Add(-10 * time.Minute)}
	declared := Milestone{Kind: MilestoneDeclared, At: t0}
	open := inc(Investigating, SEV2, detected, declared)
	sent := open
	sent.LastUpdateAt = t0.Add(40 * time.Minute)
	resolved := inc(Resolved, SEV2, detected, declared, Milestone{Kind: MilestoneResolved, At: t0.Add(time.Hour)})
	pol := UpdatePolicy{PerSeverity: map[Severity]time.Duration{SEV1: 15 * time.Minute}}
	for _, tc := range []struct {
		name    string
		inc     Incident
		pol     UpdatePolicy
		now     time.Time
		state   UpdateState
		next    time.Time
		sinceDt time.Duration
	}{
		{"fresh", open, pol, t0.Add(time.Minute), UpdateOK, t0.Add(30 * time.Minute), 11 * time.Minute},
		{"last 20% is amber", open, pol, t0.Add(24 * time.Minute), UpdateAmber, t0.Add(30 * time.Minute), 34 * time.Minute},
		{"just before amber", open, pol, t0.Add(23*time.Minute + 59*time.Second), UpdateOK, t0.Add(30 * time.Minute), 0},
		{"due now is red", open, pol, t0.Add(30 * time.Minute), UpdateRed, t0.Add(30 * time.Minute), 0},
		{"overdue", open, pol, t0.Add(45 * time.Minute), UpdateRed, t0.Add(30 * time.Minute), 0},
		{"SEV1 every 15m", inc(Identified, SEV1, declared), pol, t0.Add(13 * time.Minute), UpdateAmber, t0.Add(15 * time.Minute), 13 * time.Minute},
		{"custom amber 50%", open, UpdatePolicy{Every: time.Hour, AmberFraction: 0.5}, t0.Add(31 * time.Minute), UpdateAmber, t0.Add(time.Hour), 0},
		{"sent update resets", sent, pol, t0.Add(45 * time.Minute), UpdateOK, t0.Add(70 * time.Minute), 0},
		{"resolved stops and freezes", resolved, pol, t0.Add(5 * time.Hour), UpdateOff, time.Time{}, 70 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := Clocks(tc.inc, tc.pol, tc.now)
			if cs.Update != tc.state || !cs.NextUpdateAt.Equal(tc.next) || (tc.sinceDt != 0 && cs.SinceDetection != tc.sinceDt) {
				t.Fatalf("Clocks = %+v", cs)
			}
			if tc.state != UpdateOff && cs.UpdateIn != tc.next.Sub(tc.now) {
				t.Errorf("UpdateIn %v", cs.UpdateIn)
			}
		})
	}
}

func TestDurations(t *testing.T) {
	m := func(k MilestoneKind, min int) Milestone {
		return Milestone{Kind: k, At: t0.Add(time.Duration(min) * time.Minute)}
	}
	full := inc(Resolved, SEV2, m(MilestoneStarted, -15), m(MilestoneDetected, -5), m(MilestoneAcknowledged, 2), m(MilestoneDeclared, 0), m(MilestoneMitigated, 20), m(MilestoneResolved, 45))
	d := full.Milestones.Durations()
	want := Durations{Span{10 * time.Minute, true}, Span{7 * time.Minute, true}, Span{5 * time.Minute, true}, Span{25 * time.Minute, true}, Span{50 * time.Minute, true}}
	if d != want {
		t.Errorf("durations %+v", d)
	}
	// Declared by hand without alerts: the clock starts at declaration; no detection time.
	byHand := inc(Mitigated, SEV3, m(MilestoneDeclared, 0), m(MilestoneMitigated, 30))
	if d := byHand.Milestones.Durations(); d.TimeToMitigate.D != 30*time.Minute || d.TimeToDetect.Known || d.TimeToResolve.Known {
		t.Errorf("by hand %+v", d)
	}
	// A hand edit that puts a milestone before the origin is shown unknown, not negative.
	bad := inc(Resolved, SEV3, m(MilestoneDeclared, 0), m(MilestoneAcknowledged, -3))
	if d := bad.Milestones.Durations(); d.TimeToAcknowledge.Known || d.TimeToAcknowledge.String() != "—" {
		t.Errorf("negative span %+v", d.TimeToAcknowledge)
	}
	for d, want := range map[time.Duration]string{45 * time.Second: "45s", 12*time.Minute + 5*time.Second: "12m05s", 3*time.Hour + 7*time.Minute: "3h07m", 52 * time.Hour: "2d04h", -90 * time.Second: "-1m30s"} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestSummarise(t *testing.T) {
	m := func(k MilestoneKind, at time.Time) Milestone { return Milestone{Kind: k, At: at} }
	day := 24 * time.Hour
	incs := []Incident{
		inc(Resolved, SEV1, m(MilestoneDeclared, t0), m(MilestoneAcknowledged, t0.Add(4*time.Minute)), m(MilestoneMitigated, t0.Add(10*time.Minute)), m(MilestoneResolved, t0.Add(time.Hour))),
		inc(Resolved, SEV2, m(MilestoneDeclared, t0.Add(day)), m(MilestoneAcknowledged, t0.Add(day+2*time.Minute)), m(MilestoneResolved, t0.Add(day+30*time.Minute))),
		inc(Investigating, SEV2, m(MilestoneDeclared, t0.Add(2*day))),
		inc(Resolved, SEV3, m(MilestoneDeclared, t0.Add(-day)), m(MilestoneResolved, t0)), // before the period
	}
	st := Summarise(incs, t0, t0.Add(7*day))
	if st.Count != 3 || st.Open != 1 || st.BySev[SEV2] != 2 || st.MTTA != 3*time.Minute || st.MTTR != 45*time.Minute || st.NRes != 2 {
		t.Errorf("stats %+v", st)
	}
	if empty := Summarise(nil, t0, t0.Add(day)); empty.MTTR != 0 || empty.Count != 0 {
		t.Errorf("empty stats %+v", empty)
	}
}

func TestDeclarationFromAlerts(t *testing.T) {
	a := datasource.Alert{Fingerprint: "f", Labels: map[string]string{"alertname": "KafkaLag", "job": "ingest"}}
	d, err := Declaration{Severity: SEV3, Alerts: []datasource.Alert{a, a}, At: t0}.Normalize()
	if err != nil || d.Title != "KafkaLag" || len(d.Services) != 1 || d.Services[0] != "ingest" {
		t.Errorf("normalized %+v, %v", d, err)
	}
	if _, err := (Declaration{Title: "x", Severity: SEV3}).Normalize(); err == nil {
		t.Error("a declaration without a time was accepted")
	}
}

func TestPostmortemAndStatusUpdate(t *testing.T) {
	i := inc(Resolved, SEV2, Milestone{Kind: MilestoneDetected, At: t0}, Milestone{Kind: MilestoneDeclared, At: t0.Add(time.Minute)},
		Milestone{Kind: MilestoneAcknowledged, At: t0.Add(3 * time.Minute), Manual: true, Reason: "paged by phone", By: "ana"},
		Milestone{Kind: MilestoneResolved, At: t0.Add(time.Hour)})
	i.Services = []string{"checkout"}
	fields := func(v any) json.RawMessage { b, _ := MarshalFields(v); return b }
	u := DraftStatusUpdate(i, UpdatePolicy{}, t0.Add(10*time.Minute))
	u.Impact = "EU card payments | failing"
	entries := []Entry{
		{ID: 4, At: t0.Add(20 * time.Minute), Kind: KindCorrection, Text: "it was the replica", Corrects: 2, Fields: fields(CorrectionFields{2})},
		{ID: 2, At: t0.Add(5 * time.Minute), Kind: KindNote, Author: "sam", Text: "primary DB\nsaturated"},
		{ID: 3, At: t0.Add(6 * time.Minute), Kind: KindDecision, Author: "ana", Text: "fail over", Fields: fields(DecisionFields{"primary saturated"})},
		{ID: 5, At: t0.Add(7 * time.Minute), Kind: KindRunbookStep, Author: "bo", Text: "[x] db: check", Fields: fields(RunbookStepFields{"db", "s1", "Check replication lag", true})},
		{ID: 6, At: t0.Add(10 * time.Minute), Kind: KindStatusUpdateSent, Author: "cy", Text: u.Text(i), Fields: fields(u)},
	}
	dir := t.TempDir()
	files, err := WritePostmortem(filepath.Join(dir, "inc-7.md"), PostmortemInput{
		Incident: i, Timeline: entries, GeneratedAt: t0.Add(2 * time.Hour),
		Actions: []ActionItem{{ID: 1, Title: "alert on | lag", Owner: "bo", Due: t0.AddDate(0, 0, 7), RiskID: "R-3"}},
		Charts:  []Chart{{Title: "DB CPU", PNG: []byte("png-1")}, {Title: "no image"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("files %v", files)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "inc-7.md"))
	s := string(md)
	for _, want := range []string{
		"# Postmortem: INC-7 checkout down",
		"| acknowledged | 2026-03-14 09:03:00 UTC | set by hand by ana: paged by phone |",
		"| Time to acknowledge | 3m00s |",
		"~~primary DB saturated~~ (corrected by #4)",
		"correction of #2: it was the replica",
		"**fail over** because primary saturated",
		"- [x] db: Check replication lag (bo,",
		"![DB CPU](inc-7-chart-1.png)",
		`| 1 | alert on \| lag | bo | 2026-03-21 | R-3 |`,
		"Last customer impact statement sent: EU card payments | failing",
		"Impact window: 2026-03-14 09:00:00 UTC to 2026-03-14 10:00:00 UTC (1h00m)",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("postmortem lacks %q", want)
		}
	}
	if strings.Index(s, "#2 ·") > strings.Index(s, "#4 ·") {
		t.Error("timeline not in time order")
	}
	if strings.Contains(s, "no image") {
		t.Error("a chart without an image was linked")
	}
	if png, _ := os.ReadFile(filepath.Join(dir, "inc-7-chart-1.png")); string(png) != "png-1" {
		t.Error("chart not written")
	}
	txt := u.Text(i)
	for _, want := range []string{"[SEV2] INC-7", "What is happening: checkout down", "Customer impact: EU card payments", "Next update at: 09:40 UTC"} {
		if !strings.Contains(txt, want) {
			t.Errorf("status update lacks %q:\n%s", want, txt)
		}
	}
}
