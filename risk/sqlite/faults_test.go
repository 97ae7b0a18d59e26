package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/internal/sqlitedb"
	"github.com/opscockpit/opscockpit/risk"
)

func counts(t *testing.T, s *Store) (risks, audit int, version int64) {
	t.Helper()
	ctx := context.Background()
	s.db.R.QueryRowContext(ctx, "SELECT count(*) FROM risks").Scan(&risks)
	s.db.R.QueryRowContext(ctx, "SELECT count(*) FROM risk_audit").Scan(&audit)
	version, _ = s.Version(ctx)
	return
}

// R2: the disk fills up (a tiny max_page_count gives SQLITE_FULL): the write fails
// with ErrNotSaved, nothing of it is in the file, and the same write succeeds once
// there is room again.
func TestR2DiskFullIsNotSavedAndRetryWorks(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "", nil)
	var pages int
	if err := s.db.W.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.W.ExecContext(ctx, "PRAGMA max_page_count = "+itoa(pages+40)); err != nil {
		t.Fatal(err)
	}
	_, _, v0 := counts(t, s)
	big := sample("Big", 2, 2)
	big.Description = strings.Repeat("lorem ipsum dolor sit amet ", 700)
	var failed error
	saved := 0
	for range 50 {
		if _, err := s.Create(ctx, big); err != nil {
			failed = err
			break
		}
		saved++
	}
	if failed == nil {
		t.Fatal("the disk never filled")
	}
	if !errors.Is(failed, risk.ErrNotSaved) {
		t.Fatalf("err %v is not ErrNotSaved", failed)
	}
	var se sqlite3.Error
	if !errors.As(failed, &se) || se.Code != sqlite3.ErrFull {
		t.Fatalf("cause %v is not SQLITE_FULL", failed)
	}
	if !strings.HasPrefix(failed.Error(), "NOT SAVED: create risk: ") {
		t.Errorf("message %q", failed)
	}
	r, a, v := counts(t, s)
	if saved == 0 || r != saved || a != saved || v != v0+int64(saved) {
		t.Fatalf("after the failure: %d risks, %d audit rows, version %d; want %d each", r, a, v, saved)
	}
	if _, err := s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.W.ExecContext(ctx, "PRAGMA max_page_count = 1073741823"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, big); err != nil {
		t.Fatalf("retry after freeing space: %v", err)
	}
	if r, a, _ := counts(t, s); r != saved+1 || a != saved+1 {
		t.Fatalf("after retry: %d risks, %d audit rows", r, a)
	}
	if _, err := s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// R2: a read-only place: a backup into a directory that cannot be created or written
// is ErrNotSaved and leaves nothing behind; a read-only database file cannot be
// opened for writing (skipped as root, who ignores permissions).
func TestR2ReadOnlyIsNotSaved(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, filepath.Join(dir, "db", "cockpit.db"), nil)
	if _, err := s.Create(ctx, sample("x", 1, 1)); err != nil {
		t.Fatal(err)
	}
	blocker := filepath.Join(dir, "not-a-dir")
	os.WriteFile(blocker, []byte("file"), 0o600)
	err := s.Backup(ctx, filepath.Join(blocker, "b.db"))
	if !errors.Is(err, risk.ErrNotSaved) {
		t.Fatalf("backup into a file-as-dir: %v", err)
	}
	if os.Geteuid() == 0 {
		t.Log("running as root: permission checks skipped")
		return
	}
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o500)
	defer os.Chmod(ro, 0o700)
	if err := s.Backup(ctx, filepath.Join(ro, "b.db")); !errors.Is(err, risk.ErrNotSaved) {
		t.Fatalf("backup into a read-only dir: %v", err)
	}
	s.Close()
	os.Chmod(s.Path(), 0o400)
	defer os.Chmod(s.Path(), 0o600)
	if _, err := Open(ctx, s.Path(), Options{}); !errors.Is(err, os.ErrPermission) {
		t.Fatalf("open read-only file: %v", err)
	}
}

// R3: another process writes while this one writes and reads, and the sqlite3 CLI
// reads too: nobody sees "database is locked".
func TestR3SecondProcessAndReaders(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	s := openTest(t, path, clock.Real{})
	if _, err := s.Create(ctx, sample("seed", 1, 1)); err != nil {
		t.Fatal(err)
	}
	const childWrites, ownWrites = 60, 60
	_, wait, stdout, stderr, _ := startWriter(t, path, 4242, childWrites, 0)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	stop := make(chan struct{})
	wg.Go(func() {
		for i := range ownWrites {
			if _, err := s.Create(ctx, sample("parent "+itoa(i), 1+i%5, 1+i%3)); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Go(func() { // a second *sql.DB in this process, reading
		other, err := Open(ctx, path, Options{Clock: clock.Real{}})
		if err != nil {
			errs <- err
			return
		}
		defer other.Close()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := other.List(ctx, risk.Filter{Query: "parent", Limit: 10}); err != nil {
				errs <- err
				return
			}
			if _, err := other.HeatMap(ctx, risk.Filter{}); err != nil {
				errs <- err
				return
			}
		}
	})
	if cli, err := exec.LookPath("sqlite3"); err == nil {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				out, err := exec.Command(cli, "-readonly", "-cmd", ".timeout 10000", path, "SELECT count(*) FROM risks;").CombinedOutput()
				if err != nil || bytes.Contains(out, []byte("locked")) {
					errs <- errors.New("sqlite3 CLI: " + string(out))
					return
				}
			}
		})
	} else {
		t.Log("sqlite3 CLI not installed: CLI reader skipped")
	}
	werr := wait()
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if werr != nil {
		t.Fatalf("child: %v: %s", werr, stderr)
	}
	if n := len(parseAcks(stdout.String())); n != childWrites {
		t.Fatalf("child acknowledged %d writes", n)
	}
	if _, err := s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	checkAuditReplays(t, ctx, s, "after concurrent writers")
}

