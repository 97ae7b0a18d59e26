package runbooks

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
)

// mdParser is immutable after construction and safe for concurrent use
// (goldmark initialises it once under a sync.Once and keeps per-parse state
// in a fresh context).
var mdParser = goldmark.New(goldmark.WithExtensions(extension.GFM)).Parser()

// Parse parses one runbook. name is the file name, kept as Runbook.Name.
// It returns a *LimitError (wrapped) when src exceeds a safety cap and a
// *FrontMatterError (wrapped) for bad front matter; both name the line.
func Parse(name string, src []byte) (*Runbook, error) {
	if len(src) > MaxSize {
		return nil, fmt.Errorf("runbook %s: %w", name, &LimitError{What: LimitSize, Got: len(src), Limit: MaxSize})
	}
	b := normalize(src)
	if err := precheck(b); err != nil {
		return nil, fmt.Errorf("runbook %s: %w", name, err)
	}
	yml, body, err := splitFrontMatter(b)
	if err != nil {
		return nil, fmt.Errorf("runbook %s: %w", name, err)
	}
	meta, err := decodeMeta(yml)
	if err != nil {
		return nil, fmt.Errorf("runbook %s: %w", name, err)
	}
	root := mdParser.Parse(text.NewReader(body))
	bd := builder{src: body, steps: map[string]int{}, ids: map[string]bool{}, anchors: map[string]int{}, used: map[string]bool{}}
	bd.doc.Blocks = make([]Block, 0, root.ChildCount())
	for n := root.FirstChild(); n != nil; n = n.NextSibling() {
		bd.top = len(bd.doc.Blocks)
		if blk, ok := bd.block(n); ok {
			bd.doc.Blocks = append(bd.doc.Blocks, blk)
		}
	}
	return &Runbook{Name: name, Path: name, Meta: meta, Doc: bd.doc}, nil
}

// builder walks goldmark's AST into a Document.
type builder struct {
	src     []byte
	doc     Document
	top     int             // index of the top-level block being built
	heading string          // text of the last heading seen
	steps   map[string]int  // heading+text → occurrences so far
	ids     map[string]bool // step IDs handed out
	anchors map[string]int  // heading slug → next suffix to try
	used    map[string]bool // anchors handed out
}

func (b *builder) blocks(parent ast.Node) []Block {
	out := make([]Block, 0, parent.ChildCount())
	for n := parent.FirstChild(); n != nil; n = n.NextSibling() {
		if blk, ok := b.block(n); ok {
			out = append(out, blk)
		}
	}
	return out
}

func (b *builder) block(n ast.Node) (Block, bool) {
	switch n := n.(type) {
	case *ast.Heading:
		inl := b.inlines(n)
		t := plainText(inl)
		b.doc.Outline = append(b.doc.Outline, Heading{Level: n.Level, Text: t, Anchor: b.anchor(t), Block: b.top})
		b.heading = t
		return Block{Kind: KindHeading, Level: n.Level, Inlines: inl}, true
	case *ast.Paragraph, *ast.TextBlock:
		inl := b.inlines(n)
		if len(inl) == 0 {
			return Block{}, false
		}
		return Block{Kind: KindParagraph, Inlines: inl}, true
	case *ast.ThematicBreak:
		return Block{Kind: KindRule}, true
	case *ast.CodeBlock:
		return Block{Kind: KindCode, Code: b.lines(n.Lines())}, true
	case *ast.FencedCodeBlock:
		lang := ""
		if n.Info != nil {
			lang = strings.ToLower(unescapeText(n.Language(b.src)))
		}
		return Block{Kind: KindCode, Lang: lang, Code: b.lines(n.Lines())}, true
	case *ast.Blockquote:
		return Block{Kind: KindQuote, Children: b.blocks(n)}, true
	case *ast.List:
		blk := Block{Kind: KindList, Ordered: n.IsOrdered(), Tight: n.IsTight}
		if blk.Ordered {
			blk.Start = n.Start
		}
		blk.Items = make([]ListItem, 0, n.ChildCount())
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			blk.Items = append(blk.Items, b.listItem(c))
		}
		return blk, true
	case *ast.HTMLBlock:
		// Never interpreted: the markup is shown as the literal text it is.
		raw := b.lines(n.Lines())
		if n.HasClosure() {
			raw += string(n.ClosureLine.Value(b.src))
		}
		raw = strings.TrimRight(raw, "\n")
		if raw == "" {
			return Block{}, false
		}
		return Block{Kind: KindParagraph, Inlines: []Inline{{Text: raw}}}, true
	case *east.Table:
		return b.table(n), true
	case *ast.LinkReferenceDefinition:
		return Block{}, false
	}
	// Anything else (no other block kinds are enabled): keep its text.
	if n.Type() == ast.TypeBlock && n.FirstChild() != nil {
		if n.FirstChild().Type() == ast.TypeInline {
			if inl := b.inlines(n); len(inl) > 0 {
				return Block{Kind: KindParagraph, Inlines: inl}, true
			}
			return Block{}, false
		}
		return Block{Kind: KindQuote, Children: b.blocks(n)}, true
	}
	return Block{}, false
}

