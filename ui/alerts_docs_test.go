package ui

import (
	"fmt"
	"image/png"
	"os"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/history"
)

// stormAlerts makes n realistic alerts across services, teams and severities.
func stormAlerts(n int, now time.Time) []datasource.Alert {
	services := []string{"checkout", "payments", "search", "cart", "auth", "catalog", "shipping", "reviews"}
	teams := map[string]string{"checkout": "shop-core", "payments": "payments", "search": "discovery", "cart": "shop-core",
		"auth": "identity", "catalog": "discovery", "shipping": "logistics", "reviews": "community"}
	names := []string{"HighErrorRate", "HighLatency", "PodCrashLooping", "DiskFilling", "CertificateExpiring", "QueueBacklog"}
	sevs := []string{"critical", "warning", "warning", "info"}
	out := make([]datasource.Alert, n)
	for i := range out {
		svc := services[i%len(services)]
		name := svc[:1] + names[(i/len(services))%len(names)]
		name = string(rune(svc[0]-32)) + svc[1:] + names[(i/len(services))%len(names)]
		out[i] = datasource.Alert{
			Fingerprint: fmt.Sprintf("%016x", i*2654435761),
			Labels: map[string]string{"alertname": name, "severity": sevs[i%len(sevs)], "service": svc, "team": teams[svc],
				"instance": fmt.Sprintf("%s-%d:8080", svc, i%17), "namespace": "prod"},
			Annotations: map[string]string{"summary": fmt.Sprintf("%s on %s-%d", name, svc, i%17)},
			State:       datasource.StateFiring,
			StartsAt:    now.Add(-time.Duration(i%240) * time.Minute),
			UpdatedAt:   now,
			Source:      "am-eu",
		}
	}
	return out
}

// TestDocsAlertsPanel renders the alerts panel with a few hundred alerts grouped by
// team, one acknowledged, one silenced and one Alertmanager peer down, for the README.
// Run with OPSCOCKPIT_DOCS=1 (make docs).
func TestDocsAlertsPanel(t *testing.T) {
	if os.Getenv("OPSCOCKPIT_DOCS") == "" {
		t.Skip("set OPSCOCKPIT_DOCS=1 to regenerate docs screenshots (make docs)")
	}
	a := test.NewTempApp(t)
	a.Settings().SetTheme(NewTheme(false))
	now := time.Date(2026, 11, 24, 3, 12, 0, 0, time.Local)
	clk := clock.NewFake(now)
	hub := cockpit.NewHub(clk, cockpit.HubOptions{Title: "Production — EU", AlertFeeds: 2})
	alerts := stormAlerts(320, now)
	hub.ApplyAlerts(datasource.AlertEvent{Kind: datasource.Snapshot, Source: "am-eu", Alerts: alerts})
	hub.SetHealth(datasource.Health{Source: "am-eu (am-1)", Kind: "alertmanager", State: datasource.HealthUp, LastSuccess: now})
	hub.SetHealth(datasource.Health{Source: "am-eu (am-2)", Kind: "alertmanager", State: datasource.HealthDown,
		LastError: "connection refused", ErrorSince: now.Add(-7 * time.Minute)})
	hub.SetHealth(datasource.Health{Source: "relay", Kind: "stream", State: datasource.HealthUp, LastSuccess: now})
	view := New(Deps{Hub: hub, Clock: clk, ParseFilter: equalsFilter})
	view.Apply(hub.Publish())
	view.alerts.group.SetSelected("by alertname")
	// acknowledge the first alert of the first group and silence another of that group
	first := view.alerts.items[1].alert
	hub.SetAck(history.Ack{Fingerprint: first.Fingerprint, Name: first.Name(), By: "alice", At: now.Add(-2 * time.Minute), Comment: "failing over to the standby"})
	for i := range alerts {
		if alerts[i].Fingerprint == view.alerts.items[3].alert.Fingerprint {
			alerts[i].State, alerts[i].SilencedBy = datasource.StateSuppressed, []string{"3f1c-silence"}
		}
	}
	hub.ApplyAlerts(datasource.AlertEvent{Kind: datasource.Snapshot, Source: "am-eu", Alerts: alerts})
	view.Apply(hub.Publish())
	view.alerts.list.Select(1)
	view.alerts.list.ScrollToTop()
	// the alert side of the screen, at full height: header, list, selected alert
	w := test.NewTempWindow(t, container.NewBorder(view.header.box, view.detail.box, nil, nil, view.alerts.box))
	w.Resize(fyne.NewSize(1280, 1080))
	for range 2 {
		w.Content().Refresh()
	}
	f, err := os.Create("../docs/alerts-panel.png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, w.Canvas().Capture()); err != nil {
		t.Fatal(err)
	}
}
