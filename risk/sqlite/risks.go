package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/opscockpit/opscockpit/risk"
)

const riskCols = `r.id, r.title, r.description, r.category, r.service, r.owner, r.likelihood, r.impact,
	r.residual_likelihood, r.residual_impact, r.treatment, r.treatment_rationale, r.status, r.escalation,
	r.due, r.next_review, r.tags, r.materialising, r.materialised_ms, r.created_ms, r.updated_ms,
	r.created_by, r.updated_by, r.rev,
	(SELECT count(*) FROM risk_actions a WHERE a.risk_id = r.id AND a.status IN ('open', 'in_progress')),
	(SELECT count(*) FROM risk_actions a WHERE a.risk_id = r.id AND a.status IN ('open', 'in_progress') AND a.due != '' AND a.due < ?)`

type scanner interface{ Scan(...any) error }

func scanRisk(sc scanner) (risk.Risk, error) {
	var (
		r                           risk.Risk
		treatment, status           string
		due, review, tags           string
		mat                         bool
		matMS, createdMS, updatedMS int64
	)
	err := sc.Scan(&r.ID, &r.Title, &r.Description, &r.Category, &r.Service, &r.Owner, &r.Likelihood, &r.Impact,
		&r.ResidualLikelihood, &r.ResidualImpact, &treatment, &r.TreatmentRationale, &status, &r.Escalation,
		&due, &review, &tags, &mat, &matMS, &createdMS, &updatedMS, &r.CreatedBy, &r.UpdatedBy, &r.Rev,
		&r.OpenActions, &r.OverdueActions)
	if err != nil {
		return risk.Risk{}, err
	}
	r.Treatment, r.Status = risk.Treatment(treatment), risk.Status(status)
	r.Due, r.NextReview, r.Tags = parseDate(due), parseDate(review), risk.ParseTags(tags)
	r.Materialising, r.MaterialisedAt = mat, fromMS(matMS)
	r.Created, r.Updated = fromMS(createdMS), fromMS(updatedMS)
	return r, nil
}

func (s *Store) today() string { return date(s.clock.Now()) }

