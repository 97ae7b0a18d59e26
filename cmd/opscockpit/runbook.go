package main

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/config"
	promsrc "github.com/opscockpit/opscockpit/datasource/prometheus"
	"github.com/opscockpit/opscockpit/runbooks"
	"github.com/opscockpit/opscockpit/ui"
	"github.com/prometheus/common/model"
)

const runbookUsage = `Usage:
  opscockpit runbook render FILE.md --out FILE.png [--size WxH] [--theme dark|light] [--config FILE]
      render one runbook headless, as the cockpit shows it (promql blocks run against
      the config's metrics source; the embedded demo scenario without --config)
  opscockpit runbook check DIR [--max-age 90d] [--config FILE] [--rules-source NAME]
      lint a runbook folder; exit 0 when clean, 1 when any error is found
  opscockpit runbook search QUERY [--config FILE] [--limit N]
      search every runbook (titles, headings, text) of the config's folders
`

func cmdRunbook(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, runbookUsage)
		return 2
	}
	switch args[0] {
	case "render":
		return cmdRunbookRender(ctx, args[1:], stdout, stderr)
	case "check":
		return cmdRunbookCheck(ctx, args[1:], stdout, stderr)
	case "search":
		return cmdRunbookSearch(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, runbookUsage)
		return 0
	}
	fmt.Fprintf(stderr, "opscockpit runbook: unknown subcommand %q\n\n%s", args[0], runbookUsage)
	return 2
}

// splitArgs lets flags follow positional arguments ("check DIR --max-age 30d"): it
// returns the flags first, then the positionals.
func splitArgs(args []string, boolFlags map[string]bool) (flags, pos []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return flags, append(pos, args[i+1:]...)
		case len(a) > 1 && a[0] == '-':
			flags = append(flags, a)
			name := a[1:]
			if len(name) > 0 && name[0] == '-' {
				name = name[1:]
			}
			if _, _, hasValue := cut(name, "="); !hasValue && !boolFlags[name] && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		default:
			pos = append(pos, a)
		}
	}
	return flags, pos
}

func cut(s, sep string) (string, string, bool) {
	for i := 0; i+len(sep) <= len(s); i++ {
		if s[i:i+len(sep)] == sep {
			return s[:i], s[i+len(sep):], true
		}
	}
	return s, "", false
}

