// Package riskcli is `opscockpit risk …`: the risk register from the command line
// (list, show, add, update, escalate, import, export, backup, verify, review-pack).
// It holds the logic only; cmd/opscockpit wires it to os.Args and the config.
package riskcli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/risk"
	"github.com/opscockpit/opscockpit/risk/report"
	"github.com/opscockpit/opscockpit/risk/sqlite"
)

// Env is everything Run needs from outside; zero fields take defaults.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Clock stamps changes and is "now" for overdue checks (default clock.Real{}).
	Clock clock.Clock
	// DBPath is the database when --db is not given.
	DBPath string
	Matrix risk.Matrix
	// Policy holds the escalation levels and rules.
	Policy risk.Policy
	// Actor is who the audit trail names (the OS user).
	Actor string
	// BackupDir is where automatic backups live (default "backups" beside the db).
	BackupDir string
}

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// Usage is the command summary printed for `risk help` and usage errors.
const Usage = `usage: risk <command> [flags]

commands:
  list        [--status S,S] [--level L,L] [--residual] [--owner O] [--service S] [--overdue]
              [--materialising] [--q TEXT] [--sort FIELD] [--desc] [--limit N] [--offset N] [--json]
  show        ID [--json]                       risk with actions, reviews, escalations, audit
  add         --title T --owner O --likelihood N --impact N [--description D] [--category C]
              [--service S] [--residual-likelihood N] [--residual-impact N] [--treatment T]
              [--treatment-rationale R] [--status S] [--due DATE] [--next-review DATE] [--tags a;b] [--json]
  update      ID [--FIELD VALUE ...] [--json]   same fields as add
  escalate    ID --to LEVEL --note TEXT [--rule NAME]
  import      FILE [--skip-bad]                 CSV with a header row ("-" reads stdin)
  export      [--format csv|json] [--out FILE]  to stdout unless --out
  backup      --out FILE                        consistent copy (VACUUM INTO), checked
  verify                                        integrity check and audit hash chain
  review-pack --since YYYY-MM-DD --out DIR      markdown + heat map PNG + CSVs
  action      ID --title T --owner O [--due DATE]   add a mitigation action (prints its ID)
  action      ACTION_ID --set-status open|in_progress|done|cancelled
  review      ID --reviewers a,b --decision TEXT [--notes N] [--next-review DATE] [--date DATE]
  link        ID MATCHERS | link --remove LINK_ID    alerts that mean the risk is materialising
  restore     [--from FILE]                     replace a damaged register by its newest backup

every command takes --db FILE (created if new). Exit codes: 0 ok, 1 failure, 2 usage.
`

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

type command struct {
	env   Env
	store *sqlite.Store
	fs    *flag.FlagSet
	db    *string
}

// Run executes one risk subcommand; args start with the subcommand name.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	if env.Stdout == nil {
		env.Stdout = io.Discard
	}
	if env.Stderr == nil {
		env.Stderr = io.Discard
	}
	if env.Clock == nil {
		env.Clock = clock.Real{}
	}
	if len(env.Matrix.Levels) == 0 {
		env.Matrix = risk.DefaultMatrix()
	}
	if len(env.Policy.Levels) == 0 {
		env.Policy = risk.DefaultPolicy()
	}
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, Usage)
		return ExitUsage
	}
	name, rest := args[0], args[1:]
	run, ok := map[string]func(*command, []string) error{
		"list": (*command).list, "show": (*command).show, "add": (*command).add, "update": (*command).update,
		"escalate": (*command).escalate, "import": (*command).importCSV, "export": (*command).export,
		"backup": (*command).backup, "verify": (*command).verify, "review-pack": (*command).reviewPack,
		"action": (*command).action, "review": (*command).review, "link": (*command).link, "restore": (*command).restore,
	}[name]
	if name == "help" || name == "-h" || name == "--help" {
		fmt.Fprint(env.Stdout, Usage)
		return ExitOK
	}
	if !ok {
		fmt.Fprintf(env.Stderr, "risk: unknown command %q\n%s", name, Usage)
		return ExitUsage
	}
	c := &command{env: env, fs: flag.NewFlagSet("risk "+name, flag.ContinueOnError)}
	c.fs.SetOutput(io.Discard)
	c.db = c.fs.String("db", env.DBPath, "risk register database `file`")
	err := run(c, rest)
	if c.store != nil {
		if cerr := c.store.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}
	var ue usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue), errors.Is(err, flag.ErrHelp):
		fmt.Fprintf(env.Stderr, "risk %s: %v\n%s", name, err, Usage)
		return ExitUsage
	default:
		fmt.Fprintf(env.Stderr, "risk %s: %s\n", name, oneLine(err.Error()))
		return ExitFailure
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// parse parses flags wherever they appear among the positional arguments.
func (c *command) parse(args []string, maxPos int) ([]string, error) {
	var pos []string
	for {
		if err := c.fs.Parse(args); err != nil {
			return nil, usageError{err.Error()}
		}
		args = c.fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) > maxPos {
		return nil, usagef("unexpected argument %q", pos[maxPos])
	}
	return pos, nil
}

