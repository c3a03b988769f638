-- The fraud filter: a level and a hold window per campaign, a verdict per entry, and
-- deliveries held until the verdict is final.

-- 'off', 'lenient', 'standard' or 'strict'.
ALTER TABLE campaigns ADD COLUMN fraud_level TEXT NOT NULL DEFAULT 'standard';
-- How long `subscriber.created` waits for the verdict (0: no wait).
ALTER TABLE campaigns ADD COLUMN hold_window_ms BIGINT NOT NULL DEFAULT 300000;

-- The connecting peer's address; NULL when unknown (and for entries made before this).
ALTER TABLE entries ADD COLUMN client_ip TEXT;
ALTER TABLE entries ADD COLUMN fraud_score INTEGER NOT NULL DEFAULT 0;
-- JSON array of reason codes, e.g. ["duplicate_email","too_fast"].
ALTER TABLE entries ADD COLUMN fraud_reasons TEXT NOT NULL DEFAULT '[]';
-- 'accepted', 'flagged' or 'disqualified'.
ALTER TABLE entries ADD COLUMN verdict TEXT NOT NULL DEFAULT 'accepted';

-- The fraud filter's counts: by contestant and method, and by IP over time.
CREATE INDEX entries_by_contestant ON entries (contestant_id, entry_method_id);
CREATE INDEX entries_by_ip ON entries (campaign_id, client_ip, created_at);

-- deliveries.status gains 'held' (waiting for the entry's verdict until next_attempt_at; then
-- it becomes 'pending', or 'cancelled' when the verdict says it must not be sent). A held
-- `subscriber.created` goes out unless the entry is disqualified; a held `entry.disqualified`
-- only if it is (otherwise it is deleted: the event never happened).
