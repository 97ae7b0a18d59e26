package risk

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2025, 5, 20, 10, 0, 0, 0, time.UTC)

func TestDefaultMatrixAndLevels(t *testing.T) {
	m := DefaultMatrix()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		l, i int
		want string
	}{{1, 1, "Very Low"}, {5, 5, "Very High"}, {3, 3, "Medium"}, {2, 5, "High"}, {0, 3, ""}, {6, 1, ""}}
	for _, c := range cases {
		if got := m.Level(c.l, c.i).Name; got != c.want {
			t.Errorf("Level(%d,%d) = %q, want %q", c.l, c.i, got, c.want)
		}
	}
	if lv, ok := m.LevelByName("high"); !ok || lv.Rank != 3 {
		t.Fatalf("LevelByName: %+v", lv)
	}
}

func TestLoadMatrixIsStrictAndValidates(t *testing.T) {
	good := `levels:
  - {name: Low, color: "#00ff00"}
  - {name: High, description: act, color: "#ff0000"}
likelihood: [Unlikely, Likely]
impact: [Small, Big, Huge]
grid:
  - [Low, Low, High]
  - [Low, High, High]
`
	m, err := LoadMatrix(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if m.Level(2, 3).Name != "High" || m.Level(2, 3).Rank != 1 {
		t.Fatalf("loaded %+v", m.Level(2, 3))
	}
	cases := map[string]string{
		"unknown field":   strings.Replace(good, "impact:", "impakt:", 1),
		"bad colour":      strings.Replace(good, `"#00ff00"`, "green", 1),
		"unknown level":   strings.Replace(good, "[Low, Low, High]", "[Low, Low, Severe]", 1),
		"short row":       strings.Replace(good, "[Low, Low, High]", "[Low, Low]", 1),
		"duplicate level": strings.Replace(good, "name: High,", "name: Low,", 1),
		"empty":           "",
	}
	wants := map[string]string{
		"unknown field": "field impakt not found", "bad colour": "levels[0].color", "unknown level": `grid[0][2]: level "Severe"`,
		"short row": "grid[0]: has 2 cells", "duplicate level": "listed twice", "empty": "empty file",
	}
	for name, in := range cases {
		if _, err := LoadMatrix(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), wants[name]) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestRiskValidateAndSet(t *testing.T) {
	m := DefaultMatrix()
	r := Risk{Title: "t", Owner: "o", Likelihood: 3, Impact: 3, Status: StatusOpen}
	if err := r.Validate(m, DefaultLevels); err != nil {
		t.Fatal(err)
	}
	r.Treatment = TreatmentAccept
	var ve *ValidationError
	if err := r.Validate(m, DefaultLevels); !errors.As(err, &ve) || ve.Field("treatment_rationale") == "" {
		t.Fatalf("accept without rationale: %v", err)
	}
	if err := r.Set("due", "31/01/2025"); err == nil || !strings.Contains(err.Error(), "due:") {
		t.Fatalf("bad date: %v", err)
	}
	if err := r.Set("colour", "x"); err == nil {
		t.Fatal("unknown field accepted")
	}
	r.Set("tags", " a; b;a;; c ")
	if !slices.Equal(r.Tags, []string{"a", "b", "c"}) {
		t.Fatalf("tags %q", r.Tags)
	}
	r2 := r
	r2.Tags = []string{"a"}
	r2.Likelihood = 5
	ch := Diff(r, r2)
	if len(ch) != 2 || ch[0].Field != "likelihood" || ch[1] != (Change{"tags", "a;b;c", "a"}) {
		t.Fatalf("diff %+v", ch)
	}
}

func TestOverdue(t *testing.T) {
	today, _ := ParseDate("2025-05-20")
	r := Risk{Status: StatusOpen, NextReview: today}
	if r.ReviewOverdue(now) {
		t.Fatal("due today is not overdue")
	}
	r.NextReview = today.AddDate(0, 0, -1)
	if !r.ReviewOverdue(now) || !r.Overdue(now) {
		t.Fatal("yesterday is overdue")
	}
	r.Status = StatusClosed
	if r.Overdue(now) {
		t.Fatal("closed risks are never overdue")
	}
	a := Action{Status: ActionInProgress, Due: today.AddDate(0, 0, -2)}
	if !a.Overdue(now) {
		t.Fatal("action overdue")
	}
	a.Status = ActionDone
	if a.Overdue(now) {
		t.Fatal("done action overdue")
	}
}

func TestEvaluateEscalations(t *testing.T) {
	m, p := DefaultMatrix(), DefaultPolicy()
	if err := p.Validate(m); err != nil {
		t.Fatal(err)
	}
	past := now.AddDate(0, 0, -3)
	risks := []Risk{
		{ID: 1, Title: "very high", Likelihood: 5, Impact: 5, Status: StatusOpen, Escalation: "team"},
		{ID: 2, Title: "high at owner", Likelihood: 4, Impact: 3, Status: StatusOpen, Escalation: "service owner"},
		{ID: 3, Title: "low, review late", Likelihood: 1, Impact: 1, Status: StatusOpen, Escalation: "team", NextReview: past},
		{ID: 4, Title: "low, firing", Likelihood: 1, Impact: 1, Status: StatusOpen, Escalation: "team"},
		{ID: 5, Title: "closed", Likelihood: 5, Impact: 5, Status: StatusClosed, Escalation: "team"},
		{ID: 6, Title: "high, action late", Likelihood: 4, Impact: 3, Status: StatusOpen, Escalation: "service owner", OverdueActions: 1},
	}
	got := p.Evaluate(m, risks, now, map[int64]bool{4: true})
	want := map[int64]string{1: "engineering director", 3: "service owner", 4: "engineering director", 6: "engineering director"}
	if len(got) != len(want) {
		t.Fatalf("proposals %+v", got)
	}
	for _, pr := range got {
		if want[pr.RiskID] != pr.To {
			t.Errorf("risk %d: to %q, want %q (%s)", pr.RiskID, pr.To, want[pr.RiskID], pr.Reason())
		}
	}
	if got[0].Reason() != "level High or above; level Very High" {
		t.Errorf("reason %q", got[0].Reason())
	}
	bad := Policy{Levels: []string{"a", "a"}, Rules: []Rule{{Name: "x", To: "z"}}}
	if err := bad.Validate(m); err == nil || !strings.Contains(err.Error(), "listed twice") || !strings.Contains(err.Error(), "no condition") {
		t.Fatalf("bad policy: %v", err)
	}
}

func TestHeatMapCounts(t *testing.T) {
	m := DefaultMatrix()
	h := ComputeHeatMap(m, []Risk{{Likelihood: 5, Impact: 5, ResidualLikelihood: 2}, {Likelihood: 5, Impact: 5}, {Likelihood: 1, Impact: 1}})
	if h.Inherent[4][4] != 2 || h.Residual[1][4] != 1 || h.Residual[4][4] != 1 || h.Total != 3 {
		t.Fatalf("%+v", h)
	}
	if by := h.ByLevel(m, false); !slices.Equal(by, []int{1, 0, 0, 0, 2}) {
		t.Fatalf("by level %v", by)
	}
}

func TestFTSQuery(t *testing.T) {
	cases := map[string]string{
		"":                  "",
		"  ":                "",
		"data":              `"data"*`,
		"database fail":     `"database" "fail"*`,
		"dr ":               `"dr"`,
		`"NEAR( AND OR*`:    `"NEAR" "AND" "OR"*`,
		"café-ops":          `"café" "ops"*`,
		"\"); DROP TABLE x": `"DROP" "TABLE" "x"*`,
	}
	for in, want := range cases {
		if got := FTSQuery(in); got != want {
			t.Errorf("FTSQuery(%q) = %q, want %q", in, got, want)
		}
	}
}
