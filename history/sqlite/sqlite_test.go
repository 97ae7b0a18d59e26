package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/history"
)

var t0 = time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)

func TestStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cockpit.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	events := []history.Event{
		{At: t0, Fingerprint: "f1", Name: "CheckoutDown", Severity: "critical", Source: "am", State: datasource.StateFiring, Labels: map[string]string{"alertname": "CheckoutDown"}},
		{At: t0.Add(time.Hour), Fingerprint: "f1", Name: "CheckoutDown", Severity: "critical", Source: "am", State: datasource.StateResolved},
	}
	if err := s.Append(ctx, events); err != nil {
		t.Fatal(err)
	}
	got, err := s.Events(ctx, t0.Add(-time.Minute), t0.Add(2*time.Hour))
	if err != nil || len(got) != 2 || got[0].Labels["alertname"] != "CheckoutDown" || got[1].State != datasource.StateResolved || !got[0].At.Equal(t0) {
		t.Fatalf("events = %+v, %v", got, err)
	}
	for _, a := range []history.Ack{
		{Fingerprint: "f1", Name: "CheckoutDown", By: "alice", At: t0.Add(time.Minute), Comment: "looking"},
		{Fingerprint: "f1", Name: "CheckoutDown", By: "bob", At: t0.Add(2 * time.Minute), Comment: "taking over", SilenceID: "s-1"},
	} {
		if err := s.PutAck(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	acks, err := s.Acks(ctx, t0)
	if err != nil || acks["f1"].By != "bob" || acks["f1"].SilenceID != "s-1" {
		t.Fatalf("acks = %+v, %v", acks, err)
	}
	if n, err := s.Prune(ctx, t0.Add(30*time.Minute)); err != nil || n != 1 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	s.Close()
	// survives a reopen
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, _ := s.Events(ctx, t0.Add(-time.Hour), t0.Add(3*time.Hour)); len(got) != 1 {
		t.Fatalf("after reopen: %d events", len(got))
	}
}

func TestTicksSurviveAReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cockpit.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []struct {
		step string
		on   bool
	}{{"a", true}, {"b", true}, {"a", false}} {
		if err := s.SetTick(ctx, "embedded/x.md", st.step, st.on, "alice", t0); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Ticks(ctx)
	if err != nil || got["embedded/x.md"]["a"] || !got["embedded/x.md"]["b"] {
		t.Fatalf("ticks = %v, %v", got, err)
	}
}