func (c *command) open(ctx context.Context) error {
	if *c.db == "" {
		return usagef("no database: pass --db FILE")
	}
	s, err := sqlite.Open(ctx, *c.db, sqlite.Options{Clock: c.env.Clock, Matrix: c.env.Matrix, Policy: c.env.Policy,
		Actor: c.env.Actor, BackupDir: c.env.BackupDir})
	if err != nil {
		return err
	}
	c.store = s
	return nil
}

func (c *command) out(v any) error {
	enc := json.NewEncoder(c.env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// riskArg parses a command's flags and its one positional argument, a risk ID.
func (c *command) riskArg(args []string) (int64, error) {
	pos, err := c.parse(args, 1)
	if err != nil {
		return 0, err
	}
	return parseID(pos)
}

// openRisk is riskArg, then the register opened.
func (c *command) openRisk(args []string) (context.Context, int64, error) {
	id, err := c.riskArg(args)
	if err != nil {
		return nil, 0, err
	}
	ctx := context.Background()
	return ctx, id, c.open(ctx)
}

func parseID(pos []string) (int64, error) {
	if len(pos) != 1 {
		return 0, usagef("want a risk ID")
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("risk ID %q is not a positive number", pos[0])
	}
	return id, nil
}

func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (c *command) list(args []string) error {
	fs := c.fs
	status := fs.String("status", "", "comma-separated statuses")
	level := fs.String("level", "", "comma-separated level names")
	residual := fs.Bool("residual", false, "--level filters the residual level")
	owner := fs.String("owner", "", "owner")
	service := fs.String("service", "", "service")
	overdue := fs.Bool("overdue", false, "only overdue risks")
	mat := fs.Bool("materialising", false, "only risks whose linked alerts fire")
	q := fs.String("q", "", "full-text search")
	sort := fs.String("sort", "", "sort field")
	desc := fs.Bool("desc", false, "descending")
	limit := fs.Int("limit", risk.DefaultLimit, "page size")
	offset := fs.Int("offset", 0, "rows to skip")
	asJSON := fs.Bool("json", false, "print a JSON array")
	if _, err := c.parse(args, 0); err != nil {
		return err
	}
	f := risk.Filter{Levels: splitList(*level), Residual: *residual, Owner: *owner, Service: *service, Overdue: *overdue,
		Materialising: *mat, Query: *q, Sort: risk.SortField(*sort), Desc: *desc, Limit: *limit, Offset: *offset}
	for _, s := range splitList(*status) {
		f.Status = append(f.Status, risk.Status(s))
	}
	if err := f.Validate(c.env.Matrix); err != nil {
		return usageError{err.Error()}
	}
	ctx := context.Background()
	if err := c.open(ctx); err != nil {
		return err
	}
	page, err := c.store.List(ctx, f)
	if err != nil {
		return err
	}
	if *asJSON {
		return c.out(page.Risks)
	}
	now := c.env.Clock.Now()
	tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLEVEL\tRESIDUAL\tSTATUS\tESCALATION\tOWNER\tSERVICE\tTITLE\tFLAGS")
	for _, r := range page.Risks {
		fmt.Fprintf(tw, "%d\t%s (%d)\t%s (%d)\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Level(c.env.Matrix).Name, r.Score(),
			r.ResidualLevel(c.env.Matrix).Name, r.ResidualScore(), r.Status, r.Escalation, r.Owner, r.Service, r.Title, flags(r, now))
	}
	tw.Flush()
	more := ""
	if page.Capped {
		more = "+"
	}
	fmt.Fprintf(c.env.Stdout, "%d of %d%s risks\n", len(page.Risks), page.Total, more)
	return nil
}

func flags(r risk.Risk, now time.Time) string {
	var f []string
	if r.Materialising {
		f = append(f, "MATERIALISING")
	}
	if r.ReviewOverdue(now) {
		f = append(f, "review-overdue")
	}
	if r.DueOverdue(now) {
		f = append(f, "due-overdue")
	}
	if r.OverdueActions > 0 {
		f = append(f, fmt.Sprintf("%d-actions-overdue", r.OverdueActions))
	}
	return strings.Join(f, ",")
}

func (c *command) show(args []string) error {
	asJSON := c.fs.Bool("json", false, "print JSON")
	ctx, id, err := c.openRisk(args)
	if err != nil {
		return err
	}
	d, err := c.store.Detail(ctx, id)
	if err != nil {
		return err
	}
	if *asJSON {
		return c.out(d)
	}
	w := c.env.Stdout
	m := c.env.Matrix
	r := d.Risk
	fmt.Fprintf(w, "Risk %d: %s\n", r.ID, r.Title)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "  %s\t%s\n", k, v)
		}
	}
	row("owner", r.Owner)
	row("service", r.Service)
	row("category", r.Category)
	row("inherent", fmt.Sprintf("%s (likelihood %d × impact %d = %d)", r.Level(m).Name, r.Likelihood, r.Impact, r.Score()))
	rl, ri := r.ResidualCell()
	row("residual", fmt.Sprintf("%s (likelihood %d × impact %d = %d)", r.ResidualLevel(m).Name, rl, ri, r.ResidualScore()))
	row("treatment", strings.TrimSpace(string(r.Treatment)+" "+r.TreatmentRationale))
	row("status", string(r.Status))
	row("escalation", r.Escalation)
	row("due", risk.FormatDate(r.Due))
	row("next review", risk.FormatDate(r.NextReview))
	row("tags", strings.Join(r.Tags, "; "))
	row("flags", flags(r, c.env.Clock.Now()))
	row("created", r.Created.UTC().Format(time.RFC3339)+" by "+r.CreatedBy)
	row("updated", r.Updated.UTC().Format(time.RFC3339)+" by "+r.UpdatedBy)
	tw.Flush()
	if r.Description != "" {
		fmt.Fprintf(w, "\n%s\n", r.Description)
	}
	section := func(title string, n int) bool {
		if n == 0 {
			return false
		}
		fmt.Fprintf(w, "\n%s:\n", title)
		return true
	}
	if section("Actions", len(d.Actions)) {
		for _, a := range d.Actions {
			fmt.Fprintf(w, "  #%d %s (owner %s, due %s, %s)\n", a.ID, a.Title, a.Owner, risk.FormatDate(a.Due), a.Status)
		}
	}
	if section("Reviews", len(d.Reviews)) {
		for _, rv := range d.Reviews {
			fmt.Fprintf(w, "  %s %s by %s: %s\n", risk.FormatDate(rv.Date), rv.Decision, strings.Join(rv.Reviewers, ", "), rv.Notes)
		}
	}
	if section("Escalations", len(d.Escalations)) {
		for _, e := range d.Escalations {
			fmt.Fprintf(w, "  %s %s → %s by %s: %s\n", e.At.UTC().Format(time.RFC3339), e.From, e.To, e.By, e.Note)
		}
	}
	if section("Alert links", len(d.Links)) {
		for _, l := range d.Links {
			fmt.Fprintf(w, "  #%d %s\n", l.ID, l.Matchers)
		}
	}
	if section("Materialised", len(d.Materialisations)) {
		for _, e := range d.Materialisations {
			fmt.Fprintf(w, "  %s %s (started %s)\n", e.Seen.UTC().Format(time.RFC3339), e.AlertName, e.StartsAt.UTC().Format(time.RFC3339))
		}
	}
	if section("Audit trail", len(d.Audit)) {
		for _, e := range d.Audit {
			fmt.Fprintf(w, "  %d %s %s %s %s: %q → %q\n", e.Seq, e.At.UTC().Format(time.RFC3339), e.Actor, e.Entity, e.Field, e.Old, e.New)
		}
	}
	return nil
}

