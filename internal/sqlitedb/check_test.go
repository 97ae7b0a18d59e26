package sqlitedb

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDamagedFilesAreCorruptAndBackupsAreChecked(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "x.db")
	db, err := OpenModuleWith(ctx, path, "m", []string{"CREATE TABLE t (v TEXT)"}, OpenOptions{DeferQuickCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	for range 200 {
		db.W.ExecContext(ctx, "INSERT INTO t VALUES (hex(randomblob(200)))")
	}
	if err := db.QuickCheck(ctx); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "b", "copy.db")
	if err := db.BackupTo(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if err := db.BackupTo(ctx, backup); !errors.Is(err, os.ErrExist) {
		t.Fatalf("backup over an existing file: %v", err)
	}
	db.Close()
	if st, _ := os.Stat(backup); st.Mode().Perm() != 0o600 {
		t.Fatalf("backup mode %o", st.Mode().Perm())
	}
	if err := IntegrityCheck(ctx, backup); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	for name, bad := range map[string][]byte{
		"cut mid-page":    data[:len(data)-100],
		"cut at a page":   data[:len(data)/4096/2*4096],
		"shorter than hd": data[:60],
	} {
		p := filepath.Join(dir, name+".db")
		os.WriteFile(p, bad, 0o600)
		if _, err := Open(ctx, p, nil); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: open: %v", name, err)
		}
		if err := IntegrityCheck(ctx, p); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: integrity check: %v", name, err)
		}
	}
}
