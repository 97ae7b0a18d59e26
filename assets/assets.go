// Package assets holds what ships inside the binary: the demo configuration, scenarios,
// sample runbooks and the app icon.
package assets

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

//go:embed demo/opscockpit.yaml scenarios/*.yaml runbooks/*.md icon.png
var files embed.FS

// DemoConfigName is the name the embedded demo configuration reports in messages.
const DemoConfigName = "embedded:demo/opscockpit.yaml"

// DemoConfig is the configuration used when none is given.
func DemoConfig() []byte {
	b, err := files.ReadFile("demo/opscockpit.yaml")
	if err != nil {
		panic(err) // the embed directive guarantees it
	}
	return b
}

// Scenario returns an embedded scenario file by name (without .yaml).
func Scenario(name string) ([]byte, error) {
	if !fs.ValidPath(name) || strings.Contains(name, "/") {
		return nil, fmt.Errorf("embedded scenario %q: invalid name", name)
	}
	b, err := files.ReadFile(path.Join("scenarios", name+".yaml"))
	if err != nil {
		return nil, fmt.Errorf("embedded scenario %q not found (have: %s)", name, strings.Join(ScenarioNames(), ", "))
	}
	return b, nil
}

// ScenarioNames lists the embedded scenarios.
func ScenarioNames() []string {
	ents, _ := files.ReadDir("scenarios")
	var names []string
	for _, e := range ents {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(names)
	return names
}

// Runbooks is the folder of embedded sample runbooks.
func Runbooks() fs.FS {
	sub, err := fs.Sub(files, "runbooks")
	if err != nil {
		panic(err)
	}
	return sub
}

// Icon is the app icon (PNG).
func Icon() []byte {
	b, _ := files.ReadFile("icon.png")
	return b
}
