package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	commoncfg "github.com/prometheus/common/config"
	"go.yaml.in/yaml/v3"
)

// FieldError is one problem in a config file: where it is and what is wrong with it.
type FieldError struct {
	// File is the config file's name as given to Load (Config.Path for Validate).
	File string
	// Line is the 1-based line of the field, 0 when it is not known.
	Line int
	// Field is the path of the field, such as metrics.panels[2].type; "" for the whole file.
	Field string
	// Msg says what is wrong and, where it helps, what is wanted instead.
	Msg string
}

// Error formats e as "file:line: field: message", leaving out the parts that are unknown.
func (e FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		if e.File == "" {
			b.WriteString("line ")
		} else {
			b.WriteString(":")
		}
		b.WriteString(strconv.Itoa(e.Line))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	// One problem per line, so a message carrying a multi-line value cannot forge another.
	b.WriteString(strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(e.Msg))
	return b.String()
}

// ValidationError lists every problem found in one config, in file order. Load, LoadFile
// and Validate return it, so callers can list the problems with errors.As.
type ValidationError []FieldError

// Error puts each problem on a line of its own.
func (e ValidationError) Error() string {
	lines := make([]string, len(e))
	for i, fe := range e {
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each problem, so errors.As can also reach a single FieldError.
func (e ValidationError) Unwrap() []error {
	errs := make([]error, len(e))
	for i, fe := range e {
		errs[i] = fe
	}
	return errs
}

// problems collects FieldErrors while validating.
type problems struct {
	list ValidationError
}

func (p *problems) add(field, format string, args ...any) {
	p.list = append(p.list, FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

// err returns nil when nothing was added, so that a nil ValidationError never hides in
// a non-nil error interface.
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return p.list
}

// located is one node of the parsed file with the field path that leads to it.
type located struct {
	segs  []string   // "metrics", "panels", "[2]", "type"
	key   *yaml.Node // the mapping key, nil for sequence items and the root
	value *yaml.Node
}

func (l *located) path() string { return joinPath(l.segs) }

// line is where a problem with this field is reported: the key, which is what an author
// looks for, else the value.
func (l *located) line() int {
	if l.key != nil {
		return l.key.Line
	}
	return l.value.Line
}

func joinPath(segs []string) string {
	var b strings.Builder
	for i, s := range segs {
		if i > 0 && !strings.HasPrefix(s, "[") {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

// nodeIndex finds the line of a field path in the parsed file.
type nodeIndex struct {
	all    []*located // document order, duplicates included
	byPath map[string]*located
}

func newNodeIndex(root *yaml.Node) *nodeIndex {
	idx := &nodeIndex{byPath: map[string]*located{}}
	if root != nil {
		idx.walk(nil, nil, root)
	}
	return idx
}

// walk records every mapping and sequence entry. It does not follow aliases: their
// targets are indexed where they are defined, and following them would let a small file
// with nested aliases blow up into a huge walk.
func (idx *nodeIndex) walk(segs []string, key, n *yaml.Node) {
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			idx.walk(segs, key, c)
		}
		return
	}
	l := &located{segs: segs, key: key, value: n}
	idx.all = append(idx.all, l)
	if p := l.path(); idx.byPath[p] == nil {
		idx.byPath[p] = l
	}
	switch n.Kind {
	case yaml.MappingNode:
		idx.walkMapping(segs, n)
	case yaml.SequenceNode:
		for i, c := range n.Content {
			idx.walk(appendSeg(segs, "["+strconv.Itoa(i)+"]"), nil, c)
		}
	}
}

func (idx *nodeIndex) walkMapping(segs []string, n *yaml.Node) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			continue
		}
		if k.Value != "<<" {
			idx.walk(appendSeg(segs, k.Value), k, v)
			continue
		}
		// Keys merged in with "<<: {…}" belong to this mapping. A merged alias is
		// indexed where its anchor is, which is also where yaml.v3 reports its lines.
		switch v.Kind {
		case yaml.MappingNode:
			idx.walkMapping(segs, v)
		case yaml.SequenceNode:
			for _, m := range v.Content {
				if m.Kind == yaml.MappingNode {
					idx.walkMapping(segs, m)
				}
			}
		}
	}
}

func appendSeg(segs []string, s string) []string {
	return append(slices.Clip(segs), s)
}

// lineOf returns the line of path, or of its closest ancestor present in the file (a
// missing required field is reported where its parent is), or 0.
func (idx *nodeIndex) lineOf(path string) int {
	for path != "" {
		if l := idx.byPath[path]; l != nil {
			return l.line()
		}
		path = parentPath(path)
	}
	return 0
}

func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

var (
	lineMsgRe   = regexp.MustCompile(`(?s)^(?:yaml: )?line (\d+): (.*)$`)
	notFoundRe  = regexp.MustCompile(`(?s)^field (.*) not found in type (\S+)$`)
	alreadySet  = regexp.MustCompile(`(?s)^field (.*) already set in type (\S+)$`)
	dupKeyRe    = regexp.MustCompile(`(?s)^mapping key (".*") already defined at line (\d+)$`)
	unmarshalRe = regexp.MustCompile("(?s)^cannot unmarshal (\\S+)(?: `(.*)`)? into (.+)$")
	backquoted  = regexp.MustCompile("(?s)`(.*)`")
)

// translate turns an error from yaml.v3 into FieldErrors carrying the field path, so that
// "line 5: field refrsh not found in type config.Metrics" reads
// "metrics.refrsh: unknown field; did you mean "refresh"?".
func (idx *nodeIndex) translate(err error) ValidationError {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		out := make(ValidationError, 0, len(te.Errors))
		for _, s := range te.Errors {
			out = append(out, idx.translateOne(s))
		}
		return out
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "yaml: ") {
		return ValidationError{idx.translateOne(msg)}
	}
	// prometheus/common's unmarshalers validate as they decode, and their errors abort
	// decoding without a line; find the http_config block that fails the same way.
	l := idx.findHTTPConfigError(msg)
	var ue *url.Error
	if errors.As(err, &ue) {
		// url.Error quotes the whole URL, password included (a proxy_url).
		msg = "invalid URL: " + ue.Err.Error()
	}
	if l != nil {
		return ValidationError{{Line: l.line(), Field: l.path(), Msg: msg}}
	}
	return ValidationError{{Msg: msg}}
}

