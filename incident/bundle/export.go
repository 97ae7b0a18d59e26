package bundle

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver

	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/history"
	"github.com/opscockpit/opscockpit/incident"
)

// Source is the part of the incident store an export reads.
type Source interface {
	Get(ctx context.Context, id int64) (incident.Incident, error)
	AllTimeline(ctx context.Context, id int64) ([]incident.Entry, error)
	Actions(ctx context.Context, id int64) ([]incident.ActionItem, error)
}

const schema = `
CREATE TABLE bundle_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE incident (
	id INTEGER PRIMARY KEY, title TEXT NOT NULL, severity INTEGER NOT NULL, status TEXT NOT NULL,
	services TEXT NOT NULL, declared_by TEXT NOT NULL, last_update_ms INTEGER NOT NULL, alerts TEXT NOT NULL);
CREATE TABLE roles (role TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE milestones (kind TEXT PRIMARY KEY, at_ms INTEGER NOT NULL, manual INTEGER NOT NULL,
	reason TEXT NOT NULL, by_whom TEXT NOT NULL);
CREATE TABLE timeline (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, author TEXT NOT NULL, kind TEXT NOT NULL,
	text TEXT NOT NULL, fields TEXT NOT NULL, corrects INTEGER NOT NULL, corrected_by INTEGER NOT NULL);
CREATE TABLE actions (id INTEGER PRIMARY KEY, title TEXT NOT NULL, owner TEXT NOT NULL, due_ms INTEGER NOT NULL,
	risk_id TEXT NOT NULL, created_ms INTEGER NOT NULL, created_by TEXT NOT NULL);
CREATE TABLE alert_events (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, fingerprint TEXT NOT NULL,
	name TEXT NOT NULL, severity TEXT NOT NULL, source TEXT NOT NULL, state TEXT NOT NULL, labels TEXT NOT NULL);
CREATE TABLE panels (id INTEGER PRIMARY KEY, title TEXT NOT NULL, query TEXT NOT NULL, unit TEXT NOT NULL);
CREATE TABLE series (id INTEGER PRIMARY KEY, panel_id INTEGER NOT NULL REFERENCES panels (id), labels TEXT NOT NULL);
CREATE TABLE samples (series_id INTEGER NOT NULL REFERENCES series (id), t_ms INTEGER NOT NULL, v REAL);
CREATE INDEX samples_series ON samples (series_id, t_ms);
CREATE TABLE runbooks (name TEXT PRIMARY KEY, markdown TEXT NOT NULL);
`

