package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/assets"
	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/config"
)

func TestOwnMetricsEndpoint(t *testing.T) {
	cfg, err := config.Load(assets.DemoConfig(), assets.DemoConfigName)
	if err != nil {
		t.Fatal(err)
	}
	sys, err := assemble(cfg, clock.NewFake(time.Now()), 5*time.Minute, quiet())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := serveMetrics(ctx, "127.0.0.1:0", sys.metrics.reg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if err := firstAlerts(ctx, sys, "scenario"); err != nil {
		t.Fatal(err)
	}
	sys.metrics.uiApply.Observe(0.003)
	resp, err := http.Get("http://" + addr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`opscockpit_alert_events_total{source="scenario"} 1`,
		"opscockpit_ui_refresh_seconds_count 1",
		"go_goroutines",
		"process_resident_memory_bytes",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if _, err := serveMetrics(ctx, addr.String(), sys.metrics.reg, quiet()); err == nil || !strings.Contains(err.Error(), "web listen") {
		t.Errorf("a taken port: %v", err)
	}
}
