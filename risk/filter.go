package risk

import (
	"fmt"
	"slices"
	"strings"
)

// SortField names a column the risk list sorts by.
type SortField string

// The sort orders of the risk list. The zero value sorts by id (newest last unless
// Desc), which is also the fast order for full-text search.
const (
	SortID         SortField = ""
	SortTitle      SortField = "title"
	SortOwner      SortField = "owner"
	SortService    SortField = "service"
	SortStatus     SortField = "status"
	SortScore      SortField = "score"
	SortResidual   SortField = "residual_score"
	SortLevel      SortField = "level"
	SortDue        SortField = "due"
	SortNextReview SortField = "next_review"
	SortUpdated    SortField = "updated"
	SortCreated    SortField = "created"
)

// SortFields lists every sort order.
var SortFields = []SortField{SortID, SortTitle, SortOwner, SortService, SortStatus, SortScore,
	SortResidual, SortLevel, SortDue, SortNextReview, SortUpdated, SortCreated}

// DefaultLimit is the page size when Filter.Limit is 0; MaxLimit caps it.
const (
	DefaultLimit = 50
	MaxLimit     = 100000
)

// Filter selects, orders and pages the risk list. Zero fields do not filter.
type Filter struct {
	// Status keeps risks with any of these statuses.
	Status []Status
	// Levels keeps risks whose inherent level (residual level if Residual) is one of
	// these level names.
	Levels   []string
	Residual bool
	Owner    string
	Service  string
	// Overdue keeps risks with an overdue review, due date or action.
	Overdue bool
	// Materialising keeps risks whose linked alerts are firing.
	Materialising bool
	// Likelihood and Impact, when both are set, keep the risks in that heat-map cell
	// (the residual cell if Residual, where an unassessed residual falls back to the
	// inherent value, as ResidualCell does).
	Likelihood, Impact int
	// Query is full-text search over title, description, category, service, owner
	// and tags; the last word matches as a prefix, so it works while typing.
	Query  string
	Sort   SortField
	Desc   bool
	Limit  int
	Offset int
}

// Validate checks the filter against the matrix (level names).
func (f Filter) Validate(m Matrix) error {
	var v ValidationError
	for _, s := range f.Status {
		if !s.Valid() {
			v.Add("status", fmt.Sprintf("%q is not one of %s", s, joinQuoted(Statuses)))
		}
	}
	for _, l := range f.Levels {
		if _, ok := m.LevelByName(l); !ok {
			names := make([]string, len(m.Levels))
			for i, l := range m.Levels {
				names[i] = l.Name
			}
			v.Add("level", fmt.Sprintf("%q is not one of %s", l, joinQuoted(names)))
		}
	}
	if !slices.Contains(SortFields, f.Sort) {
		v.Add("sort", fmt.Sprintf("%q is not one of %s", f.Sort, joinQuoted(SortFields[1:])))
	}
	if f.Limit < 0 || f.Limit > MaxLimit {
		v.Add("limit", fmt.Sprintf("%d is outside 0..%d", f.Limit, MaxLimit))
	}
	if f.Offset < 0 {
		v.Add("offset", "must not be negative")
	}
	return v.Err()
}

// Page is one page of the risk list.
type Page struct {
	Risks []Risk `json:"risks"`
	// Total counts every risk matching the filter, across pages.
	Total int `json:"total"`
	// Capped means Total stopped counting early (a full-text search matching
	// thousands of risks): show it as "Total+".
	Capped bool `json:"capped,omitempty"`
}

// FTSQuery turns what a user typed into an FTS5 query: each word becomes a quoted
// phrase (so punctuation and FTS operators are plain text) and the last word, if
// the text does not end in a space, a prefix. It returns "" when nothing searchable
// was typed.
func FTSQuery(typed string) string {
	words := strings.FieldsFunc(typed, func(r rune) bool {
		return !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127)
	})
	if len(words) == 0 {
		return ""
	}
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(w, `"`, `""`))
		b.WriteByte('"')
	}
	last := typed[len(typed)-1]
	if last != ' ' && last != '\t' {
		b.WriteByte('*')
	}
	return b.String()
}
