package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/opscockpit/opscockpit/incident"
)

const entryColumns = `t.id, t.incident_id, t.at_ms, t.author, t.kind, t.text, t.fields, coalesce(t.corrects, 0),
	coalesce((SELECT max(c.id) FROM incident_timeline c WHERE c.corrects = t.id), 0)`

func scanEntry(r *sql.Rows) (incident.Entry, error) {
	var (
		e      incident.Entry
		at     int64
		kind   string
		fields string
	)
	if err := r.Scan(&e.ID, &e.IncidentID, &at, &e.Author, &kind, &e.Text, &fields, &e.Corrects, &e.CorrectedBy); err != nil {
		return e, err
	}
	e.At, e.Kind, e.Fields = fromMS(at), incident.Kind(kind), []byte(fields)
	return e, nil
}

// Timeline returns one page of an incident's timeline, ordered by (time, id). The
// indexes (incident_id, at_ms, id) and (incident_id, kind, at_ms, id) serve both the
// unfiltered and the per-kind pages, and paging is by key, never OFFSET, so page 100 of
// a 10,000-entry timeline costs what page 1 does.
func (s *Store) Timeline(ctx context.Context, id int64, tq incident.TimelineQuery) (incident.TimelinePage, error) {
	var page incident.TimelinePage
	limit := tq.Limit
	switch {
	case limit <= 0:
		limit = incident.DefaultPageSize
	case limit > incident.MaxPageSize:
		limit = incident.MaxPageSize
	}
	where, args := []string{"t.incident_id = ?"}, []any{id}
	if len(tq.Kinds) > 0 {
		marks := make([]string, len(tq.Kinds))
		for i, k := range tq.Kinds {
			if !k.Valid() {
				return page, fmt.Errorf("read timeline of incident %d: %q: %w", id, k, incident.ErrInvalidKind)
			}
			marks[i] = "?"
			args = append(args, string(k))
		}
		where = append(where, "t.kind IN ("+strings.Join(marks, ",")+")")
	}
	countWhere, countArgs := strings.Join(where, " AND "), append([]any(nil), args...)
	dir, cmp := "ASC", ">"
	if tq.Desc {
		dir, cmp = "DESC", "<"
	}
	if tq.After != nil {
		where = append(where, fmt.Sprintf("(t.at_ms, t.id) %s (?, ?)", cmp))
		args = append(args, ms(tq.After.At), tq.After.ID)
	}
	args = append(args, limit+1)
	query := `SELECT ` + entryColumns + ` FROM incident_timeline t WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY t.at_ms ` + dir + `, t.id ` + dir + ` LIMIT ?`
	err := s.read(ctx, fmt.Sprintf("read timeline of incident %d", id), func(q querier) error {
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM incident_timeline t WHERE `+countWhere, countArgs...).Scan(&page.Total); err != nil {
			return err
		}
		page.Entries = make([]incident.Entry, 0, min(limit, page.Total)+1)
		return eachRow(ctx, q, query, func(r *sql.Rows) error {
			e, err := scanEntry(r)
			page.Entries = append(page.Entries, e)
			return err
		}, args...)
	})
	if err != nil {
		return incident.TimelinePage{}, err
	}
	if len(page.Entries) > limit {
		page.Entries = page.Entries[:limit]
		last := page.Entries[limit-1]
		page.Next = &incident.Cursor{At: last.At, ID: last.ID}
	}
	return page, nil
}

// AllTimeline returns an incident's whole timeline, oldest first (exports).
func (s *Store) AllTimeline(ctx context.Context, id int64) ([]incident.Entry, error) {
	var out []incident.Entry
	err := s.read(ctx, fmt.Sprintf("read timeline of incident %d", id), func(q querier) error {
		return eachRow(ctx, q, `SELECT `+entryColumns+` FROM incident_timeline t WHERE t.incident_id = ? ORDER BY t.at_ms, t.id`,
			func(r *sql.Rows) error {
				e, err := scanEntry(r)
				out = append(out, e)
				return err
			}, id)
	})
	return out, err
}
