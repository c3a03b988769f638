//! Jobs: sends over a campaign's entries (manual, one-time, recurring digests), taken by a
//! runner with a lease like deliveries, and the entries each has queued.
//!
//! A runner claims a due job (`lease_until` in the future keeps others away), reads a page of
//! entries on the pool, and queues what passes the endpoint's audience in one transaction
//! that first checks the lease is still its own and the job not cancelled, then writes the
//! deliveries, one `job_entries` row per entry (its primary key `(job_id, entry_id)` refuses
//! a second: no entry is sent twice by one job, whatever happens to a runner) and the job's
//! new cursor. A runner that dies loses nothing: the lease runs out, the job is claimed again
//! and goes on from its cursor.

use protocol::ids::{CampaignKey, EndpointId, JobId, MessageId};

use super::campaigns::parse_column;
use super::{BeginWrite, Store, StoreError, with_pool};
use crate::jobs::{Every, JobKind, JobStatus};

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    pub id: i64,
    pub public_id: JobId,
    pub workspace_id: i64,
    pub endpoint_id: i64,
    pub endpoint_public_id: EndpointId,
    pub campaign_id: i64,
    pub campaign_key: CampaignKey,
    pub kind: JobKind,
    pub every: Option<Every>,
    pub status: JobStatus,
    pub next_run_at: i64,
    pub lease_until: Option<i64>,
    /// Entries up to this row id are done.
    pub cursor_entry_id: i64,
    /// The run's last entry (manual, one-time); the highest seen by the last run (recurring).
    pub last_entry_id: i64,
    pub n_scanned: u64,
    pub n_queued: u64,
    pub n_to_scan: u64,
    pub n_runs: u64,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub last_run_at: Option<i64>,
    pub finished_at: Option<i64>,
}

/// A job to create.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub public_id: &'a JobId,
    pub workspace_id: i64,
    pub endpoint_id: i64,
    pub campaign_id: i64,
    pub kind: JobKind,
    pub every: Option<Every>,
    pub next_run_at: i64,
    pub now: i64,
}

/// Where a job's entries' deliveries stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobCounts {
    pub sent: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub pending: u64,
}

/// Which entries [`Store::entry_bodies`] reads, oldest first unless `newest_first`.
#[derive(Debug, Clone, Copy)]
pub struct EntryBodyQuery<'a> {
    pub workspace_id: Option<i64>,
    /// `None`: every campaign (of the workspace).
    pub campaign_ids: Option<&'a [i64]>,
    /// Row ids above this.
    pub after_id: i64,
    /// Row ids up to this, if given.
    pub up_to_id: Option<i64>,
    /// Leave out the entries this job has queued already.
    pub not_queued_by: Option<i64>,
    pub newest_first: bool,
    pub limit: u32,
}

/// An entry with what its webhook body is made of: the body its deliveries carried (frozen
/// when it was made), and the stored fields to make one when none was queued.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EntryBodyRow {
    pub id: i64,
    pub campaign_id: i64,
    pub campaign_key: String,
    pub campaign_name: String,
    pub campaign_type: String,
    pub email: String,
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub details: String,
    pub actions_completed: i64,
    pub entry_method_id: i64,
    pub method_type: String,
    pub action: String,
    pub entry_value: String,
    pub worth: i64,
    pub landing_url: String,
    pub referring_url: String,
    pub created_at: i64,
    /// The latest body an event of this entry was queued with (not a job's).
    pub body: Option<String>,
}

/// One delivery a job queues: the entries it carries (one, or a digest's) and its body.
#[derive(Debug, Clone)]
pub struct JobDelivery {
    pub webhook_id: MessageId,
    /// The entry row ids it carries; the first is the delivery's `entry_id` when it is one.
    pub entry_ids: Vec<i64>,
    pub body: String,
}

