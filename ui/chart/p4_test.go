package chart

import (
	"image"
	"image/draw"
	"image/png"
	"os"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/shaping"
)

// diffImages counts the pixels of a and b whose colour channels differ by more than
// tol levels, and the largest difference.
func diffImages(a, b image.Image, tol int) (bad, worst int) {
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, a1 := a.At(x, y).RGBA()
			r2, g2, b2, a2 := b.At(x, y).RGBA()
			d := 0
			for _, p := range [][2]uint32{{r1, r2}, {g1, g2}, {b1, b2}, {a1, a2}} {
				d = max(d, abs(int(p[0]>>8)-int(p[1]>>8)))
			}
			worst = max(worst, d)
			if d > tol {
				bad++
			}
		}
	}
	return bad, worst
}

func savePNG(t *testing.T, path string, img image.Image) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// TestP4PanelMatchesCapture checks that BenchmarkP4Chart measures the picture the user
// sees: the panel it renders, laid on the window background, is the window's Capture.
func TestP4PanelMatchesCapture(t *testing.T) {
	a := test.NewTempApp(t)
	a.Settings().SetTheme(theme.DarkTheme())
	p := newP4Panel(t, benchLines(0))
	ours := p.render(benchLines(1))
	got := image.NewRGBA(ours.Rect)
	draw.Draw(got, got.Rect, image.NewUniform(theme.Color(theme.ColorNameBackground)), image.Point{}, draw.Src)
	draw.Draw(got, got.Rect, ours, image.Point{}, draw.Over)
	want := p.win.Canvas().Capture() // after the copy: it regenerates into the same image
	if want.Bounds() != got.Rect {
		t.Fatalf("capture is %v, panel %v", want.Bounds(), got.Rect)
	}
	bad, worst := diffImages(got, want, 2)
	if dir := os.Getenv("P4_PANEL"); dir != "" {
		savePNG(t, dir+"/p4-ours.png", got)
		savePNG(t, dir+"/p4-capture.png", want)
	}
	if bad > 0 {
		t.Errorf("%d pixels differ from the capture by more than 2 levels (worst %d)", bad, worst)
	}
}

// TestLabelsLookLikeFyneText checks that the labels the raster draws look as the
// canvas.Text objects they replace would: the same panel with every label painted
// Fyne's way (fyneText) differs only in anti-aliasing levels at glyph edges.
func TestLabelsLookLikeFyneText(t *testing.T) {
	a := test.NewTempApp(t)
	for _, th := range []struct {
		name  string
		theme fyne.Theme
	}{{"dark", theme.DarkTheme()}, {"light", theme.LightTheme()}} {
		t.Run(th.name, func(t *testing.T) {
			a.Settings().SetTheme(th.theme)
			p := newP4Panel(t, benchLines(1))
			r := p.r
			for _, scale := range []float32{1, 1.5, 2} {
				w, h := int(1200*scale), int(400*scale)
				ours := image.NewRGBA(image.Rect(0, 0, w, h))
				drawFrame(ours, &r.st, &r.lay, &r.c.data, &r.c.opts, r.themed.frame, scale)
				fyneWay := image.NewRGBA(ours.Rect)
				copy(fyneWay.Pix, ours.Pix)
				r.drawLabels(ours, scale)
				var ft fyneText
				n := 0
				for i := range r.lay.texts {
					if !r.inImage[i] {
						continue
					}
					it := &r.lay.texts[i]
					col, style, size := r.look(it)
					txt := canvas.NewText(it.text, col)
					txt.TextStyle, txt.TextSize = style, size
					txt.Move(it.pos)
					txt.Resize(txt.MinSize())
					ft.draw(fyneWay, txt, scale)
					n++
				}
				if n != len(r.lay.texts) {
					t.Errorf("only %d of %d labels drawn in the raster", n, len(r.lay.texts))
				}
				bad, worst := diffImages(ours, fyneWay, 24)
				t.Logf("scale %v: %d pixels differ by more than 24 levels, worst %d", scale, bad, worst)
				if dir := os.Getenv("P4_PANEL"); dir != "" && scale == 1 {
					savePNG(t, dir+"/labels-"+th.name+"-ours.png", ours)
					savePNG(t, dir+"/labels-"+th.name+"-fyne.png", fyneWay)
				}
				if bad > w*h/20000 || worst > 96 {
					t.Errorf("scale %v: %d pixels differ from Fyne's text by more than 24 levels (worst %d)", scale, bad, worst)
				}
			}
		})
	}
}

