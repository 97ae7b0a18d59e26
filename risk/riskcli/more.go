package riskcli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/opscockpit/opscockpit/risk"
	"github.com/opscockpit/opscockpit/risk/sqlite"
)

// day reads a YYYY-MM-DD flag ("" is no date).
func day(flag, s string) (time.Time, error) {
	if strings.TrimSpace(s) == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(s), time.UTC)
	if err != nil {
		return t, usagef("--%s %q: want YYYY-MM-DD", flag, s)
	}
	return t, nil
}

// action adds a mitigation action to a risk, or with --set-status changes one.
func (c *command) action(args []string) error {
	title := c.fs.String("title", "", "what will be done")
	owner := c.fs.String("owner", "", "who does it")
	due := c.fs.String("due", "", "due date YYYY-MM-DD")
	setStatus := c.fs.String("set-status", "", "change action ID's status: open, in_progress, done or cancelled")
	id, err := c.riskArg(args)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if *setStatus != "" {
		if err := c.open(ctx); err != nil {
			return err
		}
		var found *risk.Action
		// the action's risk is not known from its ID alone: look through the overdue
		// and per-risk lists
		all, err := c.store.All(ctx, risk.Filter{})
		if err != nil {
			return err
		}
		for _, r := range all {
			acts, err := c.store.Actions(ctx, r.ID)
			if err != nil {
				return err
			}
			for i := range acts {
				if acts[i].ID == id {
					found = &acts[i]
				}
			}
		}
		if found == nil {
			return fmt.Errorf("action %d: %w", id, risk.ErrNotFound)
		}
		found.Status = risk.ActionStatus(*setStatus)
		a, err := c.store.UpdateAction(ctx, *found)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.env.Stdout, "action %d of risk %d is %s\n", a.ID, a.RiskID, a.Status)
		return nil
	}
	if *title == "" || *owner == "" {
		return usagef("--title and --owner are required")
	}
	d, err := day("due", *due)
	if err != nil {
		return err
	}
	if err := c.open(ctx); err != nil {
		return err
	}
	a, err := c.store.AddAction(ctx, risk.Action{RiskID: id, Title: *title, Owner: *owner, Due: d, Status: risk.ActionOpen})
	if err != nil {
		return err
	}
	fmt.Fprintln(c.env.Stdout, a.ID)
	return nil
}

// review records a review of a risk.
func (c *command) review(args []string) error {
	reviewers := c.fs.String("reviewers", "", "who reviewed, comma-separated")
	decision := c.fs.String("decision", "", "what was decided")
	notes := c.fs.String("notes", "", "notes")
	next := c.fs.String("next-review", "", "next review date YYYY-MM-DD (becomes the risk's)")
	on := c.fs.String("date", "", "review date YYYY-MM-DD (default today)")
	id, err := c.riskArg(args)
	if err != nil {
		return err
	}
	if *reviewers == "" || *decision == "" {
		return usagef("--reviewers and --decision are required")
	}
	nd, err := day("next-review", *next)
	if err != nil {
		return err
	}
	rd, err := day("date", *on)
	if err != nil {
		return err
	}
	if rd.IsZero() {
		rd = c.env.Clock.Now().UTC().Truncate(24 * time.Hour)
	}
	ctx := context.Background()
	if err := c.open(ctx); err != nil {
		return err
	}
	rv, err := c.store.AddReview(ctx, risk.Review{RiskID: id, Date: rd, Reviewers: splitList(*reviewers), Decision: *decision,
		Notes: *notes, NextReview: nd, By: c.env.Actor})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stdout, "review %d of risk %d recorded\n", rv.ID, id)
	return nil
}

// link ties a risk to alerts (Alertmanager matchers); --remove takes a link ID away.
func (c *command) link(args []string) error {
	remove := c.fs.Bool("remove", false, "remove link ID instead of adding one")
	pos, err := c.parse(args, 2)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if *remove {
		id, err := parseID(pos[:min(1, len(pos))])
		if err != nil {
			return err
		}
		if err := c.open(ctx); err != nil {
			return err
		}
		if err := c.store.RemoveLink(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(c.env.Stdout, "link %d removed\n", id)
		return nil
	}
	if len(pos) != 2 {
		return usagef(`want a risk ID and matchers, e.g. 7 'alertname="DiskFull"'`)
	}
	id, err := parseID(pos[:1])
	if err != nil {
		return err
	}
	if err := c.open(ctx); err != nil {
		return err
	}
	l, err := c.store.AddLink(ctx, id, pos[1])
	if err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stdout, "link %d: risk %d materialises when %s fires\n", l.ID, id, l.Matchers)
	return nil
}

// restore replaces a damaged register with its newest backup (or --from FILE); the
// damaged file is moved aside, never deleted.
func (c *command) restore(args []string) error {
	from := c.fs.String("from", "", "backup `file` (default: the newest in the backup folder)")
	if _, err := c.parse(args, 0); err != nil {
		return err
	}
	if *c.db == "" {
		return usagef("no database: pass --db FILE")
	}
	backup := *from
	if backup == "" {
		dir := c.env.BackupDir
		if dir == "" {
			dir = filepath.Join(filepath.Dir(*c.db), "backups")
		}
		b, err := sqlite.LatestBackup(dir)
		if err != nil {
			return err
		}
		if b == "" {
			return fmt.Errorf("no backup in %s: pass --from FILE", dir)
		}
		backup = b
	}
	ctx := context.Background()
	// A register that opens cleanly needs no restore: say so rather than replace it.
	if s, err := sqlite.Open(ctx, *c.db, sqlite.Options{Clock: c.env.Clock, Matrix: c.env.Matrix, Policy: c.env.Policy}); err == nil {
		s.Close()
		if *from == "" {
			return errors.New("the register opens cleanly; to roll it back anyway, pass --from FILE")
		}
	}
	aside, err := sqlite.Restore(ctx, backup, *c.db, c.env.Clock.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stdout, "restored %s from %s", *c.db, backup)
	if aside != "" {
		fmt.Fprintf(c.env.Stdout, "; the previous file is kept as %s", aside)
	}
	fmt.Fprintln(c.env.Stdout)
	return nil
}
