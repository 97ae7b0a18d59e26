package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	commoncfg "github.com/prometheus/common/config"
)

// Validate checks the config as a whole and returns a ValidationError listing every
// problem, or nil. Zero values that Load would replace with a default are accepted, so a
// config built in code can be validated before or after defaults are applied. Validate
// also runs prometheus/common's HTTPClientConfig.Validate, which normalises a
// bearer_token into an authorization block.
func (c *Config) Validate() error {
	var p problems
	c.validate(&p)
	for i := range p.list {
		p.list[i].File = c.Path
	}
	return p.err()
}

func (c *Config) validate(p *problems) {
	if l := c.Display.Layout; l != "" && !slices.Contains(Layouts, l) {
		p.add("display.layout", "unknown layout %q (want one of %s)", l, strings.Join(Layouts, ", "))
	}
	checkPositive(p, "incidents.update_every", "update_every", c.Incidents.UpdateEvery)
	for name, d := range c.Incidents.UpdateEveryBySeverity {
		f := "incidents.update_every_by_severity." + name
		switch strings.ToUpper(name) {
		case "SEV1", "SEV2", "SEV3", "SEV4":
		default:
			p.add(f, "unknown severity %q (want SEV1, SEV2, SEV3 or SEV4)", name)
		}
		checkPositive(p, f, name, d)
	}
	if k := c.Display.KioskTextScale; k != 0 && (k < 1 || k > 4) {
		p.add("display.kiosk_text_scale", "%g is out of range (want 1 to 4)", k)
	}
	switch c.Theme {
	case "", ThemeDark, ThemeLight:
	default:
		p.add("theme", "unknown theme %q (want dark or light)", c.Theme)
	}
	if s := c.Scenario; s != nil {
		c.validateScenario(p, s)
	}
	c.validateMetrics(p)
	c.validateAlerts(p)
	c.validateRunbooks(p)
	if c.Web.Listen != "" {
		checkListen(p, "web.listen", c.Web.Listen)
	}
}

func (c *Config) validateScenario(p *problems, s *Scenario) {
	switch name, embedded := strings.CutPrefix(s.File, EmbeddedPrefix); {
	case s.File == "":
		p.add("scenario.file", "missing scenario file (a path, or embedded:NAME)")
	case embedded && strings.TrimSpace(name) == "":
		p.add("scenario.file", "missing scenario name after %q", EmbeddedPrefix)
	}
	if s.Speed != 0 && !(s.Speed >= MinSpeed && s.Speed <= MaxSpeed) {
		p.add("scenario.speed", "speed %v out of range (want %v to %v)", s.Speed, MinSpeed, MaxSpeed)
	}
	if s.Start < 0 {
		p.add("scenario.start", "start %v is negative", s.Start)
	}
}

func (c *Config) validateMetrics(p *problems) {
	m := &c.Metrics
	refresh := m.Refresh
	switch {
	case refresh == 0:
		refresh = DefaultRefresh
	case refresh < MinRefresh:
		p.add("metrics.refresh", "refresh %v is too short (want at least %v)", refresh, MinRefresh)
	}
	switch {
	case m.Timeout < 0:
		p.add("metrics.timeout", "timeout %v is negative", m.Timeout)
	case m.Timeout > refresh && refresh >= MinRefresh:
		// A query still running when the next refresh starts would pile up behind it.
		p.add("metrics.timeout", "timeout %v is longer than refresh %v", m.Timeout, refresh)
	}

	names := map[string]bool{}
	for i, s := range m.Sources {
		f := fmt.Sprintf("metrics.sources[%d]", i)
		checkName(p, f+".name", s.Name, names, "metrics.sources")
		if s.Name == ScenarioSource {
			p.add(f+".name", "the source name %q is reserved for the scenario replay", ScenarioSource)
		}
		checkURL(p, f+".url", s.URL, "http", "https")
		checkHTTPConfig(p, f+".http_config", s.HTTPConfig)
	}

	for i := range m.Panels {
		c.validatePanel(p, i, &m.Panels[i], names)
	}
}

