-- no-transaction
-- Idempotency keys are unique per contestant (they were per campaign). Widgets make keys at
-- random, so an index that starts with the key takes a write at a random place for every
-- entry; starting with the contestant it grows at its end for new contestants and stays in
-- one place for returning ones. A retried post carries the same email as its first, so it
-- finds its entry through the contestant.
--
-- SQLite cannot drop a table's UNIQUE constraint: the table is made again (foreign keys off
-- while it is, in one transaction; nothing else about it changes).
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE entries_new (
    id INTEGER PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    contestant_id BIGINT NOT NULL REFERENCES contestants (id),
    entry_method_id BIGINT NOT NULL REFERENCES entry_methods (id),
    idempotency_key TEXT NOT NULL,
    entry_value TEXT NOT NULL,
    worth INTEGER NOT NULL,
    -- The consent statement the contestant agreed to, when they ticked the box.
    consent_text TEXT,
    landing_url TEXT NOT NULL,
    referring_url TEXT NOT NULL,
    -- Kept for the fraud filter: anything but empty is suspicious.
    honeypot TEXT NOT NULL,
    -- The contestant's totals right after this entry, so a replayed request gets the same answer.
    actions_completed INTEGER NOT NULL,
    total_entries INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    client_ip TEXT,
    fraud_score INTEGER NOT NULL DEFAULT 0,
    fraud_reasons TEXT NOT NULL DEFAULT '[]',
    verdict TEXT NOT NULL DEFAULT 'accepted',
    original_verdict TEXT,
    verdict_overridden_at BIGINT,
    upload TEXT
);

INSERT INTO entries_new (id, campaign_id, contestant_id, entry_method_id, idempotency_key,
                         entry_value, worth, consent_text, landing_url, referring_url, honeypot,
                         actions_completed, total_entries, created_at, client_ip, fraud_score,
                         fraud_reasons, verdict, original_verdict, verdict_overridden_at, upload)
SELECT id, campaign_id, contestant_id, entry_method_id, idempotency_key, entry_value, worth,
       consent_text, landing_url, referring_url, honeypot, actions_completed, total_entries,
       created_at, client_ip, fraud_score, fraud_reasons, verdict, original_verdict,
       verdict_overridden_at, upload
FROM entries;

DROP TABLE entries;
ALTER TABLE entries_new RENAME TO entries;

CREATE UNIQUE INDEX entries_by_key ON entries (contestant_id, idempotency_key);
CREATE INDEX entries_by_ip ON entries (campaign_id, client_ip, created_at);
CREATE INDEX entries_by_campaign ON entries (campaign_id, id);
CREATE INDEX entries_completions ON entries (contestant_id, entry_method_id, created_at);

COMMIT;
PRAGMA foreign_keys = ON;
