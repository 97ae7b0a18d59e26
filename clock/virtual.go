package clock

import (
	"sync"
	"time"
)

// Virtual is a scenario timeline driven by another clock: it can start at any instant,
// run at 0.1x–100x, pause, and jump. Drills and the embedded demo run on it; its timers
// and tickers follow speed changes and jumps as they happen.
type Virtual struct {
	base Clock

	mu      sync.Mutex
	anchorV time.Time // virtual time at anchorR
	anchorR time.Time // base time when the current rate started
	speed   float64
	paused  bool
	changed chan struct{} // closed and replaced on every speed, pause or jump change
}

var _ Clock = (*Virtual)(nil)

// NewVirtual returns a virtual clock that reads start now and runs at speed on base.
func NewVirtual(base Clock, start time.Time, speed float64) *Virtual {
	if speed <= 0 {
		speed = 1
	}
	return &Virtual{base: base, anchorV: start, anchorR: base.Now(), speed: speed, changed: make(chan struct{})}
}

// Now returns the virtual time.
func (v *Virtual) Now() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.nowLocked()
}

func (v *Virtual) nowLocked() time.Time {
	if v.paused {
		return v.anchorV
	}
	elapsed := v.base.Now().Sub(v.anchorR)
	return v.anchorV.Add(time.Duration(float64(elapsed) * v.speed))
}

// rebase fixes the current virtual time as the new anchor; the caller then changes
// rate or position, and everything waiting re-plans.
func (v *Virtual) rebaseLocked() {
	v.anchorV = v.nowLocked()
	v.anchorR = v.base.Now()
}

func (v *Virtual) notifyLocked() {
	close(v.changed)
	v.changed = make(chan struct{})
}

// Speed returns the current rate of virtual time to base time.
func (v *Virtual) Speed() float64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.speed
}

// SetSpeed changes the rate; values are clamped to 0.1x–100x.
func (v *Virtual) SetSpeed(s float64) {
	s = min(max(s, 0.1), 100)
	v.mu.Lock()
	defer v.mu.Unlock()
	v.rebaseLocked()
	v.speed = s
	v.notifyLocked()
}

// Paused reports whether virtual time is stopped.
func (v *Virtual) Paused() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.paused
}

// SetPaused stops or resumes virtual time.
func (v *Virtual) SetPaused(p bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if p == v.paused {
		return
	}
	v.rebaseLocked()
	v.paused = p
	v.notifyLocked()
}

// Jump sets the virtual time to t (forwards or backwards).
func (v *Virtual) Jump(t time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.anchorV = t
	v.anchorR = v.base.Now()
	v.notifyLocked()
}

// NewTimer returns a timer that fires when virtual time has advanced by d.
func (v *Virtual) NewTimer(d time.Duration) Timer {
	w := v.start(d, 0)
	return virtualTimer{w}
}

// NewTicker returns a ticker firing every d of virtual time.
func (v *Virtual) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive ticker period")
	}
	return virtualTicker{v.start(d, d)}
}

type virtualWaiter struct {
	c    chan time.Time
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func (w *virtualWaiter) halt() bool {
	stopped := false
	w.once.Do(func() { close(w.stop); stopped = true })
	<-w.done
	return stopped
}

func (v *Virtual) start(d, period time.Duration) *virtualWaiter {
	w := &virtualWaiter{c: make(chan time.Time, 1), stop: make(chan struct{}), done: make(chan struct{})}
	next := v.Now().Add(d)
	go v.run(w, next, period)
	return w
}

// run waits in base time for the virtual deadline, re-planning whenever the rate or
// position changes. After a backwards jump a ticker's next tick is pulled in so it never
// waits longer than one period.
func (v *Virtual) run(w *virtualWaiter, next time.Time, period time.Duration) {
	defer close(w.done)
	for {
		v.mu.Lock()
		now, paused, speed, changed := v.nowLocked(), v.paused, v.speed, v.changed
		v.mu.Unlock()
		if period > 0 && next.Sub(now) > period {
			next = now.Add(period)
		}
		if paused {
			select {
			case <-changed:
				continue
			case <-w.stop:
				return
			}
		}
		wait := time.Duration(float64(next.Sub(now)) / speed)
		if wait <= 0 {
			select {
			case w.c <- next:
			default:
			}
			if period == 0 {
				w.once.Do(func() {})
				return
			}
			next = next.Add(period)
			if !next.After(now) { // far behind after a forward jump: skip, like a real ticker
				next = now.Add(period)
			}
			continue
		}
		t := v.base.NewTimer(wait)
		select {
		case <-t.C():
		case <-changed:
			t.Stop()
		case <-w.stop:
			t.Stop()
			return
		}
	}
}

type virtualTimer struct{ w *virtualWaiter }

func (t virtualTimer) C() <-chan time.Time { return t.w.c }
func (t virtualTimer) Stop() bool          { return t.w.halt() }

type virtualTicker struct{ w *virtualWaiter }

func (t virtualTicker) C() <-chan time.Time { return t.w.c }
func (t virtualTicker) Stop()               { t.w.halt() }
