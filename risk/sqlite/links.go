package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/matcher"
	"github.com/opscockpit/opscockpit/risk"
)

// MaterialisingActor is who the audit trail names for flags set by firing alerts.
const MaterialisingActor = "alerts"

// AddLink ties a risk to alerts matching text (Alertmanager matcher syntax, e.g.
// {service="checkout", severity="critical"}); it is stored in canonical form.
func (s *Store) AddLink(ctx context.Context, riskID int64, text string) (risk.Link, error) {
	mm, err := matcher.Parse(text)
	if err != nil {
		v := &risk.ValidationError{}
		v.Add("matchers", err.Error())
		return risk.Link{}, fmt.Errorf("risk %d: link: %w", riskID, v)
	}
	if len(mm) == 0 {
		v := &risk.ValidationError{}
		v.Add("matchers", "must name at least one label matcher (an empty one would match every alert)")
		return risk.Link{}, fmt.Errorf("risk %d: link: %w", riskID, v)
	}
	l := risk.Link{RiskID: riskID, Matchers: mm.String()}
	err = s.write(ctx, fmt.Sprintf("risk %d: link %s", riskID, l.Matchers), func(w *wtx) error {
		if _, err := w.get(riskID); err != nil {
			return err
		}
		var n int
		if err := w.tx.QueryRowContext(w.ctx, "SELECT count(*) FROM risk_links WHERE risk_id = ? AND matchers = ?", riskID, l.Matchers).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			v := &risk.ValidationError{}
			v.Add("matchers", "the risk is already linked to "+l.Matchers)
			return v
		}
		res, err := w.tx.ExecContext(w.ctx, "INSERT INTO risk_links (risk_id, matchers, created_ms) VALUES (?, ?, ?)", riskID, l.Matchers, ms(w.now))
		if err != nil {
			return err
		}
		if l.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		l.Created = w.now
		return w.audit("link", l.ID, riskID, "matchers", "", l.Matchers)
	})
	if err != nil {
		return risk.Link{}, err
	}
	return l, nil
}

// RemoveLink deletes a link (its past materialisations stay).
func (s *Store) RemoveLink(ctx context.Context, linkID int64) error {
	return s.write(ctx, fmt.Sprintf("link %d: remove", linkID), func(w *wtx) error {
		var riskID int64
		var text string
		if err := w.tx.QueryRowContext(w.ctx, "SELECT risk_id, matchers FROM risk_links WHERE id = ?", linkID).Scan(&riskID, &text); err != nil {
			return fmt.Errorf("link %d: %w", linkID, risk.ErrNotFound)
		}
		if _, err := w.tx.ExecContext(w.ctx, "DELETE FROM risk_links WHERE id = ?", linkID); err != nil {
			return err
		}
		return w.audit("link", linkID, riskID, "matchers", text, "")
	})
}

// Links returns a risk's links; riskID 0 returns every link.
func (s *Store) Links(ctx context.Context, riskID int64) ([]risk.Link, error) {
	q, args := "SELECT id, risk_id, matchers, created_ms FROM risk_links ORDER BY id", []any{}
	if riskID != 0 {
		q, args = "SELECT id, risk_id, matchers, created_ms FROM risk_links WHERE risk_id = ? ORDER BY id", []any{riskID}
	}
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read links: %w", err)
	}
	defer rows.Close()
	var out []risk.Link
	for rows.Next() {
		var l risk.Link
		var c int64
		if err := rows.Scan(&l.ID, &l.RiskID, &l.Matchers, &c); err != nil {
			return nil, fmt.Errorf("read links: %w", err)
		}
		l.Created = fromMS(c)
		out = append(out, l)
	}
	return out, rows.Err()
}

func (s *Store) parsed(text string) (matcher.Matchers, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.matchers[text]; ok {
		return m, nil
	}
	m, err := matcher.Parse(text)
	if err != nil {
		return nil, err
	}
	s.matchers[text] = m
	return m, nil
}

// FiringResult is what RecordFiring changed.
type FiringResult struct {
	// Recorded are the new materialisation events (one per risk, alert
	// fingerprint and start time; a repeat of the same firing records nothing).
	Recorded []risk.Materialisation
	// Flagged are the risks that started materialising, Cleared those that stopped.
	Flagged, Cleared []int64
}

