// Package ui is the Fyne face of the cockpit: the window shell, its regions, the bridge
// that turns model snapshots into widget updates, and the theme. It is the only package
// that touches widgets, and it does so only in Fyne callbacks or inside fyne.Do.
package ui

import (
	"image/color"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"github.com/opscockpit/opscockpit/datasource"
)

// Colours with a meaning. They are the same in both variants so a red means the same
// thing on every screen; each has enough contrast on both backgrounds.
var (
	ColorCritical = color.NRGBA{R: 0xE5, G: 0x48, B: 0x4D, A: 0xFF}
	ColorWarning  = color.NRGBA{R: 0xF5, G: 0xA5, B: 0x24, A: 0xFF}
	ColorInfo     = color.NRGBA{R: 0x3B, G: 0x82, B: 0xF6, A: 0xFF}
	ColorOK       = color.NRGBA{R: 0x30, G: 0xA4, B: 0x6C, A: 0xFF}
	ColorMuted    = color.NRGBA{R: 0x8B, G: 0x94, B: 0x9E, A: 0xFF}
)

// Theme is the cockpit's theme: Fyne's default with a fixed variant (dark unless asked
// otherwise, whatever the desktop prefers), a calmer dark palette and a type scale a
// little larger than a desktop app's, for screens read from across a room.
type Theme struct {
	Variant fyne.ThemeVariant
	// Scale multiplies every text size (1 for a desk, about 1.5 for a wall screen).
	TextScale float32
	// HighContrast is the kiosk palette: black or white ground, full-strength text,
	// brighter separators and muted text, for a TV across a lit room.
	HighContrast bool
}

// NewKioskTheme is the war-room theme: high contrast at scale times the desk type size.
func NewKioskTheme(light bool, scale float32) *Theme {
	t := NewTheme(light)
	t.HighContrast = true
	if scale > 0 {
		t.TextScale = scale
	}
	return t
}

var _ fyne.Theme = (*Theme)(nil)

// NewTheme returns the dark (light=false) or light theme.
func NewTheme(light bool) *Theme {
	v := theme.VariantDark
	if light {
		v = theme.VariantLight
	}
	return &Theme{Variant: v, TextScale: 1}
}

// IsDark reports whether the theme is the dark variant.
func (t *Theme) IsDark() bool { return t.Variant == theme.VariantDark }

// Color picks from our palette, falling back to Fyne's default for the fixed variant.
func (t *Theme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	dark := t.IsDark()
	if t.HighContrast {
		if c, ok := t.contrast(n, dark); ok {
			return c
		}
	}
	switch n {
	case theme.ColorNameBackground:
		if dark {
			return color.NRGBA{R: 0x0D, G: 0x11, B: 0x17, A: 0xFF}
		}
		return color.NRGBA{R: 0xF4, G: 0xF6, B: 0xF8, A: 0xFF}
	case theme.ColorNameForeground:
		if dark {
			return color.NRGBA{R: 0xE6, G: 0xED, B: 0xF3, A: 0xFF}
		}
		return color.NRGBA{R: 0x1F, G: 0x23, B: 0x28, A: 0xFF}
	case theme.ColorNameInputBackground, theme.ColorNameMenuBackground, theme.ColorNameOverlayBackground:
		return t.Color(ColorNameSurface, 0)
	case theme.ColorNameSeparator:
		if dark {
			return color.NRGBA{R: 0x30, G: 0x36, B: 0x3D, A: 0xFF}
		}
		return color.NRGBA{R: 0xD0, G: 0xD7, B: 0xDE, A: 0xFF}
	case theme.ColorNameError:
		return ColorCritical
	case theme.ColorNameWarning:
		return ColorWarning
	case theme.ColorNameSuccess:
		return ColorOK
	case ColorNameSurface:
		if dark {
			return color.NRGBA{R: 0x16, G: 0x1B, B: 0x22, A: 0xFF}
		}
		return color.NRGBA{R: 0xFF, G: 0xFF, B: 0xFF, A: 0xFF}
	case ColorNameSurfaceRaised:
		if dark {
			return color.NRGBA{R: 0x21, G: 0x26, B: 0x2D, A: 0xFF}
		}
		return color.NRGBA{R: 0xEA, G: 0xEE, B: 0xF2, A: 0xFF}
	case ColorNameMuted:
		if dark {
			return ColorMuted
		}
		return color.NRGBA{R: 0x57, G: 0x60, B: 0x6A, A: 0xFF}
	}
	return theme.DefaultTheme().Color(n, t.Variant)
}