func (idx *nodeIndex) translateOne(s string) FieldError {
	m := lineMsgRe.FindStringSubmatch(s)
	if m == nil {
		return FieldError{Msg: strings.TrimPrefix(s, "yaml: ")}
	}
	line, _ := strconv.Atoi(m[1])
	msg := m[2]
	if strings.HasPrefix(s, "yaml: ") { // a syntax error: no field to name
		return FieldError{Line: line, Msg: msg}
	}

	if mm := notFoundRe.FindStringSubmatch(msg); mm != nil {
		l := idx.findKey(line, mm[1], mm[2])
		if l == nil {
			return FieldError{Line: line, Msg: fmt.Sprintf("unknown field %q", mm[1])}
		}
		return FieldError{Line: l.line(), Field: l.path(), Msg: unknownFieldMsg(l)}
	}
	if mm := alreadySet.FindStringSubmatch(msg); mm != nil {
		return idx.duplicateKey(line, mm[1], mm[2], 0)
	}
	if mm := dupKeyRe.FindStringSubmatch(msg); mm != nil {
		name, err := strconv.Unquote(mm[1])
		if err != nil {
			name = mm[1]
		}
		first, _ := strconv.Atoi(mm[2])
		return idx.duplicateKey(line, name, "", first)
	}
	if mm := unmarshalRe.FindStringSubmatch(msg); mm != nil {
		tag, value, into := mm[1], mm[2], mm[3]
		l := idx.findValue(line, tag, value, into)
		if l == nil {
			// Without the field we cannot tell whether the value is a secret: leave it out.
			return FieldError{Line: line, Msg: fmt.Sprintf("want %s, got %s", describeTypeName(into), describeTag(tag, ""))}
		}
		want, got := describeTypeName(into), describeNode(l.value)
		if t, ok := typeAt(l.segs); ok {
			want = describeType(t)
			if derefType(t) == secretType {
				got = describeTag(l.value.ShortTag(), "")
			}
		}
		return FieldError{Line: l.line(), Field: l.path(), Msg: fmt.Sprintf("want %s, got %s", want, got)}
	}

	// Anything else, such as Duration's own errors: locate by the `value` it quotes.
	value := ""
	if mm := backquoted.FindStringSubmatch(msg); mm != nil {
		value = mm[1]
		msg = strings.Replace(msg, mm[0], strconv.Quote(value), 1)
	}
	into := ""
	if strings.Contains(msg, "duration") {
		into = durationType.String()
	}
	if l := idx.findValue(line, "", value, into); l != nil {
		return FieldError{Line: l.line(), Field: l.path(), Msg: msg}
	}
	return FieldError{Line: line, Msg: msg}
}