// R4: damaged files are refused at open with a typed error, never written, and the
// latest backup is offered; Restore moves the damaged file aside and brings the
// backup back.
func TestR4DamagedFilesAndRestore(t *testing.T) {
	ctx := context.Background()
	fc := clock.NewFake(t0)
	cases := []struct {
		name   string
		damage func(b []byte) []byte
		want   error
	}{
		{"not sqlite", func(b []byte) []byte { return []byte("name,owner\nrisk,bob\n") }, ErrNotSQLite},
		{"truncated mid-page", func(b []byte) []byte { return b[:len(b)/2+100] }, ErrCorrupt},
		{"truncated at a page boundary", func(b []byte) []byte { return b[:len(b)/2/4096*4096] }, ErrCorrupt},
		{"header only", func(b []byte) []byte { return b[:100] }, ErrCorrupt},
		{"pages overwritten", func(b []byte) []byte {
			for i := 3 * 4096; i < 6*4096; i++ {
				b[i] = byte(i * 7)
			}
			return b
		}, ErrCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "cockpit.db")
			s, err := Open(ctx, path, Options{Clock: fc})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 300 {
				r := sample("risk "+itoa(i), 1+i%5, 1+i%5)
				r.Description = strings.Repeat("words for pages ", 20)
				if _, err := s.Create(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			backup, err := s.AutoBackup(ctx, 3)
			if err != nil || backup == "" {
				t.Fatalf("backup %q %v", backup, err)
			}
			s.Close()
			orig, _ := os.ReadFile(path)
			bad := c.damage(bytes.Clone(orig))
			os.WriteFile(path, bad, 0o600)
			_, err = Open(ctx, path, Options{Clock: fc})
			var dmg *DamagedError
			if !errors.As(err, &dmg) || !errors.Is(err, c.want) {
				t.Fatalf("open: %v, want DamagedError wrapping %v", err, c.want)
			}
			if dmg.Backup != backup {
				t.Fatalf("offered backup %q, want %q", dmg.Backup, backup)
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, bad) {
				t.Fatal("the damaged file was written to")
			}
			aside, err := Restore(ctx, dmg.Backup, path, fc.Now())
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(aside); !bytes.Equal(got, bad) {
				t.Fatal("the damaged file was not kept aside byte for byte")
			}
			s, err = Open(ctx, path, Options{Clock: fc})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if r, _, _ := counts(t, s); r != 300 {
				t.Fatalf("restored %d risks", r)
			}
			if _, err := s.Verify(ctx); err != nil {
				t.Fatal(err)
			}
			if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
				t.Fatalf("restored file mode %o", st.Mode().Perm())
			}
		})
	}
}

