// Package bundle writes and reads an incident's black box: one self-contained SQLite
// file holding the incident, its roles, milestones, timeline and action items, the
// alert events around it, the metric windows of the cockpit's panels over the incident
// and the markdown of the runbooks used. It reopens offline, read-only, with nothing
// else at hand.
//
// # File format
//
// A SQLite database (rollback journal, no WAL, so a single file is the whole bundle)
// whose header carries PRAGMA application_id = ApplicationID ("OCBX") and PRAGMA
// user_version = the format version (FormatVersion; also the "format" row of
// bundle_meta). Open reads the 100-byte header itself before SQLite sees the file, so a
// non-SQLite file, another application's SQLite file, a newer format and a truncated
// copy each fail with their own error, and then runs quick_check for corruption. Times
// are Unix milliseconds (UTC); a NaN sample is stored as NULL.
//
// # Replaying a bundle as a drill
//
// A drill engine turns a bundle into a scenario by making every time relative to the
// incident's origin, Bundle.Origin (the detected milestone, else the declaration):
//
//   - each panel's series become scenario series with the same labels, sample i at
//     offset Samples[i].T − origin (negative offsets are the lead-in before detection;
//     the scenario clock starts at the earliest offset);
//   - AlertEvents become scripted alerts: a firing event at offset At − origin starts
//     the alert with its labels and fingerprint, the next resolved (or gone) event of
//     the same fingerprint ends it. When the export had no alert history, the
//     alert_firing/alert_resolved timeline entries (fields: fingerprint, labels,
//     starts_at, ends_at) are turned into the same events, so AlertEvents is never
//     empty when the incident had alerts;
//   - milestones become expectations (acknowledge within TimeToAcknowledge, declare
//     within TimeToDeclare, …) and the original timeline's acks, runbook steps and
//     decisions are the reference answer the drill's participants are scored against;
//   - Runbooks are served in place of the runbook folder, so the steps ticked in the
//     real incident are the ones shown.
package bundle

import (
	"errors"
	"fmt"
	"time"

	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/history"
	"github.com/opscockpit/opscockpit/incident"
)

// ApplicationID marks an OpsCockpit black-box file in the SQLite header ("OCBX").
const ApplicationID int32 = 0x4F434258

// FormatVersion is the bundle format this build writes and the newest it reads.
const FormatVersion = 1

// PanelSeries is one panel's metric window: the series it showed over the incident.
type PanelSeries struct {
	Panel  string // the panel's title
	Query  string
	Unit   string
	Series []datasource.Series
}

// Extras are what the incident store does not hold and the cockpit adds to a bundle.
type Extras struct {
	MetricWindows []PanelSeries
	Runbooks      map[string]string // runbook name → markdown
	// AlertEvents are the alert history over the incident window; when empty, they are
	// derived from the timeline's alert entries.
	AlertEvents []history.Event
}

// Bundle is an opened black box: everything needed to show the incident offline.
type Bundle struct {
	Path       string
	Format     int
	ExportedAt time.Time
	ExportedBy string
	Incident   incident.Incident
	Timeline   []incident.Entry // oldest first
	Actions    []incident.ActionItem
	Extras
}

// Origin is the instant replay times are relative to: detection, else declaration.
func (b *Bundle) Origin() time.Time {
	t, _ := b.Incident.Milestones.Origin()
	return t
}

// Errors of Open; each is matched with errors.Is.
var (
	ErrNotSQLite   = errors.New("not a SQLite file")
	ErrForeign     = errors.New("a SQLite file, but not an OpsCockpit incident bundle")
	ErrTruncated   = errors.New("bundle file is truncated (incomplete copy or download?)")
	ErrCorrupt     = errors.New("bundle file is corrupt")
	ErrNewerFormat = errors.New("bundle was written by a newer OpsCockpit")
)

// VersionError is a bundle of a format this build cannot read; it matches
// ErrNewerFormat.
type VersionError struct {
	Got, Supported int
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("bundle format %d is newer than this build reads (%d): use a newer opscockpit", e.Got, e.Supported)
}

// Is makes errors.Is(err, ErrNewerFormat) true.
func (e *VersionError) Is(target error) bool { return target == ErrNewerFormat }

// Window is the time range whose metrics and alert history an export should carry:
// from before before the incident's earliest known instant (impact start, detection or
// declaration) to after after its resolution, or to now while it is open.
func Window(inc incident.Incident, before, after time.Duration, now time.Time) (from, to time.Time) {
	from, _ = inc.Milestones.Origin()
	if st, ok := inc.Milestones.At(incident.MilestoneStarted); ok && st.Before(from) {
		from = st
	}
	to = now
	if res, ok := inc.Milestones.At(incident.MilestoneResolved); ok && inc.Status == incident.Resolved {
		to = res.Add(after)
	}
	if to.After(now) {
		to = now
	}
	return from.Add(-before), to
}
