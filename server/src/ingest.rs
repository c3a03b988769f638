//! Turning an `EntryRequest` into a stored entry and its deliveries.
//!
//! Validates everything first, then writes the contestant, the entry and one delivery per
//! subscribed endpoint in one transaction, and wakes the delivery worker after the commit.
//!
//! Group commit: one writer task takes every entry waiting in its queue (up to
//! [`MAX_GROUP`]) and writes them in one transaction, each inside its own savepoint, so one
//! durable commit (fsync) serves many requests and a failing entry is undone alone. Nobody
//! waits to fill a group: while one commit is on its way to disk the next group gathers, so
//! a lone entry is committed at once. A request is answered only after its group commits.
//! The per-entry work below ([`insert`]) is written once over [`EntryWrites`]: on SQLite it
//! runs on the store's entry writer thread ([`crate::store::EntryWriter`]), where every call
//! completes at once; on PostgreSQL on a pool transaction, several groups at a time. The idempotency key is checked by
//! the unique index inside the group, and again on the pool only when a key turns out taken
//! or the request is refused.
//! Inside that transaction it gathers the fraud filter's signals, scores the entry
//! ([`crate::fraud`]) and stores the verdict with it; the answer is the same whatever the
//! verdict. `entry.created` is due at once; `subscriber.created` and `entry.disqualified` are
//! held for the campaign's hold window and settled by the entry's verdict then.
//! Must not know HTTP: it returns [`IngestError`]s that the API maps to status codes.

use std::collections::HashMap;
use std::collections::hash_map::Entry as MapEntry;
use std::net::IpAddr;
use std::sync::Arc;

