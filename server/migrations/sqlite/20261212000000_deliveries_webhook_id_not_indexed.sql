-- no-transaction
-- A delivery's webhook id is no longer kept unique by an index. Nothing looks a delivery up
-- by it, and each is made unique where it is made (the time, then 15 random characters of
-- 62, or 24 of them): the index only cost every entry's delivery one more B-tree to write,
-- on the entry writer (with string comparisons all the way down).
--
-- SQLite cannot drop a table's UNIQUE constraint: the table is made again (foreign keys off
-- while it is, in one transaction; nothing else about it changes).
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE deliveries_new (
    id INTEGER PRIMARY KEY,
    -- `msg_…`: the `webhook-id` header, the same on every try.
    webhook_id TEXT NOT NULL,
    endpoint_id BIGINT NOT NULL REFERENCES endpoints (id),
    entry_id BIGINT REFERENCES entries (id),
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    -- 'pending', 'held', 'delivered', 'failed' (given up) or 'cancelled'.
    status TEXT NOT NULL,
    n_attempts INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    -- While set and in the future, a worker is sending it.
    lease_until BIGINT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    conversion_id BIGINT REFERENCES conversions (id),
    job_id BIGINT REFERENCES jobs (id),
    shows_answer BOOLEAN NOT NULL DEFAULT FALSE
);

INSERT INTO deliveries_new (id, webhook_id, endpoint_id, entry_id, event_type, body, status,
                            n_attempts, next_attempt_at, lease_until, created_at, delivered_at,
                            conversion_id, job_id, shows_answer)
SELECT id, webhook_id, endpoint_id, entry_id, event_type, body, status, n_attempts,
       next_attempt_at, lease_until, created_at, delivered_at, conversion_id, job_id,
       shows_answer
FROM deliveries;

DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;

CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_by_entry ON deliveries (entry_id);
CREATE INDEX deliveries_by_endpoint ON deliveries (endpoint_id, status, id);
CREATE INDEX deliveries_by_job ON deliveries (job_id, status) WHERE job_id IS NOT NULL;

COMMIT;
PRAGMA foreign_keys = ON;
