-- The first schema of the Kefu server. Plain SQL that SQLite and PostgreSQL both accept
-- (TEXT ids, INTEGER unix milliseconds, JSON kept as TEXT), so a PostgreSQL store can follow.

CREATE TABLE agents (
    id            TEXT PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    max_chats     INTEGER NOT NULL,
    groups_json   TEXT NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

-- Only a SHA-256 of each token is stored: a copy of the database does not log anyone in.
CREATE TABLE agent_sessions (
    token_sha256 TEXT PRIMARY KEY,
    agent_id     TEXT NOT NULL REFERENCES agents(id),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE visitors (
    id            TEXT PRIMARY KEY,
    token_sha256  TEXT NOT NULL UNIQUE,
    profile_json  TEXT NOT NULL,
    first_seen    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    visits        INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE conversations (
    id          TEXT PRIMARY KEY,
    visitor_id  TEXT NOT NULL REFERENCES visitors(id),
    group_name  TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX conversations_by_visitor ON conversations(visitor_id, created_at);

-- The event log: the only source of truth for a conversation's state (see kefu-core).
CREATE TABLE events (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    seq             INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    body_json       TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);

-- The service's configuration (skill groups, rules, mode, robot, knowledge, canned phrases)
-- as kefu-core's Config in JSON; one row, replaced as a whole when an operator saves.
CREATE TABLE service_config (
    id          INTEGER PRIMARY KEY,
    config_json TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);
