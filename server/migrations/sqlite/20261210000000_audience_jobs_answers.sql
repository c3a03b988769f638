-- Webhooks that go further: an endpoint's audience filter and its data-source settings;
-- jobs (manual, one-time and recurring sends over a campaign's entries) with the entries each
-- has queued, once each; and which deliveries' answers the contestant is shown.

-- JSON `{"match": "all"|"any", "conditions": ["user.country_code == \"AU\"", …]}`
-- (`audience::Filter`); NULL: every event.
ALTER TABLE endpoints ADD COLUMN audience TEXT;
-- JSON `{"fields": ["promocode"], "timeout_ms": 3000}`: the endpoint's JSON answer to a
-- triggered delivery is shown to the contestant (those fields of it); NULL: not a data source.
ALTER TABLE endpoints ADD COLUMN data_source TEXT;

-- A send over a campaign's entries, run by the job runner in steps with a lease.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    -- `job_…`.
    public_id TEXT NOT NULL UNIQUE,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    endpoint_id BIGINT NOT NULL REFERENCES endpoints (id),
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    -- 'manual' (now), 'one_time' (at next_run_at) or 'recurring' (a digest every `every`).
    kind TEXT NOT NULL,
    -- 'hour', 'day' or 'week' for recurring jobs; NULL otherwise.
    every TEXT,
    -- 'scheduled' (waiting for next_run_at), 'running' (queuing entries), 'sending' (all
    -- queued, deliveries under way), 'completed' or 'cancelled'. A recurring job goes back to
    -- 'scheduled' after each run.
    status TEXT NOT NULL,
    -- When it runs (next), unix ms.
    next_run_at BIGINT NOT NULL,
    -- While set and in the future, a runner is working on it.
    lease_until BIGINT,
    -- Entries with a row id up to this are done: queued or left out by the filter.
    cursor_entry_id BIGINT NOT NULL,
    -- The last entry of the run under way (manual, one-time: the campaign's last entry when
    -- it started). Recurring: the highest entry seen by the last run.
    last_entry_id BIGINT NOT NULL,
    -- Entries looked at, and those the audience filter let through (queued).
    n_scanned BIGINT NOT NULL DEFAULT 0,
    n_queued BIGINT NOT NULL DEFAULT 0,
    -- Entries to look at in the run under way (manual, one-time), for progress.
    n_to_scan BIGINT NOT NULL DEFAULT 0,
    n_runs BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    last_run_at BIGINT,
    finished_at BIGINT
);

CREATE INDEX jobs_due ON jobs (status, next_run_at);
CREATE INDEX jobs_by_workspace ON jobs (workspace_id, id);

-- Every entry a job has queued, once: the primary key is what keeps a job from sending an
-- entry twice, whatever happens to the runner. No foreign keys: deleting a contestant
-- deletes their entries and deliveries, and this record of them goes with its job.
CREATE TABLE job_entries (
    job_id BIGINT NOT NULL,
    entry_id BIGINT NOT NULL,
    -- The delivery that carries it (one per entry, or a recurring run's digest).
    delivery_id BIGINT NOT NULL,
    PRIMARY KEY (job_id, entry_id)
);

CREATE INDEX job_entries_by_delivery ON job_entries (delivery_id);

-- Deliveries a job made.
ALTER TABLE deliveries ADD COLUMN job_id BIGINT REFERENCES jobs (id);
-- A data source's delivery of an entry's event due at once: its answer is shown to the
-- contestant (read by the entry's id: `deliveries_by_entry`).
ALTER TABLE deliveries ADD COLUMN shows_answer BOOLEAN NOT NULL DEFAULT FALSE;

-- Partial, so the many deliveries no job made cost this index nothing.
CREATE INDEX deliveries_by_job ON deliveries (job_id, status) WHERE job_id IS NOT NULL;
