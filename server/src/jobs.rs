//! Jobs: webhooks sent by a person's decision or a schedule rather than by an event
//! (Leanplum's delivery methods). Triggered sends are the delivery engine's own; a job sends a
//! campaign's entries to one endpoint:
//!
//! - **manual**: now, every entry the campaign has (those the endpoint's audience lets
//!   through), one `entry.exported` delivery each, with progress, a count of sent and failed,
//!   and cancel;
//! - **one-time**: the same at a set time;
//! - **recurring**: every hour, day or week, one `digest.created` request whose body is a JSON
//!   array of every entry made since the last run (more than [`MAX_DIGEST_ENTRIES`] make more
//!   than one; a run with nothing new sends nothing).
//!
//! The job's state is in the database, so jobs survive restarts. [`JobRunner::try_next`] does
//! one step with the clock passed in (tests drive it); [`spawn_background`] runs steps with
//! the real clock. A step claims a due job with a lease (`store::jobs`), so two processes never
//! run one job at once, reads a page of entries, and queues what passes in one transaction
//! that checks the lease; each entry is recorded against the job under a unique key, so no
//! entry is sent twice by one job. The deliveries then go through the delivery engine (its
//! batching, rate limits, retries and history), which jobs must not bypass.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use protocol::admin::webhooks::{FieldProblem, Job, JobProgress};
use protocol::campaign::CampaignType;
use protocol::ids::{CampaignKey, EntryId, EntryMethodId, JobId, MessageId};
use protocol::payload::{self, EntryPayload, EventType};
use rand::distr::{Alphanumeric, SampleString as _};
use serde_json::Value;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

use crate::audience::Filter;
use crate::clock;
use crate::endpoints::{self, InvalidSettings};
use crate::outbound::{ContentType, EndpointSpec, Method};
use crate::store::{
    EntryBodyQuery, EntryBodyRow, JobDelivery, JobPage, JobRecord, PageWritten, Store, StoreError,
};

/// Entries one step of a manual or one-time job looks at.
pub const PAGE: u32 = 500;
/// Most entries one digest carries.
pub const MAX_DIGEST_ENTRIES: u32 = 1000;
/// How often (ms) the background runner looks for jobs whose deliveries have all gone.
const SENDING_CHECK_MS: i64 = 1000;
/// Longest idle wait between looks at the jobs, whatever they say.
const MAX_IDLE_WAIT: Duration = Duration::from_secs(60);
/// Wait after a database error before trying again.
const ERROR_BACKOFF: Duration = Duration::from_secs(5);

/// How a job sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Manual,
    OneTime,
    Recurring,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::OneTime => "one_time",
            Self::Recurring => "recurring",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Manual, Self::OneTime, Self::Recurring]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    /// The event type of its deliveries.
    pub fn event_type(self) -> EventType {
        match self {
            Self::Manual | Self::OneTime => EventType::EntryExported,
            Self::Recurring => EventType::DigestCreated,
        }
    }
}

/// How often a recurring job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    Hour,
    Day,
    Week,
}

impl Every {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Week => "week",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Hour, Self::Day, Self::Week]
            .into_iter()
            .find(|every| every.as_str() == text)
    }

    pub fn millis(self) -> i64 {
        match self {
            Self::Hour => 3_600_000,
            Self::Day => 86_400_000,
            Self::Week => 7 * 86_400_000,
        }
    }
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Waiting for `next_run_at`.
    Scheduled,
    /// Queuing entries, a page per step.
    Running,
    /// Every entry queued; its deliveries are under way.
    Sending,
    Completed,
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Running => "running",
            Self::Sending => "sending",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Scheduled,
            Self::Running,
            Self::Sending,
            Self::Completed,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

/// The first run after `previous` that is later than `now`, `every` apart: runs missed while
/// the server was down are not made up one by one (the next digest holds their entries).
pub fn next_run(previous: i64, every: Every, now: i64) -> i64 {
    let period = every.millis();
    if previous > now {
        return previous;
    }
    let missed = (now - previous) / period + 1;
    previous.saturating_add(missed.saturating_mul(period))
}

/// A job a person asked for, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub kind: JobKind,
    pub every: Option<Every>,
    /// When it first runs.
    pub run_at: i64,
}

fn problem(field: &str, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.to_owned(),
        message: message.into(),
        line: None,
        column: None,
    }
}