use protocol::campaign::{CampaignType, EntryMethodType};
use protocol::entry::{EntryRequest, EntryResponse, EntrySummary, MAX_IDEMPOTENCY_KEY_LEN};
use protocol::ids::{CampaignKey, EntryId, MessageId};
use protocol::payload::{CampaignRef, Entry, EntryPayload, EventType, User, format_created_at};
use protocol::validate::{EmailProblem, MAX_NAME_LEN, normalize_email, split_name};
use rand::distr::{Alphanumeric, SampleString as _};
use tokio::sync::{Notify, Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;
use tracing::{error, info};

use crate::campaigns;
use crate::fraud::{self, Decision, Signals, Verdict};
use crate::limits::{Limited, RateLimits};
use crate::social::{self, Activity};
use crate::store::{
    CampaignRecord, ContestantRecord, EntryMethodRecord, EntryPath, EntryWrites, FraudCounts,
    FraudCountsQuery, NewContestant, NewDelivery, NewEntry, PgWriteTx, Store, StoreError,
    StoredEntry, SubscribedEndpoint, run_ready,
};

/// Why an entry was refused. Nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("no campaign has this key")]
    CampaignNotFound,
    #[error("this campaign is not taking entries")]
    CampaignNotRunning,
    #[error("this campaign has not started yet")]
    CampaignNotStarted,
    #[error("this campaign has ended")]
    CampaignEnded,
    /// Too many entries from this address, into this campaign or by this email.
    #[error("too many entries ({}): try again in {:?}", .0.scope.as_str(), .0.retry_after)]
    RateLimited(Limited),
    /// The page posting it is not on one of the campaign's allowed origins.
    #[error("entries from {0} are not allowed for this campaign")]
    OriginNotAllowed(String),
    #[error("this campaign has no entry method {0}")]
    UnknownEntryMethod(i64),
    #[error("{0}")]
    InvalidEmail(EmailProblem),
    #[error("the name is longer than {MAX_NAME_LEN} characters")]
    InvalidName,
    #[error("please agree to the terms to enter")]
    ConsentRequired,
    #[error("the idempotency key {0}")]
    InvalidIdempotencyKey(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An accepted entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// A new entry was stored.
    Created(EntryResponse),
    /// The idempotency key was seen before: this is the first entry's answer again.
    Replayed(EntryResponse),
}

/// Most entries one commit carries.
pub const MAX_GROUP: usize = 512;
/// Entries that may wait for the writer; a full queue makes requests wait (backpressure).
const QUEUE_CAPACITY: usize = 8192;
/// Groups written at once on PostgreSQL, each on its own connection.
const POSTGRES_PARALLEL_GROUPS: usize = 4;

/// Records entries and tells the delivery worker when there is something to send.
#[derive(Debug, Clone)]
pub struct Ingest {
    store: Store,
    writer: mpsc::Sender<WriteJob>,
    limits: RateLimits,
}

/// One validated entry waiting for the writer, and where to send its outcome.
#[derive(Debug)]
struct WriteJob {
    entry: PendingEntry,
    reply: oneshot::Sender<Result<Option<EntryResponse>, StoreError>>,
}

/// What the writer needs to store one entry.
#[derive(Debug)]
struct PendingEntry {
    campaign: CampaignRecord,
    method_index: usize,
    email: String,
    name: String,
    first_name: String,
    last_name: String,
    request: EntryRequest,
    client_ip: Option<IpAddr>,
    now: i64,
}

impl Ingest {
    /// Starts the writer task (on the current tokio runtime). It stops when the last
    /// `Ingest` clone is dropped, after writing what was queued.
    pub fn new(
        store: Store,
        deliveries_queued: Arc<Notify>,
        limits: RateLimits,
        activity: Activity,
    ) -> Self {
        let (writer, jobs) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(write_groups(
            store.clone(),
            jobs,
            deliveries_queued,
            activity,
        ));
        Self {
            store,
            writer,
            limits,
        }
    }

    /// The entry route's rate limits (the uploads route counts against them too).
    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// Validates `request` for the campaign `key`, sent from `client_ip` (the connecting
    /// peer, when known) by a page at `origin` (the `Origin` header, when sent), and records
    /// it at time `now` (unix ms).
    pub async fn record_entry(
        &self,
        key: &CampaignKey,
        request: &EntryRequest,
        client_ip: Option<IpAddr>,
        origin: Option<&str>,
        now: i64,
    ) -> Result<Recorded, IngestError> {
        let campaign = self
            .store
            .recent_campaign_by_key(key, now)
            .await?
            .ok_or(IngestError::CampaignNotFound)?;
        if !campaigns::origin_allowed(&campaign.allowed_origins, origin) {
            return Err(IngestError::OriginNotAllowed(
                origin.unwrap_or_default().to_owned(),
            ));
        }
        check_idempotency_key(&request.idempotency_key)?;
        let campaign_id = campaign.id;
        // A retried request gets its first answer even if the campaign has closed since, or
        // the request would not pass now. A valid one finds out in the writer: the unique
        // index on the key turns its insert into `None` below.
        let valid = match validate(&campaign, request, now) {
            Ok(valid) => valid,
            Err(refused) => {
                return match self.replay(campaign_id, request).await? {
                    Some(replayed) => Ok(replayed),
                    None => Err(refused),
                };
            }
        };
        if let Err(limited) = self.limits.check(client_ip, campaign_id, &valid.email) {
            // A retry of an entry already stored is its answer again, limited or not.
            return match self.replay(campaign_id, request).await? {
                Some(replayed) => Ok(replayed),
                None => Err(IngestError::RateLimited(limited)),
            };
        }
        let (reply, outcome) = oneshot::channel();
        let entry = PendingEntry {
            method_index: valid.method_index,
            email: valid.email,
            name: valid.name,
            first_name: valid.first_name,
            last_name: valid.last_name,
            campaign,
            request: request.clone(),
            client_ip,
            now,
        };
        let job = WriteJob { entry, reply };
        self.writer
            .send(job)
            .await
            .map_err(|_| StoreError::NotCommitted)?;
        let written = outcome.await.map_err(|_| StoreError::NotCommitted)??;
        match written {
            Some(response) => Ok(Recorded::Created(response)),
            // The key was taken: by an earlier request, or by a concurrent one committed first.
            None => self.replay(campaign_id, request).await?.ok_or_else(|| {
                StoreError::Corrupt {
                    column: "entries.idempotency_key",
                    value: request.idempotency_key.clone(),
                }
                .into()
            }),
        }
    }

    /// The answer to the entry already stored under `request`'s idempotency key, if any.
    async fn replay(
        &self,
        campaign_id: i64,
        request: &EntryRequest,
    ) -> Result<Option<Recorded>, IngestError> {
        let entry = self
            .store
            .entry_by_idempotency_key(campaign_id, &request.idempotency_key)
            .await?;
        Ok(entry.map(|entry| Recorded::Replayed(response_for(&entry))))
    }
}

/// The writer: takes whatever is queued, writes it as one group, answers each request after
/// the commit, wakes the delivery worker. Ends when every sender is gone, after the groups
/// under way have committed.
///
/// SQLite has one writer, so one group at a time: the next gathers while one commits.
/// PostgreSQL takes several groups at once on separate connections
/// ([`POSTGRES_PARALLEL_GROUPS`]); row locks keep them apart.
async fn write_groups(
    store: Store,
    mut jobs: mpsc::Receiver<WriteJob>,
    deliveries_queued: Arc<Notify>,
    activity: Activity,
) {
    let parallel = match store.entry_path() {
        EntryPath::Sqlite(_) => 1,
        EntryPath::Postgres(_) => POSTGRES_PARALLEL_GROUPS,
    };
    let slots = Arc::new(Semaphore::new(parallel));
    let mut under_way = JoinSet::new();
    loop {
        // Waiting for a slot before taking the group lets it grow while others commit.
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            break;
        };
        let mut group = Vec::with_capacity(MAX_GROUP);
        if jobs.recv_many(&mut group, MAX_GROUP).await == 0 {
            break;
        }
        let (store, deliveries_queued, activity) = (
            store.clone(),
            Arc::clone(&deliveries_queued),
            activity.clone(),
        );
        under_way.spawn(async move {
            commit_and_answer(&store, group, &deliveries_queued, &activity).await;
            drop(slot);
        });
        // Reap finished groups so the set does not grow.
        while under_way.try_join_next().is_some() {}
    }
    while under_way.join_next().await.is_some() {}
}