// fieldFlags defines one string flag per editable field (dashes for underscores).
func (c *command) fieldFlags() map[string]*string {
	vals := map[string]*string{}
	for _, f := range risk.EditableFields {
		vals[f] = c.fs.String(strings.ReplaceAll(f, "_", "-"), "", f)
	}
	return vals
}

// setFields applies the field flags given on the command line to r.
func (c *command) setFields(r *risk.Risk, vals map[string]*string) (int, error) {
	n := 0
	var v risk.ValidationError
	c.fs.Visit(func(fl *flag.Flag) {
		field := strings.ReplaceAll(fl.Name, "-", "_")
		if p, ok := vals[field]; ok {
			n++
			if err := r.Set(field, *p); err != nil {
				v.Add(field, strings.TrimPrefix(err.Error(), field+": "))
			}
		}
	})
	return n, v.Err()
}

func (c *command) add(args []string) error {
	vals := c.fieldFlags()
	asJSON := c.fs.Bool("json", false, "print the new risk as JSON")
	if _, err := c.parse(args, 0); err != nil {
		return err
	}
	var r risk.Risk
	if _, err := c.setFields(&r, vals); err != nil {
		return err
	}
	ctx := context.Background()
	if err := c.open(ctx); err != nil {
		return err
	}
	r, err := c.store.Create(ctx, r)
	if err != nil {
		return err
	}
	if *asJSON {
		return c.out(r)
	}
	fmt.Fprintf(c.env.Stdout, "created risk %d (%s)\n", r.ID, r.Level(c.env.Matrix).Name)
	return nil
}

