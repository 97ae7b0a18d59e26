package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/opscockpit/opscockpit/risk"
)

// CountCap bounds how far a full-text search counts its matches: a one-letter
// prefix can match most of the register, and counting them all on every keystroke
// would cost more than the page itself. Page.Total is then CountCap+1 and
// Page.Capped is set (show "1000+").
const CountCap = 1000

var sortColumns = map[risk.SortField]string{
	risk.SortID:         "r.id",
	risk.SortTitle:      "r.title",
	risk.SortOwner:      "r.owner",
	risk.SortService:    "r.service",
	risk.SortStatus:     "r.status",
	risk.SortScore:      "r.score",
	risk.SortResidual:   "r.residual_score",
	risk.SortLevel:      "r.level_rank",
	risk.SortDue:        "r.due",
	risk.SortNextReview: "r.next_review",
	risk.SortUpdated:    "r.updated_ms",
	risk.SortCreated:    "r.id",
}

// where builds the filter's FROM and WHERE clauses.
func (s *Store) where(f risk.Filter) (from, where string, args []any, fts bool) {
	from, where, args, fts, _ = s.whereFTS(f, "")
	return from, where, args, fts
}

// whereFTS is where, also telling whether the filter is the search alone (then
// counting needs no join with risks). Status and level conditions are prefixed
// with plus: "+" stops SQLite from using their (unselective) indexes, so a sorted
// page walks the sort column's index and stops after LIMIT rows instead of sorting
// half the register.
func (s *Store) whereFTS(f risk.Filter, plus string) (from, where string, args []any, fts, ftsOnly bool) {
	from = "risks r"
	var conds []string
	if q := risk.FTSQuery(f.Query); q != "" {
		from = "risks_fts JOIN risks r ON r.id = risks_fts.rowid"
		conds = append(conds, "risks_fts MATCH ?")
		args = append(args, q)
		fts = true
	}
	if len(f.Status) > 0 {
		conds = append(conds, plus+"r.status IN ("+placeholders(len(f.Status))+")")
		for _, st := range f.Status {
			args = append(args, string(st))
		}
	}
	if len(f.Levels) > 0 {
		col := "r.level_rank"
		if f.Residual {
			col = "r.residual_rank"
		}
		conds = append(conds, plus+col+" IN ("+placeholders(len(f.Levels))+")")
		for _, l := range f.Levels {
			lv, _ := s.matrix.LevelByName(l)
			args = append(args, lv.Rank)
		}
	}
	if f.Owner != "" {
		conds = append(conds, "r.owner = ?")
		args = append(args, f.Owner)
	}
	if f.Service != "" {
		conds = append(conds, "r.service = ?")
		args = append(args, f.Service)
	}
	if f.Materialising {
		conds = append(conds, "r.materialising = 1")
	}
	if f.Likelihood > 0 && f.Impact > 0 {
		if f.Residual {
			conds = append(conds, "(CASE WHEN r.residual_likelihood = 0 THEN r.likelihood ELSE r.residual_likelihood END) = ?",
				"(CASE WHEN r.residual_impact = 0 THEN r.impact ELSE r.residual_impact END) = ?")
		} else {
			conds = append(conds, "r.likelihood = ?", "r.impact = ?")
		}
		args = append(args, f.Likelihood, f.Impact)
	}
	if f.Overdue {
		today := s.today()
		conds = append(conds, `(r.status != 'closed' AND ((r.next_review != '' AND r.next_review < ?)
			OR (r.due != '' AND r.due < ?)
			OR EXISTS (SELECT 1 FROM risk_actions a WHERE a.risk_id = r.id AND a.status IN ('open', 'in_progress') AND a.due != '' AND a.due < ?)))`)
		args = append(args, today, today, today)
	}
	where = "1 = 1"
	if len(conds) > 0 {
		where = strings.Join(conds, " AND ")
	}
	return from, where, args, fts, fts && len(conds) == 1
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// List returns one page of the risks matching f, and how many match in all.
func (s *Store) List(ctx context.Context, f risk.Filter) (risk.Page, error) {
	if err := f.Validate(s.matrix); err != nil {
		return risk.Page{}, fmt.Errorf("list risks: %w", err)
	}
	limit := f.Limit
	if limit == 0 {
		limit = risk.DefaultLimit
	}
	from, where, args, fts, _ := s.whereFTS(f, "+")
	dir := "ASC"
	if f.Desc {
		dir = "DESC"
	}
	col := sortColumns[f.Sort]
	order := col + " " + dir
	switch {
	case fts && (f.Sort == risk.SortID || f.Sort == risk.SortCreated):
		// FTS5 hands out matches in rowid order, either way: no sort, and the page
		// stops after LIMIT rows however many match.
		order = "risks_fts.rowid " + dir
	case f.Sort == risk.SortDue || f.Sort == risk.SortNextReview:
		order = "(" + col + " = '') ASC, " + col + " " + dir + ", r.id " + dir // unset dates last
	case col != "r.id":
		order += ", r.id " + dir
	}
	tx, err := s.db.R.BeginTx(ctx, nil)
	if err != nil {
		return risk.Page{}, fmt.Errorf("list risks: %w", err)
	}
	defer tx.Rollback()
	var page risk.Page
	// First the page's ids in order (index-only where possible), then the rows with
	// their derived action counts for those ids alone.
	ids, err := queryIDs(ctx, tx, "SELECT r.id FROM "+from+" WHERE "+where+" ORDER BY "+order+" LIMIT ? OFFSET ?", append(args, limit, f.Offset)...)
	if err != nil {
		return risk.Page{}, fmt.Errorf("list risks: %w", err)
	}
	if page.Risks, err = s.fetch(ctx, tx, ids); err != nil {
		return risk.Page{}, fmt.Errorf("list risks: %w", err)
	}
	from, where, args, fts, ftsOnly := s.whereFTS(f, "")
	switch {
	case f.Offset == 0 && len(page.Risks) < limit:
		page.Total = len(page.Risks) // the whole result fits the first page
	case fts:
		if ftsOnly {
			from = "risks_fts"
		}
		err = tx.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM "+from+" WHERE "+where+" LIMIT ?)",
			append(args, CountCap+1)...).Scan(&page.Total)
		page.Capped = page.Total > CountCap
	default:
		err = tx.QueryRowContext(ctx, "SELECT count(*) FROM "+from+" WHERE "+where, args...).Scan(&page.Total)
	}
	if err != nil {
		return risk.Page{}, fmt.Errorf("count risks: %w", err)
	}
	return page, nil
}

