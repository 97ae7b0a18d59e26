package risk

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CSV format of the register (RFC 4180, UTF-8, header row first, one risk per row).
//
// Export writes ExportColumns in that order. Import needs a header naming at least
// the RequiredColumns; every other column is optional and may come in any order.
// The columns in ReadOnlyColumns (id, computed scores and levels, timestamps) are
// accepted on import and ignored, so an export can be edited and imported as new
// risks; any other unknown column is an error. Dates are YYYY-MM-DD, tags are
// separated by ";", an empty status means "open", an empty escalation the first
// escalation level. A cell that a spreadsheet would run as a formula (starting with
// =, +, -, @, tab or carriage return) is exported with a leading apostrophe, which
// import removes again.
var (
	ExportColumns = []string{
		"id", "title", "description", "category", "service", "owner",
		"likelihood", "impact", "score", "level",
		"residual_likelihood", "residual_impact", "residual_score", "residual_level",
		"treatment", "treatment_rationale", "status", "escalation", "due", "next_review",
		"tags", "materialising", "created", "updated",
	}
	RequiredColumns = []string{"title", "owner", "likelihood", "impact"}
	ReadOnlyColumns = []string{"id", "score", "level", "residual_score", "residual_level", "materialising", "created", "updated"}
)

// MaxImportRows caps the rows of one import, and MaxImportBytes its size.
const (
	MaxImportRows  = 200000
	MaxImportBytes = 64 << 20
)

// EscapeCell defuses spreadsheet formula injection: a value starting with =, +, -,
// @, tab or carriage return gets a leading apostrophe.
func EscapeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// UnescapeCell undoes EscapeCell.
func UnescapeCell(s string) string {
	if len(s) >= 2 && s[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(s[1])) {
		return s[1:]
	}
	return s
}

// CSVWriter streams risks as CSV; the header is written on creation, so an empty
// register still gives a header row.
type CSVWriter struct {
	w *csv.Writer
	m Matrix
}

// NewCSVWriter writes the header to w and returns a writer for rows.
func NewCSVWriter(w io.Writer, m Matrix) (*CSVWriter, error) {
	cw := &CSVWriter{w: csv.NewWriter(w), m: m}
	if err := cw.w.Write(ExportColumns); err != nil {
		return nil, fmt.Errorf("write csv header: %w", err)
	}
	return cw, nil
}

