// Package incidentcli is the logic of `opscockpit incident …`: the commands a scribe or
// a script uses to declare incidents, add notes and decisions, move status, assign roles
// and export postmortems and black boxes, against the same SQLite file the desktop
// cockpit uses (which sees each write within a refresh through the store's Version).
// cmd only wires Env and calls Run.
package incidentcli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/incident"
	"github.com/opscockpit/opscockpit/incident/bundle"
	incsqlite "github.com/opscockpit/opscockpit/incident/sqlite"
)

// Env is what Run needs from its caller.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Clock          clock.Clock
	// DBPath is the database used when --db is not given.
	DBPath string
	// Author is whom writes are attributed to when --by is not given.
	Author string
	// Loc is the time zone times are shown in (UTC if nil).
	Loc *time.Location
	// Policy is the status-update policy for the clocks `show` prints.
	Policy incident.UpdatePolicy
	// Charts renders the panel charts for a markdown export (optional).
	Charts func(ctx context.Context, inc incident.Incident) ([]incident.Chart, error)
	// Extras gathers metric windows, runbooks and alert history for a bundle export
	// (optional).
	// The timeline is the incident's whole timeline, oldest first.
	Extras func(ctx context.Context, inc incident.Incident, timeline []incident.Entry) (bundle.Extras, error)
}

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

const usage = `usage: opscockpit incident <command> [flags]

commands (each takes --db FILE, created if new, and --by NAME):
  list [--json] [--open]                       incidents, newest first
  declare --title T --severity SEV1-4 [--service S]...   prints the new id
  show ID [--json] [--entries N]               state, clocks and recent timeline
  note ID TEXT                                 add a note
  decide ID TEXT --because TEXT                record a decision and why
  status ID investigating|identified|mitigated|resolved [--reason R]
  reopen ID --reason R                         reopen a resolved incident
  role ID commander|ops|comms|scribe NAME      assign a role ("" unassigns)
  action ID --owner O [--due YYYY-MM-DD] TITLE    add a postmortem action item (prints its id)
  milestone ID started|detected|acknowledged|declared|mitigated|resolved TIME --reason WHY
                                               set a milestone by hand (TIME: RFC 3339 or "YYYY-MM-DD HH:MM")
  export ID --format markdown|bundle --out FILE
`

// usageError is a mistake in the command line: exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

type command struct {
	env  Env
	fs   *flag.FlagSet
	db   *string
	by   *string
	args []string
}

// Run runs one incident command; args start with the command name. It returns the
// process exit code: 0 ok, 1 failure (one line on stderr), 2 usage.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Stdout == nil {
		env.Stdout = io.Discard
	}
	if env.Stderr == nil {
		env.Stderr = io.Discard
	}
	if env.Clock == nil {
		env.Clock = clock.Real{}
	}
	if env.Loc == nil {
		env.Loc = time.UTC
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(env.Stderr, usage)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	run, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "opscockpit incident: unknown command %q\n%s", args[0], usage)
		return ExitUsage
	}
	c := &command{env: env, fs: flag.NewFlagSet("opscockpit incident "+args[0], flag.ContinueOnError)}
	c.fs.SetOutput(io.Discard)
	c.db = c.fs.String("db", env.DBPath, "incident database `file` (created if new)")
	c.by = c.fs.String("by", env.Author, "author `name` recorded with each write")
	err := run(ctx, c, args[1:])
	var ue usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		c.fs.SetOutput(env.Stderr)
		c.fs.PrintDefaults()
		return ExitOK
	case errors.As(err, &ue):
		fmt.Fprintf(env.Stderr, "opscockpit incident %s: %s\n(run `opscockpit incident help` for usage)\n", args[0], oneLine(ue.msg))
		return ExitUsage
	default:
		fmt.Fprintf(env.Stderr, "opscockpit incident %s: %s\n", args[0], oneLine(err.Error()))
		return ExitFailure
	}
}

var commands map[string]func(context.Context, *command, []string) error

func init() {
	commands = map[string]func(context.Context, *command, []string) error{
		"list": cmdList, "declare": cmdDeclare, "show": cmdShow, "note": cmdNote, "decide": cmdDecide,
		"status": cmdStatus, "reopen": cmdReopen, "role": cmdRole, "export": cmdExport, "action": cmdAction,
		"milestone": cmdMilestone,
	}
}

