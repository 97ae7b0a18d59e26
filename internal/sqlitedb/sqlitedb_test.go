package sqlitedb

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var migrations = []string{
	"CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT NOT NULL)",
	"ALTER TABLE a ADD COLUMN w TEXT NOT NULL DEFAULT ''",
}

func TestOpenCreatesAPrivateWALDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "x.db")
	db, err := Open(ctx, path, migrations)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.W.ExecContext(ctx, "INSERT INTO a (v, w) VALUES ('1', '2')"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.R.QueryRowContext(ctx, "SELECT count(*) FROM a").Scan(&n); err != nil || n != 1 {
		t.Fatalf("read pool sees %d rows, err %v", n, err)
	}
	if _, err := db.R.ExecContext(ctx, "INSERT INTO a (v) VALUES ('x')"); err == nil {
		t.Fatal("the read pool accepted a write")
	}
	for _, p := range []string{path, path + "-wal"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if perm := st.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s mode %o, want 600", filepath.Base(p), perm)
		}
	}
	db.Close()
	// reopening applies nothing twice
	db, err = Open(ctx, path, migrations)
	if err != nil {
		t.Fatal(err)
	}
	var v int
	db.W.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	db.Close()
	if v != 2 {
		t.Fatalf("user_version %d", v)
	}
	// a build that knows fewer migrations refuses a newer file
	if _, err := Open(ctx, path, migrations[:1]); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("older build opened a newer schema: %v", err)
	}
}

func TestOpenRefusesAForeignFileAndLeavesItAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	body := []byte("my precious notes, not a database at all\n")
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), path, migrations)
	if !errors.Is(err, ErrNotSQLite) {
		t.Fatalf("err = %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != string(body) {
		t.Fatal("the foreign file was changed")
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		t.Fatal("a WAL file was created beside the foreign file")
	}
}

func TestModulesShareOneFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	hist, err := Open(ctx, path, migrations)
	if err != nil {
		t.Fatal(err)
	}
	defer hist.Close()
	riskMigs := []string{"CREATE TABLE r (id INTEGER PRIMARY KEY)", "CREATE TABLE r2 (id INTEGER PRIMARY KEY)"}
	risk, err := OpenModule(ctx, path, "risk", riskMigs)
	if err != nil {
		t.Fatal(err)
	}
	risk.Close()
	inc, err := OpenModule(ctx, path, "incident", []string{"CREATE TABLE i (id INTEGER PRIMARY KEY)"})
	if err != nil {
		t.Fatal(err)
	}
	inc.Close()
	// reopening applies nothing twice, and the history's user_version is untouched
	if risk, err = OpenModule(ctx, path, "risk", riskMigs); err != nil {
		t.Fatal(err)
	}
	risk.Close()
	var v int
	hist.W.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	if v != len(migrations) {
		t.Fatalf("user_version %d after modules migrated", v)
	}
	if _, err := OpenModule(ctx, path, "risk", riskMigs[:1]); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("older build opened a newer risk schema: %v", err)
	}
}
