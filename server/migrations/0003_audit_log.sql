-- The audit log of the settings: who changed what, when. Written by the admin API in the
-- same request as the change; read by admins. `seq` orders entries (SQLite assigns it;
-- a PostgreSQL store would declare it as an identity column).

CREATE TABLE audit_log (
    seq           INTEGER PRIMARY KEY,
    at            INTEGER NOT NULL,
    agent_id      TEXT NOT NULL REFERENCES agents(id),
    agent_login   TEXT NOT NULL,
    action        TEXT NOT NULL,
    summary       TEXT NOT NULL
);