func (c *command) update(args []string) error {
	vals := c.fieldFlags()
	asJSON := c.fs.Bool("json", false, "print the risk as JSON")
	ctx, id, err := c.openRisk(args)
	if err != nil {
		return err
	}
	r, err := c.store.Get(ctx, id)
	if err != nil {
		return err
	}
	n, err := c.setFields(&r, vals)
	if err != nil {
		return err
	}
	if n == 0 {
		return usagef("nothing to update: pass --FIELD VALUE (fields: %s)", strings.Join(risk.EditableFields, ", "))
	}
	before := r.Rev
	if r, err = c.store.Update(ctx, r); err != nil {
		return err
	}
	if *asJSON {
		return c.out(r)
	}
	if r.Rev == before {
		fmt.Fprintf(c.env.Stdout, "risk %d unchanged\n", id)
	} else {
		fmt.Fprintf(c.env.Stdout, "updated risk %d (%s)\n", id, r.Level(c.env.Matrix).Name)
	}
	return nil
}

func (c *command) escalate(args []string) error {
	to := c.fs.String("to", "", "escalation level")
	note := c.fs.String("note", "", "why, who was told")
	rule := c.fs.String("rule", "", "the rule that proposed it, if any")
	id, err := c.riskArg(args)
	if err != nil {
		return err
	}
	if *to == "" || *note == "" {
		return usagef("--to LEVEL and --note TEXT are required (levels: %s)", strings.Join(c.env.Policy.Levels, ", "))
	}
	ctx := context.Background()
	if err := c.open(ctx); err != nil {
		return err
	}
	e, err := c.store.Escalate(ctx, id, *to, *note, *rule)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stdout, "risk %d escalated from %s to %s\n", id, e.From, e.To)
	return nil
}