func (b *builder) listItem(n ast.Node) ListItem {
	var li ListItem
	c := n.FirstChild()
	if c != nil && (c.Kind() == ast.KindTextBlock || c.Kind() == ast.KindParagraph) {
		if cb, ok := c.FirstChild().(*east.TaskCheckBox); ok {
			li.Task, li.Checked = true, cb.IsChecked
			// The step is registered before nested blocks so that Steps stay
			// in document order.
			blk, ok := b.block(c)
			if ok {
				li.Blocks = append(li.Blocks, blk)
			}
			li.StepID = b.step(strings.TrimSpace(plainText(blk.Inlines)), cb.IsChecked)
			c = c.NextSibling()
		}
	}
	for ; c != nil; c = c.NextSibling() {
		if blk, ok := b.block(c); ok {
			li.Blocks = append(li.Blocks, blk)
		}
	}
	return li
}

// step records a task item and returns its ID: a short hash of the heading,
// the text and how many identical steps came before it under that heading.
func (b *builder) step(text string, checked bool) string {
	key := b.heading + "\x00" + text
	occ := b.steps[key]
	b.steps[key] = occ + 1
	seed := key + "\x00" + strconv.Itoa(occ)
	var id string
	for salt := 0; ; salt++ {
		s := seed
		if salt > 0 {
			s += "\x00" + strconv.Itoa(salt) // a 48-bit collision; keep IDs unique
		}
		sum := sha256.Sum256([]byte(s))
		id = hex.EncodeToString(sum[:6])
		if !b.ids[id] {
			break
		}
	}
	b.ids[id] = true
	b.doc.Steps = append(b.doc.Steps, Step{ID: id, Text: text, Heading: b.heading, Checked: checked})
	return id
}

// anchor returns a GitHub-style slug for a heading, unique in the document.
func (b *builder) anchor(t string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(t) {
		switch {
		case r == ' ':
			sb.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			sb.WriteRune(r)
		}
	}
	base := sb.String()
	s := base
	for n := b.anchors[base]; ; n++ {
		if n > 0 {
			s = base + "-" + strconv.Itoa(n)
		}
		if !b.used[s] {
			b.anchors[base] = n + 1
			break
		}
	}
	b.used[s] = true
	return s
}

func (b *builder) table(n *east.Table) Block {
	blk := Block{Kind: KindTable, Align: make([]Align, len(n.Alignments))}
	for i, a := range n.Alignments {
		switch a {
		case east.AlignLeft:
			blk.Align[i] = AlignLeft
		case east.AlignCenter:
			blk.Align[i] = AlignCenter
		case east.AlignRight:
			blk.Align[i] = AlignRight
		}
	}
	for r := n.FirstChild(); r != nil; r = r.NextSibling() {
		cells := make([]Cell, 0, len(blk.Align))
		for c := r.FirstChild(); c != nil && len(cells) < len(blk.Align); c = c.NextSibling() {
			cells = append(cells, Cell{Inlines: b.inlines(c)})
		}
		for len(cells) < len(blk.Align) {
			cells = append(cells, Cell{})
		}
		if r.Kind() == east.KindTableHeader {
			blk.Header = cells
		} else {
			blk.Rows = append(blk.Rows, cells)
		}
	}
	if blk.Header == nil {
		blk.Header = make([]Cell, len(blk.Align))
	}
	return blk
}

// lines joins the raw lines of a code or HTML block, ending in a newline
// unless there are none (the last line of a file may lack one).
func (b *builder) lines(ls *text.Segments) string {
	var sb strings.Builder
	for i := range ls.Len() {
		seg := ls.At(i)
		sb.Write(seg.Value(b.src))
	}
	if s := sb.String(); s != "" && !strings.HasSuffix(s, "\n") {
		return s + "\n"
	}
	return sb.String()
}

// inlineState is the style context while walking inline nodes. Counters, not
// a stack, so that deeply nested emphasis costs no extra memory.
type inlineState struct {
	bold, italic, strike, image int
	link                        string
	linkNode                    ast.Node

	// the run being built, flushed into out when style or link change
	out       []Inline
	run       strings.Builder
	runStyle  Style
	runLink   string
	runIsOpen bool
}

