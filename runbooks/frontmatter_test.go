package runbooks

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestFrontMatter(t *testing.T) {
	good := `---
title: Checkout latency high
alerts: [CheckoutLatencyHigh, CheckoutLatencyCritical]
services:
  - checkout
owner: team-checkout
last_reviewed: 2026-10-01
severity: warning
escalation:
  - name: Checkout on-call
    role: primary
    contact: "pager: checkout-primary"
---
# Body
`
	t.Run("good", func(t *testing.T) {
		rb := mustParse(t, good)
		want := Meta{
			Title:        "Checkout latency high",
			Alerts:       []string{"CheckoutLatencyHigh", "CheckoutLatencyCritical"},
			Services:     []string{"checkout"},
			Owner:        "team-checkout",
			LastReviewed: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC),
			Severity:     "warning",
			Escalation:   []Contact{{Name: "Checkout on-call", Role: "primary", Contact: "pager: checkout-primary"}},
		}
		if !reflect.DeepEqual(rb.Meta, want) {
			t.Errorf("meta\n got %+v\nwant %+v", rb.Meta, want)
		}
		if len(rb.Doc.Blocks) != 1 || rb.Doc.Blocks[0].Kind != KindHeading {
			t.Errorf("body not parsed after front matter: %+v", rb.Doc.Blocks)
		}
	})

	tests := []struct {
		name     string
		src      string
		wantLine int
		wantMsg  string
	}{
		{"unknown field", "---\ntitle: x\nowner: y\nrunbook_owner: z\n---\n", 4, `unknown field "runbook_owner"`},
		{"unknown field in contact", "---\nescalation:\n  - name: a\n    phone: 123\n---\n", 4, `unknown field "phone"`},
		{"bad date", "---\ntitle: x\nlast_reviewed: 2026-13-01\n---\n", 3, `last_reviewed "2026-13-01" is not a date`},
		{"date with time", "---\nlast_reviewed: 2026-10-01T10:00:00Z\n---\n", 2, "YYYY-MM-DD"},
		{"date as list", "---\nlast_reviewed: [2026-10-01]\n---\n", 2, "last_reviewed must be a date"},
		{"wrong type", "---\nalerts: CheckoutLatencyHigh\n---\n", 2, "cannot unmarshal"},
		{"syntax error", "---\ntitle: x\n  bad: indent: here\n---\n", 3, ""},
		{"not a mapping", "---\n- a\n- b\n---\n", 2, "a mapping"},
		{"duplicate key", "---\ntitle: a\ntitle: b\n---\n", 3, "already defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.md", []byte(tc.src))
			var fe *FrontMatterError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want a *FrontMatterError", err)
			}
			if fe.Line != tc.wantLine {
				t.Errorf("line %d, want %d (%v)", fe.Line, tc.wantLine, err)
			}
			if !strings.Contains(fe.Msg, tc.wantMsg) {
				t.Errorf("message %q does not contain %q", fe.Msg, tc.wantMsg)
			}
			if msg := err.Error(); !strings.Contains(msg, "bad.md") || !strings.Contains(msg, "line ") || strings.Contains(msg, "rawMeta") {
				t.Errorf("error %q should name the file and line and hide Go types", msg)
			}
		})
	}

	others := []struct {
		name string
		src  string
		want Meta
		body int // number of blocks
	}{
		{"no front matter", "# x\n", Meta{}, 1},
		{"empty front matter", "---\n---\n# x\n", Meta{}, 1},
		{"comments only", "---\n# just a comment\n---\ntext\n", Meta{}, 1},
		{"dots close", "---\ntitle: t\n...\ntext\n", Meta{Title: "t"}, 1},
		{"unclosed is a rule", "---\ntext\n", Meta{}, 2},
		{"null date", "---\nlast_reviewed:\n---\n", Meta{}, 0},
	}
	for _, tc := range others {
		t.Run(tc.name, func(t *testing.T) {
			rb := mustParse(t, tc.src)
			if !reflect.DeepEqual(rb.Meta, tc.want) || len(rb.Doc.Blocks) != tc.body {
				t.Errorf("got meta %+v, %d blocks", rb.Meta, len(rb.Doc.Blocks))
			}
		})
	}

	t.Run("front matter size cap", func(t *testing.T) {
		src := "---\ntitle: x\n" + strings.Repeat("# padding comment line\n", MaxFrontMatter/20) + "---\n"
		_, err := Parse("big.md", []byte(src))
		var le *LimitError
		if !errors.As(err, &le) || le.What != LimitFrontMatter {
			t.Errorf("got %v, want a front matter LimitError", err)
		}
	})
}

func TestStale(t *testing.T) {
	reviewed := &Runbook{Meta: Meta{LastReviewed: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}}
	tests := []struct {
		name string
		rb   *Runbook
		now  time.Time
		want bool
	}{
		{"fresh", reviewed, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), false},
		{"exactly max age", reviewed, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC).Add(180 * 24 * time.Hour), false},
		{"old", reviewed, time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC), true},
		{"never reviewed", &Runbook{}, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), true},
		{"nil", nil, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Stale(tc.rb, tc.now, 180*24*time.Hour); got != tc.want {
				t.Errorf("Stale = %v, want %v", got, tc.want)
			}
		})
	}
}
