package runbooks

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sahilm/fuzzy"
)

// Field says where a search hit matched.
type Field int

// Search fields, from the strongest match to the weakest.
const (
	FieldTitle   Field = iota + 1 // the title (exactly or fuzzily, see Hit.Fuzzy)
	FieldHeading                  // a heading; Hit.Anchor jumps to it
	FieldBody                     // the text; Hit.Anchor is the enclosing section
)

func (f Field) String() string {
	switch f {
	case FieldTitle:
		return "title"
	case FieldHeading:
		return "heading"
	case FieldBody:
		return "body"
	}
	return "unknown"
}

// Span is a half-open byte range [Start, End) of Hit.Snippet to highlight.
type Span struct {
	Start, End int
}

// Hit is one runbook found by Search.
type Hit struct {
	Runbook *Runbook
	// Score orders hits: higher is better. Every title hit outranks every
	// fuzzy title hit, which outranks every heading hit, which outranks every
	// body hit.
	Score int
	Field Field
	// Fuzzy is true when the title matched only as a fuzzy abbreviation
	// ("chk lat" for "Checkout latency").
	Fuzzy bool
	// Anchor is the heading to scroll to ("" for the top): the matched
	// heading, or for a body hit the section holding the snippet.
	Anchor string
	// Snippet is a short single-line excerpt: the title, the heading, or
	// text around the first match in the body ("…" marks a cut).
	Snippet string
	// Matches are the ranges of Snippet that matched, sorted and disjoint.
	Matches []Span
}

// Query bounds: longer queries are cut, so one query costs at most a few
// scans of the text.
const (
	maxQueryBytes = 256
	maxQueryTerms = 8
)

// Score bands, one per kind of match; the score within a band is below 1000.
const (
	scoreTitle      = 4000
	scoreFuzzyTitle = 3000
	scoreHeading    = 2000
	scoreBody       = 1000
	bandWidth       = 999
)

// Snippet window around a body match, in bytes.
const (
	snippetBefore = 40
	snippetAfter  = 100
)

// searchIndex is the immutable search view of one loaded library, built by
// Load. Text is stored case-folded next to the original, with equal byte
// offsets, so a match in the folded text is a range of the original.
type searchIndex struct {
	docs   []searchDoc // in title order, like index.all
	titles []string    // docs[i].title, for fuzzy matching
	// vocab holds every distinct word of the folded bodies (a word is a
	// maximal run of letters, digits and "_") and post[i] the documents
	// holding vocab[i]. A query word made of word characters can only occur
	// inside a word, so scanning vocab finds every document that contains
	// it without scanning the bodies.
	vocab []string
	post  [][]posting
}

// posting says that a document holds a word count times.
type posting struct {
	doc, count int32
}

type searchDoc struct {
	rb            *Runbook
	sortKey       string // lower-cased title
	title, ftitle string
	heads         []searchHead
	body, fbody   string // the whole text, headings included, blocks on lines of their own
}

type searchHead struct {
	text, ftext string
	anchor      string
	level       int
	pos         int // offset of the heading text in body
}

// buildSearchIndex extracts and folds the text of every runbook; sortKeys
// maps each runbook to its lower-cased title.
func buildSearchIndex(all []*Runbook, sortKeys map[*Runbook]string) *searchIndex {
	si := &searchIndex{docs: make([]searchDoc, len(all)), titles: make([]string, len(all))}
	ids := map[string]int32{}
	for i, rb := range all {
		title := rb.Title()
		tb := textBuilder{outline: rb.Doc.Outline}
		tb.blocks(rb.Doc.Blocks)
		body := tb.sb.String()
		si.docs[i] = searchDoc{
			rb: rb, sortKey: sortKeys[rb],
			title: title, ftitle: fold(title),
			heads: tb.heads,
			body:  body, fbody: fold(body),
		}
		si.titles[i] = title
		for w, n := range wordCounts(si.docs[i].fbody) {
			id, ok := ids[w]
			if !ok {
				id = int32(len(si.vocab))
				ids[w] = id
				si.vocab = append(si.vocab, w)
				si.post = append(si.post, nil)
			}
			si.post[id] = append(si.post[id], posting{doc: int32(i), count: n})
		}
	}
	return si
}

func wordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// wordCounts counts the words of s.
func wordCounts(s string) map[string]int32 {
	m := map[string]int32{}
	start := -1
	for i := 0; i <= len(s); {
		r, n := rune(0), 1
		if i < len(s) {
			if c := s[i]; c < utf8.RuneSelf {
				r = rune(c)
			} else {
				r, n = utf8.DecodeRuneInString(s[i:])
			}
		}
		if i < len(s) && wordRune(r) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			m[s[start:i]]++
			start = -1
		}
		i += n
	}
	return m
}

