-- Applying a profile to a device (reprovision runs) and self-service reprovision requests.
-- A run's record is kept as it happened: each step with its outcome and a plain sentence (never
-- a password or key). profile_id has no foreign key: the record outlives later profile edits,
-- and profile_name keeps what was applied.
CREATE TABLE IF NOT EXISTS provision_requests (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id     INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    requester     TEXT    NOT NULL,              -- whose request (principal)
    on_behalf_by  TEXT,                          -- the helpdesk member who typed it, if not the requester
    reason        TEXT    NOT NULL,
    state         TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'denied', 'running', 'done', 'failed')),
    created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    decided_by    TEXT,
    decided_at    TEXT,
    comment       TEXT,
    run_id        INTEGER
);
CREATE INDEX IF NOT EXISTS provision_requests_state ON provision_requests (state);
CREATE INDEX IF NOT EXISTS provision_requests_requester ON provision_requests (requester);

CREATE TABLE IF NOT EXISTS provision_runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id     INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    profile_id    INTEGER,
    profile_name  TEXT    NOT NULL DEFAULT '',
    actor         TEXT    NOT NULL,
    kind          TEXT    NOT NULL DEFAULT 'apply' CHECK (kind IN ('apply', 'rotate')),
    request_id    INTEGER REFERENCES provision_requests (id) ON DELETE SET NULL,
    state         TEXT    NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    started_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    finished_at   TEXT,
    summary       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS provision_runs_device ON provision_runs (device_id, id);

CREATE TABLE IF NOT EXISTS provision_steps (
    run_id        INTEGER NOT NULL REFERENCES provision_runs (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    step          TEXT    NOT NULL,
    outcome       TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (outcome IN ('pending', 'running', 'done', 'failed', 'not_run')),
    changed       INTEGER NOT NULL DEFAULT 0 CHECK (changed IN (0, 1)),
    message       TEXT    NOT NULL DEFAULT '',
    started_at    TEXT,
    finished_at   TEXT,
    PRIMARY KEY (run_id, position)
);
