package prometheus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/opscockpit/opscockpit/datasource"
)

func TestNewValidates(t *testing.T) {
	const secret = "SENTINEL-url-pass-7c1f"
	clk := newFakeClock()
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no name", Options{URL: "http://127.0.0.1:9090", Now: clk.Now}, "name is required"},
		{"no clock", Options{Name: "p", URL: "http://127.0.0.1:9090"}, "Now is required"},
		{"bad scheme", Options{Name: "p", URL: "ftp://127.0.0.1", Now: clk.Now}, "http:// or https://"},
		{"no host", Options{Name: "p", URL: "http://", Now: clk.Now}, "no host"},
		{"api suffix", Options{Name: "p", URL: "http://h:9090/api/v1/", Now: clk.Now}, "leave out /api/v1"},
		{"unparsable with password", Options{Name: "p", URL: "http://u:" + secret + "@ho st:9090", Now: clk.Now}, "invalid URL"},
		{"scheme with password", Options{Name: "p", URL: "ftp://u:" + secret + "@host", Now: clk.Now}, "http:// or https://"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			assertNoSecret(t, "New error", err.Error(), secret)
		})
	}
}

// M1: a server answering 503 turns the source down from the first failure on, keeps
// its last success, and recovers as soon as it answers again.
func TestM1UnavailableThenRecovery(t *testing.T) {
	srv := newFaultServer(t, reply(503, "text/plain", "upstream connect error"))
	src, clk := newTestSource(t, srv.URL, nil)
	if h := src.Health(); h.State != datasource.HealthUnknown || h.Kind != "prometheus" || h.Source != "test" {
		t.Fatalf("initial health = %+v", h)
	}

	srv.set(okJSON("vector", `[{"metric":{"__name__":"up"},"value":[1772366400,"1"]}]`))
	if _, err := src.Query(context.Background(), "up", t0); err != nil {
		t.Fatal(err)
	}
	lastGood := clk.Now()

	srv.set(reply(503, "text/plain", "upstream connect error"))
	clk.Advance(15 * time.Second)
	firstFail := clk.Now()
	for i := range 4 {
		_, err := src.Query(context.Background(), "up", t0)
		e := asError(t, err, KindUnavailable)
		if e.Status != 503 || !e.Retryable() || !IsRetryable(err) {
			t.Fatalf("attempt %d: status %d retryable %v", i, e.Status, e.Retryable())
		}
		if !strings.Contains(e.Msg, "503") || !strings.Contains(e.Msg, "upstream connect error") {
			t.Errorf("message %q should name the status and the server's words", e.Msg)
		}
		h := src.Health()
		if h.State != datasource.HealthDown || !h.ErrorSince.Equal(firstFail) || !h.LastSuccess.Equal(lastGood) || h.LastError != e.Msg {
			t.Fatalf("attempt %d: health = %+v", i, h)
		}
		clk.Advance(15 * time.Second)
	}

	srv.set(okJSON("vector", `[{"metric":{"__name__":"up"},"value":[1772366400,"1"]}]`))
	res, err := src.Query(context.Background(), "up", t0)
	if err != nil || len(res.Series) != 1 {
		t.Fatalf("after recovery: %v, %+v", err, res)
	}
	h := src.Health()
	if h.State != datasource.HealthUp || !h.LastSuccess.Equal(clk.Now()) || !h.ErrorSince.IsZero() || h.LastError != "" {
		t.Fatalf("after recovery health = %+v", h)
	}
}