// Write writes one risk.
func (cw *CSVWriter) Write(r Risk) error {
	v := r.FieldValues()
	v["id"] = strconv.FormatInt(r.ID, 10)
	v["score"] = strconv.Itoa(r.Score())
	v["level"] = r.Level(cw.m).Name
	v["residual_score"] = strconv.Itoa(r.ResidualScore())
	v["residual_level"] = r.ResidualLevel(cw.m).Name
	v["materialising"] = strconv.FormatBool(r.Materialising)
	v["created"], v["updated"] = stamp(r.Created), stamp(r.Updated)
	rec := make([]string, len(ExportColumns))
	for i, c := range ExportColumns {
		rec[i] = EscapeCell(v[c])
	}
	if err := cw.w.Write(rec); err != nil {
		return fmt.Errorf("write csv row for risk %d: %w", r.ID, err)
	}
	return nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Flush writes buffered rows and reports any write error.
func (cw *CSVWriter) Flush() error {
	cw.w.Flush()
	if err := cw.w.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// WriteCSV writes risks as CSV with a header row.
func WriteCSV(w io.Writer, m Matrix, risks []Risk) error {
	cw, err := NewCSVWriter(w, m)
	if err != nil {
		return err
	}
	for _, r := range risks {
		if err := cw.Write(r); err != nil {
			return err
		}
	}
	return cw.Flush()
}

// WriteActionsCSV writes mitigation actions as CSV (risk_id, id, title, owner, due,
// status, overdue) with formula cells escaped.
func WriteActionsCSV(w io.Writer, actions []Action, now time.Time) error {
	rows := [][]string{{"risk_id", "id", "title", "owner", "due", "status", "overdue"}}
	for _, a := range actions {
		rows = append(rows, []string{strconv.FormatInt(a.RiskID, 10), strconv.FormatInt(a.ID, 10), a.Title, a.Owner,
			FormatDate(a.Due), string(a.Status), strconv.FormatBool(a.Overdue(now))})
	}
	return writeEscaped(w, rows)
}

// WriteEscalationsCSV writes escalation history as CSV (risk_id, id, at, by, from,
// to, rule, note) with formula cells escaped.
func WriteEscalationsCSV(w io.Writer, escs []Escalation) error {
	rows := [][]string{{"risk_id", "id", "at", "by", "from", "to", "rule", "note"}}
	for _, e := range escs {
		rows = append(rows, []string{strconv.FormatInt(e.RiskID, 10), strconv.FormatInt(e.ID, 10),
			e.At.UTC().Format(time.RFC3339), e.By, e.From, e.To, e.Rule, e.Note})
	}
	return writeEscaped(w, rows)
}

func writeEscaped(w io.Writer, rows [][]string) error {
	cw := csv.NewWriter(w)
	for i, row := range rows {
		if i > 0 {
			for j := range row {
				row[j] = EscapeCell(row[j])
			}
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// ImportOptions tell ImportCSV what is valid.
type ImportOptions struct {
	Matrix Matrix
	// Levels are the escalation levels; the first is the default.
	Levels []string
	// SkipBad imports the good rows and reports the bad ones in the ImportError,
	// instead of importing nothing when any row is bad.
	SkipBad bool
}

// RowError is one problem with one CSV row; Line is the file's line number
// (the header is line 1) where the row starts.
type RowError struct {
	Line  int    `json:"line"`
	Field string `json:"field,omitempty"`
	Msg   string `json:"message"`
}

func (e RowError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Msg)
}

// ImportError lists every bad row of an import (or the one problem that made the
// whole file unreadable).
type ImportError struct {
	Rows []RowError
	// Skipped is true when SkipBad let the good rows through.
	Skipped bool
}

func (e *ImportError) Error() string {
	const show = 20
	var b strings.Builder
	if e.Skipped {
		fmt.Fprintf(&b, "csv import: skipped %d bad row problem(s)", len(e.Rows))
	} else {
		fmt.Fprintf(&b, "csv import: %d problem(s), nothing imported", len(e.Rows))
	}
	for i, r := range e.Rows {
		if i == show {
			fmt.Fprintf(&b, "; and %d more", len(e.Rows)-show)
			break
		}
		b.WriteString("; ")
		b.WriteString(r.Error())
	}
	return b.String()
}

// ImportedRow is a risk read from a CSV row with the line it started on.
type ImportedRow struct {
	Line int
	Risk Risk
}

// ImportCSV reads risks from CSV and validates every row. Without SkipBad it returns
// no rows and an *ImportError when any row is bad; with SkipBad it returns the good
// rows and, if some were bad, an *ImportError with Skipped set.
func ImportCSV(r io.Reader, o ImportOptions) ([]ImportedRow, error) {
	br := bufio.NewReader(io.LimitReader(r, MaxImportBytes+1))
	if b, err := br.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" {
		br.Discard(3)
	}
	counted := &countingReader{r: br}
	cr := csv.NewReader(counted)
	cr.FieldsPerRecord = 0
	cr.ReuseRecord = false
	fatal := func(line int, format string, args ...any) ([]ImportedRow, error) {
		return nil, &ImportError{Rows: []RowError{{Line: line, Msg: fmt.Sprintf(format, args...)}}}
	}
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return fatal(1, "the file is empty; want a header row naming at least %s", strings.Join(RequiredColumns, ", "))
	}
	if err != nil {
		return fatal(lineOf(err, 1), "cannot read the header: %v", unwrapParse(err))
	}
	cols, herr := mapHeader(header)
	if herr != nil {
		return nil, herr
	}
	var (
		out  []ImportedRow
		bad  []RowError
		rows int
	)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line := lineOf(err, 0)
		if len(rec) > 0 && (err == nil || errors.Is(err, csv.ErrFieldCount)) {
			line, _ = cr.FieldPos(0)
		}
		if counted.n > MaxImportBytes {
			return fatal(line, "the file is larger than %d MiB", MaxImportBytes>>20)
		}
		if err != nil {
			if errors.Is(err, csv.ErrFieldCount) {
				bad = append(bad, RowError{Line: lineOf(err, line), Msg: fmt.Sprintf("has %d columns, the header has %d", len(rec), len(header))})
				continue
			}
			// A quoting error leaves the rest of the file ambiguous: stop here.
			return nil, &ImportError{Rows: append(bad, RowError{Line: lineOf(err, line), Msg: "malformed CSV: " + unwrapParse(err).Error()})}
		}
		if rows++; rows > MaxImportRows {
			return fatal(line, "more than %d rows; split the file", MaxImportRows)
		}
		if isBlank(rec) {
			continue
		}
		risk, problems := parseRow(rec, cols, o)
		if len(problems) > 0 {
			for _, p := range problems {
				bad = append(bad, RowError{Line: line, Field: p.Field, Msg: p.Msg})
			}
			continue
		}
		out = append(out, ImportedRow{Line: line, Risk: risk})
	}
	if len(bad) > 0 {
		if !o.SkipBad {
			return nil, &ImportError{Rows: bad}
		}
		return out, &ImportError{Rows: bad, Skipped: true}
	}
	return out, nil
}

func mapHeader(header []string) (map[string]int, error) {
	cols := map[string]int{}
	var bad []RowError
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		switch {
		case name == "":
			bad = append(bad, RowError{Line: 1, Msg: fmt.Sprintf("column %d has an empty name", i+1)})
		case !slices.Contains(AuditedFields, name) && !slices.Contains(ReadOnlyColumns, name):
			bad = append(bad, RowError{Line: 1, Msg: fmt.Sprintf("unknown column %q (known: %s)", truncate(h, 40), strings.Join(ExportColumns, ", "))})
		default:
			if _, dup := cols[name]; dup {
				bad = append(bad, RowError{Line: 1, Msg: fmt.Sprintf("column %q appears twice", name)})
			}
			cols[name] = i
		}
	}
	for _, req := range RequiredColumns {
		if _, ok := cols[req]; !ok {
			bad = append(bad, RowError{Line: 1, Msg: fmt.Sprintf("missing required column %q", req)})
		}
	}
	if len(bad) > 0 {
		return nil, &ImportError{Rows: bad}
	}
	return cols, nil
}

