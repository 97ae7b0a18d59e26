package bundle

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/history"
	"github.com/opscockpit/opscockpit/incident"
)

// Open reads the bundle at path. It never writes to the file: SQLite opens it with
// mode=ro&immutable=1, after the header was checked by hand. Failures match ErrNotSQLite,
// ErrForeign, ErrTruncated, ErrCorrupt or ErrNewerFormat (a *VersionError).
func Open(path string) (*Bundle, error) {
	fail := func(err error) (*Bundle, error) { return nil, fmt.Errorf("open bundle %s: %w", path, err) }
	if err := checkHeader(path); err != nil {
		return fail(err)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Set("immutable", "1")
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return fail(err)
	}
	defer db.Close()
	ctx := context.Background()
	var check string
	// quick_check(1): the first problem is enough to refuse the file, and keeps the
	// message to one line.
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check(1)").Scan(&check); err != nil {
		return fail(classify(err))
	}
	if check != "ok" {
		return fail(fmt.Errorf("%w: %s", ErrCorrupt, strings.Join(strings.Fields(check), " ")))
	}
	b := &Bundle{Path: path}
	if err := b.load(ctx, db); err != nil {
		return fail(classify(err))
	}
	return b, nil
}

// checkHeader classifies the file from its 100-byte SQLite header before SQLite opens it.
func checkHeader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	const magic = "SQLite format 3\x00"
	h := make([]byte, 100)
	n, err := io.ReadFull(f, h)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return err
	}
	switch {
	case n == 0:
		return fmt.Errorf("%w: the file is empty", ErrTruncated)
	case n < len(magic) && string(h[:n]) == magic[:n]:
		return ErrTruncated
	case n < len(magic) || string(h[:len(magic)]) != magic:
		return ErrNotSQLite
	case n < 100:
		return ErrTruncated
	}
	if app := int32(binary.BigEndian.Uint32(h[68:72])); app != ApplicationID {
		return fmt.Errorf("%w (application_id %#x)", ErrForeign, uint32(app))
	}
	version := int(int32(binary.BigEndian.Uint32(h[60:64])))
	if version > FormatVersion {
		return &VersionError{Got: version, Supported: FormatVersion}
	}
	if version < 1 {
		return fmt.Errorf("%w: no format version (an unfinished export?)", ErrCorrupt)
	}
	pageSize := int64(binary.BigEndian.Uint16(h[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	if pageSize < 512 || pageSize&(pageSize-1) != 0 {
		return fmt.Errorf("%w: page size %d", ErrCorrupt, pageSize)
	}
	pages := int64(binary.BigEndian.Uint32(h[28:32]))
	// The in-header page count is valid when "version-valid-for" equals the change counter.
	if binary.BigEndian.Uint32(h[92:96]) == binary.BigEndian.Uint32(h[24:28]) && st.Size() < pages*pageSize {
		return fmt.Errorf("%w: %d of %d bytes", ErrTruncated, st.Size(), pages*pageSize)
	}
	if st.Size()%pageSize != 0 {
		return fmt.Errorf("%w: %d bytes is not a whole number of %d-byte pages", ErrTruncated, st.Size(), pageSize)
	}
	return nil
}

// classify maps SQLite's failures on a damaged file onto the bundle errors.
func classify(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrCorrupt, sqlite3.ErrNotADB, sqlite3.ErrFormat, sqlite3.ErrRange:
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
	}
	if errors.Is(err, ErrCorrupt) {
		return err
	}
	// Anything else while reading a file that passed quick_check (a missing table, a
	// malformed row) means the content is not what an export writes.
	return fmt.Errorf("%w: %v", ErrCorrupt, err)
}

func (b *Bundle) load(ctx context.Context, db *sql.DB) error {
	meta := map[string]string{}
	if err := each(ctx, db, `SELECT key, value FROM bundle_meta`, func(r *sql.Rows) error {
		var k, v string
		err := r.Scan(&k, &v)
		meta[k] = v
		return err
	}); err != nil {
		return err
	}
	format, err := strconv.Atoi(meta["format"])
	if err != nil || format < 1 {
		return fmt.Errorf("%w: bad format row %q", ErrCorrupt, meta["format"])
	}
	if format > FormatVersion {
		return &VersionError{Got: format, Supported: FormatVersion}
	}
	b.Format, b.ExportedBy = format, meta["exported_by"]
	if v, err := strconv.ParseInt(meta["exported_at_ms"], 10, 64); err == nil {
		b.ExportedAt = fromMS(v)
	}

	inc := &b.Incident
	var (
		sev              int
		status, services string
		alerts           string
		last             int64
	)
	err = db.QueryRowContext(ctx, `SELECT id, title, severity, status, services, declared_by, last_update_ms, alerts FROM incident`).
		Scan(&inc.ID, &inc.Title, &sev, &status, &services, &inc.DeclaredBy, &last, &alerts)
	if err != nil {
		return fmt.Errorf("incident row: %w", err)
	}
	inc.Severity, inc.Status, inc.LastUpdateAt = incident.Severity(sev), incident.Status(status), fromMS(last)
	if err := errors.Join(json.Unmarshal([]byte(services), &inc.Services), json.Unmarshal([]byte(alerts), &inc.Alerts)); err != nil {
		return fmt.Errorf("%w: incident row: %v", ErrCorrupt, err)
	}
	inc.Roles, inc.Milestones = map[incident.Role]string{}, incident.Milestones{}
	if err := each(ctx, db, `SELECT role, name FROM roles`, func(r *sql.Rows) error {
		var role, name string
		err := r.Scan(&role, &name)
		inc.Roles[incident.Role(role)] = name
		return err
	}); err != nil {
		return err
	}
	if err := each(ctx, db, `SELECT kind, at_ms, manual, reason, by_whom FROM milestones`, func(r *sql.Rows) error {
		var m incident.Milestone
		var at int64
		err := r.Scan(&m.Kind, &at, &m.Manual, &m.Reason, &m.By)
		m.At = fromMS(at)
		inc.Milestones[m.Kind] = m
		return err
	}); err != nil {
		return err
	}
	if err := each(ctx, db, `SELECT id, at_ms, author, kind, text, fields, corrects, corrected_by FROM timeline ORDER BY at_ms, id`, func(r *sql.Rows) error {
		e := incident.Entry{IncidentID: inc.ID}
		var at int64
		var fields string
		err := r.Scan(&e.ID, &at, &e.Author, &e.Kind, &e.Text, &fields, &e.Corrects, &e.CorrectedBy)
		e.At, e.Fields = fromMS(at), json.RawMessage(fields)
		b.Timeline = append(b.Timeline, e)
		return err
	}); err != nil {
		return err
	}
	if err := each(ctx, db, `SELECT id, title, owner, due_ms, risk_id, created_ms, created_by FROM actions ORDER BY id`, func(r *sql.Rows) error {
		a := incident.ActionItem{IncidentID: inc.ID}
		var due, created int64
		err := r.Scan(&a.ID, &a.Title, &a.Owner, &due, &a.RiskID, &created, &a.CreatedBy)
		a.Due, a.CreatedAt = fromMS(due), fromMS(created)
		b.Actions = append(b.Actions, a)
		return err
	}); err != nil {
		return err
	}
	if err := each(ctx, db, `SELECT at_ms, fingerprint, name, severity, source, state, labels FROM alert_events ORDER BY at_ms, id`, func(r *sql.Rows) error {
		var ev history.Event
		var at int64
		var state, labels string
		if err := r.Scan(&at, &ev.Fingerprint, &ev.Name, &ev.Severity, &ev.Source, &state, &labels); err != nil {
			return err
		}
		ev.At, ev.State = fromMS(at), datasource.AlertState(state)
		if err := json.Unmarshal([]byte(labels), &ev.Labels); err != nil {
			return fmt.Errorf("%w: alert event labels: %v", ErrCorrupt, err)
		}
		b.AlertEvents = append(b.AlertEvents, ev)
		return nil
	}); err != nil {
		return err
	}
	if err := b.loadMetrics(ctx, db); err != nil {
		return err
	}
	b.Runbooks = map[string]string{}
	return each(ctx, db, `SELECT name, markdown FROM runbooks`, func(r *sql.Rows) error {
		var name, md string
		err := r.Scan(&name, &md)
		b.Runbooks[name] = md
		return err
	})
}

func (b *Bundle) loadMetrics(ctx context.Context, db *sql.DB) error {
	panelIdx := map[int64]int{}
	if err := each(ctx, db, `SELECT id, title, query, unit FROM panels ORDER BY id`, func(r *sql.Rows) error {
		var id int64
		var p PanelSeries
		err := r.Scan(&id, &p.Panel, &p.Query, &p.Unit)
		panelIdx[id] = len(b.MetricWindows)
		b.MetricWindows = append(b.MetricWindows, p)
		return err
	}); err != nil {
		return err
	}
	type ref struct{ panel, series int }
	seriesIdx := map[int64]ref{}
	if err := each(ctx, db, `SELECT id, panel_id, labels FROM series ORDER BY id`, func(r *sql.Rows) error {
		var id, pid int64
		var labels string
		if err := r.Scan(&id, &pid, &labels); err != nil {
			return err
		}
		pi, ok := panelIdx[pid]
		if !ok {
			return fmt.Errorf("%w: series %d of unknown panel %d", ErrCorrupt, id, pid)
		}
		var s datasource.Series
		if err := json.Unmarshal([]byte(labels), &s.Labels); err != nil {
			return fmt.Errorf("%w: series %d labels: %v", ErrCorrupt, id, err)
		}
		p := &b.MetricWindows[pi]
		seriesIdx[id] = ref{pi, len(p.Series)}
		p.Series = append(p.Series, s)
		return nil
	}); err != nil {
		return err
	}
	return each(ctx, db, `SELECT series_id, t_ms, v FROM samples ORDER BY series_id, t_ms, rowid`, func(r *sql.Rows) error {
		var sid, t int64
		var v sql.NullFloat64
		if err := r.Scan(&sid, &t, &v); err != nil {
			return err
		}
		ref, ok := seriesIdx[sid]
		if !ok {
			return fmt.Errorf("%w: samples of unknown series %d", ErrCorrupt, sid)
		}
		val := math.NaN()
		if v.Valid {
			val = v.Float64
		}
		s := &b.MetricWindows[ref.panel].Series[ref.series]
		s.Samples = append(s.Samples, datasource.Sample{T: fromMS(t), V: val})
		return nil
	})
}

func each(ctx context.Context, db *sql.DB, query string, fn func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}