// M2: a server that never answers, or answers a byte at a time, costs a query no more
// than its deadline.
func TestM2DeadlineBoundsQuery(t *testing.T) {
	blackhole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held sync.WaitGroup
	var conns sync.Map
	go func() {
		for {
			c, err := blackhole.Accept()
			if err != nil {
				return
			}
			conns.Store(c, true) // accept, then never answer
		}
	}()
	t.Cleanup(func() {
		blackhole.Close()
		conns.Range(func(k, _ any) bool { k.(net.Conn).Close(); return true })
		held.Wait()
	})

	trickle := newFaultServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		body := success("vector", `[]`, "")
		for i := 0; ; i++ {
			w.Write([]byte{body[i%len(body)]})
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	noHeaders := newFaultServer(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})

	const deadline = 400 * time.Millisecond
	slack := 500 * time.Millisecond
	if raceEnabled {
		slack = 2 * time.Second
	}
	tests := []struct {
		name, url string
	}{
		{"blackholed", "http://" + blackhole.Addr().String()},
		{"no response headers", noHeaders.URL},
		{"trickling body", trickle.URL},
	}
	for _, tc := range tests {
		for _, typ := range []string{"instant", "range"} {
			t.Run(tc.name+"/"+typ, func(t *testing.T) {
				src, _ := newTestSource(t, tc.url, nil)
				ctx := ctxTimeout(t, deadline)
				start := time.Now()
				var err error
				if typ == "instant" {
					_, err = src.Query(ctx, "up", t0)
				} else {
					_, err = src.QueryRange(ctx, "up", datasource.Range{Start: t0.Add(-time.Hour), End: t0, Step: time.Minute})
				}
				elapsed := time.Since(start)
				e := asError(t, err, KindTimeout)
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Error("a timeout should unwrap to context.DeadlineExceeded for the poller")
				}
				if !e.Retryable() {
					t.Error("a timeout should be retryable")
				}
				if elapsed < deadline-10*time.Millisecond || elapsed > deadline+slack {
					t.Errorf("query took %v, want about %v", elapsed, deadline)
				}
				if h := src.Health(); h.State != datasource.HealthDown || h.LastError == "" {
					t.Errorf("health = %+v, want down", h)
				}
				t.Logf("%s: ended after %v: %s", tc.name, elapsed.Round(time.Millisecond), e.Msg)
			})
		}
	}
}

// M3: an answer over the size cap is aborted while it streams, quickly and without
// holding more than the cap in memory.
func TestM3OversizedResponse(t *testing.T) {
	const total = 200 << 20
	var written atomic.Int64
	stream := func(contentLength bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			written.Store(0)
			w.Header().Set("Content-Type", "application/json")
			if contentLength {
				w.Header().Set("Content-Length", strconv.Itoa(total))
			}
			head := `{"status":"success","data":{"resultType":"vector","result":[`
			item := `{"metric":{"__name__":"http_requests_total","pod":"checkout-7d9f8b6c5-x2x9q"},"value":[1772366400,"1"]},`
			chunk := []byte(strings.Repeat(item, (64<<10)/len(item)))
			n, _ := io.WriteString(w, head)
			sent := int64(n)
			for sent < total-int64(len(chunk)) {
				n, err := w.Write(chunk)
				sent += int64(n)
				written.Store(sent)
				if err != nil {
					return
				}
			}
			io.WriteString(w, strings.Repeat(" ", int(total-sent-4))+`]}}`)
		}
	}
	tests := []struct {
		name          string
		contentLength bool
	}{
		{"chunked stream", false},
		{"announced length", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFaultServer(t, stream(tc.contentLength))
			src, _ := newTestSource(t, srv.URL, nil)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := src.Query(ctxTimeout(t, 30*time.Second), "http_requests_total", t0)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			e := asError(t, err, KindTooLarge)
			if e.Msg != "result too large (> 64 MiB); narrow the query" {
				t.Errorf("message = %q", e.Msg)
			}
			if e.Retryable() {
				t.Error("too large is not worth retrying unchanged")
			}
			allocated := after.TotalAlloc - before.TotalAlloc
			if allocated > 100<<20 {
				t.Errorf("allocated %d MiB while refusing the answer, want < 100 MiB", allocated>>20)
			}
			limit := 10 * time.Second
			if raceEnabled {
				limit = 20 * time.Second
			}
			if elapsed > limit {
				t.Errorf("took %v to refuse", elapsed)
			}
			if w := written.Load(); w > 100<<20 {
				t.Errorf("server got to write %d MiB: the body was not abandoned", w>>20)
			}
			if h := src.Health(); h.State != datasource.HealthUp {
				t.Errorf("an oversized answer is the panel's problem, health = %+v", h)
			}
			t.Logf("refused after %v, %d MiB allocated, server wrote %d MiB", elapsed.Round(time.Millisecond), allocated>>20, written.Load()>>20)
		})
	}
}

