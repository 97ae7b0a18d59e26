package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/config"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/risk"
	"github.com/opscockpit/opscockpit/risk/report"
	"github.com/opscockpit/opscockpit/risk/riskcli"
	risksqlite "github.com/opscockpit/opscockpit/risk/sqlite"
	"github.com/opscockpit/opscockpit/ui"
)

// riskPath is the risk register: risk.db from the config, else cockpit.db in the data
// dir; drill.db while a scenario plays, so a drill never flags real risks.
func riskPath(cfg *config.Config, drill bool) (string, error) {
	return historyPath(cfg, drill) // the same rule: risk.db, else the shared cockpit.db / drill.db
}

// riskRules reads the matrix and escalation policy files the config names.
func riskRules(cfg *config.Config) (risk.Matrix, risk.Policy, error) {
	m, p := risk.DefaultMatrix(), risk.DefaultPolicy()
	if f := cfg.Risk.Matrix; f != "" {
		r, err := os.Open(f)
		if err != nil {
			return m, p, fmt.Errorf("risk.matrix: %w", err)
		}
		defer r.Close()
		if m, err = risk.LoadMatrix(r); err != nil {
			return m, p, fmt.Errorf("risk.matrix %s: %w", f, err)
		}
	}
	if f := cfg.Risk.Escalation; f != "" {
		r, err := os.Open(f)
		if err != nil {
			return m, p, fmt.Errorf("risk.escalation: %w", err)
		}
		defer r.Close()
		if p, err = risk.LoadPolicy(r, m); err != nil {
			return m, p, fmt.Errorf("risk.escalation %s: %w", f, err)
		}
	} else if cfg.Risk.Matrix != "" {
		p.Rules = nil // the default rules name the default matrix's levels
	}
	return m, p, nil
}

// cmdRisk runs `opscockpit risk …` on the register the cockpit uses.
func cmdRisk(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfgPath, rest := splitConfigFlag(args)
	log, _ := newLogger("warn", stderr)
	cfg, err := loadConfig(cfgPath, log)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	m, p, err := riskRules(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	db, err := riskPath(cfg, cfg.Scenario != nil)
	if err != nil {
		fmt.Fprintln(stderr, "risk:", err)
		return 1
	}
	return riskcli.Run(ctx, rest, riskcli.Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Clock: clock.Real{},
		DBPath: db, Matrix: m, Policy: p, Actor: whoAmI()})
}

// splitConfigFlag takes --config FILE out of args (the sub-CLIs do not know it).
func splitConfigFlag(args []string) (cfgPath string, rest []string) {
	rest = make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--config" || a == "-config":
			if i+1 < len(args) {
				cfgPath = args[i+1]
				i++
			}
		case len(a) > len("--config=") && a[:len("--config=")] == "--config=":
			cfgPath = a[len("--config="):]
		default:
			rest = append(rest, a)
		}
	}
	return cfgPath, rest
}

// riskSvc is the register behind the cockpit's risk region (ui.RiskRegister) and the
// model's risk follower (cockpit.RiskStore). The store opens beside the window.
type riskSvc struct {
	st     atomic.Pointer[risksqlite.Store]
	open   func(ctx context.Context) error // reopens after a restore
	path   string
	backup string // offered when the file was found damaged
	matrix risk.Matrix
	policy risk.Policy
	clk    clock.Clock
	poke   chan struct{}
	log    *slog.Logger
}

var (
	_ ui.RiskRegister   = (*riskSvc)(nil)
	_ cockpit.RiskStore = (*riskSvc)(nil)
)

func (s *riskSvc) store() (*risksqlite.Store, error) {
	if st := s.st.Load(); st != nil {
		return st, nil
	}
	return nil, fmt.Errorf("the risk register is not open (see the log)")
}

func (s *riskSvc) changed() {
	select {
	case s.poke <- struct{}{}:
	default:
	}
}

func (s *riskSvc) Matrix() risk.Matrix { return s.matrix }
func (s *riskSvc) Policy() risk.Policy { return s.policy }

