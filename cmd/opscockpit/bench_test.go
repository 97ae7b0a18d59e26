package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkP11ColdStart measures process start to first frame (QUALITY.md P11): the
// cockpit on the embedded demo against a Fyne hello-world, both built in this run and
// both quitting once their first frame is up. It needs a display (make bench runs it
// under xvfb-run).
func BenchmarkP11ColdStart(b *testing.B) {
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		b.Skip("no display: run under xvfb-run (make bench)")
	}
	dir := b.TempDir()
	ours, hello := filepath.Join(dir, "opscockpit"), filepath.Join(dir, "hello")
	for bin, pkg := range map[string]string{ours: ".", hello: "./testdata/hello"} {
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			b.Fatalf("build %s: %v\n%s", pkg, err, out)
		}
	}
	b.Setenv("XDG_CONFIG_HOME", dir) // no user config: the embedded demo
	start := func(bin string, args ...string) time.Duration {
		t := time.Now()
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			b.Fatalf("%s: %v\n%s", bin, err, out)
		}
		return time.Since(t)
	}
	start(ours, "--exit-after-first-frame") // warm the page cache for both
	start(hello)
	var oursTotal, helloTotal time.Duration
	b.ResetTimer()
	for range b.N {
		oursTotal += start(ours, "--exit-after-first-frame", "--log-level", "error")
		helloTotal += start(hello)
	}
	b.StopTimer()
	n := time.Duration(b.N)
	b.ReportMetric(float64(oursTotal)/float64(helloTotal), "ratio")
	b.ReportMetric(float64(oursTotal/n)/float64(time.Millisecond), "ms")
	b.ReportMetric(float64(helloTotal/n)/float64(time.Millisecond), "baseline-ms")
}
