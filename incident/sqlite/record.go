package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/incident"
)

// appendTo checks the incident exists and appends one entry to its timeline.
func (s *Store) appendTo(ctx context.Context, what string, e incident.Entry, fields any) (incident.Entry, error) {
	err := s.write(ctx, what, func(ctx context.Context, tx *sql.Tx) error {
		if _, _, err := currentState(ctx, tx, e.IncidentID); err != nil {
			return err
		}
		var err error
		e, err = appendEntry(ctx, tx, e, fields)
		return err
	})
	return e, err
}

// Note adds a free-text note.
func (s *Store) Note(ctx context.Context, id int64, text, by string, at time.Time) (incident.Entry, error) {
	if strings.TrimSpace(text) == "" {
		return incident.Entry{}, fmt.Errorf("add note to incident %d: %w", id, incident.ErrEmpty)
	}
	return s.appendTo(ctx, fmt.Sprintf("add note to incident %d", id),
		incident.Entry{IncidentID: id, At: at, Author: by, Kind: incident.KindNote, Text: text}, nil)
}

// Decide records a decision and why it was taken: "decided X because Y".
func (s *Store) Decide(ctx context.Context, id int64, decision, because, by string, at time.Time) (incident.Entry, error) {
	what := fmt.Sprintf("record decision on incident %d", id)
	if strings.TrimSpace(decision) == "" {
		return incident.Entry{}, fmt.Errorf("%s: %w", what, incident.ErrEmpty)
	}
	if strings.TrimSpace(because) == "" {
		return incident.Entry{}, fmt.Errorf("%s: %w", what, incident.ErrReasonRequired)
	}
	return s.appendTo(ctx, what, incident.Entry{IncidentID: id, At: at, Author: by, Kind: incident.KindDecision, Text: decision},
		incident.DecisionFields{Because: because})
}

// SetStatus moves the incident along its lifecycle (incident.CheckTransition) and sets
// the mitigated and resolved milestones automatically: reaching mitigated (or resolved
// directly) sets mitigated if unset; reaching resolved sets resolved; going back from
// mitigated clears an automatic mitigated, since the mitigation did not hold.
func (s *Store) SetStatus(ctx context.Context, id int64, to incident.Status, reason, by string, at time.Time) (incident.Entry, error) {
	var e incident.Entry
	err := s.write(ctx, fmt.Sprintf("set incident %d status to %s", id, to), func(ctx context.Context, tx *sql.Tx) error {
		from, _, err := currentState(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := incident.CheckTransition(from, to); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE incident_incidents SET status = ? WHERE id = ?`, string(to), id); err != nil {
			return err
		}
		switch to {
		case incident.Mitigated:
			err = setMilestone(ctx, tx, id, incident.MilestoneMitigated, at, autoSet)
		case incident.Resolved:
			if err = setMilestone(ctx, tx, id, incident.MilestoneMitigated, at, autoSet); err == nil {
				err = setMilestone(ctx, tx, id, incident.MilestoneResolved, at, autoReplace)
			}
		default:
			if from == incident.Mitigated {
				err = setMilestone(ctx, tx, id, incident.MilestoneMitigated, at, autoClear)
			}
		}
		if err != nil {
			return err
		}
		text := fmt.Sprintf("Status: %s → %s", from, to)
		if reason = strings.TrimSpace(reason); reason != "" {
			text += " (" + reason + ")"
		}
		e, err = appendEntry(ctx, tx, incident.Entry{IncidentID: id, At: at, Author: by, Kind: incident.KindStatusChange, Text: text},
			incident.StatusFields{From: from, To: to, Reason: reason})
		return err
	})
	return e, err
}

// Reopen moves a resolved incident back to investigating. It needs a reason, lands on
// the timeline as a status change with reopen set, and clears the automatic mitigated
// and resolved milestones so they are set again by the next mitigation and resolution.
func (s *Store) Reopen(ctx context.Context, id int64, reason, by string, at time.Time) (incident.Entry, error) {
	var e incident.Entry
	what := fmt.Sprintf("reopen incident %d", id)
	if strings.TrimSpace(reason) == "" {
		return e, fmt.Errorf("%s: %w", what, incident.ErrReasonRequired)
	}
	err := s.write(ctx, what, func(ctx context.Context, tx *sql.Tx) error {
		from, _, err := currentState(ctx, tx, id)
		if err != nil {
			return err
		}
		if from != incident.Resolved {
			return fmt.Errorf("status is %s: %w", from, incident.ErrNotResolved)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE incident_incidents SET status = ? WHERE id = ?`, string(incident.Investigating), id); err != nil {
			return err
		}
		for _, k := range []incident.MilestoneKind{incident.MilestoneMitigated, incident.MilestoneResolved} {
			if err := setMilestone(ctx, tx, id, k, at, autoClear); err != nil {
				return err
			}
		}
		e, err = appendEntry(ctx, tx, incident.Entry{IncidentID: id, At: at, Author: by, Kind: incident.KindStatusChange,
			Text: fmt.Sprintf("Reopened: %s", reason)},
			incident.StatusFields{From: from, To: incident.Investigating, Reopen: true, Reason: reason})
		return err
	})
	return e, err
}