func (idx *nodeIndex) duplicateKey(line int, name, typeName string, first int) FieldError {
	msg := fmt.Sprintf("%q is set more than once", name)
	if first > 0 {
		msg = fmt.Sprintf("%q is set more than once (first at line %d)", name, first)
	}
	var found *located
	for _, l := range idx.all {
		if l.key != nil && l.key.Line == line && l.key.Value == name {
			found = l // the last one on the line is the repeat
		}
	}
	if found == nil {
		return FieldError{Line: line, Msg: msg}
	}
	return FieldError{Line: found.line(), Field: found.path(), Msg: msg}
}

// findKey finds the mapping key name on line, preferring one whose parent decodes into
// typeName when several share the line.
func (idx *nodeIndex) findKey(line int, name, typeName string) *located {
	var first *located
	for _, l := range idx.all {
		if l.key == nil || l.key.Line != line || l.key.Value != name {
			continue
		}
		if first == nil {
			first = l
		}
		if t, ok := typeAt(l.segs[:len(l.segs)-1]); ok && derefType(t).String() == typeName {
			return l
		}
	}
	return first
}

// findValue finds the value node on line that yaml.v3 complained about: tag narrows the
// node kind, value (possibly cut to "1234567..." by yaml.v3) the scalar, and into the Go
// type it was decoded into.
func (idx *nodeIndex) findValue(line int, tag, value, into string) *located {
	var first *located
	for _, l := range idx.all {
		n := l.value
		if n.Line != line || !tagMatches(n, tag) {
			continue
		}
		if value != "" && (n.Kind != yaml.ScalarNode || !scalarMatches(n.Value, value)) {
			continue
		}
		if first == nil {
			first = l
		}
		if into == "" {
			return l
		}
		if t, ok := typeAt(l.segs); ok && derefType(t).String() == into {
			return l
		}
	}
	return first
}

func tagMatches(n *yaml.Node, tag string) bool {
	switch tag {
	case "":
		return true
	case "!!map":
		return n.Kind == yaml.MappingNode
	case "!!seq":
		return n.Kind == yaml.SequenceNode
	default:
		return n.Kind == yaml.ScalarNode || n.Kind == yaml.AliasNode
	}
}

func scalarMatches(have, reported string) bool {
	if have == reported {
		return true
	}
	cut, ok := strings.CutSuffix(reported, "...")
	return ok && strings.HasPrefix(have, cut)
}