func TestSizeCapSmall(t *testing.T) {
	body := success("vector", `[{"metric":{"a":"`+strings.Repeat("x", 2000)+`"},"value":[1,"1"]}]`, "")
	srv := newFaultServer(t, okJSON("vector", `[]`))
	tests := []struct {
		name    string
		max     int64
		body    string
		wantErr bool
	}{
		{"exactly at the cap", int64(len(body)), body, false},
		{"one byte over", int64(len(body)) - 1, body, true},
		{"far over", 1024, body, true},
	}
	for _, tc := range tests {
		for _, cl := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/content-length=%v", tc.name, cl), func(t *testing.T) {
				srv.set(func(w http.ResponseWriter, r *http.Request) {
					if cl {
						w.Header().Set("Content-Length", strconv.Itoa(len(tc.body)))
					}
					w.Header().Set("Content-Type", "application/json")
					io.WriteString(w, tc.body)
				})
				src, _ := newTestSource(t, srv.URL, func(o *Options) { o.MaxResponseBytes = tc.max })
				_, err := src.Query(context.Background(), "x", t0)
				if !tc.wantErr {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				e := asError(t, err, KindTooLarge)
				if !strings.Contains(e.Msg, "result too large (> ") {
					t.Errorf("message %q", e.Msg)
				}
			})
		}
	}
}

