package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/risk"
)

type ack struct {
	kind, token string
	id          int64
}

// startWriter starts a writer child. wait waits for it to exit and for its
// output to be read completely.
func startWriter(t *testing.T, path string, seed uint64, writes, probes int) (cmd *exec.Cmd, wait func() error, stdout, stderr *bytes.Buffer, ready <-chan struct{}) {
	t.Helper()
	cmd = exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RISK_CHILD=writer", "RISK_DB="+path,
		"RISK_SEED="+strconv.FormatUint(seed, 10), "RISK_WRITES="+strconv.Itoa(writes), "RISK_PROBES="+strconv.Itoa(probes))
	stdout, stderr = &bytes.Buffer{}, &bytes.Buffer{}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	readyc, read := make(chan struct{}), make(chan struct{})
	ready = readyc
	go func() {
		defer close(read)
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		first := true
		for sc.Scan() {
			line := sc.Text()
			stdout.WriteString(line + "\n")
			if first && line == "ready" {
				close(readyc)
				first = false
			}
		}
		if first {
			close(readyc)
		}
	}()
	wait = func() error {
		err := cmd.Wait()
		<-read
		return err
	}
	return cmd, wait, stdout, stderr, ready
}

func parseAcks(out string) []ack {
	var acks []ack
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) != 4 || f[0] != "ack" {
			continue // a line cut by the kill is not an acknowledgement
		}
		id, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			continue
		}
		acks = append(acks, ack{f[1], f[2], id})
	}
	return acks
}

// TestR1KillDuringWritesAndMigrations kills a writing child with SIGKILL at random
// points, at least 200 times, some of them while it applies a migration, and after
// each kill checks: integrity_check ok, the migration applied wholly or not at all,
// every acknowledged write present, the audit trail holding exactly one row per
// change (replaying it rebuilds every risk exactly, old values chain), and the hash
// chain verifying.
func TestR1KillDuringWritesAndMigrations(t *testing.T) {
	runs := 200
	if testing.Short() {
		runs = 30
	}
	if v := os.Getenv("RISK_CRASH_RUNS"); v != "" {
		runs, _ = strconv.Atoi(v)
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "crash.db")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var all []ack
	start := time.Now()
	probes, killedMid := 0, 0
	for run := range runs {
		// from the second half on, every fourth run brings one more migration
		if run >= runs/2 && run%4 == 0 {
			probes++
		}
		cmd, wait, stdout, stderr, ready := startWriter(t, path, uint64(run+1), 12, probes)
		if rng.IntN(5) == 0 {
			// early: during exec, open or a migration
			time.Sleep(time.Duration(rng.IntN(40_000)) * time.Microsecond)
		} else {
			select {
			case <-ready:
			case <-time.After(10 * time.Second):
				t.Fatal("child never became ready")
			}
			time.Sleep(time.Duration(rng.IntN(40_000)) * time.Microsecond)
		}
		cmd.Process.Kill() // SIGKILL
		werr := wait()
		if cmd.ProcessState.ExitCode() > 0 {
			t.Fatalf("run %d: child failed (%v): %s", run, werr, stderr)
		}
		if cmd.ProcessState.ExitCode() < 0 {
			killedMid++
		}
		acks := parseAcks(stdout.String())
		all = append(all, acks...)
		checkAfterCrash(t, ctx, path, probes, all, run)
	}
	t.Logf("%d runs (%d killed mid-run, %d migrations), %d acknowledged writes, %v", runs, killedMid, probes, len(all), time.Since(start).Round(time.Millisecond))
	if killedMid < runs/2 {
		t.Errorf("only %d of %d children were killed while running", killedMid, runs)
	}
}

