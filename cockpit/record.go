package cockpit

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/history"
)

// HistorySource is the name under which the history database shows on the health chips.
const HistorySource = "history db"

// RecordHistory writes every alert state change the hub publishes to store until ctx
// ends. A failing store is shown as a down "history db" chip, never a crash; the
// changes of that moment are retried with the next snapshot's.
func RecordHistory(ctx context.Context, hub *Hub, store history.Store, clk clock.Clock, log *slog.Logger) {
	sub := hub.Subscribe()
	defer sub.Close()
	var (
		tr      history.Tracker
		pending []history.Event
		down    bool
		seen    []datasource.Alert
	)
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-sub.C():
			// Panel-only snapshots share the previous alert list: nothing to compare.
			if s.AlertFeeds == 0 || sameList(s.Alerts, seen) {
				continue
			}
			seen = s.Alerts
			pending = append(pending, tr.Observe(s.Alerts, s.At)...)
			if len(pending) == 0 {
				continue
			}
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := store.Append(wctx, pending)
			cancel()
			h := datasource.Health{Source: HistorySource, Kind: "sqlite", State: datasource.HealthUp, LastSuccess: clk.Now()}
			if err != nil {
				log.Error("alert history not saved; will retry", "events", len(pending), "err", err)
				h.State, h.LastError, h.ErrorSince = datasource.HealthDown, Truncate(fmt.Sprintf("NOT SAVED: %v", err), MaxErrorLen), clk.Now()
				down = true
				hub.SetHealth(h)
				if len(pending) > 100_000 { // bound memory through a long outage: keep the newest
					pending = pending[len(pending)-100_000:]
				}
				continue
			}
			pending = pending[:0]
			if down {
				down = false
				hub.SetHealth(h)
			}
		}
	}
}

// Silencer mirrors an acknowledgement as a silence upstream.
type Silencer interface {
	Silence(ctx context.Context, a datasource.Alert, by, comment string, d time.Duration) (id string, err error)
}

// Acker records acknowledgements: in the store first (an ack that is not saved did not
// happen), then on screen, optionally mirrored as a silence.
type Acker struct {
	Hub      *Hub
	Store    history.Store
	Clock    clock.Clock
	Silencer Silencer // nil: acks are local only
}

// Ack acknowledges alert a on behalf of by. With silenceFor > 0 and a Silencer, the
// alert is also silenced upstream for that long; if that fails the ack still stands and
// the error says the silence was not made.
func (k *Acker) Ack(ctx context.Context, a datasource.Alert, by, comment string, silenceFor time.Duration) error {
	if by == "" {
		return fmt.Errorf("ack %s: say who is taking it", a.Name())
	}
	ack := history.Ack{Fingerprint: a.Fingerprint, Name: a.Name(), By: by, At: k.Clock.Now(), Comment: comment}
	var silenceErr error
	if silenceFor > 0 {
		if k.Silencer == nil {
			silenceErr = fmt.Errorf("ack %s recorded, but no Alertmanager is configured to silence it", a.Name())
		} else if id, err := k.Silencer.Silence(ctx, a, by, comment, silenceFor); err != nil {
			silenceErr = fmt.Errorf("ack %s recorded, but the silence was not created: %w", a.Name(), err)
		} else {
			ack.SilenceID = id
		}
	}
	if err := k.Store.PutAck(ctx, ack); err != nil {
		return fmt.Errorf("ack %s NOT SAVED: %w", a.Name(), err)
	}
	k.Hub.SetAck(ack)
	return silenceErr
}

// LoadAcks puts the acks of the last day on screen (at start-up).
func (k *Acker) LoadAcks(ctx context.Context) error {
	acks, err := k.Store.Acks(ctx, k.Clock.Now().Add(-24*time.Hour))
	if err != nil {
		return err
	}
	for _, a := range acks {
		k.Hub.SetAck(a)
	}
	return nil
}

// sameList reports whether a and b are the very same list (the hub reuses its sorted
// alert list between snapshots when no alert changed).
func sameList(a, b []datasource.Alert) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
