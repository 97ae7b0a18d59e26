package report

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"strconv"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/opscockpit/opscockpit/risk"
)

// Layout of the heat-map picture, in pixels.
const (
	cellW    = 120
	cellH    = 72
	labelW   = 150 // likelihood labels left of the grid
	titleH   = 44
	axisH    = 56 // impact labels and axis title under the grid
	legendH  = 40
	margin   = 16
	panelGap = 40
)

var (
	fontsOnce      sync.Once
	regular, bold  *opentype.Font
	errFontsParsed error
)

// faces are per drawing: an opentype face keeps scratch buffers and is not safe
// for concurrent use, while the parsed fonts are.
type faces struct{ label, count, title font.Face }

func newFaces() (faces, error) {
	fontsOnce.Do(func() {
		if regular, errFontsParsed = opentype.Parse(goregular.TTF); errFontsParsed == nil {
			bold, errFontsParsed = opentype.Parse(gobold.TTF)
		}
	})
	if errFontsParsed != nil {
		return faces{}, errFontsParsed
	}
	var fs faces
	var err error
	mk := func(f *opentype.Font, size float64) font.Face {
		fc, e := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
		if e != nil {
			err = e
		}
		return fc
	}
	fs.label, fs.count, fs.title = mk(regular, 14), mk(bold, 26), mk(bold, 18)
	return fs, err
}

// RenderHeatMap draws the inherent and residual heat maps side by side as a PNG:
// cells coloured by level with their counts, likelihood labels on the left (most
// likely at the top), impact labels underneath, and a legend of the levels.
func RenderHeatMap(w io.Writer, h risk.HeatMap, m risk.Matrix) error {
	img, err := HeatMapImage(h, m)
	if err != nil {
		return err
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("encode heat map png: %w", err)
	}
	return nil
}

// HeatMapImage draws what RenderHeatMap encodes.
func HeatMapImage(h risk.HeatMap, m risk.Matrix) (*image.RGBA, error) {
	fonts, err := newFaces()
	if err != nil {
		return nil, fmt.Errorf("heat map fonts: %w", err)
	}
	nl, ni := m.Size()
	panelW := labelW + ni*cellW
	width := 2*margin + 2*panelW + panelGap
	height := 2*margin + titleH + nl*cellH + axisH + legendH
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	panels := []struct {
		title  string
		counts [][]int
	}{{"Inherent risk", h.Inherent}, {"Residual risk (after treatment)", h.Residual}}
	for p, panel := range panels {
		x0 := margin + p*(panelW+panelGap)
		y0 := margin
		text(img, fonts.title, panel.title+" ("+strconv.Itoa(h.Total)+" risks)", x0+labelW, y0+26, color.Black, alignLeft)
		gy := y0 + titleH
		for l := nl; l >= 1; l-- {
			row := nl - l
			cy := gy + row*cellH
			text(img, fonts.label, fmt.Sprintf("%d %s", l, m.Likelihood[l-1]), x0+labelW-10, cy+cellH/2+5, color.Black, alignRight)
			for i := 1; i <= ni; i++ {
				cx := x0 + labelW + (i-1)*cellW
				lv := m.Level(l, i)
				fill := lv.RGBA()
				draw.Draw(img, image.Rect(cx, cy, cx+cellW, cy+cellH), image.NewUniform(fill), image.Point{}, draw.Src)
				n := 0
				if l-1 < len(panel.counts) && i-1 < len(panel.counts[l-1]) {
					n = panel.counts[l-1][i-1]
				}
				ink := contrast(fill)
				if n > 0 {
					text(img, fonts.count, strconv.Itoa(n), cx+cellW/2, cy+cellH/2+9, ink, alignCenter)
				} else {
					text(img, fonts.label, "·", cx+cellW/2, cy+cellH/2+5, ink, alignCenter)
				}
			}
		}
		// grid lines
		gridW, gridH := ni*cellW, nl*cellH
		for i := 0; i <= ni; i++ {
			x := x0 + labelW + i*cellW
			draw.Draw(img, image.Rect(x-1, gy, x+1, gy+gridH), image.NewUniform(color.White), image.Point{}, draw.Src)
		}
		for l := 0; l <= nl; l++ {
			y := gy + l*cellH
			draw.Draw(img, image.Rect(x0+labelW, y-1, x0+labelW+gridW, y+1), image.NewUniform(color.White), image.Point{}, draw.Src)
		}
		ay := gy + gridH
		for i := 1; i <= ni; i++ {
			cx := x0 + labelW + (i-1)*cellW + cellW/2
			text(img, fonts.label, fmt.Sprintf("%d %s", i, m.Impact[i-1]), cx, ay+20, color.Black, alignCenter)
		}
		text(img, fonts.label, "Impact →", x0+labelW+gridW/2, ay+44, color.RGBA{0x44, 0x44, 0x44, 0xff}, alignCenter)
		text(img, fonts.label, "Likelihood ↑", x0+labelW-10, gy-8, color.RGBA{0x44, 0x44, 0x44, 0xff}, alignRight)
	}
	// legend
	lx, ly := margin+labelW, height-margin-legendH+14
	for _, lv := range m.Levels {
		draw.Draw(img, image.Rect(lx, ly, lx+18, ly+18), image.NewUniform(lv.RGBA()), image.Point{}, draw.Src)
		adv := text(img, fonts.label, lv.Name, lx+24, ly+14, color.Black, alignLeft)
		lx += 24 + adv + 24
	}
	return img, nil
}

type align int

const (
	alignLeft align = iota
	alignCenter
	alignRight
)

// text draws s with its baseline at y, returning its width.
func text(img draw.Image, face font.Face, s string, x, y int, c color.Color, a align) int {
	d := &font.Drawer{Dst: img, Src: image.NewUniform(c), Face: face}
	wpx := d.MeasureString(s).Ceil()
	switch a {
	case alignCenter:
		x -= wpx / 2
	case alignRight:
		x -= wpx
	}
	d.Dot = fixed.P(x, y)
	d.DrawString(s)
	return wpx
}

// contrast picks black or white ink for a fill by its relative luminance.
func contrast(c color.RGBA) color.Color {
	lum := 0.2126*float64(c.R) + 0.7152*float64(c.G) + 0.0722*float64(c.B)
	if lum > 140 {
		return color.Black
	}
	return color.White
}
