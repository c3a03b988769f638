-- The entry rules on the server: which reward a contestant was given (with the coupon code or
-- download link already in `reward_value`) and by which entry, so a replayed answer and the
-- contestant's status show it again; and an index that reads a contestant's completions
-- (per entry method: how many, the latest) without touching the table.

-- 'Coupon' or 'Download'; NULL until the reward unlocked.
ALTER TABLE contestants ADD COLUMN reward_type TEXT;
-- The entry whose answer carried the reward.
ALTER TABLE contestants ADD COLUMN reward_entry_id BIGINT;

-- Covers `entries_by_contestant` (contestant, method) and adds the time, so completions and
-- the fraud filter's per-method count are read from the index alone.
CREATE INDEX entries_completions ON entries (contestant_id, entry_method_id, created_at);
DROP INDEX entries_by_contestant;

-- Session tokens and referral codes carry the contestant's id, so a contestant is found by
-- it: `token_hash` is the hash of the token's secret part and `referral_code` the code's
-- random part, neither unique alone, and neither needs an index (which every new contestant
-- would write at a random place).
DROP INDEX contestants_by_token;
DROP INDEX contestants_by_referral_code;