// Export writes incident id's black box to outPath, replacing it atomically (a crash
// leaves the old file or the complete new one, never half a bundle). by and at stamp
// the export.
func Export(ctx context.Context, src Source, id int64, extras Extras, outPath, by string, at time.Time) error {
	inc, err := src.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("export incident %d: %w", id, err)
	}
	entries, err := src.AllTimeline(ctx, id)
	if err != nil {
		return fmt.Errorf("export incident %d: %w", id, err)
	}
	actions, err := src.Actions(ctx, id)
	if err != nil {
		return fmt.Errorf("export incident %d: %w", id, err)
	}
	if len(extras.AlertEvents) == 0 {
		extras.AlertEvents = alertEventsFromTimeline(entries)
	}
	dir := filepath.Dir(outPath)
	f, err := os.CreateTemp(dir, "."+filepath.Base(outPath)+".tmp*")
	if err != nil {
		return fmt.Errorf("export incident %d to %s: %w", id, outPath, err)
	}
	tmp := f.Name()
	f.Close()
	defer os.Remove(tmp) // after a successful rename this finds nothing
	if err := writeBundle(ctx, tmp, inc, entries, actions, extras, by, at); err != nil {
		return fmt.Errorf("export incident %d to %s: %w", id, outPath, err)
	}
	if err := syncFile(tmp); err != nil {
		return fmt.Errorf("export incident %d to %s: %w", id, outPath, err)
	}
	if err := os.Rename(tmp, outPath); err != nil {
		return fmt.Errorf("export incident %d to %s: %w", id, outPath, err)
	}
	if d, err := os.Open(dir); err == nil { // make the rename itself durable
		d.Sync()
		d.Close()
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

func writeBundle(ctx context.Context, path string, inc incident.Incident, entries []incident.Entry, actions []incident.ActionItem, ex Extras, by string, at time.Time) error {
	q := url.Values{}
	q.Set("_journal_mode", "DELETE")
	q.Set("_synchronous", "FULL")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// The export is one transaction on its own private file: cancelling half-way would
	// only waste the work, so it runs to the end once started.
	ctx = context.WithoutCancel(ctx)
	for _, p := range []string{
		fmt.Sprintf("PRAGMA application_id = %d", ApplicationID),
		fmt.Sprintf("PRAGMA user_version = %d", FormatVersion),
	} {
		if _, err := db.ExecContext(ctx, p); err != nil {
			return err
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create bundle schema: %w", err)
	}
	exec := func(query string, args ...any) {
		if err == nil {
			_, err = tx.ExecContext(ctx, query, args...)
		}
	}
	for k, v := range map[string]string{
		"format": strconv.Itoa(FormatVersion), "exported_at_ms": strconv.FormatInt(at.UnixMilli(), 10),
		"exported_by": by, "generator": "opscockpit",
	} {
		exec(`INSERT INTO bundle_meta (key, value) VALUES (?, ?)`, k, v)
	}
	services, _ := json.Marshal(orEmpty(inc.Services))
	alerts, _ := json.Marshal(orEmpty(inc.Alerts))
	exec(`INSERT INTO incident VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, inc.ID, inc.Title, int(inc.Severity), string(inc.Status),
		string(services), inc.DeclaredBy, msOrZero(inc.LastUpdateAt), string(alerts))
	for r, name := range inc.Roles {
		exec(`INSERT INTO roles VALUES (?, ?)`, string(r), name)
	}
	for k, m := range inc.Milestones {
		exec(`INSERT INTO milestones VALUES (?, ?, ?, ?, ?)`, string(k), m.At.UnixMilli(), m.Manual, m.Reason, m.By)
	}
	for _, e := range entries {
		exec(`INSERT INTO timeline VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, e.At.UnixMilli(), e.Author, string(e.Kind), e.Text,
			string(orObject(e.Fields)), e.Corrects, e.CorrectedBy)
	}
	for _, a := range actions {
		exec(`INSERT INTO actions VALUES (?, ?, ?, ?, ?, ?, ?)`, a.ID, a.Title, a.Owner, msOrZero(a.Due), a.RiskID, msOrZero(a.CreatedAt), a.CreatedBy)
	}
	for _, ev := range ex.AlertEvents {
		labels, _ := json.Marshal(ev.Labels)
		exec(`INSERT INTO alert_events (at_ms, fingerprint, name, severity, source, state, labels) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			ev.At.UnixMilli(), ev.Fingerprint, ev.Name, ev.Severity, ev.Source, string(ev.State), string(labels))
	}
	for name, md := range ex.Runbooks {
		exec(`INSERT INTO runbooks VALUES (?, ?)`, name, md)
	}
	if err != nil {
		return err
	}
	if err := writeMetrics(ctx, tx, ex.MetricWindows); err != nil {
		return err
	}
	return tx.Commit()
}

func writeMetrics(ctx context.Context, tx *sql.Tx, panels []PanelSeries) error {
	sample, err := tx.PrepareContext(ctx, `INSERT INTO samples (series_id, t_ms, v) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	defer sample.Close()
	for _, p := range panels {
		res, err := tx.ExecContext(ctx, `INSERT INTO panels (title, query, unit) VALUES (?, ?, ?)`, p.Panel, p.Query, p.Unit)
		if err != nil {
			return fmt.Errorf("panel %q: %w", p.Panel, err)
		}
		pid, _ := res.LastInsertId()
		for _, s := range p.Series {
			labels, _ := json.Marshal(s.Labels)
			res, err := tx.ExecContext(ctx, `INSERT INTO series (panel_id, labels) VALUES (?, ?)`, pid, string(labels))
			if err != nil {
				return fmt.Errorf("panel %q: %w", p.Panel, err)
			}
			sid, _ := res.LastInsertId()
			for _, smp := range s.Samples {
				var v any = smp.V
				if math.IsNaN(smp.V) {
					v = nil // SQLite has no NaN; NULL is the gap
				}
				if _, err := sample.ExecContext(ctx, sid, smp.T.UnixMilli(), v); err != nil {
					return fmt.Errorf("panel %q: %w", p.Panel, err)
				}
			}
		}
	}
	return nil
}

// alertEventsFromTimeline rebuilds alert state changes from the timeline's alert
// entries, for replay when no alert history was supplied.
func alertEventsFromTimeline(entries []incident.Entry) []history.Event {
	var out []history.Event
	for _, e := range entries {
		if e.Kind != incident.KindAlertFiring && e.Kind != incident.KindAlertResolved {
			continue
		}
		var f incident.AlertFields
		if e.Decode(&f) != nil || f.Fingerprint == "" {
			continue
		}
		state := datasource.StateFiring
		if e.Kind == incident.KindAlertResolved {
			state = datasource.StateResolved
		}
		out = append(out, history.Event{At: e.At, Fingerprint: f.Fingerprint, Name: f.Alertname, Severity: f.Severity,
			Source: f.Source, State: state, Labels: f.Labels})
	}
	slices.SortStableFunc(out, func(a, b history.Event) int { return a.At.Compare(b.At) })
	return out
}

func msOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func orObject(f json.RawMessage) json.RawMessage {
	if len(f) == 0 {
		return json.RawMessage("{}")
	}
	return f
}
