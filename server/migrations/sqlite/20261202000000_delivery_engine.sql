-- The delivery engine: endpoints people manage through the admin API (settings, campaigns,
-- status, soft delete, secret rotation, ordering, retry schedule, rate and concurrency
-- limits), auth connectors with encrypted credentials, and the request each attempt sent.

-- Credentials endpoints share. `secret` is `v1:…`: XChaCha20-Poly1305 of the credentials'
-- JSON under the server's master key, bound to `public_id`; never returned by the API.
CREATE TABLE auth_connectors (
    id INTEGER PRIMARY KEY,
    -- `ac_…`.
    public_id TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    name TEXT NOT NULL,
    -- 'basic', 'bearer' or 'api_key'.
    kind TEXT NOT NULL,
    -- What may be shown: the Basic user name, the API key's header name; '' otherwise.
    username TEXT NOT NULL,
    header_name TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX auth_connectors_by_workspace ON auth_connectors (workspace_id, id);

ALTER TABLE endpoints ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN description TEXT NOT NULL DEFAULT '';
-- JSON array of campaign row ids whose events it takes; NULL: every campaign (of its
-- workspace; an operator endpoint, without workspace, takes every campaign there is).
ALTER TABLE endpoints ADD COLUMN campaign_ids TEXT;
-- JSON of the request settings (`outbound::EndpointSpec`); NULL: a JSON POST to `url`.
-- `url` holds the spec's URL template (credentials included) either way.
ALTER TABLE endpoints ADD COLUMN spec TEXT;
-- The person's choice: 'active' TRUE or 'inactive' FALSE. `enabled` (what ingest and the
-- claims read) is kept equal to: active, not deleted, and not disabled by delivery.
ALTER TABLE endpoints ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE endpoints ADD COLUMN auth_connector_id BIGINT REFERENCES auth_connectors (id);
-- After a rotation: the secret before, which also signs until it expires (unix ms).
ALTER TABLE endpoints ADD COLUMN previous_secret TEXT;
ALTER TABLE endpoints ADD COLUMN previous_secret_expires_at BIGINT;
-- Later deliveries wait until the earliest pending one has succeeded.
ALTER TABLE endpoints ADD COLUMN strict_order BOOLEAN NOT NULL DEFAULT FALSE;
-- JSON array of seconds after the 1st, 2nd… failure (the last repeats); NULL: the default.
ALTER TABLE endpoints ADD COLUMN retry_schedule TEXT;
-- NULL: the default (40).
ALTER TABLE endpoints ADD COLUMN max_attempts BIGINT;
-- Most requests per second; NULL: no limit.
ALTER TABLE endpoints ADD COLUMN rate_limit_per_second BIGINT;
-- Most requests in flight at once; NULL: the server's HOOKLINE_DELIVERY_CONCURRENCY_PER_ENDPOINT.
ALTER TABLE endpoints ADD COLUMN max_concurrency BIGINT;
-- Deliveries one request carries (the spec's batching.max_events); 1 without batching.
ALTER TABLE endpoints ADD COLUMN batch_max BIGINT NOT NULL DEFAULT 1;
ALTER TABLE endpoints ADD COLUMN deleted_at BIGINT;
-- Goes up with every change, so delivery workers know when to read an endpoint again.
ALTER TABLE endpoints ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

CREATE INDEX endpoints_by_workspace ON endpoints (workspace_id, id);

-- An endpoint's deliveries in order: strict ordering, its history, retry-failed.
CREATE INDEX deliveries_by_endpoint ON deliveries (endpoint_id, status, id);

-- The request the attempt sent (JSON: method, url, headers with credentials redacted, body
-- cut at 64 KiB). For a batch it is stored with the batch's first delivery's attempt only.
ALTER TABLE attempts ADD COLUMN request TEXT;
-- Deliveries the request carried (more than 1 when batching).
ALTER TABLE attempts ADD COLUMN batch_size BIGINT NOT NULL DEFAULT 1;
-- For a batch: the delivery whose attempt row holds the request.
ALTER TABLE attempts ADD COLUMN batch_delivery_id BIGINT;
