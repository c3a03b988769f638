-- Idempotency keys are unique per contestant (they were per campaign). Widgets make keys at
-- random, so an index that starts with the key takes a write at a random place for every
-- entry; starting with the contestant it grows at its end for new contestants and stays in
-- one place for returning ones. A retried post carries the same email as its first, so it
-- finds its entry through the contestant.
ALTER TABLE entries DROP CONSTRAINT entries_campaign_id_idempotency_key_key;
CREATE UNIQUE INDEX entries_by_key ON entries (contestant_id, idempotency_key);
