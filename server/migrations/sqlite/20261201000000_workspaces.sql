-- The admin API: workspaces own campaigns and endpoints; API keys (stored hashed) act for one
-- workspace. Campaigns gain their schedule, allowed origins and type-specific settings;
-- entry methods their repeat rule and per-type settings; entries a record of verdict overrides.

CREATE TABLE workspaces (
    id INTEGER PRIMARY KEY,
    -- `ws_…`.
    public_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    -- `key_…`, the id shown in lists (the key itself is shown once, at creation).
    public_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- SHA-256 of the key, hex. Keys are 144 random bits, so a fast hash is enough.
    token_hash TEXT NOT NULL UNIQUE,
    -- The key's last four characters, to tell keys apart in lists.
    token_hint TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

CREATE INDEX api_keys_by_workspace ON api_keys (workspace_id);

-- NULL: made before workspaces existed (the demo campaign), adopted by the first workspace.
ALTER TABLE campaigns ADD COLUMN workspace_id BIGINT REFERENCES workspaces (id);
-- Unix ms; NULL: no limit.
ALTER TABLE campaigns ADD COLUMN starts_at BIGINT;
ALTER TABLE campaigns ADD COLUMN ends_at BIGINT;
-- JSON array of origins (`https://shop.example`) whose pages may post entries; empty: any.
ALTER TABLE campaigns ADD COLUMN allowed_origins TEXT NOT NULL DEFAULT '[]';
ALTER TABLE campaigns ADD COLUMN image_url TEXT NOT NULL DEFAULT '';
-- JSON object: the campaign type's own settings (reward, capture display…).
ALTER TABLE campaigns ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
ALTER TABLE campaigns ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;

CREATE INDEX campaigns_by_workspace ON campaigns (workspace_id, id);

-- Whether the action may be repeated once a day (else once).
ALTER TABLE entry_methods ADD COLUMN daily BOOLEAN NOT NULL DEFAULT FALSE;
-- JSON object: the method type's own settings (question, URL…).
ALTER TABLE entry_methods ADD COLUMN config TEXT NOT NULL DEFAULT '{}';
-- Set when removed from the campaign; kept because entries point at it.
ALTER TABLE entry_methods ADD COLUMN archived_at BIGINT;

-- The filter's own verdict, kept when a person overrides `verdict` (NULL: never overridden).
ALTER TABLE entries ADD COLUMN original_verdict TEXT;
ALTER TABLE entries ADD COLUMN verdict_overridden_at BIGINT;

CREATE INDEX entries_by_campaign ON entries (campaign_id, id);
CREATE INDEX deliveries_by_entry ON deliveries (entry_id);

-- NULL: an operator's endpoint (from the settings, or the demo), sent every campaign's events.
ALTER TABLE endpoints ADD COLUMN workspace_id BIGINT REFERENCES workspaces (id);