// M4: warnings and infos on a 200 come with the data.
func TestM4Warnings(t *testing.T) {
	srv := newFaultServer(t, reply(200, "application/json", success("vector",
		`[{"metric":{"__name__":"up","job":"api"},"value":[1772366400,"1"]}]`,
		`,"warnings":["partial response: store gateway eu-1 unreachable"],"infos":["PromQL info: metric might not be a counter"]`)))
	src, _ := newTestSource(t, srv.URL, nil)
	res, err := src.Query(context.Background(), "up", t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Series) != 1 || res.Series[0].Samples[0].V != 1 {
		t.Fatalf("data missing: %+v", res)
	}
	want := []string{"partial response: store gateway eu-1 unreachable", "PromQL info: metric might not be a counter"}
	if fmt.Sprint(res.Warnings) != fmt.Sprint(want) {
		t.Fatalf("warnings = %q, want %q", res.Warnings, want)
	}
	if h := src.Health(); h.State != datasource.HealthUp {
		t.Fatalf("health %+v", h)
	}

	// A flood of warnings is capped.
	many := make([]string, 50)
	for i := range many {
		many[i] = strconv.Quote(strings.Repeat("w", 5000))
	}
	srv.set(reply(200, "application/json", success("vector", `[]`, `,"warnings":[`+strings.Join(many, ",")+`]`)))
	res, err = src.Query(context.Background(), "up", t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != maxWarnings+1 || res.Warnings[maxWarnings] != "and 40 more warnings" {
		t.Fatalf("got %d warnings, last %q", len(res.Warnings), res.Warnings[len(res.Warnings)-1])
	}
	for _, w := range res.Warnings {
		if len(w) > MaxErrorLen {
			t.Fatalf("warning of %d bytes", len(w))
		}
	}
}

// M5: refusals and junk become typed errors with short messages.
func TestM5ErrorKinds(t *testing.T) {
	bigHTML := "<html><head><title>502 Bad Gateway</title></head><body>" + strings.Repeat("<p>nginx upstream trouble</p>\n", 2000) + "</body></html>"
	tests := []struct {
		name      string
		h         http.HandlerFunc
		kind      Kind
		status    int
		retryable bool
		contains  string
	}{
		{"400 bad_data", reply(400, "application/json", errJSON("bad_data", `invalid parameter "query": 1:8: parse error: unclosed left parenthesis`)),
			KindBadQuery, 400, false, "parse error: unclosed left parenthesis"},
		{"422 execution", reply(422, "application/json", errJSON("execution", "query processing would load too many samples into memory in query execution")),
			KindBadQuery, 422, false, "too many samples"},
		{"400 huge message", reply(400, "application/json", errJSON("bad_data", strings.Repeat("very long parse error ", 2000))),
			KindBadQuery, 400, false, "very long parse error"},
		{"400 not JSON", reply(400, "text/plain", "Bad Request: header too large"),
			KindBadQuery, 400, false, "header too large"},
		{"200 status error bad_data", reply(200, "application/json", errJSON("bad_data", "unknown function")),
			KindBadQuery, 200, false, "unknown function"},
		{"404 wrong path", reply(404, "text/plain", "404 page not found"),
			KindBadQuery, 404, false, "check the source URL"},
		{"502 HTML", reply(502, "text/html", bigHTML),
			KindUnavailable, 502, true, "502 Bad Gateway"},
		{"503 query timeout", reply(503, "application/json", errJSON("timeout", "query timed out in expression evaluation")),
			KindUnavailable, 503, true, "query timed out in expression evaluation"},
		{"500 megabyte line", reply(500, "text/plain", strings.Repeat("x", 1<<20)),
			KindUnavailable, 500, true, "HTTP 500"},
		{"429 rate limited", reply(429, "text/plain", "slow down"),
			KindUnavailable, 429, true, "overloaded"},
		{"200 not JSON", reply(200, "text/plain", "hello, this is not a Prometheus"),
			KindBadResponse, 200, true, "not a Prometheus API response"},
		{"200 HTML login page", reply(200, "text/html", "<!DOCTYPE html><html><head><title>Sign in – Corp SSO</title></head><body>"+strings.Repeat("x", 5000)+"</body></html>"),
			KindBadResponse, 200, true, "Sign in – Corp SSO"},
		{"200 empty", reply(200, "application/json", ""),
			KindBadResponse, 200, true, "empty body"},
		{"200 truncated JSON", reply(200, "application/json", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{}`),
			KindBadResponse, 200, true, "malformed"},
		{"200 string result", okJSON("string", `[1772366400,"hello"]`),
			KindBadResponse, 200, true, "string"},
		{"200 unknown result type", okJSON("histogram", `[]`),
			KindBadResponse, 200, true, "histogram"},
		{"200 no data", reply(200, "application/json", `{"status":"success"}`),
			KindBadResponse, 200, true, "no result"},
	}
	srv := newFaultServer(t, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.set(tc.h)
			src, _ := newTestSource(t, srv.URL, nil)
			for _, typ := range []string{"instant", "range"} {
				var err error
				if typ == "instant" {
					_, err = src.Query(context.Background(), "sum(rate(x[5m]", t0)
				} else {
					_, err = src.QueryRange(context.Background(), "sum(rate(x[5m]", datasource.Range{Start: t0.Add(-time.Hour), End: t0, Step: time.Minute})
				}
				e := asError(t, err, tc.kind)
				if tc.status != 0 && e.Status != tc.status {
					t.Errorf("%s: status = %d, want %d", typ, e.Status, tc.status)
				}
				if e.Retryable() != tc.retryable || IsRetryable(fmt.Errorf("wrapped: %w", err)) != tc.retryable {
					t.Errorf("%s: retryable = %v, want %v", typ, e.Retryable(), tc.retryable)
				}
				if !strings.Contains(e.Msg, tc.contains) {
					t.Errorf("%s: message %q should contain %q", typ, e.Msg, tc.contains)
				}
				if !utf8.ValidString(e.Msg) || strings.ContainsAny(e.Msg, "\n\r\t") {
					t.Errorf("%s: message is not one clean line: %q", typ, e.Msg)
				}
			}
			t.Log(src.Health().LastError)
		})
	}
}

func TestIsRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"unknown error", errors.New("boom"), true},
		{"auth", &Error{Kind: KindAuth}, false},
		{"wrapped bad query", fmt.Errorf("panel x: %w", &Error{Kind: KindBadQuery}), false},
		{"tls", &Error{Kind: KindTLS}, false},
		{"too large", &Error{Kind: KindTooLarge}, false},
		{"unavailable", &Error{Kind: KindUnavailable}, true},
		{"bad response", &Error{Kind: KindBadResponse}, true},
		{"timeout", &Error{Kind: KindTimeout}, true},
		{"network", &Error{Kind: KindNetwork}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsRetryable(tc.err); got != tc.want {
				t.Fatalf("IsRetryable = %v, want %v", got, tc.want)
			}
			// The poller asks datasource.Retryable, which must agree for every error.
			if tc.err != nil && datasource.Retryable(tc.err) != tc.want {
				t.Fatalf("datasource.Retryable = %v, want %v", !tc.want, tc.want)
			}
		})
	}
}

func TestNetworkErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := l.Addr().String()
	l.Close()
	reset := newFaultServer(t, func(w http.ResponseWriter, r *http.Request) {
		c, _, _ := w.(http.Hijacker).Hijack()
		c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"status\":"))
		c.Close()
	})
	tests := []struct {
		name, url, contains string
		kind                Kind
	}{
		{"refused", "http://" + closedAddr, "connection refused", KindNetwork},
		{"cut short", reset.URL, "closed before a full answer", KindNetwork},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, _ := newTestSource(t, tc.url, nil)
			_, err := src.Query(ctxTimeout(t, 5*time.Second), "up", t0)
			e := asError(t, err, tc.kind)
			if !strings.Contains(e.Msg, tc.contains) || !e.Retryable() {
				t.Fatalf("message %q should contain %q; retryable %v", e.Msg, tc.contains, e.Retryable())
			}
			t.Log(e.Msg)
		})
	}
}

// M7: odd values, no series, too many series, huge labels.
func TestM7Values(t *testing.T) {
	tenK := make([]string, 10000)
	for i := range tenK {
		tenK[i] = fmt.Sprintf(`{"metric":{"__name__":"x","i":"%d"},"value":[1772366400,"%d"]}`, i, i)
	}
	longLabel := strings.Repeat("é", 10000)
	tests := []struct {
		name   string
		h      http.HandlerFunc
		series int
		check  func(t *testing.T, res datasource.Result)
	}{
		{"NaN and infinities", okJSON("vector", `[
			{"metric":{"s":"nan"},"value":[1772366400,"NaN"]},
			{"metric":{"s":"pinf"},"value":[1772366400,"+Inf"]},
			{"metric":{"s":"ninf"},"value":[1772366400,"-Inf"]}]`), 3,
			func(t *testing.T, res datasource.Result) {
				got := map[string]float64{}
				for _, s := range res.Series {
					got[s.Labels["s"]] = s.Samples[0].V
				}
				if !math.IsNaN(got["nan"]) || !math.IsInf(got["pinf"], 1) || !math.IsInf(got["ninf"], -1) {
					t.Fatalf("values = %v", got)
				}
			}},
		{"zero series", okJSON("vector", `[]`), 0, func(t *testing.T, res datasource.Result) {
			if res.Series != nil || res.Warnings != nil {
				t.Fatalf("want an empty result, got %+v", res)
			}
		}},
		{"null result", okJSON("vector", `null`), 0, nil},
		{"10,000 series", okJSON("vector", "["+strings.Join(tenK, ",")+"]"), 1000, func(t *testing.T, res datasource.Result) {
			if len(res.Warnings) != 1 || res.Warnings[0] != "showing 1,000 of 10,000 series" {
				t.Fatalf("warnings = %q", res.Warnings)
			}
			if res.Series[999].Labels["i"] != "999" {
				t.Fatalf("kept the wrong series: %v", res.Series[999].Labels)
			}
		}},
		{"10,000-char label", okJSON("vector", `[{"metric":{"__name__":"x","long":"`+longLabel+`"},"value":[1772366400,"1"]}]`), 1,
			func(t *testing.T, res datasource.Result) {
				v := res.Series[0].Labels["long"]
				if utf8.RuneCountInString(v) != DefaultMaxLabelLen+1 || !strings.HasSuffix(v, "…") || !strings.HasPrefix(v, "éé") {
					t.Fatalf("label cut to %d runes: %q…", utf8.RuneCountInString(v), v[:20])
				}
				if res.Series[0].Labels["__name__"] != "x" {
					t.Fatal("__name__ must stay in the labels")
				}
			}},
		{"scalar", okJSON("scalar", `[1772366400.5,"42.5"]`), 1, func(t *testing.T, res datasource.Result) {
			s := res.Series[0]
			if len(s.Labels) != 0 || s.Labels == nil || s.Samples[0].V != 42.5 || !s.Samples[0].T.Equal(t0.Add(500*time.Millisecond)) {
				t.Fatalf("scalar = %+v", s)
			}
		}},
		{"vector keeps the returned time", okJSON("vector", `[{"metric":{"a":"b"},"value":[1772366401.25,"3"]}]`), 1, func(t *testing.T, res datasource.Result) {
			if s := res.Series[0].Samples; len(s) != 1 || !s[0].T.Equal(t0.Add(1250*time.Millisecond)) || s[0].V != 3 {
				t.Fatalf("samples = %+v", s)
			}
		}},
		{"native histogram", okJSON("vector", `[{"metric":{"__name__":"h"},"histogram":[1772366400,{"count":"10","sum":"3.5","buckets":[[0,"0","1","10"]]}]}]`), 1,
			func(t *testing.T, res datasource.Result) {
				if !math.IsNaN(res.Series[0].Samples[0].V) || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "native histograms") {
					t.Fatalf("got %+v", res)
				}
			}},
	}
	srv := newFaultServer(t, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.set(tc.h)
			src, _ := newTestSource(t, srv.URL, nil)
			res, err := src.Query(context.Background(), "x", t0)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Series) != tc.series {
				t.Fatalf("%d series, want %d", len(res.Series), tc.series)
			}
			if tc.check != nil {
				tc.check(t, res)
			}
		})
	}
}

func TestMatrixOnGrid(t *testing.T) {
	start, step := t0, 10*time.Second
	r := datasource.Range{Start: start, End: start.Add(100 * time.Second), Step: step}
	ts := func(i int, off time.Duration) string {
		return strconv.FormatFloat(float64(start.Add(time.Duration(i)*step+off).UnixMilli())/1000, 'f', -1, 64)
	}
	// Steps 0,1,2,5,6,10 present (6 a few ms off the grid), 3,4,7,8,9 missing, plus a
	// sample before the window and one after it that must be ignored.
	body := fmt.Sprintf(`[{"metric":{"__name__":"up","job":"a"},"values":[[%s,"-1"],[%s,"0"],[%s,"1"],[%s,"2"],[%s,"5"],[%s,"6"],[%s,"10"],[%s,"99"]]},
		{"metric":{"__name__":"up","job":"empty"},"values":[]}]`,
		ts(-3, 0), ts(0, 0), ts(1, 0), ts(2, 0), ts(5, 0), ts(6, 3*time.Millisecond), ts(10, 0), ts(14, 0))
	srv := newFaultServer(t, okJSON("matrix", body))
	src, _ := newTestSource(t, srv.URL, nil)
	res, err := src.QueryRange(context.Background(), `up{job=~"a|empty"}`, r)
	if err != nil {
		t.Fatal(err)
	}
	form := srv.lastForm()
	if got := form["step"]; len(got) != 1 || got[0] != "10" {
		t.Errorf("step sent = %v", got)
	}
	if got := form["start"]; len(got) != 1 || got[0] != strconv.FormatInt(start.Unix(), 10) {
		t.Errorf("start sent = %v", got)
	}
	if len(res.Series) != 2 {
		t.Fatalf("%d series", len(res.Series))
	}
	want := []float64{0, 1, 2, math.NaN(), math.NaN(), 5, 6, math.NaN(), math.NaN(), math.NaN(), 10}
	for si, s := range res.Series {
		if len(s.Samples) != len(want) {
			t.Fatalf("series %d: %d samples, want %d", si, len(s.Samples), len(want))
		}
		for i, smp := range s.Samples {
			if !smp.T.Equal(start.Add(time.Duration(i) * step)) {
				t.Fatalf("sample %d at %v, off the grid", i, smp.T)
			}
			w := want[i]
			if s.Labels["job"] == "empty" {
				w = math.NaN()
			}
			if (math.IsNaN(w) != math.IsNaN(smp.V)) || (!math.IsNaN(w) && w != smp.V) {
				t.Errorf("series %s step %d = %v, want %v", s.Labels["job"], i, smp.V, w)
			}
		}
	}
}

func TestRangeChecks(t *testing.T) {
	srv := newFaultServer(t, okJSON("matrix", `[]`))
	src, _ := newTestSource(t, srv.URL, nil)
	tests := []struct {
		name string
		r    datasource.Range
		ok   bool
	}{
		{"zero step", datasource.Range{Start: t0, End: t0.Add(time.Hour)}, false},
		{"backwards", datasource.Range{Start: t0, End: t0.Add(-time.Hour), Step: time.Second}, false},
		{"too many points", datasource.Range{Start: t0, End: t0.Add(11000 * time.Second), Step: time.Second}, false},
		{"most points", datasource.Range{Start: t0, End: t0.Add(10999 * time.Second), Step: time.Second}, true},
		{"single point", datasource.Range{Start: t0, End: t0, Step: time.Second}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := srv.hits.Load()
			_, err := src.QueryRange(context.Background(), "up", tc.r)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			asError(t, err, KindBadQuery)
			if srv.hits.Load() != before {
				t.Error("a range we know is bad should not be sent")
			}
		})
	}
}

// One keep-alive client: sequential queries share a connection, concurrent ones use
// at most one per query in flight.
func TestConnectionReuse(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(okJSON("vector", `[{"metric":{},"value":[1772366400,"1"]}]`))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	src, _ := newTestSource(t, srv.URL, nil)
	for range 20 {
		if _, err := src.Query(context.Background(), "up", t0); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("20 sequential queries opened %d connections, want 1", n)
	}
	conns.Store(0)
	for range 5 {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, err := src.Query(context.Background(), "up", t0); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	if n := conns.Load(); n > 8 {
		t.Fatalf("5 rounds of 8 concurrent queries opened %d new connections, want ≤ 8", n)
	}
}

func TestCancelledQueryLeavesHealthAlone(t *testing.T) {
	srv := newFaultServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	src, _ := newTestSource(t, srv.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := src.Query(ctx, "up", t0)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if h := src.Health(); h.State != datasource.HealthUnknown {
		t.Fatalf("a cancelled query changed health: %+v", h)
	}
}

func TestReadBody(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1<<20) // 10 MiB, several chunks
	tests := []struct {
		name string
		size int64
		n    int
	}{
		{"unknown size, many chunks", -1, len(data)},
		{"unknown size, small", -1, 10},
		{"known size", 1000, 1000},
		{"known size zero", 0, 0},
		{"known size over a chunk", -1, maxChunk + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := &exchange{}
			got, err := readBody(bytes.NewReader(data[:tc.n]), tc.size, x)
			if err != nil || !bytes.Equal(got, data[:tc.n]) || x.bytes != int64(tc.n) {
				t.Fatalf("err %v, %d bytes (want %d), counted %d", err, len(got), tc.n, x.bytes)
			}
		})
	}
}

// A zero HTTPConfig means prometheus/common's defaults, as if http_config were left out
// of prometheus.yml: redirects are followed.
func TestZeroHTTPConfigFollowsRedirects(t *testing.T) {
	target := newFaultServer(t, okJSON("vector", `[{"metric":{},"value":[1772366400,"7"]}]`))
	front := newFaultServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path+"?"+r.Form.Encode(), http.StatusFound)
	})
	src, _ := newTestSource(t, front.URL, nil)
	res, err := src.Query(context.Background(), "up", t0)
	if err != nil || len(res.Series) != 1 || res.Series[0].Samples[0].V != 7 {
		t.Fatalf("err %v, result %+v", err, res)
	}
}

func TestAlertRules(t *testing.T) {
	srv := newFaultServer(t, reply(200, "application/json", `{"status":"success","data":{"groups":[
		{"name":"a","file":"r.yml","interval":30,"rules":[
			{"type":"alerting","name":"DiskFull","query":"x > 1","duration":60,"labels":{},"annotations":{},"alerts":[],"health":"ok","evaluationTime":0.001,"lastEvaluation":"2026-12-07T03:00:00Z","state":"inactive"},
			{"type":"recording","name":"job:up:sum","query":"sum(up)","labels":{},"health":"ok","evaluationTime":0.001,"lastEvaluation":"2026-12-07T03:00:00Z"}]},
		{"name":"b","file":"r.yml","interval":30,"rules":[
			{"type":"alerting","name":"ApiDown","query":"up == 0","duration":0,"labels":{},"annotations":{},"alerts":[],"health":"ok","evaluationTime":0.001,"lastEvaluation":"2026-12-07T03:00:00Z","state":"inactive"},
			{"type":"alerting","name":"DiskFull","query":"y > 1","duration":0,"labels":{},"annotations":{"runbook_url":"https://runbooks.example/diskfull"},"alerts":[],"health":"ok","evaluationTime":0.001,"lastEvaluation":"2026-12-07T03:00:00Z","state":"inactive"}]}]}}`))
	src, _ := newTestSource(t, srv.URL, nil)
	rules, err := src.AlertRules(context.Background())
	if err != nil || len(rules) != 2 || rules[0].Name != "ApiDown" || rules[1] != (AlertRule{"DiskFull", "https://runbooks.example/diskfull"}) {
		t.Fatalf("rules %+v, err %v", rules, err)
	}
	srv.set(reply(503, "text/plain", "down"))
	if _, err := src.AlertRules(context.Background()); err == nil || !strings.Contains(err.Error(), "list rules") {
		t.Fatalf("error %v", err)
	}
}
