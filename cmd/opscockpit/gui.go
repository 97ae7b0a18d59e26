package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/opscockpit/opscockpit/assets"
	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/config"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/datasource/alertmanager"
	histsqlite "github.com/opscockpit/opscockpit/history/sqlite"
	incsqlite "github.com/opscockpit/opscockpit/incident/sqlite"
	"github.com/opscockpit/opscockpit/runbooks"
	"github.com/opscockpit/opscockpit/session"
	"github.com/opscockpit/opscockpit/ui"
)

const appID = "io.opscockpit.app"

func cmdGUI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("opscockpit", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	cfgPath := fs.String("config", "", "configuration file (default: opscockpit.yaml in the user config dir if present, else the embedded demo)")
	themeName := fs.String("theme", "", "dark or light (overrides the config)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	showVersion := fs.Bool("version", false, "print the version and exit")
	quitAfter := fs.Duration("quit-after", 0, "close the window after this long (smoke tests, timed displays); 0 = never")
	firstFrame := fs.Bool("exit-after-first-frame", false, "quit as soon as the first frame is up (start-up benchmarks)")
	webListen := fs.String("web.listen-address", "", "serve the cockpit's own /metrics here, e.g. 127.0.0.1:9099 (overrides web.listen; off by default)")
	openFile := fs.String("open", "", "reopen an incident black box (opscockpit incident export --format bundle) read-only, offline")
	kioskMode := fs.Bool("kiosk", false, "war-room mode: full screen, high contrast, large type (F11 toggles)")
	layoutName := fs.String("layout", "", "layout preset: commander, wall, runbook or risk (default: the last one chosen)")
	serveSession := fs.String("serve-session", "", "let other cockpits follow this one: serve the session at ADDR (e.g. 0.0.0.0:9444); needs --token-file")
	follow := fs.String("follow", "", "mirror a commander's cockpit, read-only: ws://HOST:PORT (or wss://); needs --token-file")
	tokenFile := fs.String("token-file", "", "file holding the session token (--serve-session, --follow)")
	var windows regionFlags
	fs.Var(&windows, "window", "open a window showing only this region (metrics, alerts, runbook, incident, risks); repeat for one window per monitor")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *showVersion {
		fmt.Fprintln(stdout, versionString())
		return 0
	}
	log, err := newLogger(*logLevel, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	var (
		cfg  *config.Config
		sys  *system
		code int
	)
	blackBox := *openFile != ""
	if blackBox {
		if sys, _, err = bundleSystem(*openFile); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		cfg = sys.cfg
		cfg.Display.KioskTextScale = 1.5
	} else if cfg, sys, code = loadSystem(*cfgPath, clock.Real{}, -1, log, stderr); code != 0 {
		return code
	}
	defer sys.closeHistory()

	a := app.NewWithID(appID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon()))
	light := cfg.Theme == config.ThemeLight
	if *themeName != "" {
		light = *themeName == config.ThemeLight
	}
	th := ui.NewTheme(light)
	kio := &kiosk{on: *kioskMode, light: light, scale: float32(cfg.Display.KioskTextScale), th: th}
	if kio.on {
		*th = *ui.NewKioskTheme(light, kio.scale)
	}
	a.Settings().SetTheme(th)

	if (*serveSession != "" || *follow != "") && *tokenFile == "" {
		fmt.Fprintln(stderr, "--serve-session and --follow need --token-file")
		return 2
	}
	if *serveSession != "" && *follow != "" {
		fmt.Fprintln(stderr, "a cockpit either serves its session or follows another, not both")
		return 2
	}
	var token string
	if *tokenFile != "" {
		if token, err = readToken(*tokenFile); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
	}
	following := *follow != ""
	var lastView atomic.Pointer[ui.View]

	statePath, stateErr := uiStatePath()
	state := loadUIState(statePath)
	layout, err := startLayout(*layoutName, state, cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	ticks := &tickCache{m: map[string]map[string]bool{}, log: log, now: sys.clock.Now}
	incidents := newIncidentSvc(sys, log)
	risks, err := newRiskSvc(sys, log)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	incidents.risks = risks
	sys.onAck = incidents.recordAck
	newView := func(w fyne.Window, regions []string) *ui.Cockpit {
		deps := sys.uiDeps()
		deps.Incidents = incidents
		deps.Risks = risks
		deps.OnStep = incidents.recordStep
		if following || blackBox {
			deps.ReadOnly, deps.Incidents, deps.Ack, deps.Unsilence, deps.OnStep = true, nil, nil, nil, nil
		}
		if blackBox {
			deps.Risks = nil
		}
		if len(regions) == 0 {
			deps.OnView = func(v ui.View) { lastView.Store(&v) }
		}
		deps.Window = w
		deps.Ticks = ticks
		deps.Layout = layout
		deps.Regions = regions
		deps.OnLayout = func(l ui.Layout) {
			if stateErr == nil {
				state.Layout = string(l)
				if err := saveUIState(statePath, state); err != nil {
					log.Warn("layout not remembered", "err", err)
				}
			}
		}
		if cfg.Alerts.Sound && len(regions) == 0 {
			deps.Alarm = (&alarm{log: log}).Play
		}
		return ui.New(deps)
	}
	// One window with the whole cockpit, or one per --window region (one per monitor),
	// every one a view of the same model on the same clock.
	groups := [][]string{nil}
	if len(windows) > 0 {
		groups = groups[:0]
		for _, r := range windows {
			groups = append(groups, []string{r})
		}
	}
	var views []*ui.Cockpit
	var wins []fyne.Window
	for i, regions := range groups {
		title := "OpsCockpit — " + cfg.Title
		if len(regions) > 0 {
			title += " — " + strings.Join(regions, ", ")
		}
		w := a.NewWindow(title)
		v := newView(w, regions)
		w.SetContent(v.Content())
		w.Resize(fyne.NewSize(1600, 900))
		if i == 0 {
			w.SetMaster()
		}
		views, wins = append(views, v), append(wins, w)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	openWindow := func(region string) {
		w := a.NewWindow("OpsCockpit — " + cfg.Title + " — " + region)
		v := newView(w, []string{region})
		w.SetContent(v.Content())
		w.Resize(fyne.NewSize(1280, 800))
		views = append(views, v)
		bindKeys(w, v, views, kio, sys)
		if kio.on {
			w.SetFullScreen(true)
			v.SetKiosk(true)
		}
		go v.Run(ctx)
		w.Show()
	}
	for i, w := range wins {
		bindKeys(w, views[i], views, kio, sys)
		views[i].SetOpenWindow(openWindow)
	}
	view, w := views[0], wins[0]
	if kio.on {
		for i, w := range wins {
			w.SetFullScreen(true)
			views[i].SetKiosk(true)
		}
	}

	if addr := cmp.Or(*webListen, cfg.Web.Listen); addr != "" {
		if _, err := serveMetrics(ctx, addr, sys.metrics.reg, log); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	sys.start(ctx)
	for _, v := range views {
		go v.Run(ctx)
	}
	// Hot reload: edits to runbook folders show up while the cockpit is open; a file that
	// turns bad keeps its last good copy on screen, with a warning.
	go func() {
		err := runbooks.Watch(ctx, sys.library, func(rep runbooks.LoadReport) {
			for _, e := range rep.Errors {
				log.Warn("runbook not reloaded; last good copy kept", "err", e)
			}
			fyne.Do(func() {
				for _, v := range views {
					v.RunbooksReloaded(rep)
				}
			})
		})
		if err != nil && ctx.Err() == nil {
			log.Warn("runbook folders not watched; restart to see edits", "err", err)
		}
	}()
	// The history database is not needed for the first frame: open it beside the window.
	go func() {
		if blackBox {
			return // a black box is shown from its file alone
		}
		if err := sys.openHistory(ctx, log); err != nil {
			// the cockpit still shows everything live; only the record is missing, and
			// the health chip says so
			log.Error("alert history unavailable", "err", err)
			return
		}
		if err := ticks.load(ctx, sys.history); err != nil {
			log.Warn("runbook ticks not loaded", "err", err)
		}
		fyne.Do(func() { // show the saved ticks
			for _, v := range views {
				v.Refresh()
			}
		})
		go cockpit.RecordHistory(ctx, sys.hub, sys.history, sys.clock, log)
		if err := sys.openRisks(ctx, risks, log); err != nil {
			log.Error("risk register unavailable", "err", err)
		}
		if following {
			return // the incident on screen is the commander's
		}
		if err := sys.openIncidents(ctx, incidents, log); err != nil {
			log.Error("incidents unavailable", "err", err)
		}
	}()

	var onStarted []func()
	switch {
	case *serveSession != "":
		srv, err := session.NewServer(session.ServerOptions{Tokens: []string{token}, Clock: clock.Real{}, Log: log, Metrics: sys.metrics.reg})
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		go func() {
			if err := srv.ListenAndServe(ctx, *serveSession); err != nil {
				log.Error("session server stopped: followers cannot join", "err", err)
			}
		}()
		go publishSession(ctx, srv, sys, &lastView, clock.Real{})
		log.Info("serving the session to followers", "listen", *serveSession)
	case following:
		policy := updatePolicy(cfg)
		f, err := session.NewFollower(session.FollowerOptions{URL: *follow, Token: token, Log: log,
			OnState: func(st session.State) {
				if ctx.Err() != nil {
					return // the window is closing: there is no event loop to run it on
				}
				fyne.Do(func() { applyFollowed(sys.hub, views, st, policy) })
			},
			OnStatus: func(st session.Status) {
				if ctx.Err() != nil {
					return
				}
				note := st.String() // "following: live", "following: reconnecting in 2s: …"
				fyne.Do(func() {
					for _, v := range views {
						v.SetNote(note)
					}
				})
			}})
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		// Start following once the window's event loop runs: before that, fyne.Do
		// would run the first state on the follower's goroutine.
		onStarted = append(onStarted, func() {
			go func() {
				if err := f.Run(ctx); err != nil {
					log.Error("follow mode stopped", "err", err)
				}
			}()
		})
	}

	if *firstFrame {
		onStarted = append(onStarted, func() { fyne.Do(a.Quit) })
	}
	// Background work stops with the event loop: after it, fyne.Do has nowhere to run.
	a.Lifecycle().SetOnStopped(cancel)
	a.Lifecycle().SetOnStarted(func() {
		for _, f := range onStarted {
			f()
		}
	})
	if *quitAfter > 0 {
		stop := time.AfterFunc(*quitAfter, func() { fyne.Do(a.Quit) })
		defer stop.Stop()
	}
	log.Info("cockpit open", "config", configName(cfg), "panels", len(sys.panels), "runbooks", len(sys.library.All()),
		"layout", view.Layout(), "windows", len(wins), "kiosk", kio.on)
	for _, other := range wins[1:] {
		other.Show()
	}
	w.ShowAndRun()
	return 0
}

func configName(cfg *config.Config) string {
	if cfg.Path == "" {
		return assets.DemoConfigName
	}
	return cfg.Path
}

// start runs the background actors: publisher, poller and alert feeds.
func (s *system) start(ctx context.Context) {
	if s.webhook != nil {
		go func() {
			if err := s.webhook.ListenAndServe(ctx, s.webhookAddr); err != nil {
				s.poller.Log.Error("webhook receiver stopped", "listen", s.webhookAddr, "err", err)
				s.hub.SetHealth(datasource.Health{Source: s.webhook.Name(), Kind: alertmanager.WebhookHealthKind, State: datasource.HealthDown,
					LastError: cockpit.Truncate(err.Error(), cockpit.MaxErrorLen), ErrorSince: s.clock.Now()})
			}
		}()
	}
	go s.hub.Run(ctx.Done())
	go s.poller.Run(ctx)
	for _, src := range s.alerts {
		go cockpit.FollowAlerts(ctx, s.hub, s.clock, src, s.poller.Log)
	}
}

// historyPath is the alert history's database: cockpit.db in the data dir (or risk.db),
// or drill.db while a scenario plays, so drills never mix with what really fired.
func historyPath(cfg *config.Config, drill bool) (string, error) {
	if cfg.Risk.DB != "" && !drill {
		return cfg.Risk.DB, nil
	}
	dir, err := config.DataDir()
	if err != nil {
		return "", err
	}
	if drill {
		return filepath.Join(dir, "drill.db"), nil
	}
	return filepath.Join(dir, "cockpit.db"), nil
}

// openHistory opens the alert history and applies the retention.
func (s *system) openHistory(ctx context.Context, log *slog.Logger) error {
	path, err := historyPath(s.cfg, s.replay != nil)
	if err != nil {
		return err
	}
	st, err := histsqlite.Open(ctx, path)
	if err != nil {
		s.hub.SetHealth(datasource.Health{Source: cockpit.HistorySource, Kind: "sqlite", State: datasource.HealthDown,
			LastError: cockpit.Truncate(err.Error(), cockpit.MaxErrorLen), ErrorSince: s.clock.Now()})
		return err
	}
	if n, err := st.Prune(ctx, s.clock.Now().Add(-time.Duration(s.cfg.Alerts.HistoryRetention))); err != nil {
		log.Warn("old alert history not pruned", "err", err)
	} else if n > 0 {
		log.Info("pruned old alert history", "events", n)
	}
	acker := &cockpit.Acker{Hub: s.hub, Store: st, Clock: s.clock, Silencer: s.silencer}
	if err := acker.LoadAcks(ctx); err != nil {
		log.Warn("earlier acks not loaded", "err", err)
	}
	s.histMu.Lock()
	s.history, s.acker = st, acker
	s.histMu.Unlock()
	log.Info("alert history", "db", path)
	return nil
}

func (s *system) closeHistory() {
	s.histMu.Lock()
	defer s.histMu.Unlock()
	if s.history != nil {
		s.history.Close()
	}
}

// unsilence expires an alert's silences on the Alertmanager it came from (or the first).
func (s *system) unsilence(ctx context.Context, a datasource.Alert) error {
	p := s.pollers[0]
	for _, q := range s.pollers {
		if q.Name() == a.Source {
			p = q
		}
	}
	var errs []error
	for _, id := range a.SilencedBy {
		if err := p.ExpireSilence(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("expire silence %s on %s: %w", id, p.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// ack acknowledges through the history once it is open, and puts the ack on the open
// incident's timeline.
func (s *system) ack(ctx context.Context, a datasource.Alert, by, comment string, silenceFor time.Duration) error {
	s.histMu.Lock()
	acker := s.acker
	s.histMu.Unlock()
	if acker == nil {
		return fmt.Errorf("ack %s NOT SAVED: the alert history database is not open (see the history db chip)", a.Name())
	}
	if err := acker.Ack(ctx, a, by, comment, silenceFor); err != nil {
		return err
	}
	if s.onAck != nil {
		s.onAck(ctx, a, by, comment)
	}
	return nil
}

// openIncidents opens the incident store and keeps the hub's incident state in step
// with it (and with anyone else writing to it, such as a scribe's CLI).
func (s *system) openIncidents(ctx context.Context, svc *incidentSvc, log *slog.Logger) error {
	path, err := incidentPath(s.cfg, s.replay != nil)
	if err != nil {
		return err
	}
	st, err := incsqlite.Open(ctx, path)
	if err != nil {
		s.hub.SetIncident(&cockpit.IncidentState{Err: cockpit.Truncate(err.Error(), cockpit.MaxErrorLen)})
		return err
	}
	svc.st.Store(st)
	go func() {
		<-ctx.Done()
		st.Close()
	}()
	log.Info("incidents", "db", path)
	cockpit.FollowIncidents(ctx, s.hub, st, s.clock, cockpit.IncidentFollowOptions{
		Poke: svc.poke, Selected: svc.selected.Load, Policy: updatePolicy(s.cfg), Log: log,
	})
	return nil
}

func (s *system) uiDeps() ui.Deps {
	var unsilence ui.UnsilenceFunc
	if len(s.pollers) > 0 {
		unsilence = s.unsilence
	}
	var promql ui.PromQLFunc
	if src := s.promql; src != nil {
		promql = func(ctx context.Context, q string, now time.Time) (cockpit.BlockResult, error) {
			return cockpit.EvalBlock(ctx, src, q, now)
		}
	}
	return ui.Deps{
		PromQL:      promql,
		PromQLEvery: time.Duration(s.cfg.Metrics.Refresh),
		Ack:         s.ack,
		Unsilence:   unsilence,
		Hub:         s.hub, Clock: s.clock, Panels: s.panels, Runbooks: s.library,
		StaleRunbookAfter: time.Duration(s.cfg.Runbooks.StaleAfter),
		ChartWidth:        s.poller.SetPoints,
		ParseFilter:       parseFilter,
		Observe: func(cost time.Duration, lag uint64) {
			s.metrics.uiApply.Observe(cost.Seconds())
			s.metrics.uiLag.Set(float64(lag))
		},
	}
}

// bindKeys adds the keyboard controls. The view's own shortcuts (incident actions, help,
// search) come first; then the window's: F11 kiosk mode, T theme, L next layout, and for
// a scenario Space pause/resume, + and - speed, R restart. Every one is listed by ?.
func bindKeys(w fyne.Window, view *ui.Cockpit, views []*ui.Cockpit, kio *kiosk, s *system) {
	w.Canvas().SetOnTypedKey(func(e *fyne.KeyEvent) {
		switch e.Name {
		case fyne.KeyF11:
			kio.on = !kio.on
			kio.apply(w, views...)
		case fyne.KeyEscape:
			if view.HelpVisible() {
				view.ToggleHelp()
			}
		case fyne.KeySpace:
			if s.virtual != nil {
				s.virtual.SetPaused(!s.virtual.Paused())
				s.hub.SetTitle(s.cfg.Title) // publish a snapshot so the header shows it
			}
		}
	})
	w.Canvas().SetOnTypedRune(func(r rune) {
		if view.TypedRune(r) {
			return
		}
		switch r {
		case 't', 'T':
			kio.light = !kio.light
			kio.apply(nil, views...)
			return
		case 'l', 'L':
			view.NextLayout()
			return
		}
		if s.virtual == nil {
			return
		}
		switch r {
		case '+', '=':
			s.virtual.SetSpeed(s.virtual.Speed() * 2)
		case '-':
			s.virtual.SetSpeed(s.virtual.Speed() / 2)
		case 'r', 'R':
			s.virtual.Jump(s.replay.Origin())
		default:
			return
		}
		s.hub.SetTitle(s.cfg.Title)
	})
}

func init() {
	ui.ExtraShortcuts = []ui.Shortcut{
		{Key: "F11", What: "kiosk mode: full screen, high contrast, large type"},
		{Key: "T", What: "light or dark theme"},
		{Key: "L", What: "next layout: commander, wall, runbook, risk"},
		{Key: "Space", What: "drill: pause or resume the scenario clock"},
		{Key: "+ / -", What: "drill: double or halve the speed"},
		{Key: "R", What: "drill: restart the scenario"},
	}
}
