package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/config"
	"github.com/opscockpit/opscockpit/ui"
)

func cmdSnapshot(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("snapshot", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: opscockpit snapshot --out FILE.png [--size WxH] [--at OFFSET] [--config FILE] [--theme dark|light]")
		fs.PrintDefaults()
	}
	out := fs.String("out", "", "PNG file to write (required)")
	size := fs.String("size", "1920x1080", "image size in pixels, WIDTHxHEIGHT")
	at := fs.Duration("at", -1, "scenario offset to render, e.g. 3m (default: the config's start)")
	cfgPath := fs.String("config", "", "configuration file (default: the embedded demo)")
	themeName := fs.String("theme", "", "dark or light (overrides the config)")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for every source's first answer")
	scale := fs.Float64("scale", 0, "pixels per layout unit; 0 = automatic (1 up to 1920 wide, then width/1920, as on a wall screen)")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	openFile := fs.String("open", "", "render a reopened incident black box instead of a configuration")
	kioskMode := fs.Bool("kiosk", false, "render the war-room presentation: high contrast, kiosk type scale")
	layoutName := fs.String("layout", "", "layout preset: commander (default), wall, runbook or risk")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *out == "" {
		fmt.Fprintln(stderr, "snapshot: --out is required")
		fs.Usage()
		return 2
	}
	w, h, err := parseSize(*size)
	if err != nil {
		fmt.Fprintln(stderr, "snapshot:", err)
		return 2
	}
	log, err := newLogger(*logLevel, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	// A fake base clock holds the moment still while the sources are asked.
	var (
		cfg  *config.Config
		sys  *system
		code int
	)
	if *openFile != "" {
		if sys, _, err = bundleSystem(*openFile); err != nil {
			fmt.Fprintln(stderr, "snapshot:", err)
			return 1
		}
		cfg = sys.cfg
		cfg.Display.KioskTextScale = 1.5
	} else if cfg, sys, code = loadSystem(*cfgPath, clock.NewFake(time.Now().Truncate(time.Second)), *at, log, stderr); code != 0 {
		return code
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	sys.poller.RefreshAll(ctx)
	for _, src := range sys.alerts {
		if err := firstAlerts(ctx, sys, src.Name()); err != nil {
			log.Warn("alert source gave no snapshot", "source", src.Name(), "err", err)
		}
	}
	risks, err := newRiskSvc(sys, log)
	if err != nil {
		fmt.Fprintln(stderr, "snapshot:", err)
		return 2
	}
	if *openFile != "" {
		risks = nil
	} else if err := sys.riskSnapshot(ctx, risks, log); err != nil {
		log.Warn("snapshot without the risk register", "err", err)
		risks = nil
	}
	snap := sys.hub.Publish()

	light := cfg.Theme == config.ThemeLight
	if *themeName != "" {
		light = *themeName == config.ThemeLight
	}
	layout, err := startLayout(*layoutName, uiState{}, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "snapshot:", err)
		return 2
	}
	th := ui.NewTheme(light)
	if *kioskMode {
		th = ui.NewKioskTheme(light, float32(cfg.Display.KioskTextScale))
	}
	var view *ui.Cockpit
	img, err := capture(w, h, float32(*scale), th, func() fyne.CanvasObject {
		deps := sys.uiDeps()
		deps.Layout, deps.Headless, deps.ReadOnly = layout, true, *openFile != ""
		deps.Incidents = newIncidentSvc(sys, log) // what a window would offer; a render never acts
		if risks != nil {
			deps.Risks = risks
		}
		view = ui.New(deps)
		view.SetKiosk(*kioskMode)
		return view.Content()
	}, func() error {
		view.Apply(snap)
		if err := view.Settle(ctx); err != nil {
			log.Warn("snapshot taken before every runbook query answered", "err", err)
		}
		return nil
	})
	if err != nil {
		fmt.Fprintln(stderr, "snapshot:", err)
		return 1
	}
	if err := writePNG(*out, img); err != nil {
		fmt.Fprintln(stderr, "snapshot:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s (%dx%d, scenario offset %s, %d alerts)\n", *out, img.Bounds().Dx(), img.Bounds().Dy(),
		snap.Scenario.Offset.Round(time.Second), len(snap.Alerts))
	return 0
}

// firstAlerts waits for one source's first event and applies it.
func firstAlerts(ctx context.Context, sys *system, name string) error {
	for _, src := range sys.alerts {
		if src.Name() != name {
			continue
		}
		sub, err := src.Subscribe(ctx)
		if err != nil {
			return err
		}
		defer sub.Close()
		select {
		case ev, ok := <-sub.C():
			if !ok {
				return fmt.Errorf("feed closed: %v", sub.Err())
			}
			sys.hub.ApplyAlerts(ev)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func parseSize(s string) (w, h int, err error) {
	ws, hs, ok := strings.Cut(strings.ToLower(s), "x")
	if ok {
		w, err = strconv.Atoi(ws)
		if err == nil {
			h, err = strconv.Atoi(hs)
		}
	}
	if !ok || err != nil || w < 320 || h < 240 || w > 7680 || h > 4320 {
		return 0, 0, fmt.Errorf("--size %q: want WIDTHxHEIGHT between 320x240 and 7680x4320", s)
	}
	return w, h, nil
}