// parse parses flags wherever they appear among the positionals (the standard flag
// package stops at the first positional) and checks the positional count.
func (c *command) parse(args []string, minPos, maxPos int) error {
	var pos []string
	for {
		if err := c.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usageError{err.Error()}
		}
		rest := c.fs.Args()
		if len(rest) == 0 {
			break
		}
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			pos = append(pos, rest...) // everything after -- is positional
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	if len(pos) < minPos || (maxPos >= 0 && len(pos) > maxPos) {
		return usagef("wrong number of arguments (%d)", len(pos))
	}
	if *c.db == "" {
		return usagef("no database: pass --db FILE")
	}
	c.args = pos
	return nil
}

func (c *command) open(ctx context.Context) (*incsqlite.Store, error) {
	return incsqlite.Open(ctx, *c.db)
}

func (c *command) id(i int) (int64, error) {
	s := strings.TrimPrefix(strings.ToUpper(c.args[i]), "INC-")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("incident id %q: want a number such as 12 or INC-12", c.args[i])
	}
	return id, nil
}

// withIncident parses ID-first commands and opens the store.
func (c *command) withIncident(ctx context.Context, args []string, minPos, maxPos int, fn func(s *incsqlite.Store, id int64) error) error {
	if err := c.parse(args, minPos, maxPos); err != nil {
		return err
	}
	id, err := c.id(0)
	if err != nil {
		return err
	}
	s, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s, id)
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func cmdDeclare(ctx context.Context, c *command, args []string) error {
	title := c.fs.String("title", "", "incident `title`")
	sev := c.fs.String("severity", "", "SEV1, SEV2, SEV3 or SEV4")
	var services stringList
	c.fs.Var(&services, "service", "affected `service` (repeatable)")
	if err := c.parse(args, 0, 0); err != nil {
		return err
	}
	if strings.TrimSpace(*title) == "" {
		return usagef("--title is required")
	}
	severity, err := incident.ParseSeverity(*sev)
	if err != nil {
		return usageError{err.Error()}
	}
	s, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	inc, err := s.Declare(ctx, incident.Declaration{Title: *title, Severity: severity, Services: services, By: *c.by, At: c.env.Clock.Now()})
	if err != nil {
		return err
	}
	fmt.Fprintln(c.env.Stdout, inc.ID)
	return nil
}

func cmdNote(ctx context.Context, c *command, args []string) error {
	return c.withIncident(ctx, args, 2, -1, func(s *incsqlite.Store, id int64) error {
		_, err := s.Note(ctx, id, strings.Join(c.args[1:], " "), *c.by, c.env.Clock.Now())
		return err
	})
}

func cmdDecide(ctx context.Context, c *command, args []string) error {
	because := c.fs.String("because", "", "why the decision was taken (required)")
	return c.withIncident(ctx, args, 2, -1, func(s *incsqlite.Store, id int64) error {
		if strings.TrimSpace(*because) == "" {
			return usagef("--because is required: a decision is recorded with its reason")
		}
		_, err := s.Decide(ctx, id, strings.Join(c.args[1:], " "), *because, *c.by, c.env.Clock.Now())
		return err
	})
}

func cmdStatus(ctx context.Context, c *command, args []string) error {
	reason := c.fs.String("reason", "", "why (optional)")
	return c.withIncident(ctx, args, 2, 2, func(s *incsqlite.Store, id int64) error {
		st, err := incident.ParseStatus(c.args[1])
		if err != nil {
			return usageError{err.Error()}
		}
		_, err = s.SetStatus(ctx, id, st, *reason, *c.by, c.env.Clock.Now())
		return err
	})
}

func cmdReopen(ctx context.Context, c *command, args []string) error {
	reason := c.fs.String("reason", "", "why the incident is reopened (required)")
	return c.withIncident(ctx, args, 1, 1, func(s *incsqlite.Store, id int64) error {
		if strings.TrimSpace(*reason) == "" {
			return usagef("--reason is required")
		}
		_, err := s.Reopen(ctx, id, *reason, *c.by, c.env.Clock.Now())
		return err
	})
}

func cmdRole(ctx context.Context, c *command, args []string) error {
	return c.withIncident(ctx, args, 3, -1, func(s *incsqlite.Store, id int64) error {
		r, err := incident.ParseRole(c.args[1])
		if err != nil {
			return usageError{err.Error()}
		}
		_, err = s.SetRole(ctx, id, r, strings.Join(c.args[2:], " "), *c.by, c.env.Clock.Now())
		return err
	})
}