// SetRole assigns a role ("" unassigns it) and remembers the name for the pickers.
func (s *Store) SetRole(ctx context.Context, id int64, r incident.Role, name, by string, at time.Time) (incident.Entry, error) {
	var e incident.Entry
	if _, err := incident.ParseRole(string(r)); err != nil {
		return e, fmt.Errorf("set role on incident %d: %w", id, err)
	}
	err := s.write(ctx, fmt.Sprintf("set %s on incident %d", r, id), func(ctx context.Context, tx *sql.Tx) error {
		if _, _, err := currentState(ctx, tx, id); err != nil {
			return err
		}
		var err error
		e, err = setRole(ctx, tx, id, r, strings.TrimSpace(name), by, at)
		return err
	})
	return e, err
}

// SetSeverity changes the severity.
func (s *Store) SetSeverity(ctx context.Context, id int64, sev incident.Severity, reason, by string, at time.Time) (incident.Entry, error) {
	var e incident.Entry
	if !sev.Valid() {
		return e, fmt.Errorf("set severity of incident %d: %w", id, incident.ErrInvalidSeverity)
	}
	err := s.write(ctx, fmt.Sprintf("set severity of incident %d", id), func(ctx context.Context, tx *sql.Tx) error {
		_, from, err := currentState(ctx, tx, id)
		if err != nil {
			return err
		}
		if from == sev {
			return fmt.Errorf("severity is already %s: %w", sev, incident.ErrNoChange)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE incident_incidents SET severity = ? WHERE id = ?`, int(sev), id); err != nil {
			return err
		}
		text := fmt.Sprintf("Severity: %s → %s", from, sev)
		if reason = strings.TrimSpace(reason); reason != "" {
			text += " (" + reason + ")"
		}
		e, err = appendEntry(ctx, tx, incident.Entry{IncidentID: id, At: at, Author: by, Kind: incident.KindSeverityChange, Text: text},
			incident.SeverityFields{From: from, To: sev, Reason: reason})
		return err
	})
	return e, err
}

// SetMilestone sets a milestone by hand. The reason is required and, with the previous
// value, lands on the timeline at now; the hand-set value wins over automatic ones
// from then on.
func (s *Store) SetMilestone(ctx context.Context, id int64, k incident.MilestoneKind, at time.Time, reason, by string, now time.Time) (incident.Entry, error) {
	var e incident.Entry
	what := fmt.Sprintf("set %s milestone of incident %d", k, id)
	if _, err := incident.ParseMilestone(string(k)); err != nil {
		return e, fmt.Errorf("%s: %w", what, err)
	}
	if strings.TrimSpace(reason) == "" {
		return e, fmt.Errorf("%s: %w", what, incident.ErrReasonRequired)
	}
	if at.IsZero() {
		return e, fmt.Errorf("%s: no time given", what)
	}
	err := s.write(ctx, what, func(ctx context.Context, tx *sql.Tx) error {
		if _, _, err := currentState(ctx, tx, id); err != nil {
			return err
		}
		var prev int64
		err := tx.QueryRowContext(ctx, `SELECT at_ms FROM incident_milestones WHERE incident_id = ? AND kind = ?`, id, string(k)).Scan(&prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO incident_milestones (incident_id, kind, at_ms, manual, reason, by_whom) VALUES (?, ?, ?, 1, ?, ?)
			ON CONFLICT DO UPDATE SET at_ms = excluded.at_ms, manual = 1, reason = excluded.reason, by_whom = excluded.by_whom`,
			id, string(k), ms(at), reason, by); err != nil {
			return err
		}
		e, err = appendEntry(ctx, tx, incident.Entry{IncidentID: id, At: now, Author: by, Kind: incident.KindMilestoneSet,
			Text: fmt.Sprintf("Milestone %s set to %s: %s", k, at.UTC().Format(time.RFC3339), reason)},
			incident.MilestoneFields{Milestone: k, At: fromMS(ms(at)), Previous: fromMS(prev), Reason: reason})
		return err
	})
	return e, err
}

