package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/opscockpit/opscockpit/risk"
)

// AddAction saves a new mitigation action for a.RiskID.
func (s *Store) AddAction(ctx context.Context, a risk.Action) (risk.Action, error) {
	if a.Status == "" {
		a.Status = risk.ActionOpen
	}
	if err := a.Validate(); err != nil {
		return risk.Action{}, fmt.Errorf("risk %d: add action: %w", a.RiskID, err)
	}
	err := s.write(ctx, fmt.Sprintf("risk %d: add action", a.RiskID), func(w *wtx) error {
		if _, err := w.get(a.RiskID); err != nil {
			return err
		}
		res, err := w.tx.ExecContext(w.ctx, `INSERT INTO risk_actions (risk_id, title, owner, due, status, created_ms, updated_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, a.RiskID, a.Title, a.Owner, date(a.Due), string(a.Status), ms(w.now), ms(w.now))
		if err != nil {
			return err
		}
		if a.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		a.Created, a.Updated = w.now, w.now
		return w.audit("action", a.ID, a.RiskID, "created", "", fmt.Sprintf("%s (owner %s, due %s, %s)", a.Title, a.Owner, date(a.Due), a.Status))
	})
	if err != nil {
		return risk.Action{}, err
	}
	return a, nil
}

// UpdateAction saves an action's edited title, owner, due date and status.
func (s *Store) UpdateAction(ctx context.Context, a risk.Action) (risk.Action, error) {
	if err := a.Validate(); err != nil {
		return risk.Action{}, fmt.Errorf("action %d: update: %w", a.ID, err)
	}
	err := s.write(ctx, fmt.Sprintf("action %d: update", a.ID), func(w *wtx) error {
		cur, err := scanAction(w.tx.QueryRowContext(w.ctx, "SELECT "+actionCols+" FROM risk_actions WHERE id = ?", a.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("action %d: %w", a.ID, risk.ErrNotFound)
		}
		if err != nil {
			return err
		}
		a.RiskID, a.Created = cur.RiskID, cur.Created
		changes := []risk.Change{
			{Field: "title", Old: cur.Title, New: a.Title},
			{Field: "owner", Old: cur.Owner, New: a.Owner},
			{Field: "due", Old: date(cur.Due), New: date(a.Due)},
			{Field: "status", Old: string(cur.Status), New: string(a.Status)},
		}
		for _, c := range changes {
			if c.Old != c.New {
				if err := w.audit("action", a.ID, a.RiskID, c.Field, c.Old, c.New); err != nil {
					return err
				}
			}
		}
		if !w.changed {
			a.Updated = cur.Updated
			return nil
		}
		a.Updated = w.now
		_, err = w.tx.ExecContext(w.ctx, "UPDATE risk_actions SET title = ?, owner = ?, due = ?, status = ?, updated_ms = ? WHERE id = ?",
			a.Title, a.Owner, date(a.Due), string(a.Status), ms(w.now), a.ID)
		return err
	})
	if err != nil {
		return risk.Action{}, err
	}
	return a, nil
}

const actionCols = "id, risk_id, title, owner, due, status, created_ms, updated_ms"

func scanAction(sc scanner) (risk.Action, error) {
	var a risk.Action
	var due, status string
	var c, u int64
	if err := sc.Scan(&a.ID, &a.RiskID, &a.Title, &a.Owner, &due, &status, &c, &u); err != nil {
		return risk.Action{}, err
	}
	a.Due, a.Status, a.Created, a.Updated = parseDate(due), risk.ActionStatus(status), fromMS(c), fromMS(u)
	return a, nil
}

func (s *Store) actions(ctx context.Context, where string, args ...any) ([]risk.Action, error) {
	rows, err := s.db.R.QueryContext(ctx, "SELECT "+actionCols+" FROM risk_actions WHERE "+where+" ORDER BY risk_id, due = '', due, id", args...)
	if err != nil {
		return nil, fmt.Errorf("read actions: %w", err)
	}
	defer rows.Close()
	var out []risk.Action
	for rows.Next() {
		a, err := scanAction(rows)
		if err != nil {
			return nil, fmt.Errorf("read actions: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Actions returns the actions of a risk; riskID 0 returns every action.
func (s *Store) Actions(ctx context.Context, riskID int64) ([]risk.Action, error) {
	if riskID == 0 {
		return s.actions(ctx, "1 = 1")
	}
	return s.actions(ctx, "risk_id = ?", riskID)
}

// OverdueActions returns unfinished actions whose due day has passed.
func (s *Store) OverdueActions(ctx context.Context) ([]risk.Action, error) {
	return s.actions(ctx, "status IN ('open', 'in_progress') AND due != '' AND due < ?", s.today())
}

// AddReview records a review of a risk; a NextReview date on it becomes the risk's
// next review date.
func (s *Store) AddReview(ctx context.Context, rv risk.Review) (risk.Review, error) {
	if err := rv.Validate(); err != nil {
		return risk.Review{}, fmt.Errorf("risk %d: add review: %w", rv.RiskID, err)
	}
	err := s.write(ctx, fmt.Sprintf("risk %d: add review", rv.RiskID), func(w *wtx) error {
		cur, err := w.get(rv.RiskID)
		if err != nil {
			return err
		}
		rv.By, rv.Created = w.actor, w.now
		res, err := w.tx.ExecContext(w.ctx, `INSERT INTO risk_reviews (risk_id, date, reviewers, decision, notes, next_review, by_whom, created_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, rv.RiskID, date(rv.Date), strings.Join(rv.Reviewers, ";"), rv.Decision, rv.Notes,
			date(rv.NextReview), w.actor, ms(w.now))
		if err != nil {
			return err
		}
		if rv.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		if err := w.audit("review", rv.ID, rv.RiskID, "created", "", date(rv.Date)+": "+rv.Decision); err != nil {
			return err
		}
		if !rv.NextReview.IsZero() && date(rv.NextReview) != date(cur.NextReview) {
			if _, err := w.tx.ExecContext(w.ctx, "UPDATE risks SET next_review = ?, updated_ms = ?, updated_by = ?, rev = rev + 1 WHERE id = ?",
				date(rv.NextReview), ms(w.now), w.actor, rv.RiskID); err != nil {
				return err
			}
			return w.audit("risk", rv.RiskID, rv.RiskID, "next_review", date(cur.NextReview), date(rv.NextReview))
		}
		return nil
	})
	if err != nil {
		return risk.Review{}, err
	}
	return rv, nil
}

// Reviews returns the reviews of a risk, oldest first.
func (s *Store) Reviews(ctx context.Context, riskID int64) ([]risk.Review, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, risk_id, date, reviewers, decision, notes, next_review, by_whom, created_ms
		FROM risk_reviews WHERE risk_id = ? ORDER BY date, id`, riskID)
	if err != nil {
		return nil, fmt.Errorf("risk %d: read reviews: %w", riskID, err)
	}
	defer rows.Close()
	var out []risk.Review
	for rows.Next() {
		var rv risk.Review
		var d, reviewers, next string
		var c int64
		if err := rows.Scan(&rv.ID, &rv.RiskID, &d, &reviewers, &rv.Decision, &rv.Notes, &next, &rv.By, &c); err != nil {
			return nil, fmt.Errorf("risk %d: read reviews: %w", riskID, err)
		}
		rv.Date, rv.NextReview, rv.Created = parseDate(d), parseDate(next), fromMS(c)
		rv.Reviewers = risk.ParseTags(reviewers)
		out = append(out, rv)
	}
	return out, rows.Err()
}

func (s *Store) escalations(ctx context.Context, where string, args ...any) ([]risk.Escalation, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, risk_id, at_ms, by_whom, from_level, to_level, note, rule
		FROM risk_escalations WHERE `+where+` ORDER BY at_ms, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read escalations: %w", err)
	}
	defer rows.Close()
	var out []risk.Escalation
	for rows.Next() {
		var e risk.Escalation
		var at int64
		if err := rows.Scan(&e.ID, &e.RiskID, &at, &e.By, &e.From, &e.To, &e.Note, &e.Rule); err != nil {
			return nil, fmt.Errorf("read escalations: %w", err)
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Escalations returns the escalation history of a risk, oldest first; riskID 0
// returns every risk's.
func (s *Store) Escalations(ctx context.Context, riskID int64) ([]risk.Escalation, error) {
	if riskID == 0 {
		return s.escalations(ctx, "1 = 1")
	}
	return s.escalations(ctx, "risk_id = ?", riskID)
}

// EscalationsSince returns the escalations confirmed at or after since.
func (s *Store) EscalationsSince(ctx context.Context, since time.Time) ([]risk.Escalation, error) {
	return s.escalations(ctx, "at_ms >= ?", ms(since))
}