/// Writes one group and answers each of its requests.
async fn commit_and_answer(
    store: &Store,
    group: Vec<WriteJob>,
    deliveries_queued: &Notify,
    activity: &Activity,
) {
    let (entries, replies): (Vec<_>, Vec<_>) =
        group.into_iter().map(|job| (job.entry, job.reply)).unzip();
    let n_entries = entries.len();
    // Whose campaigns show their entries as social proof (read before the entries move).
    let announced: Vec<bool> = entries
        .iter()
        .map(|entry| {
            let settings = social::settings(&entry.campaign);
            settings.enabled && settings.show_entries
        })
        .collect();
    match write_group(store, entries).await {
        Ok(outcomes) => {
            if outcomes
                .iter()
                .any(|outcome| matches!(outcome, Ok(Some(_))))
            {
                deliveries_queued.notify_waiters();
            }
            let mut made = Vec::new();
            for ((reply, outcome), announced) in replies.into_iter().zip(outcomes).zip(announced) {
                if let (Ok(Some(response)), true) = (&outcome, announced) {
                    made.push(response.entry.id);
                }
                // The request may have gone away (client hung up); its entry is stored.
                let _ = reply.send(outcome);
            }
            for entry_id in made {
                activity.entry_made(entry_id.0).await;
            }
        }
        Err(cause) => {
            error!(entries = n_entries, error = %cause, "a group of entries failed to commit");
            for reply in replies {
                // As above: a request that went away needs no answer.
                let _ = reply.send(Err(StoreError::NotCommitted));
            }
        }
    }
}

/// Outcome of one entry of a group: its answer, `None` if its idempotency key was taken.
type Outcome = Result<Option<EntryResponse>, StoreError>;

