-- 有用 / 没用 on the robot's knowledge answers (the customer's `vote` frame). One row per
-- answer (conversation, seq): a second vote on the same answer replaces the first
-- (kefu_core::feedback). Counted per knowledge item for the admin's knowledge page.

CREATE TABLE answer_votes (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    seq             INTEGER NOT NULL,
    knowledge_id    TEXT NOT NULL,
    verdict         TEXT NOT NULL,
    at              INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
CREATE INDEX answer_votes_by_knowledge ON answer_votes(knowledge_id);