// findHTTPConfigError re-decodes each http_config block on its own and returns the first
// that fails with msg.
func (idx *nodeIndex) findHTTPConfigError(msg string) *located {
	for _, l := range idx.all {
		n := l.value
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		if len(l.segs) == 0 || l.segs[len(l.segs)-1] != "http_config" || n.Kind != yaml.MappingNode {
			continue
		}
		data, err := yaml.Marshal(n)
		if err != nil {
			continue
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		var hc commoncfg.HTTPClientConfig
		if err := dec.Decode(&hc); err != nil && err.Error() == msg {
			return l
		}
	}
	return nil
}

// unknownFieldMsg suggests the field the author probably meant.
func unknownFieldMsg(l *located) string {
	name := l.key.Value
	t, ok := typeAt(l.segs[:len(l.segs)-1])
	if !ok {
		return "unknown field"
	}
	known := yamlFieldNames(derefType(t))
	if len(known) == 0 {
		return "unknown field"
	}
	// At most two edits, and fewer than half the name: "b" is not a typo of "web".
	best, bestDist := "", min(3, (len(name)+1)/2)
	for _, k := range known {
		if d := editDistance(strings.ToLower(name), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown field; did you mean %q?", best)
	}
	return "unknown field; want one of " + strings.Join(known, ", ")
}

var (
	configType   = reflect.TypeFor[Config]()
	durationType = reflect.TypeFor[Duration]()
	secretType   = reflect.TypeFor[commoncfg.Secret]()
	urlType      = reflect.TypeFor[commoncfg.URL]()
	tlsVerType   = reflect.TypeFor[commoncfg.TLSVersion]()
)

// typeAt returns the Go type a field path decodes into, starting from Config.
func typeAt(segs []string) (reflect.Type, bool) {
	t := configType
	for _, s := range segs {
		t = derefType(t)
		if strings.HasPrefix(s, "[") {
			if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
				return nil, false
			}
			t = t.Elem()
			continue
		}
		switch t.Kind() {
		case reflect.Struct:
			f, ok := yamlField(t, s)
			if !ok {
				return nil, false
			}
			t = f
		case reflect.Map:
			t = t.Elem()
		default:
			return nil, false
		}
	}
	return t, true
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// yamlField finds the field yaml.v3 decodes key into, looking through inline structs
// and inline maps.
func yamlField(t reflect.Type, key string) (reflect.Type, bool) {
	var inlineMap reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, inline := yamlTag(f)
		switch {
		case name == "-":
		case inline && f.Type.Kind() == reflect.Struct:
			if ft, ok := yamlField(f.Type, key); ok {
				return ft, true
			}
		case inline && f.Type.Kind() == reflect.Map:
			inlineMap = f.Type.Elem()
		case name == key:
			return f.Type, true
		}
	}
	return inlineMap, inlineMap != nil
}

// yamlFieldNames lists the keys a struct accepts, in declaration order.
func yamlFieldNames(t reflect.Type) []string {
	if t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, inline := yamlTag(f)
		switch {
		case name == "-":
		case inline:
			names = append(names, yamlFieldNames(f.Type)...)
		default:
			names = append(names, name)
		}
	}
	return names
}

func yamlTag(f reflect.StructField) (name string, inline bool) {
	tag := f.Tag.Get("yaml")
	name, opts, _ := strings.Cut(tag, ",")
	for o := range strings.SplitSeq(opts, ",") {
		if o == "inline" {
			inline = true
		}
	}
	if name == "" && !inline {
		name = strings.ToLower(f.Name)
	}
	return name, inline
}

// describeType says what a config author must write for a field of type t.
func describeType(t reflect.Type) string {
	t = derefType(t)
	switch t {
	case durationType:
		return "a duration such as 15s, 1h30m or 30d"
	case urlType:
		return "a URL"
	case tlsVerType:
		return "a TLS version such as TLS12"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	default:
		return "a mapping"
	}
}

// describeTypeName is describeType for when only yaml.v3's name of the type is known.
func describeTypeName(name string) string {
	switch {
	case strings.HasPrefix(name, "[]"):
		return "a list"
	case strings.HasPrefix(name, "map["):
		return "a mapping"
	case name == "string":
		return "a string"
	case name == "bool":
		return "true or false"
	case strings.HasPrefix(name, "float"):
		return "a number"
	case strings.HasPrefix(name, "int"):
		return "an integer"
	case strings.HasPrefix(name, "uint"):
		return "a non-negative integer"
	default:
		return "a mapping"
	}
}

func describeTag(tag, value string) string {
	kinds := map[string]string{
		"!!str": "a string", "!!int": "an integer", "!!float": "a number", "!!bool": "a boolean",
		"!!null": "null", "!!map": "a mapping", "!!seq": "a list", "!!timestamp": "a timestamp",
		"!!binary": "binary data",
	}
	k, ok := kinds[tag]
	if !ok {
		k = "a value tagged " + tag
	}
	if value != "" {
		k += " " + strconv.Quote(value)
	}
	return k
}

func describeNode(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return nodeKindName(n)
	}
	return describeTag(n.ShortTag(), shorten(n.Value, 40))
}

// shorten cuts s to at most n runes, so a pasted blob does not flood the message.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// editDistance is the Levenshtein distance, for "did you mean" hints on short keys.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
