// Package httpsource is what every HTTP-based source adapter shares: sorting transport
// failures (TLS, DNS, refused, reset, timeout) into causes someone can act on, turning
// error bodies and messages into one short printable line, and collecting the
// credentials of a prometheus/common http_config so that no message ever prints them.
//
// It holds mechanisms, not words: each adapter keeps its own Kind and Error types and
// phrases the messages for its own panels, because what to tell the user differs
// between a Prometheus panel and an Alertmanager status chip.
package httpsource
