package incident

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Chart is a rendered panel chart to include in a postmortem.
type Chart struct {
	Title string
	PNG   []byte
}

// PostmortemInput is everything a postmortem draft is written from.
type PostmortemInput struct {
	Incident Incident
	Timeline []Entry // the whole timeline, any order
	Actions  []ActionItem
	Charts   []Chart
	// GeneratedAt stamps the draft.
	GeneratedAt time.Time
	// Loc is the time zone times are written in (UTC if nil).
	Loc *time.Location
}

// Postmortem writes the postmortem draft as markdown. chartFiles are the file names
// (relative to the markdown) of in.Charts, in order; charts without a file are left
// out.
func Postmortem(in PostmortemInput, chartFiles []string) string {
	loc := in.Loc
	if loc == nil {
		loc = time.UTC
	}
	ts := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04:05 MST") }
	inc := in.Incident
	entries := slices.Clone(in.Timeline)
	slices.SortStableFunc(entries, func(a, b Entry) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	correctedBy := map[int64]Entry{}
	for _, e := range entries {
		if e.Kind == KindCorrection && e.Corrects != 0 {
			correctedBy[e.Corrects] = e
		}
	}
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }

	w("# Postmortem: %s %s\n\n", inc.Ref(), oneLine(inc.Title))
	w("_Draft generated %s. Severity %s (%s). Status: %s._\n\n", ts(in.GeneratedAt), inc.Severity, inc.Severity.Meaning(), inc.Status)

	w("## Summary\n\n")
	w("[Two or three sentences: what broke, why, how it was fixed.]\n\n")
	if len(inc.Services) > 0 {
		w("- **Affected services:** %s\n", oneLine(strings.Join(inc.Services, ", ")))
	}
	w("- **Declared by:** %s\n", orDash(inc.DeclaredBy))
	for _, r := range Roles {
		w("- **%s:** %s\n", r.Title(), orDash(inc.Roles[r]))
	}
	w("\n## Impact\n\n")
	origin, ok := inc.Milestones.Origin()
	if st, sok := inc.Milestones.At(MilestoneStarted); sok {
		origin, ok = st, true
	}
	if end, eok := inc.Milestones.At(MilestoneResolved); ok && eok && !end.Before(origin) {
		w("Impact window: %s to %s (%s).\n\n", ts(origin), ts(end), FormatDuration(end.Sub(origin)))
	} else if ok {
		w("Impact began by %s; no resolution recorded.\n\n", ts(origin))
	}
	lastImpact := ""
	for _, e := range entries {
		var u StatusUpdate
		if e.Kind == KindStatusUpdateSent && e.Decode(&u) == nil && !strings.HasPrefix(u.Impact, "[") {
			lastImpact = u.Impact
		}
	}
	if lastImpact != "" {
		w("Last customer impact statement sent: %s\n\n", oneLine(lastImpact))
	} else {
		w("[Who was affected and how.]\n\n")
	}

	w("## Milestones and durations\n\n| Milestone | Time | Source |\n|---|---|---|\n")
	for _, k := range MilestoneKinds {
		m, ok := inc.Milestones[k]
		if !ok || m.At.IsZero() {
			continue
		}
		src := "automatic"
		if m.Manual {
			src = "set by hand by " + orDash(m.By) + ": " + oneLine(m.Reason)
		}
		w("| %s | %s | %s |\n", k, ts(m.At), cell(src))
	}
	d := inc.Milestones.Durations()
	w("\n| Duration | Value |\n|---|---|\n")
	w("| Time to detect | %s |\n| Time to acknowledge | %s |\n| Time to declare | %s |\n| Time to mitigate | %s |\n| Time to resolve | %s |\n\n",
		d.TimeToDetect, d.TimeToAcknowledge, d.TimeToDeclare, d.TimeToMitigate, d.TimeToResolve)

	w("## Timeline\n\n")
	for _, e := range entries {
		text := oneLine(e.Text)
		if c, ok := correctedBy[e.ID]; ok {
			text = fmt.Sprintf("~~%s~~ (corrected by #%d)", text, c.ID)
		}
		if e.Kind == KindCorrection {
			text = fmt.Sprintf("correction of #%d: %s", e.Corrects, text)
		}
		w("- %s · #%d · `%s` · %s: %s\n", ts(e.At), e.ID, e.Kind, orDash(e.Author), text)
	}
	if len(entries) == 0 {
		w("_No entries._\n")
	}

	w("\n## Decisions\n\n")
	n := 0
	for _, e := range entries {
		if e.Kind != KindDecision {
			continue
		}
		var f DecisionFields
		_ = e.Decode(&f)
		w("- %s: **%s** because %s (%s)\n", ts(e.At), oneLine(e.Text), oneLine(orDash(f.Because)), orDash(e.Author))
		n++
	}
	if n == 0 {
		w("_None recorded._\n")
	}

	w("\n## Runbook steps taken\n\n")
	n = 0
	for _, e := range entries {
		if e.Kind != KindRunbookStep {
			continue
		}
		var f RunbookStepFields
		_ = e.Decode(&f)
		box := "[ ]"
		if f.Checked {
			box = "[x]"
		}
		w("- %s %s: %s (%s, %s)\n", box, oneLine(f.Runbook), oneLine(f.Step), orDash(e.Author), ts(e.At))
		n++
	}
	if n == 0 {
		w("_None recorded._\n")
	}

	if len(chartFiles) > 0 {
		w("\n## Charts\n\n")
		for i, f := range chartFiles {
			if i >= len(in.Charts) || f == "" {
				continue
			}
			w("![%s](%s)\n\n", strings.ReplaceAll(oneLine(in.Charts[i].Title), "]", ")"), f)
		}
	}

	w("\n## Action items\n\n")
	if len(in.Actions) == 0 {
		w("_None yet._\n")
	} else {
		w("| # | Action | Owner | Due | Risk |\n|---|---|---|---|---|\n")
		for _, a := range in.Actions {
			due := "—"
			if !a.Due.IsZero() {
				due = a.Due.In(loc).Format("2006-01-02")
			}
			w("| %d | %s | %s | %s | %s |\n", a.ID, cell(a.Title), cell(orDash(a.Owner)), due, cell(orDash(a.RiskID)))
		}
	}
	w("\n## Lessons\n\n- What went well: […]\n- What went badly: […]\n- Where we got lucky: […]\n")
	return b.String()
}

// WritePostmortem writes the draft to path and each chart as a PNG beside it
// (<name>-chart-<n>.png), linked from the markdown. It returns the files written.
// Files are created 0600: a postmortem can hold customer details.
func WritePostmortem(path string, in PostmortemInput) ([]string, error) {
	dir, base := filepath.Split(path)
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	var (
		links   []string
		written []string
	)
	for i, c := range in.Charts {
		if len(c.PNG) == 0 {
			links = append(links, "")
			continue
		}
		name := fmt.Sprintf("%s-chart-%d.png", stem, i+1)
		if err := writeFile(filepath.Join(dir, name), c.PNG); err != nil {
			return written, fmt.Errorf("write postmortem chart %q: %w", c.Title, err)
		}
		links = append(links, name)
		written = append(written, filepath.Join(dir, name))
	}
	if err := writeFile(path, []byte(Postmortem(in, links))); err != nil {
		return written, fmt.Errorf("write postmortem: %w", err)
	}
	return append(written, path), nil
}

// writeFile replaces path atomically: a crash leaves the old file or the new one.
func writeFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func cell(s string) string { return strings.ReplaceAll(oneLine(s), "|", `\|`) }

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}
