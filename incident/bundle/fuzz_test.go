package bundle

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen: any bytes given as a black box are refused with one of the typed errors or
// opened; Open never panics and never changes the file.
func FuzzOpen(f *testing.F) {
	f.Add([]byte("SQLite format 3\x00"))
	f.Add([]byte("not a bundle at all"))
	f.Add(make([]byte, 4096))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "x.ocbx")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := Open(p)
		if err == nil {
			_ = b
		} else if !errors.Is(err, ErrNotSQLite) && !errors.Is(err, ErrForeign) && !errors.Is(err, ErrTruncated) &&
			!errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNewerFormat) {
			t.Logf("untyped refusal (allowed, but say so): %v", err)
		}
		after, _ := os.ReadFile(p)
		if string(after) != string(data) {
			t.Fatal("Open changed the file")
		}
	})
}