// Get returns one risk, or an error wrapping risk.ErrNotFound.
func (s *Store) Get(ctx context.Context, id int64) (risk.Risk, error) {
	r, err := scanRisk(s.db.R.QueryRowContext(ctx, "SELECT "+riskCols+" FROM risks r WHERE r.id = ?", s.today(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return risk.Risk{}, fmt.Errorf("risk %d: %w", id, risk.ErrNotFound)
	}
	if err != nil {
		return risk.Risk{}, fmt.Errorf("risk %d: read: %w", id, err)
	}
	return r, nil
}

func (w *wtx) get(id int64) (risk.Risk, error) {
	r, err := scanRisk(w.tx.QueryRowContext(w.ctx, "SELECT "+riskCols+" FROM risks r WHERE r.id = ?", date(w.now), id))
	if errors.Is(err, sql.ErrNoRows) {
		return risk.Risk{}, fmt.Errorf("risk %d: %w", id, risk.ErrNotFound)
	}
	return r, err
}

// prepare fills defaults and validates a risk about to be created.
func (s *Store) prepare(r *risk.Risk) error {
	if r.Status == "" {
		r.Status = risk.StatusOpen
	}
	if r.Escalation == "" {
		r.Escalation = s.policy.Levels[0]
	}
	return r.Validate(s.matrix, s.policy.Levels)
}

// Create validates and saves a new risk and returns it as stored.
func (s *Store) Create(ctx context.Context, r risk.Risk) (risk.Risk, error) {
	if err := s.prepare(&r); err != nil {
		return risk.Risk{}, fmt.Errorf("create risk: %w", err)
	}
	var id int64
	err := s.write(ctx, "create risk", func(w *wtx) error {
		var err error
		id, err = w.insert(r)
		return err
	})
	if err != nil {
		return risk.Risk{}, err
	}
	return s.Get(ctx, id)
}

// Import validates every risk and creates them all in one transaction: either all
// are saved or none. It returns the new ids in order.
func (s *Store) Import(ctx context.Context, risks []risk.Risk) ([]int64, error) {
	for i := range risks {
		if err := s.prepare(&risks[i]); err != nil {
			return nil, fmt.Errorf("import risk %d (%q): %w", i+1, risks[i].Title, err)
		}
	}
	ids := make([]int64, 0, len(risks))
	err := s.write(ctx, fmt.Sprintf("import %d risks", len(risks)), func(w *wtx) error {
		ids = ids[:0]
		for _, r := range risks {
			id, err := w.insert(r)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

func (w *wtx) insert(r risk.Risk) (int64, error) {
	m := w.s.matrix
	rl, ri := r.ResidualCell()
	res, err := w.tx.ExecContext(w.ctx, `INSERT INTO risks (title, description, category, service, owner,
		likelihood, impact, residual_likelihood, residual_impact, score, residual_score, level_rank, residual_rank,
		treatment, treatment_rationale, status, escalation, due, next_review, tags,
		created_ms, updated_ms, created_by, updated_by, rev)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		r.Title, r.Description, r.Category, r.Service, r.Owner,
		r.Likelihood, r.Impact, r.ResidualLikelihood, r.ResidualImpact, r.Score(), r.ResidualScore(),
		m.Level(r.Likelihood, r.Impact).Rank, m.Level(rl, ri).Rank,
		string(r.Treatment), r.TreatmentRationale, string(r.Status), r.Escalation, date(r.Due), date(r.NextReview),
		strings.Join(r.Tags, ";"), ms(w.now), ms(w.now), w.actor, w.actor)
	if err != nil {
		return 0, fmt.Errorf("insert risk: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	// One audit row per create: the initial values of every field.
	snapshot, err := json.Marshal(r.FieldValues())
	if err != nil {
		return 0, err
	}
	return id, w.audit("risk", id, id, "created", "", string(snapshot))
}

// Update saves r's edited fields (r.ID names the risk). If r.Rev is not 0 and the
// stored risk has moved on, it fails with risk.ErrConflict. The escalation level
// cannot change here: use Escalate. Unchanged fields write nothing; each changed
// field is one audit row.
func (s *Store) Update(ctx context.Context, r risk.Risk) (risk.Risk, error) {
	op := fmt.Sprintf("risk %d: update", r.ID)
	err := s.write(ctx, op, func(w *wtx) error {
		cur, err := w.get(r.ID)
		if err != nil {
			return err
		}
		if r.Rev != 0 && r.Rev != cur.Rev {
			return fmt.Errorf("risk %d (revision %d, you had %d): %w", r.ID, cur.Rev, r.Rev, risk.ErrConflict)
		}
		if r.Escalation == "" {
			r.Escalation = cur.Escalation
		}
		if r.Escalation != cur.Escalation {
			v := &risk.ValidationError{}
			v.Add("escalation", "changes only through an escalation with a note (risk escalate)")
			return v
		}
		if err := r.Validate(s.matrix, s.policy.Levels); err != nil {
			return err
		}
		changes := risk.Diff(cur, r)
		if len(changes) == 0 {
			return nil
		}
		m := s.matrix
		rl, ri := r.ResidualCell()
		if _, err := w.tx.ExecContext(w.ctx, `UPDATE risks SET title = ?, description = ?, category = ?,
			service = ?, owner = ?, likelihood = ?, impact = ?, residual_likelihood = ?, residual_impact = ?,
			score = ?, residual_score = ?, level_rank = ?, residual_rank = ?, treatment = ?,
			treatment_rationale = ?, status = ?, due = ?, next_review = ?, tags = ?,
			updated_ms = ?, updated_by = ?, rev = rev + 1 WHERE id = ?`,
			r.Title, r.Description, r.Category, r.Service, r.Owner, r.Likelihood, r.Impact,
			r.ResidualLikelihood, r.ResidualImpact, r.Score(), r.ResidualScore(),
			m.Level(r.Likelihood, r.Impact).Rank, m.Level(rl, ri).Rank, string(r.Treatment),
			r.TreatmentRationale, string(r.Status), date(r.Due), date(r.NextReview), strings.Join(r.Tags, ";"),
			ms(w.now), w.actor, r.ID); err != nil {
			return fmt.Errorf("update: %w", err)
		}
		for _, c := range changes {
			if err := w.audit("risk", r.ID, r.ID, c.Field, c.Old, c.New); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return risk.Risk{}, err
	}
	return s.Get(ctx, r.ID)
}

// Escalate moves a risk to another escalation level, confirmed by a person with a
// note; rule names the proposing rule ("" by hand). It keeps the history row and
// one audit row.
func (s *Store) Escalate(ctx context.Context, id int64, to, note, rule string) (risk.Escalation, error) {
	var e risk.Escalation
	err := s.write(ctx, fmt.Sprintf("risk %d: escalate to %q", id, to), func(w *wtx) error {
		cur, err := w.get(id)
		if err != nil {
			return err
		}
		v := &risk.ValidationError{}
		if s.policy.Rank(to) < 0 {
			v.Add("to", fmt.Sprintf("%q is not an escalation level (levels: %s)", to, strings.Join(s.policy.Levels, ", ")))
		} else if to == cur.Escalation {
			v.Add("to", fmt.Sprintf("the risk is already at %q", to))
		}
		if strings.TrimSpace(note) == "" {
			v.Add("note", "must say why (who was told, what was decided)")
		} else if len(note) > risk.MaxText {
			v.Add("note", fmt.Sprintf("is longer than %d characters", risk.MaxText))
		}
		if err := v.Err(); err != nil {
			return err
		}
		e = risk.Escalation{RiskID: id, At: w.now, By: w.actor, From: cur.Escalation, To: to, Note: note, Rule: rule}
		res, err := w.tx.ExecContext(w.ctx, `INSERT INTO risk_escalations (risk_id, at_ms, by_whom, from_level, to_level, note, rule)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, ms(w.now), w.actor, e.From, to, note, rule)
		if err != nil {
			return err
		}
		if e.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		if _, err := w.tx.ExecContext(w.ctx, "UPDATE risks SET escalation = ?, updated_ms = ?, updated_by = ?, rev = rev + 1 WHERE id = ?",
			to, ms(w.now), w.actor, id); err != nil {
			return err
		}
		return w.audit("risk", id, id, "escalation", e.From, to)
	})
	return e, err
}

// Proposals evaluates the escalation policy over every risk that is not closed.
func (s *Store) Proposals(ctx context.Context) ([]risk.Proposal, error) {
	var open []risk.Risk
	for _, st := range []risk.Status{risk.StatusOpen, risk.StatusMitigating, risk.StatusAccepted} {
		page, err := s.List(ctx, risk.Filter{Status: []risk.Status{st}, Limit: risk.MaxLimit})
		if err != nil {
			return nil, err
		}
		open = append(open, page.Risks...)
	}
	return s.policy.Evaluate(s.matrix, open, s.clock.Now(), nil), nil
}

// Detail returns a risk with its actions, reviews, escalations, links,
// materialisations and audit trail.
func (s *Store) Detail(ctx context.Context, id int64) (risk.Detail, error) {
	r, err := s.Get(ctx, id)
	if err != nil {
		return risk.Detail{}, err
	}
	d := risk.Detail{Risk: r}
	if d.Actions, err = s.Actions(ctx, id); err != nil {
		return risk.Detail{}, err
	}
	if d.Reviews, err = s.Reviews(ctx, id); err != nil {
		return risk.Detail{}, err
	}
	if d.Escalations, err = s.escalations(ctx, "risk_id = ?", id); err != nil {
		return risk.Detail{}, err
	}
	if d.Links, err = s.Links(ctx, id); err != nil {
		return risk.Detail{}, err
	}
	if d.Materialisations, err = s.materialisations(ctx, "risk_id = ?", id); err != nil {
		return risk.Detail{}, err
	}
	if d.Audit, err = s.Audit(ctx, risk.AuditQuery{RiskID: id}); err != nil {
		return risk.Detail{}, err
	}
	return d, nil
}
