package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/datasource/alertmanager"
	"github.com/opscockpit/opscockpit/datasource/stream"
)

// relayOptions configure `opscockpit relay`.
type relayOptions struct {
	Listen         string
	Alertmanagers  []string
	Tokens         []string
	AllowedOrigins []string
	Poll           time.Duration
	TLSCert        string
	TLSKey         string
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// cmdRelay runs the headless relay: it takes Alertmanager's webhooks and polls it, and
// streams the merged alerts to any number of cockpits over websockets.
func cmdRelay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("relay", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: opscockpit relay --listen ADDR [--alertmanager URL]... [--token-file F] [--allowed-origin O]... [--tls-cert-file F --tls-key-file F]")
		fs.PrintDefaults()
	}
	var opts relayOptions
	var ams, origins listFlag
	fs.StringVar(&opts.Listen, "listen", "127.0.0.1:9443", "address to serve /stream, /webhook and /healthz on")
	fs.Var(&ams, "alertmanager", "Alertmanager base URL to poll (repeat for HA peers)")
	tokenFile := fs.String("token-file", "", "file holding the bearer token cockpits must send (empty: no auth, loopback use only)")
	fs.Var(&origins, "allowed-origin", "browser Origin allowed to connect (repeatable; non-browser clients send none)")
	fs.DurationVar(&opts.Poll, "poll", 15*time.Second, "how often to poll the Alertmanagers")
	fs.StringVar(&opts.TLSCert, "tls-cert-file", "", "serve TLS (wss://) with this certificate")
	fs.StringVar(&opts.TLSKey, "tls-key-file", "", "… and this key")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	opts.Alertmanagers, opts.AllowedOrigins = ams, origins
	log, err := newLogger(*logLevel, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if tok, err := readToken(*tokenFile); err != nil {
		fmt.Fprintln(stderr, "relay:", err)
		return 2
	} else if tok != "" {
		opts.Tokens = []string{tok}
	} else if host, _, _ := net.SplitHostPort(opts.Listen); host != "127.0.0.1" && host != "localhost" && host != "::1" {
		log.Warn("relay listens beyond loopback without a token: anyone who can reach it can read every alert", "listen", opts.Listen)
	}
	if (opts.TLSCert == "") != (opts.TLSKey == "") {
		fmt.Fprintln(stderr, "relay: --tls-cert-file and --tls-key-file go together")
		return 2
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	addr, done, err := startRelay(ctx, opts, log)
	if err != nil {
		fmt.Fprintln(stderr, "relay:", err)
		return 1
	}
	scheme := "ws"
	if opts.TLSCert != "" {
		scheme = "wss"
	}
	fmt.Fprintf(stdout, "relay: streaming on %s://%s%s, webhooks on /webhook\n", scheme, addr, stream.DefaultPath)
	if err := <-done; err != nil {
		fmt.Fprintln(stderr, "relay:", err)
		return 1
	}
	return 0
}

// startRelay wires webhook receiver, Alertmanager poller and stream server and serves
// them until ctx ends; done reports how serving ended.
func startRelay(ctx context.Context, opts relayOptions, log *slog.Logger) (net.Addr, <-chan error, error) {
	clk := clock.Real{}
	srv := stream.NewServer(stream.ServerOptions{Tokens: opts.Tokens, AllowedOrigins: opts.AllowedOrigins, Clock: clk, Log: log})
	wh, err := alertmanager.NewWebhook(alertmanager.WebhookOptions{Name: "webhook", Clock: clk, Log: log})
	if err != nil {
		return nil, nil, err
	}
	sources := []datasource.AlertSource{wh}
	if len(opts.Alertmanagers) > 0 {
		p, err := alertmanager.NewPoller(alertmanager.PollerOptions{Name: "alertmanager", URLs: opts.Alertmanagers, Interval: opts.Poll, Clock: clk, Log: log})
		if err != nil {
			return nil, nil, err
		}
		sources = append(sources, p)
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, nil, fmt.Errorf("listen %s: %w", opts.Listen, err)
	}
	mux := http.NewServeMux()
	mux.Handle(stream.DefaultPath, srv)
	mux.Handle("/webhook", wh.Handler())
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		type src struct {
			Name, State, LastError string
		}
		out := struct {
			Stream  stream.ServerStats
			Sources []src
		}{Stream: srv.Stats()}
		for _, s := range sources {
			h := s.Health()
			out.Sources = append(out.Sources, src{s.Name(), string(h.State), h.LastError})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}

	go srv.Run(ctx)
	for _, s := range sources {
		go relayFeed(ctx, s, srv, clk, log)
	}
	done := make(chan error, 1)
	go func() {
		var err error
		if opts.TLSCert != "" {
			err = hs.ServeTLS(ln, opts.TLSCert, opts.TLSKey)
		} else {
			err = hs.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	go func() {
		<-ctx.Done()
		srv.Close()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(shut)
	}()
	return ln.Addr(), done, nil
}

// relayFeed forwards one source's events to the stream server, resubscribing with a
// capped backoff when its feed ends.
func relayFeed(ctx context.Context, src datasource.AlertSource, srv *stream.Server, clk clock.Clock, log *slog.Logger) {
	backoff := time.Second
	for ctx.Err() == nil {
		sub, err := src.Subscribe(ctx)
		if err == nil {
			for ev := range sub.C() {
				if ev.Source == "" {
					ev.Source = src.Name()
				}
				srv.Publish(ev)
				backoff = time.Second
			}
			err = sub.Err()
			sub.Close()
		}
		if ctx.Err() != nil {
			return
		}
		log.Warn("relay source ended; resubscribing", "source", src.Name(), "err", err, "backoff", backoff)
		t := clk.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		backoff = min(2*backoff, time.Minute)
	}
}

var _ flag.Value = (*listFlag)(nil)
