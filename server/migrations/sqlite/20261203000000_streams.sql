-- Inbound conversion webhooks (seed 001): a workspace's streams, each with a secret key in
-- its URL (`POST /hooks/in/{stream_key}`), and the conversions they received.

CREATE TABLE streams (
    id INTEGER PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    -- `st_…`, the id the admin API shows.
    public_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- The secret part of the stream's URL.
    stream_key TEXT NOT NULL UNIQUE,
    -- `whsec_…`: when set, requests must carry a valid Standard Webhooks signature.
    signing_secret TEXT,
    -- JSON array of campaign keys whose widgets show its conversions; empty: every campaign
    -- of the workspace that shows social proof.
    campaign_keys TEXT NOT NULL DEFAULT '[]',
    enabled BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);

CREATE INDEX streams_by_workspace ON streams (workspace_id, id);

CREATE TABLE conversions (
    id INTEGER PRIMARY KEY,
    stream_id BIGINT NOT NULL REFERENCES streams (id),
    -- Normalised; never shown by widgets.
    email TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    -- Unix ms: the payload's timestamp, else when it arrived.
    occurred_at BIGINT NOT NULL,
    ip TEXT,
    guid TEXT,
    city TEXT,
    country TEXT,
    country_code TEXT,
    state TEXT,
    state_code TEXT,
    -- The product a notification shows (the top-level one, else the most expensive).
    product_name TEXT,
    product_link TEXT,
    product_image TEXT,
    -- As sent (exact decimal text), with its currency.
    total TEXT,
    currency TEXT,
    -- JSON array of every product line.
    products TEXT NOT NULL,
    -- The whole payload as JSON (form bodies as the JSON they stand for).
    raw TEXT NOT NULL,
    -- `json` or `form`.
    body_format TEXT NOT NULL,
    -- The sender's `webhook-id`, when signed: a retried request is stored once.
    webhook_id TEXT,
    received_at BIGINT NOT NULL,
    UNIQUE (stream_id, webhook_id)
);

CREATE INDEX conversions_by_stream ON conversions (stream_id, id);
CREATE INDEX conversions_by_email ON conversions (email);
-- Deliveries of `conversion.received` point at their conversion.
ALTER TABLE deliveries ADD COLUMN conversion_id BIGINT REFERENCES conversions (id);