// isWord reports whether t is made of word runes only.
func isWord(t string) bool {
	for _, r := range t {
		if !wordRune(r) {
			return false
		}
	}
	return t != ""
}

// bodyMatches returns, per document, how many of the terms its body holds
// and how often (capped per term). Word terms are looked up in the
// vocabulary; others ("5xx,", "deployment/checkout") scan the bodies.
func (si *searchIndex) bodyMatches(terms []string) (present []uint8, count []int32) {
	present = make([]uint8, len(si.docs))
	count = make([]int32, len(si.docs))
	per := make([]int32, len(si.docs)) // this term's count so far
	for k, t := range terms {
		clear(per)
		if isWord(t) {
			for id, w := range si.vocab {
				if !strings.Contains(w, t) {
					continue
				}
				for _, p := range si.post[id] {
					per[p.doc] += p.count
				}
			}
		} else {
			for i := range si.docs {
				if strings.Contains(si.docs[i].fbody, t) {
					per[i] = int32(strings.Count(si.docs[i].fbody, t))
				}
			}
		}
		for i, n := range per {
			if n > 0 && int(present[i]) == k {
				present[i]++
				count[i] += min(n, 100)
			}
		}
	}
	return present, count
}

// textBuilder flattens a document into plain text for searching.
type textBuilder struct {
	sb      strings.Builder
	outline []Heading
	next    int // the outline entry of the next heading block
	heads   []searchHead
}

func (tb *textBuilder) blocks(bs []Block) {
	for i := range bs {
		tb.block(&bs[i])
	}
}

// block writes the text of b. Heading blocks appear in the same document
// order as the outline, so the n-th heading met is Outline[n].
func (tb *textBuilder) block(b *Block) {
	switch b.Kind {
	case KindHeading:
		text := plainText(b.Inlines)
		h := searchHead{text: text, ftext: fold(text), level: b.Level, pos: tb.sb.Len()}
		if tb.next < len(tb.outline) {
			h.anchor = tb.outline[tb.next].Anchor
			tb.next++
		}
		tb.heads = append(tb.heads, h)
		tb.line(text)
	case KindParagraph:
		tb.line(plainText(b.Inlines))
	case KindList:
		for _, it := range b.Items {
			tb.blocks(it.Blocks)
		}
	case KindQuote:
		tb.blocks(b.Children)
	case KindCode:
		tb.sb.WriteString(b.Code)
	case KindTable:
		tb.row(b.Header)
		for _, r := range b.Rows {
			tb.row(r)
		}
	}
}

func (tb *textBuilder) row(cells []Cell) {
	for i, c := range cells {
		if i > 0 {
			tb.sb.WriteString(" | ")
		}
		tb.sb.WriteString(plainText(c.Inlines))
	}
	tb.sb.WriteByte('\n')
}

func (tb *textBuilder) line(s string) {
	if s != "" {
		tb.sb.WriteString(s)
		tb.sb.WriteByte('\n')
	}
}

// fold lower-cases s rune by rune, keeping a rune as it is when its lower
// case has a different UTF-8 length, so byte offsets in the result are byte
// offsets in s.
func fold(s string) string {
	ascii, upper := true, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
		if 'A' <= c && c <= 'Z' {
			upper = true
		}
	}
	if ascii {
		if !upper {
			return s
		}
		b := []byte(s)
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if lr := unicode.ToLower(r); lr != r && r != utf8.RuneError && utf8.RuneLen(lr) == n {
			sb.WriteRune(lr)
		} else {
			sb.WriteString(s[i : i+n])
		}
		i += n
	}
	return sb.String()
}

// candidate is a runbook that matched, before its snippet is built.
type candidate struct {
	doc   int
	score int
	field Field
	fuzzy []int // fuzzy title: matched byte offsets in the title
	head  int   // heading hit: index in heads
	pos   int   // body hit: offset of the match in body, -1 until needed
}

// Search finds runbooks whose title, headings or text contain every word
// of query (case-insensitively), or whose title fuzzily matches it ("chk
// lat" finds "Checkout latency"). Each runbook appears at most once, under
// its best match. Hits are sorted by score, then by title. limit <= 0
// returns every hit. The index is built by Load, so a query only scans
// prepared text; it never touches the files.
func (l *Library) Search(query string, limit int) []Hit {
	return l.index().search.search(query, limit)
}

