// Package sqlite stores incidents in the cockpit's shared SQLite file, beside the alert
// history (PRAGMA user_version) and the risk register (module "risk"): it is the
// "incident" module of internal/sqlitedb and creates only tables prefixed incident_.
//
// The timeline is append-only: triggers abort any UPDATE or DELETE of
// incident_timeline, so a mistake is fixed with a correction entry, never by editing.
// The incident row, roles, milestones and linked alerts are the current state, kept in
// step with the timeline by writing both in the same transaction.
//
// Change detection: every write transaction bumps incident_change.seq before it
// commits, so Version changes on any commit by any process sharing the file (the
// desktop app, a scribe's `opscockpit incident note`, a second cockpit). A screen polls
// Version once per refresh (one indexed single-row read on the read pool; WAL lets it
// see the last commit without waiting for a writer) and reloads only when it moved.
// PRAGMA data_version would also see other processes' commits, but it is per connection
// and the read pool hands out different connections, so a counter row is the simpler,
// reliable signal.
package sqlite

// migrations[i] moves the incident module from version i to i+1; never edit one that
// has shipped, add another.
var migrations = []string{
	`CREATE TABLE incident_incidents (
		id             INTEGER PRIMARY KEY AUTOINCREMENT,
		title          TEXT NOT NULL,
		severity       INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 4),
		status         TEXT NOT NULL CHECK (status IN ('investigating', 'identified', 'mitigated', 'resolved')),
		services       TEXT NOT NULL DEFAULT '[]',
		declared_by    TEXT NOT NULL,
		declared_ms    INTEGER NOT NULL,
		last_update_ms INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX incident_incidents_declared ON incident_incidents (declared_ms);
	CREATE INDEX incident_incidents_status ON incident_incidents (status, declared_ms);

	CREATE TABLE incident_roles (
		incident_id INTEGER NOT NULL REFERENCES incident_incidents (id),
		role        TEXT NOT NULL,
		name        TEXT NOT NULL,
		since_ms    INTEGER NOT NULL,
		PRIMARY KEY (incident_id, role)
	) WITHOUT ROWID;

	CREATE TABLE incident_milestones (
		incident_id INTEGER NOT NULL REFERENCES incident_incidents (id),
		kind        TEXT NOT NULL,
		at_ms       INTEGER NOT NULL,
		manual      INTEGER NOT NULL DEFAULT 0,
		reason      TEXT NOT NULL DEFAULT '',
		by_whom     TEXT NOT NULL DEFAULT '',
		PRIMARY KEY (incident_id, kind)
	) WITHOUT ROWID;

	CREATE TABLE incident_alerts (
		incident_id INTEGER NOT NULL REFERENCES incident_incidents (id),
		fingerprint TEXT NOT NULL,
		name        TEXT NOT NULL,
		state       TEXT NOT NULL,
		starts_ms   INTEGER NOT NULL,
		PRIMARY KEY (incident_id, fingerprint)
	) WITHOUT ROWID;

	CREATE TABLE incident_timeline (
		id          INTEGER PRIMARY KEY AUTOINCREMENT,
		incident_id INTEGER NOT NULL REFERENCES incident_incidents (id),
		at_ms       INTEGER NOT NULL,
		author      TEXT NOT NULL,
		kind        TEXT NOT NULL,
		text        TEXT NOT NULL,
		fields      TEXT NOT NULL DEFAULT '{}',
		corrects    INTEGER REFERENCES incident_timeline (id),
		CHECK ((kind = 'correction') = (corrects IS NOT NULL))
	);
	CREATE INDEX incident_timeline_at ON incident_timeline (incident_id, at_ms, id);
	CREATE INDEX incident_timeline_kind ON incident_timeline (incident_id, kind, at_ms, id);
	CREATE INDEX incident_timeline_corrects ON incident_timeline (corrects) WHERE corrects IS NOT NULL;
	CREATE TRIGGER incident_timeline_no_update BEFORE UPDATE ON incident_timeline
	BEGIN SELECT RAISE(ABORT, 'incident timeline is append-only: add a correction instead'); END;
	CREATE TRIGGER incident_timeline_no_delete BEFORE DELETE ON incident_timeline
	BEGIN SELECT RAISE(ABORT, 'incident timeline is append-only: entries are never deleted'); END;

	CREATE TABLE incident_actions (
		id          INTEGER PRIMARY KEY AUTOINCREMENT,
		incident_id INTEGER NOT NULL REFERENCES incident_incidents (id),
		title       TEXT NOT NULL,
		owner       TEXT NOT NULL DEFAULT '',
		due_ms      INTEGER NOT NULL DEFAULT 0,
		risk_id     TEXT NOT NULL DEFAULT '',
		created_ms  INTEGER NOT NULL,
		created_by  TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX incident_actions_incident ON incident_actions (incident_id, id);

	CREATE TABLE incident_people (
		name    TEXT PRIMARY KEY,
		last_ms INTEGER NOT NULL
	) WITHOUT ROWID;

	CREATE TABLE incident_change (
		id  INTEGER PRIMARY KEY CHECK (id = 1),
		seq INTEGER NOT NULL
	);
	INSERT INTO incident_change (id, seq) VALUES (1, 0);`,
}