/// One transaction for the whole group: on SQLite on the store's entry writer thread, on
/// PostgreSQL on a pool connection. The outcomes come back in the group's order once the
/// transaction has committed.
async fn write_group(
    store: &Store,
    entries: Vec<PendingEntry>,
) -> Result<Vec<Outcome>, StoreError> {
    match store.entry_path() {
        EntryPath::Sqlite(writer) => {
            writer
                .write(move |tx| run_ready(write_entries(tx, &entries)))
                .await
        }
        EntryPath::Postgres(pool) => {
            let mut tx = PgWriteTx::begin(pool).await?;
            let outcomes = write_entries(&mut tx, &entries).await?;
            tx.commit().await?;
            Ok(outcomes)
        }
    }
}

/// Each entry in its own savepoint, so an entry that fails (or whose idempotency key turns
/// out taken) is undone alone; an error here fails the whole group.
///
/// Contestants are written in (campaign, email) order whatever the order of arrival, so two
/// groups written at once (PostgreSQL) take their contestants' row locks in the same order
/// and cannot deadlock on them.
async fn write_entries(
    tx: &mut impl EntryWrites,
    entries: &[PendingEntry],
) -> Result<Vec<Outcome>, StoreError> {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by_key(|&index| (entries[index].campaign.id, entries[index].email.as_str()));
    let mut subscribers = Subscribers::default();
    let mut outcomes: Vec<Option<Outcome>> = entries.iter().map(|_| None).collect();
    for index in order {
        tx.savepoint().await?;
        let outcome = insert(tx, &mut subscribers, &entries[index]).await;
        if matches!(outcome, Ok(Some(_))) {
            tx.release_savepoint().await?;
        } else {
            tx.rollback_to_savepoint().await?;
        }
        outcomes[index] = Some(outcome);
    }
    Ok(outcomes
        .into_iter()
        .map(|outcome| outcome.unwrap_or(Err(StoreError::NotCommitted)))
        .collect())
}

/// The enabled endpoints, read once per group, and which take each event of each campaign.
#[derive(Debug, Default)]
struct Subscribers {
    endpoints: Option<Vec<SubscribedEndpoint>>,
    taking: HashMap<(EventType, i64), Vec<i64>>,
}

impl Subscribers {
    async fn of(
        &mut self,
        tx: &mut impl EntryWrites,
        event: EventType,
        campaign: &CampaignRecord,
    ) -> Result<&[i64], StoreError> {
        if self.endpoints.is_none() {
            self.endpoints = Some(tx.enabled_endpoints().await?);
        }
        let endpoints = self.endpoints.as_deref().unwrap_or_default();
        Ok(match self.taking.entry((event, campaign.id)) {
            MapEntry::Occupied(known) => known.into_mut(),
            MapEntry::Vacant(slot) => slot.insert(
                endpoints
                    .iter()
                    .filter(|endpoint| endpoint.takes(event, campaign.id, campaign.workspace_id))
                    .map(|endpoint| endpoint.id)
                    .collect(),
            ),
        })
    }
}