func cmdRunbookRender(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("runbook render", stderr)
	out := fs.String("out", "", "PNG file to write (required)")
	size := fs.String("size", "1280x1600", "image size in pixels, WIDTHxHEIGHT")
	cfgPath := fs.String("config", "", "configuration file whose metrics source the promql blocks query (default: the embedded demo)")
	themeName := fs.String("theme", "", "dark or light")
	scale := fs.Float64("scale", 0, "pixels per layout unit; 0 = automatic (1 up to 1920 wide, then width/1920)")
	at := fs.Duration("at", -1, "scenario offset for the demo's promql values, e.g. 5m")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the promql blocks")
	flags, pos := splitArgs(args, nil)
	if code, ok := parseFlags(fs, flags); !ok {
		return code
	}
	if len(pos) != 1 || *out == "" {
		fmt.Fprint(stderr, runbookUsage)
		return 2
	}
	w, h, err := parseSize(*size)
	if err != nil {
		fmt.Fprintln(stderr, "runbook render:", err)
		return 2
	}
	log, _ := newLogger("warn", stderr)
	file := pos[0]
	dir, name := filepath.Split(file)
	if dir == "" {
		dir = "."
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		fmt.Fprintln(stderr, "runbook render:", err)
		return 1
	}
	defer root.Close()
	// The file's own folder is the library, so its relative links resolve.
	lib := runbooks.NewLibrary(runbooks.Root{Name: dir, FS: root.FS()})
	for _, e := range lib.Load() {
		if e.Path == name {
			fmt.Fprintf(stderr, "runbook render: %v\n", e)
			return 1
		}
	}
	var rb *runbooks.Runbook
	for _, r := range lib.All() {
		if r.Path == name {
			rb = r
		}
	}
	if rb == nil {
		fmt.Fprintf(stderr, "runbook render: %s: not a runbook (want a readable .md file)\n", file)
		return 1
	}
	cfg, sys, code := loadSystem(*cfgPath, clock.NewFake(time.Now().Truncate(time.Second)), *at, log, stderr)
	if code != 0 {
		return code
	}
	deps := sys.uiDeps()
	deps.Runbooks = lib
	deps.Headless = true
	light := cfg.Theme == config.ThemeLight
	if *themeName != "" {
		light = *themeName == config.ThemeLight
	}
	var page *ui.RunbookPage
	img, err := capture(w, h, float32(*scale), ui.NewTheme(light), func() fyne.CanvasObject {
		page = ui.NewRunbookPage(deps)
		return page.Content()
	}, func() error {
		page.Open(rb, "", sys.clock.Now())
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		return page.Settle(ctx)
	})
	if err != nil {
		fmt.Fprintln(stderr, "runbook render:", err)
		return 1
	}
	if err := writePNG(*out, img); err != nil {
		fmt.Fprintln(stderr, "runbook render:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s (%dx%d, %q)\n", *out, img.Bounds().Dx(), img.Bounds().Dy(), rb.Title())
	return 0
}

// capture lays out what build makes (once the headless app and its theme exist) in a
// window of w×h pixels and returns its image. fill runs once the window exists (it may
// wait for asynchronous content).
func capture(w, h int, scale float32, th *ui.Theme, build func() fyne.CanvasObject, fill func() error) (image.Image, error) {
	a := test.NewApp()
	defer a.Quit()
	a.Settings().SetTheme(th)
	win := test.NewWindow(build())
	defer win.Close()
	win.SetPadded(false)
	if scale <= 0 {
		scale = max(1, float32(w)/1920)
	}
	if c, ok := win.Canvas().(interface{ SetScale(float32) }); ok {
		c.SetScale(scale)
	} else {
		scale = 1
	}
	win.Resize(fyne.NewSize(float32(w)/scale, float32(h)/scale))
	if fill != nil {
		if err := fill(); err != nil {
			return nil, err
		}
	}
	// Wrapped text learns its height only once it has a width: lay out twice, as a
	// window does over its first frames.
	for range 2 {
		win.Content().Refresh()
	}
	return win.Canvas().Capture(), nil
}

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func cmdRunbookCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("runbook check", stderr)
	maxAge := fs.String("max-age", "", "how old last_reviewed may be before a runbook is stale (default 90d, or the config's runbooks.stale_after)")
	cfgPath := fs.String("config", "", "configuration file: its url_map, stale_after and metrics sources")
	rulesSource := fs.String("rules-source", "", "metrics source (by name) whose alerting rules must each have a runbook; \"\" checks the folder alone")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the rules endpoint")
	flags, pos := splitArgs(args, nil)
	if code, ok := parseFlags(fs, flags); !ok {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprint(stderr, runbookUsage)
		return 2
	}
	dir := pos[0]
	opts := runbooks.CheckOptions{Now: time.Now()}
	var cfg *config.Config
	if *cfgPath != "" {
		log, _ := newLogger("warn", stderr)
		c, err := loadConfig(*cfgPath, log)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		cfg = c
		opts.MaxAge = time.Duration(cfg.Runbooks.StaleAfter)
		for _, m := range cfg.Runbooks.URLMap {
			opts.URLMap = append(opts.URLMap, runbooks.URLMapping{Prefix: m.Prefix, Root: m.Dir})
		}
	}
	if *maxAge != "" {
		d, err := model.ParseDuration(*maxAge)
		if err != nil || d <= 0 {
			fmt.Fprintf(stderr, "runbook check: --max-age %q: want a duration such as 90d or 2160h\n", *maxAge)
			return 2
		}
		opts.MaxAge = time.Duration(d)
	}
	if *rulesSource != "" {
		if cfg == nil {
			fmt.Fprintln(stderr, "runbook check: --rules-source needs --config to know the source")
			return 2
		}
		var src *config.Source
		for i := range cfg.Metrics.Sources {
			if cfg.Metrics.Sources[i].Name == *rulesSource {
				src = &cfg.Metrics.Sources[i]
			}
		}
		if src == nil {
			fmt.Fprintf(stderr, "runbook check: --rules-source %q is not a metrics source of %s\n", *rulesSource, cfg.Path)
			return 2
		}
		po := promsrc.Options{Name: src.Name, URL: src.URL, Now: time.Now}
		if src.HTTPConfig != nil {
			po.HTTPConfig = *src.HTTPConfig
		}
		ps, err := promsrc.New(po)
		if err != nil {
			fmt.Fprintf(stderr, "runbook check: metrics source %q: %v\n", src.Name, err)
			return 2
		}
		opts.Rules = func(ctx context.Context) ([]runbooks.AlertRule, error) {
			ctx, cancel := context.WithTimeout(ctx, *timeout)
			defer cancel()
			rules, err := ps.AlertRules(ctx)
			out := make([]runbooks.AlertRule, len(rules))
			for i, r := range rules {
				out[i] = runbooks.AlertRule{Name: r.Name, RunbookURL: r.RunbookURL}
			}
			return out, err
		}
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		fmt.Fprintf(stderr, "runbook check: %s: not a folder\n", dir)
		return 2
	}
	rep := runbooks.Check(ctx, dir, opts)
	if err := rep.Format(stdout); err != nil {
		fmt.Fprintln(stderr, "runbook check:", err)
		return 1
	}
	if rep.Failed() {
		return 1
	}
	return 0
}

func cmdRunbookSearch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("runbook search", stderr)
	cfgPath := fs.String("config", "", "configuration file whose runbook folders to search (default: the embedded runbooks)")
	limit := fs.Int("limit", 10, "most results to print")
	flags, pos := splitArgs(args, nil)
	if code, ok := parseFlags(fs, flags); !ok {
		return code
	}
	if len(pos) == 0 {
		fmt.Fprint(stderr, runbookUsage)
		return 2
	}
	log, _ := newLogger("warn", stderr)
	_, sys, code := loadSystem(*cfgPath, clock.Real{}, -1, log, stderr)
	if code != 0 {
		return code
	}
	hits := sys.library.Search(strings.Join(pos, " "), *limit)
	if len(hits) == 0 {
		fmt.Fprintln(stdout, "no runbook matches")
		return 1
	}
	for _, h := range hits {
		where := h.Runbook.Root + "/" + h.Runbook.Path
		if h.Anchor != "" {
			where += "#" + h.Anchor
		}
		fmt.Fprintf(stdout, "%-8s %s\n         %s\n         %s\n", h.Field, h.Runbook.Title(), where, h.Snippet)
	}
	return 0
}
