package alertmanager

import (
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// fastAlerts decodes a GET /api/v2/alerts body the way json.Unmarshal into []apiAlert
// would, in a third of the time: a poll of a large Alertmanager stays well inside the
// QUALITY P1 budget. It handles the shape Alertmanager writes and gives up (ok false)
// on anything else (null in a known field, a key in other case, a repeated key, a
// number where a string belongs, invalid JSON); the caller then runs json.Unmarshal,
// which also gives the error. FuzzAPIAlerts checks that both agree when it succeeds.
func fastAlerts(body []byte) (alerts []apiAlert, ok bool) {
	s := scanner{b: body, intern: make(map[string]string, 256)}
	s.ws()
	if !s.take('[') {
		return nil, false
	}
	alerts = make([]apiAlert, 0, len(body)/600+1)
	s.ws()
	if s.take(']') {
		return alerts, s.end()
	}
	for {
		s.ws()
		alerts = append(alerts, apiAlert{})
		if !s.alert(&alerts[len(alerts)-1]) {
			return nil, false
		}
		s.ws()
		if s.take(',') {
			continue
		}
		if s.take(']') {
			return alerts, s.end()
		}
		return nil, false
	}
}

// scanner walks JSON text; every method reports false on anything it does not handle.
type scanner struct {
	b      []byte
	i      int
	intern map[string]string // label names and values repeat across alerts
}

const maxInterned = 8192

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) take(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// end reports whether only whitespace is left.
func (s *scanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// rawString returns a string literal's contents and whether they are plain: free of
// escapes and of bytes that need checking (control characters, non-ASCII).
func (s *scanner) rawString() (raw []byte, plain, ok bool) {
	if !s.take('"') {
		return nil, false, false
	}
	start := s.i
	plain = true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			raw = s.b[start:s.i]
			s.i++
			return raw, plain, true
		case c == '\\':
			plain = false
			s.i += 2
			continue
		case c < 0x20 || c >= 0x80:
			plain = false
		}
		s.i++
	}
	return nil, false, false
}

// str decodes a string literal; escapes and non-ASCII go through encoding/json, so they
// mean exactly what they mean there.
func (s *scanner) str(intern bool) (string, bool) {
	start := s.i
	raw, plain, ok := s.rawString()
	if !ok {
		return "", false
	}
	if !plain {
		if utf8.Valid(raw) && !hasControlOrEscape(raw) { // just non-ASCII text
			return string(raw), true
		}
		var out string
		if json.Unmarshal(s.b[start:s.i], &out) != nil {
			return "", false
		}
		return out, true
	}
	if !intern {
		return string(raw), true
	}
	if v, ok := s.intern[string(raw)]; ok {
		return v, true
	}
	v := string(raw)
	if len(s.intern) < maxInterned {
		s.intern[v] = v
	}
	return v, true
}

func hasControlOrEscape(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == '\\' {
			return true
		}
	}
	return false
}

// key reads an object key and the colon after it; keys with escapes are left to
// encoding/json.
func (s *scanner) key() (string, bool) {
	raw, plain, ok := s.rawString()
	if !ok || !plain {
		return "", false
	}
	s.ws()
	if !s.take(':') {
		return "", false
	}
	s.ws()
	return string(raw), true
}

// object calls field for each key of an object; field reads the value.
func (s *scanner) object(field func(key string) bool) bool {
	if !s.take('{') {
		return false
	}
	s.ws()
	if s.take('}') {
		return true
	}
	for {
		s.ws()
		k, ok := s.key()
		if !ok || !field(k) {
			return false
		}
		s.ws()
		if s.take(',') {
			continue
		}
		return s.take('}')
	}
}

// stringMap reads {"k":"v",…}. Keys may carry escapes, so they are decoded like values.
func (s *scanner) stringMap() (map[string]string, bool) {
	if !s.take('{') {
		return nil, false
	}
	m := make(map[string]string, 8)
	s.ws()
	if s.take('}') {
		return m, true
	}
	for {
		s.ws()
		k, ok := s.str(true)
		if !ok {
			return nil, false
		}
		s.ws()
		if !s.take(':') {
			return nil, false
		}
		s.ws()
		v, ok := s.str(true)
		if !ok {
			return nil, false
		}
		m[k] = v
		s.ws()
		if s.take(',') {
			continue
		}
		if s.take('}') {
			return m, true
		}
		return nil, false
	}
}

// stringList reads ["a",…] into a fresh, non-nil slice.
func (s *scanner) stringList() ([]string, bool) {
	if !s.take('[') {
		return nil, false
	}
	out := []string{}
	s.ws()
	if s.take(']') {
		return out, true
	}
	for {
		s.ws()
		v, ok := s.str(false)
		if !ok {
			return nil, false
		}
		out = append(out, v)
		s.ws()
		if s.take(',') {
			continue
		}
		if s.take(']') {
			return out, true
		}
		return nil, false
	}
}