/// One entry's writes. `None` if the idempotency key turned out to be taken.
async fn insert(
    tx: &mut impl EntryWrites,
    subscribers: &mut Subscribers,
    entry: &PendingEntry,
) -> Result<Option<EntryResponse>, StoreError> {
    let campaign = &entry.campaign;
    let request = &entry.request;
    let now = entry.now;
    let method = &campaign.entry_methods[entry.method_index];
    let client_ip = entry.client_ip.map(|ip| ip.to_canonical());
    let contestant = tx
        .upsert_contestant(&NewContestant {
            campaign_id: campaign.id,
            email: &entry.email,
            name: &entry.name,
            first_name: &entry.first_name,
            last_name: &entry.last_name,
            details: &request.details,
            worth: method.worth,
            now,
        })
        .await?;
    let counts = tx
        .fraud_counts(&FraudCountsQuery {
            campaign_id: campaign.id,
            contestant_id: contestant.id,
            entry_method_id: method.id,
            client_ip,
            now,
        })
        .await?;
    let verdict = fraud::score(
        &signals(&entry.email, request, client_ip, counts, now),
        campaign.fraud_level,
    );
    let value = entry_value(method, &entry.email);
    let Some(entry_id) = tx
        .insert_entry(&NewEntry {
            campaign_id: campaign.id,
            contestant_id: contestant.id,
            entry_method_id: method.id,
            idempotency_key: &request.idempotency_key,
            value: &value,
            worth: method.worth,
            consent_text: request.consent.then_some(campaign.consent_text.as_str()),
            landing_url: &request.landing_url,
            referring_url: &request.referring_url,
            honeypot: &request.honeypot,
            actions_completed: contestant.actions_completed,
            total_entries: contestant.total_entries,
            client_ip,
            fraud_score: verdict.score,
            fraud_reasons: &verdict.reasons,
            verdict: verdict.decision(),
            now,
        })
        .await?
    else {
        return Ok(None);
    };
    log_verdict(campaign, entry_id, &verdict);
    let payload = entry_payload(
        campaign,
        method,
        &contestant,
        entry_id,
        request,
        &value,
        now,
    );
    let body = serde_json::to_string(&payload)
        .expect("an EntryPayload serialises: its maps have string keys");
    let held_until = Some(now.saturating_add(campaign.hold_window_ms.max(0)));
    let mut events = vec![(EventType::EntryCreated, None)];
    if campaign.campaign_type == CampaignType::Capture {
        events.push((EventType::CaptureCreated, None));
    }
    if method.method_type == EntryMethodType::EmailSubscribe {
        events.push((EventType::SubscriberCreated, held_until));
    }
    events.push((EventType::EntryDisqualified, held_until));
    for (event, held_until) in events {
        let endpoints = subscribers.of(tx, event, campaign).await?.to_vec();
        queue_deliveries(tx, &endpoints, event, entry_id, &body, held_until, now).await?;
    }
    Ok(Some(EntryResponse {
        entry: summary(entry_id, method, now),
        actions_completed: contestant.actions_completed,
        total_entries: contestant.total_entries,
    }))
}

/// One delivery of `event` per endpoint subscribed to it, all with the same body.
async fn queue_deliveries(
    tx: &mut impl EntryWrites,
    endpoints: &[i64],
    event: EventType,
    entry_id: EntryId,
    body: &str,
    held_until: Option<i64>,
    now: i64,
) -> Result<(), StoreError> {
    for &endpoint_id in endpoints {
        tx.insert_delivery(&NewDelivery {
            webhook_id: &new_message_id(),
            endpoint_id,
            entry_id,
            event_type: event,
            body,
            held_until,
            now,
        })
        .await?;
    }
    Ok(())
}

/// The fraud filter's inputs. There are no referral links yet, so no referrer.
fn signals(
    email: &str,
    request: &EntryRequest,
    client_ip: Option<IpAddr>,
    counts: FraudCounts,
    now: i64,
) -> Signals {
    let domain = email.rsplit_once('@').map_or("", |(_, domain)| domain);
    Signals {
        email: email.to_owned(),
        email_domain: domain.to_ascii_lowercase(),
        client_ip,
        honeypot: request.honeypot.clone(),
        form_issued_at: request.form_issued_at,
        now,
        earlier_entries_same_method: counts.earlier_entries_same_method,
        other_contestants_from_ip: counts.other_contestants_from_ip,
        entries_from_ip_last_minute: counts.entries_from_ip_last_minute,
        entries_from_ip_last_hour: counts.entries_from_ip_last_hour,
        referrer: None,
    }
}

/// One line for each entry the filter did not simply accept.
fn log_verdict(campaign: &CampaignRecord, entry_id: EntryId, verdict: &Verdict) {
    let decision = verdict.decision();
    if decision != Decision::Accepted {
        let reasons: Vec<&str> = verdict
            .reasons
            .iter()
            .map(|reason| reason.as_str())
            .collect();
        info!(
            campaign = %campaign.key.as_str(), entry_id = entry_id.0, verdict = decision.as_str(),
            score = verdict.score, reasons = %reasons.join(","), "fraud filter verdict"
        );
    }
}

