// Package replay is a clock-driven source that plays a scripted scenario: metric series
// in promtool's expanding notation and alerts that fire and resolve at offsets. The
// embedded demo, drills and tests all run through it, so they exercise the same path as
// live Prometheus and Alertmanager sources.
package replay

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// Scenario is a parsed scenario file.
type Scenario struct {
	Name        string
	Description string
	// Step is the spacing of series points.
	Step time.Duration
	// Duration is the scenario's length; playback holds the last state after it, or
	// starts over when looping.
	Duration time.Duration
	Series   []Series
	Alerts   []ScriptedAlert
}

// Series is one scripted time series, answered to queries whose text equals Query.
type Series struct {
	Query  string
	Labels map[string]string
	Points []Point
	line   int
}

// ScriptedAlert fires at At and resolves at Resolve (zero: stays firing).
type ScriptedAlert struct {
	At, Resolve  time.Duration
	Labels       map[string]string
	Annotations  map[string]string
	GeneratorURL string
	fingerprint  string
}

type fileScenario struct {
	Name        string         `yaml:"name"`
	Description string         `yaml:"description"`
	Step        model.Duration `yaml:"step"`
	Duration    model.Duration `yaml:"duration"`
	Series      []struct {
		Query  string            `yaml:"query"`
		Labels map[string]string `yaml:"labels"`
		Values string            `yaml:"values"`
		Line   int               `yaml:"-"`
	} `yaml:"series"`
	Alerts []struct {
		At           model.Duration    `yaml:"at"`
		Resolve      model.Duration    `yaml:"resolve"`
		Labels       map[string]string `yaml:"labels"`
		Annotations  map[string]string `yaml:"annotations"`
		GeneratorURL string            `yaml:"generator_url"`
	} `yaml:"alerts"`
}

// Parse reads a scenario file strictly: unknown fields, bad notation and impossible
// timings are errors that name the file and line.
func Parse(name string, data []byte) (*Scenario, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f fileScenario
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	line := func(path ...any) int { return lineOf(&root, path...) }
	var errs []error
	bad := func(l int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", name, l, fmt.Sprintf(format, args...)))
	}
	sc := &Scenario{Name: f.Name, Description: f.Description, Step: time.Duration(f.Step), Duration: time.Duration(f.Duration)}
	if sc.Name == "" {
		bad(line("name"), "name: required")
	}
	if sc.Step <= 0 {
		bad(line("step"), "step: must be a positive duration such as 15s")
	}
	if sc.Duration <= 0 {
		bad(line("duration"), "duration: must be a positive duration such as 12m")
	}
	for i, s := range f.Series {
		if strings.TrimSpace(s.Query) == "" {
			bad(line("series", i), "series[%d].query: required", i)
		}
		pts, err := ParseValues(s.Values)
		switch {
		case err != nil:
			bad(line("series", i, "values"), "series[%d].values: %v", i, err)
		case len(pts) == 0:
			bad(line("series", i, "values"), "series[%d].values: no points", i)
		}
		sc.Series = append(sc.Series, Series{Query: NormalizeQuery(s.Query), Labels: s.Labels, Points: pts, line: line("series", i)})
	}
	seen := map[string]int{}
	for i, a := range f.Alerts {
		at, res := time.Duration(a.At), time.Duration(a.Resolve)
		if a.Labels["alertname"] == "" {
			bad(line("alerts", i), "alerts[%d].labels.alertname: required", i)
		}
		if at < 0 || (sc.Duration > 0 && at >= sc.Duration) {
			bad(line("alerts", i, "at"), "alerts[%d].at: %s is outside the scenario (0 to %s)", i, a.At, f.Duration)
		}
		if res != 0 && res <= at {
			bad(line("alerts", i, "resolve"), "alerts[%d].resolve: %s is not after at %s", i, a.Resolve, a.At)
		}
		fp := model.LabelSet(toLabelSet(a.Labels)).Fingerprint().String()
		if j, dup := seen[fp]; dup {
			bad(line("alerts", i), "alerts[%d]: same labels as alerts[%d] (one alert per label set)", i, j)
		}
		seen[fp] = i
		sc.Alerts = append(sc.Alerts, ScriptedAlert{At: at, Resolve: res, Labels: a.Labels, Annotations: a.Annotations, GeneratorURL: a.GeneratorURL, fingerprint: fp})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return sc, nil
}

// NormalizeQuery folds white space so that a panel's query matches a scenario series
// however either was line-wrapped.
func NormalizeQuery(q string) string { return strings.Join(strings.Fields(q), " ") }

func toLabelSet(m map[string]string) model.LabelSet {
	ls := make(model.LabelSet, len(m))
	for k, v := range m {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls
}

// lineOf finds the line of a mapping key or sequence item along path in a YAML tree;
// where the path ends early it returns the deepest line found, so messages still point
// near the problem.
func lineOf(n *yaml.Node, path ...any) int {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, p := range path {
		switch key := p.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return line
			}
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == key {
					line, n, found = n.Content[i].Line, n.Content[i+1], true
					break
				}
			}
			if !found {
				return line
			}
		case int:
			if n.Kind != yaml.SequenceNode || key >= len(n.Content) {
				return line
			}
			n = n.Content[key]
			line = n.Line
		}
	}
	return line
}
