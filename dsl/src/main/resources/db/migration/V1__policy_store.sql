-- The policy store: every revision of every policy, which one runs, and what happened to them.
-- Times are ISO-8601 instants in UTC (Instant.toString()).

-- One row per policy that has revisions; deleting it deletes its revisions (the audit trail stays).
CREATE TABLE policy (
    name     TEXT    NOT NULL PRIMARY KEY,
    created  TEXT    NOT NULL
) STRICT;

-- Every revision as it was added. Revisions are immutable: only their active flag changes.
CREATE TABLE revision (
    policy   TEXT    NOT NULL REFERENCES policy (name) ON DELETE CASCADE,
    number   INTEGER NOT NULL CHECK (number >= 1),
    text     TEXT    NOT NULL,
    author   TEXT    NOT NULL,
    created  TEXT    NOT NULL,
    comment  TEXT    NOT NULL DEFAULT '',
    sha256   TEXT    NOT NULL CHECK (length(sha256) = 64),
    active   INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    PRIMARY KEY (policy, number)
) STRICT;

-- At most one active revision per policy.
CREATE UNIQUE INDEX revision_one_active ON revision (policy) WHERE active = 1;

-- The last revision number handed out per name. It outlives a deletion, so a policy deleted and
-- added again never reuses a number the audit trail already names.
CREATE TABLE revision_counter (
    policy   TEXT    NOT NULL PRIMARY KEY,
    last     INTEGER NOT NULL
) STRICT;

-- What happened: added, activated, rolled-back, disabled, deleted, error, loaded, unloaded, action...
CREATE TABLE audit (
    id       INTEGER NOT NULL PRIMARY KEY,
    at       TEXT    NOT NULL,
    policy   TEXT    NOT NULL,
    revision INTEGER,
    kind     TEXT    NOT NULL,
    detail   TEXT    NOT NULL DEFAULT '',
    actor    TEXT    NOT NULL
) STRICT;

CREATE INDEX audit_by_policy ON audit (policy, id);