// Correct adds a correction of an earlier entry of the same incident; the entry itself
// stays as it was.
func (s *Store) Correct(ctx context.Context, id, entryID int64, text, by string, at time.Time) (incident.Entry, error) {
	var e incident.Entry
	what := fmt.Sprintf("correct entry %d of incident %d", entryID, id)
	if strings.TrimSpace(text) == "" {
		return e, fmt.Errorf("%s: %w", what, incident.ErrEmpty)
	}
	err := s.write(ctx, what, func(ctx context.Context, tx *sql.Tx) error {
		var owner int64
		err := tx.QueryRowContext(ctx, `SELECT incident_id FROM incident_timeline WHERE id = ?`, entryID).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != id) {
			return incident.ErrEntryNotFound
		}
		if err != nil {
			return err
		}
		e, err = appendEntry(ctx, tx, incident.Entry{IncidentID: id, At: at, Author: by, Kind: incident.KindCorrection, Text: text, Corrects: entryID},
			incident.CorrectionFields{Corrects: entryID})
		return err
	})
	return e, err
}

// SendStatusUpdate records a status update as sent: it lands on the timeline (the
// rendered text, the sections as fields) and restarts the next-update timer from at.
func (s *Store) SendStatusUpdate(ctx context.Context, id int64, u incident.StatusUpdate, by string, at time.Time) (incident.Entry, error) {
	var e incident.Entry
	err := s.write(ctx, fmt.Sprintf("record status update of incident %d", id), func(ctx context.Context, tx *sql.Tx) error {
		inc, err := loadIncidents(ctx, tx, `WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if len(inc) == 0 {
			return incident.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `UPDATE incident_incidents SET last_update_ms = ? WHERE id = ?`, ms(at), id); err != nil {
			return err
		}
		e, err = appendEntry(ctx, tx, incident.Entry{IncidentID: id, At: at, Author: by, Kind: incident.KindStatusUpdateSent, Text: u.Text(inc[0])}, u)
		return err
	})
	return e, err
}

// RecordAlertEvents implements incident.Recorder. An alert is "firing" when its state
// is firing or suppressed (a silenced alert still fires); an entry is added only when
// an alert's class changes from what this incident last recorded, so replayed batches
// add nothing.
func (s *Store) RecordAlertEvents(ctx context.Context, id int64, alerts []datasource.Alert, at time.Time) error {
	if len(alerts) == 0 {
		return nil
	}
	return s.write(ctx, fmt.Sprintf("record alerts on incident %d", id), func(ctx context.Context, tx *sql.Tx) error {
		if _, _, err := currentState(ctx, tx, id); err != nil {
			return err
		}
		return recordAlerts(ctx, tx, id, alerts, at)
	})
}

func recordAlerts(ctx context.Context, tx *sql.Tx, id int64, alerts []datasource.Alert, at time.Time) error {
	for _, a := range alerts {
		if a.Fingerprint == "" {
			continue
		}
		class, kind, when := "firing", incident.KindAlertFiring, a.StartsAt
		if a.State == datasource.StateResolved {
			class, kind, when = "resolved", incident.KindAlertResolved, a.EndsAt
		}
		if when.IsZero() || when.After(at) {
			when = at
		}
		var prev string
		err := tx.QueryRowContext(ctx, `SELECT state FROM incident_alerts WHERE incident_id = ? AND fingerprint = ?`, id, a.Fingerprint).Scan(&prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if prev == class {
			continue
		}
		starts := a.StartsAt
		if starts.IsZero() {
			starts = when
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO incident_alerts (incident_id, fingerprint, name, state, starts_ms) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT DO UPDATE SET state = excluded.state`, id, a.Fingerprint, a.Name(), class, ms(starts)); err != nil {
			return err
		}
		if class == "firing" {
			if err := setMilestone(ctx, tx, id, incident.MilestoneDetected, starts, autoEarliest); err != nil {
				return err
			}
		}
		text := fmt.Sprintf("%s %s", strings.ToUpper(class), a.Name())
		if sev := a.Severity(); sev != "" {
			text += " (" + sev + ")"
		}
		if sum := a.Annotations["summary"]; sum != "" {
			text += ": " + sum
		}
		author := a.Source
		if author == "" {
			author = "alerts"
		}
		if _, err := appendEntry(ctx, tx, incident.Entry{IncidentID: id, At: when, Author: author, Kind: kind, Text: text},
			incident.AlertFields{Fingerprint: a.Fingerprint, Alertname: a.Name(), Severity: a.Severity(), Labels: a.Labels,
				Summary: a.Annotations["summary"], StartsAt: a.StartsAt, EndsAt: a.EndsAt, Source: a.Source}); err != nil {
			return err
		}
	}
	return nil
}

// RecordAck implements incident.Recorder; the earliest ack sets the acknowledged
// milestone unless it was set by hand.
func (s *Store) RecordAck(ctx context.Context, id int64, fingerprint, alertname, comment, by string, at time.Time) error {
	return s.write(ctx, fmt.Sprintf("record ack on incident %d", id), func(ctx context.Context, tx *sql.Tx) error {
		if _, _, err := currentState(ctx, tx, id); err != nil {
			return err
		}
		if err := setMilestone(ctx, tx, id, incident.MilestoneAcknowledged, at, autoEarliest); err != nil {
			return err
		}
		text := "Acknowledged " + alertname
		if comment != "" {
			text += ": " + comment
		}
		_, err := appendEntry(ctx, tx, incident.Entry{IncidentID: id, At: at, Author: by, Kind: incident.KindAck, Text: text},
			incident.AckFields{Fingerprint: fingerprint, Alertname: alertname, Comment: comment})
		return err
	})
}

// RecordSilence implements incident.Recorder.
func (s *Store) RecordSilence(ctx context.Context, id int64, silenceID, matchers string, until time.Time, by string, at time.Time) error {
	text := fmt.Sprintf("Silenced %s", matchers)
	if !until.IsZero() {
		text += " until " + until.UTC().Format(time.RFC3339)
	}
	_, err := s.appendTo(ctx, fmt.Sprintf("record silence on incident %d", id),
		incident.Entry{IncidentID: id, At: at, Author: by, Kind: incident.KindSilence, Text: text},
		incident.SilenceFields{SilenceID: silenceID, Matchers: matchers, Until: until})
	return err
}

// RecordRunbookStep implements incident.Recorder.
func (s *Store) RecordRunbookStep(ctx context.Context, id int64, runbook, stepID, stepText string, checked bool, by string, at time.Time) error {
	box := "[ ]"
	if checked {
		box = "[x]"
	}
	_, err := s.appendTo(ctx, fmt.Sprintf("record runbook step on incident %d", id),
		incident.Entry{IncidentID: id, At: at, Author: by, Kind: incident.KindRunbookStep, Text: fmt.Sprintf("%s %s: %s", box, runbook, stepText)},
		incident.RunbookStepFields{Runbook: runbook, StepID: stepID, Step: stepText, Checked: checked})
	return err
}

// RecordRiskChange implements incident.Recorder.
func (s *Store) RecordRiskChange(ctx context.Context, id int64, riskID, change, by string, at time.Time) error {
	_, err := s.appendTo(ctx, fmt.Sprintf("record risk change on incident %d", id),
		incident.Entry{IncidentID: id, At: at, Author: by, Kind: incident.KindRiskChange, Text: fmt.Sprintf("Risk %s: %s", riskID, change)},
		incident.RiskFields{RiskID: riskID, Change: change})
	return err
}

// AddAction adds a postmortem action item; ID and IncidentID are filled in.
func (s *Store) AddAction(ctx context.Context, id int64, a incident.ActionItem) (incident.ActionItem, error) {
	what := fmt.Sprintf("add action item to incident %d", id)
	if strings.TrimSpace(a.Title) == "" {
		return a, fmt.Errorf("%s: %w", what, incident.ErrEmpty)
	}
	a.IncidentID = id
	err := s.write(ctx, what, func(ctx context.Context, tx *sql.Tx) error {
		if _, _, err := currentState(ctx, tx, id); err != nil {
			return err
		}
		var due int64
		if !a.Due.IsZero() {
			due = ms(a.Due)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO incident_actions (incident_id, title, owner, due_ms, risk_id, created_ms, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, a.Title, a.Owner, due, a.RiskID, ms(a.CreatedAt), a.CreatedBy)
		if err != nil {
			return err
		}
		a.ID, err = res.LastInsertId()
		return err
	})
	return a, err
}

// SetActionRisk links an action item to the risk it became ("" unlinks).
func (s *Store) SetActionRisk(ctx context.Context, actionID int64, riskID string) error {
	return s.write(ctx, fmt.Sprintf("link action item %d to risk", actionID), func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE incident_actions SET risk_id = ? WHERE id = ?`, riskID, actionID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return incident.ErrActionNotFound
		}
		return nil
	})
}

// Actions returns an incident's action items in the order they were added.
func (s *Store) Actions(ctx context.Context, id int64) ([]incident.ActionItem, error) {
	var out []incident.ActionItem
	err := eachRow(ctx, s.db.R, `SELECT id, incident_id, title, owner, due_ms, risk_id, created_ms, created_by
		FROM incident_actions WHERE incident_id = ? ORDER BY id`, func(r *sql.Rows) error {
		var a incident.ActionItem
		var due, created int64
		if err := r.Scan(&a.ID, &a.IncidentID, &a.Title, &a.Owner, &due, &a.RiskID, &created, &a.CreatedBy); err != nil {
			return err
		}
		a.Due, a.CreatedAt = fromMS(due), fromMS(created)
		out = append(out, a)
		return nil
	}, id)
	if err != nil {
		return nil, fmt.Errorf("read action items of incident %d: %w", id, err)
	}
	return out, nil
}
