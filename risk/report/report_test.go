package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/risk"
	"github.com/opscockpit/opscockpit/risk/report"
	"github.com/opscockpit/opscockpit/risk/sqlite"
)

func TestWriteReviewPack(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	fc := clock.NewFake(t0)
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"), sqlite.Options{Clock: fc, Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	old, _ := s.Create(ctx, risk.Risk{Title: "Old risk", Owner: "bob", Likelihood: 1, Impact: 2})
	fc.Advance(10 * 24 * time.Hour)
	since := fc.Now()
	top, _ := s.Create(ctx, risk.Risk{Title: "=HYPERLINK(\"x\") | pipe", Owner: "ann", Service: "pay", Likelihood: 5, Impact: 5, NextReview: since.AddDate(0, 0, 1)})
	s.AddAction(ctx, risk.Action{RiskID: top.ID, Title: "Add a second provider", Owner: "ann", Due: since.AddDate(0, 0, 2)})
	s.Escalate(ctx, top.ID, "engineering director", "agreed in ops review", "level Very High")
	s.AddLink(ctx, top.ID, `alertname="PaymentsDown"`)
	s.RecordFiring(ctx, []datasource.Alert{{Fingerprint: "abc", State: datasource.StateFiring, StartsAt: since,
		Labels: map[string]string{"alertname": "PaymentsDown"}}})
	old.Owner = "carol"
	s.Update(ctx, old)
	fc.Advance(5 * 24 * time.Hour)

	dir := filepath.Join(t.TempDir(), "pack")
	paths, err := report.Write(ctx, dir, s, report.Options{Since: since, Now: fc.Now(), Matrix: s.Matrix()})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 5 {
		t.Fatalf("paths %v", paths)
	}
	md, _ := os.ReadFile(filepath.Join(dir, report.ReportFile))
	for _, want := range []string{
		"# Risk review pack — 2025-03-16",
		"Changes since 2025-03-11",
		"![Heat map: inherent and residual](heatmap.png)",
		"| Very High | 1 | 1 |",
		`=HYPERLINK("x") \| pipe`,
		"MATERIALISING",
		"review overdue",
		"| team | engineering director | alice | level Very High | agreed in ops review |",
		"PaymentsDown",
		"Add a second provider",
		"| owner | bob | carol |",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(string(md), "| 1 | 2025-03-01") {
		t.Error("changes before --since are listed")
	}
	f, _ := os.Open(filepath.Join(dir, report.HeatMapFile))
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 400 {
		t.Fatalf("heat map %v too small to read", b)
	}
	for name, rows := range map[string]int{report.RisksFile: 3, report.ActionsFile: 2, report.EscalationsFile: 2} {
		data, _ := os.ReadFile(filepath.Join(dir, name))
		recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil || len(recs) != rows {
			t.Errorf("%s: %d rows, %v", name, len(recs), err)
		}
		if name == report.RisksFile && !strings.Contains(string(data), `"'=HYPERLINK(""x"") | pipe"`) {
			t.Errorf("formula cell not escaped in %s:\n%s", name, data)
		}
		if st, _ := os.Stat(filepath.Join(dir, name)); st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %o", name, st.Mode().Perm())
		}
	}
}

// The heat map cells carry their level's colour and the count is drawn inside.
func TestHeatMapImageColoursCells(t *testing.T) {
	m := risk.DefaultMatrix()
	h := risk.NewHeatMap(m)
	h.Add(5, 5, 1, 1, 42)
	img, err := report.HeatMapImage(h, m)
	if err != nil {
		t.Fatal(err)
	}
	// top-right cell of the inherent panel (likelihood 5, impact 5): Very High red,
	// sampled near its corner (away from the digits)
	x, y := 16+150+4*120+6, 16+44+6
	if got, want := img.RGBAAt(x, y), m.Levels[4].RGBA(); got != want {
		t.Fatalf("cell colour %v, want %v", got, want)
	}
	// digits are drawn in the cell centre: some pixels differ from the fill
	cx, cy := 16+150+4*120+60, 16+44+36
	differs := 0
	for dx := -20; dx < 20; dx++ {
		for dy := -12; dy < 12; dy++ {
			if img.RGBAAt(cx+dx, cy+dy) != m.Levels[4].RGBA() {
				differs++
			}
		}
	}
	if differs < 20 {
		t.Fatal("no count drawn in the cell")
	}
	var buf bytes.Buffer
	if err := report.RenderHeatMap(&buf, h, m); err != nil || buf.Len() < 1000 {
		t.Fatalf("png %d bytes, %v", buf.Len(), err)
	}
}
