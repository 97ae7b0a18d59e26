package ui

import (
	"context"

	"fyne.io/fyne/v2"
)

// runOnUI is the one place where model updates cross onto the Fyne goroutine. It waits
// for f to finish so at most one update is ever queued there; it gives up (false) when
// ctx ends, for instance because the window closed before f could run.
func runOnUI(ctx context.Context, f func()) bool {
	done := make(chan struct{})
	fyne.Do(func() {
		defer close(done)
		f()
	})
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}
