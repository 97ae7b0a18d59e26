package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	commoncfg "github.com/prometheus/common/config"
	"go.yaml.in/yaml/v3"
)

// MaxFileSize caps what LoadFile reads: a config is a few kilobytes, and a bigger file is
// a mistake (the wrong path) rather than a config.
const MaxFileSize = 4 << 20

// Load decodes a config strictly (unknown fields are errors), applies defaults and
// validates it. name is the file name shown in error messages, such as "opscockpit.yaml"
// or "embedded:demo.yaml". Every problem found is returned in a ValidationError whose
// entries carry name, the line and the field path. Load touches no files: relative paths
// stay as written (LoadFile resolves them).
func Load(data []byte, name string) (*Config, error) {
	c, root, errs := decode(data)
	if errs == nil {
		c.applyDefaults()
		var p problems
		c.validate(&p)
		if len(p.list) > 0 {
			idx := newNodeIndex(root)
			for i := range p.list {
				p.list[i].Line = idx.lineOf(p.list[i].Field)
			}
			errs = p.list
		}
	}
	if len(errs) == 0 {
		return c, nil
	}
	for i := range errs {
		errs[i].File = name
	}
	slices.SortStableFunc(errs, func(a, b FieldError) int { return a.Line - b.Line })
	return nil, errs
}

