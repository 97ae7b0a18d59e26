package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/datasource"
)

// cmdAlerts connects to every configured alert source, waits for each one's first
// complete snapshot (or the timeout), and prints the merged current alerts: the
// cockpit's alert list for scripts and tests.
func cmdAlerts(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("alerts", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: opscockpit alerts [--config FILE] [--json] [--filter MATCHERS] [--timeout 30s]")
		fs.PrintDefaults()
	}
	cfgPath := fs.String("config", "", "configuration file (default: the user's, else the embedded demo)")
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	filter := fs.String("filter", "", `only alerts matching these matchers, e.g. 'severity="critical"'`)
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for every source's first snapshot")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	log, err := newLogger(*logLevel, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	var match func(map[string]string) bool
	if *filter != "" {
		if match, err = parseFilter(*filter); err != nil {
			fmt.Fprintf(stderr, "alerts: --filter: %v\n", err)
			return 2
		}
	}
	_, sys, code := loadSystem(*cfgPath, clock.Real{}, -1, log, stderr)
	if code != 0 {
		return code
	}
	if len(sys.alerts) == 0 {
		fmt.Fprintln(stderr, "alerts: no alert source is configured (alerts.alertmanagers, alerts.webhook, alerts.streams or a scenario)")
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed []string
	)
	for _, src := range sys.alerts {
		wg.Go(func() {
			if err := firstAlerts(ctx, sys, src.Name()); err != nil {
				mu.Lock()
				failed = append(failed, fmt.Sprintf("%s (%v)", src.Name(), err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	snap := sys.hub.Publish()
	alerts := slices.DeleteFunc(slices.Clone(snap.Alerts), func(a datasource.Alert) bool { return match != nil && !match(a.Labels) })
	if *asJSON {
		if err := writeAlertsJSON(stdout, alerts); err != nil {
			fmt.Fprintln(stderr, "alerts:", err)
			return 1
		}
	} else {
		writeAlertsTable(stdout, alerts, sys.clock.Now())
	}
	if len(failed) > 0 {
		slices.Sort(failed)
		fmt.Fprintf(stderr, "alerts: no snapshot within %s from: %s\n", *timeout, strings.Join(failed, ", "))
		return 1
	}
	return 0
}

type alertJSON struct {
	Fingerprint  string            `json:"fingerprint"`
	Name         string            `json:"alertname"`
	State        string            `json:"state"`
	Severity     string            `json:"severity,omitempty"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       *time.Time        `json:"endsAt,omitempty"`
	UpdatedAt    time.Time         `json:"updatedAt"`
	Source       string            `json:"source"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
	SilencedBy   []string          `json:"silencedBy,omitempty"`
	InhibitedBy  []string          `json:"inhibitedBy,omitempty"`
}

func writeAlertsJSON(w io.Writer, alerts []datasource.Alert) error {
	out := make([]alertJSON, 0, len(alerts))
	for _, a := range alerts {
		j := alertJSON{Fingerprint: a.Fingerprint, Name: a.Name(), State: string(a.State), Severity: a.Severity(),
			Labels: a.Labels, Annotations: a.Annotations, StartsAt: a.StartsAt, UpdatedAt: a.UpdatedAt,
			Source: a.Source, GeneratorURL: a.GeneratorURL, SilencedBy: a.SilencedBy, InhibitedBy: a.InhibitedBy}
		if !a.EndsAt.IsZero() {
			e := a.EndsAt
			j.EndsAt = &e
		}
		out = append(out, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeAlertsTable(w io.Writer, alerts []datasource.Alert, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tSEVERITY\tALERT\tFOR\tSOURCE\tSUMMARY")
	for _, a := range alerts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.State, a.Severity(), a.Name(),
			cockpit.HumanDuration(now.Sub(a.StartsAt)), a.Source, cockpit.Truncate(a.Annotations["summary"], 80))
	}
	tw.Flush()
}
