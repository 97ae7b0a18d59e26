package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/history"
	histsqlite "github.com/opscockpit/opscockpit/history/sqlite"
)

func TestHistoryCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "cockpit.db")
	st, err := histsqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	night := time.Now().Add(-6 * time.Hour).Truncate(time.Second)
	ev := func(m int, st datasource.AlertState) history.Event {
		return history.Event{At: night.Add(time.Duration(m) * time.Minute), Fingerprint: "f", Name: "DiskFull", Severity: "critical", Source: "am", State: st}
	}
	st.Append(context.Background(), []history.Event{ev(0, "firing"), ev(20, "resolved"), ev(30, "firing"), ev(40, "resolved")})
	st.PutAck(context.Background(), history.Ack{Fingerprint: "f", Name: "DiskFull", By: "bob", At: night.Add(34 * time.Minute)})
	st.Close()

	code, out, errs := runCmd(t, "history", "--db", db, "--events")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"DiskFull  2      1      30m", "4m", "resolved"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCmd(t, "history", "--db", db, "--json", "--since", "1h")
	var got struct{ Alerts []any }
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got.Alerts) != 0 {
		t.Fatalf("last hour should be empty: exit %d %s", code, out)
	}
}