func cmdList(ctx context.Context, c *command, args []string) error {
	asJSON := c.fs.Bool("json", false, "print JSON")
	openOnly := c.fs.Bool("open", false, "only unresolved incidents")
	if err := c.parse(args, 0, 0); err != nil {
		return err
	}
	s, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	incs, err := s.List(ctx, incsqlite.ListQuery{OpenOnly: *openOnly})
	if err != nil {
		return err
	}
	if *asJSON {
		type row struct {
			incident.Incident
			Durations incident.Durations
		}
		out := make([]row, 0, len(incs))
		for _, inc := range incs {
			out = append(out, row{inc, inc.Milestones.Durations()})
		}
		return writeJSON(c.env.Stdout, out)
	}
	tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEV\tSTATUS\tDECLARED\tTTA\tTTM\tTTR\tTITLE")
	for _, inc := range incs {
		d := inc.Milestones.Durations()
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", inc.ID, inc.Severity, inc.Status, c.ts(inc.DeclaredAt()),
			d.TimeToAcknowledge, d.TimeToMitigate, d.TimeToResolve, oneLine(inc.Title))
	}
	return tw.Flush()
}

func (c *command) ts(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(c.env.Loc).Format("2006-01-02 15:04:05")
}

func cmdShow(ctx context.Context, c *command, args []string) error {
	asJSON := c.fs.Bool("json", false, "print JSON")
	n := c.fs.Int("entries", 20, "how many of the newest timeline entries to show (0: all)")
	return c.withIncident(ctx, args, 1, 1, func(s *incsqlite.Store, id int64) error {
		inc, err := s.Get(ctx, id)
		if err != nil {
			return err
		}
		limit := *n
		if limit <= 0 {
			limit = incident.MaxPageSize
		}
		page, err := s.Timeline(ctx, id, incident.TimelineQuery{Desc: true, Limit: limit})
		if err != nil {
			return err
		}
		entries := page.Entries
		for i, j := 0, len(entries)-1; i < j; i, j = i+1, j-1 { // oldest first to read
			entries[i], entries[j] = entries[j], entries[i]
		}
		actions, err := s.Actions(ctx, id)
		if err != nil {
			return err
		}
		now := c.env.Clock.Now()
		clocks := incident.Clocks(inc, c.env.Policy, now)
		if *asJSON {
			return writeJSON(c.env.Stdout, struct {
				Incident        incident.Incident
				Durations       incident.Durations
				Clocks          incident.ClockState
				Timeline        []incident.Entry
				TimelineTotal   int
				Actions         []incident.ActionItem
				SeverityMeaning string
			}{inc, inc.Milestones.Durations(), clocks, entries, page.Total, actions, inc.Severity.Meaning()})
		}
		w := c.env.Stdout
		fmt.Fprintf(w, "%s  %s  %s  %s\n", inc.Ref(), inc.Severity, inc.Status, oneLine(inc.Title))
		fmt.Fprintf(w, "Severity:  %s\n", inc.Severity.Meaning())
		if len(inc.Services) > 0 {
			fmt.Fprintf(w, "Services:  %s\n", strings.Join(inc.Services, ", "))
		}
		fmt.Fprintf(w, "Declared:  %s by %s\n", c.ts(inc.DeclaredAt()), orDash(inc.DeclaredBy))
		for _, r := range incident.Roles {
			fmt.Fprintf(w, "%-20s %s\n", r.Title()+":", orDash(inc.Roles[r]))
		}
		fmt.Fprintln(w, "Milestones:")
		for _, k := range incident.MilestoneKinds {
			if m, ok := inc.Milestones[k]; ok {
				src := ""
				if m.Manual {
					src = fmt.Sprintf("  (set by %s: %s)", orDash(m.By), oneLine(m.Reason))
				}
				fmt.Fprintf(w, "  %-13s %s%s\n", k, c.ts(m.At), src)
			}
		}
		d := inc.Milestones.Durations()
		fmt.Fprintf(w, "Durations: detect %s, acknowledge %s, declare %s, mitigate %s, resolve %s\n",
			d.TimeToDetect, d.TimeToAcknowledge, d.TimeToDeclare, d.TimeToMitigate, d.TimeToResolve)
		fmt.Fprintf(w, "Clock:     %s since detection, %s since declaration", incident.FormatDuration(clocks.SinceDetection), incident.FormatDuration(clocks.SinceDeclaration))
		switch clocks.Update {
		case incident.UpdateOff:
			fmt.Fprintln(w)
		case incident.UpdateRed:
			fmt.Fprintf(w, "; status update OVERDUE by %s\n", incident.FormatDuration(-clocks.UpdateIn))
		default:
			fmt.Fprintf(w, "; next status update in %s (%s)\n", incident.FormatDuration(clocks.UpdateIn), clocks.Update)
		}
		fmt.Fprintf(w, "Timeline (%d of %d):\n", len(entries), page.Total)
		for _, e := range entries {
			mark := ""
			if e.CorrectedBy != 0 {
				mark = fmt.Sprintf(" [corrected by #%d]", e.CorrectedBy)
			}
			fmt.Fprintf(w, "  %s  #%-5d %-18s %-10s %s%s\n", c.ts(e.At), e.ID, e.Kind, orDash(e.Author), oneLine(e.Text), mark)
		}
		if len(actions) > 0 {
			fmt.Fprintln(w, "Action items:")
			for _, a := range actions {
				fmt.Fprintf(w, "  #%d %s (owner %s, due %s)\n", a.ID, oneLine(a.Title), orDash(a.Owner), c.ts(a.Due))
			}
		}
		return nil
	})
}

