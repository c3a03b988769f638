-- Hookline's first schema.
--
-- Plain SQL so a PostgreSQL twin can follow line for line: times are unix milliseconds in
-- BIGINT, flags are BOOLEAN, JSON is TEXT. Only `INTEGER PRIMARY KEY` (SQLite's row id) would
-- become `BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY` there.

CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY,
    campaign_key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    campaign_type TEXT NOT NULL,
    status TEXT NOT NULL,
    description TEXT NOT NULL,
    consent_text TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE entry_methods (
    id INTEGER PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    method_type TEXT NOT NULL,
    action TEXT NOT NULL,
    worth INTEGER NOT NULL,
    mandatory BOOLEAN NOT NULL,
    position INTEGER NOT NULL
);

CREATE INDEX entry_methods_by_campaign ON entry_methods (campaign_id, position);

-- One row per person per campaign: the `user` of a webhook body.
CREATE TABLE contestants (
    id INTEGER PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    -- Normalised (trimmed, domain lower-cased).
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    -- JSON object: question -> answer.
    details TEXT NOT NULL,
    actions_completed INTEGER NOT NULL,
    total_entries INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (campaign_id, email)
);

-- One completed action.
CREATE TABLE entries (
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
    UNIQUE (campaign_id, idempotency_key)
);

CREATE TABLE endpoints (
    id INTEGER PRIMARY KEY,
    -- `ep_…`, the id shown to people.
    public_id TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    -- `whsec_…`.
    secret TEXT NOT NULL,
    -- JSON array of event type names, e.g. ["entry.created"].
    events TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    -- Set for endpoints the server keeps in step with its settings ('settings', 'demo');
    -- NULL for endpoints people create.
    managed_by TEXT UNIQUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One message to one endpoint. Body and webhook id are frozen when it is created.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    -- `msg_…`: the `webhook-id` header, the same on every try.
    webhook_id TEXT NOT NULL UNIQUE,
    endpoint_id BIGINT NOT NULL REFERENCES endpoints (id),
    entry_id BIGINT REFERENCES entries (id),
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    -- 'pending', 'delivered' or 'failed' (given up).
    status TEXT NOT NULL,
    n_attempts INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    -- While set and in the future, a worker is sending it.
    lease_until BIGINT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
);

CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);

-- Every try, successful or not.
CREATE TABLE attempts (
    id INTEGER PRIMARY KEY,
    delivery_id BIGINT NOT NULL REFERENCES deliveries (id),
    started_at BIGINT NOT NULL,
    -- NULL when no HTTP response came back (see error_kind).
    status_code INTEGER,
    latency_ms BIGINT NOT NULL,
    -- 'timeout', 'connect', 'request' or 'body'; NULL when a response came back.
    error_kind TEXT,
    response_snippet TEXT NOT NULL
);

CREATE INDEX attempts_by_delivery ON attempts (delivery_id, started_at);
