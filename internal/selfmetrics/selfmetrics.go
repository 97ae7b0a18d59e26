// Package selfmetrics holds what every part that reports the cockpit's own health
// shares when registering its collectors on an injected registry.
package selfmetrics

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers c on reg, or returns the equal collector registered before, so
// that several sources of one kind can share their collectors on one registry. A clash
// of names with different help or labels is a programming error that any test wiring
// the collectors together catches, so it panics.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic(err)
}
