package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"

	"github.com/opscockpit/opscockpit/config"
	"github.com/opscockpit/opscockpit/ui"
)

// uiState is what the cockpit remembers between runs: the layout last chosen.
type uiState struct {
	Layout string `json:"layout,omitempty"`
}

func uiStatePath() (string, error) {
	dir, err := config.DataDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "ui-state.json"), nil
}

// loadUIState reads the remembered state; a missing or unreadable file is an empty state.
func loadUIState(path string) uiState {
	var st uiState
	data, err := os.ReadFile(path)
	if err != nil {
		return st
	}
	if json.Unmarshal(data, &st) != nil {
		return uiState{}
	}
	return st
}

// saveUIState writes the state atomically (temp file, fsync, rename), mode 0600.
func saveUIState(path string, st uiState) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ui-state-*")
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return nil
}

// startLayout picks the layout to open with: the flag, else the one last chosen, else
// the config's, else commander.
func startLayout(flag string, remembered uiState, cfg *config.Config) (ui.Layout, error) {
	for _, s := range []string{flag, remembered.Layout, cfg.Display.Layout} {
		if s == "" {
			continue
		}
		l, err := ui.ParseLayout(s)
		if err != nil && s == flag {
			return "", fmt.Errorf("--layout: %w", err)
		}
		if err == nil {
			return l, nil
		}
	}
	return ui.LayoutCommander, nil
}

// regionFlags collects repeated --window REGION flags.
type regionFlags []string

func (r *regionFlags) String() string { return strings.Join(*r, ",") }
func (r *regionFlags) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		if _, err := ui.ParseRegions([]string{part}); err != nil {
			return err
		}
		*r = append(*r, strings.ToLower(strings.TrimSpace(part)))
	}
	return nil
}

// kiosk switches a window between the desk and the war-room presentation: full screen
// with the high-contrast theme at the kiosk type scale, and back.
type kiosk struct {
	on    bool
	light bool
	scale float32
	th    *ui.Theme
}

func (k *kiosk) apply(w fyne.Window, views ...*ui.Cockpit) {
	if k.on {
		*k.th = *ui.NewKioskTheme(k.light, k.scale)
	} else {
		*k.th = *ui.NewTheme(k.light)
	}
	fyne.CurrentApp().Settings().SetTheme(k.th)
	if w != nil {
		w.SetFullScreen(k.on)
	}
	for _, v := range views {
		v.SetKiosk(k.on)
	}
}