// R5: backups taken while another goroutine writes are consistent: each passes
// integrity_check, opens, and its audit trail verifies and replays.
func TestR5BackupUnderWrites(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, filepath.Join(dir, "cockpit.db"), clock.Real{})
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		i := 0
		for {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			r, err := s.Create(ctx, sample("w"+itoa(i), 1+i%5, 1+i%4))
			if err == nil && i%2 == 0 {
				r.Description = "edited"
				_, err = s.Update(ctx, r)
			}
			if err != nil {
				done <- err
				return
			}
			i++
		}
	}()
	time.Sleep(30 * time.Millisecond)
	var last int
	for i := range 5 {
		dest := filepath.Join(dir, "b", "backup-"+itoa(i)+".db")
		if err := s.Backup(ctx, dest); err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Stat(dest); st.Mode().Perm() != 0o600 {
			t.Fatalf("backup mode %o", st.Mode().Perm())
		}
		if err := sqlitedb.IntegrityCheck(ctx, dest); err != nil {
			t.Fatal(err)
		}
		b, err := Open(ctx, dest, Options{Clock: clock.NewFake(t0)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Verify(ctx); err != nil {
			t.Fatal(err)
		}
		checkAuditReplays(t, ctx, b, "backup "+itoa(i))
		n, _, _ := counts(t, b)
		b.Close()
		if n < last {
			t.Fatalf("backup %d has %d risks, fewer than the previous %d", i, n, last)
		}
		last = n
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if last == 0 {
		t.Fatal("no writes landed in the backups")
	}
}

func TestAutoBackupDailyWithRetention(t *testing.T) {
	ctx := context.Background()
	fc := clock.NewFake(t0)
	dir := t.TempDir()
	s := openTest(t, filepath.Join(dir, "cockpit.db"), fc)
	s.Create(ctx, sample("x", 1, 1))
	made := 0
	for hour := range 24 * 6 {
		p, err := s.AutoBackup(ctx, 3)
		if err != nil {
			t.Fatal(err)
		}
		if p != "" {
			made++
			if hour%24 != 0 {
				t.Fatalf("backup at hour %d", hour)
			}
		}
		fc.Advance(time.Hour)
	}
	names, _ := backups(s.BackupDir())
	if made != 6 || len(names) != 3 {
		t.Fatalf("made %d, kept %v", made, names)
	}
	latest, _ := LatestBackup(s.BackupDir())
	if filepath.Base(latest) != "risk-20250315T090000Z.db" {
		t.Fatalf("latest %s", latest)
	}
}

// R7: the app cannot change or delete audit rows (triggers), and tampering with the
// file behind its back is found by Verify, which names the first bad row.
func TestR7AuditTrailAppendOnlyAndTamperEvident(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "cockpit.db")
	s := openTest(t, path, nil)
	r, _ := s.Create(ctx, sample("x", 1, 1))
	for i := range 5 {
		r.Likelihood = 1 + (i+1)%5
		r, _ = s.Update(ctx, r)
	}
	for _, q := range []string{"UPDATE risk_audit SET new = 'evil' WHERE seq = 2", "DELETE FROM risk_audit WHERE seq = 6"} {
		_, err := s.db.W.ExecContext(ctx, q)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("%s: %v", q, err)
		}
	}
	res, err := s.Verify(ctx)
	if err != nil || res.Rows != 6 {
		t.Fatalf("verify %+v %v", res, err)
	}
	s.Close()
	clean, _ := os.ReadFile(path)
	cases := []struct {
		name    string
		tamper  string
		wantSeq int64
	}{
		{"edited value", "UPDATE risk_audit SET new = '5' WHERE seq = 3", 3},
		{"edited and rehashed", "UPDATE risk_audit SET actor = 'mallory', hash = 'x' WHERE seq = 4", 4},
		{"deleted middle row", "DELETE FROM risk_audit WHERE seq = 2", 2},
		{"deleted last row", "DELETE FROM risk_audit WHERE seq = 6", 6},
		{"reordered rows", "UPDATE risk_audit SET seq = 1000 WHERE seq = 3; UPDATE risk_audit SET seq = 3 WHERE seq = 4; UPDATE risk_audit SET seq = 4 WHERE seq = 1000", 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "t.db")
			os.WriteFile(p, clean, 0o600)
			raw, err := sql.Open("sqlite3", p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := raw.Exec("DROP TRIGGER risk_audit_no_update; DROP TRIGGER risk_audit_no_delete; " + c.tamper); err != nil {
				t.Fatal(err)
			}
			raw.Close()
			ts, err := Open(ctx, p, Options{Clock: clock.NewFake(t0)})
			if err != nil {
				t.Fatal(err)
			}
			defer ts.Close()
			_, err = ts.Verify(ctx)
			var te *risk.TamperError
			if !errors.As(err, &te) || !errors.Is(err, risk.ErrTampered) {
				t.Fatalf("verify: %v", err)
			}
			if te.Seq != c.wantSeq {
				t.Fatalf("first bad row %d, want %d (%v)", te.Seq, c.wantSeq, err)
			}
		})
	}
}

// R4 with DeferCheck (the GUI's fast open): damaged pages are reported by Check
// shortly after open, every write is refused before touching the file, and the
// latest backup is offered.
func TestR4DeferredCheckRefusesWrites(t *testing.T) {
	ctx := context.Background()
	fc := clock.NewFake(t0)
	path := filepath.Join(t.TempDir(), "cockpit.db")
	s, err := Open(ctx, path, Options{Clock: fc})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		r := sample("risk "+itoa(i), 1+i%5, 1+i%5)
		r.Description = strings.Repeat("words for pages ", 20)
		s.Create(ctx, r)
	}
	backup, _ := s.AutoBackup(ctx, 3)
	s.Close()
	data, _ := os.ReadFile(path)
	for i := 3 * 4096; i < 6*4096; i++ {
		data[i] = byte(i * 7)
	}
	os.WriteFile(path, data, 0o600)
	s, err = Open(ctx, path, Options{Clock: fc, DeferCheck: true})
	if err != nil {
		t.Fatalf("deferred open should succeed on a whole-sized file: %v", err)
	}
	defer s.Close()
	err = s.Check(ctx)
	var dmg *DamagedError
	if !errors.As(err, &dmg) || !errors.Is(err, ErrCorrupt) || dmg.Backup != backup {
		t.Fatalf("check: %v", err)
	}
	if _, err := s.Create(ctx, sample("must not land", 1, 1)); !errors.Is(err, risk.ErrNotSaved) || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("write on a damaged file: %v", err)
	}
	s.Close()
	if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
		t.Fatal("the damaged file was written to")
	}
}
