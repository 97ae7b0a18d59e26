package session

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// BenchmarkFollowTenFollowers: the commander changes its view, 10 followers on
// loopback mirror it. Each change is timed from Publish (State.At, on the wall clock)
// to OnState in every follower: "p99-ms" is the p99 over all deliveries, against a
// bound of 250 ms. The baseline, measured in the same run with the same 10 readers'
// work (read, decode the same JSON), is a bare gorilla loop: one goroutine writing
// each message to each connection in turn. "ratio" is our p99 over the baseline's.
func BenchmarkFollowTenFollowers(b *testing.B) {
	const followers, changes = 10, 100
	var ours, base []float64
	for range b.N {
		base = append(base, benchBare(b, followers, changes)...)
		ours = append(ours, benchSession(b, followers, changes)...)
	}
	p99, baseP99 := percentile(ours, 0.99), percentile(base, 0.99)
	b.ReportMetric(p99, "p99-ms")
	b.ReportMetric(baseP99, "baseline-p99-ms")
	b.ReportMetric(p99/baseP99, "ratio")
	b.ReportMetric(percentile(ours, 0.5), "p50-ms")
	b.ReportMetric(percentile(base, 0.5), "baseline-p50-ms")
	if p99 > 250 {
		b.Errorf("p99 publish → follower %.1f ms, over the 250 ms bound", p99)
	}
}

func percentile(ms []float64, q float64) float64 {
	s := slices.Clone(ms)
	slices.Sort(s)
	return s[min(int(float64(len(s))*q), len(s)-1)]
}

func benchState(i int) State {
	return State{
		Incident: "INC-2026-0042", Layout: "triage", Alert: fmt.Sprintf("%016x", i*7919),
		RunbookRoot: "ops", RunbookPath: "databases/postgres/failover.md", RunbookAnchor: fmt.Sprint("step-", i%9),
		Extra: map[string]string{"theme": "dark", "offset": fmt.Sprint(i, "s")},
	}
}

// benchSession runs the real Server and Followers; it returns one latency per delivery.
func benchSession(b *testing.B, followers, changes int) []float64 {
	ts := startServer(b, "127.0.0.1:0", ServerOptions{})
	defer ts.stop()
	var mu sync.Mutex
	var lat []float64
	last := make([]chan uint64, followers)
	for i := range followers {
		last[i] = make(chan uint64, changes+1)
		rec := newRecorder()
		rf := startFollower(b, ts.wsURL(), testToken, func(o *FollowerOptions) {
			o.OnState = func(st State) {
				if st.Seq > 0 {
					d := float64(time.Since(st.At)) / float64(time.Millisecond)
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}
				last[i] <- st.Seq
			}
			o.OnStatus = rec.onStatus
		})
		// Stopped before the server stops: no reconnect storm during the next phase.
		defer func() { _ = rf.stop() }()
		<-last[i] // the resync
	}
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	var seq uint64
	for i := range changes {
		<-tick.C
		seq = ts.srv.Publish(benchState(i))
	}
	for i := range followers {
		for got := uint64(0); got < seq; {
			select {
			case got = <-last[i]:
			case <-time.After(10 * time.Second):
				b.Fatalf("follower %d stuck at seq %d of %d", i, got, seq)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return lat
}

// benchBare is the baseline: gorilla's minimum, no auth, queues, keepalive or resync.
func benchBare(b *testing.B, followers, changes int) []float64 {
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
	defer hs.Close()
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + Path
	lat := make([][]float64, followers)
	var wg sync.WaitGroup
	for i := range followers {
		ws, _, err := dialRaw(b, url, nil)
		if err != nil {
			b.Fatal(err)
		}
		wg.Go(func() {
			defer ws.Close()
			for range changes {
				_, data, err := ws.ReadMessage()
				if err != nil {
					b.Errorf("bare reader %d: %v", i, err)
					return
				}
				var m message
				if err := json.Unmarshal(data, &m); err != nil || m.State == nil {
					b.Errorf("bare reader %d: %v", i, err)
					return
				}
				lat[i] = append(lat[i], float64(time.Since(m.State.At))/float64(time.Millisecond))
			}
		})
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		mu.Lock()
		n := len(conns)
		mu.Unlock()
		if n == followers {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("bare readers did not connect")
		}
	}
	tick := time.NewTicker(2 * time.Millisecond)
	for i := range changes {
		<-tick.C
		st := benchState(i)
		st.Seq, st.At = uint64(i+1), time.Now()
		data, err := encodeState("bare", st)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range conns {
			_ = c.WriteMessage(websocket.TextMessage, data)
		}
	}
	tick.Stop()
	wg.Wait()
	for _, c := range conns {
		c.Close()
	}
	var out []float64
	for _, l := range lat {
		out = append(out, l...)
	}
	return out
}