// contrast is the high-contrast palette; ok=false falls through to the normal one.
func (t *Theme) contrast(n fyne.ThemeColorName, dark bool) (color.Color, bool) {
	pick := func(d, l color.NRGBA) (color.Color, bool) {
		if dark {
			return d, true
		}
		return l, true
	}
	switch n {
	case theme.ColorNameBackground:
		return pick(color.NRGBA{A: 0xFF}, color.NRGBA{R: 0xFF, G: 0xFF, B: 0xFF, A: 0xFF})
	case theme.ColorNameForeground:
		return pick(color.NRGBA{R: 0xFF, G: 0xFF, B: 0xFF, A: 0xFF}, color.NRGBA{A: 0xFF})
	case ColorNameSurface:
		return pick(color.NRGBA{R: 0x0A, G: 0x0C, B: 0x10, A: 0xFF}, color.NRGBA{R: 0xF2, G: 0xF2, B: 0xF2, A: 0xFF})
	case ColorNameSurfaceRaised:
		return pick(color.NRGBA{R: 0x1C, G: 0x21, B: 0x29, A: 0xFF}, color.NRGBA{R: 0xE0, G: 0xE3, B: 0xE7, A: 0xFF})
	case theme.ColorNameSeparator:
		return pick(color.NRGBA{R: 0x70, G: 0x78, B: 0x82, A: 0xFF}, color.NRGBA{R: 0x50, G: 0x58, B: 0x62, A: 0xFF})
	case ColorNameMuted:
		return pick(color.NRGBA{R: 0xC9, G: 0xD1, B: 0xD9, A: 0xFF}, color.NRGBA{R: 0x30, G: 0x36, B: 0x3D, A: 0xFF})
	}
	return nil, false
}

// Our own colour names, for panels and cards.
const (
	ColorNameSurface       fyne.ThemeColorName = "opscockpit-surface"
	ColorNameSurfaceRaised fyne.ThemeColorName = "opscockpit-surface-raised"
	ColorNameMuted         fyne.ThemeColorName = "opscockpit-muted"
)

// Our own size names, relative to the body text size.
const (
	SizeNameSmall    fyne.ThemeSizeName = "opscockpit-small"    // labels, hints: 0.8×
	SizeNameCaption  fyne.ThemeSizeName = "opscockpit-caption"  // tile titles: 0.9×
	SizeNameEmphasis fyne.ThemeSizeName = "opscockpit-emphasis" // alert names: 1.15×
)

// Font is Fyne's bundled font.
func (t *Theme) Font(s fyne.TextStyle) fyne.Resource { return theme.DefaultTheme().Font(s) }

// Icon is Fyne's bundled icon.
func (t *Theme) Icon(n fyne.ThemeIconName) fyne.Resource { return theme.DefaultTheme().Icon(n) }

// Size enlarges text for distance reading.
func (t *Theme) Size(n fyne.ThemeSizeName) float32 {
	s := theme.DefaultTheme().Size(n)
	scale := t.TextScale
	if scale <= 0 {
		scale = 1
	}
	switch n {
	case theme.SizeNameText:
		return 15 * scale
	case theme.SizeNameCaptionText:
		return 12 * scale
	case theme.SizeNameSubHeadingText:
		return 19 * scale
	case theme.SizeNameHeadingText:
		return 24 * scale
	case SizeNameSmall:
		return 12 * scale
	case SizeNameCaption:
		return 13.5 * scale
	case SizeNameEmphasis:
		return 17 * scale
	}
	return s
}

// SeverityColor is the colour of an alert severity.
func SeverityColor(sev string) color.Color {
	switch datasource.SeverityRank(sev) {
	case 0, 1:
		return ColorCritical
	case 2:
		return ColorWarning
	case 3:
		return ColorInfo
	}
	return ColorMuted
}

// NamedColor maps a threshold colour name (or #rrggbb) to a colour.
func NamedColor(name string) color.Color {
	switch name {
	case "red":
		return ColorCritical
	case "amber", "orange", "yellow":
		return ColorWarning
	case "green":
		return ColorOK
	case "blue":
		return ColorInfo
	}
	if len(name) == 7 && name[0] == '#' {
		if v, err := strconv.ParseUint(name[1:], 16, 32); err == nil {
			return color.NRGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xFF}
		}
	}
	return ColorMuted
}
