package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	histsqlite "github.com/opscockpit/opscockpit/history/sqlite"
)

// tickCache keeps runbook checklist ticks in memory for the screen and saves them to
// the history database in the background, so ticking never waits on the disk and
// ticks survive a restart.
type tickCache struct {
	mu    sync.Mutex
	m     map[string]map[string]bool
	store *histsqlite.Store // nil until the history database is open
	log   *slog.Logger
	now   func() time.Time
}

// load fills the cache from the store (ticks made before it opened are kept).
func (c *tickCache) load(ctx context.Context, st *histsqlite.Store) error {
	saved, err := st.Ticks(ctx)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for rb, steps := range saved {
		if c.m[rb] == nil {
			c.m[rb] = map[string]bool{}
		}
		for step, on := range steps {
			if _, ticked := c.m[rb][step]; !ticked {
				c.m[rb][step] = on
			}
		}
	}
	c.store = st
	return nil
}

func (c *tickCache) Ticked(runbook, step string) (bool, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	on, ok := c.m[runbook][step]
	return on, ok
}

func (c *tickCache) SetTick(runbook, step string, on bool) {
	c.mu.Lock()
	if c.m[runbook] == nil {
		c.m[runbook] = map[string]bool{}
	}
	c.m[runbook][step] = on
	st := c.store
	c.mu.Unlock()
	if st == nil {
		c.log.Warn("runbook tick kept in memory only: the history database is not open", "runbook", runbook)
		return
	}
	at := c.now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := st.SetTick(ctx, runbook, step, on, "", at); err != nil {
			c.log.Error("runbook tick NOT SAVED", "runbook", runbook, "err", err)
		}
	}()
}
