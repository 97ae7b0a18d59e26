package alertmanager

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/opscockpit/opscockpit/datasource"
)

// Matcher is one label matcher of a silence: Name = Value when IsEqual and not IsRegex,
// != when neither, =~ and !~ for regular expressions. The zero IsEqual means "not
// equal", so build positive matchers with IsEqual: true (MatchersForAlert does).
type Matcher struct {
	Name    string
	Value   string
	IsRegex bool
	IsEqual bool
}

// String prints the matcher in Alertmanager's syntax, such as severity="critical".
func (m Matcher) String() string {
	op := "="
	switch {
	case m.IsEqual && m.IsRegex:
		op = "=~"
	case !m.IsEqual && m.IsRegex:
		op = "!~"
	case !m.IsEqual:
		op = "!="
	}
	return m.Name + op + fmt.Sprintf("%q", m.Value)
}

// Silence is an Alertmanager silence. State is "active", "pending" or "expired" as the
// server reports it; it is ignored when creating one.
type Silence struct {
	ID        string
	Matchers  []Matcher
	StartsAt  time.Time
	EndsAt    time.Time
	CreatedBy string
	Comment   string
	State     string
}

// Silence states as Alertmanager reports them.
const (
	SilenceActive  = "active"
	SilencePending = "pending"
	SilenceExpired = "expired"
)