func (s *riskSvc) List(ctx context.Context, f risk.Filter) (risk.Page, error) {
	st, err := s.store()
	if err != nil {
		return risk.Page{}, err
	}
	return st.List(ctx, f)
}

func (s *riskSvc) HeatMap(ctx context.Context, f risk.Filter) (risk.HeatMap, error) {
	st, err := s.store()
	if err != nil {
		return risk.HeatMap{}, err
	}
	return st.HeatMap(ctx, f)
}

func (s *riskSvc) Detail(ctx context.Context, id int64) (risk.Detail, error) {
	st, err := s.store()
	if err != nil {
		return risk.Detail{}, err
	}
	return st.Detail(ctx, id)
}

// Save creates or updates the risk and makes its alert links exactly links.
func (s *riskSvc) Save(ctx context.Context, r risk.Risk, links []string) (risk.Risk, error) {
	st, err := s.store()
	if err != nil {
		return r, err
	}
	defer s.changed()
	if r.ID == 0 {
		r, err = st.Create(ctx, r)
	} else {
		r, err = st.Update(ctx, r)
	}
	if err != nil {
		return r, err
	}
	old, err := st.Links(ctx, r.ID)
	if err != nil {
		return r, err
	}
	keep := map[string]bool{}
	for _, l := range links {
		keep[l] = true
	}
	for _, l := range old {
		if !keep[l.Matchers] {
			if err := st.RemoveLink(ctx, l.ID); err != nil {
				return r, err
			}
		}
		delete(keep, l.Matchers)
	}
	for _, l := range links {
		if keep[l] {
			if _, err := st.AddLink(ctx, r.ID, l); err != nil {
				return r, err
			}
			delete(keep, l)
		}
	}
	return r, nil
}

func (s *riskSvc) Escalate(ctx context.Context, id int64, to, note, rule string) error {
	st, err := s.store()
	if err != nil {
		return err
	}
	defer s.changed()
	_, err = st.Escalate(ctx, id, to, note, rule)
	return err
}

// ReviewPack writes the pack for the last 30 days under the data dir's review-packs.
func (s *riskSvc) ReviewPack(ctx context.Context) (string, error) {
	st, err := s.store()
	if err != nil {
		return "", err
	}
	dir, err := config.DataDir()
	if err != nil {
		return "", err
	}
	now := s.clk.Now()
	out := filepath.Join(dir, "review-packs", now.Format("2006-01-02-150405"))
	if _, err := report.Write(ctx, out, st, report.Options{Since: now.AddDate(0, 0, -30), Now: now, Matrix: s.matrix}); err != nil {
		return "", err
	}
	return out, nil
}

func (s *riskSvc) Links(ctx context.Context, id int64) ([]risk.Link, error) {
	st, err := s.store()
	if err != nil {
		return nil, err
	}
	return st.Links(ctx, id)
}

func (s *riskSvc) AddAction(ctx context.Context, a risk.Action) error {
	st, err := s.store()
	if err != nil {
		return err
	}
	defer s.changed()
	_, err = st.AddAction(ctx, a)
	return err
}

func (s *riskSvc) AddReview(ctx context.Context, rv risk.Review) error {
	st, err := s.store()
	if err != nil {
		return err
	}
	rv.By = whoAmI()
	defer s.changed()
	_, err = st.AddReview(ctx, rv)
	return err
}

// Restore replaces the damaged register by the offered backup and opens it.
func (s *riskSvc) Restore(ctx context.Context) (string, error) {
	if s.st.Load() != nil || s.backup == "" {
		return "", fmt.Errorf("the register is not damaged: nothing to restore")
	}
	aside, err := risksqlite.Restore(ctx, s.backup, s.path, s.clk.Now())
	if err != nil {
		return aside, err
	}
	s.backup = ""
	if s.open != nil {
		if err := s.open(ctx); err != nil {
			return aside, err
		}
	}
	return aside, nil
}

func (s *riskSvc) Version(ctx context.Context) (int64, error) {
	st, err := s.store()
	if err != nil {
		return 0, err
	}
	return st.Version(ctx)
}