// emit appends text in the current context. Consecutive text with the same
// style and link goes into one run (a builder, so long runs stay linear).
func (s *inlineState) emit(t string, style Style) {
	if t == "" {
		return
	}
	link := s.link
	if s.image > 0 {
		link = ""
	}
	if s.runIsOpen && s.runStyle == style && s.runLink == link {
		s.run.WriteString(t)
		return
	}
	s.flush()
	s.runIsOpen, s.runStyle, s.runLink = true, style, link
	s.run.WriteString(t)
}

func (s *inlineState) flush() {
	if s.runIsOpen {
		s.out = append(s.out, Inline{Text: s.run.String(), Style: s.runStyle, Link: s.runLink})
		s.run.Reset()
		s.runIsOpen = false
	}
}

func (s *inlineState) style() Style {
	var st Style
	if s.bold > 0 {
		st |= Bold
	}
	if s.italic > 0 {
		st |= Italic
	}
	if s.strike > 0 {
		st |= Strike
	}
	return st
}

// inlines flattens the inline children of n into styled runs. The walk is
// iterative (parent/sibling pointers), so pathological nesting of emphasis
// cannot exhaust the stack.
func (b *builder) inlines(parent ast.Node) []Inline {
	var st inlineState
	n := parent.FirstChild()
	for n != nil {
		if b.enter(n, &st) && n.FirstChild() != nil {
			n = n.FirstChild()
			continue
		}
		b.leave(n, &st)
		for {
			if nx := n.NextSibling(); nx != nil {
				n = nx
				break
			}
			n = n.Parent()
			if n == nil || n == parent {
				n = nil
				break
			}
			b.leave(n, &st)
		}
	}
	st.flush()
	return st.out
}

// enter handles a node on the way down and reports whether to visit its
// children. Only containers that change the style return true.
func (b *builder) enter(n ast.Node, st *inlineState) bool {
	switch n := n.(type) {
	case *ast.Text:
		v := n.Value(b.src)
		t := ""
		if n.IsRaw() {
			t = string(v)
		} else {
			t = unescapeText(v)
		}
		switch {
		case n.HardLineBreak():
			t += "\n"
		case n.SoftLineBreak():
			t += " "
		}
		st.emit(t, st.style())
		return false
	case *ast.String:
		if n.IsRaw() || n.IsCode() {
			st.emit(string(n.Value), st.style())
		} else {
			st.emit(unescapeText(n.Value), st.style())
		}
		return false
	case *ast.CodeSpan:
		var sb strings.Builder
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch c := c.(type) {
			case *ast.Text:
				v := c.Value(b.src)
				if l := len(v); l > 0 && v[l-1] == '\n' {
					sb.Write(v[:l-1])
					sb.WriteByte(' ')
				} else {
					sb.Write(v)
				}
			case *ast.String:
				sb.Write(c.Value)
			}
		}
		st.emit(sb.String(), st.style()|Code)
		return false
	case *ast.RawHTML:
		// Never interpreted: shown as the literal markup.
		var sb strings.Builder
		for i := range n.Segments.Len() {
			seg := n.Segments.At(i)
			sb.Write(seg.Value(b.src))
		}
		st.emit(sb.String(), st.style())
		return false
	case *ast.AutoLink:
		href := string(n.URL(b.src))
		if n.AutoLinkType == ast.AutoLinkEmail && !strings.HasPrefix(strings.ToLower(href), "mailto:") {
			href = "mailto:" + href
		}
		label := string(n.Label(b.src))
		if st.linkNode == nil && st.image == 0 && LinkAllowed(href) {
			st.link = href
			st.emit(label, st.style())
			st.link = ""
		} else {
			st.emit(label, st.style())
		}
		return false
	case *east.TaskCheckBox:
		return false
	case *ast.Emphasis:
		if n.Level >= 2 {
			st.bold++
		} else {
			st.italic++
		}
	case *east.Strikethrough:
		st.strike++
	case *ast.Link:
		if st.linkNode == nil && st.image == 0 {
			if href := unescapeText(n.Destination); LinkAllowed(href) {
				st.link, st.linkNode = href, n
			}
		}
	case *ast.Image:
		// Never fetched: the alt text stands in for the image.
		st.image++
	}
	return true
}

func (b *builder) leave(n ast.Node, st *inlineState) {
	switch n := n.(type) {
	case *ast.Emphasis:
		if n.Level >= 2 {
			st.bold--
		} else {
			st.italic--
		}
	case *east.Strikethrough:
		st.strike--
	case *ast.Link:
		if st.linkNode == ast.Node(n) {
			st.link, st.linkNode = "", nil
		}
	case *ast.Image:
		st.image--
	}
}

// plainText concatenates the text of runs, with line breaks as spaces.
func plainText(inl []Inline) string {
	var sb strings.Builder
	for _, r := range inl {
		sb.WriteString(r.Text)
	}
	return strings.TrimSpace(strings.ReplaceAll(sb.String(), "\n", " "))
}
