package sqlitedb

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
)

// ErrCorrupt means the file has a SQLite header but is damaged (truncated, pages
// overwritten): it was opened read-only to check and not written to.
var ErrCorrupt = errors.New("database file is damaged (left untouched)")

// corrupt marks any error met while reading the file during the start-up check as
// ErrCorrupt unless it already says what is wrong.
func corrupt(err error) error {
	if errors.Is(err, ErrNotSQLite) || errors.Is(err, ErrCorrupt) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrCorrupt, err)
}

// checkSize refuses a SQLite file whose length is not a whole number of pages: that
// only happens when the file was cut short (a copy or download that stopped).
func checkSize(f *os.File, path string) error {
	hdr := make([]byte, 100)
	n, _ := f.ReadAt(hdr, 0)
	if n < 100 {
		return fmt.Errorf("open %s: %d-byte file is shorter than a SQLite header: %w", path, n, ErrCorrupt)
	}
	pageSize := int64(binary.BigEndian.Uint16(hdr[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	if pageSize < 512 || pageSize&(pageSize-1) != 0 {
		return fmt.Errorf("open %s: page size %d is invalid: %w", path, pageSize, ErrCorrupt)
	}
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	if st.Size()%pageSize != 0 {
		return fmt.Errorf("open %s: %d bytes is not a whole number of %d-byte pages (truncated?): %w", path, st.Size(), pageSize, ErrCorrupt)
	}
	// The header's page count is valid when the change counter matches the
	// version-valid-for number. Without a WAL holding frames (a crash mid-checkpoint
	// can leave the header ahead of the file, and the WAL then repairs it), a file
	// shorter than that count was cut short.
	pages := int64(binary.BigEndian.Uint32(hdr[28:32]))
	valid := pages > 0 && binary.BigEndian.Uint32(hdr[24:28]) == binary.BigEndian.Uint32(hdr[92:96])
	if wal, err := os.Stat(path + "-wal"); valid && (err != nil || wal.Size() == 0) && st.Size() < pages*pageSize {
		return fmt.Errorf("open %s: %d bytes but the header counts %d pages of %d bytes (truncated): %w", path, st.Size(), pages, pageSize, ErrCorrupt)
	}
	return nil
}

// OpenOptions tune OpenModuleWith.
type OpenOptions struct {
	// DeferQuickCheck skips the full PRAGMA quick_check at open when the module
	// needs no migration, so a large file opens in milliseconds. The header, size
	// and settings are still checked. The caller must run QuickCheck before its
	// first write (and should soon after opening).
	DeferQuickCheck bool
}

// OpenModuleWith is OpenModule with options.
func OpenModuleWith(ctx context.Context, path, module string, migrations []string, o OpenOptions) (*DB, error) {
	var deferCheck func(*DB) bool
	if o.DeferQuickCheck {
		deferCheck = func(db *DB) bool {
			var v int
			err := db.R.QueryRowContext(ctx, "SELECT version FROM opscockpit_schema WHERE module = ?", module).Scan(&v)
			return err == nil && v == len(migrations) // a migration is due: check before writing it
		}
	}
	return openWith(ctx, path, func(db *DB) error { return db.migrateModule(ctx, module, migrations) }, deferCheck)
}

// IntegrityCheck runs PRAGMA integrity_check on the SQLite file at path through a
// read-only connection; a damaged file gives ErrCorrupt (or ErrNotSQLite).
func IntegrityCheck(ctx context.Context, path string) error {
	if err := checkHeader(path); err != nil {
		return err
	}
	q := url.Values{}
	q.Set("mode", "ro")
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("check %s: %w", path, corrupt(wrap(err)))
	}
	defer rows.Close()
	var first string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("check %s: %w", path, corrupt(wrap(err)))
		}
		if first == "" {
			first = line
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check %s: %w", path, corrupt(wrap(err)))
	}
	if first != "ok" {
		return fmt.Errorf("check %s: integrity check failed (%s): %w", path, first, ErrCorrupt)
	}
	return nil
}

// BackupTo writes a consistent copy of the database to dest with VACUUM INTO (a
// read transaction: writers carry on), checks the copy with integrity_check and only
// then moves it into place, mode 0600. dest must not exist.
func (db *DB) BackupTo(ctx context.Context, dest string) error {
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("backup to %s: %w", dest, os.ErrExist)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		return fmt.Errorf("backup to %s: %w", dest, err)
	}
	tmp := dest + ".partial"
	os.Remove(tmp)
	// VACUUM INTO accepts an existing empty file: creating it first makes it 0600.
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup to %s: %w", dest, err)
	}
	f.Close()
	fail := func(err error) error {
		os.Remove(tmp)
		return fmt.Errorf("backup to %s: %w", dest, err)
	}
	if _, err := db.R.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		return fail(wrap(err))
	}
	if err := IntegrityCheck(ctx, tmp); err != nil {
		return fail(err)
	}
	if err := syncFile(tmp); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		return fail(err)
	}
	if err := os.Chmod(dest, 0o600); err != nil {
		return fmt.Errorf("backup to %s: %w", dest, err)
	}
	return syncDir(filepath.Dir(dest))
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// CopyFile copies src to dst (created 0600, replaced if present) and syncs it; it is
// how a backup is restored over a damaged file that was moved aside first.
func CopyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	tmp := dst + ".restoring"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	if err := syncFile(tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	return syncDir(filepath.Dir(dst))
}
