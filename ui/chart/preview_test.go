package chart

import (
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/opscockpit/opscockpit/datasource"
)

// latencyLines is a realistic incident: p99 latency climbing from 0.2 s to 1.4 s over
// two hours, a flatter p50, and a scrape gap.
func latencyLines(start time.Time) []Line {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 480 // 15 s steps over two hours
	p99 := make([]datasource.Sample, n)
	p50 := make([]datasource.Sample, n)
	for i := range n {
		t := start.Add(time.Duration(i) * 15 * time.Second)
		f := float64(i) / n
		rise := 0.2 + 1.2/(1+math.Exp(-12*(f-0.6)))
		p99[i] = datasource.Sample{T: t, V: rise * (1 + 0.08*rng.NormFloat64())}
		p50[i] = datasource.Sample{T: t, V: (0.08 + 0.25*rise) * (1 + 0.05*rng.NormFloat64())}
		if i >= 200 && i < 212 {
			p99[i].V = math.NaN()
			p50[i].V = math.NaN()
		}
	}
	return []Line{{Name: `p99 checkout-api{region="eu-west-1"}`, Samples: p99}, {Name: `p50 checkout-api{region="eu-west-1"}`, Samples: p50}}
}

// TestPreview writes a realistic chart to $CHART_PREVIEW (a PNG path) for a person to
// look at; it does nothing otherwise.
func TestPreview(t *testing.T) {
	path := os.Getenv("CHART_PREVIEW")
	if path == "" {
		t.Skip("set CHART_PREVIEW=/tmp/chart-preview.png to write a preview")
	}
	a := test.NewTempApp(t)
	if os.Getenv("CHART_PREVIEW_LIGHT") != "" {
		a.Settings().SetTheme(theme.LightTheme())
	} else {
		a.Settings().SetTheme(theme.DarkTheme())
	}
	start := time.Date(2026, 3, 14, 13, 0, 0, 0, time.UTC)
	c := New()
	crit := color.NRGBA{0xf4, 0x43, 0x36, 0xff}
	c.SetData(latencyLines(start), Options{Unit: "s", Decimals: -1, Location: time.UTC,
		Thresholds: []Threshold{{Value: 0.5}, {Value: 1.0, Color: crit}}})
	w := test.NewTempWindow(t, c)
	w.SetPadded(false)
	w.Resize(fyne.NewSize(1200, 400))
	if os.Getenv("CHART_PREVIEW_HOVER") != "" {
		c.MouseMoved(mouseAt(600, 200))
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, w.Canvas().Capture()); err != nil {
		t.Fatal(err)
	}
}

func mouseAt(x, y float32) *desktop.MouseEvent {
	return &desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(x, y)}}
}
