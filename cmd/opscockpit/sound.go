package main

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
)

// alarm plays a short two-tone chime for a new critical alert through the platform's
// own player (PulseAudio or ALSA on Linux, afplay on macOS, PowerShell on Windows).
// Fyne has no audio; a missing player is logged once, never an error on screen.
type alarm struct {
	log  *slog.Logger
	once sync.Once
	file string
	cmd  []string
	busy sync.Mutex
}

func (a *alarm) setup() {
	f, err := os.CreateTemp("", "opscockpit-alarm-*.wav")
	if err != nil {
		a.log.Warn("alarm sound unavailable", "err", err)
		return
	}
	_, err = f.Write(chime())
	f.Close()
	if err != nil {
		a.log.Warn("alarm sound unavailable", "err", err)
		return
	}
	a.file = f.Name()
	switch runtime.GOOS {
	case "darwin":
		a.cmd = []string{"afplay", a.file}
	case "windows":
		a.cmd = []string{"powershell", "-NoProfile", "-Command", "(New-Object Media.SoundPlayer '" + filepath.Clean(a.file) + "').PlaySync()"}
	default:
		for _, p := range []string{"paplay", "pw-play", "aplay"} {
			if _, err := exec.LookPath(p); err == nil {
				a.cmd = []string{p, a.file}
				break
			}
		}
	}
	if a.cmd == nil {
		a.log.Warn("alarm sound enabled but no audio player found (paplay, pw-play or aplay)")
	}
}

// Play starts the chime in the background; a chime already playing is not doubled.
func (a *alarm) Play() {
	a.once.Do(a.setup)
	if a.cmd == nil || !a.busy.TryLock() {
		return
	}
	go func() {
		defer a.busy.Unlock()
		if err := exec.Command(a.cmd[0], a.cmd[1:]...).Run(); err != nil {
			a.log.Warn("alarm sound failed", "player", a.cmd[0], "err", err)
		}
	}()
}

// chime is a 16-bit mono WAV: two 0.18 s tones (880 Hz, 660 Hz) with soft edges.
func chime() []byte {
	const rate = 22050
	var pcm bytes.Buffer
	for _, freq := range []float64{880, 660} {
		n := int(0.18 * rate)
		for i := range n {
			env := math.Min(1, math.Min(float64(i), float64(n-i))/(0.01*rate))
			v := 0.5 * env * math.Sin(2*math.Pi*freq*float64(i)/rate)
			binary.Write(&pcm, binary.LittleEndian, int16(v*math.MaxInt16))
		}
	}
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(36 + pcm.Len()))
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(uint16(1)) // PCM
	w(uint16(1)) // mono
	w(uint32(rate))
	w(uint32(rate * 2))
	w(uint16(2))
	w(uint16(16))
	b.WriteString("data")
	w(uint32(pcm.Len()))
	b.Write(pcm.Bytes())
	return b.Bytes()
}
