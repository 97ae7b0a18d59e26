// Package sqlite stores alert history and acknowledgements in the cockpit's SQLite file.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/history"
	"github.com/opscockpit/opscockpit/internal/sqlitedb"
)

// migrations create the alert tables; the risk register and incidents add their own
// files or tables in their own packages.
var migrations = []string{
	`CREATE TABLE alert_events (
		id          INTEGER PRIMARY KEY,
		at_ms       INTEGER NOT NULL,
		fingerprint TEXT NOT NULL,
		name        TEXT NOT NULL,
		severity    TEXT NOT NULL,
		source      TEXT NOT NULL,
		state       TEXT NOT NULL,
		labels      TEXT NOT NULL
	);
	CREATE INDEX alert_events_at ON alert_events (at_ms);
	CREATE INDEX alert_events_fp ON alert_events (fingerprint, at_ms);
	CREATE TABLE alert_acks (
		id          INTEGER PRIMARY KEY,
		fingerprint TEXT NOT NULL,
		name        TEXT NOT NULL,
		by_whom     TEXT NOT NULL,
		at_ms       INTEGER NOT NULL,
		comment     TEXT NOT NULL,
		silence_id  TEXT NOT NULL
	);
	CREATE INDEX alert_acks_fp ON alert_acks (fingerprint, at_ms);`,
	`CREATE TABLE runbook_ticks (
		runbook TEXT NOT NULL,
		step    TEXT NOT NULL,
		ticked  INTEGER NOT NULL,
		by_whom TEXT NOT NULL,
		at_ms   INTEGER NOT NULL,
		PRIMARY KEY (runbook, step)
	);`,
}

// Store is a history.Store on SQLite.
type Store struct{ db *sqlitedb.DB }

var _ history.Store = (*Store)(nil)

// Open opens or creates the history database at path.
func Open(ctx context.Context, path string) (*Store, error) {
	db, err := sqlitedb.Open(ctx, path, migrations)
	if err != nil {
		return nil, fmt.Errorf("alert history: %w", err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Append stores events in one transaction.
func (s *Store) Append(ctx context.Context, events []history.Event) error {
	if len(events) == 0 {
		return nil
	}
	tx, err := s.db.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record alert events: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO alert_events (at_ms, fingerprint, name, severity, source, state, labels) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("record alert events: %w", err)
	}
	defer stmt.Close()
	for _, e := range events {
		labels, err := json.Marshal(e.Labels)
		if err != nil {
			return fmt.Errorf("record alert event %s: %w", e.Fingerprint, err)
		}
		if _, err := stmt.ExecContext(ctx, e.At.UnixMilli(), e.Fingerprint, e.Name, e.Severity, e.Source, string(e.State), string(labels)); err != nil {
			return fmt.Errorf("record alert event %s: %w", e.Fingerprint, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record alert events: %w", err)
	}
	return nil
}

// Events returns the events in [from, to), oldest first.
func (s *Store) Events(ctx context.Context, from, to time.Time) ([]history.Event, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT at_ms, fingerprint, name, severity, source, state, labels
		FROM alert_events WHERE at_ms >= ? AND at_ms < ? ORDER BY at_ms, id`, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("read alert history: %w", err)
	}
	defer rows.Close()
	var out []history.Event
	for rows.Next() {
		var (
			e      history.Event
			at     int64
			state  string
			labels string
		)
		if err := rows.Scan(&at, &e.Fingerprint, &e.Name, &e.Severity, &e.Source, &state, &labels); err != nil {
			return nil, fmt.Errorf("read alert history: %w", err)
		}
		e.At, e.State = time.UnixMilli(at), datasource.AlertState(state)
		if err := json.Unmarshal([]byte(labels), &e.Labels); err != nil {
			return nil, fmt.Errorf("read alert history: labels of %s: %w", e.Fingerprint, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// PutAck records an acknowledgement. Acks are never updated in place: a new ack of the
// same alert supersedes the older one, which stays on record.
func (s *Store) PutAck(ctx context.Context, a history.Ack) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO alert_acks (fingerprint, name, by_whom, at_ms, comment, silence_id) VALUES (?, ?, ?, ?, ?, ?)`,
		a.Fingerprint, a.Name, a.By, a.At.UnixMilli(), a.Comment, a.SilenceID)
	if err != nil {
		return fmt.Errorf("record ack of %s: %w", a.Name, err)
	}
	return nil
}

// Acks returns the newest ack per fingerprint made at or after since.
func (s *Store) Acks(ctx context.Context, since time.Time) (map[string]history.Ack, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT fingerprint, name, by_whom, at_ms, comment, silence_id FROM alert_acks
		WHERE at_ms >= ? ORDER BY at_ms, id`, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("read acks: %w", err)
	}
	defer rows.Close()
	out := map[string]history.Ack{}
	for rows.Next() {
		var (
			a  history.Ack
			at int64
		)
		if err := rows.Scan(&a.Fingerprint, &a.Name, &a.By, &at, &a.Comment, &a.SilenceID); err != nil {
			return nil, fmt.Errorf("read acks: %w", err)
		}
		a.At = time.UnixMilli(at)
		out[a.Fingerprint] = a // later rows win
	}
	return out, rows.Err()
}

// Prune deletes events older than before (retention); acks are kept.
func (s *Store) Prune(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM alert_events WHERE at_ms < ?`, before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("prune alert history: %w", err)
	}
	return res.RowsAffected()
}

// DB exposes the underlying handle for tools that inspect it (tests, backups).
func (s *Store) DB() *sql.DB { return s.db.R }

// Ticks returns every runbook checklist step's state: runbook → step ID → ticked.
func (s *Store) Ticks(ctx context.Context) (map[string]map[string]bool, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT runbook, step, ticked FROM runbook_ticks`)
	if err != nil {
		return nil, fmt.Errorf("read runbook ticks: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]bool{}
	for rows.Next() {
		var rb, step string
		var on bool
		if err := rows.Scan(&rb, &step, &on); err != nil {
			return nil, fmt.Errorf("read runbook ticks: %w", err)
		}
		if out[rb] == nil {
			out[rb] = map[string]bool{}
		}
		out[rb][step] = on
	}
	return out, rows.Err()
}

// SetTick records a checklist step's state (the newest wins).
func (s *Store) SetTick(ctx context.Context, runbook, step string, on bool, by string, at time.Time) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO runbook_ticks (runbook, step, ticked, by_whom, at_ms) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (runbook, step) DO UPDATE SET ticked = excluded.ticked, by_whom = excluded.by_whom, at_ms = excluded.at_ms`,
		runbook, step, on, by, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("save runbook tick: %w", err)
	}
	return nil
}
