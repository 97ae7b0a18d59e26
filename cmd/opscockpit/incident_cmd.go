package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/config"
	"github.com/opscockpit/opscockpit/incident"
	"github.com/opscockpit/opscockpit/incident/bundle"
	"github.com/opscockpit/opscockpit/incident/incidentcli"
)

// incidentPath is the incident database: incidents.db from the config, else the alert
// history's file (cockpit.db, or drill.db while a scenario plays: drills never mix with
// real incidents).
func incidentPath(cfg *config.Config, drill bool) (string, error) {
	if cfg.Incidents.DB != "" && !drill {
		return cfg.Incidents.DB, nil
	}
	return historyPath(cfg, drill)
}

// cmdIncident runs `opscockpit incident …` on the same database the cockpit uses, so a
// scribe at a terminal and the wall screen share one timeline.
func cmdIncident(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfgPath, rest := splitConfigFlag(args) // --config is ours; the rest goes to the incident CLI
	log, _ := newLogger("warn", stderr)
	cfg, err := loadConfig(cfgPath, log)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	db, err := incidentPath(cfg, cfg.Scenario != nil)
	if err != nil {
		fmt.Fprintln(stderr, "incident:", err)
		return 1
	}
	var sys *system
	system := func() (*system, error) {
		if sys != nil {
			return sys, nil
		}
		s, err := assemble(cfg, clock.Real{}, -1, log)
		if err != nil {
			return nil, err
		}
		if p, err := historyPath(cfg, cfg.Scenario != nil); err == nil {
			if _, err := os.Stat(p); err == nil {
				_ = s.openHistory(ctx, log) // alert events for bundles; optional
			}
		}
		sys = s
		return s, nil
	}
	defer func() {
		if sys != nil {
			sys.closeHistory()
		}
	}()
	env := incidentcli.Env{
		Stdin: stdin, Stdout: stdout, Stderr: stderr, Clock: clock.Real{}, DBPath: db, Author: whoAmI(),
		Loc: time.Local, Policy: updatePolicy(cfg),
		Charts: func(ctx context.Context, inc incident.Incident) ([]incident.Chart, error) {
			s, err := system()
			if err != nil {
				return nil, err
			}
			return s.incidentCharts(ctx, inc)
		},
		Extras: func(ctx context.Context, inc incident.Incident, tl []incident.Entry) (bundle.Extras, error) {
			s, err := system()
			if err != nil {
				return bundle.Extras{}, err
			}
			return s.bundleExtras(ctx, inc, tl), nil
		},
	}
	if err := os.MkdirAll(filepath.Dir(db), 0o700); err != nil {
		fmt.Fprintln(stderr, "incident:", err)
		return 1
	}
	return incidentcli.Run(ctx, rest, env)
}
