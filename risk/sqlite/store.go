// Package sqlite is the risk register's store: risks, actions, reviews,
// escalations, alert links and materialisations in the cockpit's SQLite file, every
// change recorded in an append-only, hash-chained audit trail in the same
// transaction. Writes go through the single writer connection in immediate
// transactions (no "database is locked" while another process writes); storage
// failures come back as risk.ErrNotSaved with nothing half-written.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/internal/sqlitedb"
	"github.com/opscockpit/opscockpit/matcher"
	"github.com/opscockpit/opscockpit/risk"
)

// Module is the name under which the schema version is kept in opscockpit_schema.
const Module = "risk"

// SchemaVersion is the number of migrations this build knows.
var SchemaVersion = len(migrations)

// Errors at open that the caller can act on (offer a restore from LatestBackup).
var (
	// ErrCorrupt means the file is damaged; it was not written to.
	ErrCorrupt = sqlitedb.ErrCorrupt
	// ErrNotSQLite means the path is some other kind of file; it was not touched.
	ErrNotSQLite = sqlitedb.ErrNotSQLite
)

// DamagedError is returned by Open for a damaged or foreign file. Backup is the
// newest backup in the backup directory ("" if none), to offer to Restore.
type DamagedError struct {
	Path   string
	Backup string
	Err    error
}

func (e *DamagedError) Error() string {
	msg := fmt.Sprintf("risk register %s cannot be opened: %v", e.Path, e.Err)
	if e.Backup != "" {
		msg += fmt.Sprintf(" (latest backup: %s)", e.Backup)
	} else {
		msg += " (no backup found)"
	}
	return msg
}

// Unwrap returns the cause (ErrCorrupt or ErrNotSQLite).
func (e *DamagedError) Unwrap() error { return e.Err }

// Options configure a Store. Zero fields take defaults.
type Options struct {
	// Clock stamps every change and drives automatic backups (default clock.Real{}).
	Clock clock.Clock
	// Matrix scores risks (default risk.DefaultMatrix()).
	Matrix risk.Matrix
	// Policy holds the escalation levels and rules (default risk.DefaultPolicy()).
	Policy risk.Policy
	// Actor is who the audit trail names for changes through this store (default "unknown").
	Actor string
	// BackupDir holds automatic backups (default "backups" beside the database).
	BackupDir string
	// DeferCheck opens a large register in milliseconds by running the full
	// integrity check (quick_check, about 0.5 s per 100 MB) in the background
	// instead of before Open returns. Truncated and foreign files are still refused
	// at open; pages damaged inside the file are reported by Check, and every write
	// waits for the check and is refused (nothing written) if it failed. The GUI
	// sets it; the CLI does not.
	DeferCheck bool
}

// Store is the risk register on SQLite. Its methods are safe for concurrent use.
type Store struct {
	db     *sqlitedb.DB
	clock  clock.Clock
	matrix risk.Matrix
	policy risk.Policy
	actor  string
	backup string

	mu       sync.Mutex
	matchers map[string]matcher.Matchers // parsed link matchers by text

	checkDone   chan struct{} // closed when the integrity check has finished
	checkErr    error
	cancelCheck context.CancelFunc
}

// Open opens (creating if needed) the risk register at path. A damaged or foreign
// file gives a *DamagedError naming the latest backup, and is left byte-for-byte
// as it was.
func Open(ctx context.Context, path string, o Options) (*Store, error) {
	return open(ctx, path, o, migrations)
}

