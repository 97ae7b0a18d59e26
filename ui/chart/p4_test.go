package chart

import (
	"image"
	"image/draw"
	"image/png"
	"os"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

// TestP4PanelMatchesCapture checks that BenchmarkP4Chart measures the picture the user
// sees: the panel it renders, laid on the window background, is the window's Capture.
func TestP4PanelMatchesCapture(t *testing.T) {
	a := test.NewTempApp(t)
	a.Settings().SetTheme(theme.DarkTheme())
	p := newP4Panel(t, benchLines())
	ours := p.render()
	got := image.NewRGBA(ours.Rect)
	draw.Draw(got, got.Rect, image.NewUniform(theme.Color(theme.ColorNameBackground)), image.Point{}, draw.Src)
	draw.Draw(got, got.Rect, ours, image.Point{}, draw.Over)
	want := p.win.Canvas().Capture() // after the copy: it regenerates the raster into the same image
	if want.Bounds() != got.Rect {
		t.Fatalf("capture is %v, panel %v", want.Bounds(), got.Rect)
	}
	bad, worst := 0, 0
	for y := 0; y < got.Rect.Dy(); y++ {
		for x := 0; x < got.Rect.Dx(); x++ {
			d := 0
			r1, g1, b1, _ := got.At(x, y).RGBA()
			r2, g2, b2, _ := want.At(x, y).RGBA()
			for _, p := range [][2]uint32{{r1, r2}, {g1, g2}, {b1, b2}} {
				d = max(d, abs(int(p[0]>>8)-int(p[1]>>8)))
			}
			worst = max(worst, d)
			if d > 2 {
				bad++
			}
		}
	}
	if path := os.Getenv("P4_PANEL"); path != "" {
		for name, img := range map[string]image.Image{path + "-ours.png": got, path + "-capture.png": want} {
			f, _ := os.Create(name)
			png.Encode(f, img)
			f.Close()
		}
	}
	t.Logf("%d pixels differ by more than 2 levels, worst by %d", bad, worst)
	if bad > 0 {
		t.Errorf("%d pixels differ from the capture by more than 2 levels (worst %d)", bad, worst)
	}
}
