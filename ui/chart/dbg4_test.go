package chart

import (
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

func TestDbgCount(t *testing.T) {
	a := test.NewTempApp(t)
	a.Settings().SetTheme(theme.DarkTheme())
	p := newP4Panel(t, benchLines(0))
	p.render(benchLines(1))
	r := p.r
	plot := r.lay.plotPx(1)
	var st stroker
	st.begin(1200, 400, plot.Inset(-2))
	nz := 0
	spans := 0
	for i := range r.c.data.series {
		st.line(&r.c.data.series[i], plot, &r.lay, 1)
		for x := st.dirtyX[0]; x <= st.dirtyX[1]; x++ {
			if st.lo[x] <= st.hi[x] {
				spans += int(st.hi[x] - st.lo[x] + 1)
			}
			for y := st.lo[x]; y <= st.hi[x]; y++ {
				if st.mask[int(y)*st.w+x] != 0 {
					nz++
				}
			}
		}
		st.composite(r.img, palette[0])
	}
	t.Logf("plot %v, nonzero mask px %d, dirty span px %d", plot, nz, spans)
}