func open(ctx context.Context, path string, o Options, migs []string) (*Store, error) {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if len(o.Matrix.Levels) == 0 {
		o.Matrix = risk.DefaultMatrix()
	}
	if err := o.Matrix.Validate(); err != nil {
		return nil, fmt.Errorf("open risk register %s: %w", path, err)
	}
	for i := range o.Matrix.Levels {
		o.Matrix.Levels[i].Rank = i
	}
	if len(o.Policy.Levels) == 0 {
		o.Policy = risk.DefaultPolicy()
	}
	if err := o.Policy.Validate(o.Matrix); err != nil {
		return nil, fmt.Errorf("open risk register %s: %w", path, err)
	}
	if o.Actor == "" {
		o.Actor = "unknown"
	}
	if o.BackupDir == "" {
		o.BackupDir = filepath.Join(filepath.Dir(path), "backups")
	}
	db, err := sqlitedb.OpenModuleWith(ctx, path, Module, migs, sqlitedb.OpenOptions{DeferQuickCheck: o.DeferCheck})
	if err != nil {
		if errors.Is(err, sqlitedb.ErrCorrupt) || errors.Is(err, sqlitedb.ErrNotSQLite) {
			latest, _ := LatestBackup(o.BackupDir)
			return nil, &DamagedError{Path: path, Backup: latest, Err: err}
		}
		if strings.Contains(err.Error(), "no such module: fts5") {
			return nil, fmt.Errorf("open risk register: this binary was built without SQLite's full-text search; build it with -tags sqlite_fts5 (make does): %w", err)
		}
		return nil, fmt.Errorf("open risk register: %w", err)
	}
	s := &Store{db: db, clock: o.Clock, matrix: o.Matrix, policy: o.Policy, actor: o.Actor,
		backup: o.BackupDir, matchers: map[string]matcher.Matchers{}, checkDone: make(chan struct{})}
	checkCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancelCheck = cancel
	if o.DeferCheck {
		go func() {
			defer close(s.checkDone)
			if err := db.QuickCheck(checkCtx); err != nil {
				latest, _ := LatestBackup(o.BackupDir)
				s.checkErr = &DamagedError{Path: path, Backup: latest, Err: err}
			}
		}()
	} else {
		close(s.checkDone)
	}
	if err := s.syncMatrix(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Check waits for the integrity check (immediate unless Options.DeferCheck) and
// returns its verdict: nil, or a *DamagedError naming the latest backup.
func (s *Store) Check(ctx context.Context) error {
	select {
	case <-s.checkDone:
		return s.checkErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops a running integrity check and closes the database.
func (s *Store) Close() error {
	s.cancelCheck()
	<-s.checkDone
	return s.db.Close()
}

// Path is the database file.
func (s *Store) Path() string { return s.db.Path }

// Matrix is the matrix the store scores with.
func (s *Store) Matrix() risk.Matrix { return s.matrix }

// Policy is the escalation policy the store checks escalations against.
func (s *Store) Policy() risk.Policy { return s.policy }

// Version returns the register's change counter: a row in risk_meta incremented in
// the same transaction as every change, by any process using this package. The GUI
// polls it (a single indexed read) to notice edits made by the CLI or another
// window. Unlike PRAGMA data_version it also changes for this connection's own
// commits and survives reopening.
func (s *Store) Version(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.R.QueryRowContext(ctx, "SELECT n FROM risk_meta WHERE key = 'change_seq'").Scan(&n); err != nil {
		return 0, fmt.Errorf("risk register version: %w", err)
	}
	return n, nil
}

// syncMatrix recomputes the stored level ranks when the matrix differs from the one
// they were computed with (a derived value, so it is not audited).
func (s *Store) syncMatrix(ctx context.Context) error {
	fp := s.matrix.Fingerprint()
	var have string
	if err := s.db.R.QueryRowContext(ctx, "SELECT s FROM risk_meta WHERE key = 'matrix'").Scan(&have); err != nil {
		return fmt.Errorf("open risk register: read matrix: %w", err)
	}
	if have == fp {
		return nil
	}
	return s.write(ctx, "rescore risks for the new matrix", func(w *wtx) error {
		rank := s.rankCase("likelihood", "impact")
		rrank := s.rankCase("CASE residual_likelihood WHEN 0 THEN likelihood ELSE residual_likelihood END",
			"CASE residual_impact WHEN 0 THEN impact ELSE residual_impact END")
		if _, err := w.tx.ExecContext(w.ctx, "UPDATE risks SET level_rank = "+rank+", residual_rank = "+rrank); err != nil {
			return err
		}
		if _, err := w.tx.ExecContext(w.ctx, "UPDATE risk_meta SET s = ? WHERE key = 'matrix'", fp); err != nil {
			return err
		}
		w.changed = true
		return nil
	})
}

// rankCase is an SQL expression giving the level rank of (l, i) on the matrix.
func (s *Store) rankCase(l, i string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CASE (%s) * 1000 + (%s)", l, i)
	nl, ni := s.matrix.Size()
	for x := 1; x <= nl; x++ {
		for y := 1; y <= ni; y++ {
			fmt.Fprintf(&b, " WHEN %d THEN %d", x*1000+y, s.matrix.Level(x, y).Rank)
		}
	}
	b.WriteString(" ELSE -1 END")
	return b.String()
}

// wtx is one write transaction: the audit rows it appends chain onto the head read
// at its start, and the change counter moves once at commit.
type wtx struct {
	ctx     context.Context
	tx      *sql.Tx
	s       *Store
	now     time.Time
	actor   string
	changed bool

	headRead bool
	headSeq  int64
	headHash string
}

// write runs fn in one immediate transaction on the writer connection. The
// transaction's context is never cancellable: a cancel mid-commit must not leave the
// caller unsure whether the change was saved. Errors that are not the caller's
// (validation, not found, conflict) come back wrapped in risk.ErrNotSaved.
func (s *Store) write(ctx context.Context, op string, fn func(w *wtx) error) error {
	return s.writeAs(ctx, s.actor, op, fn)
}

func (s *Store) writeAs(ctx context.Context, actor, op string, fn func(w *wtx) error) error {
	// Never write to a file that has not passed its integrity check.
	if err := s.Check(ctx); err != nil {
		return notSaved(op, err)
	}
	ctx = context.WithoutCancel(ctx)
	tx, err := s.db.W.BeginTx(ctx, nil)
	if err != nil {
		return notSaved(op, err)
	}
	defer tx.Rollback()
	w := &wtx{ctx: ctx, tx: tx, s: s, now: s.clock.Now(), actor: actor}
	if err := fn(w); err != nil {
		if isCallerError(err) {
			return fmt.Errorf("%s: %w", op, err)
		}
		return notSaved(op, err)
	}
	if !w.changed {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "UPDATE risk_meta SET n = n + 1 WHERE key = 'change_seq'"); err != nil {
		return notSaved(op, err)
	}
	if w.headRead {
		if _, err := tx.ExecContext(ctx, "UPDATE risk_meta SET n = ?, s = ? WHERE key = 'audit_head'", w.headSeq, w.headHash); err != nil {
			return notSaved(op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return notSaved(op, err)
	}
	return nil
}

func isCallerError(err error) bool {
	var ve *risk.ValidationError
	var me *matcher.Error
	return errors.As(err, &ve) || errors.As(err, &me) || errors.Is(err, risk.ErrNotFound) || errors.Is(err, risk.ErrConflict)
}

func notSaved(op string, err error) error {
	return fmt.Errorf("%w: %s: %w", risk.ErrNotSaved, op, err)
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(n)
}

func date(t time.Time) string { return risk.FormatDate(t) }

func parseDate(s string) time.Time {
	d, _ := risk.ParseDate(s)
	return d
}
