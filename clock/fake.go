package clock

import (
	"sort"
	"sync"
	"time"
)

// Fake is a manually advanced clock for tests: nothing moves until Advance or Set is
// called, and then every timer and ticker due by the new time fires in time order.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*fakeWaiter
	changed chan struct{} // closed and replaced whenever waiters change
}

var _ Clock = (*Fake)(nil)

type fakeWaiter struct {
	at     time.Time
	period time.Duration // 0 for a timer
	c      chan time.Time
	clock  *Fake
}

// NewFake returns a fake clock reading start.
func NewFake(start time.Time) *Fake {
	return &Fake{now: start, changed: make(chan struct{})}
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer returns a timer that fires once the fake time reaches now+d.
func (f *Fake) NewTimer(d time.Duration) Timer {
	return fakeTimer{f.add(d, 0)}
}

// NewTicker returns a ticker firing every d of fake time.
func (f *Fake) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive ticker period")
	}
	return fakeTicker{f.add(d, d)}
}

func (f *Fake) add(d, period time.Duration) *fakeWaiter {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := &fakeWaiter{at: f.now.Add(d), period: period, c: make(chan time.Time, 1), clock: f}
	f.waiters = append(f.waiters, w)
	f.notifyLocked()
	return w
}

func (f *Fake) remove(w *fakeWaiter) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.waiters {
		if x == w {
			f.waiters = append(f.waiters[:i], f.waiters[i+1:]...)
			f.notifyLocked()
			return true
		}
	}
	return false
}

func (f *Fake) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// Advance moves the clock forward by d, firing what falls due on the way.
func (f *Fake) Advance(d time.Duration) {
	f.Set(f.Now().Add(d))
}

// Set moves the clock to t (never backwards), firing what falls due on the way.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.Before(f.now) {
		return
	}
	for {
		sort.SliceStable(f.waiters, func(i, j int) bool { return f.waiters[i].at.Before(f.waiters[j].at) })
		if len(f.waiters) == 0 || f.waiters[0].at.After(t) {
			break
		}
		w := f.waiters[0]
		f.now = w.at
		select { // like the runtime, drop a tick nobody has read yet
		case w.c <- w.at:
		default:
		}
		if w.period > 0 {
			w.at = w.at.Add(w.period)
		} else {
			f.waiters = f.waiters[1:]
		}
	}
	f.now = t
	f.notifyLocked()
}

// Waiters reports how many timers and tickers are pending.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters)
}

// BlockUntil waits until at least n timers or tickers are pending, so a test can be
// sure a goroutine has armed its timer before advancing the clock.
func (f *Fake) BlockUntil(n int) {
	for {
		f.mu.Lock()
		have, ch := len(f.waiters), f.changed
		f.mu.Unlock()
		if have >= n {
			return
		}
		<-ch
	}
}

type fakeTimer struct{ w *fakeWaiter }

func (t fakeTimer) C() <-chan time.Time { return t.w.c }
func (t fakeTimer) Stop() bool          { return t.w.clock.remove(t.w) }

type fakeTicker struct{ w *fakeWaiter }

func (t fakeTicker) C() <-chan time.Time { return t.w.c }
func (t fakeTicker) Stop()               { t.w.clock.remove(t.w) }
