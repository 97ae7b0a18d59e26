package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/opscockpit/opscockpit/datasource"
)

// Caps on what one alert may carry. A label is an identity, so the webhook refuses a
// payload with a longer one; the poller cuts it (the fingerprint, computed by
// Alertmanager, still tells alerts apart). Annotations are prose and are cut.
const (
	MaxLabelBytes      = 16 << 10
	MaxAnnotationBytes = 64 << 10
	maxFingerprintLen  = 256
)

// peer is one Alertmanager of an HA cluster.
type peer struct {
	name    string   // short name for chips and metrics, such as "am-2"
	display string   // base URL without credentials, for messages
	host    string   // host:port
	base    *url.URL // the configured URL, credentials included, for requests

	health datasource.Health // guarded by Poller.mu
}

// conn is the HTTP machinery shared by every peer of one poller.
type conn struct {
	client   *http.Client
	scrub    *scrubber
	maxBytes int64
}

// answer is a 2xx response, read whole.
type answer struct {
	status      int
	contentType string
	body        []byte
}

// do sends one request to pr and reads the whole answer (at most maxBytes). Any
// failure, including a non-2xx status, comes back as an *Error naming the peer.
func (c *conn) do(ctx context.Context, pr *peer, what, method, path string, query url.Values, body []byte) (answer, *Error) {
	u := *pr.base
	u.User = nil // sent below as basic auth, as net/http would, but kept out of the URL
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawPath = ""
	q := pr.base.Query()
	for k, vs := range query {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return answer{}, c.newError(KindBadRequest, 0, pr, nil, "cannot build a request to %s", pr.display)
	}
	if ui := pr.base.User; ui != nil {
		if _, set := req.Header["Authorization"]; !set {
			pass, _ := ui.Password()
			req.SetBasicAuth(ui.Username(), pass)
		}
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return answer{}, c.classifyTransport(ctx, pr, err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type")}
	if resp.ContentLength > c.maxBytes {
		return answer{}, c.classifyTransport(ctx, pr, &errTooLarge{limit: c.maxBytes})
	}
	a.body, err = readCapped(resp.Body, resp.ContentLength, c.maxBytes)
	if err != nil {
		return answer{}, c.classifyTransport(ctx, pr, err)
	}
	if a.status < 200 || a.status > 299 {
		return answer{}, c.classifyStatus(pr, what, a.status, a.contentType, a.body)
	}
	return a, nil
}

// readCapped reads r to its end, failing with errTooLarge as soon as it passes max
// bytes, so an oversized answer costs at most max bytes of memory.
func readCapped(r io.Reader, size, max int64) ([]byte, error) {
	if size >= 0 {
		buf := make([]byte, size)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		var one [1]byte
		if n, _ := r.Read(one[:]); n > 0 {
			return nil, io.ErrUnexpectedEOF // longer than announced: not a sound answer
		}
		return buf, nil
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, &errTooLarge{limit: max}
	}
	return b, nil
}

// apiAlert is one element of GET /api/v2/alerts (gettableAlert in Alertmanager's
// OpenAPI spec); fields the cockpit does not show are left out.
type apiAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	UpdatedAt    time.Time         `json:"updatedAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
	Status       struct {
		State       string   `json:"state"`
		SilencedBy  []string `json:"silencedBy"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status"`
}

// decodeAPIAlerts turns a GET /api/v2/alerts body into alerts of source as of now. An
// alert without a usable fingerprint is skipped and its reason counted in skipped; a
// body that is not a JSON array of alerts is an error (a json or time error).
func decodeAPIAlerts(body []byte, source string, now time.Time) (alerts []datasource.Alert, skipped map[string]int, err error) {
	raw, ok := fastAlerts(body)
	if !ok {
		if err := json.Unmarshal(body, &raw); err != nil {
			return nil, nil, err
		}
	}
	alerts = make([]datasource.Alert, 0, len(raw))
	for i := range raw {
		a, reason := convertAPIAlert(&raw[i], source, now)
		if reason != "" {
			if skipped == nil {
				skipped = map[string]int{}
			}
			skipped[reason]++
			continue
		}
		alerts = append(alerts, a)
	}
	return alerts, skipped, nil
}

// convertAPIAlert maps one API alert; a non-empty reason says why it is unusable.
func convertAPIAlert(r *apiAlert, source string, now time.Time) (datasource.Alert, string) {
	switch {
	case r.Fingerprint == "":
		return datasource.Alert{}, reasonMissingFingerprint
	case len(r.Fingerprint) > maxFingerprintLen:
		return datasource.Alert{}, reasonBadAlert
	}
	a := datasource.Alert{
		Fingerprint:  r.Fingerprint,
		Labels:       cutValues(r.Labels, MaxLabelBytes),
		Annotations:  cutValues(r.Annotations, MaxAnnotationBytes),
		StartsAt:     r.StartsAt,
		EndsAt:       r.EndsAt,
		UpdatedAt:    r.UpdatedAt,
		GeneratorURL: truncate(r.GeneratorURL, MaxLabelBytes),
		Source:       source,
		State:        datasource.StateFiring,
	}
	// "active" and "unprocessed" (received, not yet through the pipeline) both fire; a
	// state this version does not know is shown rather than hidden.
	if r.Status.State == "suppressed" {
		a.State = datasource.StateSuppressed
		a.SilencedBy = ids(r.Status.SilencedBy)
		a.InhibitedBy = ids(r.Status.InhibitedBy)
	}
	if !a.EndsAt.IsZero() && a.EndsAt.Before(now) {
		a.State = datasource.StateResolved
	}
	return a, ""
}

// ids copies a list of silence or alert IDs; empty is nil.
func ids(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s != "" {
			out = append(out, truncate(s, maxFingerprintLen))
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// cutValues returns m, with names and values longer than n bytes cut (in a copy only
// when one is).
func cutValues(m map[string]string, n int) map[string]string {
	for k, v := range m {
		if len(k) > n || len(v) > n {
			out := make(map[string]string, len(m))
			for k, v := range m {
				out[truncate(k, n)] = truncate(v, n)
			}
			return out
		}
	}
	return m
}

// mergeAlerts joins the peers' alert lists, one alert per fingerprint (even within one
// list, which a broken server could repeat): the one with the newest UpdatedAt, and on
// a tie the one seen first. Order is first
// appearance, so the result is the same for the same answers.
func mergeAlerts(lists [][]datasource.Alert) []datasource.Alert {
	if len(lists) == 0 {
		return nil
	}
	total := 0
	for _, l := range lists {
		total += len(l)
	}
	out := make([]datasource.Alert, 0, len(lists[0]))
	at := make(map[string]int, len(lists[0]))
	for _, l := range lists {
		for _, a := range l {
			i, seen := at[a.Fingerprint]
			switch {
			case !seen:
				at[a.Fingerprint] = len(out)
				out = append(out, a)
			case a.UpdatedAt.After(out[i].UpdatedAt):
				out[i] = a
			}
		}
	}
	return out
}
