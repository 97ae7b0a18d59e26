package cockpit

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/history"
)

type memStore struct {
	mu     sync.Mutex
	events []history.Event
	acks   []history.Ack
	fail   error
}

func (m *memStore) Append(_ context.Context, ev []history.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.events = append(m.events, ev...)
	return nil
}
func (m *memStore) PutAck(_ context.Context, a history.Ack) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.acks = append(m.acks, a)
	return nil
}
func (m *memStore) Acks(context.Context, time.Time) (map[string]history.Ack, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]history.Ack{}
	for _, a := range m.acks {
		out[a.Fingerprint] = a
	}
	return out, nil
}
func (m *memStore) Events(context.Context, time.Time, time.Time) ([]history.Event, error) {
	return nil, nil
}
func (m *memStore) Prune(context.Context, time.Time) (int64, error) { return 0, nil }
func (m *memStore) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.events)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRecordHistorySurvivesAFailingStore(t *testing.T) {
	clk := clock.NewFake(t0)
	hub := NewHub(clk, HubOptions{AlertFeeds: 1})
	store := &memStore{fail: errors.New("disk I/O error")}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		RecordHistory(ctx, hub, store, clk, slog.New(slog.NewTextHandler(io.Discard, nil)))
		close(done)
	}()
	hub.ApplyAlerts(datasource.AlertEvent{Source: "am", Alerts: []datasource.Alert{alert("x", "critical", datasource.StateFiring, 0, 0)}})
	hub.Publish()
	waitFor(t, "NOT SAVED chip", func() bool {
		for _, h := range hub.Snapshot().Sources {
			if h.Source == HistorySource && h.State == datasource.HealthDown && strings.Contains(h.LastError, "NOT SAVED") {
				return true
			}
		}
		hub.Publish()
		return false
	})
	store.mu.Lock()
	store.fail = nil
	store.mu.Unlock()
	hub.ApplyAlerts(datasource.AlertEvent{Source: "am", Alerts: []datasource.Alert{alert("x", "critical", datasource.StateResolved, 0, time.Minute)}})
	hub.Publish()
	waitFor(t, "the kept events to be written", func() bool { return store.count() == 2 })
	cancel()
	<-done
}

type fakeSilencer struct{ err error }

func (f fakeSilencer) Silence(context.Context, datasource.Alert, string, string, time.Duration) (string, error) {
	return "sil-1", f.err
}

func TestAckerSavesFirstAndShowsIt(t *testing.T) {
	clk := clock.NewFake(t0)
	hub := NewHub(clk, HubOptions{AlertFeeds: 1})
	store := &memStore{}
	k := &Acker{Hub: hub, Store: store, Clock: clk, Silencer: fakeSilencer{}}
	a := alert("x", "critical", datasource.StateFiring, 0, 0)
	if err := k.Ack(context.Background(), a, "", "", 0); err == nil {
		t.Fatal("anonymous ack accepted")
	}
	if err := k.Ack(context.Background(), a, "alice", "on it", time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := hub.Publish().Acks["x"]; got.By != "alice" || got.SilenceID != "sil-1" || !got.At.Equal(t0) {
		t.Fatalf("ack on screen = %+v", got)
	}
	k.Silencer = fakeSilencer{err: errors.New("503")}
	if err := k.Ack(context.Background(), a, "bob", "", time.Hour); err == nil || !strings.Contains(err.Error(), "silence was not created") {
		t.Fatalf("err = %v", err)
	}
	if hub.Publish().Acks["x"].By != "bob" {
		t.Fatal("the ack must stand even when the silence fails")
	}
	store.fail = errors.New("read-only file system")
	if err := k.Ack(context.Background(), a, "carol", "", 0); err == nil || !strings.Contains(err.Error(), "NOT SAVED") {
		t.Fatalf("err = %v", err)
	}
	if hub.Publish().Acks["x"].By != "bob" {
		t.Fatal("an unsaved ack reached the screen")
	}
}

func TestFeedSilent(t *testing.T) {
	clk := clock.NewFake(t0)
	hub := NewHub(clk, HubOptions{AlertFeeds: 1, FeedSilentAfter: 10 * time.Minute})
	s := hub.Publish()
	if s.FeedSilent(t0.Add(9 * time.Minute)) {
		t.Fatal("silent too early")
	}
	if !s.FeedSilent(t0.Add(10 * time.Minute)) {
		t.Fatal("not silent after 10 minutes without a word")
	}
	clk.Advance(15 * time.Minute)
	hub.ApplyAlerts(datasource.AlertEvent{Source: "am"})
	if s := hub.Publish(); s.FeedSilent(clk.Now().Add(time.Minute)) {
		t.Fatal("still silent after a delivery")
	}
	if s := NewHub(clk, HubOptions{}).Publish(); s.FeedSilent(clk.Now().Add(time.Hour)) {
		t.Fatal("no feeds configured cannot be silent")
	}
}
