package sqlite

// migrations build the risk register's tables in the shared cockpit file; every
// table is prefixed risk_ (or is risks/risks_fts) so other modules can live beside it.
// Never edit a migration that has shipped: append a new one.
var migrations = []string{
	`CREATE TABLE risks (
		id                  INTEGER PRIMARY KEY,
		title               TEXT NOT NULL,
		description         TEXT NOT NULL DEFAULT '',
		category            TEXT NOT NULL DEFAULT '',
		service             TEXT NOT NULL DEFAULT '',
		owner               TEXT NOT NULL,
		likelihood          INTEGER NOT NULL,
		impact              INTEGER NOT NULL,
		residual_likelihood INTEGER NOT NULL DEFAULT 0,
		residual_impact     INTEGER NOT NULL DEFAULT 0,
		score               INTEGER NOT NULL,
		residual_score      INTEGER NOT NULL,
		level_rank          INTEGER NOT NULL,
		residual_rank       INTEGER NOT NULL,
		treatment           TEXT NOT NULL DEFAULT '',
		treatment_rationale TEXT NOT NULL DEFAULT '',
		status              TEXT NOT NULL,
		escalation          TEXT NOT NULL,
		due                 TEXT NOT NULL DEFAULT '',
		next_review         TEXT NOT NULL DEFAULT '',
		tags                TEXT NOT NULL DEFAULT '',
		materialising       INTEGER NOT NULL DEFAULT 0,
		materialised_ms     INTEGER NOT NULL DEFAULT 0,
		created_ms          INTEGER NOT NULL,
		updated_ms          INTEGER NOT NULL,
		created_by          TEXT NOT NULL,
		updated_by          TEXT NOT NULL,
		rev                 INTEGER NOT NULL DEFAULT 1
	);
	CREATE INDEX risks_status ON risks (status, level_rank);
	CREATE INDEX risks_level ON risks (level_rank);
	CREATE INDEX risks_owner ON risks (owner);
	CREATE INDEX risks_service ON risks (service);
	CREATE INDEX risks_title ON risks (title);
	CREATE INDEX risks_score ON risks (score);
	CREATE INDEX risks_residual ON risks (residual_score);
	CREATE INDEX risks_updated ON risks (updated_ms);
	CREATE INDEX risks_review ON risks (next_review);
	CREATE INDEX risks_due ON risks (due);
	CREATE INDEX risks_heat ON risks (status, likelihood, impact, residual_likelihood, residual_impact);
	CREATE INDEX risks_materialising ON risks (materialising) WHERE materialising = 1;

	-- Heat-map counts kept up to date by triggers, so the whole register's heat map
	-- is a read of at most statuses × cells² rows instead of a scan.
	CREATE TABLE risk_heat (
		status              TEXT NOT NULL,
		likelihood          INTEGER NOT NULL,
		impact              INTEGER NOT NULL,
		residual_likelihood INTEGER NOT NULL,
		residual_impact     INTEGER NOT NULL,
		n                   INTEGER NOT NULL,
		PRIMARY KEY (status, likelihood, impact, residual_likelihood, residual_impact)
	) WITHOUT ROWID;
	CREATE TRIGGER risk_heat_insert AFTER INSERT ON risks BEGIN
		INSERT INTO risk_heat VALUES (new.status, new.likelihood, new.impact, new.residual_likelihood, new.residual_impact, 1)
		ON CONFLICT DO UPDATE SET n = n + 1;
	END;
	CREATE TRIGGER risk_heat_delete AFTER DELETE ON risks BEGIN
		UPDATE risk_heat SET n = n - 1 WHERE status = old.status AND likelihood = old.likelihood AND impact = old.impact
			AND residual_likelihood = old.residual_likelihood AND residual_impact = old.residual_impact;
	END;
	CREATE TRIGGER risk_heat_update AFTER UPDATE OF status, likelihood, impact, residual_likelihood, residual_impact ON risks BEGIN
		UPDATE risk_heat SET n = n - 1 WHERE status = old.status AND likelihood = old.likelihood AND impact = old.impact
			AND residual_likelihood = old.residual_likelihood AND residual_impact = old.residual_impact;
		INSERT INTO risk_heat VALUES (new.status, new.likelihood, new.impact, new.residual_likelihood, new.residual_impact, 1)
		ON CONFLICT DO UPDATE SET n = n + 1;
	END;

	CREATE VIRTUAL TABLE risks_fts USING fts5(
		title, description, category, service, owner, tags,
		content = 'risks', content_rowid = 'id',
		prefix = '1 2 3', tokenize = 'unicode61 remove_diacritics 2'
	);
	CREATE TRIGGER risks_fts_insert AFTER INSERT ON risks BEGIN
		INSERT INTO risks_fts (rowid, title, description, category, service, owner, tags)
		VALUES (new.id, new.title, new.description, new.category, new.service, new.owner, new.tags);
	END;
	CREATE TRIGGER risks_fts_delete AFTER DELETE ON risks BEGIN
		INSERT INTO risks_fts (risks_fts, rowid, title, description, category, service, owner, tags)
		VALUES ('delete', old.id, old.title, old.description, old.category, old.service, old.owner, old.tags);
	END;
	CREATE TRIGGER risks_fts_update AFTER UPDATE OF title, description, category, service, owner, tags ON risks BEGIN
		INSERT INTO risks_fts (risks_fts, rowid, title, description, category, service, owner, tags)
		VALUES ('delete', old.id, old.title, old.description, old.category, old.service, old.owner, old.tags);
		INSERT INTO risks_fts (rowid, title, description, category, service, owner, tags)
		VALUES (new.id, new.title, new.description, new.category, new.service, new.owner, new.tags);
	END;

	CREATE TABLE risk_actions (
		id         INTEGER PRIMARY KEY,
		risk_id    INTEGER NOT NULL REFERENCES risks (id),
		title      TEXT NOT NULL,
		owner      TEXT NOT NULL,
		due        TEXT NOT NULL DEFAULT '',
		status     TEXT NOT NULL,
		created_ms INTEGER NOT NULL,
		updated_ms INTEGER NOT NULL
	);
	CREATE INDEX risk_actions_risk ON risk_actions (risk_id, status, due);
	CREATE INDEX risk_actions_due ON risk_actions (status, due);

	CREATE TABLE risk_reviews (
		id          INTEGER PRIMARY KEY,
		risk_id     INTEGER NOT NULL REFERENCES risks (id),
		date        TEXT NOT NULL,
		reviewers   TEXT NOT NULL,
		decision    TEXT NOT NULL,
		notes       TEXT NOT NULL,
		next_review TEXT NOT NULL,
		by_whom     TEXT NOT NULL,
		created_ms  INTEGER NOT NULL
	);
	CREATE INDEX risk_reviews_risk ON risk_reviews (risk_id, date);

	CREATE TABLE risk_escalations (
		id         INTEGER PRIMARY KEY,
		risk_id    INTEGER NOT NULL REFERENCES risks (id),
		at_ms      INTEGER NOT NULL,
		by_whom    TEXT NOT NULL,
		from_level TEXT NOT NULL,
		to_level   TEXT NOT NULL,
		note       TEXT NOT NULL,
		rule       TEXT NOT NULL
	);
	CREATE INDEX risk_escalations_risk ON risk_escalations (risk_id, at_ms);
	CREATE INDEX risk_escalations_at ON risk_escalations (at_ms);

	CREATE TABLE risk_links (
		id         INTEGER PRIMARY KEY,
		risk_id    INTEGER NOT NULL REFERENCES risks (id),
		matchers   TEXT NOT NULL,
		created_ms INTEGER NOT NULL,
		UNIQUE (risk_id, matchers)
	);

	CREATE TABLE risk_materialisations (
		id          INTEGER PRIMARY KEY,
		risk_id     INTEGER NOT NULL REFERENCES risks (id),
		fingerprint TEXT NOT NULL,
		starts_ms   INTEGER NOT NULL,
		seen_ms     INTEGER NOT NULL,
		alertname   TEXT NOT NULL,
		labels      TEXT NOT NULL,
		UNIQUE (risk_id, fingerprint, starts_ms)
	);
	CREATE INDEX risk_materialisations_seen ON risk_materialisations (seen_ms);

	CREATE TABLE risk_audit (
		seq       INTEGER PRIMARY KEY,
		at_ms     INTEGER NOT NULL,
		actor     TEXT NOT NULL,
		entity    TEXT NOT NULL,
		entity_id INTEGER NOT NULL,
		risk_id   INTEGER NOT NULL,
		field     TEXT NOT NULL,
		old       TEXT NOT NULL,
		new       TEXT NOT NULL,
		prev_hash TEXT NOT NULL,
		hash      TEXT NOT NULL
	);
	CREATE INDEX risk_audit_risk ON risk_audit (risk_id, seq);
	CREATE INDEX risk_audit_at ON risk_audit (at_ms);
	CREATE TRIGGER risk_audit_no_update BEFORE UPDATE ON risk_audit BEGIN
		SELECT RAISE(ABORT, 'risk_audit is append-only: audit rows cannot be changed');
	END;
	CREATE TRIGGER risk_audit_no_delete BEFORE DELETE ON risk_audit BEGIN
		SELECT RAISE(ABORT, 'risk_audit is append-only: audit rows cannot be deleted');
	END;

	CREATE TABLE risk_meta (
		key TEXT PRIMARY KEY,
		n   INTEGER NOT NULL DEFAULT 0,
		s   TEXT NOT NULL DEFAULT ''
	);
	INSERT INTO risk_meta (key) VALUES ('change_seq'), ('audit_head'), ('matrix');`,
}
