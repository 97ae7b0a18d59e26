//go:build unix

package stream

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/opscockpit/opscockpit/datasource"
)

// BenchmarkP9Relay: 100 websocket clients on loopback, 1,000 deltas published at
// ~1,000 messages/s. The same 100 reader goroutines and the same message bytes are
// measured against the relay (Server.Publish → per-client queues and writers) and,
// as the baseline in the same run, against a bare gorilla broadcast loop (one
// goroutine writing each message to each connection in turn).
//
// Because both are paced, wall time per delivered message is mostly the pacing; the
// "ratio" is therefore process CPU time per delivered message (ours / baseline), which
// is what the relay's design costs. "wall-ratio" is reported too. "p99-ms" (and "ms")
// is the relay's publish → client-read latency p99 over every delivery.
func BenchmarkP9Relay(b *testing.B) {
	const clients, messages = 100, 1000
	var ours, base phaseResult
	for range b.N {
		base.add(runP9Phase(b, newBareBroadcast(b), clients, messages))
		ours.add(runP9Phase(b, newRelayTarget(b), clients, messages))
	}
	ratio := ours.cpuPerMsg() / base.cpuPerMsg()
	p99 := ours.p99()
	b.ReportMetric(ratio, "ratio")
	b.ReportMetric(p99, "p99-ms")
	b.ReportMetric(p99, "ms")
	b.ReportMetric(base.p99(), "baseline-p99-ms")
	b.ReportMetric(ours.wallPerMsg()/base.wallPerMsg(), "wall-ratio")
	b.ReportMetric(ours.cpuPerMsg(), "cpu-ns/delivered")
	b.ReportMetric(base.cpuPerMsg(), "baseline-cpu-ns/delivered")
	b.Logf("relay: cpu %.0f ns/delivered, p99 %.2f ms; bare broadcast: cpu %.0f ns/delivered, p99 %.2f ms",
		ours.cpuPerMsg(), p99, base.cpuPerMsg(), base.p99())
}

type phaseResult struct {
	delivered int
	wall, cpu time.Duration
	latencies []float64 // ms
}

func (p *phaseResult) add(q phaseResult) {
	p.delivered += q.delivered
	p.wall += q.wall
	p.cpu += q.cpu
	p.latencies = append(p.latencies, q.latencies...)
}

func (p *phaseResult) cpuPerMsg() float64  { return float64(p.cpu) / float64(p.delivered) }
func (p *phaseResult) wallPerMsg() float64 { return float64(p.wall) / float64(p.delivered) }
func (p *phaseResult) p99() float64 {
	slices.Sort(p.latencies)
	return p.latencies[len(p.latencies)*99/100]
}

// p9Target is a server under test: where clients connect, how many are in, and how a
// message is published.
type p9Target struct {
	url       string
	connected func() int
	publish   func(i int, at time.Time)
	close     func()
}

func p9Alert(i int, at time.Time) datasource.Alert {
	a := mkAlert(fmt.Sprint("fp", i%100), datasource.StateFiring, 0)
	a.UpdatedAt, a.Source = at, "am"
	a.Labels["instance"] = fmt.Sprintf("10.0.%d.%d:9100", i%7, i%100)
	return a
}

func newRelayTarget(b *testing.B) p9Target {
	srv := NewServer(ServerOptions{Metrics: NewMetrics(nil), Log: testLogger(io.Discard)})
	hs := httptest.NewServer(srv.Handler())
	return p9Target{
		url:       "ws" + strings.TrimPrefix(hs.URL, "http") + DefaultPath,
		connected: func() int { return srv.Stats().Clients },
		publish: func(i int, at time.Time) {
			srv.Publish(datasource.AlertEvent{Kind: datasource.Delta, Source: "am", Alerts: []datasource.Alert{p9Alert(i, at)}})
		},
		close: func() { srv.Close(); hs.Close() },
	}
}

// newBareBroadcast is the baseline: the gorilla chat example without its hub, a loop
// writing every message to every connection.
func newBareBroadcast(b *testing.B) p9Target {
	var (
		mu    sync.Mutex
		conns []*websocket.Conn
	)
	up := websocket.Upgrader{Subprotocols: []string{Subprotocol}}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		mu.Lock()
		conns = append(conns, ws)
		mu.Unlock()
	}))
	seq := uint64(0)
	return p9Target{
		url:       "ws" + strings.TrimPrefix(hs.URL, "http") + DefaultPath,
		connected: func() int { mu.Lock(); defer mu.Unlock(); return len(conns) },
		publish: func(i int, at time.Time) {
			seq++
			data, err := encodeMsg(outMsg{Type: typeDelta, Seq: seq, Alerts: []wireAlert{toWire(p9Alert(i, at))}})
			if err != nil {
				b.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, c := range conns {
				_ = c.WriteMessage(websocket.TextMessage, data)
			}
		},
		close: func() {
			mu.Lock()
			for _, c := range conns {
				c.Close()
			}
			mu.Unlock()
			hs.Close()
		},
	}
}

func runP9Phase(b *testing.B, tg p9Target, clients, messages int) phaseResult {
	b.Helper()
	defer tg.close()
	var wg sync.WaitGroup
	lat := make([][]float64, clients)
	done := make(chan int, clients)
	marker := []byte(`"updatedAt":"`)
	for c := range clients {
		ws, _, err := (&websocket.Dialer{Subprotocols: []string{Subprotocol}}).Dial(tg.url, nil)
		if err != nil {
			b.Fatal(err)
		}
		lat[c] = make([]float64, 0, messages)
		wg.Go(func() {
			defer ws.Close()
			got := 0
			for got < messages {
				_, data, err := ws.ReadMessage()
				if err != nil {
					b.Errorf("client %d after %d messages: %v", c, got, err)
					done <- got
					return
				}
				if !bytes.Contains(data, []byte(`"type":"delta"`)) {
					continue // the relay's initial (empty) snapshot
				}
				i := bytes.Index(data, marker)
				if i < 0 {
					b.Errorf("no updatedAt in %s", data)
					continue
				}
				rest := data[i+len(marker):]
				at, err := time.Parse(time.RFC3339Nano, string(rest[:bytes.IndexByte(rest, '"')]))
				if err != nil {
					b.Error(err)
					continue
				}
				lat[c] = append(lat[c], float64(time.Since(at))/float64(time.Millisecond))
				got++
			}
			done <- got
		})
	}
	for deadline := time.Now().Add(10 * time.Second); tg.connected() < clients; {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d clients connected", tg.connected(), clients)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // initial snapshots read

	cpu0 := cpuTime()
	start := time.Now()
	tick := time.NewTicker(time.Millisecond)
	for i := range messages {
		<-tick.C
		tg.publish(i, time.Now())
	}
	tick.Stop()
	delivered := 0
	for range clients {
		select {
		case n := <-done:
			delivered += n
		case <-time.After(30 * time.Second):
			b.Fatal("clients never got every message")
		}
	}
	res := phaseResult{delivered: delivered, wall: time.Since(start), cpu: cpuTime() - cpu0}
	wg.Wait()
	for _, l := range lat {
		res.latencies = append(res.latencies, l...)
	}
	if delivered != clients*messages {
		b.Fatalf("delivered %d of %d", delivered, clients*messages)
	}
	return res
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
