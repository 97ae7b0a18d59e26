// Package session is follow mode: a commander's cockpit serves its view state (the
// selected incident, layout preset, selected alert, open runbook and a few more
// fields) over a websocket, and other cockpits follow it read-only.
//
// The Server side is fed by the commander's UI through Publish, which never waits for a
// follower; the Follower side is a client that keeps one connection up for as long as
// its Run lasts and hands each newer State to the follower's UI. Nothing here knows
// Fyne: the UI wires Publish to its own changes and OnState to fyne.Do.
//
// # Protocol (version 1)
//
// Transport. A websocket at /session (a plain GET /healthz answers "ok"). The
// handshake must carry "Authorization: Bearer <token>": a missing or wrong token is
// refused with 401, a request whose Origin header is not in the allowed list with 403
// (requests without an Origin header, i.e. every non-browser client, are allowed). The
// token never travels in the URL. Both ends negotiate the subprotocol
// "opscockpit.session.v1"; a client that offers other subprotocols only gets 400.
//
// Server → follower. Text frames, one small JSON object each, always with "v":1 and
// a "type":
//
//	{"v":1,"type":"state","instance":"9f2c…","state":{"incident":"INC-42","layout":"triage",
//	 "alert":"a1b2…","runbookRoot":"ops","runbookPath":"db/failover.md",
//	 "runbookAnchor":"promote-replica","extra":{"theme":"dark"},"seq":17,
//	 "at":"2026-03-01T12:00:00Z"}}
//	{"v":1,"type":"heartbeat","instance":"9f2c…","seq":17}
//	{"v":1,"type":"bye","instance":"9f2c…","reason":"server shutting down"}
//
// A state message carries the whole view state, never a delta, so a follower needs
// only the newest one: the server coalesces, and a follower that lags sees seq jump.
// The first message on every connection is the current state (seq 0 and empty fields
// when the commander has published nothing yet): that is the resync after a
// reconnect. After it come newer states in seq order. "instance" is random per server
// process: seq restarts at 0 when it changes, so a follower accepts a state when its
// instance differs from the last one seen, or its seq is greater, and drops it
// otherwise. Heartbeats are sent on an otherwise idle connection (every 15 s by
// default) so a follower can tell a quiet commander from a dead link; their seq is the
// last state sent on that connection. "bye" precedes a close the server chooses, with
// a human reason; the close frame's code says the same (1001 shutting down, 1008 the
// follower sent data, 1009 a frame over the read limit, 1013 the follower could not
// keep up). A follower that stopped reading may get neither before the TCP close.
//
// Caps (both ends): each string field ≤ 4 KiB, Extra ≤ 16 entries with keys ≤ 64 bytes
// and values ≤ 1 KiB. The server trims what it publishes to these; a follower drops a
// message over them (or malformed, or of another version) and stays connected.
//
// Follower → server. Nothing but control frames (pong, close, optionally ping). Any
// text or binary frame closes that follower's connection with 1008; a frame over the
// server's read limit (4 KiB by default) with 1009. Other followers are unaffected.
// The server pings every 30 s and drops a follower silent for two intervals.
//
// # Time
//
// Pings, heartbeats, the write watchdog, the follower's silence and handshake
// deadlines and its backoff all run on the injected clock.Clock. The only wall-clock
// deadlines are those gorilla's WriteControl needs for best-effort close frames.
package session
