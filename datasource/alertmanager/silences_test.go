package alertmanager

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMatchersForAlert(t *testing.T) {
	labels := map[string]string{"alertname": "DiskAlmostFull", "instance": "db-2:9100", "severity": "warning"}
	tests := []struct {
		name    string
		exclude []string
		want    []string
	}{
		{"every label by default", nil, []string{`alertname="DiskAlmostFull"`, `instance="db-2:9100"`, `severity="warning"`}},
		{"caller leaves some out", []string{"instance", "nope"}, []string{`alertname="DiskAlmostFull"`, `severity="warning"`}},
		{"everything left out", []string{"alertname", "instance", "severity"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, m := range MatchersForAlert(labels, tc.exclude...) {
				if !m.IsEqual || m.IsRegex {
					t.Errorf("matcher %+v is not an equality", m)
				}
				got = append(got, m.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if s := (Matcher{Name: "a", Value: "b.*", IsRegex: true}).String(); s != `a!~"b.*"` {
		t.Errorf("String = %s", s)
	}
}

func TestSilencesAgainstFake(t *testing.T) {
	am := newFakeAM(t, "[]")
	p, _ := newTestPoller(t, []string{am.URL}, nil)
	ctx := ctxTimeout(t, 10*time.Second)

	labels := map[string]string{"alertname": "DiskAlmostFull", "instance": "db-2:9100"}
	id, err := p.CreateSilence(ctx, Silence{
		Matchers:  MatchersForAlert(labels),
		EndsAt:    t0.Add(2 * time.Hour),
		CreatedBy: "alice",
		Comment:   "disk cleanup, OPS-1234",
	})
	if err != nil {
		t.Fatal(err)
	}
	if id != "sil-1" {
		t.Fatalf("id %q", id)
	}
	am.mu.Lock()
	posted := am.posted[0]
	am.mu.Unlock()
	if posted["startsAt"] != "2026-03-01T12:00:00Z" || posted["endsAt"] != "2026-03-01T14:00:00Z" || posted["createdBy"] != "alice" {
		t.Errorf("posted %v", posted)
	}
	ms := posted["matchers"].([]any)
	if len(ms) != 2 || ms[0].(map[string]any)["isEqual"] != true || ms[0].(map[string]any)["name"] != "alertname" {
		t.Errorf("posted matchers %v", ms)
	}
	if _, hasID := posted["id"]; hasID {
		t.Error("a new silence was posted with an id")
	}

	list, err := p.Silences(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != id || list[0].State != SilenceActive || len(list[0].Matchers) != 2 || list[0].CreatedBy != "alice" {
		t.Fatalf("list %+v", list)
	}

	if err := p.ExpireSilence(ctx, id); err != nil {
		t.Fatal(err)
	}
	list, err = p.Silences(ctx)
	if err != nil || len(list) != 1 || list[0].State != SilenceExpired {
		t.Fatalf("after expiry: %+v, %v", list, err)
	}

	err = p.ExpireSilence(ctx, "no-such-id")
	e := asError(t, err, KindBadRequest)
	if e.Status != http.StatusNotFound || !e.NotFound() || !strings.Contains(e.Msg, "knows no silence no-such-id") {
		t.Errorf("expire unknown: %+v", e)
	}
}

func TestSilencesFixture(t *testing.T) {
	am := newFakeAM(t, "[]")
	am.setFault(reply(200, "application/json", string(readFixture(t, "silences.json"))))
	p, _ := newTestPoller(t, []string{am.URL}, nil)
	list, err := p.Silences(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].State != SilenceActive || list[1].State != SilenceExpired {
		t.Fatalf("order: %+v", list)
	}
	var got []string
	for _, m := range list[0].Matchers {
		got = append(got, m.String())
	}
	if want := []string{`alertname="DiskAlmostFull"`, `instance="db-2:9100"`, `severity!="critical"`}; !slices.Equal(got, want) {
		t.Errorf("matchers %v", got)
	}
	// Before Alertmanager 0.22 there was no isEqual: such a matcher is an equality.
	if m := list[1].Matchers[0]; !m.IsEqual || !m.IsRegex || m.String() != `instance=~"db-.*"` {
		t.Errorf("old-style matcher %+v", m)
	}
	if !list[0].EndsAt.Equal(time.Date(2026, 3, 1, 21, 20, 0, 0, time.UTC)) || list[0].Comment != "disk cleanup scheduled, ticket OPS-1234" {
		t.Errorf("fields %+v", list[0])
	}
}

func TestCreateSilenceChecks(t *testing.T) {
	am := newFakeAM(t, "[]")
	p, _ := newTestPoller(t, []string{am.URL}, nil)
	good := Silence{Matchers: []Matcher{{Name: "alertname", Value: "X", IsEqual: true}}, EndsAt: t0.Add(time.Hour), CreatedBy: "a", Comment: "c"}
	tests := []struct {
		name string
		mod  func(*Silence)
		want string
	}{
		{"no matchers", func(s *Silence) { s.Matchers = nil }, "at least one matcher"},
		{"only negative", func(s *Silence) { s.Matchers = []Matcher{{Name: "a", Value: "b"}} }, "would mute every alert"},
		{"empty value", func(s *Silence) { s.Matchers = []Matcher{{Name: "a", IsEqual: true}} }, "would mute every alert"},
		{"nameless", func(s *Silence) { s.Matchers = append(s.Matchers, Matcher{Value: "x", IsEqual: true}) }, "matcher 2 has no label name"},
		{"no end", func(s *Silence) { s.EndsAt = time.Time{} }, "needs an end time"},
		{"ends before start", func(s *Silence) { s.StartsAt = t0.Add(2 * time.Hour) }, "before it starts"},
		{"no author", func(s *Silence) { s.CreatedBy = " " }, "name of whoever"},
		{"no comment", func(s *Silence) { s.Comment = "" }, "comment"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := good
			s.Matchers = slices.Clone(good.Matchers)
			tc.mod(&s)
			_, err := p.CreateSilence(context.Background(), s)
			e := asError(t, err, KindBadRequest)
			if !strings.Contains(e.Msg, tc.want) {
				t.Errorf("msg %q, want %q", e.Msg, tc.want)
			}
		})
	}
	if n := am.hits.Load(); n != 0 {
		t.Errorf("%d requests sent for refused silences", n)
	}
	if err := p.ExpireSilence(context.Background(), ""); err == nil {
		t.Error("expired an empty ID")
	}
}

// TestSilenceWritesGoToFirstAnsweringPeer: writes fail over to the next peer when one is
// unreachable, but not when the server refuses the silence itself.
func TestSilenceWritesGoToFirstAnsweringPeer(t *testing.T) {
	s := Silence{Matchers: []Matcher{{Name: "alertname", Value: "X", IsEqual: true}}, EndsAt: t0.Add(time.Hour), CreatedBy: "a", Comment: "c"}
	t.Run("unreachable first peer", func(t *testing.T) {
		down := newFakeAM(t, "[]")
		down.setFault(reply(503, "text/plain", "unavailable"))
		up := newFakeAM(t, "[]")
		p, _ := newTestPoller(t, []string{refusedURL(t), down.URL, up.URL}, nil)
		id, err := p.CreateSilence(context.Background(), s)
		if err != nil || id != "sil-1" {
			t.Fatalf("id %q err %v", id, err)
		}
		if down.hits.Load() != 1 || up.hits.Load() != 1 {
			t.Errorf("hits: down %d up %d", down.hits.Load(), up.hits.Load())
		}
		if err := p.ExpireSilence(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("peers that answered the last poll go first", func(t *testing.T) {
		down := newFakeAM(t, "[]")
		down.setFault(reply(503, "text/plain", "unavailable"))
		up := newFakeAM(t, "[]")
		p, _ := newTestPoller(t, []string{down.URL, up.URL}, nil)
		if _, err := p.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		before := down.hits.Load()
		if _, err := p.CreateSilence(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		if down.hits.Load() != before {
			t.Error("asked the peer that was down first")
		}
	})
	t.Run("a refusal ends the search", func(t *testing.T) {
		refusing := newFakeAM(t, "[]")
		refusing.setFault(reply(400, "application/json", `"Failed to create silence: end time can't be in the past"`))
		other := newFakeAM(t, "[]")
		p, _ := newTestPoller(t, []string{refusing.URL, other.URL}, nil)
		_, err := p.CreateSilence(context.Background(), s)
		e := asError(t, err, KindBadRequest)
		if !strings.Contains(e.Msg, "end time can't be in the past") || other.hits.Load() != 0 {
			t.Errorf("msg %q, other peer hit %d times", e.Msg, other.hits.Load())
		}
	})
	t.Run("not found on one peer tries the next", func(t *testing.T) {
		a, b := newFakeAM(t, "[]"), newFakeAM(t, "[]")
		p, _ := newTestPoller(t, []string{a.URL, b.URL}, nil)
		pb, _ := newTestPoller(t, []string{b.URL}, nil)
		id, err := pb.CreateSilence(context.Background(), s) // known to b only: not yet gossiped
		if err != nil {
			t.Fatal(err)
		}
		if err := p.ExpireSilence(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		if a.hits.Load() != 1 {
			t.Errorf("a hit %d times", a.hits.Load())
		}
	})
	t.Run("every peer down", func(t *testing.T) {
		p, _ := newTestPoller(t, refusedURLs(t, 2), nil)
		_, err := p.Silences(context.Background())
		e := asError(t, err, KindNetwork)
		if !strings.Contains(e.Msg, "could list silences") || strings.Count(e.Msg, "connection refused") != 2 {
			t.Errorf("msg %q", e.Msg)
		}
	})
}