// MatchersForAlert returns equality matchers for an alert's labels, sorted by name, so
// a silence made from them mutes exactly that alert. Labels named in exclude are left
// out, to silence more widely (such as every instance: exclude "instance").
func MatchersForAlert(labels map[string]string, exclude ...string) []Matcher {
	out := make([]Matcher, 0, len(labels))
	for name, value := range labels {
		if slices.Contains(exclude, name) {
			continue
		}
		out = append(out, Matcher{Name: name, Value: value, IsEqual: true})
	}
	slices.SortFunc(out, func(a, b Matcher) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// apiSilence is Alertmanager's gettableSilence and postableSilence.
type apiSilence struct {
	ID        string       `json:"id,omitempty"`
	Matchers  []apiMatcher `json:"matchers"`
	StartsAt  time.Time    `json:"startsAt"`
	EndsAt    time.Time    `json:"endsAt"`
	CreatedBy string       `json:"createdBy"`
	Comment   string       `json:"comment"`
	Status    *struct {
		State string `json:"state"`
	} `json:"status,omitempty"`
}

type apiMatcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual *bool  `json:"isEqual"` // absent before Alertmanager 0.22: then "="
}

// Silences lists the cluster's silences, as the first peer that answers knows them
// (peers share silences by gossip): active first, then pending, then expired.
func (p *Poller) Silences(ctx context.Context) ([]Silence, error) {
	a, err := p.onFirstPeer(ctx, "list silences", func(ctx context.Context, pr *peer) (answer, *Error) {
		return p.conn.do(ctx, pr, "list silences", http.MethodGet, "/api/v2/silences", nil, nil)
	})
	if err != nil {
		return nil, err
	}
	var raw []apiSilence
	if err := json.Unmarshal(a.answer.body, &raw); err != nil {
		return nil, p.conn.classifyDecode(a.peer, a.answer.status, a.answer.contentType, a.answer.body, err)
	}
	out := make([]Silence, 0, len(raw))
	for _, r := range raw {
		s := Silence{ID: r.ID, StartsAt: r.StartsAt, EndsAt: r.EndsAt, CreatedBy: r.CreatedBy, Comment: r.Comment}
		if r.Status != nil {
			s.State = r.Status.State
		}
		for _, m := range r.Matchers {
			eq := m.IsEqual == nil || *m.IsEqual
			s.Matchers = append(s.Matchers, Matcher{Name: m.Name, Value: m.Value, IsRegex: m.IsRegex, IsEqual: eq})
		}
		out = append(out, s)
	}
	rank := map[string]int{SilenceActive: 0, SilencePending: 1, SilenceExpired: 2}
	slices.SortStableFunc(out, func(a, b Silence) int {
		ra, oka := rank[a.State]
		rb, okb := rank[b.State]
		if !oka {
			ra = 3
		}
		if !okb {
			rb = 3
		}
		return cmp.Compare(ra, rb)
	})
	return out, nil
}

// CreateSilence creates s on the first peer that answers and returns its ID. StartsAt
// defaults to now; EndsAt, CreatedBy, Comment and at least one positive matcher with a
// value are required. With s.ID set, it replaces that silence, as Alertmanager does.
func (p *Poller) CreateSilence(ctx context.Context, s Silence) (string, error) {
	if s.StartsAt.IsZero() {
		s.StartsAt = p.clk.Now()
	}
	if err := p.checkSilence(s); err != nil {
		return "", err
	}
	body := apiSilence{ID: s.ID, StartsAt: s.StartsAt.UTC(), EndsAt: s.EndsAt.UTC(), CreatedBy: s.CreatedBy, Comment: s.Comment}
	for _, m := range s.Matchers {
		eq := m.IsEqual
		body.Matchers = append(body.Matchers, apiMatcher{Name: m.Name, Value: m.Value, IsRegex: m.IsRegex, IsEqual: &eq})
	}
	b, err := json.Marshal(body)
	if err != nil {
		return "", fmt.Errorf("alertmanager %s: encode silence: %w", p.name, err)
	}
	a, err := p.onFirstPeer(ctx, "create a silence", func(ctx context.Context, pr *peer) (answer, *Error) {
		return p.conn.do(ctx, pr, "create a silence", http.MethodPost, "/api/v2/silences", nil, b)
	})
	if err != nil {
		return "", err
	}
	var out struct {
		SilenceID string `json:"silenceID"`
	}
	if err := json.Unmarshal(a.answer.body, &out); err != nil {
		return "", p.conn.classifyDecode(a.peer, a.answer.status, a.answer.contentType, a.answer.body, err)
	}
	if out.SilenceID == "" {
		return "", p.conn.newError(KindBadResponse, a.answer.status, a.peer, nil, "%s created a silence but sent back no ID", a.peer.display)
	}
	p.log.Info("alertmanager: silence created", "source", p.name, "peer", a.peer.name, "id", out.SilenceID,
		"created_by", s.CreatedBy, "ends_at", s.EndsAt)
	return out.SilenceID, nil
}

// checkSilence refuses, before sending it, a silence Alertmanager would refuse.
func (p *Poller) checkSilence(s Silence) error {
	bad := func(format string, args ...any) error {
		return p.conn.newError(KindBadRequest, 0, nil, nil, "silence not created: "+format, args...)
	}
	positive := false
	for i, m := range s.Matchers {
		if m.Name == "" {
			return bad("matcher %d has no label name", i+1)
		}
		positive = positive || (m.IsEqual && m.Value != "")
	}
	switch {
	case len(s.Matchers) == 0:
		return bad("it needs at least one matcher")
	case !positive:
		return bad("it needs at least one = or =~ matcher with a value, or it would mute every alert")
	case s.EndsAt.IsZero():
		return bad("it needs an end time")
	case !s.EndsAt.After(s.StartsAt):
		return bad("it ends (%s) before it starts (%s)", s.EndsAt.Format(time.RFC3339), s.StartsAt.Format(time.RFC3339))
	case strings.TrimSpace(s.CreatedBy) == "":
		return bad("it needs the name of whoever creates it")
	case strings.TrimSpace(s.Comment) == "":
		return bad("it needs a comment saying why")
	}
	return nil
}

// ExpireSilence ends the silence with the given ID now. A peer that does not know the
// ID (not yet gossiped to it) passes the request to the next.
func (p *Poller) ExpireSilence(ctx context.Context, id string) error {
	if strings.TrimSpace(id) == "" {
		return p.conn.newError(KindBadRequest, 0, nil, nil, "no silence ID to expire")
	}
	path := "/api/v2/silence/" + url.PathEscape(id)
	_, err := p.onFirstPeer(ctx, "expire a silence", func(ctx context.Context, pr *peer) (answer, *Error) {
		a, e := p.conn.do(ctx, pr, "expire a silence", http.MethodDelete, path, nil, nil)
		// Alertmanager answers 404, or before 0.27 a 500 "silence not found".
		if e != nil && (e.Status == http.StatusNotFound || e.Status == http.StatusInternalServerError && strings.Contains(e.Msg, "silence not found")) {
			status := e.Status
			e = p.conn.newError(KindBadRequest, status, pr, nil, "%s knows no silence %s", pr.display, truncate(id, 64))
			e.notFound = true
		}
		return a, e
	})
	if err != nil {
		return err
	}
	p.log.Info("alertmanager: silence expired", "source", p.name, "id", id)
	return nil
}

// peerAnswer is an answer and the peer that gave it.
type peerAnswer struct {
	answer answer
	peer   *peer
}

// onFirstPeer makes a request to one peer after another until one answers: peers that
// answered the last poll first. A refusal that another peer would repeat (bad request,
// auth) ends the search at once; "not found" does not, as gossip may not have
// reached that peer yet.
func (p *Poller) onFirstPeer(ctx context.Context, what string, req func(context.Context, *peer) (answer, *Error)) (peerAnswer, error) {
	p.mu.Lock()
	order := slices.Clone(p.peers)
	rank := func(pr *peer) int {
		switch pr.health.State {
		case datasource.HealthUp:
			return 0
		case datasource.HealthUnknown:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(order, func(a, b *peer) int { return cmp.Compare(rank(a), rank(b)) })
	p.mu.Unlock()

	var errs []*Error
	for _, pr := range order {
		rctx, cancel := context.WithTimeout(ctx, p.timeout)
		a, e := req(rctx, pr)
		cancel()
		if e == nil {
			return peerAnswer{answer: a, peer: pr}, nil
		}
		if err := ctx.Err(); err != nil {
			return peerAnswer{}, e
		}
		errs = append(errs, e)
		if !e.Retryable() && !e.notFound && e.Status != http.StatusNotFound { // not gossiped there yet?
			return peerAnswer{}, e
		}
	}
	if len(errs) == 1 {
		return peerAnswer{}, errs[0]
	}
	parts := make([]string, len(errs))
	causes := make([]error, len(errs))
	for i, e := range errs {
		parts[i] = e.Peer + ": " + e.Msg
		causes[i] = e
	}
	last := errs[len(errs)-1]
	return peerAnswer{}, &Error{Kind: last.Kind, Status: last.Status, notFound: last.notFound,
		Msg:   truncate(fmt.Sprintf("no Alertmanager of %s could %s: %s", p.name, what, strings.Join(parts, "; ")), MaxErrorLen),
		cause: errors.Join(causes...)}
}