/// A request that passed every check, with its fields cleaned.
#[derive(Debug)]
struct ValidEntry {
    /// Where the entry method is in `campaign.entry_methods`.
    method_index: usize,
    email: String,
    name: String,
    first_name: String,
    last_name: String,
}

fn validate(
    campaign: &CampaignRecord,
    request: &EntryRequest,
    now: i64,
) -> Result<ValidEntry, IngestError> {
    if campaign.status != protocol::campaign::CampaignStatus::Running {
        return Err(IngestError::CampaignNotRunning);
    }
    if campaign.starts_at.is_some_and(|starts_at| now < starts_at) {
        return Err(IngestError::CampaignNotStarted);
    }
    if campaign.ends_at.is_some_and(|ends_at| now >= ends_at) {
        return Err(IngestError::CampaignEnded);
    }
    let method_index = campaign
        .entry_methods
        .iter()
        .position(|method| method.id == request.entry_method_id)
        .ok_or(IngestError::UnknownEntryMethod(request.entry_method_id.0))?;
    let method = &campaign.entry_methods[method_index];
    let email = normalize_email(&request.email).map_err(IngestError::InvalidEmail)?;
    let name = request.name.trim();
    if name.chars().count() > MAX_NAME_LEN || name.chars().any(char::is_control) {
        return Err(IngestError::InvalidName);
    }
    let consent_asked =
        !campaign.consent_text.is_empty() && method.method_type == EntryMethodType::EmailSubscribe;
    if consent_asked && !request.consent {
        return Err(IngestError::ConsentRequired);
    }
    let (first_name, last_name) = split_name(name);
    Ok(ValidEntry {
        method_index,
        email,
        name: name.to_owned(),
        first_name,
        last_name,
    })
}

/// Idempotency keys are 1 to [`MAX_IDEMPOTENCY_KEY_LEN`] bytes of visible characters.
fn check_idempotency_key(key: &str) -> Result<(), IngestError> {
    if key.is_empty() {
        return Err(IngestError::InvalidIdempotencyKey("is empty"));
    }
    if key.len() > MAX_IDEMPOTENCY_KEY_LEN {
        return Err(IngestError::InvalidIdempotencyKey("is too long"));
    }
    if key.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(IngestError::InvalidIdempotencyKey(
            "contains spaces or control characters",
        ));
    }
    Ok(())
}

/// `entry.value` of the webhook body: what the action captured.
fn entry_value(method: &EntryMethodRecord, email: &str) -> String {
    match method.method_type {
        EntryMethodType::EmailSubscribe => email.to_owned(),
        _ => String::new(),
    }
}

fn summary(id: EntryId, method: &EntryMethodRecord, created_at_ms: i64) -> EntrySummary {
    EntrySummary {
        id,
        entry_method_id: method.id,
        entry_type: method.method_type.as_str().to_owned(),
        action: method.action.clone(),
        worth: method.worth,
        created_at: format_created_at(created_at_ms.div_euclid(1000)),
    }
}

fn response_for(entry: &StoredEntry) -> EntryResponse {
    EntryResponse {
        entry: EntrySummary {
            id: entry.id,
            entry_method_id: entry.entry_method_id,
            entry_type: entry.method_type.as_str().to_owned(),
            action: entry.action.clone(),
            worth: entry.worth,
            created_at: format_created_at(entry.created_at.div_euclid(1000)),
        },
        actions_completed: entry.actions_completed,
        total_entries: entry.total_entries,
    }
}

