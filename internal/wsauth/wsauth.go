// Package wsauth holds what OpsCockpit's websocket servers (the alert stream relay and
// the follow-mode session) check before they upgrade a connection: a bearer token,
// compared in constant time, and the browser Origin.
package wsauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// Tokens is a set of accepted bearer tokens, kept as SHA-256 sums so every comparison
// takes the same time whatever the token's length.
type Tokens struct {
	sums [][sha256.Size]byte
}

// NewTokens keeps the non-empty tokens (surrounding space trimmed, as token files end
// with a newline).
func NewTokens(tokens []string) Tokens {
	var t Tokens
	for _, tok := range tokens {
		if tok = strings.TrimSpace(tok); tok != "" {
			t.sums = append(t.sums, sha256.Sum256([]byte(tok)))
		}
	}
	return t
}

// Empty reports whether no token was given (the server then needs none).
func (t Tokens) Empty() bool { return len(t.sums) == 0 }

// Refusal reasons from Check, also used as metric label values.
const (
	MissingToken = "missing_token"
	InvalidToken = "invalid_token"
)

// Check says why tok may not connect ("" when it may).
func (t Tokens) Check(tok string) string {
	if tok == "" {
		return MissingToken
	}
	sum := sha256.Sum256([]byte(tok))
	match := 0
	for _, s := range t.sums {
		match |= subtle.ConstantTimeCompare(sum[:], s[:])
	}
	if match != 1 {
		return InvalidToken
	}
	return ""
}

// Bearer is the token of an "Authorization: Bearer …" header, "" when there is none.
func Bearer(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// OriginAllowed reports whether r may connect from its Origin: a request without one
// (any non-browser client) may; one with an Origin must be one of allowed exactly
// (case-insensitively), so an empty list refuses every browser.
func OriginAllowed(r *http.Request, allowed []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	for _, o := range allowed {
		if strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}
