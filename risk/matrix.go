package risk

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image/color"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Level is a named band of the matrix, such as "High". Rank orders levels: 0 is the
// lowest, and a higher rank is a worse risk.
type Level struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Color is "#rrggbb".
	Color string `yaml:"color" json:"color"`
	Rank  int    `yaml:"-" json:"rank"`
}

// RGBA is the level's colour; grey if the colour is malformed.
func (l Level) RGBA() color.RGBA {
	c, err := parseColor(l.Color)
	if err != nil {
		return color.RGBA{0x80, 0x80, 0x80, 0xff}
	}
	return c
}

// Matrix is the likelihood × impact matrix, loaded from YAML:
//
//	levels:       # lowest first
//	  - {name: Low, description: Accept and monitor, color: "#4caf50"}
//	likelihood: [Rare, Unlikely, Possible, Likely, Almost certain]   # 1..N
//	impact:     [Negligible, Minor, Moderate, Major, Severe]          # 1..M
//	grid:       # one row per likelihood (1 first), one column per impact (1 first)
//	  - [Very Low, Very Low, Low, Low, Medium]
type Matrix struct {
	Levels     []Level    `yaml:"levels" json:"levels"`
	Likelihood []string   `yaml:"likelihood" json:"likelihood"`
	Impact     []string   `yaml:"impact" json:"impact"`
	Grid       [][]string `yaml:"grid" json:"grid"`
}

// DefaultMatrix is the 5×5 matrix with five levels from Very Low to Very High.
func DefaultMatrix() Matrix {
	return Matrix{
		Levels: []Level{
			{Name: "Very Low", Description: "Accept; review yearly", Color: "#2e7d32", Rank: 0},
			{Name: "Low", Description: "Accept or mitigate when convenient; review every 6 months", Color: "#9ccc65", Rank: 1},
			{Name: "Medium", Description: "Mitigate within the quarter; service owner aware", Color: "#fdd835", Rank: 2},
			{Name: "High", Description: "Mitigate within the month; service owner reviews", Color: "#fb8c00", Rank: 3},
			{Name: "Very High", Description: "Act now; escalate to the engineering director", Color: "#d32f2f", Rank: 4},
		},
		Likelihood: []string{"Rare", "Unlikely", "Possible", "Likely", "Almost certain"},
		Impact:     []string{"Negligible", "Minor", "Moderate", "Major", "Severe"},
		Grid: [][]string{
			{"Very Low", "Very Low", "Low", "Low", "Medium"},
			{"Very Low", "Low", "Low", "Medium", "High"},
			{"Low", "Low", "Medium", "High", "High"},
			{"Low", "Medium", "High", "High", "Very High"},
			{"Medium", "High", "High", "Very High", "Very High"},
		},
	}
}

// LoadMatrix reads a matrix from YAML, refusing unknown fields, and validates it.
func LoadMatrix(r io.Reader) (Matrix, error) {
	var m Matrix
	dec := yaml.NewDecoder(io.LimitReader(r, 1<<20))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		if errors.Is(err, io.EOF) {
			return Matrix{}, errors.New("risk matrix: empty file")
		}
		return Matrix{}, fmt.Errorf("risk matrix: %w", err)
	}
	for i := range m.Levels {
		m.Levels[i].Rank = i
	}
	if err := m.Validate(); err != nil {
		return Matrix{}, err
	}
	return m, nil
}