func (c *command) importCSV(args []string) error {
	skip := c.fs.Bool("skip-bad", false, "import the good rows, report the bad")
	pos, err := c.parse(args, 1)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want the CSV file to import (- for stdin)")
	}
	in := c.env.Stdin
	if pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	rows, ierr := risk.ImportCSV(in, risk.ImportOptions{Matrix: c.env.Matrix, Levels: c.env.Policy.Levels, SkipBad: *skip})
	var ie *risk.ImportError
	if ierr != nil && !(errors.As(ierr, &ie) && ie.Skipped) {
		return ierr
	}
	ctx := context.Background()
	if err := c.open(ctx); err != nil {
		return err
	}
	risks := make([]risk.Risk, len(rows))
	for i, r := range rows {
		risks[i] = r.Risk
	}
	ids, err := c.store.Import(ctx, risks)
	if err != nil {
		return err
	}
	if ie != nil {
		for _, r := range ie.Rows {
			fmt.Fprintf(c.env.Stderr, "risk import: skipped %s\n", r.Error())
		}
	}
	fmt.Fprintf(c.env.Stdout, "imported %d risks\n", len(ids))
	return nil
}

func (c *command) export(args []string) error {
	format := c.fs.String("format", "csv", "csv or json")
	outPath := c.fs.String("out", "", "write to `file` instead of stdout")
	if _, err := c.parse(args, 0); err != nil {
		return err
	}
	if *format != "csv" && *format != "json" {
		return usagef("--format %q: want csv or json", *format)
	}
	ctx := context.Background()
	if err := c.open(ctx); err != nil {
		return err
	}
	risks, err := c.store.All(ctx, risk.Filter{})
	if err != nil {
		return err
	}
	write := func(w io.Writer) error {
		if *format == "json" {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			if risks == nil {
				risks = []risk.Risk{}
			}
			return enc.Encode(risks)
		}
		return risk.WriteCSV(w, c.env.Matrix, risks)
	}
	if *outPath == "" {
		return write(c.env.Stdout)
	}
	tmp := *outPath + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, *outPath); err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stderr, "exported %d risks to %s\n", len(risks), *outPath)
	return nil
}

func (c *command) backup(args []string) error {
	out := c.fs.String("out", "", "backup `file` (must not exist)")
	if _, err := c.parse(args, 0); err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out FILE is required")
	}
	ctx := context.Background()
	if err := c.open(ctx); err != nil {
		return err
	}
	if err := c.store.Backup(ctx, *out); err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stdout, "backed up to %s (integrity check ok)\n", *out)
	return nil
}

func (c *command) verify(args []string) error {
	if _, err := c.parse(args, 0); err != nil {
		return err
	}
	ctx := context.Background()
	if err := c.open(ctx); err != nil { // Open runs quick_check: a damaged file fails here
		return err
	}
	res, err := c.store.Verify(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stdout, "ok: database intact, audit trail of %d rows verifies (head %.16s)\n", res.Rows, res.HeadHash)
	return nil
}

func (c *command) reviewPack(args []string) error {
	sinceS := c.fs.String("since", "", "previous review date YYYY-MM-DD")
	out := c.fs.String("out", "", "output `dir`")
	top := c.fs.Int("top", 10, "risks in the top table")
	if _, err := c.parse(args, 0); err != nil {
		return err
	}
	if *sinceS == "" || *out == "" {
		return usagef("--since YYYY-MM-DD and --out DIR are required")
	}
	since, err := risk.ParseDate(*sinceS)
	if err != nil {
		return usagef("--since: %v", err)
	}
	ctx := context.Background()
	if err := c.open(ctx); err != nil {
		return err
	}
	paths, err := report.Write(ctx, *out, c.store, report.Options{Since: since, Now: c.env.Clock.Now(), Matrix: c.env.Matrix, Top: *top})
	if err != nil {
		return err
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	slices.Sort(names)
	fmt.Fprintf(c.env.Stdout, "review pack in %s: %s\n", *out, strings.Join(names, ", "))
	return nil
}
