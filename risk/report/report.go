// Package report writes the risk review pack for an escalation review: a markdown
// report (top risks, what changed since a date from the audit trail, escalations,
// proposals, overdue actions, materialised risks), the heat map as a PNG and CSVs
// of risks, actions and escalations, all into one directory.
package report

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/opscockpit/opscockpit/risk"
)

// Source is what the review pack reads; *sqlite.Store satisfies it.
type Source interface {
	All(ctx context.Context, f risk.Filter) ([]risk.Risk, error)
	HeatMap(ctx context.Context, f risk.Filter) (risk.HeatMap, error)
	Audit(ctx context.Context, q risk.AuditQuery) ([]risk.AuditEntry, error)
	Escalations(ctx context.Context, riskID int64) ([]risk.Escalation, error)
	Actions(ctx context.Context, riskID int64) ([]risk.Action, error)
	MaterialisationsSince(ctx context.Context, since time.Time) ([]risk.Materialisation, error)
	Proposals(ctx context.Context) ([]risk.Proposal, error)
}

// Options shape the pack.
type Options struct {
	// Since is the previous review: changes, escalations and materialisations from
	// then on are listed.
	Since time.Time
	// Now stamps the pack (from the injected clock).
	Now    time.Time
	Matrix risk.Matrix
	// Top is how many risks the top-risks table lists (default 10).
	Top int
	// MaxChanges caps the change log rows (default 500); the CSVs are complete.
	MaxChanges int
}

// File names inside the pack directory.
const (
	ReportFile      = "review.md"
	HeatMapFile     = "heatmap.png"
	RisksFile       = "risks.csv"
	ActionsFile     = "actions.csv"
	EscalationsFile = "escalations.csv"
)

