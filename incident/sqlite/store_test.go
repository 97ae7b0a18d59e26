package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/datasource"
	historysqlite "github.com/opscockpit/opscockpit/history/sqlite"
	"github.com/opscockpit/opscockpit/incident"
	"github.com/opscockpit/opscockpit/internal/sqlitedb"
)

var t0 = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "cockpit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func alert(fp, name string, state datasource.AlertState, starts time.Time) datasource.Alert {
	return datasource.Alert{
		Fingerprint: fp, State: state, StartsAt: starts, Source: "am",
		Labels:      map[string]string{"alertname": name, "severity": "critical", "service": "checkout"},
		Annotations: map[string]string{"summary": name + " is bad"},
	}
}

func declare(t testing.TB, s *Store, title string, at time.Time) incident.Incident {
	t.Helper()
	inc, err := s.Declare(context.Background(), incident.Declaration{Title: title, Severity: incident.SEV2, By: "ana", At: at})
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

func kinds(es []incident.Entry) []incident.Kind {
	var out []incident.Kind
	for _, e := range es {
		out = append(out, e.Kind)
	}
	return out
}

func TestDeclareFromAlerts(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	inc, err := s.Declare(ctx, incident.Declaration{
		Severity: incident.SEV1,
		Alerts: []datasource.Alert{
			alert("b", "HighErrorRate", datasource.StateFiring, t0.Add(-3*time.Minute)),
			alert("a", "HighLatency", datasource.StateFiring, t0.Add(-5*time.Minute)),
		},
		Roles: map[incident.Role]string{incident.Commander: "Ana", incident.Scribe: "Sam"},
		By:    "ana", At: t0,
	})
	if err != nil {
		t.Fatal(err)
	}
	if inc.Title != "HighErrorRate is bad" || inc.Status != incident.Investigating || !slices.Equal(inc.Services, []string{"checkout"}) {
		t.Errorf("incident = %+v", inc)
	}
	if d, _ := inc.Milestones.At(incident.MilestoneDetected); !d.Equal(t0.Add(-5 * time.Minute)) {
		t.Errorf("detected = %v, want the earliest alert start", d)
	}
	if d, _ := inc.Milestones.At(incident.MilestoneDeclared); !d.Equal(t0) {
		t.Errorf("declared = %v", d)
	}
	if inc.Roles[incident.Commander] != "Ana" || inc.Roles[incident.Scribe] != "Sam" || len(inc.Alerts) != 2 || inc.Alerts[0] != "a" {
		t.Errorf("roles %v alerts %v", inc.Roles, inc.Alerts)
	}
	all, err := s.AllTimeline(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []incident.Kind{incident.KindAlertFiring, incident.KindAlertFiring, incident.KindStatusChange, incident.KindRoleChange, incident.KindRoleChange}
	if !slices.Equal(kinds(all), want) {
		t.Fatalf("timeline kinds %v, want %v", kinds(all), want)
	}
	var af incident.AlertFields
	if err := all[0].Decode(&af); err != nil || af.Fingerprint != "a" || af.Alertname != "HighLatency" {
		t.Errorf("first alert entry fields %+v, %v", af, err)
	}
	names, _ := s.RecentNames(ctx, 10)
	if len(names) != 2 {
		t.Errorf("recent names %v", names)
	}
	// A declaration with neither title nor alerts, or a bad severity, is refused.
	if _, err := s.Declare(ctx, incident.Declaration{Severity: incident.SEV2, At: t0}); !errors.Is(err, incident.ErrEmpty) {
		t.Errorf("untitled declaration: %v", err)
	}
	if _, err := s.Declare(ctx, incident.Declaration{Title: "x", Severity: 7, At: t0}); !errors.Is(err, incident.ErrInvalidSeverity) {
		t.Errorf("SEV7: %v", err)
	}
}

func TestLifecycleAndMilestones(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	inc := declare(t, s, "checkout down", t0)
	id := inc.ID
	step := func(name string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	step("ack", s.RecordAck(ctx, id, "a", "HighLatency", "looking", "ana", t0.Add(2*time.Minute)))
	step("later ack", s.RecordAck(ctx, id, "a", "HighLatency", "", "bo", t0.Add(4*time.Minute)))
	_, err := s.SetStatus(ctx, id, incident.Identified, "", "ana", t0.Add(5*time.Minute))
	step("identified", err)
	_, err = s.SetStatus(ctx, id, incident.Investigating, "", "ana", t0.Add(6*time.Minute))
	if !errors.Is(err, incident.ErrInvalidTransition) {
		t.Fatalf("identified → investigating: %v", err)
	}
	_, err = s.SetStatus(ctx, id, incident.Mitigated, "", "ana", t0.Add(10*time.Minute))
	step("mitigated", err)
	_, err = s.SetStatus(ctx, id, incident.Investigating, "rollback did not hold", "ana", t0.Add(12*time.Minute))
	step("back to investigating", err)
	got, _ := s.Get(ctx, id)
	if _, ok := got.Milestones.At(incident.MilestoneMitigated); ok {
		t.Error("a mitigation that did not hold still counts")
	}
	_, err = s.SetStatus(ctx, id, incident.Mitigated, "", "ana", t0.Add(20*time.Minute))
	step("mitigated again", err)
	_, err = s.SetStatus(ctx, id, incident.Resolved, "", "ana", t0.Add(30*time.Minute))
	step("resolved", err)
	_, err = s.SetStatus(ctx, id, incident.Identified, "", "ana", t0.Add(31*time.Minute))
	if !errors.Is(err, incident.ErrInvalidTransition) {
		t.Fatalf("resolved → identified without reopen: %v", err)
	}
	got, _ = s.Get(ctx, id)
	d := got.Milestones.Durations()
	if d.TimeToAcknowledge.D != 2*time.Minute || d.TimeToMitigate.D != 20*time.Minute || d.TimeToResolve.D != 30*time.Minute {
		t.Errorf("durations %+v", d)
	}
	// A hand-set milestone wins over data, and its reason lands on the timeline.
	_, err = s.SetMilestone(ctx, id, incident.MilestoneAcknowledged, t0.Add(time.Minute), "", "ana", t0.Add(40*time.Minute))
	if !errors.Is(err, incident.ErrReasonRequired) {
		t.Fatalf("milestone without a reason: %v", err)
	}
	_, err = s.SetMilestone(ctx, id, incident.MilestoneAcknowledged, t0.Add(3*time.Minute), "ack was given by phone first", "ana", t0.Add(40*time.Minute))
	step("manual ack milestone", err)
	step("earlier ack after override", s.RecordAck(ctx, id, "b", "X", "", "bo", t0.Add(time.Minute)))
	got, _ = s.Get(ctx, id)
	if m := got.Milestones[incident.MilestoneAcknowledged]; !m.Manual || !m.At.Equal(t0.Add(3*time.Minute)) || m.Reason == "" {
		t.Errorf("acknowledged %+v: the override must win", m)
	}
	// Reopen is explicit and needs a reason; it clears the automatic end milestones.
	if _, err := s.Reopen(ctx, id, "", "ana", t0.Add(50*time.Minute)); !errors.Is(err, incident.ErrReasonRequired) {
		t.Fatalf("reopen without reason: %v", err)
	}
	e, err := s.Reopen(ctx, id, "errors are back", "ana", t0.Add(50*time.Minute))
	step("reopen", err)
	var sf incident.StatusFields
	if e.Decode(&sf); !sf.Reopen || sf.From != incident.Resolved || sf.To != incident.Investigating {
		t.Errorf("reopen fields %+v", sf)
	}
	got, _ = s.Get(ctx, id)
	if _, ok := got.Milestones.At(incident.MilestoneResolved); ok || got.Status != incident.Investigating {
		t.Errorf("after reopen: %+v", got)
	}
	if _, err := s.Reopen(ctx, id, "again", "ana", t0.Add(51*time.Minute)); !errors.Is(err, incident.ErrNotResolved) {
		t.Errorf("reopening an open incident: %v", err)
	}
	if _, err := s.SetStatus(ctx, 999, incident.Resolved, "", "ana", t0); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("unknown incident: %v", err)
	}
	if _, err := s.SetSeverity(ctx, id, incident.SEV1, "spreading", "ana", t0.Add(52*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetRole(ctx, id, incident.CommsLead, "Cy", "ana", t0.Add(53*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetRole(ctx, id, incident.CommsLead, "Cy", "ana", t0.Add(54*time.Minute)); !errors.Is(err, incident.ErrNoChange) {
		t.Errorf("same role twice: %v", err)
	}
	got, _ = s.Get(ctx, id)
	if got.Severity != incident.SEV1 || got.Roles[incident.CommsLead] != "Cy" {
		t.Errorf("after severity and role: %+v", got)
	}
}

func TestTimelineIsAppendOnly(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	inc := declare(t, s, "db slow", t0)
	other := declare(t, s, "other", t0)
	n, err := s.Note(ctx, inc.ID, "restarted pod-7", "sam", t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE incident_timeline SET text = 'nothing happened' WHERE id = ?`,
		`DELETE FROM incident_timeline WHERE id = ?`,
	} {
		_, err := s.db.W.ExecContext(ctx, q, n.ID)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", q, err)
		}
	}
	if _, err := s.Correct(ctx, other.ID, n.ID, "x", "sam", t0); !errors.Is(err, incident.ErrEntryNotFound) {
		t.Errorf("correcting another incident's entry: %v", err)
	}
	c, err := s.Correct(ctx, inc.ID, n.ID, "it was pod-8", "sam", t0.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	page, err := s.Timeline(ctx, inc.ID, incident.TimelineQuery{Kinds: []incident.Kind{incident.KindNote, incident.KindCorrection}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 2 || page.Entries[0].Text != "restarted pod-7" || page.Entries[0].CorrectedBy != c.ID || page.Entries[1].Corrects != n.ID {
		t.Fatalf("entries %+v", page.Entries)
	}
	if _, err := s.Note(ctx, inc.ID, "  ", "sam", t0); !errors.Is(err, incident.ErrEmpty) {
		t.Errorf("empty note: %v", err)
	}
	if _, err := s.Decide(ctx, inc.ID, "fail over", "", "sam", t0); !errors.Is(err, incident.ErrReasonRequired) {
		t.Errorf("decision without because: %v", err)
	}
}

func TestRecordAlertEventsIsIdempotent(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	inc := declare(t, s, "by hand", t0)
	batch := []datasource.Alert{alert("a", "A", datasource.StateFiring, t0.Add(-10*time.Minute)), alert("b", "B", datasource.StateSuppressed, t0.Add(time.Minute))}
	for range 3 { // replayed after reconnects
		if err := s.RecordAlertEvents(ctx, inc.ID, batch, t0.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	res := alert("a", "A", datasource.StateResolved, t0.Add(-10*time.Minute))
	res.EndsAt = t0.Add(8 * time.Minute)
	for range 2 {
		if err := s.RecordAlertEvents(ctx, inc.ID, []datasource.Alert{res}, t0.Add(9*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	page, _ := s.Timeline(ctx, inc.ID, incident.TimelineQuery{Kinds: []incident.Kind{incident.KindAlertFiring, incident.KindAlertResolved}})
	if page.Total != 3 || page.Entries[2].Kind != incident.KindAlertResolved || !page.Entries[2].At.Equal(res.EndsAt) {
		t.Fatalf("alert entries %+v", page.Entries)
	}
	got, _ := s.Get(ctx, inc.ID)
	if d, _ := got.Milestones.At(incident.MilestoneDetected); !d.Equal(t0.Add(-10 * time.Minute)) {
		t.Errorf("detected %v: a linked alert that started earlier moves detection back", d)
	}
}

func TestStatusUpdateActionsAndStats(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	inc := declare(t, s, "payments", t0)
	pol := incident.UpdatePolicy{}
	if cs := incident.Clocks(inc, pol, t0.Add(29*time.Minute)); cs.Update != incident.UpdateAmber {
		t.Errorf("at 29m: %v", cs.Update)
	}
	u := incident.DraftStatusUpdate(inc, pol, t0.Add(29*time.Minute))
	u.Impact = "card payments fail for 10% of EU customers"
	if _, err := s.SendStatusUpdate(ctx, inc.ID, u, "cy", t0.Add(29*time.Minute)); err != nil {
		t.Fatal(err)
	}
	inc, _ = s.Get(ctx, inc.ID)
	if cs := incident.Clocks(inc, pol, t0.Add(31*time.Minute)); cs.Update != incident.UpdateOK || !cs.NextUpdateAt.Equal(t0.Add(59*time.Minute)) {
		t.Errorf("after sending: %+v", cs)
	}
	a, err := s.AddAction(ctx, inc.ID, incident.ActionItem{Title: "alert on queue depth", Owner: "bo", Due: t0.AddDate(0, 0, 14), CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetActionRisk(ctx, a.ID, "R-17"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetActionRisk(ctx, 999, "R-1"); !errors.Is(err, incident.ErrActionNotFound) {
		t.Errorf("unknown action: %v", err)
	}
	acts, _ := s.Actions(ctx, inc.ID)
	if len(acts) != 1 || acts[0].RiskID != "R-17" || !acts[0].Due.Equal(t0.AddDate(0, 0, 14)) {
		t.Errorf("actions %+v", acts)
	}
	if err := s.RecordAck(ctx, inc.ID, "x", "X", "", "bo", t0.Add(4*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetStatus(ctx, inc.ID, incident.Resolved, "", "ana", t0.Add(60*time.Minute)); err != nil {
		t.Fatal(err)
	}
	second := declare(t, s, "search", t0.Add(24*time.Hour))
	if err := s.RecordAck(ctx, second.ID, "y", "Y", "", "bo", t0.Add(24*time.Hour+2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetStatus(ctx, second.ID, incident.Resolved, "", "ana", t0.Add(24*time.Hour+20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	declare(t, s, "still open", t0.Add(48*time.Hour))
	st, err := s.Stats(ctx, t0.Add(-time.Hour), t0.Add(72*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if st.Count != 3 || st.Open != 1 || st.MTTA != 3*time.Minute || st.MTTR != 40*time.Minute || st.NRes != 2 {
		t.Errorf("stats %+v", st)
	}
	act, ok, err := s.Active(ctx, 0)
	if err != nil || !ok || act.Title != "still open" {
		t.Errorf("active = %v %v %v", act.Title, ok, err)
	}
	if act, ok, _ := s.Active(ctx, second.ID); !ok || act.ID != second.ID {
		t.Errorf("explicit selection ignored: %v", act.ID)
	}
}

// TestVersionSeesOtherWriters: two handles on one file behave like two processes
// (separate connections); a commit through either moves both handles' Version.
func TestVersionSeesOtherWriters(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	ui, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ui.Close()
	cli, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	v0, _ := ui.Version(ctx)
	inc := declare(t, cli, "from the CLI", t0)
	v1, _ := ui.Version(ctx)
	if _, err := cli.Note(ctx, inc.ID, "scribe note", "sam", t0); err != nil {
		t.Fatal(err)
	}
	v2, _ := ui.Version(ctx)
	if !(v0 < v1 && v1 < v2) {
		t.Fatalf("versions %d %d %d", v0, v1, v2)
	}
	// A refused write commits nothing and leaves the version alone.
	_, _ = cli.Note(ctx, 12345, "nowhere", "sam", t0)
	if v3, _ := ui.Version(ctx); v3 != v2 {
		t.Errorf("failed write moved the version %d → %d", v2, v3)
	}
	// A cancelled context never starts a write.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := cli.Note(cctx, inc.ID, "late", "sam", t0); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled write: %v", err)
	}
}

// TestSharesTheCockpitFile: the incident module lives beside the alert history (which
// owns user_version) and the risk module without touching either.
func TestSharesTheCockpitFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cockpit.db")
	hist, err := historysqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer hist.Close()
	risk, err := sqlitedb.OpenModule(ctx, path, "risk", []string{"CREATE TABLE risk_risks (id INTEGER PRIMARY KEY)"})
	if err != nil {
		t.Fatal(err)
	}
	defer risk.Close()
	var uv int
	hist.DB().QueryRowContext(ctx, "PRAGMA user_version").Scan(&uv)
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	declare(t, s, "shared", t0)
	var uv2 int
	s.db.R.QueryRowContext(ctx, "PRAGMA user_version").Scan(&uv2)
	if uv != uv2 || uv == 0 {
		t.Errorf("user_version %d → %d", uv, uv2)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type IN ('table', 'index', 'trigger') AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ours int
	for rows.Next() {
		var n string
		rows.Scan(&n)
		if strings.HasPrefix(n, "incident_") {
			ours++
		} else if !strings.HasPrefix(n, "alert_") && !strings.HasPrefix(n, "runbook_") && !strings.HasPrefix(n, "risk_") && n != "opscockpit_schema" {
			t.Errorf("unexpected object %q", n)
		}
	}
	if ours == 0 {
		t.Error("no incident_ tables")
	}
}

// seedTimeline adds n entries of rotating kinds in one transaction (fast set-up).
func seedTimeline(t testing.TB, s *Store, id int64, n int) {
	t.Helper()
	ks := []incident.Kind{incident.KindNote, incident.KindAlertFiring, incident.KindRunbookStep, incident.KindDecision, incident.KindAck}
	err := s.write(context.Background(), "seed", func(ctx context.Context, tx *sql.Tx) error {
		for i := range n {
			k := ks[i%len(ks)]
			// times deliberately not in id order: every 7th entry is back-dated
			at := t0.Add(time.Duration(i) * time.Second)
			if i%7 == 0 {
				at = at.Add(-30 * time.Second)
			}
			if _, err := appendEntry(ctx, tx, incident.Entry{IncidentID: id, At: at, Author: "seed", Kind: k, Text: fmt.Sprintf("entry %d", i)}, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTimeline10kPagesInOrder(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	inc := declare(t, s, "big", t0.Add(-time.Hour))
	seedTimeline(t, s, inc.ID, 10_000)
	for _, tc := range []struct {
		name  string
		kinds []incident.Kind
		desc  bool
		want  int
	}{
		{"all oldest first", nil, false, 10_001},
		{"all newest first", nil, true, 10_001},
		{"notes", []incident.Kind{incident.KindNote}, false, 2_000},
		{"notes and decisions newest first", []incident.Kind{incident.KindNote, incident.KindDecision}, true, 4_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			var (
				got   []incident.Entry
				after *incident.Cursor
			)
			for {
				p, err := s.Timeline(ctx, inc.ID, incident.TimelineQuery{Kinds: tc.kinds, Desc: tc.desc, Limit: 500, After: after})
				if err != nil {
					t.Fatal(err)
				}
				if p.Total != tc.want {
					t.Fatalf("total %d, want %d", p.Total, tc.want)
				}
				got = append(got, p.Entries...)
				if after = p.Next; after == nil {
					break
				}
			}
			if len(got) != tc.want {
				t.Fatalf("paged %d entries, want %d", len(got), tc.want)
			}
			for i := 1; i < len(got); i++ {
				a, b := got[i-1], got[i]
				c := a.At.Compare(b.At)
				if c == 0 {
					c = int(a.ID - b.ID)
				}
				if (c > 0) != tc.desc || c == 0 {
					t.Fatalf("entries %d and %d out of order", a.ID, b.ID)
				}
				if len(tc.kinds) > 0 && !slices.Contains(tc.kinds, b.Kind) {
					t.Fatalf("kind %s leaked through the filter", b.Kind)
				}
			}
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("paging 10k entries took %v", el)
			}
		})
	}
}
