// Command hello is the Fyne hello-world that start-up benchmarks measure OpsCockpit
// against: one window, one label, quit as soon as the app has started.
package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

func main() {
	a := app.New()
	w := a.NewWindow("Hello")
	w.SetContent(widget.NewLabel("Hello Fyne!"))
	w.Resize(fyne.NewSize(1600, 900))
	a.Lifecycle().SetOnStarted(func() { fyne.Do(a.Quit) })
	w.ShowAndRun()
}
