package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/opscockpit/opscockpit/internal/sqlitedb"
)

// Backups are named risk-YYYYMMDDTHHMMSSZ.db (UTC, from the injected clock), so the
// newest sorts last by name.
const (
	backupPrefix = "risk-"
	backupSuffix = ".db"
	backupLayout = "20060102T150405Z"
	// BackupEvery is how old the newest backup may get before AutoBackup makes one.
	BackupEvery = 24 * time.Hour
)

// Backup writes a consistent copy of the whole database file to dest (VACUUM
// INTO under a read transaction, so writers carry on), checks the copy with
// integrity_check and moves it into place with mode 0600. Failures wrap
// risk.ErrNotSaved.
func (s *Store) Backup(ctx context.Context, dest string) error {
	if err := s.db.BackupTo(ctx, dest); err != nil {
		return notSaved("backup risk register", err)
	}
	return nil
}

// BackupDir is where automatic backups go.
func (s *Store) BackupDir() string { return s.backup }

// AutoBackup makes a backup in the backup directory if the newest there is older
// than BackupEvery by the store's clock (or there is none), then keeps only the
// newest keep backups. It returns the new backup's path, or "" if none was due. The
// lead calls it at start-up and may call it daily.
func (s *Store) AutoBackup(ctx context.Context, keep int) (string, error) {
	now := s.clock.Now().UTC()
	names, err := backups(s.backup)
	if err != nil {
		return "", notSaved("automatic backup", err)
	}
	made := ""
	if len(names) == 0 || now.Sub(backupTime(names[len(names)-1])) >= BackupEvery {
		made = filepath.Join(s.backup, backupPrefix+now.Format(backupLayout)+backupSuffix)
		if err := s.Backup(ctx, made); err != nil {
			return "", err
		}
		names = append(names, filepath.Base(made))
	}
	if keep < 1 {
		keep = 1
	}
	for len(names) > keep {
		if err := os.Remove(filepath.Join(s.backup, names[0])); err != nil && !os.IsNotExist(err) {
			return made, fmt.Errorf("prune old backup %s: %w", names[0], err)
		}
		names = names[1:]
	}
	return made, nil
}

// backups lists backup file names in dir, oldest first.
func backups(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasPrefix(n, backupPrefix) && strings.HasSuffix(n, backupSuffix) && !backupTime(n).IsZero() {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, nil
}

func backupTime(name string) time.Time {
	t, err := time.Parse(backupLayout, strings.TrimSuffix(strings.TrimPrefix(name, backupPrefix), backupSuffix))
	if err != nil {
		return time.Time{}
	}
	return t
}

// LatestBackup returns the newest backup in dir, or "" if there is none.
func LatestBackup(dir string) (string, error) {
	names, err := backups(dir)
	if err != nil || len(names) == 0 {
		return "", err
	}
	return filepath.Join(dir, names[len(names)-1]), nil
}

// Restore replaces the database at path with backup. The backup is checked first;
// the current file (and its -wal and -shm) is moved aside to
// path.damaged-YYYYMMDDTHHMMSSZ, never deleted, and its new name returned. The
// store must be closed.
func Restore(ctx context.Context, backup, path string, now time.Time) (string, error) {
	if err := sqlitedb.IntegrityCheck(ctx, backup); err != nil {
		return "", fmt.Errorf("restore from %s: the backup is not usable: %w", backup, err)
	}
	aside := path + ".damaged-" + now.UTC().Format(backupLayout)
	moved := ""
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if _, err := os.Lstat(path + suffix); err != nil {
			continue
		}
		if err := os.Rename(path+suffix, aside+suffix); err != nil {
			return "", fmt.Errorf("restore: move %s aside: %w", path+suffix, err)
		}
		if suffix == "" {
			moved = aside
		}
	}
	if err := sqlitedb.CopyFile(backup, path); err != nil {
		return moved, fmt.Errorf("restore from %s: %w", backup, err)
	}
	return moved, nil
}