/// A step of a job's run, written at once if the runner still holds `lease_until` and the
/// job is not cancelled.
#[derive(Debug, Clone)]
pub struct JobPage<'a> {
    pub job_id: i64,
    pub endpoint_id: i64,
    pub lease_until: i64,
    pub event_type: &'a str,
    pub deliveries: &'a [JobDelivery],
    /// The cursor after this page.
    pub cursor_entry_id: i64,
    pub n_scanned: u64,
    /// What the job becomes: `Running` (more pages), `Sending` (the last page of a manual or
    /// one-time run) or `Scheduled` (a recurring run done; due again at `next_run_at`).
    pub status: JobStatus,
    pub next_run_at: i64,
    /// Recurring: the highest entry this run saw.
    pub last_entry_id: i64,
    /// Recurring: the run is over (counted, `last_run_at` set).
    pub run_done: bool,
    /// Keep the lease (more pages of this run follow in the same step).
    pub keep_lease: bool,
    pub now: i64,
}

/// What writing a page did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageWritten {
    /// Written; this many deliveries queued (entries already queued by the job were left
    /// out).
    Queued(u64),
    /// The lease was lost, or the job was cancelled: nothing written.
    Lost,
}

/// The columns [`JobRow`] reads, from `jobs j`, `endpoints ep` and `campaigns k`.
macro_rules! job_columns {
    () => {
        "j.id, j.public_id, j.workspace_id, j.endpoint_id, ep.public_id AS endpoint_public_id,
         j.campaign_id, k.campaign_key, j.kind, j.every, j.status, j.next_run_at, j.lease_until,
         j.cursor_entry_id, j.last_entry_id, j.n_scanned, j.n_queued, j.n_to_scan, j.n_runs,
         j.created_at, j.started_at, j.last_run_at, j.finished_at
         FROM jobs j JOIN endpoints ep ON ep.id = j.endpoint_id JOIN campaigns k ON k.id = j.campaign_id "
    };
}

/// Rows of a multi-row insert of deliveries per statement (8 values each, well under
/// SQLite's limit on bound values).
const INSERT_CHUNK: usize = 200;