func (si *searchIndex) search(query string, limit int) []Hit {
	if si == nil || len(si.docs) == 0 {
		return nil
	}
	terms := queryTerms(query)
	if len(terms) == 0 {
		return nil
	}
	phrase := strings.Join(terms, " ")
	fz := si.fuzzyTitles(terms)
	present, count := si.bodyMatches(terms)

	var cands []candidate
	for i := range si.docs {
		if c, ok := si.match(i, terms, phrase, fz, int(present[i]) == len(terms), int(count[i])); ok {
			cands = append(cands, c)
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.score != b.score {
			return a.score > b.score
		}
		da, db := &si.docs[a.doc], &si.docs[b.doc]
		if da.sortKey != db.sortKey {
			return da.sortKey < db.sortKey
		}
		if da.rb.Root != db.rb.Root {
			return da.rb.Root < db.rb.Root
		}
		return da.rb.Path < db.rb.Path
	})
	if limit > 0 && len(cands) > limit {
		cands = cands[:limit]
	}
	hits := make([]Hit, len(cands))
	for i, c := range cands {
		hits[i] = si.hit(c, terms)
	}
	return hits
}

// queryTerms folds and splits a query into at most maxQueryTerms distinct
// words.
func queryTerms(query string) []string {
	q := query
	if len(q) > maxQueryBytes {
		q = q[:maxQueryBytes]
		for len(q) > 0 && !utf8.ValidString(q) {
			q = q[:len(q)-1]
		}
	}
	var terms []string
	for _, t := range strings.Fields(fold(q)) {
		if len(terms) == maxQueryTerms {
			break
		}
		dup := false
		for _, s := range terms {
			dup = dup || s == t
		}
		if !dup {
			terms = append(terms, t)
		}
	}
	return terms
}

// fuzzyTitles matches the query, its words run together, against every
// title. A match counts only when each word starts at the start of a word
// of the title, which keeps scattered letters ("dsk" inside "Redis backup
// keys") out.
func (si *searchIndex) fuzzyTitles(terms []string) map[int]fuzzy.Match {
	pattern := strings.Join(terms, "")
	if utf8.RuneCountInString(pattern) < 2 {
		return nil
	}
	starts := make([]int, 0, len(terms)) // rune index in pattern of each word's first rune
	n := 0
	for _, t := range terms {
		starts = append(starts, n)
		n += utf8.RuneCountInString(t)
	}
	out := map[int]fuzzy.Match{}
	for _, m := range fuzzy.FindNoSort(pattern, si.titles) {
		ok := len(m.MatchedIndexes) == n
		for _, s := range starts {
			ok = ok && wordStart(m.Str, m.MatchedIndexes[s])
		}
		if ok {
			out[m.Index] = m
		}
	}
	return out
}

// wordStart reports whether the rune at byte offset i of s begins a word:
// it follows a non-letter-or-digit, or it is an upper-case letter after a
// lower-case one.
func wordStart(s string, i int) bool {
	if i == 0 {
		return true
	}
	prev, _ := utf8.DecodeLastRuneInString(s[:i])
	cur, _ := utf8.DecodeRuneInString(s[i:])
	if !unicode.IsLetter(prev) && !unicode.IsDigit(prev) {
		return true
	}
	return unicode.IsLower(prev) && unicode.IsUpper(cur)
}

func containsAll(s string, terms []string) bool {
	for _, t := range terms {
		if !strings.Contains(s, t) {
			return false
		}
	}
	return true
}

// match scores document i under its best field. inBody says whether its
// body holds every term, count how often.
func (si *searchIndex) match(i int, terms []string, phrase string, fz map[int]fuzzy.Match, inBody bool, count int) (candidate, bool) {
	d := &si.docs[i]
	c := candidate{doc: i, head: -1}
	if containsAll(d.ftitle, terms) {
		c.field = FieldTitle
		switch {
		case d.ftitle == phrase:
			c.score = scoreTitle + bandWidth
		case strings.HasPrefix(d.ftitle, phrase):
			c.score = scoreTitle + 900
		case strings.Contains(d.ftitle, phrase):
			c.score = scoreTitle + 800
		default:
			c.score = scoreTitle + 700
		}
		return c, true
	}
	if m, ok := fz[i]; ok {
		c.field, c.fuzzy = FieldTitle, m.MatchedIndexes
		c.score = scoreFuzzyTitle + min(max(m.Score+500, 0), bandWidth)
		return c, true
	}
	if !inBody {
		return candidate{}, false // the headings are part of the body text
	}
	best := -1
	for h := range d.heads {
		hd := &d.heads[h]
		if !containsAll(hd.ftext, terms) {
			continue
		}
		s := (7 - min(hd.level, 6)) * 60 // 60 for h6 … 360 for h1
		if len(terms) > 1 && strings.Contains(hd.ftext, phrase) {
			s += 300
		}
		if hd.ftext == phrase {
			s += 300
		}
		if s > best {
			best, c.head = s, h
		}
	}
	if best >= 0 {
		c.field, c.score = FieldHeading, scoreHeading+min(best, bandWidth)
		return c, true
	}
	// Body: every term somewhere in the text. The snippet goes to the
	// phrase if it occurs, else to the first occurrence of the first term.
	c.pos = -1
	s := min(count, 299) * 2
	if len(terms) > 1 {
		if p := strings.Index(d.fbody, phrase); p >= 0 {
			c.pos = p
			s += 400
		}
	}
	c.field, c.score = FieldBody, scoreBody+min(s, bandWidth)
	return c, true
}