func queryIDs(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// fetch reads the risks with the given ids, in that order.
func (s *Store) fetch(ctx context.Context, tx *sql.Tx, ids []int64) ([]risk.Risk, error) {
	out := make([]risk.Risk, 0, len(ids))
	pos := make(map[int64]int, len(ids))
	for i, id := range ids {
		pos[id] = i
	}
	out = out[:len(ids)]
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		args := make([]any, 0, len(part)+1)
		args = append(args, s.today())
		for _, id := range part {
			args = append(args, id)
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+riskCols+" FROM risks r WHERE r.id IN ("+placeholders(len(part))+")", args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			r, err := scanRisk(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[pos[r.ID]] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// All returns every risk matching f (ignoring Limit and Offset), for exports.
func (s *Store) All(ctx context.Context, f risk.Filter) ([]risk.Risk, error) {
	var out []risk.Risk
	f.Limit, f.Offset = risk.MaxLimit, 0
	for {
		p, err := s.List(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Risks...)
		if len(p.Risks) < f.Limit {
			return out, nil
		}
		f.Offset += len(p.Risks)
	}
}

// HeatMap counts the risks matching f per cell, inherent and residual, in one
// GROUP BY over a covering index. Limit, Offset and Sort are ignored.
func (s *Store) HeatMap(ctx context.Context, f risk.Filter) (risk.HeatMap, error) {
	f.Limit, f.Offset, f.Sort = 0, 0, risk.SortID
	if err := f.Validate(s.matrix); err != nil {
		return risk.HeatMap{}, fmt.Errorf("heat map: %w", err)
	}
	if f.Query == "" && len(f.Levels) == 0 && f.Owner == "" && f.Service == "" && !f.Overdue && !f.Materialising {
		return s.heatFromCounts(ctx, f.Status)
	}
	from, where, args, _ := s.where(f)
	// Grouping by status too follows the covering index risks_heat exactly, so
	// SQLite counts in one pass without a temporary b-tree (4x faster).
	rows, err := s.db.R.QueryContext(ctx, `SELECT r.likelihood, r.impact, r.residual_likelihood, r.residual_impact, count(*)
		FROM `+from+` WHERE `+where+` GROUP BY r.status, 1, 2, 3, 4`, args...)
	return s.heatRows(rows, err)
}

// heatFromCounts reads the trigger-maintained risk_heat table.
func (s *Store) heatFromCounts(ctx context.Context, statuses []risk.Status) (risk.HeatMap, error) {
	q, args := "SELECT likelihood, impact, residual_likelihood, residual_impact, n FROM risk_heat WHERE n > 0", []any{}
	if len(statuses) > 0 {
		q += " AND status IN (" + placeholders(len(statuses)) + ")"
		for _, st := range statuses {
			args = append(args, string(st))
		}
	}
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	return s.heatRows(rows, err)
}

// heatRows adds up (likelihood, impact, residual likelihood, residual impact, count)
// rows into a heat map; an unassessed residual counts in the inherent cell.
func (s *Store) heatRows(rows *sql.Rows, err error) (risk.HeatMap, error) {
	if err != nil {
		return risk.HeatMap{}, fmt.Errorf("heat map: %w", err)
	}
	defer rows.Close()
	h := risk.NewHeatMap(s.matrix)
	for rows.Next() {
		var l, i, rl, ri, n int
		if err := rows.Scan(&l, &i, &rl, &ri, &n); err != nil {
			return risk.HeatMap{}, fmt.Errorf("heat map: %w", err)
		}
		if rl == 0 {
			rl = l
		}
		if ri == 0 {
			ri = i
		}
		h.Add(l, i, rl, ri, n)
	}
	if err := rows.Err(); err != nil {
		return risk.HeatMap{}, fmt.Errorf("heat map: %w", err)
	}
	return h, nil
}
