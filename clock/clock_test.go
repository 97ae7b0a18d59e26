package clock

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func recv(t *testing.T, c <-chan time.Time) time.Time {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("nothing delivered")
		return time.Time{}
	}
}

func empty(t *testing.T, c <-chan time.Time) {
	t.Helper()
	select {
	case v := <-c:
		t.Fatalf("unexpected delivery %s", v)
	default:
	}
}

func TestFakeTimerAndTicker(t *testing.T) {
	f := NewFake(t0)
	tm := f.NewTimer(10 * time.Second)
	tk := f.NewTicker(3 * time.Second)
	f.Advance(2 * time.Second)
	empty(t, tm.C())
	empty(t, tk.C())
	f.Advance(time.Second)
	if got := recv(t, tk.C()); !got.Equal(t0.Add(3 * time.Second)) {
		t.Fatalf("tick at %s", got)
	}
	f.Advance(7 * time.Second) // ticks at 6 and 9 collapse into one unread tick, like time.Ticker
	if got := recv(t, tm.C()); !got.Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("timer at %s", got)
	}
	if got := recv(t, tk.C()); !got.Equal(t0.Add(6 * time.Second)) {
		t.Fatalf("tick at %s", got)
	}
	if tm.Stop() {
		t.Fatal("Stop of a fired timer reported pending")
	}
	tk.Stop()
	if f.Waiters() != 0 {
		t.Fatalf("%d waiters left", f.Waiters())
	}
	if !f.Now().Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("now = %s", f.Now())
	}
	f.Set(t0) // never backwards
	if !f.Now().Equal(t0.Add(10 * time.Second)) {
		t.Fatal("clock went backwards")
	}
}

func TestVirtualRunsAtSpeedPausesAndJumps(t *testing.T) {
	base := NewFake(t0)
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	v := NewVirtual(base, start, 10)
	base.Advance(time.Second)
	if got := v.Now().Sub(start); got != 10*time.Second {
		t.Fatalf("after 1s at 10x: %s", got)
	}
	v.SetPaused(true)
	base.Advance(time.Hour)
	if got := v.Now().Sub(start); got != 10*time.Second {
		t.Fatalf("paused clock moved: %s", got)
	}
	v.SetPaused(false)
	v.SetSpeed(2)
	base.Advance(time.Second)
	if got := v.Now().Sub(start); got != 12*time.Second {
		t.Fatalf("after speed change: %s", got)
	}
	v.Jump(start)
	if !v.Now().Equal(start) {
		t.Fatalf("jump: %s", v.Now())
	}
	v.SetSpeed(1000)
	if v.Speed() != 100 {
		t.Fatalf("speed not clamped: %v", v.Speed())
	}
}

func TestVirtualTickerFollowsSpeedChanges(t *testing.T) {
	base := NewFake(t0)
	v := NewVirtual(base, t0, 1)
	tk := v.NewTicker(10 * time.Second)
	defer tk.Stop()
	base.BlockUntil(1)
	base.Advance(10 * time.Second)
	first := recv(t, tk.C())
	if !first.Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("first tick %s", first)
	}
	v.SetSpeed(10) // next tick due in 10 virtual seconds = 1 base second
	got, waited := advanceUntil(t, base, tk.C())
	if !got.Equal(t0.Add(20 * time.Second)) {
		t.Fatalf("second tick %s", got)
	}
	if waited > 1500*time.Millisecond {
		t.Fatalf("second tick took %s of base time, want about 1s", waited)
	}
}

// advanceUntil moves base forward in small steps until c delivers, giving the waiting
// goroutine real time to re-plan between steps; it returns the delivery and how much
// base time it took.
func advanceUntil(t *testing.T, base *Fake, c <-chan time.Time) (time.Time, time.Duration) {
	t.Helper()
	start := base.Now()
	for range 200 {
		select {
		case v := <-c:
			return v, base.Now().Sub(start)
		case <-time.After(5 * time.Millisecond):
		}
		base.Advance(50 * time.Millisecond)
	}
	t.Fatal("nothing delivered")
	return time.Time{}, 0
}

func TestVirtualTimerWhilePaused(t *testing.T) {
	base := NewFake(t0)
	v := NewVirtual(base, t0, 1)
	v.SetPaused(true)
	tm := v.NewTimer(time.Second)
	base.Advance(time.Minute)
	empty(t, tm.C())
	v.SetPaused(false)
	base.BlockUntil(1)
	base.Advance(time.Second)
	recv(t, tm.C())
	if tm.Stop() {
		t.Fatal("Stop after firing reported pending")
	}
}

func TestRealClock(t *testing.T) {
	var c Clock = Real{}
	tm := c.NewTimer(time.Millisecond)
	recv(t, tm.C())
	tk := c.NewTicker(time.Millisecond)
	recv(t, tk.C())
	tk.Stop()
	if c.Now().IsZero() {
		t.Fatal("zero time")
	}
}
