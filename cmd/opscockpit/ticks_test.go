package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	histsqlite "github.com/opscockpit/opscockpit/history/sqlite"
)

func TestTickCacheSavesInTheBackground(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cockpit.db")
	st, err := histsqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.SetTick(ctx, "rb", "old", true, "", time.Now())
	c := &tickCache{m: map[string]map[string]bool{}, log: quiet(), now: time.Now}
	c.SetTick("rb", "early", true) // before the database opens: memory only
	if err := c.load(ctx, st); err != nil {
		t.Fatal(err)
	}
	if on, ok := c.Ticked("rb", "old"); !on || !ok {
		t.Fatal("saved tick not loaded")
	}
	if on, _ := c.Ticked("rb", "early"); !on {
		t.Fatal("tick made before loading was lost")
	}
	c.SetTick("rb", "new", true)
	deadline := time.Now().Add(5 * time.Second)
	for {
		saved, err := st.Ticks(ctx)
		if err == nil && saved["rb"]["new"] {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("tick never saved: %v %v", saved, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
