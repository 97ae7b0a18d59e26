package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/opscockpit/opscockpit/assets"
	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/config"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/datasource/alertmanager"
	promsrc "github.com/opscockpit/opscockpit/datasource/prometheus"
	"github.com/opscockpit/opscockpit/datasource/replay"
	"github.com/opscockpit/opscockpit/datasource/stream"
	histsqlite "github.com/opscockpit/opscockpit/history/sqlite"
	"github.com/opscockpit/opscockpit/matcher"
	"github.com/opscockpit/opscockpit/runbooks"
)

// system is everything the cockpit runs, wired from one config.
type system struct {
	cfg     *config.Config
	metrics *selfMetrics
	clock   clock.Clock    // the cockpit's timeline: virtual while a scenario plays
	virtual *clock.Virtual // nil without a scenario
	replay  *replay.Source // nil without a scenario
	hub     *cockpit.Hub
	poller  *cockpit.Poller
	alerts  []datasource.AlertSource
	library *runbooks.Library
	panels  []cockpit.PanelSpec
	promql  datasource.MetricsSource // what runbook promql blocks query; nil: none

	histMu   sync.Mutex
	history  *histsqlite.Store // nil until openHistory (never in snapshots)
	acker    *cockpit.Acker
	silencer cockpit.Silencer // the first Alertmanager, when one is configured
	onAck    func(ctx context.Context, a datasource.Alert, by, comment string)

	pollers     []*alertmanager.Poller
	webhook     *alertmanager.Webhook // nil unless alerts.webhook is configured
	webhookAddr string
}

// amSilencer mirrors acks as silences on an Alertmanager: every label of the alert must
// match, so the silence covers that alert and nothing else.
type amSilencer struct {
	p   *alertmanager.Poller
	clk clock.Clock
}

func (a amSilencer) Silence(ctx context.Context, al datasource.Alert, by, comment string, d time.Duration) (string, error) {
	now := a.clk.Now()
	if comment == "" {
		comment = "acknowledged in OpsCockpit"
	}
	return a.p.CreateSilence(ctx, alertmanager.Silence{
		Matchers: alertmanager.MatchersForAlert(al.Labels), StartsAt: now, EndsAt: now.Add(d),
		CreatedBy: by, Comment: comment,
	})
}

// readToken reads a bearer token file ("" → no token). The token is never logged.
func readToken(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("token file %s is empty", path)
	}
	return tok, nil
}

// parseFilter is the alert filter box: Alertmanager matcher syntax.
func parseFilter(s string) (func(map[string]string) bool, error) {
	ms, err := matcher.Parse(s)
	if err != nil {
		return nil, err
	}
	return ms.Matches, nil
}

// loadSystem loads the config and assembles the system, printing what went wrong; the
// exit code is 0 on success.
func loadSystem(cfgPath string, base clock.Clock, at time.Duration, log *slog.Logger, stderr io.Writer) (*config.Config, *system, int) {
	cfg, err := loadConfig(cfgPath, log)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, nil, 1
	}
	sys, err := assemble(cfg, base, at, log)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, nil, 1
	}
	return cfg, sys, 0
}

