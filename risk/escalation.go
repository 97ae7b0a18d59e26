package risk

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefaultLevels is the escalation ladder when none is configured.
var DefaultLevels = []string{"team", "service owner", "engineering director", "executive"}

// Policy is the escalation configuration: the ladder of levels, lowest first, and
// the rules that propose moving a risk up it.
//
//	levels: [team, service owner, engineering director, executive]
//	rules:
//	  - {name: high risk, min_level: High, to: service owner}
//	  - {name: very high, min_level: Very High, to: engineering director}
//	  - {name: review overdue, review_overdue: true, to: service owner}
//	  - {name: action overdue, action_overdue: true, min_level: High, to: engineering director}
//	  - {name: materialising, alert_firing: true, to: engineering director}
type Policy struct {
	Levels []string `yaml:"levels" json:"levels"`
	Rules  []Rule   `yaml:"rules" json:"rules"`
}

// Rule proposes escalating a risk to To when all of its set conditions hold.
type Rule struct {
	Name string `yaml:"name" json:"name"`
	// MinLevel holds when the risk's level (residual if Residual) is at least this one.
	MinLevel string `yaml:"min_level,omitempty" json:"min_level,omitempty"`
	Residual bool   `yaml:"residual,omitempty" json:"residual,omitempty"`
	// ReviewOverdue holds when the next review date has passed.
	ReviewOverdue bool `yaml:"review_overdue,omitempty" json:"review_overdue,omitempty"`
	// ActionOverdue holds when a mitigation action is past its due date.
	ActionOverdue bool `yaml:"action_overdue,omitempty" json:"action_overdue,omitempty"`
	// AlertFiring holds when an alert linked to the risk is firing.
	AlertFiring bool   `yaml:"alert_firing,omitempty" json:"alert_firing,omitempty"`
	To          string `yaml:"to" json:"to"`
}

// DefaultPolicy is the ladder DefaultLevels with rules that suit DefaultMatrix.
func DefaultPolicy() Policy {
	return Policy{
		Levels: slices.Clone(DefaultLevels),
		Rules: []Rule{
			{Name: "level High or above", MinLevel: "High", To: "service owner"},
			{Name: "level Very High", MinLevel: "Very High", To: "engineering director"},
			{Name: "review overdue", ReviewOverdue: true, To: "service owner"},
			{Name: "action overdue on a High risk", ActionOverdue: true, MinLevel: "High", To: "engineering director"},
			{Name: "linked alert firing", AlertFiring: true, To: "engineering director"},
		},
	}
}

// LoadPolicy reads a policy from YAML (unknown fields are errors) and validates it
// against the matrix.
func LoadPolicy(r io.Reader, m Matrix) (Policy, error) {
	var p Policy
	dec := yaml.NewDecoder(io.LimitReader(r, 1<<20))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return Policy{}, fmt.Errorf("escalation policy: %w", err)
	}
	if err := p.Validate(m); err != nil {
		return Policy{}, err
	}
	return p, nil
}

// Validate checks levels are unique and every rule names known levels and at least
// one condition.
func (p Policy) Validate(m Matrix) error {
	var v ValidationError
	if len(p.Levels) == 0 {
		v.Add("levels", "must list at least one escalation level")
	}
	for i, l := range p.Levels {
		if strings.TrimSpace(l) == "" {
			v.Add(fmt.Sprintf("levels[%d]", i), "must not be empty")
		} else if slices.Index(p.Levels, l) != i {
			v.Add(fmt.Sprintf("levels[%d]", i), fmt.Sprintf("%q is listed twice", l))
		}
	}
	for i, r := range p.Rules {
		f := fmt.Sprintf("rules[%d]", i)
		if r.Name == "" {
			v.Add(f+".name", "must not be empty")
		}
		if !slices.Contains(p.Levels, r.To) {
			v.Add(f+".to", fmt.Sprintf("%q is not one of the escalation levels %s", r.To, joinQuoted(p.Levels)))
		}
		if r.MinLevel != "" {
			if _, ok := m.LevelByName(r.MinLevel); !ok {
				v.Add(f+".min_level", fmt.Sprintf("%q is not a level of the matrix", r.MinLevel))
			}
		}
		if r.MinLevel == "" && !r.ReviewOverdue && !r.ActionOverdue && !r.AlertFiring {
			v.Add(f, "has no condition (min_level, review_overdue, action_overdue or alert_firing)")
		}
	}
	if err := v.Err(); err != nil {
		return fmt.Errorf("escalation policy: %w", err)
	}
	return nil
}

// Rank is the position of level on the ladder, -1 if unknown.
func (p Policy) Rank(level string) int { return slices.Index(p.Levels, level) }

// Proposal suggests escalating a risk; a person confirms it with a note.
type Proposal struct {
	RiskID int64  `json:"risk_id"`
	Title  string `json:"title"`
	From   string `json:"from"`
	To     string `json:"to"`
	// Rules names every rule that asked for To (or a lower level).
	Rules []string `json:"rules"`
}

// Reason is the proposal's rules joined for display.
func (p Proposal) Reason() string { return strings.Join(p.Rules, "; ") }

// Evaluate proposes, for every risk that is not closed, the highest level any
// matching rule asks for, when that is above the risk's current level. A risk
// counts as firing when it is materialising or its id is in firing.
func (p Policy) Evaluate(m Matrix, risks []Risk, now time.Time, firing map[int64]bool) []Proposal {
	var out []Proposal
	for _, r := range risks {
		if r.Status == StatusClosed {
			continue
		}
		cur := p.Rank(r.Escalation)
		best, bestTo := cur, ""
		var why []string
		for _, rule := range p.Rules {
			if !rule.holds(m, r, now, firing) {
				continue
			}
			to := p.Rank(rule.To)
			if to <= cur {
				continue
			}
			why = append(why, rule.Name)
			if to > best {
				best, bestTo = to, rule.To
			}
		}
		if bestTo != "" {
			out = append(out, Proposal{RiskID: r.ID, Title: r.Title, From: r.Escalation, To: bestTo, Rules: why})
		}
	}
	return out
}

// EvaluateEscalations is Policy.Evaluate as a function.
func EvaluateEscalations(p Policy, m Matrix, risks []Risk, now time.Time, firing map[int64]bool) []Proposal {
	return p.Evaluate(m, risks, now, firing)
}

func (rule Rule) holds(m Matrix, r Risk, now time.Time, firing map[int64]bool) bool {
	if rule.MinLevel != "" {
		min, ok := m.LevelByName(rule.MinLevel)
		lv := r.Level(m)
		if rule.Residual {
			lv = r.ResidualLevel(m)
		}
		if !ok || lv.Rank < min.Rank {
			return false
		}
	}
	if rule.ReviewOverdue && !r.ReviewOverdue(now) {
		return false
	}
	if rule.ActionOverdue && r.OverdueActions == 0 {
		return false
	}
	if rule.AlertFiring && !r.Materialising && !firing[r.ID] {
		return false
	}
	return true
}
