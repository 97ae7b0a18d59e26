package runbooks

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// FrontMatterError reports bad YAML front matter: a syntax error, an unknown
// field, a wrong type or a bad date. Line is a line of the runbook file.
type FrontMatterError struct {
	Line int
	Msg  string
}

func (e *FrontMatterError) Error() string {
	return fmt.Sprintf("line %d: front matter: %s", e.Line, e.Msg)
}

// dateLayout is the only accepted form of last_reviewed.
const dateLayout = "2006-01-02"

// rawMeta mirrors Meta with YAML keys; unknown keys are errors.
type rawMeta struct {
	Title        string    `yaml:"title"`
	Alerts       []string  `yaml:"alerts"`
	Services     []string  `yaml:"services"`
	Owner        string    `yaml:"owner"`
	LastReviewed rawDate   `yaml:"last_reviewed"`
	Severity     string    `yaml:"severity"`
	Escalation   []Contact `yaml:"escalation"`
}

type rawDate struct{ t time.Time }

func (d *rawDate) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!null" || n.Value == "") {
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return &FrontMatterError{Line: n.Line, Msg: "last_reviewed must be a date like 2026-10-01"}
	}
	t, err := time.Parse(dateLayout, n.Value)
	if err != nil {
		return &FrontMatterError{Line: n.Line, Msg: fmt.Sprintf("last_reviewed %q is not a date of the form YYYY-MM-DD", n.Value)}
	}
	d.t = t
	return nil
}

// splitFrontMatter separates a leading "---" … "---" (or "...") block from
// the body. Without front matter, yml is nil and body is b. A first line of
// "---" that is never closed is a thematic break, not front matter.
func splitFrontMatter(b []byte) (yml, body []byte, err error) {
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 || !isFence(b[:nl], "---") {
		return nil, b, nil
	}
	rest := b[nl+1:]
	for off := 0; off < len(rest); {
		l, next := rest[off:], len(rest)
		if end := bytes.IndexByte(l, '\n'); end >= 0 {
			l, next = l[:end], off+end+1
		}
		if isFence(l, "---") || isFence(l, "...") {
			if off > MaxFrontMatter {
				return nil, nil, &LimitError{What: LimitFrontMatter, Line: 1, Got: off, Limit: MaxFrontMatter}
			}
			return rest[:off], rest[next:], nil
		}
		off = next
	}
	return nil, b, nil
}

func isFence(l []byte, fence string) bool {
	return string(bytes.TrimRight(l, " \t")) == fence
}

var (
	yamlLineRe    = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownKeyRe  = regexp.MustCompile(`^field (.+) not found in type \S+$`)
	internalTypes = strings.NewReplacer("runbooks.rawMeta", "a mapping", "runbooks.Contact", "a contact (name, role, contact)", "runbooks.rawDate", "a date")
)

// decodeMeta decodes front matter strictly. The YAML text is prefixed with
// newlines so that line numbers in errors are lines of the whole file.
func decodeMeta(yml []byte) (Meta, error) {
	if len(bytes.TrimSpace(yml)) == 0 {
		return Meta{}, nil
	}
	in := make([]byte, 0, len(yml)+1)
	in = append(in, '\n') // the opening --- is line 1
	in = append(in, yml...)
	dec := yaml.NewDecoder(bytes.NewReader(in))
	dec.KnownFields(true)
	var raw rawMeta
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) { // comments only
			return Meta{}, nil
		}
		return Meta{}, frontMatterError(err)
	}
	return Meta{
		Title:        strings.TrimSpace(raw.Title),
		Alerts:       raw.Alerts,
		Services:     raw.Services,
		Owner:        raw.Owner,
		LastReviewed: raw.LastReviewed.t,
		Severity:     raw.Severity,
		Escalation:   raw.Escalation,
	}, nil
}

// frontMatterError turns a yaml error into a FrontMatterError that names the
// first offending line and hides Go type names.
func frontMatterError(err error) error {
	var fe *FrontMatterError
	if errors.As(err, &fe) {
		return fe
	}
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	out := &FrontMatterError{Line: 1}
	var parts []string
	for i, m := range msgs {
		line := 0
		if g := yamlLineRe.FindStringSubmatch(m); g != nil {
			line, _ = strconv.Atoi(g[1])
			m = g[2]
		}
		if g := unknownKeyRe.FindStringSubmatch(m); g != nil {
			m = fmt.Sprintf("unknown field %q", g[1])
		}
		m = internalTypes.Replace(strings.TrimPrefix(m, "yaml: "))
		if i == 0 {
			if line > 0 {
				out.Line = line
			}
			parts = append(parts, m)
			continue
		}
		if line > 0 {
			m = fmt.Sprintf("line %d: %s", line, m)
		}
		parts = append(parts, m)
	}
	out.Msg = strings.Join(parts, "; ")
	return out
}