func (s *riskSvc) RecordFiring(ctx context.Context, firing []datasource.Alert) error {
	st, err := s.store()
	if err != nil {
		return err
	}
	_, err = st.RecordFiring(ctx, firing)
	return err
}

func (s *riskSvc) Materialising(ctx context.Context) ([]risk.Risk, error) {
	st, err := s.store()
	if err != nil {
		return nil, err
	}
	p, err := st.List(ctx, risk.Filter{Materialising: true, Sort: risk.SortScore, Desc: true, Limit: 20})
	return p.Risks, err
}

func (s *riskSvc) Proposals(ctx context.Context) ([]risk.Proposal, error) {
	st, err := s.store()
	if err != nil {
		return nil, err
	}
	return st.Proposals(ctx)
}

// openRisks opens the register, makes the daily backup, seeds the demo drill's register
// the first time, and keeps the hub in step with it.
func (s *system) openRisks(ctx context.Context, svc *riskSvc, log *slog.Logger) error {
	drill := s.replay != nil
	path, err := riskPath(s.cfg, drill)
	if err != nil {
		return err
	}
	st, err := risksqlite.Open(ctx, path, risksqlite.Options{Clock: s.clock, Matrix: svc.matrix, Policy: svc.policy, Actor: whoAmI(), DeferCheck: true})
	if err != nil {
		state := &cockpit.RiskState{Err: cockpit.Truncate(err.Error(), cockpit.MaxErrorLen)}
		var dmg *risksqlite.DamagedError
		if errors.As(err, &dmg) && dmg.Backup != "" {
			// The file is left untouched; a person decides whether to restore.
			svc.path, svc.backup, state.Backup = path, dmg.Backup, dmg.Backup
			appCtx := ctx // the register lives as long as the window, not the button's request
			svc.open = func(context.Context) error { return s.openRisks(appCtx, svc, log) }
		}
		s.hub.SetRisks(state)
		return err
	}
	go func() {
		<-ctx.Done()
		st.Close()
	}()
	if drill {
		if err := seedDemoRisks(ctx, st, s.clock.Now()); err != nil {
			log.Warn("demo risks not seeded", "err", err)
		}
	} else if b, err := st.AutoBackup(ctx, 14); err != nil {
		log.Warn("risk register NOT BACKED UP", "err", err)
	} else if b != "" {
		log.Info("risk register backed up", "file", b)
	}
	svc.st.Store(st)
	log.Info("risk register", "db", path)
	go cockpit.FollowRisks(ctx, s.hub, svc, s.clock, cockpit.RiskFollowOptions{Poke: svc.poke, Log: log})
	return nil
}