// TestSplitShortCut holds labelPainter.split's ASCII short cut to the segmenter it
// stands in for.
func TestSplitShortCut(t *testing.T) {
	a := test.NewTempApp(t)
	a.Settings().SetTheme(theme.DarkTheme())
	var p labelPainter
	p.setFont(fyne.TextStyle{}, theme.DarkTheme().Font(fyne.TextStyle{}))
	face := p.faces[fyne.TextStyle{}].face
	texts := []string{"100 req/s", "12:00", "instance-a:9100", "-143 req/s", "+3 more", "Last", "0", " ", "~!@#$%^&*()_+{}|:<>?",
		"2026-01-02", "Jan 2", "p99 checkout-api{region=\"eu-west-1\"}", "1.5e+300 B", "x"}
	for r := rune(' '); r <= '~'; r++ {
		texts = append(texts, string(r), "1"+string(r)+"a")
	}
	for _, s := range texts {
		runes := []rune(s)
		in := shaping.Input{Text: runes, RunEnd: len(runes), Direction: di.DirectionLTR, Face: face, Size: 14 * 64}
		got := p.split(in)
		want := p.seg.Split(in, oneFace{face})
		if len(got) != len(want) {
			t.Errorf("%q: %d runs, segmenter %d", s, len(got), len(want))
			continue
		}
		for i := range got {
			g, w := got[i], want[i]
			if g.RunStart != w.RunStart || g.RunEnd != w.RunEnd || g.Script != w.Script || g.Language != w.Language ||
				g.Direction != w.Direction || g.Face != w.Face || g.Size != w.Size {
				t.Errorf("%q run %d: %+v, segmenter %+v", s, i, g, w)
			}
		}
	}
}

// TestMeasureMatchesFyne holds labelPainter.measure, which the layout uses, to
// fyne.MeasureText, which sizes a canvas.Text.
func TestMeasureMatchesFyne(t *testing.T) {
	a := test.NewTempApp(t)
	for _, th := range []fyne.Theme{theme.DarkTheme(), theme.LightTheme()} {
		a.Settings().SetTheme(th)
		var p labelPainter
		p.setFont(fyne.TextStyle{}, th.Font(fyne.TextStyle{}))
		p.setFont(fyne.TextStyle{Bold: true}, th.Font(fyne.TextStyle{Bold: true}))
		texts := []string{"0", "Last", "Min", "Max", "12:00", "Jan 2", "2026-01-02", "231 req/s", "-143 req/s", "47.3 req/s",
			"instance-a:9100", "+12 more", "No data", "1.23 s", "12.3 ms", "–", "…", "µs", "p99 checkout-api{region=\"eu-west-1\"}",
			"AVAWTo Ty", "séries à été", "Ω 5 kΩ"}
		for _, s := range texts {
			for _, style := range []fyne.TextStyle{{}, {Bold: true}} {
				for _, size := range []float32{14, 18.2, 12} {
					got, want := p.measure(s, size, style), fyne.MeasureText(s, size, style)
					if got != want {
						t.Errorf("measure(%q, %v, %+v) = %v, fyne.MeasureText %v", s, size, style, got, want)
					}
				}
			}
		}
	}
}

// TestLabelsFallBackToCanvasText checks that a label the theme font cannot draw alone
// (another script, right-to-left text, a tab) is left to a canvas.Text, which brings
// Fyne's fallback fonts and bidi, while the rest stay in the raster.
func TestLabelsFallBackToCanvasText(t *testing.T) {
	a := test.NewTempApp(t)
	a.Settings().SetTheme(theme.DarkTheme())
	names := []string{"负载 p99", "שרת-1", "tab\there", "plain"}
	var lines []Line
	for _, n := range names {
		lines = append(lines, Line{Name: n, Samples: flat(30, 1, nil)})
	}
	c := New()
	c.SetData(lines, Options{Decimals: -1})
	_, r := show(t, c, 900, 300)
	canvasTexts := map[string]bool{}
	for _, tx := range r.texts {
		if tx.Visible() {
			canvasTexts[tx.Text] = true
		}
	}
	for i, it := range r.lay.texts {
		want := it.text != "plain" && strings.ContainsAny(it.text, "负ש\t")
		if want == r.inImage[i] {
			t.Errorf("%q: drawn in the raster = %v", it.text, r.inImage[i])
		}
		if want && !canvasTexts[it.text] {
			t.Errorf("%q has no visible canvas.Text", it.text)
		}
	}
	if len(canvasTexts) != 3 {
		t.Errorf("canvas texts %v, want the three names", canvasTexts)
	}
}
