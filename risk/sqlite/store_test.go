package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/risk"
)

var t0 = time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)

func openTest(t testing.TB, path string, c clock.Clock) *Store {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "cockpit.db")
	}
	if c == nil {
		c = clock.NewFake(t0)
	}
	s, err := Open(context.Background(), path, Options{Clock: c, Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func sample(title string, l, i int) risk.Risk {
	return risk.Risk{Title: title, Owner: "bob", Service: "checkout", Likelihood: l, Impact: i}
}

func TestCreateUpdateAuditAndConflict(t *testing.T) {
	ctx := context.Background()
	fc := clock.NewFake(t0)
	s := openTest(t, "", fc)
	v0, _ := s.Version(ctx)
	r, err := s.Create(ctx, sample("Payment provider outage", 4, 5))
	if err != nil {
		t.Fatal(err)
	}
	if r.ID == 0 || r.Escalation != "team" || r.Status != risk.StatusOpen || r.Rev != 1 || !r.Created.Equal(t0) {
		t.Fatalf("created %+v", r)
	}
	if lv := r.Level(s.Matrix()); lv.Name != "Very High" {
		t.Fatalf("level %q", lv.Name)
	}
	fc.Advance(time.Hour)
	r.Likelihood, r.Owner = 2, "carol"
	r2, err := s.Update(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Rev != 2 || r2.Owner != "carol" || r2.Level(s.Matrix()).Name != "High" {
		t.Fatalf("updated %+v", r2)
	}
	// an unchanged save writes nothing
	v1, _ := s.Version(ctx)
	if _, err := s.Update(ctx, r2); err != nil {
		t.Fatal(err)
	}
	if v2, _ := s.Version(ctx); v2 != v1 || v1 == v0 {
		t.Fatalf("versions %d %d %d", v0, v1, v2)
	}
	// a stale revision is a conflict
	r.Title = "stale edit"
	if _, err := s.Update(ctx, r); !errors.Is(err, risk.ErrConflict) {
		t.Fatalf("stale update: %v", err)
	}
	audit, err := s.Audit(ctx, risk.AuditQuery{RiskID: r.ID})
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	for _, e := range audit {
		fields = append(fields, e.Field+":"+e.Old+"→"+e.New)
		if e.Actor != "alice" {
			t.Errorf("actor %q", e.Actor)
		}
	}
	if len(audit) != 3 || audit[0].Field != "created" || !slices.Contains(fields, "likelihood:4→2") || !slices.Contains(fields, "owner:bob→carol") {
		t.Fatalf("audit %v", fields)
	}
	if _, err := s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestValidationNamesFields(t *testing.T) {
	s := openTest(t, "", nil)
	_, err := s.Create(context.Background(), risk.Risk{Title: "", Owner: "x", Likelihood: 9, Impact: 0, Status: "maybe"})
	var ve *risk.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err %v", err)
	}
	for _, f := range []string{"title", "likelihood", "impact", "status"} {
		if ve.Field(f) == "" {
			t.Errorf("no message for %s in %v", f, err)
		}
	}
	if errors.Is(err, risk.ErrNotSaved) {
		t.Error("a validation error is not a storage failure")
	}
	if !strings.Contains(err.Error(), "likelihood: 9 is outside the matrix scale 1..5") {
		t.Errorf("message %q", err)
	}
}

func TestEscalateActionsReviewsAndOverdue(t *testing.T) {
	ctx := context.Background()
	fc := clock.NewFake(t0)
	s := openTest(t, "", fc)
	r, _ := s.Create(ctx, sample("Disk fills on db-1", 3, 4))
	if _, err := s.Escalate(ctx, r.ID, "executive", "", ""); err == nil {
		t.Fatal("escalation without a note accepted")
	}
	if _, err := s.Escalate(ctx, r.ID, "nowhere", "x", ""); err == nil {
		t.Fatal("unknown level accepted")
	}
	e, err := s.Escalate(ctx, r.ID, "service owner", "told Dana in the weekly", "level High or above")
	if err != nil {
		t.Fatal(err)
	}
	if e.From != "team" || e.To != "service owner" || e.By != "alice" {
		t.Fatalf("escalation %+v", e)
	}
	r.Escalation = "executive"
	if _, err := s.Update(ctx, r); err == nil {
		t.Fatal("update changed the escalation level")
	}
	a, err := s.AddAction(ctx, risk.Action{RiskID: r.ID, Title: "Add alert on disk", Owner: "bob", Due: t0.AddDate(0, 0, 3)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddReview(ctx, risk.Review{RiskID: r.ID, Date: t0, Reviewers: []string{"dana"}, Decision: "mitigate", NextReview: t0.AddDate(0, 0, 7)}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, r.ID)
	if got.OpenActions != 1 || got.OverdueActions != 0 || got.Overdue(fc.Now()) {
		t.Fatalf("before: %+v", got)
	}
	fc.Advance(5 * 24 * time.Hour)
	got, _ = s.Get(ctx, r.ID)
	if got.OverdueActions != 1 || !got.Overdue(fc.Now()) || got.ReviewOverdue(fc.Now()) {
		t.Fatalf("after 5 days: %+v", got)
	}
	if p, _ := s.List(ctx, risk.Filter{Overdue: true}); p.Total != 1 {
		t.Fatalf("overdue filter total %d", p.Total)
	}
	od, _ := s.OverdueActions(ctx)
	if len(od) != 1 || od[0].ID != a.ID {
		t.Fatalf("overdue actions %+v", od)
	}
	a.Status = risk.ActionDone
	if _, err := s.UpdateAction(ctx, a); err != nil {
		t.Fatal(err)
	}
	fc.Advance(5 * 24 * time.Hour)
	got, _ = s.Get(ctx, r.ID)
	if got.OverdueActions != 0 || !got.ReviewOverdue(fc.Now()) {
		t.Fatalf("after 10 days: %+v", got)
	}
	props, err := s.Proposals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(props) != 0 { // High risk at service owner, review overdue asks service owner too
		t.Fatalf("proposals %+v", props)
	}
	d, err := s.Detail(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Actions) != 1 || len(d.Reviews) != 1 || len(d.Escalations) != 1 || len(d.Audit) != 6 {
		t.Fatalf("detail: %d actions %d reviews %d escalations %d audit", len(d.Actions), len(d.Reviews), len(d.Escalations), len(d.Audit))
	}
	if _, err := s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestMaterialisationIsIdempotentAndClears(t *testing.T) {
	ctx := context.Background()
	fc := clock.NewFake(t0)
	s := openTest(t, "", fc)
	r, _ := s.Create(ctx, sample("Checkout latency", 3, 3))
	other, _ := s.Create(ctx, sample("Unrelated", 1, 1))
	if _, err := s.AddLink(ctx, r.ID, "{}"); err == nil {
		t.Fatal("an empty matcher (matching everything) was accepted")
	}
	if _, err := s.AddLink(ctx, r.ID, `service="checkout", severity=~"crit.*"`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddLink(ctx, other.ID, `service="nothing"`); err != nil {
		t.Fatal(err)
	}
	alert := datasource.Alert{Fingerprint: "f1", State: datasource.StateFiring, StartsAt: t0,
		Labels: map[string]string{"alertname": "CheckoutSlow", "service": "checkout", "severity": "critical"}}
	quiet := alert
	quiet.Fingerprint, quiet.State = "f2", datasource.StateResolved
	res, err := s.RecordFiring(ctx, []datasource.Alert{alert, quiet})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Recorded) != 1 || !slices.Equal(res.Flagged, []int64{r.ID}) {
		t.Fatalf("first: %+v", res)
	}
	v, _ := s.Version(ctx)
	for range 3 {
		if res, err = s.RecordFiring(ctx, []datasource.Alert{alert}); err != nil || len(res.Recorded)+len(res.Flagged)+len(res.Cleared) != 0 {
			t.Fatalf("repeat: %+v %v", res, err)
		}
	}
	if v2, _ := s.Version(ctx); v2 != v {
		t.Fatal("a repeated firing wrote something")
	}
	got, _ := s.Get(ctx, r.ID)
	if !got.Materialising || !got.MaterialisedAt.Equal(t0) {
		t.Fatalf("risk %+v", got)
	}
	if p, _ := s.List(ctx, risk.Filter{Materialising: true}); p.Total != 1 {
		t.Fatal("materialising filter")
	}
	// the same alert firing again later (new startsAt) is a new event
	again := alert
	again.StartsAt = t0.Add(time.Hour)
	fc.Advance(2 * time.Hour)
	if res, _ = s.RecordFiring(ctx, nil); !slices.Equal(res.Cleared, []int64{r.ID}) {
		t.Fatalf("clear: %+v", res)
	}
	if res, _ = s.RecordFiring(ctx, []datasource.Alert{again}); len(res.Recorded) != 1 || len(res.Flagged) != 1 {
		t.Fatalf("refire: %+v", res)
	}
	ms, _ := s.MaterialisationsSince(ctx, t0)
	if len(ms) != 2 || ms[0].AlertName != "CheckoutSlow" {
		t.Fatalf("events %+v", ms)
	}
	audit, _ := s.Audit(ctx, risk.AuditQuery{RiskID: r.ID})
	var flags []string
	for _, e := range audit {
		if e.Field == "materialising" {
			flags = append(flags, e.New+"/"+e.Actor)
		}
	}
	if !slices.Equal(flags, []string{"true/alerts", "false/alerts", "true/alerts"}) {
		t.Fatalf("audited flags %v", flags)
	}
}

func TestListFilterSortSearchAndHeatMap(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "", nil)
	in := []risk.Risk{
		{Title: "Database failover untested", Owner: "ann", Service: "db", Likelihood: 5, Impact: 5, Tags: []string{"dr"}},
		{Title: "Certificate expiry", Owner: "bob", Service: "edge", Likelihood: 2, Impact: 4, ResidualLikelihood: 1},
		{Title: "Single DNS provider", Owner: "ann", Service: "edge", Likelihood: 1, Impact: 5, Status: risk.StatusAccepted,
			Treatment: risk.TreatmentAccept, TreatmentRationale: "cost"},
		{Title: "Backups never restored", Description: "nobody tried a database restore", Owner: "cid", Service: "db", Likelihood: 3, Impact: 5},
	}
	if _, err := s.Import(ctx, in); err != nil {
		t.Fatal(err)
	}
	titles := func(p risk.Page) []string {
		var out []string
		for _, r := range p.Risks {
			out = append(out, r.Title)
		}
		return out
	}
	cases := []struct {
		name string
		f    risk.Filter
		want []string
	}{
		{"owner", risk.Filter{Owner: "ann"}, []string{"Database failover untested", "Single DNS provider"}},
		{"score desc", risk.Filter{Sort: risk.SortScore, Desc: true, Limit: 2}, []string{"Database failover untested", "Backups never restored"}},
		{"level", risk.Filter{Levels: []string{"Very High"}}, []string{"Database failover untested"}},
		{"status", risk.Filter{Status: []risk.Status{risk.StatusAccepted}}, []string{"Single DNS provider"}},
		{"search prefix", risk.Filter{Query: "datab"}, []string{"Database failover untested", "Backups never restored"}},
		{"search tag", risk.Filter{Query: "dr "}, []string{"Database failover untested"}},
		{"search and service", risk.Filter{Query: "data", Service: "db", Desc: true}, []string{"Backups never restored", "Database failover untested"}},
		{"search operators are text", risk.Filter{Query: `"NEAR( AND OR*`}, nil},
		{"title", risk.Filter{Sort: risk.SortTitle, Offset: 1, Limit: 1}, []string{"Certificate expiry"}},
		{"heat map cell", risk.Filter{Likelihood: 2, Impact: 4}, []string{"Certificate expiry"}},
		{"residual cell falls back", risk.Filter{Likelihood: 1, Impact: 4, Residual: true}, []string{"Certificate expiry"}},
		{"residual cell unassessed", risk.Filter{Likelihood: 5, Impact: 5, Residual: true}, []string{"Database failover untested"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := s.List(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := titles(p); !slices.Equal(got, c.want) {
				t.Fatalf("got %q want %q", got, c.want)
			}
		})
	}
	if p, _ := s.List(ctx, risk.Filter{Limit: 1}); p.Total != 4 || len(p.Risks) != 1 {
		t.Fatalf("paging total %d", p.Total)
	}
	if _, err := s.List(ctx, risk.Filter{Levels: []string{"Catastrophic"}}); err == nil {
		t.Fatal("unknown level accepted")
	}
	h, err := s.HeatMap(ctx, risk.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	want := risk.ComputeHeatMap(s.Matrix(), in)
	if !slices.EqualFunc(h.Inherent, want.Inherent, slices.Equal) || !slices.EqualFunc(h.Residual, want.Residual, slices.Equal) || h.Total != 4 {
		t.Fatalf("heat map %+v want %+v", h, want)
	}
	if h.Residual[0][3] != 1 || h.Inherent[1][3] != 0+1 {
		t.Fatalf("residual cell: %+v", h.Residual)
	}
	h, _ = s.HeatMap(ctx, risk.Filter{Service: "db"})
	if h.Total != 2 {
		t.Fatalf("filtered heat map total %d", h.Total)
	}
}

func TestMatrixChangeRescores(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	s := openTest(t, path, nil)
	r, _ := s.Create(ctx, sample("x", 1, 1))
	s.Close()
	m := risk.DefaultMatrix()
	m.Grid[0][0] = "Very High"
	s2, err := Open(ctx, path, Options{Matrix: m, Clock: clock.NewFake(t0)})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if p, _ := s2.List(ctx, risk.Filter{Levels: []string{"Very High"}}); p.Total != 1 || p.Risks[0].ID != r.ID {
		t.Fatalf("not rescored: %+v", p)
	}
	if _, err := s2.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}
