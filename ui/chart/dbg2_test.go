package chart

import (
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

func BenchmarkXOurs(b *testing.B) {
	a := test.NewTempApp(b)
	a.Settings().SetTheme(theme.DarkTheme())
	p := newP4Panel(b, benchLines(0))
	p.render(benchLines(1))
	sets := make([][]Line, 64)
	for i := range sets {
		sets[i] = benchLines(uint64(100 + i))
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		p.render(sets[i%64])
	}
}

func BenchmarkXStrokeParts(b *testing.B) {
	a := test.NewTempApp(b)
	a.Settings().SetTheme(theme.DarkTheme())
	p := newP4Panel(b, benchLines(0))
	p.render(benchLines(1))
	r := p.r
	img := r.img
	plot := r.lay.plotPx(1)
	var st stroker
	b.Run("clear", func(b *testing.B) {
		for b.Loop() {
			clear(img.Pix)
		}
	})
	b.Run("line", func(b *testing.B) {
		for b.Loop() {
			st.begin(1200, 400, plot.Inset(-2))
			for i := range r.c.data.series {
				st.line(&r.c.data.series[i], plot, &r.lay, 1)
				for x := st.dirtyX[0]; x <= st.dirtyX[1]; x++ {
					for y := st.lo[x]; y <= st.hi[x]; y++ {
						st.mask[int(y)*st.w+x] = 0
					}
					st.lo[x], st.hi[x] = 1<<30, -1
				}
				st.dirtyX = [2]int{1 << 30, -1}
			}
		}
	})
	b.Run("line+composite", func(b *testing.B) {
		for b.Loop() {
			st.begin(1200, 400, plot.Inset(-2))
			for i := range r.c.data.series {
				st.line(&r.c.data.series[i], plot, &r.lay, 1)
				st.composite(img, r.c.data.series[i].color)
			}
		}
	})
	b.Run("frame", func(b *testing.B) {
		for b.Loop() {
			drawFrame(img, &r.st, &r.lay, &r.c.data, &r.c.opts, r.themed.frame, 1)
		}
	})
}
