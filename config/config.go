// Package config loads, checks and prints opscockpit.yaml, the one file that tells the
// cockpit where its metrics, alerts, runbooks and risk register live.
//
// Decoding is strict: unknown fields are errors, and every problem is reported with the
// file, line and field path it concerns (see ValidationError), so that a typo in a
// war-room config is caught by `opscockpit check-config` rather than in the middle of an
// incident. Authentication and TLS use the http_config block of prometheus.yml
// (github.com/prometheus/common/config), and Redacted prints every secret as <secret>.
package config

import (
	"fmt"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// FileName is the config file's base name inside DataDir.
const FileName = "opscockpit.yaml"

// Theme names accepted in Config.Theme.
const (
	ThemeDark  = "dark"
	ThemeLight = "light"
)

// Panel types accepted in Panel.Type.
const (
	PanelStat       = "stat"
	PanelTimeseries = "timeseries"
	PanelSLO        = "slo"
)

// ScenarioSource is the panel source name that reads the configured scenario's series
// instead of a Prometheus-compatible store.
const ScenarioSource = "scenario"

// EmbeddedPrefix marks a Scenario.File that names a scenario shipped inside the binary
// ("embedded:NAME") instead of a path.
const EmbeddedPrefix = "embedded:"

// Defaults applied by Load to fields left out of the file.
const (
	DefaultTitle            = "OpsCockpit"
	DefaultTheme            = ThemeDark
	DefaultSpeed            = 1.0
	DefaultRefresh          = Duration(15 * time.Second)
	DefaultTimeout          = Duration(10 * time.Second)
	DefaultRange            = Duration(30 * time.Minute)
	DefaultSLOWindow        = Duration(30 * 24 * time.Hour)
	DefaultFeedSilentAfter  = Duration(10 * time.Minute)
	DefaultHistoryRetention = Duration(30 * 24 * time.Hour)
	DefaultStaleAfter       = Duration(90 * 24 * time.Hour)
)

// Limits checked by Validate.
const (
	MinRefresh  = Duration(time.Second)
	MinSpeed    = 0.1
	MaxSpeed    = 100.0
	MaxDecimals = 10
)

// Config is the whole of opscockpit.yaml.
type Config struct {
	// Path is the file the config came from, "" when it was embedded or built in code.
	Path string `yaml:"-"`
	// Warnings are problems that do not stop the cockpit, such as a secret in a file
	// others can read; LoadFile fills them and the UI shows them.
	Warnings []string `yaml:"-"`

	// Title is the name shown in the cockpit header (default "OpsCockpit").
	Title string `yaml:"title,omitempty"`
	// Theme is the colour theme, "dark" (default) or "light".
	Theme string `yaml:"theme,omitempty"`
	// Scenario, when set, replays a scripted scenario (the embedded demo or a drill).
	Scenario *Scenario `yaml:"scenario,omitempty"`
	// Metrics lists the metric stores and the panels drawn from them.
	Metrics Metrics `yaml:"metrics,omitempty"`
	// Alerts lists where alerts come from: Alertmanagers, a webhook and streams.
	Alerts Alerts `yaml:"alerts,omitempty"`
	// Runbooks says where runbook markdown files live and how alerts find them.
	Runbooks Runbooks `yaml:"runbooks,omitempty"`
	// Risk locates the risk register database and its matrix.
	Risk Risk `yaml:"risk,omitempty"`
	// Web configures the opt-in HTTP endpoint serving the cockpit's own /metrics.
	Web Web `yaml:"web,omitempty"`
	// Display tunes the war-room screen: the starting layout and kiosk type size.
	Display Display `yaml:"display,omitempty"`
	// Incidents tunes incident command: where incidents are kept and how often the
	// room owes a status update.
	Incidents Incidents `yaml:"incidents,omitempty"`
}

// Incidents configures incident command.
type Incidents struct {
	// DB is the SQLite file holding incidents and their timelines (default: cockpit.db
	// in the data folder, shared with the alert history; drill.db while a scenario plays).
	DB string `yaml:"db,omitempty"`
	// UpdateEvery is the default interval between status updates (default 30m).
	UpdateEvery Duration `yaml:"update_every,omitempty"`
	// UpdateEveryBySeverity overrides UpdateEvery per severity, e.g. {SEV1: 15m}.
	UpdateEveryBySeverity map[string]Duration `yaml:"update_every_by_severity,omitempty"`
}

// Display tunes the screen.
type Display struct {
	// Layout is the preset to open with when none was chosen before: commander
	// (default), wall, runbook or risk. The last layout picked with L persists.
	Layout string `yaml:"layout,omitempty"`
	// KioskTextScale multiplies text sizes in kiosk mode (default 1.5: readable from
	// three metres on a 1080p TV); from 1 to 4.
	KioskTextScale float64 `yaml:"kiosk_text_scale,omitempty"`
}

// Layout names accepted in Display.Layout.
var Layouts = []string{"commander", "wall", "runbook", "risk"}

// Scenario is a scripted scenario to replay on the cockpit's clock.
type Scenario struct {
	// File is the scenario path, relative to the config file's directory, or
	// "embedded:NAME" for one shipped with the binary.
	File string `yaml:"file"`
	// Speed is the playback rate, from 0.1 to 100 (default 1).
	Speed float64 `yaml:"speed,omitempty"`
	// Loop restarts the scenario from Start when it ends.
	Loop bool `yaml:"loop,omitempty"`
	// Start is the offset into the scenario to begin playing at (default 0).
	Start Duration `yaml:"start,omitempty"`
}

// Metrics configures the metric stores and the panels drawn from them.
type Metrics struct {
	// Refresh is how often panels are re-queried (default 15s, at least 1s).
	Refresh Duration `yaml:"refresh,omitempty"`
	// Timeout bounds each query (default 10s, or Refresh if that is shorter); it may not exceed Refresh.
	Timeout Duration `yaml:"timeout,omitempty"`
	// Sources are the Prometheus-compatible stores panels query.
	Sources []Source `yaml:"sources,omitempty"`
	// Panels are the stat tiles, time series charts and SLO tiles, in display order.
	Panels []Panel `yaml:"panels,omitempty"`
}

// Source is one Prometheus-compatible metric store (Prometheus, Thanos, Mimir,
// VictoriaMetrics, Cortex).
type Source struct {
	// Name identifies the source in panels and status chips; unique, and not "scenario".
	Name string `yaml:"name"`
	// URL is the store's base http or https URL, without /api/v1.
	URL string `yaml:"url"`
	// HTTPConfig is auth and TLS in the shape of prometheus.yml's http_config; Load
	// fills in prometheus/common's defaults when it is left out.
	HTTPConfig *commoncfg.HTTPClientConfig `yaml:"http_config,omitempty"`
}

// Panel is one tile or chart on the metrics board.
type Panel struct {
	// Title is the caption shown on the panel.
	Title string `yaml:"title"`
	// Type is "stat", "timeseries" or "slo".
	Type string `yaml:"type"`
	// Source names the Source to query; it defaults to "scenario" when a scenario is
	// configured, else to the only source.
	Source string `yaml:"source,omitempty"`
	// Query is the PromQL expression; for slo panels it yields the success ratio.
	Query string `yaml:"query"`
	// Unit is the display unit, such as s, ms, %, req/s or bytes.
	Unit string `yaml:"unit,omitempty"`
	// Decimals fixes the number of decimals shown (0 to 10); nil picks them automatically.
	Decimals *int `yaml:"decimals,omitempty"`
	// Thresholds colour the value from each threshold up, in strictly ascending order.
	Thresholds []Threshold `yaml:"thresholds,omitempty"`
	// Legend names each series from its labels, such as "{{service}} {{code}}".
	Legend string `yaml:"legend,omitempty"`
	// Min fixes the lower end of the value axis; nil fits it to the data.
	Min *float64 `yaml:"min,omitempty"`
	// Max fixes the upper end of the value axis; nil fits it to the data.
	Max *float64 `yaml:"max,omitempty"`
	// Range is the time window a timeseries panel shows (default 30m).
	Range Duration `yaml:"range,omitempty"`
	// Row is an optional group name; panels with the same row are laid out together.
	Row string `yaml:"row,omitempty"`
	// Objective is an slo panel's target in percent, such as 99.9, strictly between 0 and 100.
	Objective float64 `yaml:"objective,omitempty"`
	// Window is an slo panel's compliance period (default 30d).
	Window Duration `yaml:"window,omitempty"`
}

// Threshold colours a panel's value once it reaches Value.
type Threshold struct {
	// Value is the lower bound, inclusive, from which Color applies.
	Value float64 `yaml:"value"`
	// Color is green, amber, red, blue or an #rrggbb colour.
	Color string `yaml:"color"`
}

// Alerts configures where alerts come from.
type Alerts struct {
	// Alertmanagers are polled through the Alertmanager API v2.
	Alertmanagers []Alertmanager `yaml:"alertmanagers,omitempty"`
	// Webhook, when set, receives Alertmanager webhook notifications (payload version 4).
	Webhook *Webhook `yaml:"webhook,omitempty"`
	// Streams are websocket alert streams, such as an `opscockpit relay`.
	Streams []Stream `yaml:"streams,omitempty"`
	// FeedSilentAfter is how long without any alert update before a "feed silent"
	// banner shows (default 10m).
	FeedSilentAfter Duration `yaml:"feed_silent_after,omitempty"`
	// Sound plays a chime when a critical alert starts firing (as well as the desktop
	// notification).
	Sound bool `yaml:"sound,omitempty"`
	// HistoryRetention is how long alert state changes are kept in the database
	// (default 30d); acknowledgements are kept for good.
	HistoryRetention Duration `yaml:"history_retention,omitempty"`
}

// Alertmanager is one Alertmanager, or an HA cluster of peers deduplicated by fingerprint.
type Alertmanager struct {
	// Name identifies the Alertmanager in status chips; unique among alert sources.
	Name string `yaml:"name"`
	// URLs are the http or https base URLs of the cluster's peers.
	URLs []string `yaml:"urls"`
	// HTTPConfig is auth and TLS in the shape of prometheus.yml's http_config; Load
	// fills in prometheus/common's defaults when it is left out.
	HTTPConfig *commoncfg.HTTPClientConfig `yaml:"http_config,omitempty"`
}

// Webhook is the Alertmanager webhook receiver.
type Webhook struct {
	// Listen is the host:port to listen on; an Alertmanager webhook_config url points here.
	Listen string `yaml:"listen"`
}

// Stream is a websocket alert stream.
type Stream struct {
	// Name identifies the stream in status chips; unique among alert sources.
	Name string `yaml:"name"`
	// URL is the ws or wss URL of the stream.
	URL string `yaml:"url"`
	// TokenFile is a file holding the stream's bearer token, relative to the config file's directory.
	TokenFile string `yaml:"token_file,omitempty"`
}

// Runbooks says where runbooks live and how alerts find them.
type Runbooks struct {
	// Dirs are folders of markdown runbooks, searched in order.
	Dirs []string `yaml:"dirs,omitempty"`
	// URLMap maps runbook_url prefixes to local folders, so links open offline.
	URLMap []URLMap `yaml:"url_map,omitempty"`
	// StaleAfter is how long after last_reviewed a runbook is badged stale (default 90d).
	StaleAfter Duration `yaml:"stale_after,omitempty"`
	// PromQLSource is the metrics source that runbook ```promql blocks query (default:
	// the scenario when one plays, else the first of metrics.sources).
	PromQLSource string `yaml:"promql_source,omitempty"`
}

// URLMap maps one runbook_url prefix to a local folder.
type URLMap struct {
	// Prefix is the http or https URL prefix to match in runbook_url annotations.
	Prefix string `yaml:"prefix"`
	// Dir is the folder whose files stand for the URLs under Prefix.
	Dir string `yaml:"dir"`
}

// Risk locates the risk register.
type Risk struct {
	// DB is the SQLite file holding the risk register; "" leaves the choice to the caller.
	DB string `yaml:"db,omitempty"`
	// Matrix is a YAML file defining the likelihood × impact matrix; "" means the default 5×5.
	Matrix string `yaml:"matrix,omitempty"`
	// Escalation is a YAML file with the escalation levels and the rules that propose
	// escalations; "" means team → service owner → engineering director → executive
	// with the default rules.
	Escalation string `yaml:"escalation,omitempty"`
}

// Web configures the cockpit's own HTTP endpoint.
type Web struct {
	// Listen is the host:port serving /metrics; "" disables the endpoint.
	Listen string `yaml:"listen,omitempty"`
}

// Duration is a time.Duration written the Prometheus way in YAML: "15s", "1h30m", "30d".
type Duration time.Duration

// String formats d the way it is written in the config file, such as "1h30m" or "30d".
func (d Duration) String() string { return model.Duration(d).String() }

// MarshalYAML writes d in the same notation UnmarshalYAML reads.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads a Prometheus duration. Its errors are yaml TypeErrors so that the
// decoder keeps going and reports every bad field, not only the first.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf(
			"line %d: want a duration such as 15s, 1h30m or 30d, got %s", n.Line, nodeKindName(n))}}
	}
	v, err := model.ParseDuration(n.Value)
	if err != nil {
		reason := "want a number and a unit (ms, s, m, h, d, w or y) such as 15s, 1h30m or 30d"
		if err.Error() == "duration out of range" {
			reason = "out of range (at most about 292y)"
		}
		return &yaml.TypeError{Errors: []string{fmt.Sprintf(
			"line %d: invalid duration `%s`: %s", n.Line, n.Value, reason)}}
	}
	*d = Duration(v)
	return nil
}

// nodeKindName names a node's kind the way a config author would.
func nodeKindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	default:
		return "a scalar"
	}
}