// timestamp reads a string literal with time.Time's own JSON decoder, as encoding/json
// would call it.
func (s *scanner) timestamp() (time.Time, bool) {
	start := s.i
	if _, _, ok := s.rawString(); !ok {
		return time.Time{}, false
	}
	var t time.Time
	if t.UnmarshalJSON(s.b[start:s.i]) != nil {
		return time.Time{}, false
	}
	return t, true
}

// skip passes over any JSON value, checking its syntax.
func (s *scanner) skip(depth int) bool {
	if depth > maxDepth || s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		start := s.i
		raw, plain, ok := s.rawString()
		if !ok {
			return false
		}
		if !plain && !(utf8.Valid(raw) && !hasControlOrEscape(raw)) {
			return json.Valid(s.b[start:s.i])
		}
		return true
	case c == '{':
		s.i++
		s.ws()
		if s.take('}') {
			return true
		}
		for {
			s.ws()
			if _, _, ok := s.rawString(); !ok {
				return false
			}
			s.ws()
			if !s.take(':') {
				return false
			}
			s.ws()
			if !s.skip(depth + 1) {
				return false
			}
			s.ws()
			if s.take(',') {
				continue
			}
			return s.take('}')
		}
	case c == '[':
		s.i++
		s.ws()
		if s.take(']') {
			return true
		}
		for {
			s.ws()
			if !s.skip(depth + 1) {
				return false
			}
			s.ws()
			if s.take(',') {
				continue
			}
			return s.take(']')
		}
	case c == 't':
		return s.word("true")
	case c == 'f':
		return s.word("false")
	case c == 'n':
		return s.word("null")
	case c == '-' || c >= '0' && c <= '9':
		start := s.i
		for s.i < len(s.b) && strings.IndexByte("+-.eE0123456789", s.b[s.i]) >= 0 {
			s.i++
		}
		return json.Valid(s.b[start:s.i])
	}
	return false
}

func (s *scanner) word(w string) bool {
	if len(s.b)-s.i >= len(w) && string(s.b[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return false
}

// The fields fastAlerts fills, as encoding/json matches them.
var (
	alertKeys  = []string{"labels", "annotations", "startsAt", "endsAt", "updatedAt", "generatorURL", "fingerprint", "status"}
	statusKeys = []string{"state", "silencedBy", "inhibitedBy"}
)

// unknownKey reports whether a key matches none of keys, in any case; encoding/json
// matches field names case-insensitively, so a near miss is left to it.
func unknownKey(k string, keys []string) bool {
	for _, c := range k {
		if c >= utf8.RuneSelf {
			return false // Unicode case folding: leave it to encoding/json
		}
	}
	for _, known := range keys {
		if strings.EqualFold(k, known) {
			return false
		}
	}
	return true
}

func (s *scanner) alert(a *apiAlert) bool {
	var seen uint16
	once := func(bit uint16) bool {
		if seen&bit != 0 {
			return false // a repeated key: encoding/json merges maps, so leave it to it
		}
		seen |= bit
		return true
	}
	return s.object(func(k string) bool {
		var ok bool
		switch k {
		case "labels":
			if ok = once(1); ok {
				a.Labels, ok = s.stringMap()
			}
		case "annotations":
			if ok = once(2); ok {
				a.Annotations, ok = s.stringMap()
			}
		case "startsAt":
			if ok = once(4); ok {
				a.StartsAt, ok = s.timestamp()
			}
		case "endsAt":
			if ok = once(8); ok {
				a.EndsAt, ok = s.timestamp()
			}
		case "updatedAt":
			if ok = once(16); ok {
				a.UpdatedAt, ok = s.timestamp()
			}
		case "generatorURL":
			if ok = once(32); ok {
				a.GeneratorURL, ok = s.str(false)
			}
		case "fingerprint":
			if ok = once(64); ok {
				a.Fingerprint, ok = s.str(false)
			}
		case "status":
			if ok = once(128); ok {
				ok = s.status(a)
			}
		default:
			ok = unknownKey(k, alertKeys) && s.skip(1)
		}
		return ok
	})
}

func (s *scanner) status(a *apiAlert) bool {
	var seen uint8
	return s.object(func(k string) bool {
		var ok bool
		switch k {
		case "state":
			if ok = seen&1 == 0; ok {
				seen |= 1
				a.Status.State, ok = s.str(true)
			}
		case "silencedBy":
			if ok = seen&2 == 0; ok {
				seen |= 2
				a.Status.SilencedBy, ok = s.stringList()
			}
		case "inhibitedBy":
			if ok = seen&4 == 0; ok {
				seen |= 4
				a.Status.InhibitedBy, ok = s.stringList()
			}
		default:
			ok = unknownKey(k, statusKeys) && s.skip(2)
		}
		return ok
	})
}