var legendRefRe = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func (c *Config) validatePanel(p *problems, i int, pn *Panel, sources map[string]bool) {
	f := fmt.Sprintf("metrics.panels[%d]", i)
	switch pn.Type {
	case PanelStat, PanelTimeseries, PanelSLO:
	case "":
		p.add(f+".type", "missing panel type (want stat, timeseries or slo)")
	default:
		p.add(f+".type", "unknown panel type %q (want stat, timeseries or slo)", pn.Type)
	}

	switch src := c.panelSource(pn); {
	case src == ScenarioSource && c.Scenario != nil:
	case src == ScenarioSource:
		p.add(f+".source", "source %q needs a scenario, and none is configured", src)
	case src != "":
		if !sources[src] {
			p.add(f+".source", "unknown source %q (want %s)", src, c.sourceChoices())
		}
	case len(c.Metrics.Sources) == 0:
		p.add(f+".source", "no metrics source is configured (add metrics.sources or a scenario)")
	default:
		p.add(f+".source", "missing source (want %s)", c.sourceChoices())
	}

	if strings.TrimSpace(pn.Query) == "" {
		p.add(f+".query", "missing query")
	}
	if pn.Decimals != nil && (*pn.Decimals < 0 || *pn.Decimals > MaxDecimals) {
		p.add(f+".decimals", "decimals %d out of range (want 0 to %d)", *pn.Decimals, MaxDecimals)
	}
	for j, t := range pn.Thresholds {
		tf := fmt.Sprintf("%s.thresholds[%d]", f, j)
		switch {
		case math.IsNaN(t.Value) || math.IsInf(t.Value, 0):
			p.add(tf+".value", "threshold value %v is not a finite number", t.Value)
		case j > 0 && !(t.Value > pn.Thresholds[j-1].Value):
			p.add(tf+".value", "thresholds must be in strictly ascending order: %v follows %v", t.Value, pn.Thresholds[j-1].Value)
		}
		if !validColor(t.Color) {
			p.add(tf+".color", "unknown color %q (want green, amber, red, blue or #rrggbb)", t.Color)
		}
	}
	if msg := checkLegend(pn.Legend); msg != "" {
		p.add(f+".legend", "%s", msg)
	}
	for _, b := range []struct {
		name string
		v    *float64
	}{{"min", pn.Min}, {"max", pn.Max}} {
		if b.v != nil && (math.IsNaN(*b.v) || math.IsInf(*b.v, 0)) {
			p.add(f+"."+b.name, "%s %v is not a finite number", b.name, *b.v)
		}
	}
	if pn.Min != nil && pn.Max != nil && !(*pn.Min < *pn.Max) {
		p.add(f+".max", "max %v must be greater than min %v", *pn.Max, *pn.Min)
	}
	checkPositive(p, f+".range", "range", pn.Range)
	checkPositive(p, f+".window", "window", pn.Window)
	if pn.Type == PanelSLO && !(pn.Objective > 0 && pn.Objective < 100) {
		if pn.Objective == 0 {
			p.add(f+".objective", "missing objective for an slo panel (a percentage such as 99.9)")
		} else {
			p.add(f+".objective", "objective %v out of range (want a percentage strictly between 0 and 100, such as 99.9)", pn.Objective)
		}
	}
	if pn.Type == PanelSLO && strings.TrimSpace(pn.Query) != "" && !strings.Contains(pn.Query, "$window") {
		p.add(f+".query", "an slo query is a ratio of bad to all events with $window as its rate window, e.g. sum(rate(errors[$window])) / sum(rate(requests[$window]))")
	}
}

// panelSource is the source a panel queries once defaults apply: its own, else the
// scenario when one is configured, else the only source, else "".
func (c *Config) panelSource(pn *Panel) string {
	switch {
	case pn.Source != "":
		return pn.Source
	case c.Scenario != nil:
		return ScenarioSource
	case len(c.Metrics.Sources) == 1:
		return c.Metrics.Sources[0].Name
	}
	return ""
}

func (c *Config) sourceChoices() string {
	var names []string
	for _, s := range c.Metrics.Sources {
		names = append(names, strconv.Quote(s.Name))
	}
	if c.Scenario != nil {
		names = append(names, strconv.Quote(ScenarioSource))
	}
	if len(names) == 0 {
		return "a configured source; none is configured"
	}
	return "one of " + strings.Join(names, ", ")
}

func (c *Config) validateAlerts(p *problems) {
	a := &c.Alerts
	// Alertmanagers and streams share one name space: both show up as alert-source chips.
	names := map[string]bool{}
	for i, am := range a.Alertmanagers {
		f := fmt.Sprintf("alerts.alertmanagers[%d]", i)
		checkName(p, f+".name", am.Name, names, "alert sources")
		if len(am.URLs) == 0 {
			p.add(f+".urls", "missing urls (one per Alertmanager peer)")
		}
		seen := map[string]bool{}
		for j, u := range am.URLs {
			uf := fmt.Sprintf("%s.urls[%d]", f, j)
			checkURL(p, uf, u, "http", "https")
			if seen[u] {
				p.add(uf, "URL is listed twice")
			}
			seen[u] = true
		}
		checkHTTPConfig(p, f+".http_config", am.HTTPConfig)
	}
	if w := a.Webhook; w != nil {
		if w.Listen == "" {
			p.add("alerts.webhook.listen", "missing listen address (host:port)")
		} else {
			checkListen(p, "alerts.webhook.listen", w.Listen)
		}
	}
	for i, s := range a.Streams {
		f := fmt.Sprintf("alerts.streams[%d]", i)
		checkName(p, f+".name", s.Name, names, "alert sources")
		checkURL(p, f+".url", s.URL, "ws", "wss")
	}
	checkPositive(p, "alerts.feed_silent_after", "feed_silent_after", a.FeedSilentAfter)
	checkPositive(p, "alerts.history_retention", "history_retention", a.HistoryRetention)
}

