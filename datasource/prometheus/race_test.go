//go:build race

package prometheus

// raceEnabled widens timing allowances: the race detector slows everything down.
const raceEnabled = true
