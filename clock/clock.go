// Package clock is the injected notion of time. Everything that schedules asks a Clock
// instead of calling time.Now, so that the demo and drills can run on a virtual,
// pausable, sped-up timeline and tests can advance time instantly.
package clock

import "time"

// Clock tells the time and makes timers and tickers on its own timeline.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
	NewTicker(d time.Duration) Ticker
}

// Timer fires once on C after its duration has passed on its clock.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it was still pending.
	Stop() bool
}

// Ticker delivers ticks on C every period of its clock. Like time.Ticker it drops
// ticks for a slow reader rather than queueing them.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// Real is the wall clock.
type Real struct{}

var _ Clock = Real{}

// Now returns the wall-clock time.
func (Real) Now() time.Time { return time.Now() }

// NewTimer returns a wall-clock timer.
func (Real) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

// NewTicker returns a wall-clock ticker.
func (Real) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }

type realTicker struct{ t *time.Ticker }

func (r realTicker) C() <-chan time.Time { return r.t.C }
func (r realTicker) Stop()               { r.t.Stop() }