// seedDemoRisks fills an empty drill register with the demo's risks, linked to the
// demo scenario's alerts, so the drill shows a register that reacts to what fires.
func seedDemoRisks(ctx context.Context, st *risksqlite.Store, now time.Time) error {
	p, err := st.List(ctx, risk.Filter{Limit: 1})
	if err != nil || p.Total > 0 {
		return err
	}
	day := func(n int) time.Time { return now.AddDate(0, 0, n).Truncate(24 * time.Hour) }
	seed := []struct {
		r     risk.Risk
		links []string
	}{
		{risk.Risk{Title: "Bad deploy reaches all checkout pods before canary checks", Owner: "team-checkout", Service: "checkout", Category: "change",
			Likelihood: 4, Impact: 4, ResidualLikelihood: 2, ResidualImpact: 4, Treatment: risk.TreatmentMitigate, Status: risk.StatusMitigating,
			TreatmentRationale: "progressive rollout with automated canary analysis", NextReview: day(20), Tags: []string{"deploy", "slo"}},
			[]string{`alertname="CheckoutLatencyHigh"`, `alertname="CheckoutErrorBudgetBurn"`}},
		{risk.Risk{Title: "Payments gateway degradation stalls checkout", Owner: "team-payments", Service: "payments", Category: "dependency",
			Likelihood: 3, Impact: 5, ResidualLikelihood: 3, ResidualImpact: 3, Treatment: risk.TreatmentMitigate, Status: risk.StatusOpen,
			TreatmentRationale: "circuit breaker and a second gateway", NextReview: day(-3), Tags: []string{"third-party"}},
			[]string{`alertname="PaymentsDependencyDegraded"`}},
		{risk.Risk{Title: "Orders database failover never rehearsed", Owner: "team-data", Service: "orders-db", Category: "resilience",
			Likelihood: 2, Impact: 5, Treatment: risk.TreatmentMitigate, Status: risk.StatusOpen, NextReview: day(45), Tags: []string{"dr"}}, nil},
		{risk.Risk{Title: "TLS certificate for checkout.example.com expires unnoticed", Owner: "team-edge", Service: "edge", Category: "operations",
			Likelihood: 2, Impact: 4, ResidualLikelihood: 1, ResidualImpact: 4, Treatment: risk.TreatmentMitigate, Status: risk.StatusMitigating, NextReview: day(60)}, nil},
		{risk.Risk{Title: "Single DNS provider", Owner: "team-edge", Service: "edge", Category: "dependency",
			Likelihood: 1, Impact: 5, Treatment: risk.TreatmentAccept, TreatmentRationale: "second provider costs more than the expected loss", Status: risk.StatusAccepted, NextReview: day(90)}, nil},
		{risk.Risk{Title: "CPU saturation at peak traffic", Owner: "team-checkout", Service: "checkout", Category: "capacity",
			Likelihood: 3, Impact: 3, Treatment: risk.TreatmentMitigate, Status: risk.StatusOpen, NextReview: day(14), Tags: []string{"capacity"}},
			[]string{`alertname="CheckoutCPUSaturation"`}},
		{risk.Risk{Title: "On-call runbooks out of date", Owner: "sre", Category: "process",
			Likelihood: 4, Impact: 2, Treatment: risk.TreatmentMitigate, Status: risk.StatusOpen, NextReview: day(-10)}, nil},
	}
	for _, sd := range seed {
		r, err := st.Create(ctx, sd.r)
		if err != nil {
			return err
		}
		for _, l := range sd.links {
			if _, err := st.AddLink(ctx, r.ID, l); err != nil {
				return err
			}
		}
	}
	return nil
}

func newRiskSvc(sys *system, log *slog.Logger) (*riskSvc, error) {
	m, p, err := riskRules(sys.cfg)
	if err != nil {
		return nil, err
	}
	return &riskSvc{matrix: m, policy: p, clk: sys.clock, poke: make(chan struct{}, 1), log: log}, nil
}

// riskSnapshot opens the register for a headless render: the firing alerts flag their
// risks once and the hub gets the register's state, with no loop left running.
func (s *system) riskSnapshot(ctx context.Context, svc *riskSvc, log *slog.Logger) error {
	drill := s.replay != nil
	path, err := riskPath(s.cfg, drill)
	if err != nil {
		return err
	}
	st, err := risksqlite.Open(ctx, path, risksqlite.Options{Clock: s.clock, Matrix: svc.matrix, Policy: svc.policy, Actor: whoAmI()})
	if err != nil {
		return err
	}
	if drill {
		if err := seedDemoRisks(ctx, st, s.clock.Now()); err != nil {
			log.Warn("demo risks not seeded", "err", err)
		}
	}
	svc.st.Store(st)
	var firing []datasource.Alert
	for _, a := range s.hub.Publish().Alerts {
		if a.State == datasource.StateFiring {
			firing = append(firing, a)
		}
	}
	if err := svc.RecordFiring(ctx, firing); err != nil {
		return err
	}
	state := &cockpit.RiskState{}
	if state.Version, err = svc.Version(ctx); err != nil {
		return err
	}
	if state.Materialising, err = svc.Materialising(ctx); err != nil {
		return err
	}
	if state.Proposals, err = svc.Proposals(ctx); err != nil {
		return err
	}
	s.hub.SetRisks(state)
	return nil
}

// riskFilterAll is every risk, for checks.
func riskFilterAll() risk.Filter { return risk.Filter{} }
