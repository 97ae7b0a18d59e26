package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// selfMetrics is the cockpit's own health, on its own registry (never the global one).
type selfMetrics struct {
	reg      *prometheus.Registry
	uiApply  prometheus.Histogram
	uiLag    prometheus.Gauge
	alertsIn *prometheus.CounterVec
}

func newSelfMetrics() *selfMetrics {
	m := &selfMetrics{
		reg: prometheus.NewRegistry(),
		uiApply: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "opscockpit_ui_refresh_seconds",
			Help:    "Time the UI goroutine spent applying one model snapshot to the widgets.",
			Buckets: []float64{.0005, .001, .002, .004, .008, .016, .032, .064, .128},
		}),
		uiLag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "opscockpit_ui_snapshot_lag",
			Help: "How many model snapshots the screen is behind the model.",
		}),
		alertsIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opscockpit_alert_events_total",
			Help: "Alert events received, by source.",
		}, []string{"source"}),
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.uiApply, m.uiLag, m.alertsIn)
	return m
}

// serveMetrics serves /metrics on addr until ctx ends and returns the address it
// listens on. The listener is opened before it returns, so a taken port is reported at
// once.
func serveMetrics(ctx context.Context, addr string, reg *prometheus.Registry, log *slog.Logger) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("web listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics endpoint stopped", "err", err)
		}
	}()
	log.Info("serving own metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return ln.Addr(), nil
}
