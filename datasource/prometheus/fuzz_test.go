package prometheus

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/opscockpit/opscockpit/datasource"
)

// bodyTransport answers every request in memory with one status and body.
type bodyTransport struct {
	status      int
	body        []byte
	knownLength bool
}

func (b *bodyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	n := int64(-1)
	if b.knownLength {
		n = int64(len(b.body))
	}
	return &http.Response{
		StatusCode:    b.status,
		Status:        http.StatusText(b.status),
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(b.body)),
		ContentLength: n,
		Request:       req,
		ProtoMajor:    1, ProtoMinor: 1,
	}, nil
}

var fuzzStatuses = []int{200, 400, 422, 503, 502, 401, 403, 404, 204, 500, 302, 429}

var knownKinds = map[Kind]bool{
	KindBadQuery: true, KindAuth: true, KindTLS: true, KindUnavailable: true,
	KindBadResponse: true, KindTooLarge: true, KindTimeout: true, KindNetwork: true,
}

// FuzzDecodeResponse feeds arbitrary answers through the whole client path (client_golang's
// decoding, our caps and conversion). Invariants: no panic; an error is an *Error of a known
// kind with a short one-line message; a result respects the series and label caps, and a
// range result sits exactly on the requested grid.
func FuzzDecodeResponse(f *testing.F) {
	seeds := []string{
		success("vector", `[{"metric":{"__name__":"up","job":"api"},"value":[1772366400,"1"]}]`, ""),
		success("vector", `[{"metric":{"s":"a"},"value":[1772366400,"NaN"]},{"metric":{"s":"b"},"value":[1772366400,"+Inf"]},{"metric":{"s":"c"},"value":[1772366400,"-Inf"]}]`, ""),
		success("matrix", `[{"metric":{"__name__":"up"},"values":[[1772366400,"1"],[1772366460,"2"],[1772366700,"3"]]}]`, `,"warnings":["w"],"infos":["i"]`),
		success("scalar", `[1772366400,"3.5"]`, ""),
		success("string", `[1772366400,"x"]`, ""),
		success("vector", `[]`, ""),
		success("vector", `[{"metric":{"__name__":"h"},"histogram":[1772366400,{"count":"10","sum":"3.5","buckets":[[0,"0","1","10"]]}]}]`, ""),
		success("matrix", `[{"metric":{"__name__":"h"},"histograms":[[1772366400,{"count":"1","sum":"1","buckets":[]}]]}]`, ""),
		success("vector", `[{"metric":{"a":"1"},"value":[1,"1"]},{"metric":{"a":"2"},"value":[1,"1"]},{"metric":{"a":"3"},"value":[1,"1"]},{"metric":{"a":"4"},"value":[1,"1"]},{"metric":{"a":"5"},"value":[1,"1"]},{"metric":{"a":"6"},"value":[1,"1"]}]`, ""),
		success("vector", `[{"metric":{"long":"`+strings.Repeat("ü", 40)+`"},"value":[1,"1"]}]`, ""),
		errJSON("bad_data", "parse error: unexpected end of input"),
		errJSON("execution", "too many samples"),
		`<html><head><title>502 Bad Gateway</title></head></html>`,
		`not json at all`,
		``,
		`{"status":"success"}`,
		`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[-9223372036854775,"1"],[9223372036854775,"2"]]}]}}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s), i%2 == 0)
	}
	f.Fuzz(func(t *testing.T, code uint8, body []byte, rangeQuery bool) {
		status := fuzzStatuses[int(code)%len(fuzzStatuses)]
		clk := newFakeClock()
		opts := Options{Name: "fuzz", URL: "http://prom.invalid:9090", Now: clk.Now, MaxSeries: 5, MaxLabelLen: 16, MaxResponseBytes: 16 << 10}
		src, err := newSource(opts, &bodyTransport{status: status, body: body, knownLength: code&0x80 != 0})
		if err != nil {
			t.Fatal(err)
		}
		r := datasource.Range{Start: t0.Add(-5 * time.Minute), End: t0, Step: time.Minute}
		var res datasource.Result
		if rangeQuery {
			res, err = src.QueryRange(context.Background(), "up", r)
		} else {
			res, err = src.Query(context.Background(), "up", t0)
		}
		if err != nil {
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if !knownKinds[e.Kind] {
				t.Fatalf("unknown kind %q", e.Kind)
			}
			if len(e.Msg) > MaxErrorLen || !utf8.ValidString(e.Msg) || strings.ContainsAny(e.Msg, "\n\r") {
				t.Fatalf("bad message (%d bytes): %q", len(e.Msg), e.Msg)
			}
			if h := src.Health(); h.State == datasource.HealthDown && h.LastError != e.Msg {
				t.Fatalf("health error %q differs from %q", h.LastError, e.Msg)
			}
			return
		}
		if len(res.Series) > opts.MaxSeries {
			t.Fatalf("%d series, cap %d", len(res.Series), opts.MaxSeries)
		}
		for _, s := range res.Series {
			if s.Labels == nil {
				t.Fatal("nil labels")
			}
			for k, v := range s.Labels {
				for _, l := range []string{k, v} {
					n := utf8.RuneCountInString(l)
					if n > opts.MaxLabelLen+1 || (n == opts.MaxLabelLen+1 && !strings.HasSuffix(l, "…")) {
						t.Fatalf("label %q has %d runes, cap %d", l, n, opts.MaxLabelLen)
					}
				}
			}
			if rangeQuery {
				if len(s.Samples) != 6 {
					t.Fatalf("%d samples on a 6-step grid", len(s.Samples))
				}
				for i, smp := range s.Samples {
					if !smp.T.Equal(r.Start.Add(time.Duration(i) * r.Step)) {
						t.Fatalf("sample %d at %v is off the grid", i, smp.T)
					}
				}
			}
		}
		if len(res.Warnings) > maxWarnings+3 {
			t.Fatalf("%d warnings", len(res.Warnings))
		}
		for _, w := range res.Warnings {
			if len(w) > MaxErrorLen || !utf8.ValidString(w) {
				t.Fatalf("bad warning %q", w)
			}
		}
	})
}