/// Checks a new job's kind and timing at `now`, and that the endpoint can send it (a digest
/// is a JSON array: JSON content, not GET). `run_at` is the RFC 3339 time already parsed
/// (`Err` with the text given when it did not parse).
pub fn plan(
    kind: &str,
    run_at: Option<Result<i64, String>>,
    every: Option<&str>,
    spec: &EndpointSpec,
    now: i64,
) -> Result<Plan, InvalidSettings> {
    let mut problems = Vec::new();
    let kind = JobKind::parse(kind).unwrap_or_else(|| {
        problems.push(problem(
            "kind",
            format!("must be manual, one_time or recurring, not {kind:?}"),
        ));
        JobKind::Manual
    });
    let run_at = match run_at {
        None => None,
        Some(Ok(at)) => Some(at),
        Some(Err(text)) => {
            problems.push(problem(
                "run_at",
                format!("must be an RFC 3339 time, like 2026-12-01T09:00:00Z, not {text:?}"),
            ));
            None
        }
    };
    let every = match every {
        None => None,
        Some(text) => match Every::parse(text) {
            Some(every) => Some(every),
            None => {
                problems.push(problem(
                    "every",
                    format!("must be hour, day or week, not {text:?}"),
                ));
                None
            }
        },
    };
    let mut first = now;
    match kind {
        JobKind::Manual => {
            if run_at.is_some() {
                problems.push(problem(
                    "run_at",
                    "a manual job runs now; make a one_time job to send later",
                ));
            }
            if every.is_some() {
                problems.push(problem("every", "only recurring jobs repeat"));
            }
        }
        JobKind::OneTime => {
            match run_at {
                Some(at) if at < now - 60_000 => problems.push(problem(
                    "run_at",
                    "is in the past; make a manual job to send now",
                )),
                Some(at) => first = at.max(now),
                None if problems.iter().all(|p| p.field != "run_at") => {
                    problems.push(problem("run_at", "a one_time job needs the time to run"));
                }
                None => {}
            }
            if every.is_some() {
                problems.push(problem("every", "only recurring jobs repeat"));
            }
        }
        JobKind::Recurring => {
            match every {
                Some(every) => {
                    first = run_at.map_or(now + every.millis(), |at| at.max(now));
                }
                None if problems.iter().all(|p| p.field != "every") => {
                    problems.push(problem("every", "a recurring job needs hour, day or week"));
                }
                None => {}
            }
            if spec.method == Method::Get || spec.content_type != ContentType::Json {
                problems.push(problem(
                    "kind",
                    "a digest is a JSON array: the endpoint must send JSON with POST, PUT or PATCH",
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(Plan {
            kind,
            every,
            run_at: first,
        })
    } else {
        Err(InvalidSettings(problems))
    }
}

/// A new job's id.
pub fn new_job_id() -> JobId {
    JobId::from_suffix(&Alphanumeric.sample_string(&mut rand::rng(), 20))
}

fn new_message_id() -> MessageId {
    MessageId::from_suffix(&Alphanumeric.sample_string(&mut rand::rng(), 24))
}

/// An entry's webhook body: the one its events were queued with, else one made from what is
/// stored (Gleam's shape; what is not stored, like the location, is empty).
pub fn entry_body(row: &EntryBodyRow) -> Result<String, StoreError> {
    if let Some(body) = &row.body {
        return Ok(body.clone());
    }
    let corrupt = |column: &'static str, value: &str| StoreError::Corrupt {
        column,
        value: value.to_owned(),
    };
    let details: BTreeMap<String, Value> = serde_json::from_str(&row.details)
        .map_err(|_| corrupt("contestants.details", &row.details))?;
    let payload = EntryPayload {
        campaign: payload::CampaignRef {
            name: row.campaign_name.clone(),
            key: CampaignKey::parse(&row.campaign_key)
                .ok_or_else(|| corrupt("campaign_key", &row.campaign_key))?,
            campaign_type: CampaignType::parse(&row.campaign_type)
                .ok_or_else(|| corrupt("campaign_type", &row.campaign_type))?,
        },
        reward: None,
        coupon: None,
        user: payload::User {
            name: row.name.clone(),
            first_name: row.first_name.clone(),
            last_name: row.last_name.clone(),
            email: row.email.clone(),
            country: String::new(),
            region: String::new(),
            city: String::new(),
            country_code: String::new(),
            actions_completed: u32::try_from(row.actions_completed).unwrap_or(0),
            details,
        },
        entry: payload::Entry {
            id: EntryId(row.id),
            entry_method_id: EntryMethodId(row.entry_method_id),
            action: row.action.clone(),
            created_at: payload::format_created_at(row.created_at.div_euclid(1000)),
            entry_type: row.method_type.clone(),
            value: row.entry_value.clone(),
            worth: u32::try_from(row.worth).unwrap_or(0),
            landing_url: row.landing_url.clone(),
            referring_url: row.referring_url.clone(),
            upload: None,
        },
        social_links: Vec::new(),
    };
    // An EntryPayload serialises: its maps have string keys.
    Ok(serde_json::to_string(&payload).unwrap_or_default())
}

/// Whether `filter` lets `body` through (a body that is not JSON, which nothing stores, does
/// not pass a filter with conditions).
pub fn passes(filter: &Filter, body: &str) -> bool {
    if filter.conditions().is_empty() {
        return true;
    }
    serde_json::from_str::<Value>(body).is_ok_and(|value| filter.matches(&value))
}

/// A digest's body: the entries' bodies as one JSON array, in entry order.
pub fn digest_body<'a>(bodies: impl IntoIterator<Item = &'a str>) -> String {
    let mut array = String::from("[");
    for (index, body) in bodies.into_iter().enumerate() {
        if index > 0 {
            array.push(',');
        }
        array.push_str(body);
    }
    array.push(']');
    array
}

/// A job as the admin API and the console show it, with how its deliveries stand.
pub async fn view(store: &Store, record: &JobRecord) -> Result<Job, StoreError> {
    let counts = store.job_counts(record.id).await?;
    let waiting = matches!(record.status, JobStatus::Scheduled | JobStatus::Running);
    let time = |at: Option<i64>| at.map(clock::rfc3339);
    Ok(Job {
        id: record.public_id.clone(),
        endpoint_id: record.endpoint_public_id.clone(),
        campaign: record.campaign_key.clone(),
        kind: record.kind.as_str().to_owned(),
        every: record.every.map(|every| every.as_str().to_owned()),
        status: record.status.as_str().to_owned(),
        next_run_at: waiting.then(|| clock::rfc3339(record.next_run_at)),
        runs: record.n_runs,
        progress: JobProgress {
            to_scan: record.n_to_scan,
            scanned: record.n_scanned,
            queued: record.n_queued,
            sent: counts.sent,
            failed: counts.failed,
            cancelled: counts.cancelled,
            pending: counts.pending,
        },
        created_at: clock::rfc3339(record.created_at),
        started_at: time(record.started_at),
        last_run_at: time(record.last_run_at),
        finished_at: time(record.finished_at),
    })
}

/// What one step of the runner did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobStep {
    /// Worked on a job: looked at `scanned` entries and queued `queued` of them.
    Worked {
        job: JobId,
        scanned: u64,
        queued: u64,
    },
    /// Jobs whose deliveries had all gone were marked completed.
    Completed(u64),
    /// A job whose endpoint is gone (or whose settings no longer read) was cancelled.
    Cancelled(JobId),
    /// Nothing was due.
    Idle,
}

/// Runs due jobs a step at a time.
#[derive(Debug, Clone)]
pub struct JobRunner {
    store: Store,
    lease: Duration,
    /// Woken when a step queued deliveries.
    deliveries_queued: Arc<Notify>,
}

impl JobRunner {
    pub fn new(store: Store, lease: Duration, deliveries_queued: Arc<Notify>) -> Self {
        Self {
            store,
            lease,
            deliveries_queued,
        }
    }

    fn lease_ms(&self) -> i64 {
        i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX)
    }

    /// One step at `now` (unix ms): marks finished jobs completed, else claims the job due
    /// longest and does a page of it (a manual or one-time job), or a whole run (a recurring
    /// one: every digest it makes), then lets the lease go.
    pub async fn try_next(&self, now: i64) -> Result<JobStep, StoreError> {
        let completed = self.store.complete_sent_jobs(now).await?;
        if completed > 0 {
            info!(
                jobs = completed,
                "jobs completed: every delivery of theirs has gone"
            );
            return Ok(JobStep::Completed(completed));
        }
        let lease_until = now.saturating_add(self.lease_ms());
        let Some(job) = self.store.claim_job(now, lease_until).await? else {
            return Ok(JobStep::Idle);
        };
        let endpoint = self.store.endpoint(job.endpoint_id).await?;
        let filter = match endpoint.as_ref().map(endpoints::audience_of) {
            Some(Ok(filter)) if endpoint.as_ref().is_some_and(|e| e.deleted_at.is_none()) => {
                filter.unwrap_or_default()
            }
            found => {
                let reason = match found {
                    Some(Err(problem)) => {
                        format!("its endpoint's audience does not read: {problem}")
                    }
                    _ => "its endpoint is deleted".to_owned(),
                };
                warn!(job = %job.public_id, %reason, "job cancelled");
                self.store.cancel_job(job.id, now).await?;
                return Ok(JobStep::Cancelled(job.public_id));
            }
        };
        let step = match job.kind {
            JobKind::Manual | JobKind::OneTime => {
                self.export_page(job, &filter, lease_until, now).await?
            }
            JobKind::Recurring => self.digest_run(job, &filter, lease_until, now).await?,
        };
        if let JobStep::Worked { queued, .. } = &step
            && *queued > 0
        {
            self.deliveries_queued.notify_waiters();
        }
        Ok(step)
    }

    /// One page of a manual or one-time job: one `entry.exported` delivery per entry that
    /// passes. The first page starts the run: it covers the entries made until then.
    async fn export_page(
        &self,
        mut job: JobRecord,
        filter: &Filter,
        lease_until: i64,
        now: i64,
    ) -> Result<JobStep, StoreError> {
        if job.status == JobStatus::Scheduled {
            if !self.store.start_job_run(&job, lease_until, now).await? {
                return Ok(JobStep::Idle);
            }
            match self.store.job(job.id).await? {
                Some(started) => job = started,
                None => return Ok(JobStep::Idle),
            }
            info!(job = %job.public_id, entries = job.n_to_scan, "job started");
        }
        let rows = self
            .store
            .entry_bodies(&EntryBodyQuery {
                workspace_id: None,
                campaign_ids: Some(&[job.campaign_id]),
                after_id: job.cursor_entry_id,
                up_to_id: Some(job.last_entry_id),
                not_queued_by: None,
                newest_first: false,
                limit: PAGE,
            })
            .await?;
        let last_seen = rows.last().map_or(job.last_entry_id, |row| row.id);
        let done = rows.len() < PAGE as usize || last_seen >= job.last_entry_id;
        let mut deliveries = Vec::with_capacity(rows.len());
        for row in &rows {
            let body = entry_body(row)?;
            if passes(filter, &body) {
                deliveries.push(JobDelivery {
                    webhook_id: new_message_id(),
                    entry_ids: vec![row.id],
                    body,
                });
            }
        }
        let written = self
            .store
            .write_job_page(&JobPage {
                job_id: job.id,
                endpoint_id: job.endpoint_id,
                lease_until,
                event_type: job.kind.event_type().as_str(),
                deliveries: &deliveries,
                cursor_entry_id: if done { job.last_entry_id } else { last_seen },
                n_scanned: rows.len() as u64,
                status: if done {
                    JobStatus::Sending
                } else {
                    JobStatus::Running
                },
                next_run_at: job.next_run_at,
                last_entry_id: job.last_entry_id,
                run_done: done,
                keep_lease: false,
                now,
            })
            .await?;
        Ok(match written {
            PageWritten::Queued(queued) => {
                if done {
                    info!(job = %job.public_id, queued = job.n_queued + queued, "job queued every entry");
                }
                JobStep::Worked {
                    job: job.public_id,
                    scanned: rows.len() as u64,
                    queued,
                }
            }
            PageWritten::Lost => JobStep::Idle,
        })
    }

    /// A recurring job's run: every entry made since the last run that passes, and that this
    /// job has not sent, in digests of up to [`MAX_DIGEST_ENTRIES`]. The cursor trails one
    /// run behind the highest entry seen, so an entry committed late (PostgreSQL numbers
    /// entries before they commit) is still found by the next run; the job's record of what
    /// it sent keeps those seen twice from going twice.
    async fn digest_run(
        &self,
        job: JobRecord,
        filter: &Filter,
        lease_until: i64,
        now: i64,
    ) -> Result<JobStep, StoreError> {
        let every = job.every.unwrap_or(Every::Day);
        let mut after = job.cursor_entry_id;
        let mut highest = job.last_entry_id;
        let (mut scanned, mut queued) = (0_u64, 0_u64);
        loop {
            let rows = self
                .store
                .entry_bodies(&EntryBodyQuery {
                    workspace_id: None,
                    campaign_ids: Some(&[job.campaign_id]),
                    after_id: after,
                    up_to_id: None,
                    not_queued_by: Some(job.id),
                    newest_first: false,
                    limit: MAX_DIGEST_ENTRIES,
                })
                .await?;
            let last_page = rows.len() < MAX_DIGEST_ENTRIES as usize;
            if let Some(last) = rows.last() {
                after = last.id;
                highest = highest.max(last.id);
            }
            let mut entry_ids = Vec::new();
            let mut bodies = Vec::new();
            for row in &rows {
                let body = entry_body(row)?;
                if passes(filter, &body) {
                    entry_ids.push(row.id);
                    bodies.push(body);
                }
            }
            let deliveries = if entry_ids.is_empty() {
                Vec::new()
            } else {
                vec![JobDelivery {
                    webhook_id: new_message_id(),
                    body: digest_body(bodies.iter().map(String::as_str)),
                    entry_ids,
                }]
            };
            let written = self
                .store
                .write_job_page(&JobPage {
                    job_id: job.id,
                    endpoint_id: job.endpoint_id,
                    lease_until,
                    event_type: job.kind.event_type().as_str(),
                    deliveries: &deliveries,
                    cursor_entry_id: if last_page {
                        job.last_entry_id
                    } else {
                        job.cursor_entry_id
                    },
                    n_scanned: rows.len() as u64,
                    status: JobStatus::Scheduled,
                    next_run_at: if last_page {
                        next_run(job.next_run_at, every, now)
                    } else {
                        job.next_run_at
                    },
                    last_entry_id: if last_page {
                        highest
                    } else {
                        job.last_entry_id
                    },
                    run_done: last_page,
                    keep_lease: !last_page,
                    now,
                })
                .await?;
            match written {
                PageWritten::Queued(n) => {
                    scanned += rows.len() as u64;
                    queued += n;
                }
                PageWritten::Lost => return Ok(JobStep::Idle),
            }
            if last_page {
                break;
            }
        }
        info!(job = %job.public_id, entries = queued, "recurring job ran");
        Ok(JobStep::Worked {
            job: job.public_id,
            scanned,
            queued,
        })
    }

    /// How long the background runner may sleep at `now`: until the next job falls due, or a
    /// second while a job's deliveries are under way (to see it complete).
    async fn idle_wait(&self, now: i64) -> Duration {
        match self
            .store
            .next_job_wake(now.saturating_add(SENDING_CHECK_MS))
            .await
        {
            Ok(Some(at)) => {
                Duration::from_millis(u64::try_from(at - now).unwrap_or(0)).min(MAX_IDLE_WAIT)
            }
            Ok(None) => MAX_IDLE_WAIT,
            Err(error) => {
                error!(%error, "the job runner could not read the jobs");
                ERROR_BACKOFF
            }
        }
    }
}