// loadConfig reads --config, else the default file if it exists, else the embedded demo.
func loadConfig(path string, log *slog.Logger) (*config.Config, error) {
	if path == "" {
		if p := config.DefaultPath(); fileExists(p) {
			path = p
		}
	}
	var (
		cfg *config.Config
		err error
	)
	if path == "" {
		cfg, err = config.Load(assets.DemoConfig(), assets.DemoConfigName)
	} else {
		cfg, err = config.LoadFile(path)
	}
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	return cfg, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// loadScenario reads a scenario named in the config: "embedded:NAME" or a file path.
func loadScenario(ref string) (*replay.Scenario, error) {
	var (
		data []byte
		err  error
	)
	if name, ok := strings.CutPrefix(ref, config.EmbeddedPrefix); ok {
		data, err = assets.Scenario(name)
	} else {
		data, err = os.ReadFile(ref)
	}
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	return replay.Parse(ref, data)
}

// assemble wires sources, hub, poller and runbooks. base is the wall clock (or a fake
// one); a configured scenario gets a virtual clock on top of it, and plays from offset
// at (the config's start offset when at is negative).
func assemble(cfg *config.Config, base clock.Clock, at time.Duration, log *slog.Logger) (*system, error) {
	s := &system{cfg: cfg, clock: base, metrics: newSelfMetrics()}
	sources := map[string]datasource.MetricsSource{}
	if sc := cfg.Scenario; sc != nil {
		scen, err := loadScenario(sc.File)
		if err != nil {
			return nil, err
		}
		if at < 0 {
			at = time.Duration(sc.Start)
		}
		s.virtual = clock.NewVirtual(base, base.Now(), sc.Speed)
		s.clock = s.virtual
		s.replay = replay.New(config.ScenarioSource, scen, s.virtual, s.virtual.Now().Add(-at), replay.Options{Loop: sc.Loop})
		sources[config.ScenarioSource] = s.replay
		s.alerts = append(s.alerts, s.replay)
	}
	if len(cfg.Metrics.Sources) > 0 {
		pm := promsrc.NewMetrics(s.metrics.reg)
		for _, src := range cfg.Metrics.Sources {
			opts := promsrc.Options{Name: src.Name, URL: src.URL, Now: base.Now, Metrics: pm}
			if src.HTTPConfig != nil {
				opts.HTTPConfig = *src.HTTPConfig
			}
			ps, err := promsrc.New(opts)
			if err != nil {
				return nil, fmt.Errorf("metrics source %q: %w", src.Name, err)
			}
			sources[src.Name] = ps
		}
	}
	if len(cfg.Alerts.Streams) > 0 {
		sm := stream.NewMetrics(s.metrics.reg)
		for _, st := range cfg.Alerts.Streams {
			token, err := readToken(st.TokenFile)
			if err != nil {
				return nil, fmt.Errorf("alerts.streams %q: %w", st.Name, err)
			}
			c, err := stream.NewClient(stream.ClientOptions{Name: st.Name, URL: st.URL, Token: token, Clock: base, Metrics: sm, Log: log})
			if err != nil {
				return nil, fmt.Errorf("alerts.streams %q: %w", st.Name, err)
			}
			s.alerts = append(s.alerts, c)
		}
	}
	if len(cfg.Alerts.Alertmanagers) > 0 || cfg.Alerts.Webhook != nil {
		am := alertmanager.NewMetrics(s.metrics.reg)
		for _, c := range cfg.Alerts.Alertmanagers {
			opts := alertmanager.PollerOptions{Name: c.Name, URLs: c.URLs, Clock: base, Metrics: am, Log: log}
			if c.HTTPConfig != nil {
				opts.HTTPConfig = *c.HTTPConfig
			}
			p, err := alertmanager.NewPoller(opts)
			if err != nil {
				return nil, fmt.Errorf("alerts.alertmanagers %q: %w", c.Name, err)
			}
			s.alerts = append(s.alerts, p)
			s.pollers = append(s.pollers, p)
			if s.silencer == nil {
				s.silencer = amSilencer{p: p, clk: base}
			}
		}
		if wh := cfg.Alerts.Webhook; wh != nil {
			w, err := alertmanager.NewWebhook(alertmanager.WebhookOptions{Name: "webhook", Clock: base, Metrics: am, Log: log})
			if err != nil {
				return nil, fmt.Errorf("alerts.webhook: %w", err)
			}
			s.alerts = append(s.alerts, w)
			s.webhook, s.webhookAddr = w, wh.Listen
		}
	}

	switch {
	case cfg.Runbooks.PromQLSource != "":
		s.promql = sources[cfg.Runbooks.PromQLSource]
	case s.replay != nil:
		s.promql = s.replay
	case len(cfg.Metrics.Sources) > 0:
		s.promql = sources[cfg.Metrics.Sources[0].Name]
	}

	for _, p := range cfg.Metrics.Panels {
		spec := cockpit.PanelSpec{
			Title: p.Title, Type: cockpit.PanelType(p.Type), Source: p.Source, Query: p.Query,
			Unit: p.Unit, Decimals: -1, Legend: p.Legend, Min: p.Min, Max: p.Max,
			Range: time.Duration(p.Range), Row: p.Row, Points: 600,
			Objective: p.Objective, Window: time.Duration(p.Window),
		}
		if p.Decimals != nil {
			spec.Decimals = *p.Decimals
		}
		for _, t := range p.Thresholds {
			spec.Thresholds = append(spec.Thresholds, cockpit.Threshold{Value: t.Value, Color: t.Color})
		}
		s.panels = append(s.panels, spec)
	}

	opts := cockpit.HubOptions{Title: cfg.Title, Panels: s.panels, AlertFeeds: len(s.alerts),
		FeedSilentAfter: time.Duration(cfg.Alerts.FeedSilentAfter), OnAlertEvent: func(src string, _ int) {
			s.metrics.alertsIn.WithLabelValues(src).Inc()
		}}
	if s.replay != nil {
		opts.Scenario = s.scenarioState
	}
	s.hub = cockpit.NewHub(s.clock, opts)
	s.poller = &cockpit.Poller{
		Hub: s.hub, Clock: s.clock, Sources: sources, Panels: s.panels,
		Refresh: time.Duration(cfg.Metrics.Refresh), Timeout: time.Duration(cfg.Metrics.Timeout), Log: log,
	}

	var roots []runbooks.Root
	for _, dir := range cfg.Runbooks.Dirs {
		root, err := runbooks.DirRoot(dir) // refuses symlinks that lead out of the folder
		if err != nil {
			log.Warn("runbook folder unreadable; skipped", "dir", dir, "err", err)
			continue
		}
		roots = append(roots, root)
	}
	roots = append(roots, runbooks.Root{Name: "embedded", FS: assets.Runbooks()})
	s.library = runbooks.NewLibrary(roots...)
	for _, m := range cfg.Runbooks.URLMap {
		s.library.URLMap = append(s.library.URLMap, runbooks.URLMapping{Prefix: m.Prefix, Root: m.Dir})
	}
	for _, e := range s.library.Load() {
		log.Warn("runbook not loaded", "err", e)
	}
	return s, nil
}

func (s *system) scenarioState() cockpit.ScenarioState {
	off, _ := s.replay.Offset(s.clock.Now())
	sc := s.replay.Scenario()
	return cockpit.ScenarioState{Name: sc.Name, Offset: off, Duration: sc.Duration, Speed: s.virtual.Speed(), Paused: s.virtual.Paused()}
}
