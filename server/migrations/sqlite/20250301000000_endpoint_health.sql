-- Endpoint health: why and when an endpoint was disabled by delivery (410 Gone, or failing
-- for too long), and the current run of consecutive failed attempts that decides the latter.

-- 'gone' (answered 410) or 'failing' (failed too often for too long); NULL while enabled, or
-- when disabled because its setting was removed.
ALTER TABLE endpoints ADD COLUMN disabled_reason TEXT;
ALTER TABLE endpoints ADD COLUMN disabled_at BIGINT;
-- Failed attempts since the last success; reset to 0 by a success.
ALTER TABLE endpoints ADD COLUMN n_consecutive_failures INTEGER NOT NULL DEFAULT 0;
-- When the first of those failures started; NULL when there are none.
ALTER TABLE endpoints ADD COLUMN failing_since BIGINT;
