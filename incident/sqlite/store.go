package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/opscockpit/opscockpit/incident"
	"github.com/opscockpit/opscockpit/internal/sqlitedb"
)

// Module is this package's module name in the shared file's opscockpit_schema table.
const Module = "incident"

// Store is the incident store. It is safe for concurrent use: writes queue on the one
// writer connection, reads use the read pool.
type Store struct{ db *sqlitedb.DB }

var _ incident.Recorder = (*Store)(nil)

// Open opens or creates the incident tables in the SQLite file at path (created 0600).
func Open(ctx context.Context, path string) (*Store, error) {
	db, err := sqlitedb.OpenModule(ctx, path, Module, migrations)
	if err != nil {
		return nil, fmt.Errorf("incident store: %w", err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Path is the database file.
func (s *Store) Path() string { return s.db.Path }

// ReadDB exposes the read pool for tools that inspect the file (tests, backups).
func (s *Store) ReadDB() *sql.DB { return s.db.R }

// Version is a counter that changes whenever any process commits an incident write to
// the file (see the package comment). Compare it with the last value seen to know
// whether to reload.
func (s *Store) Version(ctx context.Context) (int64, error) {
	var v int64
	if err := s.db.R.QueryRowContext(ctx, `SELECT seq FROM incident_change WHERE id = 1`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read incident version: %w", err)
	}
	return v, nil
}

// querier is what both a transaction and a pinned read connection offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// write runs fn in one immediate transaction on the writer connection and bumps the
// change counter. The transaction runs on a context that cannot be cancelled: a
// cancellation half-way through would interrupt SQLite mid-statement, and a write that
// has begun should either commit or fail on its own terms. ctx is checked once before.
func (s *Store) write(ctx context.Context, what string, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	wctx := context.WithoutCancel(ctx)
	tx, err := s.db.W.BeginTx(wctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback()
	if err := fn(wctx, tx); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if _, err := tx.ExecContext(wctx, `UPDATE incident_change SET seq = seq + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// read runs fn inside one read transaction on a pinned read connection, so what it
// reads from several tables comes from one commit.
func (s *Store) read(ctx context.Context, what string, fn func(q querier) error) (err error) {
	conn, err := s.db.R.Conn(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN DEFERRED"); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer func() {
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
			// Never hand a connection stuck in an old snapshot back to the pool.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	if err := fn(conn); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// Declare creates an incident, by hand or from alerts, and returns it.
func (s *Store) Declare(ctx context.Context, d incident.Declaration) (incident.Incident, error) {
	d, err := d.Normalize()
	if err != nil {
		return incident.Incident{}, err
	}
	var id int64
	err = s.write(ctx, "declare incident", func(ctx context.Context, tx *sql.Tx) error {
		services, _ := json.Marshal(d.Services)
		res, err := tx.ExecContext(ctx, `INSERT INTO incident_incidents (title, severity, status, services, declared_by, declared_ms)
			VALUES (?, ?, ?, ?, ?, ?)`, d.Title, int(d.Severity), string(incident.Investigating), string(services), d.By, ms(d.At))
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if err := setMilestone(ctx, tx, id, incident.MilestoneDeclared, d.At, autoSet); err != nil {
			return err
		}
		if err := setMilestone(ctx, tx, id, incident.MilestoneDetected, d.At, autoEarliest); err != nil {
			return err
		}
		text := fmt.Sprintf("Declared %s: %s", d.Severity, d.Title)
		if _, err := appendEntry(ctx, tx, incident.Entry{IncidentID: id, At: d.At, Author: d.By, Kind: incident.KindStatusChange, Text: text},
			incident.StatusFields{From: "", To: incident.Investigating}); err != nil {
			return err
		}
		if err := recordAlerts(ctx, tx, id, d.Alerts, d.At); err != nil {
			return err
		}
		for _, r := range incident.Roles {
			if name := strings.TrimSpace(d.Roles[r]); name != "" {
				if _, err := setRole(ctx, tx, id, r, name, d.By, d.At); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return incident.Incident{}, err
	}
	return s.Get(ctx, id)
}

// Get returns one incident.
func (s *Store) Get(ctx context.Context, id int64) (incident.Incident, error) {
	var inc incident.Incident
	err := s.read(ctx, fmt.Sprintf("read incident %d", id), func(q querier) error {
		incs, err := loadIncidents(ctx, q, `WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if len(incs) == 0 {
			return incident.ErrNotFound
		}
		inc = incs[0]
		return nil
	})
	return inc, err
}

// ListQuery selects incidents for the history list.
type ListQuery struct {
	// From and To bound the declaration time, [From, To); zero means unbounded.
	From, To time.Time
	OpenOnly bool
	Limit    int // 0: no limit
}

// List returns incidents, most recently declared first.
func (s *Store) List(ctx context.Context, lq ListQuery) ([]incident.Incident, error) {
	where, args := []string{"1 = 1"}, []any{}
	if !lq.From.IsZero() {
		where, args = append(where, "declared_ms >= ?"), append(args, ms(lq.From))
	}
	if !lq.To.IsZero() {
		where, args = append(where, "declared_ms < ?"), append(args, ms(lq.To))
	}
	if lq.OpenOnly {
		where = append(where, "status <> 'resolved'")
	}
	tail := "WHERE " + strings.Join(where, " AND ") + " ORDER BY declared_ms DESC, id DESC"
	if lq.Limit > 0 {
		tail += fmt.Sprintf(" LIMIT %d", lq.Limit)
	}
	var out []incident.Incident
	err := s.read(ctx, "list incidents", func(q querier) (err error) {
		out, err = loadIncidents(ctx, q, tail, args...)
		return err
	})
	return out, err
}

// Active is the incident the cockpit shows: selected when it is non-zero and exists,
// else the most recently declared unresolved incident. ok is false when there is none.
func (s *Store) Active(ctx context.Context, selected int64) (inc incident.Incident, ok bool, err error) {
	if selected != 0 {
		inc, err := s.Get(ctx, selected)
		if err == nil {
			return inc, true, nil
		}
		if !errors.Is(err, incident.ErrNotFound) {
			return inc, false, err
		}
	}
	open, err := s.List(ctx, ListQuery{OpenOnly: true, Limit: 1})
	if err != nil || len(open) == 0 {
		return incident.Incident{}, false, err
	}
	return open[0], true, nil
}

// Stats is incident.Summarise over the incidents declared in [from, to).
func (s *Store) Stats(ctx context.Context, from, to time.Time) (incident.Stats, error) {
	incs, err := s.List(ctx, ListQuery{From: from, To: to})
	if err != nil {
		return incident.Stats{}, err
	}
	return incident.Summarise(incs, from, to), nil
}

// loadIncidents reads the incidents matching tail (a WHERE/ORDER/LIMIT clause over
// incident_incidents) with their roles, milestones and alerts.
func loadIncidents(ctx context.Context, q querier, tail string, args ...any) ([]incident.Incident, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, title, severity, status, services, declared_by, last_update_ms
		FROM incident_incidents `+tail, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []incident.Incident
	index := map[int64]int{}
	for rows.Next() {
		var (
			inc      incident.Incident
			sev      int
			status   string
			services string
			last     int64
		)
		if err := rows.Scan(&inc.ID, &inc.Title, &sev, &status, &services, &inc.DeclaredBy, &last); err != nil {
			return nil, err
		}
		inc.Severity, inc.Status, inc.LastUpdateAt = incident.Severity(sev), incident.Status(status), fromMS(last)
		if err := json.Unmarshal([]byte(services), &inc.Services); err != nil {
			return nil, fmt.Errorf("incident %d services: %w", inc.ID, err)
		}
		inc.Roles, inc.Milestones = map[incident.Role]string{}, incident.Milestones{}
		index[inc.ID] = len(out)
		out = append(out, inc)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if len(out) == 0 {
		return nil, nil
	}
	// One query per side table for the whole list, not one per incident.
	ids := make([]string, 0, len(out))
	for _, inc := range out {
		ids = append(ids, fmt.Sprint(inc.ID))
	}
	in := "(" + strings.Join(ids, ",") + ")"
	if err := eachRow(ctx, q, `SELECT incident_id, role, name FROM incident_roles WHERE incident_id IN `+in, func(r *sql.Rows) error {
		var id int64
		var role, name string
		if err := r.Scan(&id, &role, &name); err != nil {
			return err
		}
		out[index[id]].Roles[incident.Role(role)] = name
		return nil
	}); err != nil {
		return nil, err
	}
	if err := eachRow(ctx, q, `SELECT incident_id, kind, at_ms, manual, reason, by_whom FROM incident_milestones WHERE incident_id IN `+in, func(r *sql.Rows) error {
		var (
			id int64
			m  incident.Milestone
			at int64
		)
		if err := r.Scan(&id, &m.Kind, &at, &m.Manual, &m.Reason, &m.By); err != nil {
			return err
		}
		m.At = fromMS(at)
		out[index[id]].Milestones[m.Kind] = m
		return nil
	}); err != nil {
		return nil, err
	}
	if err := eachRow(ctx, q, `SELECT incident_id, fingerprint FROM incident_alerts WHERE incident_id IN `+in+` ORDER BY starts_ms, fingerprint`, func(r *sql.Rows) error {
		var id int64
		var fp string
		if err := r.Scan(&id, &fp); err != nil {
			return err
		}
		out[index[id]].Alerts = append(out[index[id]].Alerts, fp)
		return nil
	}); err != nil {
		return nil, err
	}
	return out, nil
}

func eachRow(ctx context.Context, q querier, query string, fn func(*sql.Rows) error, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
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

// currentState reads what a write needs to validate against, inside its transaction.
func currentState(ctx context.Context, tx *sql.Tx, id int64) (status incident.Status, sev incident.Severity, err error) {
	var st string
	var sv int
	err = tx.QueryRowContext(ctx, `SELECT status, severity FROM incident_incidents WHERE id = ?`, id).Scan(&st, &sv)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, fmt.Errorf("incident %d: %w", id, incident.ErrNotFound)
	}
	return incident.Status(st), incident.Severity(sv), err
}

// appendEntry adds one timeline entry; fields are the kind's structured fields (nil
// for none).
func appendEntry(ctx context.Context, tx *sql.Tx, e incident.Entry, fields any) (incident.Entry, error) {
	if !e.Kind.Valid() {
		return e, fmt.Errorf("%q: %w", e.Kind, incident.ErrInvalidKind)
	}
	if e.Fields == nil {
		f, err := incident.MarshalFields(fields)
		if err != nil {
			return e, err
		}
		e.Fields = f
	}
	var corrects any
	if e.Kind == incident.KindCorrection {
		corrects = e.Corrects
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO incident_timeline (incident_id, at_ms, author, kind, text, fields, corrects)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, e.IncidentID, ms(e.At), e.Author, string(e.Kind), e.Text, string(e.Fields), corrects)
	if err != nil {
		return e, fmt.Errorf("append %s entry: %w", e.Kind, err)
	}
	e.ID, err = res.LastInsertId()
	e.At = fromMS(ms(e.At))
	return e, err
}

type milestoneMode int

const (
	autoSet      milestoneMode = iota // set unless already set (first occurrence wins)
	autoEarliest                      // set when unset or earlier
	autoReplace                       // set, replacing an automatic value
	autoClear                         // remove an automatic value
)

// setMilestone applies an automatic milestone value; a milestone set by hand is never
// touched here (the override wins).
func setMilestone(ctx context.Context, tx *sql.Tx, id int64, k incident.MilestoneKind, at time.Time, mode milestoneMode) error {
	if at.IsZero() && mode != autoClear {
		return nil
	}
	var q string
	switch mode {
	case autoSet:
		q = `INSERT INTO incident_milestones (incident_id, kind, at_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`
	case autoEarliest:
		q = `INSERT INTO incident_milestones (incident_id, kind, at_ms) VALUES (?, ?, ?)
			ON CONFLICT DO UPDATE SET at_ms = excluded.at_ms WHERE manual = 0 AND excluded.at_ms < at_ms`
	case autoReplace:
		q = `INSERT INTO incident_milestones (incident_id, kind, at_ms) VALUES (?, ?, ?)
			ON CONFLICT DO UPDATE SET at_ms = excluded.at_ms WHERE manual = 0`
	case autoClear:
		_, err := tx.ExecContext(ctx, `DELETE FROM incident_milestones WHERE incident_id = ? AND kind = ? AND manual = 0`, id, string(k))
		return err
	}
	_, err := tx.ExecContext(ctx, q, id, string(k), ms(at))
	return err
}

func setRole(ctx context.Context, tx *sql.Tx, id int64, r incident.Role, name, by string, at time.Time) (incident.Entry, error) {
	var prev string
	err := tx.QueryRowContext(ctx, `SELECT name FROM incident_roles WHERE incident_id = ? AND role = ?`, id, string(r)).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return incident.Entry{}, err
	}
	if prev == name {
		return incident.Entry{}, fmt.Errorf("%s is already %q: %w", r.Title(), name, incident.ErrNoChange)
	}
	text := fmt.Sprintf("%s: %s", r.Title(), name)
	if name == "" {
		_, err = tx.ExecContext(ctx, `DELETE FROM incident_roles WHERE incident_id = ? AND role = ?`, id, string(r))
		text = fmt.Sprintf("%s: unassigned (was %s)", r.Title(), prev)
	} else {
		_, err = tx.ExecContext(ctx, `INSERT INTO incident_roles (incident_id, role, name, since_ms) VALUES (?, ?, ?, ?)
			ON CONFLICT DO UPDATE SET name = excluded.name, since_ms = excluded.since_ms`, id, string(r), name, ms(at))
		if err == nil {
			_, err = tx.ExecContext(ctx, `INSERT INTO incident_people (name, last_ms) VALUES (?, ?)
				ON CONFLICT DO UPDATE SET last_ms = max(last_ms, excluded.last_ms)`, name, ms(at))
		}
	}
	if err != nil {
		return incident.Entry{}, err
	}
	return appendEntry(ctx, tx, incident.Entry{IncidentID: id, At: at, Author: by, Kind: incident.KindRoleChange, Text: text},
		incident.RoleFields{Role: r, From: prev, To: name})
}

// RecentNames returns the names most recently given a role, newest first, for the
// role pickers.
func (s *Store) RecentNames(ctx context.Context, limit int) ([]string, error) {
	if limit <= 0 {
		limit = 20
	}
	var out []string
	err := eachRow(ctx, s.db.R, `SELECT name FROM incident_people ORDER BY last_ms DESC, name LIMIT ?`, func(r *sql.Rows) error {
		var n string
		if err := r.Scan(&n); err != nil {
			return err
		}
		out = append(out, n)
		return nil
	}, limit)
	if err != nil {
		return nil, fmt.Errorf("read recent names: %w", err)
	}
	return out, nil
}

// Recent returns the n most recently declared incidents, for the history view.
func (s *Store) Recent(ctx context.Context, n int) ([]incident.Incident, error) {
	return s.List(ctx, ListQuery{Limit: n})
}