func parseRow(rec []string, cols map[string]int, o ImportOptions) (Risk, []FieldError) {
	r := Risk{Status: StatusOpen}
	var problems []FieldError
	for _, f := range AuditedFields {
		i, ok := cols[f]
		if !ok {
			continue
		}
		v := UnescapeCell(rec[i])
		if f == "status" && strings.TrimSpace(v) == "" {
			continue
		}
		if err := r.Set(f, v); err != nil {
			problems = append(problems, FieldError{Field: f, Msg: strings.TrimPrefix(err.Error(), f+": ")})
		}
	}
	if r.Escalation == "" && len(o.Levels) > 0 {
		r.Escalation = o.Levels[0]
	}
	if err := r.Validate(o.Matrix, o.Levels); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			for _, p := range ve.Problems {
				// a field that failed to parse already has its message
				if !slices.ContainsFunc(problems, func(q FieldError) bool { return q.Field == p.Field }) {
					problems = append(problems, p)
				}
			}
		}
	}
	return r, problems
}

func isBlank(rec []string) bool {
	for _, s := range rec {
		if strings.TrimSpace(s) != "" {
			return false
		}
	}
	return true
}

func lineOf(err error, def int) int {
	var pe *csv.ParseError
	if errors.As(err, &pe) && pe.StartLine > 0 {
		return pe.StartLine
	}
	return def
}

func unwrapParse(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