func cmdExport(ctx context.Context, c *command, args []string) error {
	format := c.fs.String("format", "", "markdown (postmortem draft) or bundle (black-box file)")
	out := c.fs.String("out", "", "output `file`")
	return c.withIncident(ctx, args, 1, 1, func(s *incsqlite.Store, id int64) error {
		if *out == "" {
			return usagef("--out FILE is required")
		}
		if *format != "markdown" && *format != "bundle" {
			return usagef("--format must be markdown or bundle, not %q", *format)
		}
		inc, err := s.Get(ctx, id)
		if err != nil {
			return err
		}
		now := c.env.Clock.Now()
		if *format == "bundle" {
			var ex bundle.Extras
			if c.env.Extras != nil {
				tl, err := s.AllTimeline(ctx, id)
				if err != nil {
					return err
				}
				if ex, err = c.env.Extras(ctx, inc, tl); err != nil {
					return fmt.Errorf("gather bundle extras: %w", err)
				}
			}
			if err := bundle.Export(ctx, s, id, ex, *out, *c.by, now); err != nil {
				return err
			}
			fmt.Fprintln(c.env.Stdout, *out)
			return nil
		}
		entries, err := s.AllTimeline(ctx, id)
		if err != nil {
			return err
		}
		actions, err := s.Actions(ctx, id)
		if err != nil {
			return err
		}
		var charts []incident.Chart
		if c.env.Charts != nil {
			if charts, err = c.env.Charts(ctx, inc); err != nil {
				return fmt.Errorf("render charts: %w", err)
			}
		}
		files, err := incident.WritePostmortem(*out, incident.PostmortemInput{
			Incident: inc, Timeline: entries, Actions: actions, Charts: charts, GeneratedAt: now, Loc: c.env.Loc,
		})
		if err != nil {
			return err
		}
		for _, f := range files {
			fmt.Fprintln(c.env.Stdout, f)
		}
		return nil
	})
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

func cmdAction(ctx context.Context, c *command, args []string) error {
	owner := c.fs.String("owner", "", "who does it (required)")
	due := c.fs.String("due", "", "due date YYYY-MM-DD")
	return c.withIncident(ctx, args, 2, -1, func(s *incsqlite.Store, id int64) error {
		if strings.TrimSpace(*owner) == "" {
			return usagef("--owner is required: an action item nobody owns does not get done")
		}
		a := incident.ActionItem{Title: strings.Join(c.args[1:], " "), Owner: *owner, CreatedAt: c.env.Clock.Now(), CreatedBy: *c.by}
		if *due != "" {
			d, err := time.ParseInLocation("2006-01-02", *due, time.UTC)
			if err != nil {
				return usagef("--due %q: want YYYY-MM-DD", *due)
			}
			a.Due = d
		}
		a, err := s.AddAction(ctx, id, a)
		if err != nil {
			return err
		}
		fmt.Fprintln(c.env.Stdout, a.ID)
		return nil
	})
}

func cmdMilestone(ctx context.Context, c *command, args []string) error {
	reason := c.fs.String("reason", "", "why the time is set by hand (required)")
	return c.withIncident(ctx, args, 3, 4, func(s *incsqlite.Store, id int64) error {
		k, err := incident.ParseMilestone(c.args[1])
		if err != nil {
			return usageError{err.Error()}
		}
		when := strings.Join(c.args[2:], " ")
		loc := c.env.Loc
		if loc == nil {
			loc = time.UTC
		}
		at, err := time.Parse(time.RFC3339, when)
		if err != nil {
			if at, err = time.ParseInLocation("2006-01-02 15:04", when, loc); err != nil {
				return usagef("time %q: want RFC 3339 (2026-12-07T14:02:00Z) or \"YYYY-MM-DD HH:MM\"", when)
			}
		}
		if strings.TrimSpace(*reason) == "" {
			return usagef("--reason is required: a milestone set by hand says why")
		}
		_, err = s.SetMilestone(ctx, id, k, at, *reason, *c.by, c.env.Clock.Now())
		return err
	})
}