// Validate checks that the matrix is usable: 2–10 named steps on each axis, unique
// level names with #rrggbb colours, and a full grid naming only known levels.
func (m Matrix) Validate() error {
	var v ValidationError
	if len(m.Levels) == 0 {
		v.Add("levels", "must list at least one level")
	}
	seen := map[string]bool{}
	for i, l := range m.Levels {
		f := fmt.Sprintf("levels[%d]", i)
		if strings.TrimSpace(l.Name) == "" {
			v.Add(f+".name", "must not be empty")
		} else if seen[l.Name] {
			v.Add(f+".name", fmt.Sprintf("%q is listed twice", l.Name))
		}
		seen[l.Name] = true
		if _, err := parseColor(l.Color); err != nil {
			v.Add(f+".color", err.Error())
		}
	}
	axis := func(name string, xs []string) {
		if len(xs) < 2 || len(xs) > 10 {
			v.Add(name, fmt.Sprintf("has %d steps, want 2 to 10", len(xs)))
		}
		for i, x := range xs {
			if strings.TrimSpace(x) == "" {
				v.Add(fmt.Sprintf("%s[%d]", name, i), "must not be empty")
			}
		}
	}
	axis("likelihood", m.Likelihood)
	axis("impact", m.Impact)
	if len(m.Grid) != len(m.Likelihood) {
		v.Add("grid", fmt.Sprintf("has %d rows, want one per likelihood (%d)", len(m.Grid), len(m.Likelihood)))
	}
	for r, row := range m.Grid {
		if len(row) != len(m.Impact) {
			v.Add(fmt.Sprintf("grid[%d]", r), fmt.Sprintf("has %d cells, want one per impact (%d)", len(row), len(m.Impact)))
		}
		for c, name := range row {
			if !seen[name] {
				v.Add(fmt.Sprintf("grid[%d][%d]", r, c), fmt.Sprintf("level %q is not in levels", name))
			}
		}
	}
	if err := v.Err(); err != nil {
		return fmt.Errorf("risk matrix: %w", err)
	}
	return nil
}

// Size returns the number of likelihood and impact steps.
func (m Matrix) Size() (likelihoods, impacts int) { return len(m.Likelihood), len(m.Impact) }

// Level returns the level of the cell (likelihood l, impact i), both from 1. Outside
// the grid it returns a Level with Rank -1 and an empty name.
func (m Matrix) Level(l, i int) Level {
	if l < 1 || i < 1 || l > len(m.Grid) || i > len(m.Grid[l-1]) {
		return Level{Rank: -1}
	}
	if lv, ok := m.LevelByName(m.Grid[l-1][i-1]); ok {
		return lv
	}
	return Level{Rank: -1}
}

// LevelByName finds a level by name (case-insensitive), with its rank set.
func (m Matrix) LevelByName(name string) (Level, bool) {
	for i, l := range m.Levels {
		if strings.EqualFold(l.Name, name) {
			l.Rank = i
			return l, true
		}
	}
	return Level{Rank: -1}, false
}

// Cells returns the (likelihood, impact) cells whose level is one of ranks.
func (m Matrix) Cells(ranks ...int) [][2]int {
	var out [][2]int
	for l := 1; l <= len(m.Likelihood); l++ {
		for i := 1; i <= len(m.Impact); i++ {
			r := m.Level(l, i).Rank
			for _, want := range ranks {
				if r == want {
					out = append(out, [2]int{l, i})
					break
				}
			}
		}
	}
	return out
}

// Fingerprint is a short hash of the grid and level order: the store recomputes
// stored levels when it changes.
func (m Matrix) Fingerprint() string {
	var b bytes.Buffer
	for _, l := range m.Levels {
		b.WriteString(l.Name)
		b.WriteByte(0)
	}
	b.WriteByte(1)
	for _, row := range m.Grid {
		for _, c := range row {
			b.WriteString(c)
			b.WriteByte(0)
		}
		b.WriteByte(1)
	}
	sum := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(sum[:8])
}

func parseColor(s string) (color.RGBA, error) {
	if len(s) != 7 || s[0] != '#' {
		return color.RGBA{}, fmt.Errorf("%q is not a colour like #d32f2f", s)
	}
	n, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		return color.RGBA{}, fmt.Errorf("%q is not a colour like #d32f2f", s)
	}
	return color.RGBA{uint8(n >> 16), uint8(n >> 8), uint8(n), 0xff}, nil
}