func (c *Config) validateRunbooks(p *problems) {
	r := &c.Runbooks
	for i, d := range r.Dirs {
		if strings.TrimSpace(d) == "" {
			p.add(fmt.Sprintf("runbooks.dirs[%d]", i), "empty folder name")
		}
	}
	for i, m := range r.URLMap {
		f := fmt.Sprintf("runbooks.url_map[%d]", i)
		checkURL(p, f+".prefix", m.Prefix, "http", "https")
		if strings.TrimSpace(m.Dir) == "" {
			p.add(f+".dir", "missing dir")
		}
	}
	checkPositive(p, "runbooks.stale_after", "stale_after", r.StaleAfter)
	if src := r.PromQLSource; src != "" {
		known := src == ScenarioSource && c.Scenario != nil
		for _, s := range c.Metrics.Sources {
			known = known || s.Name == src
		}
		if !known {
			p.add("runbooks.promql_source", "unknown source %q (want %s)", src, c.sourceChoices())
		}
	}
}

// checkHTTPConfig runs prometheus/common's own checks. Decoding already ran them; this
// is for configs built in code.
func checkHTTPConfig(p *problems, field string, hc *commoncfg.HTTPClientConfig) {
	if hc == nil {
		return
	}
	if err := hc.Validate(); err != nil {
		p.add(field, "%v", err)
	}
	if err := hc.TLSConfig.Validate(); err != nil {
		p.add(field+".tls_config", "%v", err)
	}
}

// checkName requires a non-empty name not used before in the same name space.
func checkName(p *problems, field, name string, seen map[string]bool, space string) {
	if strings.TrimSpace(name) == "" {
		p.add(field, "missing name")
		return
	}
	if _, dup := seen[name]; dup {
		p.add(field, "name %q is used more than once in %s", name, space)
		return
	}
	seen[name] = true
}

// checkURL requires an absolute URL with one of schemes and a host. Messages never echo
// the URL itself, which may carry a password.
func checkURL(p *problems, field, raw string, schemes ...string) {
	want := strings.Join(schemes, " or ")
	if strings.TrimSpace(raw) == "" {
		p.add(field, "missing URL (want %s)", want)
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		p.add(field, "invalid URL: %v", err)
		return
	}
	scheme := strings.ToLower(u.Scheme)
	ok := false
	for _, s := range schemes {
		ok = ok || scheme == s
	}
	switch {
	case u.Scheme == "":
		p.add(field, "URL has no scheme (want %s://host…)", schemes[0])
	case !ok:
		p.add(field, "unsupported URL scheme %q (want %s)", u.Scheme, want)
	case u.Host == "":
		p.add(field, "URL has no host")
	}
}

// checkListen requires host:port with a numeric port; the host may be empty (all
// interfaces), an IP address or a name.
func checkListen(p *problems, field, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		p.add(field, "invalid listen address %q (want host:port, such as 127.0.0.1:9097)", addr)
		return
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		p.add(field, "invalid port %q in listen address (want 1 to 65535)", port)
	}
	if host != "" && net.ParseIP(host) == nil && !validHostname(host) {
		p.add(field, "invalid host %q in listen address", host)
	}
}

func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return false
			}
		}
	}
	return true
}

func checkPositive(p *problems, field, name string, d Duration) {
	if d < 0 {
		p.add(field, "%s %v is negative", name, d)
	}
}

var hexColorRe = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

func validColor(s string) bool {
	switch s {
	case "green", "amber", "red", "blue":
		return true
	}
	return hexColorRe.MatchString(s)
}

// checkLegend checks that every {{ ... }} in a legend names one label.
func checkLegend(s string) string {
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			return ""
		}
		s = s[i+2:]
		j := strings.Index(s, "}}")
		if j < 0 {
			return "unclosed {{ in legend"
		}
		if name := strings.TrimSpace(s[:j]); !legendRefRe.MatchString(name) {
			return fmt.Sprintf("%q is not a label name (want {{label}}, such as {{service}})", shorten(name, 40))
		}
		s = s[j+2:]
	}
}