// decode is Load's first half: YAML into a Config and a node tree (for the lines of
// later problems), or the problems with the file's shape.
func decode(data []byte) (*Config, *yaml.Node, ValidationError) {
	// Parsing the tree first also reports a syntax error once, with its line, before
	// the strict decode trips over it.
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, nil, newNodeIndex(nil).translate(err)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(&c)
	if errors.Is(err, io.EOF) {
		return &c, &root, nil // an empty file is an empty config
	}
	if err != nil {
		return nil, nil, newNodeIndex(&root).translate(err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, nil, newNodeIndex(nil).translate(err)
	default:
		return nil, nil, ValidationError{{Line: extra.Line, Msg: "more than one YAML document (want one)"}}
	}
	return &c, &root, nil
}

// LoadFile reads, decodes and validates the config file at path. Relative paths in it
// (scenario file, token and credential files, runbook folders, risk files) are resolved
// against the file's folder and a leading ~/ against the home directory. A file holding
// an inline secret that others may read is accepted with a warning in Config.Warnings.
func LoadFile(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if info.IsDir() {
		return nil, fmt.Errorf("read config %s: is a directory", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("read config %s: larger than %d MiB", path, MaxFileSize>>20)
	}
	c, err := Load(data, path)
	if err != nil {
		return nil, err
	}
	c.Path = path
	c.resolvePaths(filepath.Dir(path))
	// Windows has no group/other mode bits to check; its ACLs are out of reach here.
	if perm := info.Mode().Perm(); runtime.GOOS != "windows" && perm&0o044 != 0 && c.hasInlineSecret() {
		c.Warnings = append(c.Warnings, fmt.Sprintf(
			"config file %s holds a secret and is readable by others (mode %04o); chmod 600 it", path, perm))
	}
	return c, nil
}

// applyDefaults fills the fields the file left out; see the Default constants.
func (c *Config) applyDefaults() {
	if c.Title == "" {
		c.Title = DefaultTitle
	}
	if c.Theme == "" {
		c.Theme = DefaultTheme
	}
	if c.Display.KioskTextScale == 0 {
		c.Display.KioskTextScale = 1.5
	}
	if s := c.Scenario; s != nil && s.Speed == 0 {
		s.Speed = DefaultSpeed
	}
	m := &c.Metrics
	if m.Refresh == 0 {
		m.Refresh = DefaultRefresh
	}
	if m.Timeout == 0 {
		m.Timeout = min(DefaultTimeout, m.Refresh)
	}
	for i := range m.Sources {
		defaultHTTPConfig(&m.Sources[i].HTTPConfig)
	}
	for i := range m.Panels {
		pn := &m.Panels[i]
		pn.Source = c.panelSource(pn)
		switch pn.Type {
		case PanelTimeseries:
			if pn.Range == 0 {
				pn.Range = DefaultRange
			}
		case PanelSLO:
			if pn.Window == 0 {
				pn.Window = DefaultSLOWindow
			}
		}
	}
	a := &c.Alerts
	for i := range a.Alertmanagers {
		defaultHTTPConfig(&a.Alertmanagers[i].HTTPConfig)
	}
	if a.HistoryRetention == 0 {
		a.HistoryRetention = DefaultHistoryRetention
	}
	if a.FeedSilentAfter == 0 {
		a.FeedSilentAfter = DefaultFeedSilentAfter
	}
	if c.Runbooks.StaleAfter == 0 {
		c.Runbooks.StaleAfter = DefaultStaleAfter
	}
}

// defaultHTTPConfig gives adapters a config they can hand to
// commoncfg.NewClientFromConfig without a nil check.
func defaultHTTPConfig(hc **commoncfg.HTTPClientConfig) {
	if *hc == nil {
		d := commoncfg.DefaultHTTPClientConfig
		*hc = &d
	}
}

// resolvePaths makes the file's relative paths relative to dir, the config file's folder,
// the way prometheus.yml's are, and expands a leading ~.
func (c *Config) resolvePaths(dir string) {
	home, _ := os.UserHomeDir()
	res := func(p *string) { *p = resolvePath(*p, dir, home) }
	if s := c.Scenario; s != nil && !strings.HasPrefix(s.File, EmbeddedPrefix) {
		res(&s.File)
	}
	for i := range c.Metrics.Sources {
		resolveHTTPConfig(c.Metrics.Sources[i].HTTPConfig, dir, home)
	}
	for i := range c.Alerts.Alertmanagers {
		resolveHTTPConfig(c.Alerts.Alertmanagers[i].HTTPConfig, dir, home)
	}
	for i := range c.Alerts.Streams {
		res(&c.Alerts.Streams[i].TokenFile)
	}
	for i := range c.Runbooks.Dirs {
		res(&c.Runbooks.Dirs[i])
	}
	for i := range c.Runbooks.URLMap {
		res(&c.Runbooks.URLMap[i].Dir)
	}
	res(&c.Risk.DB)
	res(&c.Risk.Matrix)
	res(&c.Risk.Escalation)
	res(&c.Incidents.DB)
}

func resolvePath(p, dir, home string) string {
	if p == "" {
		return ""
	}
	if home != "" {
		if p == "~" {
			return home
		}
		if rest, ok := strings.CutPrefix(p, "~/"); ok {
			return filepath.Join(home, rest)
		}
		if rest, ok := strings.CutPrefix(p, `~\`); ok && runtime.GOOS == "windows" {
			return filepath.Join(home, rest)
		}
	}
	return commoncfg.JoinDir(dir, p)
}

// resolveHTTPConfig expands ~ in the credential and certificate files of an http_config,
// then lets prometheus/common join the relative ones with dir.
func resolveHTTPConfig(hc *commoncfg.HTTPClientConfig, dir, home string) {
	if hc == nil {
		return
	}
	tilde := func(p *string) {
		if *p == "~" || strings.HasPrefix(*p, "~/") {
			*p = resolvePath(*p, dir, home)
		}
	}
	tls := func(t *commoncfg.TLSConfig) {
		tilde(&t.CAFile)
		tilde(&t.CertFile)
		tilde(&t.KeyFile)
	}
	tilde(&hc.BearerTokenFile)
	tls(&hc.TLSConfig)
	if b := hc.BasicAuth; b != nil {
		tilde(&b.UsernameFile)
		tilde(&b.PasswordFile)
	}
	if a := hc.Authorization; a != nil {
		tilde(&a.CredentialsFile)
	}
	if o := hc.OAuth2; o != nil {
		tilde(&o.ClientSecretFile)
		tilde(&o.ClientCertificateKeyFile)
		tls(&o.TLSConfig)
	}
	if h := hc.HTTPHeaders; h != nil {
		for _, v := range h.Headers {
			for i := range v.Files {
				tilde(&v.Files[i])
			}
		}
	}
	hc.SetDirectory(dir)
}

// DataDir returns the cockpit's folder in the user's config directory
// (~/.config/opscockpit on Linux), creating it with mode 0700 if it is missing: it holds
// the config, the database and their secrets.
func DataDir() (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find user config dir: %w", err)
	}
	dir := filepath.Join(base, "opscockpit")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create data dir: %w", err)
	}
	return dir, nil
}

// DefaultPath is where the config is looked for when --config is not given:
// opscockpit.yaml in DataDir. Unlike DataDir it creates nothing; when the user config
// directory is unknown it falls back to opscockpit.yaml in the working directory.
func DefaultPath() string {
	base, err := os.UserConfigDir()
	if err != nil {
		return FileName
	}
	return filepath.Join(base, "opscockpit", FileName)
}