// Write creates dir (mode 0700) if needed and writes the pack into it, each file
// written whole to a temporary name and renamed, mode 0600. It returns the paths.
func Write(ctx context.Context, dir string, src Source, o Options) ([]string, error) {
	if o.Top <= 0 {
		o.Top = 10
	}
	if o.MaxChanges <= 0 {
		o.MaxChanges = 500
	}
	if len(o.Matrix.Levels) == 0 {
		o.Matrix = risk.DefaultMatrix()
	}
	d, err := gather(ctx, src, o)
	if err != nil {
		return nil, fmt.Errorf("review pack: %w", err)
	}
	files := map[string]*bytes.Buffer{}
	for _, name := range []string{ReportFile, HeatMapFile, RisksFile, ActionsFile, EscalationsFile} {
		files[name] = &bytes.Buffer{}
	}
	if err := RenderHeatMap(files[HeatMapFile], d.heat, o.Matrix); err != nil {
		return nil, fmt.Errorf("review pack: %w", err)
	}
	if err := risk.WriteCSV(files[RisksFile], o.Matrix, d.risks); err != nil {
		return nil, fmt.Errorf("review pack: %w", err)
	}
	if err := risk.WriteActionsCSV(files[ActionsFile], d.actions, o.Now); err != nil {
		return nil, fmt.Errorf("review pack: %w", err)
	}
	if err := risk.WriteEscalationsCSV(files[EscalationsFile], d.escalations); err != nil {
		return nil, fmt.Errorf("review pack: %w", err)
	}
	writeMarkdown(files[ReportFile], d, o)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("review pack: %w", err)
	}
	var paths []string
	for _, name := range []string{ReportFile, HeatMapFile, RisksFile, ActionsFile, EscalationsFile} {
		p := filepath.Join(dir, name)
		if err := writeFile(p, files[name].Bytes()); err != nil {
			return nil, fmt.Errorf("review pack: %w", err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

type data struct {
	risks       []risk.Risk
	byID        map[int64]risk.Risk
	heat        risk.HeatMap
	changes     []risk.AuditEntry
	escalations []risk.Escalation
	newEsc      []risk.Escalation
	actions     []risk.Action
	overdue     []risk.Action
	mats        []risk.Materialisation
	proposals   []risk.Proposal
}

func gather(ctx context.Context, src Source, o Options) (*data, error) {
	d := &data{byID: map[int64]risk.Risk{}}
	var err error
	if d.risks, err = src.All(ctx, risk.Filter{}); err != nil {
		return nil, err
	}
	for _, r := range d.risks {
		d.byID[r.ID] = r
	}
	open := risk.Filter{Status: []risk.Status{risk.StatusOpen, risk.StatusMitigating, risk.StatusAccepted}}
	if d.heat, err = src.HeatMap(ctx, open); err != nil {
		return nil, err
	}
	if d.changes, err = src.Audit(ctx, risk.AuditQuery{Since: o.Since}); err != nil {
		return nil, err
	}
	if d.escalations, err = src.Escalations(ctx, 0); err != nil {
		return nil, err
	}
	for _, e := range d.escalations {
		if !e.At.Before(o.Since) {
			d.newEsc = append(d.newEsc, e)
		}
	}
	if d.actions, err = src.Actions(ctx, 0); err != nil {
		return nil, err
	}
	for _, a := range d.actions {
		if a.Overdue(o.Now) {
			d.overdue = append(d.overdue, a)
		}
	}
	if d.mats, err = src.MaterialisationsSince(ctx, o.Since); err != nil {
		return nil, err
	}
	if d.proposals, err = src.Proposals(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// cell makes text safe inside a markdown table cell.
func cell(s string) string {
	s = strings.NewReplacer("|", `\|`, "\r\n", " ", "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;").Replace(s)
	if r := []rune(s); len(r) > 120 {
		s = string(r[:119]) + "…"
	}
	return s
}

func (d *data) title(id int64) string {
	if r, ok := d.byID[id]; ok {
		return cell(r.Title)
	}
	return "?"
}

func writeMarkdown(b *bytes.Buffer, d *data, o Options) {
	m := o.Matrix
	day := func(t time.Time) string { return risk.FormatDate(t) }
	stamp := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
	fmt.Fprintf(b, "# Risk review pack — %s\n\n", day(o.Now))
	fmt.Fprintf(b, "Generated %s. Changes since %s.\n\n", stamp(o.Now), day(o.Since))

	var open, mat, late int
	for _, r := range d.risks {
		if r.Status != risk.StatusClosed {
			open++
		}
		if r.Materialising {
			mat++
		}
		if r.Overdue(o.Now) {
			late++
		}
	}
	b.WriteString("## Summary\n\n")
	fmt.Fprintf(b, "- %d risks in the register, %d not closed\n", len(d.risks), open)
	fmt.Fprintf(b, "- %d materialising now (a linked alert is firing), %d materialisation events since %s\n", mat, len(d.mats), day(o.Since))
	fmt.Fprintf(b, "- %d risks overdue (review, due date or action), %d overdue actions\n", late, len(d.overdue))
	fmt.Fprintf(b, "- %d escalations since %s, %d proposed by the rules and not yet confirmed\n", len(d.newEsc), day(o.Since), len(d.proposals))
	fmt.Fprintf(b, "- %d changes in the audit trail since %s\n\n", len(d.changes), day(o.Since))

	b.WriteString("## Heat map (open risks)\n\n![Heat map: inherent and residual](" + HeatMapFile + ")\n\n")
	b.WriteString("| level | inherent | residual |\n|---|---:|---:|\n")
	inh, res := d.heat.ByLevel(m, false), d.heat.ByLevel(m, true)
	for i := len(m.Levels) - 1; i >= 0; i-- {
		fmt.Fprintf(b, "| %s | %d | %d |\n", cell(m.Levels[i].Name), inh[i], res[i])
	}
	b.WriteString("\n")

	top := slices.Clone(d.risks)
	top = slices.DeleteFunc(top, func(r risk.Risk) bool { return r.Status == risk.StatusClosed })
	slices.SortStableFunc(top, func(a, b risk.Risk) int {
		return cmp.Or(
			cmp.Compare(b.ResidualLevel(m).Rank, a.ResidualLevel(m).Rank),
			cmp.Compare(b.ResidualScore(), a.ResidualScore()),
			cmp.Compare(b.Score(), a.Score()),
			cmp.Compare(a.ID, b.ID))
	})
	top = top[:min(len(top), o.Top)]
	fmt.Fprintf(b, "## Top %d risks (by residual level)\n\n", len(top))
	if len(top) == 0 {
		b.WriteString("No open risks.\n\n")
	} else {
		b.WriteString("| id | title | owner | service | inherent | residual | status | escalation | next review | flags |\n|---:|---|---|---|---|---|---|---|---|---|\n")
		for _, r := range top {
			var flags []string
			if r.Materialising {
				flags = append(flags, "MATERIALISING")
			}
			if r.ReviewOverdue(o.Now) {
				flags = append(flags, "review overdue")
			}
			if r.OverdueActions > 0 {
				flags = append(flags, fmt.Sprintf("%d action(s) overdue", r.OverdueActions))
			}
			fmt.Fprintf(b, "| %d | %s | %s | %s | %s (%d) | %s (%d) | %s | %s | %s | %s |\n",
				r.ID, cell(r.Title), cell(r.Owner), cell(r.Service), cell(r.Level(m).Name), r.Score(),
				cell(r.ResidualLevel(m).Name), r.ResidualScore(), r.Status, cell(r.Escalation), day(r.NextReview), strings.Join(flags, ", "))
		}
		b.WriteString("\n")
	}

	fmt.Fprintf(b, "## Escalations since %s\n\n", day(o.Since))
	if len(d.newEsc) == 0 {
		b.WriteString("None.\n\n")
	} else {
		b.WriteString("| when | risk | from | to | by | rule | note |\n|---|---|---|---|---|---|---|\n")
		for _, e := range d.newEsc {
			fmt.Fprintf(b, "| %s | %d %s | %s | %s | %s | %s | %s |\n", stamp(e.At), e.RiskID, d.title(e.RiskID),
				cell(e.From), cell(e.To), cell(e.By), cell(e.Rule), cell(e.Note))
		}
		b.WriteString("\n")
	}

	b.WriteString("## Proposed escalations (to confirm)\n\n")
	if len(d.proposals) == 0 {
		b.WriteString("None.\n\n")
	} else {
		b.WriteString("| risk | from | to | because |\n|---|---|---|---|\n")
		for _, p := range d.proposals {
			fmt.Fprintf(b, "| %d %s | %s | %s | %s |\n", p.RiskID, cell(p.Title), cell(p.From), cell(p.To), cell(p.Reason()))
		}
		b.WriteString("\n")
	}

	fmt.Fprintf(b, "## Materialised since %s\n\n", day(o.Since))
	if len(d.mats) == 0 {
		b.WriteString("No linked alert fired.\n\n")
	} else {
		b.WriteString("| first seen | risk | alert | started | fingerprint |\n|---|---|---|---|---|\n")
		for _, e := range d.mats {
			fmt.Fprintf(b, "| %s | %d %s | %s | %s | `%s` |\n", stamp(e.Seen), e.RiskID, d.title(e.RiskID), cell(e.AlertName), stamp(e.StartsAt), cell(e.Fingerprint))
		}
		b.WriteString("\n")
	}

	b.WriteString("## Overdue actions\n\n")
	if len(d.overdue) == 0 {
		b.WriteString("None.\n\n")
	} else {
		b.WriteString("| due | risk | action | owner | status |\n|---|---|---|---|---|\n")
		for _, a := range d.overdue {
			fmt.Fprintf(b, "| %s | %d %s | %s | %s | %s |\n", day(a.Due), a.RiskID, d.title(a.RiskID), cell(a.Title), cell(a.Owner), a.Status)
		}
		b.WriteString("\n")
	}

	fmt.Fprintf(b, "## What changed since %s (audit trail)\n\n", day(o.Since))
	if len(d.changes) == 0 {
		b.WriteString("No changes.\n")
	} else {
		b.WriteString("| # | when | who | risk | what | old | new |\n|---:|---|---|---|---|---|---|\n")
		for i, e := range d.changes {
			if i == o.MaxChanges {
				fmt.Fprintf(b, "\n… and %d more changes (the audit trail holds them all).\n", len(d.changes)-i)
				break
			}
			what := e.Field
			if e.Entity != "risk" {
				what = e.Entity + " " + e.Field
			}
			old, nu := e.Old, e.New
			if e.Field == "created" && e.Entity == "risk" {
				nu = "(new risk)"
			}
			fmt.Fprintf(b, "| %d | %s | %s | %d %s | %s | %s | %s |\n", e.Seq, stamp(e.At), cell(e.Actor), e.RiskID, d.title(e.RiskID),
				cell(what), cell(old), cell(nu))
		}
	}
}
