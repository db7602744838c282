-- The knowledge base in its own table (it used to live only inside service_config), so that
-- items keep hit counts and an import can replace items one by one in a transaction.
-- Ids are the operator's own and kept as given; `position` keeps the operator's order.

CREATE TABLE knowledge (
    id            TEXT PRIMARY KEY,
    category      TEXT NOT NULL DEFAULT '',
    question      TEXT NOT NULL,
    similar_json  TEXT NOT NULL,
    answer        TEXT NOT NULL,
    enabled       INTEGER NOT NULL DEFAULT 1,
    hit_count     INTEGER NOT NULL DEFAULT 0,
    position      INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- Canned phrases (常用语): shared when owner_agent_id is NULL, else personal to that agent.
CREATE TABLE canned_phrases (
    id              TEXT PRIMARY KEY,
    owner_agent_id  TEXT REFERENCES agents(id),
    category        TEXT NOT NULL DEFAULT '',
    content         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX canned_phrases_by_owner ON canned_phrases(owner_agent_id);

-- Small counters and one-time marks: `knowledge_seeded` (the demo or configured knowledge
-- was copied in once), `knowledge_version` (bumped on every change, so a running server
-- rebuilds its robot index after `kefu kb import` from another process).
CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
);