func checkAfterCrash(t *testing.T, ctx context.Context, path string, probes int, acks []ack, run int) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("after run %d: "+format, append([]any{run}, args...)...)
	}
	// The migration is all or nothing: the recorded version and the probe tables agree.
	raw, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		fail("%v", err)
	}
	var version int
	raw.QueryRowContext(ctx, "SELECT version FROM opscockpit_schema WHERE module = 'risk'").Scan(&version)
	var tables int
	raw.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 'risk_crash_probe_%'").Scan(&tables)
	raw.Close()
	if version != 0 && tables != version-len(migrations) {
		fail("schema version %d but %d probe tables", version, tables)
	}
	s, err := open(ctx, path, Options{Clock: clock.NewFake(t0), Actor: "checker"}, probeMigrations(max(probes, version-len(migrations))))
	if err != nil {
		fail("reopen: %v", err)
	}
	defer s.Close()
	var ic string
	if err := s.db.W.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&ic); err != nil || ic != "ok" {
		fail("integrity_check %q %v", ic, err)
	}
	if _, err := s.Verify(ctx); err != nil {
		fail("verify: %v", err)
	}
	for _, a := range acks {
		var n int
		switch a.kind {
		case "create":
			s.db.R.QueryRowContext(ctx, "SELECT count(*) FROM risks WHERE title = ? AND id = ?", a.token, a.id).Scan(&n)
		case "update":
			s.db.R.QueryRowContext(ctx, "SELECT count(*) FROM risk_audit WHERE risk_id = ? AND field = 'description' AND new = ?", a.id, a.token).Scan(&n)
		case "escalate":
			s.db.R.QueryRowContext(ctx, "SELECT count(*) FROM risk_escalations WHERE risk_id = ? AND note = ?", a.id, a.token).Scan(&n)
		}
		if n != 1 {
			fail("acknowledged %s %s of risk %d found %d times", a.kind, a.token, a.id, n)
		}
	}
	checkAuditReplays(t, ctx, s, fmt.Sprintf("after run %d", run))
}

// checkAuditReplays rebuilds every risk from its audit rows: the create row's
// snapshot, then each change, whose old value must equal the value so far. A
// missing row leaves a field wrong or breaks the chain of old values; a duplicated
// row breaks it too. Escalation history rows and escalation audit rows match 1:1.
func checkAuditReplays(t *testing.T, ctx context.Context, s *Store, when string) {
	t.Helper()
	entries, err := s.Audit(ctx, risk.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	state := map[int64]map[string]string{}
	escAudit := map[int64]int{}
	for _, e := range entries {
		if e.Entity != "risk" {
			continue
		}
		switch e.Field {
		case "created":
			if state[e.RiskID] != nil {
				t.Fatalf("%s: risk %d created twice in the audit trail", when, e.RiskID)
			}
			var snap map[string]string
			if err := json.Unmarshal([]byte(e.New), &snap); err != nil {
				t.Fatalf("%s: audit %d: %v", when, e.Seq, err)
			}
			state[e.RiskID] = snap
		case "materialising":
		default:
			st := state[e.RiskID]
			if st == nil {
				t.Fatalf("%s: audit %d changes risk %d before its creation", when, e.Seq, e.RiskID)
			}
			if st[e.Field] != e.Old {
				t.Fatalf("%s: audit %d: %s old value %q, but the trail so far says %q (row missing or duplicated)", when, e.Seq, e.Field, e.Old, st[e.Field])
			}
			st[e.Field] = e.New
			if e.Field == "escalation" {
				escAudit[e.RiskID]++
			}
		}
	}
	risks, err := s.All(ctx, risk.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(risks) != len(state) {
		t.Fatalf("%s: %d risks but %d created in the audit trail", when, len(risks), len(state))
	}
	escRows := map[int64]int{}
	escs, _ := s.Escalations(ctx, 0)
	for _, e := range escs {
		escRows[e.RiskID]++
	}
	if !maps.Equal(escRows, escAudit) {
		t.Fatalf("%s: escalation rows %v, escalation audit rows %v", when, escRows, escAudit)
	}
	// the trigger-maintained heat counts agree with a scan
	fast, _ := s.HeatMap(ctx, risk.Filter{})
	scan := risk.ComputeHeatMap(s.matrix, risks)
	if fmt.Sprint(fast) != fmt.Sprint(scan) {
		t.Fatalf("%s: heat counts %v, scan %v", when, fast, scan)
	}
	for _, r := range risks {
		if got := r.FieldValues(); !maps.Equal(got, state[r.ID]) {
			t.Fatalf("%s: risk %d is %v but its audit trail replays to %v", when, r.ID, got, state[r.ID])
		}
	}
}