// hit builds the Hit of a candidate: snippet, highlights and anchor.
func (si *searchIndex) hit(c candidate, terms []string) Hit {
	d := &si.docs[c.doc]
	h := Hit{Runbook: d.rb, Score: c.score, Field: c.field}
	switch c.field {
	case FieldTitle:
		h.Snippet = d.title
		if c.fuzzy != nil {
			h.Fuzzy = true
			for _, i := range c.fuzzy {
				_, n := utf8.DecodeRuneInString(d.title[i:])
				h.Matches = append(h.Matches, Span{i, i + n})
			}
			h.Matches = mergeSpans(h.Matches)
		} else {
			h.Matches = findSpans(d.ftitle, terms)
		}
	case FieldHeading:
		hd := &d.heads[c.head]
		h.Anchor, h.Snippet, h.Matches = hd.anchor, hd.text, findSpans(hd.ftext, terms)
	case FieldBody:
		if c.pos < 0 {
			c.pos = max(strings.Index(d.fbody, terms[0]), 0)
		}
		// The enclosing section: the last heading at or before the match.
		k := sort.Search(len(d.heads), func(k int) bool { return d.heads[k].pos > c.pos })
		if k > 0 {
			h.Anchor = d.heads[k-1].anchor
		}
		h.Snippet, h.Matches = snippet(d.body, d.fbody, c.pos, terms)
	}
	return h
}

// findSpans returns where the terms occur in s (at most 32 times each),
// sorted and merged.
func findSpans(s string, terms []string) []Span {
	var out []Span
	for _, t := range terms {
		for off, n := 0, 0; n < 32; n++ {
			i := strings.Index(s[off:], t)
			if i < 0 {
				break
			}
			out = append(out, Span{off + i, off + i + len(t)})
			off += i + len(t)
		}
	}
	return mergeSpans(out)
}

func mergeSpans(sp []Span) []Span {
	if len(sp) < 2 {
		return sp
	}
	sort.Slice(sp, func(i, j int) bool { return sp[i].Start < sp[j].Start })
	out := sp[:1]
	for _, s := range sp[1:] {
		last := &out[len(out)-1]
		if s.Start <= last.End {
			last.End = max(last.End, s.End)
			continue
		}
		out = append(out, s)
	}
	return out
}

// snippet cuts a window of body around pos, at word boundaries where it
// can, joins its lines and runs of blanks into single spaces, marks cuts
// with "…" and returns where the terms occur in it.
func snippet(body, fbody string, pos int, terms []string) (string, []Span) {
	start := max(pos-snippetBefore, 0)
	for start > 0 && !utf8.RuneStart(body[start]) {
		start--
	}
	if start > 0 {
		if i := strings.IndexAny(body[start:pos], " \n\t"); i >= 0 {
			start += i + 1
		}
	}
	end := min(pos+snippetAfter, len(body))
	for end < len(body) && !utf8.RuneStart(body[end]) {
		end--
	}
	if end < len(body) {
		if i := strings.LastIndexAny(body[pos:end], " \n\t"); i > 0 {
			end = pos + i
		}
	}
	raw := findSpans(fbody[start:end], terms)

	// Collapse whitespace, remembering where each byte of the window went.
	const ellipsis = "…"
	var sb strings.Builder
	at := make([]int, end-start+1)
	if start > 0 {
		sb.WriteString(ellipsis)
	}
	blank := false
	for i := start; i < end; i++ {
		at[i-start] = sb.Len()
		c := body[i]
		if c == ' ' || c == '\n' || c == '\t' {
			if !blank && sb.Len() > 0 {
				sb.WriteByte(' ')
			}
			blank = true
			continue
		}
		blank = false
		sb.WriteByte(c)
	}
	at[end-start] = sb.Len()
	text := strings.TrimRight(sb.String(), " ")
	if end < len(body) {
		text += ellipsis
	}
	spans := make([]Span, 0, len(raw))
	for _, s := range raw {
		a, b := at[s.Start], min(at[s.End], len(text))
		if a < b {
			spans = append(spans, Span{a, b})
		}
	}
	return text, spans
}