// RecordFiring takes the complete set of currently firing alerts (others are
// ignored) and, for every risk with a link matching one of them, records the event
// and flags the risk materialising; risks flagged earlier with no matching alert
// firing any more are cleared. Calling it again with the same alerts changes
// nothing. Flag changes are audited as the actor "alerts".
func (s *Store) RecordFiring(ctx context.Context, alerts []datasource.Alert) (FiringResult, error) {
	links, err := s.Links(ctx, 0)
	if err != nil {
		return FiringResult{}, err
	}
	firing := make([]datasource.Alert, 0, len(alerts))
	for _, a := range alerts {
		if a.State == datasource.StateFiring {
			firing = append(firing, a)
		}
	}
	slices.SortFunc(firing, func(a, b datasource.Alert) int {
		if c := a.StartsAt.Compare(b.StartsAt); c != 0 {
			return c
		}
		return compareStrings(a.Fingerprint, b.Fingerprint)
	})
	type hit struct {
		riskID int64
		alert  datasource.Alert
	}
	var hits []hit
	matched := map[int64]bool{}
	for _, l := range links {
		mm, err := s.parsed(l.Matchers)
		if err != nil || len(mm) == 0 {
			continue // stored links were validated; a newer syntax is skipped, not fatal
		}
		for _, a := range firing {
			if mm.Matches(a.Labels) {
				hits = append(hits, hit{l.RiskID, a})
				matched[l.RiskID] = true
			}
		}
	}
	var res FiringResult
	err = s.writeAs(ctx, MaterialisingActor, "record firing alerts", func(w *wtx) error {
		res = FiringResult{}
		seen := map[[3]string]bool{}
		for _, h := range hits {
			key := [3]string{strconv.FormatInt(h.riskID, 10), h.alert.Fingerprint, strconv.FormatInt(h.alert.StartsAt.UnixMilli(), 10)}
			if seen[key] {
				continue // two links of one risk matching the same alert
			}
			seen[key] = true
			labels, err := json.Marshal(h.alert.Labels)
			if err != nil {
				return err
			}
			r, err := w.tx.ExecContext(w.ctx, `INSERT INTO risk_materialisations (risk_id, fingerprint, starts_ms, seen_ms, alertname, labels)
				VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (risk_id, fingerprint, starts_ms) DO NOTHING`,
				h.riskID, h.alert.Fingerprint, h.alert.StartsAt.UnixMilli(), ms(w.now), h.alert.Name(), string(labels))
			if err != nil {
				return err
			}
			if n, _ := r.RowsAffected(); n == 1 {
				id, _ := r.LastInsertId()
				w.changed = true
				res.Recorded = append(res.Recorded, risk.Materialisation{ID: id, RiskID: h.riskID, Fingerprint: h.alert.Fingerprint,
					AlertName: h.alert.Name(), Labels: maps.Clone(h.alert.Labels), StartsAt: h.alert.StartsAt, Seen: w.now})
			}
		}
		// flag the newly matched, clear the no longer matched
		rows, err := w.tx.QueryContext(w.ctx, "SELECT id FROM risks WHERE materialising = 1")
		if err != nil {
			return err
		}
		flagged := map[int64]bool{}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			flagged[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range slices.Sorted(maps.Keys(matched)) {
			if flagged[id] {
				continue
			}
			if _, err := w.tx.ExecContext(w.ctx, "UPDATE risks SET materialising = 1, materialised_ms = ? WHERE id = ?", ms(w.now), id); err != nil {
				return err
			}
			if err := w.audit("risk", id, id, "materialising", "false", "true"); err != nil {
				return err
			}
			res.Flagged = append(res.Flagged, id)
		}
		for _, id := range slices.Sorted(maps.Keys(flagged)) {
			if matched[id] {
				continue
			}
			if _, err := w.tx.ExecContext(w.ctx, "UPDATE risks SET materialising = 0 WHERE id = ?", id); err != nil {
				return err
			}
			if err := w.audit("risk", id, id, "materialising", "true", "false"); err != nil {
				return err
			}
			res.Cleared = append(res.Cleared, id)
		}
		return nil
	})
	if err != nil {
		return FiringResult{}, err
	}
	return res, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *Store) materialisations(ctx context.Context, where string, args ...any) ([]risk.Materialisation, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, risk_id, fingerprint, starts_ms, seen_ms, alertname, labels
		FROM risk_materialisations WHERE `+where+` ORDER BY seen_ms, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read materialisations: %w", err)
	}
	defer rows.Close()
	var out []risk.Materialisation
	for rows.Next() {
		var m risk.Materialisation
		var starts, seen int64
		var labels string
		if err := rows.Scan(&m.ID, &m.RiskID, &m.Fingerprint, &starts, &seen, &m.AlertName, &labels); err != nil {
			return nil, fmt.Errorf("read materialisations: %w", err)
		}
		m.StartsAt, m.Seen = time.UnixMilli(starts), fromMS(seen)
		if err := json.Unmarshal([]byte(labels), &m.Labels); err != nil {
			return nil, errors.Join(fmt.Errorf("materialisation %d: labels", m.ID), err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// MaterialisationsSince returns the materialisation events first seen at or after since.
func (s *Store) MaterialisationsSince(ctx context.Context, since time.Time) ([]risk.Materialisation, error) {
	return s.materialisations(ctx, "seen_ms >= ?", ms(since))
}
