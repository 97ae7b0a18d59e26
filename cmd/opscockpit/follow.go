package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/opscockpit/opscockpit/clock"
	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/incident"
	"github.com/opscockpit/opscockpit/session"
	"github.com/opscockpit/opscockpit/ui"
)

// followTimeline is how many of the newest timeline entries travel to followers.
const followTimeline = 14

// followIncident is the incident as followers see it: the band's fields and the
// newest timeline entries travel in the session state's Extra (each value ≤ 1 KiB).
type followIncident struct {
	ID         int64                    `json:"id"`
	Title      string                   `json:"title"`
	Severity   incident.Severity        `json:"sev"`
	Status     incident.Status          `json:"status"`
	Roles      map[incident.Role]string `json:"roles,omitempty"`
	Detected   time.Time                `json:"detected,omitzero"`
	Declared   time.Time                `json:"declared,omitzero"`
	Mitigated  time.Time                `json:"mitigated,omitzero"`
	Resolved   time.Time                `json:"resolved,omitzero"`
	LastUpdate time.Time                `json:"last_update,omitzero"`
	Entries    int                      `json:"entries"`
}

type followEntry struct {
	At     time.Time     `json:"at"`
	Kind   incident.Kind `json:"kind"`
	Author string        `json:"by"`
	Text   string        `json:"text"`
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 { // keep whole runes
		n--
	}
	return s[:n] + "…"
}

// sessionState is what a commander publishes: its view and the open incident.
func sessionState(v ui.View, snap *cockpit.Snapshot) session.State {
	st := session.State{Layout: string(v.Layout), Alert: v.Alert, RunbookRoot: v.RunbookRoot, RunbookPath: v.RunbookPath,
		RunbookAnchor: v.RunbookAnchor, Extra: map[string]string{}}
	if snap == nil || snap.Incident == nil || !snap.Incident.Active {
		return st
	}
	inc := snap.Incident.Incident
	st.Incident = strconv.FormatInt(inc.ID, 10)
	fi := followIncident{ID: inc.ID, Title: clip(inc.Title, 300), Severity: inc.Severity, Status: inc.Status, Roles: inc.Roles,
		LastUpdate: inc.LastUpdateAt, Entries: len(snap.Incident.Timeline)}
	fi.Detected, _ = inc.Milestones.At(incident.MilestoneDetected)
	fi.Declared, _ = inc.Milestones.At(incident.MilestoneDeclared)
	fi.Mitigated, _ = inc.Milestones.At(incident.MilestoneMitigated)
	fi.Resolved, _ = inc.Milestones.At(incident.MilestoneResolved)
	if b, err := json.Marshal(fi); err == nil && len(b) <= session.MaxExtraValueBytes {
		st.Extra["inc"] = string(b)
	}
	tl := snap.Incident.Timeline
	for i := 0; i < followTimeline && i < len(tl); i++ {
		e := tl[len(tl)-1-i]
		fe := followEntry{At: e.At, Kind: e.Kind, Author: clip(e.Author, 64), Text: clip(e.Text, 600)}
		if b, err := json.Marshal(fe); err == nil && len(b) <= session.MaxExtraValueBytes {
			st.Extra[fmt.Sprintf("tl%d", i)] = string(b)
		}
	}
	return st
}

// followedIncident rebuilds the commander's incident from a session state (nil when
// the commander has none open).
func followedIncident(st session.State, policy incident.UpdatePolicy) *cockpit.IncidentState {
	raw, ok := st.Extra["inc"]
	if !ok {
		return &cockpit.IncidentState{Policy: policy}
	}
	var fi followIncident
	if err := json.Unmarshal([]byte(raw), &fi); err != nil {
		return &cockpit.IncidentState{Policy: policy, Err: "the commander's incident could not be read: " + err.Error()}
	}
	inc := incident.Incident{ID: fi.ID, Title: fi.Title, Severity: fi.Severity, Status: fi.Status, Roles: fi.Roles,
		LastUpdateAt: fi.LastUpdate, Milestones: incident.Milestones{}}
	for k, t := range map[incident.MilestoneKind]time.Time{incident.MilestoneDetected: fi.Detected, incident.MilestoneDeclared: fi.Declared,
		incident.MilestoneMitigated: fi.Mitigated, incident.MilestoneResolved: fi.Resolved} {
		if !t.IsZero() {
			inc.Milestones[k] = incident.Milestone{Kind: k, At: t}
		}
	}
	out := &cockpit.IncidentState{Active: true, Incident: inc, Policy: policy}
	for i := followTimeline - 1; i >= 0; i-- {
		var fe followEntry
		if raw, ok := st.Extra[fmt.Sprintf("tl%d", i)]; ok && json.Unmarshal([]byte(raw), &fe) == nil {
			out.Timeline = append(out.Timeline, incident.Entry{IncidentID: inc.ID, At: fe.At, Kind: fe.Kind, Author: fe.Author, Text: fe.Text})
		}
	}
	return out
}

// applyFollowed shows a commander's state on a follower: the incident through the hub,
// the view directly. Call it on the Fyne goroutine.
func applyFollowed(hub *cockpit.Hub, views []*ui.Cockpit, st session.State, policy incident.UpdatePolicy) {
	hub.SetIncident(followedIncident(st, policy))
	v := ui.View{Layout: ui.Layout(st.Layout), Alert: st.Alert, RunbookRoot: st.RunbookRoot, RunbookPath: st.RunbookPath, RunbookAnchor: st.RunbookAnchor}
	if _, err := ui.ParseLayout(st.Layout); err != nil {
		v.Layout = ""
	}
	for _, view := range views {
		view.ApplyView(v)
	}
}

// publishSession sends the commander's view and incident to followers five times a
// second (the server sends nothing when nothing changed), until ctx ends.
// clk is the wall clock (not a drill's): followers wait in real time whatever its speed.
func publishSession(ctx context.Context, srv *session.Server, sys *system, view *atomic.Pointer[ui.View], clk clock.Clock) {
	t := clk.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		var v ui.View
		if p := view.Load(); p != nil {
			v = *p
		}
		srv.Publish(sessionState(v, sys.hub.Snapshot()))
	}
}
