package bundle_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/incident"
	"github.com/opscockpit/opscockpit/incident/bundle"
	incsqlite "github.com/opscockpit/opscockpit/incident/sqlite"
)

var t0 = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

// exportSample builds an incident with alerts, notes, a correction, a decision, a runbook
// step, an action and two panels of metrics, and exports it.
func exportSample(t *testing.T, dir string) (string, incident.Incident) {
	t.Helper()
	ctx := context.Background()
	s, err := incsqlite.Open(ctx, filepath.Join(dir, "cockpit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a := datasource.Alert{Fingerprint: "fp1", State: datasource.StateFiring, StartsAt: t0.Add(-4 * time.Minute),
		Labels: map[string]string{"alertname": "CheckoutLatencyHigh", "severity": "critical", "service": "checkout"}}
	inc, err := s.Declare(ctx, incident.Declaration{Severity: incident.SEV2, Alerts: []datasource.Alert{a},
		Roles: map[incident.Role]string{incident.Commander: "Ana"}, By: "ana", At: t0})
	must(t, err)
	must(t, s.RecordAck(ctx, inc.ID, "fp1", "CheckoutLatencyHigh", "", "bo", t0.Add(time.Minute)))
	n, err := s.Note(ctx, inc.ID, "db at 100% cpu", "sam", t0.Add(2*time.Minute))
	must(t, err)
	_, err = s.Correct(ctx, inc.ID, n.ID, "replica, not primary", "sam", t0.Add(3*time.Minute))
	must(t, err)
	_, err = s.Decide(ctx, inc.ID, "fail over to the replica", "primary is saturated", "ana", t0.Add(4*time.Minute))
	must(t, err)
	must(t, s.RecordRunbookStep(ctx, inc.ID, "checkout-latency", "s1", "Check the DB dashboard", true, "bo", t0.Add(5*time.Minute)))
	_, err = s.SetStatus(ctx, inc.ID, incident.Mitigated, "", "ana", t0.Add(10*time.Minute))
	must(t, err)
	a.State, a.EndsAt = datasource.StateResolved, t0.Add(11*time.Minute)
	must(t, s.RecordAlertEvents(ctx, inc.ID, []datasource.Alert{a}, t0.Add(11*time.Minute)))
	_, err = s.SetStatus(ctx, inc.ID, incident.Resolved, "", "ana", t0.Add(15*time.Minute))
	must(t, err)
	_, err = s.AddAction(ctx, inc.ID, incident.ActionItem{Title: "add CPU alert", Owner: "bo", Due: t0.AddDate(0, 0, 7), CreatedAt: t0})
	must(t, err)
	ex := bundle.Extras{
		MetricWindows: []bundle.PanelSeries{
			{Panel: "p99 latency", Query: "histogram_quantile(0.99, ...)", Unit: "s", Series: []datasource.Series{
				{Labels: map[string]string{"service": "checkout"}, Samples: []datasource.Sample{
					{T: t0.Add(-10 * time.Minute), V: 0.2}, {T: t0, V: math.NaN()}, {T: t0.Add(time.Minute), V: math.Inf(1)}, {T: t0.Add(2 * time.Minute), V: 1.4}}},
			}},
			{Panel: "empty panel"},
		},
		Runbooks: map[string]string{"checkout-latency": "# Checkout latency\n\n- [ ] Check the DB dashboard\n"},
	}
	out := filepath.Join(dir, "inc.ocbx")
	must(t, bundle.Export(ctx, s, inc.ID, ex, out, "ana", t0.Add(time.Hour)))
	inc, err = s.Get(ctx, inc.ID)
	must(t, err)
	return out, inc
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestExportOpenRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path, inc := exportSample(t, dir)
	before, _ := os.ReadFile(path)
	b, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("Open changed the file")
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("bundle mode %o", st.Mode().Perm())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*tmp*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if appID := int32(binary.BigEndian.Uint32(before[68:72])); appID != bundle.ApplicationID {
		t.Errorf("application_id %#x", appID)
	}
	if b.Format != bundle.FormatVersion || b.ExportedBy != "ana" || !b.ExportedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("meta %d %q %v", b.Format, b.ExportedBy, b.ExportedAt)
	}
	got := b.Incident
	if got.Title != inc.Title || got.Status != incident.Resolved || got.Roles[incident.Commander] != "Ana" || len(got.Alerts) != 1 {
		t.Errorf("incident %+v", got)
	}
	if got.Milestones.Durations() != inc.Milestones.Durations() || !b.Origin().Equal(t0.Add(-4*time.Minute)) {
		t.Errorf("durations %+v vs %+v, origin %v", got.Milestones.Durations(), inc.Milestones.Durations(), b.Origin())
	}
	if len(b.Timeline) != 11 {
		t.Errorf("timeline has %d entries", len(b.Timeline))
	}
	var corrected bool
	for _, e := range b.Timeline {
		if e.Text == "db at 100% cpu" && e.CorrectedBy != 0 {
			corrected = true
		}
	}
	if !corrected {
		t.Error("correction link lost")
	}
	if len(b.Actions) != 1 || b.Actions[0].Owner != "bo" {
		t.Errorf("actions %+v", b.Actions)
	}
	// No alert history was supplied: the events come from the timeline, in time order.
	if len(b.AlertEvents) != 2 || b.AlertEvents[0].State != datasource.StateFiring || b.AlertEvents[1].State != datasource.StateResolved ||
		b.AlertEvents[0].Labels["service"] != "checkout" || !b.AlertEvents[0].At.Equal(t0.Add(-4*time.Minute)) {
		t.Errorf("alert events %+v", b.AlertEvents)
	}
	if len(b.MetricWindows) != 2 || len(b.MetricWindows[0].Series) != 1 || b.MetricWindows[1].Panel != "empty panel" {
		t.Fatalf("metrics %+v", b.MetricWindows)
	}
	smp := b.MetricWindows[0].Series[0].Samples
	if len(smp) != 4 || smp[0].V != 0.2 || !math.IsNaN(smp[1].V) || !math.IsInf(smp[2].V, 1) || !smp[3].T.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("samples %+v", smp)
	}
	if b.Runbooks["checkout-latency"] == "" {
		t.Error("runbook markdown lost")
	}
}

func TestOpenRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	good, _ := exportSample(t, dir)
	data, _ := os.ReadFile(good)
	pageSize := int(binary.BigEndian.Uint16(data[16:18]))
	if len(data) < 4*pageSize {
		t.Fatalf("sample bundle too small to damage: %d bytes", len(data))
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		must(t, os.WriteFile(p, b, 0o600))
		return p
	}
	foreign := filepath.Join(dir, "foreign.db")
	db, err := sql.Open("sqlite3", foreign)
	must(t, err)
	_, err = db.Exec("CREATE TABLE x (a); INSERT INTO x VALUES (1); PRAGMA user_version = 1")
	must(t, err)
	db.Close()
	newer := bytes.Clone(data)
	binary.BigEndian.PutUint32(newer[60:64], bundle.FormatVersion+1)
	corrupt := bytes.Clone(data)
	for i := pageSize; i < len(corrupt); i++ { // every page but the header page
		corrupt[i] = byte(i * 7)
	}
	for _, tc := range []struct {
		name string
		path string
		want error
	}{
		{"missing", filepath.Join(dir, "nope.ocbx"), os.ErrNotExist},
		{"text file", write("notes.txt", []byte("these are my notes, not a database\n")), bundle.ErrNotSQLite},
		{"png", write("chart.png", []byte("\x89PNG\r\n\x1a\n0000000000000000")), bundle.ErrNotSQLite},
		{"empty", write("empty.ocbx", nil), bundle.ErrTruncated},
		{"header cut", write("cut1.ocbx", data[:60]), bundle.ErrTruncated},
		{"half the file", write("cut2.ocbx", data[:len(data)/2]), bundle.ErrTruncated},
		{"last page lost", write("cut3.ocbx", data[:len(data)-pageSize]), bundle.ErrTruncated},
		{"foreign SQLite", foreign, bundle.ErrForeign},
		{"newer format", write("newer.ocbx", newer), bundle.ErrNewerFormat},
		{"corrupt pages", write("corrupt.ocbx", corrupt), bundle.ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := os.ReadFile(tc.path)
			b, err := bundle.Open(tc.path)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open = %v, %v; want %v", b, err, tc.want)
			}
			if after, _ := os.ReadFile(tc.path); !bytes.Equal(before, after) {
				t.Error("the file was changed")
			}
			t.Log(err)
		})
	}
	var ve *bundle.VersionError
	if _, err := bundle.Open(filepath.Join(dir, "newer.ocbx")); !errors.As(err, &ve) || ve.Got != bundle.FormatVersion+1 {
		t.Errorf("newer format error %v", err)
	}
}

func TestWindow(t *testing.T) {
	m := incident.Milestones{
		incident.MilestoneDetected: {Kind: incident.MilestoneDetected, At: t0},
		incident.MilestoneDeclared: {Kind: incident.MilestoneDeclared, At: t0.Add(5 * time.Minute)},
		incident.MilestoneResolved: {Kind: incident.MilestoneResolved, At: t0.Add(time.Hour)},
	}
	from, to := bundle.Window(incident.Incident{Status: incident.Resolved, Milestones: m}, 30*time.Minute, 15*time.Minute, t0.Add(5*time.Hour))
	if !from.Equal(t0.Add(-30*time.Minute)) || !to.Equal(t0.Add(75*time.Minute)) {
		t.Errorf("resolved window %v – %v", from, to)
	}
	from, to = bundle.Window(incident.Incident{Status: incident.Mitigated, Milestones: m}, 0, 15*time.Minute, t0.Add(2*time.Hour))
	if !from.Equal(t0) || !to.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("open window %v – %v", from, to)
	}
}
