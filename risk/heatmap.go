package risk

// HeatMap counts risks per matrix cell, inherent and residual side by side.
// Inherent[l-1][i-1] is the number of risks with likelihood l and impact i.
type HeatMap struct {
	Likelihoods int     `json:"likelihoods"`
	Impacts     int     `json:"impacts"`
	Inherent    [][]int `json:"inherent"`
	Residual    [][]int `json:"residual"`
	Total       int     `json:"total"`
}

// NewHeatMap returns an empty heat map sized for m.
func NewHeatMap(m Matrix) HeatMap {
	nl, ni := m.Size()
	h := HeatMap{Likelihoods: nl, Impacts: ni, Inherent: make([][]int, nl), Residual: make([][]int, nl)}
	for l := range nl {
		h.Inherent[l] = make([]int, ni)
		h.Residual[l] = make([]int, ni)
	}
	return h
}

// Add counts n risks at the inherent cell (l, i) and residual cell (rl, ri);
// cells outside the matrix are counted in Total only.
func (h *HeatMap) Add(l, i, rl, ri, n int) {
	h.Total += n
	if h.in(l, i) {
		h.Inherent[l-1][i-1] += n
	}
	if h.in(rl, ri) {
		h.Residual[rl-1][ri-1] += n
	}
}

func (h *HeatMap) in(l, i int) bool { return l >= 1 && i >= 1 && l <= h.Likelihoods && i <= h.Impacts }

// ComputeHeatMap counts risks in memory; the store does the same in SQL.
func ComputeHeatMap(m Matrix, risks []Risk) HeatMap {
	h := NewHeatMap(m)
	for _, r := range risks {
		rl, ri := r.ResidualCell()
		h.Add(r.Likelihood, r.Impact, rl, ri, 1)
	}
	return h
}

// ByLevel sums the inherent (or residual) counts per level rank of m.
func (h HeatMap) ByLevel(m Matrix, residual bool) []int {
	out := make([]int, len(m.Levels))
	g := h.Inherent
	if residual {
		g = h.Residual
	}
	for l := range g {
		for i, n := range g[l] {
			if r := m.Level(l+1, i+1).Rank; r >= 0 {
				out[r] += n
			}
		}
	}
	return out
}
