// Package prometheus reads metrics from any Prometheus-compatible HTTP API.
package prometheus

import (
	_ "github.com/prometheus/client_golang/api"
	_ "github.com/prometheus/client_golang/api/prometheus/v1"
	_ "github.com/prometheus/client_golang/prometheus"
)