/// The webhook body for an entry, in Gleam's shape. Location is unknown for now (empty),
/// and there is no reward, coupon, upload or social link yet.
fn entry_payload(
    campaign: &CampaignRecord,
    method: &EntryMethodRecord,
    contestant: &ContestantRecord,
    entry_id: EntryId,
    request: &EntryRequest,
    value: &str,
    now: i64,
) -> EntryPayload {
    EntryPayload {
        campaign: CampaignRef {
            name: campaign.name.clone(),
            key: campaign.key.clone(),
            campaign_type: campaign.campaign_type,
        },
        reward: None,
        coupon: None,
        user: User {
            name: contestant.name.clone(),
            first_name: contestant.first_name.clone(),
            last_name: contestant.last_name.clone(),
            email: contestant.email.clone(),
            country: String::new(),
            region: String::new(),
            city: String::new(),
            country_code: String::new(),
            actions_completed: contestant.actions_completed,
            details: contestant.details.clone(),
        },
        entry: Entry {
            id: entry_id,
            entry_method_id: method.id,
            action: method.action.clone(),
            created_at: format_created_at(now.div_euclid(1000)),
            entry_type: method.method_type.as_str().to_owned(),
            value: value.to_owned(),
            worth: method.worth,
            landing_url: request.landing_url.clone(),
            referring_url: request.referring_url.clone(),
            upload: None,
        },
        social_links: Vec::new(),
    }
}