/// Runs jobs in the background with the real clock until `shutdown` turns true: steps one
/// after another while there is work, then sleeps until the next job is due or `wake` is
/// notified (a job was made). A step under way when told to stop finishes first.
pub fn spawn_background(
    runner: JobRunner,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if *shutdown.borrow() {
                break;
            }
            let woken = wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let now = clock::now_millis();
            let wait = match runner.try_next(now).await {
                Ok(JobStep::Idle) => runner.idle_wait(now).await,
                Ok(_) => Duration::ZERO,
                Err(error) => {
                    error!(%error, "the job runner failed a step; trying again");
                    ERROR_BACKOFF
                }
            };
            if wait.is_zero() {
                continue;
            }
            tokio::select! {
                () = &mut woken => {}
                () = tokio::time::sleep(wait) => {}
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn recurring_runs_keep_their_beat_and_skip_what_was_missed() {
        assert_eq!(next_run(10 * HOUR, Every::Hour, 10 * HOUR), 11 * HOUR);
        assert_eq!(next_run(10 * HOUR, Every::Hour, 10 * HOUR + 5), 11 * HOUR);
        // Down for three and a half hours: the next run is on the beat, not three runs now.
        assert_eq!(
            next_run(10 * HOUR, Every::Hour, 13 * HOUR + HOUR / 2),
            14 * HOUR
        );
        assert_eq!(next_run(0, Every::Day, 0), 24 * HOUR);
        assert_eq!(next_run(0, Every::Week, 1), 7 * 24 * HOUR);
        // Not yet due: unchanged.
        assert_eq!(next_run(20 * HOUR, Every::Hour, 10 * HOUR), 20 * HOUR);
    }

    fn check(
        kind: &str,
        run_at: Option<Result<i64, String>>,
        every: Option<&str>,
        spec: &EndpointSpec,
        expected: Result<(JobKind, Option<Every>, i64), &[&str]>,
    ) {
        let got = plan(kind, run_at, every, spec, 1_000_000)
            .map(|plan| (plan.kind, plan.every, plan.run_at))
            .map_err(|InvalidSettings(problems)| {
                problems.into_iter().map(|p| p.field).collect::<Vec<_>>()
            });
        let expected = expected.map_err(|fields| {
            fields
                .iter()
                .map(|&field| field.to_owned())
                .collect::<Vec<_>>()
        });
        assert_eq!(got, expected, "{kind} {every:?}");
    }

    #[test]
    fn a_plan_is_checked() {
        let json = EndpointSpec::new("https://api.example.com/");
        let mut form = json.clone();
        form.content_type = ContentType::Form;
        let mut get = json.clone();
        get.method = Method::Get;
        check(
            "manual",
            None,
            None,
            &json,
            Ok((JobKind::Manual, None, 1_000_000)),
        );
        check(
            "manual",
            Some(Ok(2_000_000)),
            Some("day"),
            &form,
            Err(&["run_at", "every"]),
        );
        check(
            "one_time",
            Some(Ok(5_000_000)),
            None,
            &form,
            Ok((JobKind::OneTime, None, 5_000_000)),
        );
        check("one_time", None, None, &json, Err(&["run_at"]));
        check("one_time", Some(Ok(1)), None, &json, Err(&["run_at"]));
        check(
            "one_time",
            Some(Err("tomorrow".into())),
            None,
            &json,
            Err(&["run_at"]),
        );
        check(
            "recurring",
            None,
            Some("hour"),
            &json,
            Ok((JobKind::Recurring, Some(Every::Hour), 1_000_000 + HOUR)),
        );
        check(
            "recurring",
            Some(Ok(9_000_000)),
            Some("week"),
            &json,
            Ok((JobKind::Recurring, Some(Every::Week), 9_000_000)),
        );
        check("recurring", None, None, &json, Err(&["every"]));
        check("recurring", None, Some("month"), &json, Err(&["every"]));
        check("recurring", None, Some("day"), &form, Err(&["kind"]));
        check("recurring", None, Some("day"), &get, Err(&["kind"]));
        check("weekly", None, None, &json, Err(&["kind"]));
    }

    #[test]
    fn a_digest_is_a_json_array_of_the_bodies_in_order() {
        assert_eq!(
            digest_body(["{\"a\":1}", "{\"b\":2}"]),
            "[{\"a\":1},{\"b\":2}]"
        );
        assert_eq!(digest_body([]), "[]");
    }

    #[test]
    fn stored_entries_without_a_queued_body_get_one_in_gleams_shape() {
        let row = EntryBodyRow {
            id: 7,
            campaign_id: 1,
            campaign_key: "a1XyD".into(),
            campaign_name: "My Campaign".into(),
            campaign_type: "Competition".into(),
            email: "joe@example.com".into(),
            name: "Joe Bloggs".into(),
            first_name: "Joe".into(),
            last_name: "Bloggs".into(),
            details: r#"{"How are you?":"Great"}"#.into(),
            actions_completed: 2,
            entry_method_id: 3,
            method_type: "email_subscribe".into(),
            action: "Subscribe".into(),
            entry_value: "joe@example.com".into(),
            worth: 1,
            landing_url: "https://example.com".into(),
            referring_url: String::new(),
            created_at: 1_447_823_677_000,
            body: None,
        };
        let body: Value = serde_json::from_str(&entry_body(&row).expect("a body")).expect("JSON");
        assert_eq!(body["campaign"]["key"], "a1XyD");
        assert_eq!(body["user"]["details"]["How are you?"], "Great");
        assert_eq!(body["entry"]["id"], 7);
        assert_eq!(body["entry"]["created_at"], "2015-11-18 05:14:37 UTC");
        let frozen = EntryBodyRow {
            body: Some("{\"frozen\":true}".into()),
            ..row
        };
        assert_eq!(entry_body(&frozen).expect("a body"), "{\"frozen\":true}");
        let filter =
            Filter::parse(crate::audience::Match::All, &["entry.worth >= 1"]).expect("parses");
        let rebuilt = entry_body(&EntryBodyRow {
            body: None,
            ..frozen.clone()
        })
        .expect("a body");
        assert!(passes(&filter, &rebuilt));
        assert!(!passes(&filter, "{\"frozen\":true}"));
        assert!(passes(&Filter::everyone(), "not json"));
    }
}