impl Store {
    /// Creates a job. A recurring one starts after the campaign's latest entry: its first
    /// digest holds what comes next.
    pub async fn insert_job(&self, new: &NewJob<'_>) -> Result<JobRecord, StoreError> {
        let id: i64 = with_pool!(&self.pool, pool => {
            sqlx::query_scalar(
                "INSERT INTO jobs (public_id, workspace_id, endpoint_id, campaign_id, kind, every, status,
                                   next_run_at, cursor_entry_id, last_entry_id, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 'scheduled', $7,
                         CASE WHEN $5 = 'recurring'
                              THEN (SELECT COALESCE(MAX(id), 0) FROM entries WHERE campaign_id = $4)
                              ELSE 0 END,
                         CASE WHEN $5 = 'recurring'
                              THEN (SELECT COALESCE(MAX(id), 0) FROM entries WHERE campaign_id = $4)
                              ELSE 0 END,
                         $8)
                 RETURNING id",
            )
            .bind(new.public_id.as_str())
            .bind(new.workspace_id)
            .bind(new.endpoint_id)
            .bind(new.campaign_id)
            .bind(new.kind.as_str())
            .bind(new.every.map(Every::as_str))
            .bind(new.next_run_at)
            .bind(new.now)
            .fetch_one(pool)
            .await?
        });
        self.job(id).await?.ok_or(StoreError::Corrupt {
            column: "jobs.id",
            value: id.to_string(),
        })
    }

    /// Job row `id`.
    pub async fn job(&self, id: i64) -> Result<Option<JobRecord>, StoreError> {
        let row: Option<JobRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!("SELECT ", job_columns!(), "WHERE j.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(JobRow::into_record).transpose()
    }

    /// Job `public_id` of workspace `workspace_id`.
    pub async fn workspace_job(
        &self,
        workspace_id: i64,
        public_id: &str,
    ) -> Result<Option<JobRecord>, StoreError> {
        let row: Option<JobRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!("SELECT ", job_columns!(), "WHERE j.public_id = $1 AND j.workspace_id = $2"))
                .bind(public_id)
                .bind(workspace_id)
                .fetch_optional(pool)
                .await?
        });
        row.map(JobRow::into_record).transpose()
    }

    /// Up to `limit` of the workspace's jobs (of endpoint `endpoint_id` only, if given),
    /// newest first, before row id `before`.
    pub async fn workspace_jobs(
        &self,
        workspace_id: i64,
        endpoint_id: Option<i64>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<JobRecord>, StoreError> {
        let rows: Vec<JobRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(concat!(
                "SELECT ", job_columns!(),
                "WHERE j.workspace_id = $1 AND ($2 IS NULL OR j.endpoint_id = $2) AND j.id < $3
                 ORDER BY j.id DESC LIMIT $4"
            ))
            .bind(workspace_id)
            .bind(endpoint_id)
            .bind(before.unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(JobRow::into_record).collect()
    }

    /// How job `id`'s queued entries stand: delivered, given up, cancelled, still waiting.
    pub async fn job_counts(&self, id: i64) -> Result<JobCounts, StoreError> {
        let rows: Vec<(String, i64)> = with_pool!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT d.status, COUNT(*) FROM job_entries je JOIN deliveries d ON d.id = je.delivery_id
                 WHERE je.job_id = $1 GROUP BY d.status",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        let mut counts = JobCounts::default();
        for (status, n) in rows {
            let n = u64::try_from(n).unwrap_or(0);
            match status.as_str() {
                "delivered" => counts.sent += n,
                "failed" => counts.failed += n,
                "cancelled" => counts.cancelled += n,
                _ => counts.pending += n,
            }
        }
        Ok(counts)
    }

    /// Cancels job `id` (unless it has completed or was cancelled) and every delivery of it
    /// not yet sent, in one transaction; a runner holding it writes nothing more. How many
    /// deliveries were cancelled; `None` if the job was already over.
    pub async fn cancel_job(&self, id: i64, now: i64) -> Result<Option<u64>, StoreError> {
        with_pool!(&self.pool, pool => {
            let mut tx = pool.begin_write().await?;
            let cancelled = sqlx::query(
                "UPDATE jobs SET status = 'cancelled', lease_until = NULL, finished_at = $1
                 WHERE id = $2 AND status NOT IN ('completed', 'cancelled')",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if cancelled == 0 {
                return Ok(None);
            }
            let deliveries = sqlx::query(
                "UPDATE deliveries SET status = 'cancelled', lease_until = NULL
                 WHERE job_id = $1 AND status IN ('pending', 'held')",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(Some(deliveries))
        })
    }

    /// Marks completed every job whose entries are all queued and none of whose deliveries
    /// waits any more; how many.
    pub async fn complete_sent_jobs(&self, now: i64) -> Result<u64, StoreError> {
        Ok(with_pool!(&self.pool, pool => {
            sqlx::query(
                "UPDATE jobs SET status = 'completed', finished_at = $1
                 WHERE status = 'sending' AND NOT EXISTS (
                     SELECT 1 FROM deliveries d WHERE d.job_id = jobs.id AND d.status IN ('pending', 'held'))",
            )
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        }))
    }

    /// Claims the job due longest at `now` that no runner holds, until `lease_until`. On
    /// PostgreSQL a job another process is claiming at the same moment is skipped.
    pub async fn claim_job(
        &self,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<JobRecord>, StoreError> {
        let lock = if self.is_postgres() {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE jobs SET lease_until = $1
             WHERE id = (SELECT id FROM jobs
                         WHERE status IN ('scheduled', 'running') AND next_run_at <= $2
                           AND (lease_until IS NULL OR lease_until <= $2)
                         ORDER BY next_run_at, id LIMIT 1{lock})
             RETURNING id"
        );
        let claimed: Option<i64> = with_pool!(&self.pool, pool => {
            let mut tx = pool.begin_write().await?;
            let claimed = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(lease_until)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            tx.commit().await?;
            claimed
        });
        match claimed {
            Some(id) => self.job(id).await,
            None => Ok(None),
        }
    }

    /// When the job runner has something to do next: the earliest `next_run_at` of a job
    /// waiting to run, or `sending_check` if a job's deliveries are under way (to see it
    /// complete); `None` if no job is waiting or sending.
    pub async fn next_job_wake(&self, sending_check: i64) -> Result<Option<i64>, StoreError> {
        Ok(with_pool!(&self.pool, pool => {
            sqlx::query_scalar(
                "SELECT MIN(CASE WHEN status = 'sending' THEN $1 ELSE next_run_at END) FROM jobs
                 WHERE status IN ('scheduled', 'running', 'sending')",
            )
            .bind(sending_check)
            .fetch_one(pool)
            .await?
        }))
    }

    /// Starts the run of a manual or one-time job the runner holds: it covers the campaign's
    /// entries up to the latest one now. `false` if the lease was lost.
    pub async fn start_job_run(
        &self,
        job: &JobRecord,
        lease_until: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let started = with_pool!(&self.pool, pool => {
            sqlx::query(
                "UPDATE jobs SET status = 'running', started_at = $1,
                     last_entry_id = (SELECT COALESCE(MAX(id), 0) FROM entries WHERE campaign_id = $2),
                     n_to_scan = (SELECT COUNT(*) FROM entries WHERE campaign_id = $2 AND id > cursor_entry_id
                                  AND verdict <> 'disqualified')
                 WHERE id = $3 AND lease_until = $4 AND status = 'scheduled'",
            )
            .bind(now)
            .bind(job.campaign_id)
            .bind(job.id)
            .bind(lease_until)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(started > 0)
    }

    /// Entries as [`EntryBodyQuery`] says, with what their webhook bodies are made of.
    /// Disqualified entries are left out.
    pub async fn entry_bodies(
        &self,
        query: &EntryBodyQuery<'_>,
    ) -> Result<Vec<EntryBodyRow>, StoreError> {
        let rows: Vec<EntryBodyRow> = with_pool!(&self.pool, pool => {
            let mut sql = sqlx::QueryBuilder::new(
                "SELECT e.id, e.campaign_id, k.campaign_key, k.name AS campaign_name, k.campaign_type,
                        c.email, c.name, c.first_name, c.last_name, c.details, e.actions_completed,
                        e.entry_method_id, m.method_type, m.action, e.entry_value, e.worth, e.landing_url,
                        e.referring_url, e.created_at,
                        (SELECT d.body FROM deliveries d WHERE d.entry_id = e.id AND d.job_id IS NULL
                         ORDER BY d.id DESC LIMIT 1) AS body
                 FROM entries e
                 JOIN contestants c ON c.id = e.contestant_id
                 JOIN entry_methods m ON m.id = e.entry_method_id
                 JOIN campaigns k ON k.id = e.campaign_id
                 WHERE e.verdict <> 'disqualified' AND e.id > ",
            );
            sql.push_bind(query.after_id);
            if let Some(workspace_id) = query.workspace_id {
                sql.push(" AND k.workspace_id = ").push_bind(workspace_id);
            }
            if let Some(up_to) = query.up_to_id {
                sql.push(" AND e.id <= ").push_bind(up_to);
            }
            if let Some(ids) = query.campaign_ids {
                sql.push(" AND e.campaign_id IN (");
                let mut separated = sql.separated(", ");
                for id in ids {
                    separated.push_bind(*id);
                }
                if ids.is_empty() {
                    separated.push("NULL");
                }
                sql.push(")");
            }
            if let Some(job_id) = query.not_queued_by {
                sql.push(" AND NOT EXISTS (SELECT 1 FROM job_entries je WHERE je.job_id = ")
                    .push_bind(job_id)
                    .push(" AND je.entry_id = e.id)");
            }
            sql.push(if query.newest_first {
                " ORDER BY e.id DESC LIMIT "
            } else {
                " ORDER BY e.id LIMIT "
            })
            .push_bind(i64::from(query.limit));
            sql.build_query_as().fetch_all(pool).await?
        });
        Ok(rows)
    }

    /// Writes one step of a job's run (see [`JobPage`]): first the lease check, then each
    /// delivery with its `job_entries` rows, then the job's cursor and counts.
    pub async fn write_job_page(&self, page: &JobPage<'_>) -> Result<PageWritten, StoreError> {
        with_pool!(&self.pool, pool => {
            let mut tx = pool.begin_write().await?;
            // Taking the job's row first also keeps a concurrent cancel (PostgreSQL) waiting
            // until this page is written or given up.
            let still_ours = sqlx::query(
                "UPDATE jobs SET lease_until = lease_until WHERE id = $1 AND lease_until = $2
                 AND status IN ('scheduled', 'running')",
            )
            .bind(page.job_id)
            .bind(page.lease_until)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if still_ours == 0 {
                return Ok(PageWritten::Lost);
            }
            // Entries this job queued already (a run started again after a crash) are left
            // out here; the primary key would refuse them anyway.
            let mut queued = 0_u64;
            let mut new_rows: Vec<(&JobDelivery, Vec<i64>)> = Vec::with_capacity(page.deliveries.len());
            for delivery in page.deliveries {
                let mut fresh = Vec::with_capacity(delivery.entry_ids.len());
                for chunk in delivery.entry_ids.chunks(INSERT_CHUNK) {
                    let mut sql = sqlx::QueryBuilder::new(
                        "SELECT entry_id FROM job_entries WHERE job_id = ",
                    );
                    sql.push_bind(page.job_id).push(" AND entry_id IN (");
                    let mut separated = sql.separated(", ");
                    for id in chunk {
                        separated.push_bind(*id);
                    }
                    sql.push(")");
                    let taken: Vec<i64> = sql.build_query_scalar().fetch_all(&mut *tx).await?;
                    fresh.extend(chunk.iter().copied().filter(|id| !taken.contains(id)));
                }
                if !fresh.is_empty() {
                    new_rows.push((delivery, fresh));
                }
            }
            for chunk in new_rows.chunks(INSERT_CHUNK) {
                let mut sql = sqlx::QueryBuilder::new(
                    "INSERT INTO deliveries (webhook_id, endpoint_id, entry_id, job_id, event_type, body, status,
                                             n_attempts, next_attempt_at, created_at) ",
                );
                sql.push_values(chunk, |mut row, (delivery, fresh)| {
                    let entry_id = (delivery.entry_ids.len() == 1).then(|| fresh[0]);
                    row.push_bind(delivery.webhook_id.as_str())
                        .push_bind(page.endpoint_id)
                        .push_bind(entry_id)
                        .push_bind(page.job_id)
                        .push_bind(page.event_type)
                        .push_bind(delivery.body.as_str())
                        .push("'pending', 0")
                        .push_bind(page.now)
                        .push_bind(page.now);
                });
                sql.push(" RETURNING id, webhook_id");
                let made: Vec<(i64, String)> = sql.build_query_as().fetch_all(&mut *tx).await?;
                let mut links: Vec<(i64, i64)> = Vec::new();
                for (delivery, fresh) in chunk {
                    let Some((delivery_id, _)) = made
                        .iter()
                        .find(|(_, webhook_id)| webhook_id == delivery.webhook_id.as_str())
                    else {
                        return Err(StoreError::Corrupt {
                            column: "deliveries.webhook_id",
                            value: delivery.webhook_id.as_str().to_owned(),
                        });
                    };
                    links.extend(fresh.iter().map(|entry_id| (*entry_id, *delivery_id)));
                }
                queued += links.len() as u64;
                for links in links.chunks(INSERT_CHUNK) {
                    let mut sql = sqlx::QueryBuilder::new(
                        "INSERT INTO job_entries (job_id, entry_id, delivery_id) ",
                    );
                    sql.push_values(links, |mut row, (entry_id, delivery_id)| {
                        row.push_bind(page.job_id)
                            .push_bind(*entry_id)
                            .push_bind(*delivery_id);
                    });
                    sql.build().execute(&mut *tx).await?;
                }
            }
            sqlx::query(
                "UPDATE jobs SET status = $1, cursor_entry_id = $2, n_scanned = n_scanned + $3,
                     n_queued = n_queued + $4, next_run_at = $5,
                     last_entry_id = CASE WHEN kind = 'recurring' THEN $6 ELSE last_entry_id END,
                     n_runs = n_runs + (CASE WHEN $7 THEN 1 ELSE 0 END),
                     last_run_at = CASE WHEN $7 THEN $8 ELSE last_run_at END,
                     started_at = COALESCE(started_at, $8),
                     lease_until = CASE WHEN $9 THEN lease_until ELSE NULL END
                 WHERE id = $10",
            )
            .bind(page.status.as_str())
            .bind(page.cursor_entry_id)
            .bind(i64::try_from(page.n_scanned).unwrap_or(i64::MAX))
            .bind(i64::try_from(queued).unwrap_or(i64::MAX))
            .bind(page.next_run_at)
            .bind(page.last_entry_id)
            .bind(page.run_done)
            .bind(page.now)
            .bind(page.keep_lease)
            .bind(page.job_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(PageWritten::Queued(queued))
        })
    }
}

/// `jobs` as read (with its endpoint's and campaign's public ids).
#[derive(Debug, sqlx::FromRow)]
struct JobRow {
    id: i64,
    public_id: String,
    workspace_id: i64,
    endpoint_id: i64,
    endpoint_public_id: String,
    campaign_id: i64,
    campaign_key: String,
    kind: String,
    every: Option<String>,
    status: String,
    next_run_at: i64,
    lease_until: Option<i64>,
    cursor_entry_id: i64,
    last_entry_id: i64,
    n_scanned: i64,
    n_queued: i64,
    n_to_scan: i64,
    n_runs: i64,
    created_at: i64,
    started_at: Option<i64>,
    last_run_at: Option<i64>,
    finished_at: Option<i64>,
}

impl JobRow {
    fn into_record(self) -> Result<JobRecord, StoreError> {
        let count = |column: &'static str, value: i64| {
            u64::try_from(value).map_err(|_| StoreError::Corrupt {
                column,
                value: value.to_string(),
            })
        };
        Ok(JobRecord {
            id: self.id,
            public_id: parse_column("jobs.public_id", self.public_id, JobId::parse)?,
            workspace_id: self.workspace_id,
            endpoint_id: self.endpoint_id,
            endpoint_public_id: parse_column(
                "endpoints.public_id",
                self.endpoint_public_id,
                EndpointId::parse,
            )?,
            campaign_id: self.campaign_id,
            campaign_key: parse_column("campaign_key", self.campaign_key, CampaignKey::parse)?,
            kind: parse_column("jobs.kind", self.kind, JobKind::parse)?,
            every: self
                .every
                .map(|every| parse_column("jobs.every", every, Every::parse))
                .transpose()?,
            status: parse_column("jobs.status", self.status, JobStatus::parse)?,
            next_run_at: self.next_run_at,
            lease_until: self.lease_until,
            cursor_entry_id: self.cursor_entry_id,
            last_entry_id: self.last_entry_id,
            n_scanned: count("n_scanned", self.n_scanned)?,
            n_queued: count("n_queued", self.n_queued)?,
            n_to_scan: count("n_to_scan", self.n_to_scan)?,
            n_runs: count("n_runs", self.n_runs)?,
            created_at: self.created_at,
            started_at: self.started_at,
            last_run_at: self.last_run_at,
            finished_at: self.finished_at,
        })
    }
}
