// Command opscockpit is the operations cockpit: a desktop window that joins live
// metrics, alert streams, a risk register and runbooks, plus headless subcommands for
// scripts and CI.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

func main() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) }

const usage = `OpsCockpit — one window for metrics, alerts, risks and runbooks.

Usage:
  opscockpit [--config FILE] [--theme dark|light] [--log-level LEVEL]
      open the cockpit (no config: the embedded demo scenario)
  opscockpit snapshot --out FILE.png [--size 1920x1080] [--at 3m] [--config FILE]
      render the cockpit headless at a moment of the scenario
  opscockpit check-config FILE
      validate a configuration file (exit 0 ok, 1 invalid)
  opscockpit alerts [--config FILE] [--json] [--filter MATCHERS]
      print the current alerts of every configured source (exit 1 if one gave none)
  opscockpit history [--since 12h] [--events] [--json]
      what fired: firings, flaps, firing time and time to acknowledge per alert
  opscockpit risk list|show|add|update|escalate|import|export|backup|verify|review-pack ...
      the risk register from a terminal, on the same database as the cockpit
  opscockpit incident list|declare|show|note|decide|status|role|reopen|export ...
      incident command from a terminal, on the same database as the cockpit
  opscockpit runbook render FILE.md --out FILE.png | check DIR | search QUERY
      render one runbook headless; lint a runbook folder (exit 1 on errors); search
  opscockpit relay --listen ADDR [--alertmanager URL]... [--token-file F]
      headless: take Alertmanager webhooks, poll it, stream alerts to cockpits
  opscockpit --version

Run 'opscockpit COMMAND --help' for a command's flags.
`

// run is the whole program behind main, so tests can drive it in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, rest := args[0], args[1:]
		switch cmd {
		case "snapshot":
			return cmdSnapshot(ctx, rest, stdout, stderr)
		case "check-config":
			return cmdCheckConfig(rest, stdout, stderr)
		case "alerts":
			return cmdAlerts(ctx, rest, stdout, stderr)
		case "relay":
			return cmdRelay(ctx, rest, stdout, stderr)
		case "history":
			return cmdHistory(ctx, rest, stdout, stderr)
		case "runbook":
			return cmdRunbook(ctx, rest, stdout, stderr)
		case "risk":
			return cmdRisk(ctx, rest, os.Stdin, stdout, stderr)
		case "incident":
			return cmdIncident(ctx, rest, os.Stdin, stdout, stderr)
		case "version":
			fmt.Fprintln(stdout, versionString())
			return 0
		case "help":
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "opscockpit: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	return cmdGUI(ctx, args, stdout, stderr)
}

func versionString() string {
	return fmt.Sprintf("opscockpit %s (%s %s/%s)", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// newFlags returns a flag set that prints errors and usage to stderr and never exits.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses and maps -h to exit 0 and bad flags to exit 2 (ok=false).
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	return 0, true
}

// newLogger logs to stderr at level ("debug", "info", "warn", "error").
func newLogger(level string, stderr io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: l})), nil
}

func cmdCheckConfig(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check-config", stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "Usage: opscockpit check-config FILE") }
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	path := fs.Arg(0)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg, err := loadConfig(path, log)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if cfg.Scenario != nil {
		if _, err := loadScenario(cfg.Scenario.File); err != nil {
			fmt.Fprintf(stderr, "%s: scenario.file: %v\n", path, err)
			return 1
		}
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	fmt.Fprintf(stdout, "%s: ok (%d panels, %d metrics sources, %d alertmanagers)\n", path,
		len(cfg.Metrics.Panels), len(cfg.Metrics.Sources), len(cfg.Alerts.Alertmanagers))
	return 0
}

// quietLogger discards everything (headless commands whose output is their answer).
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
