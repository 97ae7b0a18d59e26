// Package wsdial opens OpsCockpit's client websockets (the alert stream client and the
// follow-mode follower) with a handshake deadline that runs on the injected clock: when
// it fires, the dial is cancelled and the raw socket closed, which also ends a TLS
// handshake or an upgrade that never gets an answer (gorilla only watches a context's
// deadline, not its cancel).
package wsdial

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/opscockpit/opscockpit/clock"
)

// Options for one dial.
type Options struct {
	Clock        clock.Clock
	Timeout      time.Duration // the whole handshake: TCP, TLS and the upgrade
	Header       http.Header
	TLSConfig    *tls.Config
	Subprotocols []string
}

// Dial connects to url and upgrades. resp (when the server answered) has its body
// closed; timedOut says the handshake deadline ended the attempt.
func Dial(ctx context.Context, url string, o Options) (ws *websocket.Conn, resp *http.Response, timedOut bool, err error) {
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu      sync.Mutex
		raw     net.Conn
		aborted bool
		expired atomic.Bool
	)
	abort := func() {
		mu.Lock()
		defer mu.Unlock()
		aborted = true
		if raw != nil {
			_ = raw.Close()
		}
	}
	d := websocket.Dialer{
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			mu.Lock()
			defer mu.Unlock()
			raw = conn
			if aborted {
				_ = conn.Close()
			}
			return conn, nil
		},
		Proxy:           http.ProxyFromEnvironment,
		TLSClientConfig: o.TLSConfig,
		Subprotocols:    o.Subprotocols,
	}
	timer := o.Clock.NewTimer(o.Timeout)
	finished, guarded := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(guarded)
		select {
		case <-finished:
		case <-timer.C():
			expired.Store(true)
			cancel()
			abort()
		case <-dctx.Done():
			abort()
		}
	}()
	ws, resp, err = d.DialContext(dctx, url, o.Header)
	close(finished)
	timer.Stop()
	<-guarded
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err == nil && expired.Load() {
		_ = ws.Close()
		ws, err = nil, errors.New("timed out")
	}
	return ws, resp, expired.Load(), err
}