/// A fresh `webhook-id`.
fn new_message_id() -> MessageId {
    MessageId::from_suffix(&Alphanumeric.sample_string(&mut rand::rng(), 24))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use protocol::campaign::CampaignStatus;
    use protocol::ids::{ContestantId, EntryMethodId};

    use super::*;

    fn campaign() -> CampaignRecord {
        CampaignRecord {
            id: 1,
            workspace_id: Some(1),
            starts_at: None,
            ends_at: None,
            allowed_origins: Vec::new(),
            image_url: String::new(),
            settings: serde_json::json!({}),
            created_at: 0,
            updated_at: 0,
            key: CampaignKey::parse("a1XyD").expect("valid key"),
            name: "My Campaign".to_owned(),
            campaign_type: CampaignType::Competition,
            status: CampaignStatus::Running,
            description: String::new(),
            consent_text: "I agree.".to_owned(),
            entry_methods: vec![EntryMethodRecord {
                id: EntryMethodId(334_222),
                method_type: EntryMethodType::EmailSubscribe,
                action: "Subscribe to our newsletter".to_owned(),
                worth: 1,
                mandatory: true,
                daily: false,
                config: serde_json::json!({}),
                position: 0,
            }],
            fraud_level: crate::fraud::FraudLevel::Standard,
            hold_window_ms: 300_000,
        }
    }

    #[test]
    fn signals_carry_the_request_the_counts_and_the_domain() {
        let mut request = request();
        request.honeypot = "bot".to_owned();
        let counts = FraudCounts {
            earlier_entries_same_method: 1,
            other_contestants_from_ip: 2,
            entries_from_ip_last_minute: 3,
            entries_from_ip_last_hour: 4,
        };
        let ip: IpAddr = "203.0.113.7".parse().expect("an IP");
        let got = signals("Joe@Mail.Example", &request, Some(ip), counts, 99);
        assert_eq!(got.email_domain, "mail.example");
        assert_eq!(got.honeypot, "bot");
        assert_eq!(got.form_issued_at, Some(1_447_823_647_000));
        assert_eq!(got.client_ip, Some(ip));
        assert_eq!(
            (
                got.earlier_entries_same_method,
                got.other_contestants_from_ip,
                got.entries_from_ip_last_minute,
                got.entries_from_ip_last_hour,
                got.now
            ),
            (1, 2, 3, 4, 99)
        );
    }

    fn request() -> EntryRequest {
        EntryRequest {
            idempotency_key: "key-1".to_owned(),
            entry_method_id: EntryMethodId(334_222),
            email: " joe@Example.COM ".to_owned(),
            name: " Joe Bloggs ".to_owned(),
            consent: true,
            details: BTreeMap::from([("Postcode".to_owned(), serde_json::json!(8282))]),
            landing_url: "https://example.com".to_owned(),
            referring_url: "https://example.com/from".to_owned(),
            honeypot: String::new(),
            form_issued_at: Some(1_447_823_647_000),
        }
    }

    #[test]
    fn payload_has_gleams_shape_and_values() {
        let campaign = campaign();
        let request = request();
        let contestant = ContestantRecord {
            id: ContestantId(7),
            email: "joe@example.com".to_owned(),
            name: "Joe Bloggs".to_owned(),
            first_name: "Joe".to_owned(),
            last_name: "Bloggs".to_owned(),
            details: request.details.clone(),
            actions_completed: 1,
            total_entries: 1,
        };
        let payload = entry_payload(
            &campaign,
            &campaign.entry_methods[0],
            &contestant,
            EntryId(244_523_423),
            &request,
            "joe@example.com",
            1_447_823_677_000,
        );
        let value = serde_json::to_value(&payload).expect("serialises");
        assert_eq!(
            value["campaign"],
            serde_json::json!({"name": "My Campaign", "key": "a1XyD", "type": "Competition"})
        );
        assert!(
            value["reward"].is_null()
                && value["coupon"].is_null()
                && value["entry"]["upload"].is_null()
        );
        assert_eq!(value["social_links"], serde_json::json!([]));
        assert_eq!(value["user"]["country"], "");
        assert_eq!(value["user"]["details"]["Postcode"], 8282);
        assert_eq!(value["entry"]["id"], 244_523_423);
        assert_eq!(value["entry"]["created_at"], "2015-11-18 05:14:37 UTC");
        assert_eq!(value["entry"]["type"], "email_subscribe");
        assert_eq!(value["entry"]["referring_url"], "https://example.com/from");
    }

    fn check(change: impl FnOnce(&mut CampaignRecord, &mut EntryRequest), expected: &str) {
        let mut campaign = campaign();
        let mut request = request();
        change(&mut campaign, &mut request);
        let outcome = check_idempotency_key(&request.idempotency_key)
            .and_then(|()| validate(&campaign, &request, 1_000));
        let got = match outcome {
            Ok(valid) => format!(
                "ok {} {:?} {:?}",
                valid.email, valid.first_name, valid.last_name
            ),
            Err(error) => format!("{error:?}"),
        };
        assert_eq!(got, expected);
    }

    #[test]
    fn validation() {
        check(|_, _| {}, r#"ok joe@example.com "Joe" "Bloggs""#);
        check(
            |c, _| c.status = CampaignStatus::Ended,
            "CampaignNotRunning",
        );
        check(|c, _| c.starts_at = Some(1_001), "CampaignNotStarted");
        check(|c, _| c.ends_at = Some(1_000), "CampaignEnded");
        check(
            |c, _| (c.starts_at, c.ends_at) = (Some(1_000), Some(1_001)),
            r#"ok joe@example.com "Joe" "Bloggs""#,
        );
        check(
            |_, r| r.entry_method_id = EntryMethodId(1),
            "UnknownEntryMethod(1)",
        );
        check(|_, r| r.email = "joe".to_owned(), "InvalidEmail(Malformed)");
        check(|_, r| r.name = "x".repeat(MAX_NAME_LEN + 1), "InvalidName");
        check(|_, r| r.name = "Joe\u{7}".to_owned(), "InvalidName");
        check(|_, r| r.consent = false, "ConsentRequired");
        check(
            |c, r| (c.consent_text.clear(), r.consent = false).0,
            r#"ok joe@example.com "Joe" "Bloggs""#,
        );
        check(
            |_, r| r.idempotency_key.clear(),
            r#"InvalidIdempotencyKey("is empty")"#,
        );
        check(
            |_, r| r.idempotency_key = "k".repeat(65),
            r#"InvalidIdempotencyKey("is too long")"#,
        );
        check(
            |_, r| r.idempotency_key = "a b".to_owned(),
            r#"InvalidIdempotencyKey("contains spaces or control characters")"#,
        );
    }
}
