package chart

import (
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

func TestDbgCache(t *testing.T) {
	a := test.NewTempApp(t)
	a.Settings().SetTheme(theme.DarkTheme())
	p := newP4Panel(t, benchLines(0))
	bytes := 0
	for i := 0; i < 200; i++ {
		p.render(benchLines(uint64(i)))
		if i == 0 || i == 9 || i == 49 || i == 199 {
			bytes = 0
			for _, m := range p.r.labels.glyphs {
				if m != nil {
					bytes += len(m.a) + 64
				}
			}
			t.Logf("after %d frames: %d glyphs, %d KB", i+1, len(p.r.labels.glyphs), bytes/1024)
		}
	}
}
