package prometheus

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/prometheus/client_golang/api"
)

// limitTransport refuses response bodies over max bytes: at once when Content-Length
// says so, else as soon as the count passes it while reading, so an oversized answer
// costs at most max bytes of memory and is not read to its end.
type limitTransport struct {
	next http.RoundTripper
	max  int64
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > t.max {
		resp.Body.Close()
		return nil, &errTooLarge{limit: t.max}
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.max, limit: t.max}
	return resp, nil
}

// limitedBody reads at most left bytes, then fails with errTooLarge if more follow.
type limitedBody struct {
	rc    io.ReadCloser
	left  int64
	limit int64
	err   error
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.left < int64(len(p)) {
		p = p[:b.left+1] // one byte more than allowed tells "over" from "exactly at"
	}
	n, err := b.rc.Read(p)
	if int64(n) > b.left {
		n = int(b.left)
		b.left = 0
		b.err = &errTooLarge{limit: b.limit}
		return n, b.err
	}
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// apiClient is the api.Client client_golang's v1 API runs on. It is ours rather than
// api.NewClient's so that the body is read in bounded chunks (never more than the cap
// plus one chunk for an oversized answer, where bytes.Buffer's doubling would reach
// twice the cap), and so that the status and first bytes of each answer are kept for
// error messages, which v1 does not return.
type apiClient struct {
	endpoint *url.URL
	hc       *http.Client
}

var _ api.Client = (*apiClient)(nil)

// URL joins an endpoint path such as /api/v1/query onto the source's base URL, the
// way api.NewClient's client does.
func (c *apiClient) URL(ep string, args map[string]string) *url.URL {
	components := strings.Split(path.Join(c.endpoint.Path, ep), "/")
	for i, component := range components {
		if !strings.HasPrefix(component, ":") {
			continue
		}
		if val, ok := args[component[1:]]; ok {
			components[i] = val
		}
	}
	u := *c.endpoint
	u.Path = strings.Join(components, "/")
	return &u
}

// Do sends req and reads the whole body, recording what it saw in the context's exchange.
func (c *apiClient) Do(ctx context.Context, req *http.Request) (*http.Response, []byte, error) {
	resp, err := c.hc.Do(req.WithContext(ctx))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	x := exchangeFrom(ctx)
	if x == nil {
		x = &exchange{}
	}
	x.status, x.contentType, x.bytes, x.head = resp.StatusCode, resp.Header.Get("Content-Type"), 0, nil
	body, err := readBody(resp.Body, resp.ContentLength, x)
	return resp, body, err
}

const (
	firstChunk = 32 << 10
	maxChunk   = 4 << 20
	headLen    = 512
)

// readBody reads r to its end in chunks that grow to at most maxChunk and joins them
// once at the end; the exchange gets the byte count and the first headLen bytes.
func readBody(r io.Reader, size int64, x *exchange) ([]byte, error) {
	if size >= 0 && size <= maxChunk {
		// The common small answer with a Content-Length: one exact allocation.
		buf := make([]byte, size+1)
		n, err := fill(r, buf)
		x.bytes = int64(n)
		x.head = bytes.Clone(buf[:min(n, headLen)])
		switch err {
		case io.EOF:
			return buf[:n], nil
		case nil:
			// Longer than announced: read the rest in chunks.
			return readChunks(r, [][]byte{buf[:n]}, x)
		default:
			return nil, err
		}
	}
	return readChunks(r, nil, x)
}

func readChunks(r io.Reader, chunks [][]byte, x *exchange) ([]byte, error) {
	size := firstChunk
	var total int
	for _, c := range chunks {
		total += len(c)
	}
	var err error
	for {
		buf := make([]byte, size)
		var n int
		n, err = fill(r, buf)
		if n > 0 {
			chunks = append(chunks, buf[:n])
			total += n
			x.bytes = int64(total)
			if x.head == nil {
				x.head = bytes.Clone(buf[:min(n, headLen)])
			}
		}
		if err != nil {
			break
		}
		size = min(size*2, maxChunk)
	}
	if err != io.EOF {
		return nil, err // drop what was read: the caller fails anyway
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	out := make([]byte, 0, total)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out, nil
}

// fill reads into buf until it is full or r fails; unlike io.ReadFull it passes r's
// errors through as they are, so a body cut short (io.ErrUnexpectedEOF from net/http)
// is not mistaken for a short read at the end (io.EOF).
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
