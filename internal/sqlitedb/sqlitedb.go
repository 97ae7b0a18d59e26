// Package sqlitedb opens OpsCockpit's SQLite files the one safe way: WAL, full fsync,
// foreign keys, immediate write transactions, a single writer connection beside a small
// read pool, files created 0600, migrations applied in a transaction and tracked with
// PRAGMA user_version, and the effective settings checked at start-up rather than
// assumed.
package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// DB is a SQLite file with one writer connection and a read pool.
type DB struct {
	Path string
	// W is the only connection that writes: SQLite allows one writer at a time, and
	// queueing in Go beats "database is locked" errors.
	W *sql.DB
	// R serves reads concurrently with the writer (WAL lets readers see the last commit).
	R *sql.DB
}

// Open opens (creating if needed, mode 0600) the database at path and applies the
// migrations not yet applied: migrations[i] moves the schema from version i to i+1. The
// version is kept in PRAGMA user_version, which belongs to the alert history schema; other
// parts of OpsCockpit that share the file use OpenModule.
func Open(ctx context.Context, path string, migrations []string) (*DB, error) {
	return open(ctx, path, func(db *DB) error { return db.migrate(ctx, migrations) })
}

// OpenModule is Open for one named part of the schema (risk register, incidents), so
// several parts can live in one file: each module's version is a row of
// opscockpit_schema, and migrations[i] moves that module from version i to i+1.
func OpenModule(ctx context.Context, path, module string, migrations []string) (*DB, error) {
	return open(ctx, path, func(db *DB) error { return db.migrateModule(ctx, module, migrations) })
}

func open(ctx context.Context, path string, migrate func(*DB) error) (*DB, error) {
	return openWith(ctx, path, migrate, nil)
}

// openWith is open where deferCheck, if not nil, may decide (after the settings are
// asserted) that the full quick_check is left to the caller.
func openWith(ctx context.Context, path string, migrate func(*DB) error, deferCheck func(*DB) bool) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Create the file ourselves so it is 0600 from its first byte; SQLite would use the
	// umask (usually 0644). The WAL and shm files take the main file's permissions.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	f.Close()
	if err := checkHeader(path); err != nil {
		return nil, err
	}
	dsn := func(mode string) string {
		q := url.Values{}
		q.Set("_journal_mode", "WAL")
		q.Set("_synchronous", "FULL")
		q.Set("_foreign_keys", "on")
		q.Set("_busy_timeout", "10000")
		q.Set("_txlock", "immediate")
		q.Set("mode", mode)
		return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	}
	db := &DB{Path: path}
	if db.W, err = sql.Open("sqlite3", dsn("rw")); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.W.SetMaxOpenConns(1)
	db.W.SetMaxIdleConns(1)
	db.W.SetConnMaxLifetime(0)
	if db.R, err = sql.Open("sqlite3", dsn("ro")); err != nil {
		db.W.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.R.SetMaxOpenConns(4)
	if err := db.checkSettings(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if deferCheck == nil || !deferCheck(db) {
		if err := db.QuickCheck(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := migrate(db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// checkHeader refuses a file that exists, is not empty and is not SQLite, before SQLite
// touches it: a wrong path must never turn someone's file into a database.
func checkHeader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, 16)
	n, _ := f.Read(head)
	if n == 0 {
		return nil
	}
	if n < 16 || string(head) != "SQLite format 3\x00" {
		return fmt.Errorf("open %s: %w", path, ErrNotSQLite)
	}
	return checkSize(f, path)
}

// ErrNotSQLite means the file exists but is not a SQLite database; it was not touched.
var ErrNotSQLite = errors.New("not a SQLite database (left untouched)")

// checkSettings asserts the settings that matter actually took effect.
func (db *DB) checkSettings(ctx context.Context) error {
	want := map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1"}
	for pragma, v := range want {
		var got string
		if err := db.W.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			return fmt.Errorf("open %s: read PRAGMA %s: %w", db.Path, pragma, wrap(err))
		}
		if !strings.EqualFold(got, v) {
			return fmt.Errorf("open %s: PRAGMA %s is %q, want %q", db.Path, pragma, got, v)
		}
	}
	return nil
}

// QuickCheck runs PRAGMA quick_check (it reads every page: about half a second per
// 100 MB) and returns ErrCorrupt if the file is damaged. Open runs it unless the
// caller deferred it with OpenModuleWith.
func (db *DB) QuickCheck(ctx context.Context) error {
	var ok string
	if err := db.R.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&ok); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("open %s: integrity check: %w", db.Path, ctx.Err())
		}
		return fmt.Errorf("open %s: integrity check: %w", db.Path, corrupt(wrap(err)))
	}
	if ok != "ok" {
		return fmt.Errorf("open %s: integrity check failed (%s): %w", db.Path, ok, ErrCorrupt)
	}
	return nil
}

func (db *DB) migrate(ctx context.Context, migrations []string) error {
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", db.Path, wrap(err))
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("migrate %s: %w", db.Path, err)
	}
	if v > len(migrations) {
		return fmt.Errorf("migrate %s: schema version %d is newer than this build knows (%d); use a newer opscockpit", db.Path, v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migrate %s to version %d: %w", db.Path, i+1, err)
		}
	}
	if v == len(migrations) {
		return nil
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return fmt.Errorf("migrate %s: %w", db.Path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate %s: %w", db.Path, wrap(err))
	}
	return nil
}

func (db *DB) migrateModule(ctx context.Context, module string, migrations []string) error {
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate %s (%s): %w", db.Path, module, wrap(err))
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS opscockpit_schema (
		module TEXT PRIMARY KEY, version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate %s (%s): %w", db.Path, module, wrap(err))
	}
	var v int
	err = tx.QueryRowContext(ctx, "SELECT version FROM opscockpit_schema WHERE module = ?", module).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("migrate %s (%s): %w", db.Path, module, err)
	}
	if v > len(migrations) {
		return fmt.Errorf("migrate %s: %s schema version %d is newer than this build knows (%d); use a newer opscockpit", db.Path, module, v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migrate %s (%s) to version %d: %w", db.Path, module, i+1, err)
		}
	}
	if v == len(migrations) {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO opscockpit_schema (module, version) VALUES (?, ?)
		ON CONFLICT (module) DO UPDATE SET version = excluded.version`, module, len(migrations)); err != nil {
		return fmt.Errorf("migrate %s (%s): %w", db.Path, module, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate %s (%s): %w", db.Path, module, wrap(err))
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	return errors.Join(db.R.Close(), db.W.Close())
}

// wrap turns SQLite's "file is not a database" into ErrNotSQLite and "database disk
// image is malformed" into ErrCorrupt.
func wrap(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code == sqlite3.ErrNotADB {
		return fmt.Errorf("%w: %v", ErrNotSQLite, err)
	}
	if errors.As(err, &se) && se.Code == sqlite3.ErrCorrupt {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return err
}
