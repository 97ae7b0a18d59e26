package main

import (
	"os"
	"strings"
	"testing"

	"github.com/opscockpit/opscockpit/risk"
)

// yamlAfter returns the first ```yaml block after marker in the README.
func yamlAfter(t *testing.T, readme, marker string) string {
	t.Helper()
	i := strings.Index(readme, marker)
	if i < 0 {
		t.Fatalf("README lacks %q", marker)
	}
	rest := readme[i:]
	start := strings.Index(rest, "```yaml\n")
	end := strings.Index(rest[start+8:], "```")
	return rest[start+8 : start+8+end]
}

func TestReadmeRiskFilesAreValid(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	m, err := risk.LoadMatrix(strings.NewReader(yamlAfter(t, readme, "The matrix file")))
	if err != nil {
		t.Fatalf("README matrix: %v", err)
	}
	if _, err := risk.LoadPolicy(strings.NewReader(yamlAfter(t, readme, "The escalation file")), risk.DefaultMatrix()); err != nil {
		t.Fatalf("README escalation file: %v", err)
	}
	if m.Level(3, 3).Name != "High" || m.Level(1, 1).Name != "Low" {
		t.Fatalf("README matrix reads wrong: %+v", m)
	}
}
