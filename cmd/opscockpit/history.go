package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/history"
	histsqlite "github.com/opscockpit/opscockpit/history/sqlite"
)

// cmdHistory answers "what fired last night": per alert name, how often it fired, how
// often it flapped, how long it fired and how fast it was acknowledged.
func cmdHistory(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("history", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: opscockpit history [--since 12h] [--db FILE] [--config FILE] [--drill] [--events] [--json]")
		fs.PrintDefaults()
	}
	since := fs.Duration("since", 12*time.Hour, "how far back to look")
	dbPath := fs.String("db", "", "history database (default: cockpit.db in the data dir, or risk.db from the config)")
	cfgPath := fs.String("config", "", "configuration file (for risk.db)")
	drill := fs.Bool("drill", false, "read the drills' history (drill.db) instead")
	events := fs.Bool("events", false, "list every state change, not only the summary")
	asJSON := fs.Bool("json", false, "print JSON")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	path := *dbPath
	if path == "" {
		cfg, err := loadConfig(*cfgPath, quietLogger())
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if path, err = historyPath(cfg, *drill); err != nil {
			fmt.Fprintln(stderr, "history:", err)
			return 1
		}
	}
	st, err := histsqlite.Open(ctx, path)
	if err != nil {
		fmt.Fprintln(stderr, "history:", err)
		return 1
	}
	defer st.Close()
	now := time.Now()
	from := now.Add(-*since)
	evs, err := st.Events(ctx, from, now.Add(time.Second))
	if err != nil {
		fmt.Fprintln(stderr, "history:", err)
		return 1
	}
	acks, err := st.Acks(ctx, from)
	if err != nil {
		fmt.Fprintln(stderr, "history:", err)
		return 1
	}
	type row struct {
		history.AlertStats
		MeanTimeToAck time.Duration `json:"MeanTimeToAck,omitempty"`
		Acked         int
	}
	stats := history.Summarise(evs, now)
	tta := timeToAck(evs, acks)
	rows := make([]row, 0, len(stats))
	for _, s := range stats {
		r := row{AlertStats: s}
		if d := tta[s.Name]; len(d) > 0 {
			var sum time.Duration
			for _, x := range d {
				sum += x
			}
			r.MeanTimeToAck, r.Acked = sum/time.Duration(len(d)), len(d)
		}
		rows = append(rows, r)
	}
	if *asJSON {
		out := map[string]any{"from": from, "to": now, "alerts": rows}
		if *events {
			out["events"] = evs
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			fmt.Fprintln(stderr, "history:", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stdout, "Alert history %s → %s (%s)\n\n", from.Format("Mon 15:04"), now.Format("Mon 15:04"), path)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ALERT\tFIRED\tFLAPS\tFIRING FOR\tACKED\tMEAN TIME TO ACK")
	for _, r := range rows {
		mtta := "–"
		if r.Acked > 0 {
			mtta = cockpit.HumanDuration(r.MeanTimeToAck)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\t%s\n", r.Name, r.Fired, r.Flaps, cockpit.HumanDuration(r.FiringFor), r.Acked, mtta)
	}
	tw.Flush()
	if *events {
		fmt.Fprintln(stdout)
		tw = tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tALERT\tSTATE\tSEVERITY\tSOURCE")
		for _, e := range evs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.At.Local().Format("Mon 15:04:05"), e.Name, e.State, e.Severity, e.Source)
		}
		tw.Flush()
	}
	return 0
}

// timeToAck pairs each ack with the firing it answered: time from the last firing
// event of that fingerprint before the ack to the ack, by alert name.
func timeToAck(evs []history.Event, acks map[string]history.Ack) map[string][]time.Duration {
	out := map[string][]time.Duration{}
	for fp, a := range acks {
		var fired time.Time
		for _, e := range evs {
			if e.Fingerprint == fp && e.State == "firing" && !e.At.After(a.At) {
				fired = e.At
			}
		}
		if !fired.IsZero() {
			out[a.Name] = append(out[a.Name], a.At.Sub(fired))
		}
	}
	for _, d := range out {
		slices.Sort(d)
	}
	return out
}
