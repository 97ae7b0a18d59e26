package sqlite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/incident"
)

const crashChildEnv = "OPSCOCKPIT_INCIDENT_CRASH_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		os.Exit(crashChild(path))
	}
	os.Exit(m.Run())
}

// crashChild does random incident writes forever and prints one line per write after
// its commit returned: "D id title", "N id entry text", "S id entry status". Whatever
// it printed was acknowledged and must survive a kill -9.
func crashChild(path string) int {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	seed, _ := strconv.ParseUint(os.Getenv(crashChildEnv+"_SEED"), 10, 64)
	rng := rand.New(rand.NewPCG(seed, 7))
	// Unbuffered: a line is out before the next write starts.
	out := os.Stdout
	// Each round's times come after the last round's.
	at := t0.Add(time.Duration(seed) * time.Hour)
	for i := 0; ; i++ {
		at = at.Add(time.Second)
		open, err := s.List(ctx, ListQuery{OpenOnly: true})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		switch r := rng.IntN(10); {
		case len(open) == 0 || r == 0:
			title := fmt.Sprintf("incident-%d-%d", seed, i)
			inc, err := s.Declare(ctx, incident.Declaration{Title: title, Severity: incident.Severity(1 + rng.IntN(4)), By: "child", At: at})
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 3
			}
			fmt.Fprintf(out, "D %d %s\n", inc.ID, title)
		case r < 8:
			inc := open[rng.IntN(len(open))]
			text := fmt.Sprintf("note-%d-%d-%s", seed, i, strings.Repeat("x", rng.IntN(2000)))
			e, err := s.Note(ctx, inc.ID, text, "child", at)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 3
			}
			fmt.Fprintf(out, "N %d %d %s\n", inc.ID, e.ID, text)
		default:
			inc := open[rng.IntN(len(open))]
			next := incident.Statuses[rng.IntN(len(incident.Statuses))]
			if incident.CheckTransition(inc.Status, next) != nil {
				continue
			}
			e, err := s.SetStatus(ctx, inc.ID, next, "", "child", at)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 3
			}
			fmt.Fprintf(out, "S %d %d %s\n", inc.ID, e.ID, next)
		}
	}
}

// TestKill9KeepsAcknowledgedWrites re-executes the test binary as a child doing random
// incident writes, kills it with SIGKILL at random points (during open and migration
// too, on the first rounds) and checks after each kill that the file passes
// integrity_check, every write the child acknowledged is there, and each incident's
// status row agrees with its last status_change entry (state and timeline commit
// together).
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 loop skipped in -short")
	}
	rounds := 100
	path := filepath.Join(t.TempDir(), "crash.db")
	deadline := time.Now().Add(40 * time.Second)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	ctx := context.Background()
	total, minAcked := 0, 1<<30
	for round := 0; round < rounds; round++ {
		if time.Now().After(deadline) {
			t.Fatalf("only %d rounds in the time budget", round)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path, fmt.Sprintf("%s_SEED=%d", crashChildEnv, round))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan []string, 1)
		go func() {
			var got []string
			sc := bufio.NewScanner(stdout)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				got = append(got, sc.Text())
			}
			lines <- got
		}()
		// One round in five dies early (in open or the migration), the rest mid-writes.
		delay := time.Duration(rng.IntN(30)) * time.Millisecond
		if rng.IntN(5) != 0 {
			delay = time.Duration(40+rng.IntN(260)) * time.Millisecond
		}
		time.Sleep(delay)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Fatal(err)
		}
		got := <-lines
		werr := cmd.Wait()
		if st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !st.Signaled() {
			t.Fatalf("round %d: child ended on its own (%v): %s", round, werr, stderr.String())
		}
		total += len(got)
		minAcked = min(minAcked, len(got))
		verifyAfterCrash(t, ctx, path, round, got)
	}
	t.Logf("%d kills, %d acknowledged writes checked (fewest in a round: %d)", rounds, total, minAcked)
}

func verifyAfterCrash(t *testing.T, ctx context.Context, path string, round int, acked []string) {
	t.Helper()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("round %d: reopen after kill: %v", round, err)
	}
	defer s.Close()
	var ic string
	if err := s.db.R.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&ic); err != nil || ic != "ok" {
		t.Fatalf("round %d: integrity_check = %q, %v", round, ic, err)
	}
	for _, line := range acked {
		// A torn last line is possible only if the kill split a write(2): ignore a
		// line that does not parse, it was never fully acknowledged.
		f := strings.SplitN(line, " ", 4)
		if len(f) < 3 {
			continue
		}
		id, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "D":
			inc, err := s.Get(ctx, id)
			if err != nil || inc.Title != strings.Join(f[2:], " ") {
				t.Fatalf("round %d: acknowledged declaration %q lost: %+v %v", round, line, inc, err)
			}
		case "N", "S":
			if len(f) < 4 {
				continue
			}
			eid, _ := strconv.ParseInt(f[2], 10, 64)
			var text, kind string
			var incID int64
			err := s.db.R.QueryRowContext(ctx, `SELECT incident_id, kind, text, fields FROM incident_timeline WHERE id = ?`, eid).Scan(&incID, &kind, &text, new(string))
			if err != nil || incID != id {
				t.Fatalf("round %d: acknowledged entry %d lost: %v", round, eid, err)
			}
			if f[0] == "N" && (kind != "note" || text != f[3]) {
				t.Fatalf("round %d: note %d is %s %q", round, eid, kind, text)
			}
			if f[0] == "S" && (kind != "status_change" || !strings.Contains(text, "→ "+f[3])) {
				t.Fatalf("round %d: status entry %d is %s %q", round, eid, kind, text)
			}
		}
	}
	incs, err := s.List(ctx, ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, inc := range incs {
		p, err := s.Timeline(ctx, inc.ID, incident.TimelineQuery{Kinds: []incident.Kind{incident.KindStatusChange}, Desc: true, Limit: 1})
		if err != nil || len(p.Entries) != 1 {
			t.Fatalf("round %d: incident %d has no status entry: %v", round, inc.ID, err)
		}
		var sf incident.StatusFields
		p.Entries[0].Decode(&sf)
		if sf.To != inc.Status {
			t.Fatalf("round %d: incident %d status %s but last status entry says %s", round, inc.ID, inc.Status, sf.To)
		}
	}
}
