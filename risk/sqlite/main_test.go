package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/risk"
)

// The crash (R1) and second-process (R3) tests re-execute this test binary as a
// child that writes to the database; RISK_CHILD selects what it does.
func TestMain(m *testing.M) {
	switch os.Getenv("RISK_CHILD") {
	case "":
		os.Exit(m.Run())
	case "writer":
		os.Exit(childWriter())
	default:
		fmt.Fprintln(os.Stderr, "unknown RISK_CHILD")
		os.Exit(3)
	}
}

// probeMigrations are extra migrations the crash test applies (one more every few
// runs), each heavy enough to be killed in the middle of.
func probeMigrations(n int) []string {
	out := make([]string, 0, len(migrations)+n)
	out = append(out, migrations...)
	for j := 1; j <= n; j++ {
		out = append(out, fmt.Sprintf(`CREATE TABLE risk_crash_probe_%d AS SELECT id, title, description FROM risks;
			CREATE INDEX risk_crash_probe_%d_t ON risk_crash_probe_%d (title, description);`, j, j, j))
	}
	return out
}

// childWriter opens the store and makes RISK_WRITES random writes (creates,
// updates, escalations), printing "ack KIND TOKEN ID" after each commit. The
// token is unique, so the parent can find every acknowledged write afterwards.
func childWriter() int {
	ctx := context.Background()
	seed, _ := strconv.ParseUint(os.Getenv("RISK_SEED"), 10, 64)
	writes, _ := strconv.Atoi(os.Getenv("RISK_WRITES"))
	probes, _ := strconv.Atoi(os.Getenv("RISK_PROBES"))
	rng := rand.New(rand.NewPCG(seed, 7))
	out := bufio.NewWriter(os.Stdout)
	s, err := open(ctx, os.Getenv("RISK_DB"), Options{Clock: clock.Real{}, Actor: "child-" + strconv.FormatUint(seed, 10)}, probeMigrations(probes))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		return 1
	}
	defer s.Close()
	fmt.Fprintln(out, "ready")
	out.Flush()
	levels := s.Policy().Levels
	for k := range writes {
		token := fmt.Sprintf("s%dk%d", seed, k)
		var id int64
		_ = s.db.R.QueryRowContext(ctx, "SELECT id FROM risks ORDER BY random() LIMIT 1").Scan(&id)
		kind := "create"
		if id != 0 {
			switch rng.IntN(4) {
			case 1, 2:
				kind = "update"
			case 3:
				kind = "escalate"
			}
		}
		switch kind {
		case "create":
			r, err := s.Create(ctx, risk.Risk{Title: token, Owner: "o" + strconv.Itoa(rng.IntN(5)), Likelihood: 1 + rng.IntN(5), Impact: 1 + rng.IntN(5)})
			if err != nil {
				fmt.Fprintln(os.Stderr, "child create:", err)
				return 1
			}
			id = r.ID
		case "update":
			r, err := s.Get(ctx, id)
			if err != nil {
				fmt.Fprintln(os.Stderr, "child get:", err)
				return 1
			}
			r.Description, r.Likelihood = token, 1+rng.IntN(5)
			if _, err := s.Update(ctx, r); err != nil {
				fmt.Fprintln(os.Stderr, "child update:", err)
				return 1
			}
		case "escalate":
			r, err := s.Get(ctx, id)
			if err != nil {
				fmt.Fprintln(os.Stderr, "child get:", err)
				return 1
			}
			to := levels[rng.IntN(len(levels))]
			if to == r.Escalation {
				to = levels[(s.Policy().Rank(to)+1)%len(levels)]
			}
			if _, err := s.Escalate(ctx, id, to, token, ""); err != nil {
				fmt.Fprintln(os.Stderr, "child escalate:", err)
				return 1
			}
		}
		fmt.Fprintf(out, "ack %s %s %d\n", kind, token, id)
		out.Flush()
	}
	return 0
}
