//! Turning an entry post into a stored entry and its deliveries, under the entry rules.
//!
//! Validates what can be checked alone first (the campaign is running, the method exists and
//! may be posted, the email, the consent, the action's value against its method's settings:
//! [`crate::rules`]), then writes the contestant, the entry and one delivery per subscribed
//! endpoint in one transaction, and wakes the delivery worker after the commit.
//!
//! Group commit: one writer task takes every entry waiting in its queue (up to
//! [`MAX_GROUP`]) and writes them in one transaction, so one durable commit (fsync) serves
//! many requests. Each entry is [`check`]ed before it writes anything, so a refused one
//! writes nothing and no entry needs a savepoint of its own; should one fail after it began
//! writing, the group is rolled back and written again with a savepoint per entry, where it
//! is undone alone ([`Undo`]). Nobody waits to fill a group: while one commit is on its way
//! to disk the next group gathers, so a lone entry is committed at once. A request is
//! answered only after its group commits. The per-entry work below ([`check`], [`insert`])
//! is written once over [`EntryWrites`]: on SQLite it runs on the store's entry writer
//! thread ([`crate::store::EntryWriter`]), where every call completes at once; on PostgreSQL
//! on a pool transaction, one group at a time per process (several processes may share the
//! database, each writing its groups). The idempotency key (unique per
//! contestant) is checked inside the group, and again on the pool only when a key turns out
//! taken or the request is refused.
//!
//! Inside that transaction, with the contestant's row locked, each entry reads what its
//! contestant has done (one covering index range) and applies the rules that depend on it:
//! mandatory methods first, once or once a UTC day. It mints the contestant's session token
//! (only its hash is stored) and referral code; credits the referrer of a new contestant who
//! came through a share link; hands out the Reward campaign's reward the first time its
//! unlock rule holds (a coupon taken once from the pool); gathers the fraud filter's signals,
//! scores the entry ([`crate::fraud`]) and stores the verdict with it; the answer is the same
//! whatever the verdict. `entry.created` and `reward.unlocked` are due at once;
//! `subscriber.created` and `entry.disqualified` are held for the campaign's hold window and
//! settled by the entry's verdict then.
//! Must not know HTTP: it returns [`IngestError`]s that the API maps to status codes.

use std::borrow::Cow;
use std::collections::hash_map::Entry as MapEntry;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use protocol::campaign::{CampaignType, EntryMethodType, RewardKind};
use protocol::entry::{
    AnswerFields, CompletedMethod, ContestantSession, ContestantStatus, EntryAnswer, EntryPost,
    EntryRequest, EntryResponse, EntrySummary, MAX_IDEMPOTENCY_KEY_LEN, UnlockedReward,
};
use protocol::events::ContestantInfo;
use protocol::ids::{CampaignKey, ContestantToken, EntryId, MessageId, ReferralCode, UploadId};
use protocol::payload::{
    CampaignRef, Entry, EntryPayload, EventType, RewardCode, Upload, User, format_created_at,
};
use protocol::validate::{EmailProblem, MAX_NAME_LEN, normalize_email, split_name};
use rand::distr::{Alphanumeric, SampleString as _};
use tokio::sync::{Notify, Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;
use tracing::{error, info, warn};

use crate::answers::{self, SourceTry};
use crate::audience::Filter;
use crate::campaigns::{self, RewardSettings};
use crate::clock;
use crate::fraud::{self, Decision, Referrer, Signals, Verdict};
use crate::limits::{Limited, RateLimits};
use crate::rules::{self, Captured, Completion, RuleError};
use crate::social::{self, Activity};
use crate::store::{
    CampaignRecord, ContestantRecord, EntryMethodRecord, EntryPath, EntryWrites, FraudAsk,
    FraudCounts, FraudRead, GivenReward, GroupKey, NewContestant, NewCredit, NewDelivery, NewEntry,
    NewReward, PgEntries, PgWriteTx, ReferrerRecord, Store, StoreError, StoredEntry,
    SubscribedEndpoint, run_ready, token_hash,
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
    /// An entry rule refused the action (see [`crate::rules`]).
    #[error(transparent)]
    Refused(#[from] RuleError),
    /// No contestant of this campaign has this session token.
    #[error("no contestant of this campaign has this token")]
    ContestantNotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An accepted entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// A new entry was stored.
    Created(EntryAnswer),
    /// The idempotency key was seen before: this is the first entry's answer again (with the
    /// contestant's session as it is now).
    Replayed(EntryAnswer),
}

/// How often an entry's answer looks whether its data sources have answered.
const ANSWER_LOOK_EVERY: Duration = Duration::from_millis(20);

/// Most entries one commit carries.
pub const MAX_GROUP: usize = 512;
/// Entries that may wait for the writer; a full queue makes requests wait (backpressure).
const QUEUE_CAPACITY: usize = 8192;
/// Groups one process writes at once on PostgreSQL, each on its own connection, unless
/// configured otherwise (`Config::postgres_groups_at_once`). One: a group of new contestants
/// costs the same few statements whatever its size, so while one commits the next grows, and
/// each entry costs less. Measured with 64 clients: 5,574 and 5,661 entries/s at 1 (203 µs of
/// CPU each), 5,006 and 5,118 at 2 (272–284 µs), 4,511 and 5,002 at 4 (332–377 µs).
pub const POSTGRES_GROUPS_AT_ONCE: usize = 1;
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
    reply: oneshot::Sender<Outcome>,
}

/// What the writer needs to store one entry.
#[derive(Debug)]
struct PendingEntry {
    campaign: Arc<CampaignRecord>,
    method_index: usize,
    email: String,
    /// The email's mailbox ([`fraud::mailbox`]), made here rather than on the writer thread.
    mailbox: String,
    name: String,
    first_name: String,
    last_name: String,
    request: EntryRequest,
    /// What the action captured, or why its value was refused: reported only if the rules
    /// that depend on the contestant's past pass (they come first).
    captured: Result<Captured, RuleError>,
    token_hint: Option<ContestantToken>,
    referrer_code: Option<ReferralCode>,
    /// Canonical ([`IpAddr::to_canonical`]: an IPv4 address mapped into IPv6 is the IPv4 one).
    client_ip: Option<IpAddr>,
    /// `client_ip` as stored, written here rather than on the writer thread (twice, 2,700
    /// instructions).
    client_ip_text: Option<String>,
    now: i64,
    /// Drawn here, before the writer: what it would cost the writer thread (a SHA-256 and
    /// two random strings, 5,600 instructions) is taken by every entry waiting behind.
    fresh: Fresh,
}

/// What became of one entry in its group.
#[derive(Debug)]
enum Written {
    /// Boxed: it is most of the size, and outcomes move through a channel.
    Created(Box<Made>),
    /// Its idempotency key was taken (by a concurrent retry): undone.
    KeyTaken,
    /// A rule that depends on the contestant's past refused it: undone.
    Refused(RuleError),
}

/// Outcome of one entry of a group.
type Outcome = Result<Written, StoreError>;

/// An entry the writer wrote: what its answer is made of. The answer itself (its JSON
/// strings: the token, the share link, the entry's time) is made by the request once the
/// group has committed, not by the writer, whom every entry behind waits for.
#[derive(Debug)]
struct Made {
    entry_id: EntryId,
    /// As the entry left them.
    contestant: ContestantRecord,
    /// The token they sent, still theirs; `None`: the entry's fresh secret became theirs.
    kept_token: Option<ContestantToken>,
    /// Every method they have completed, this entry's included.
    completed: Vec<Completion>,
    /// The reward this entry unlocked.
    unlocked: Option<GivenReward>,
    /// A data source was sent the entry: the answer waits for what it answers.
    shows_answer: bool,
}

impl Made {
    /// The answer to the entry, made through `campaign`'s `method` at `now`; `secret` is the
    /// entry's fresh one ([`Fresh`]).
    fn answer(
        self,
        campaign: &CampaignRecord,
        method: &EntryMethodRecord,
        secret: &str,
        public_url: &str,
        now: i64,
    ) -> EntryAnswer {
        let contestant = &self.contestant;
        let token = self
            .kept_token
            .unwrap_or_else(|| keys::token(contestant.id, secret));
        EntryAnswer {
            response: EntryResponse {
                entry: summary(self.entry_id, method, now),
                actions_completed: contestant.actions_completed,
                total_entries: contestant.total_entries,
            },
            session: session(campaign, contestant, token, &self.completed, public_url),
            reward: self
                .unlocked
                .as_ref()
                .map(|reward| unlocked_reward(campaign, reward)),
            // Filled in by `record_entry` once the data sources have answered (or not in time).
            answer: self.shows_answer.then(AnswerFields::default),
        }
    }
}

impl Ingest {
    /// Starts the writer task (on the current tokio runtime). It stops when the last
    /// `Ingest` clone is dropped, after writing what was queued.
    pub fn new(
        store: Store,
        postgres_groups_at_once: usize,
        deliveries_queued: Arc<Notify>,
        limits: RateLimits,
        activity: Activity,
    ) -> Self {
        let (writer, jobs) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(write_groups(
            store.clone(),
            postgres_groups_at_once,
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

    /// The entry route's rate limits (the uploads and status routes count against them too).
    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// Validates `post` for the campaign `key`, sent from `client_ip` (the connecting peer,
    /// when known) by a page at `origin` (the `Origin` header, when sent), and records it at
    /// time `now` (unix ms). `public_url` is this server's URL as people reach it.
    pub async fn record_entry(
        &self,
        key: &CampaignKey,
        post: &EntryPost,
        client_ip: Option<IpAddr>,
        origin: Option<&str>,
        public_url: &str,
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
        let request = &post.request;
        check_idempotency_key(&request.idempotency_key)?;
        // A retried request gets its first answer even if the campaign has closed since, or
        // the request would not pass now. A valid one finds out in the writer: the unique
        // index on the key, or a rule the first entry now breaks, sends it to the replay.
        let valid = match validate(&campaign, post, now) {
            Ok(valid) => valid,
            Err(refused) => return self.replay_or(&campaign, post, public_url, refused).await,
        };
        if let Err(limited) = self.limits.check(client_ip, campaign.id, &valid.email) {
            // A retry of an entry already stored is its answer again, limited or not.
            let limited = IngestError::RateLimited(limited);
            return self.replay_or(&campaign, post, public_url, limited).await;
        }
        let uploads =
            campaign.entry_methods[valid.method_index].method_type == EntryMethodType::Upload;
        let captured = match (valid.captured, &post.action.upload_id) {
            (Ok(captured), Some(upload_id)) if uploads => self
                .cited_upload(campaign.id, upload_id, public_url)
                .await?
                .map(|upload| Captured {
                    value: upload.original_url.clone(),
                    upload: Some(upload),
                    ..captured
                })
                .ok_or(RuleError::InvalidUpload),
            (captured, _) => captured,
        };
        let (reply, outcome) = oneshot::channel();
        let client_ip = client_ip.map(|ip| ip.to_canonical());
        let (method_index, fresh) = (valid.method_index, Fresh::new());
        let secret = fresh.secret.clone();
        let entry = PendingEntry {
            method_index,
            mailbox: fraud::mailbox(&valid.email),
            email: valid.email,
            name: valid.name,
            first_name: valid.first_name,
            last_name: valid.last_name,
            campaign: campaign.clone(),
            request: request.clone(),
            captured,
            token_hint: post.action.contestant_token.clone(),
            referrer_code: post.action.referrer_code.clone(),
            client_ip,
            client_ip_text: client_ip.map(|ip| ip.to_string()),
            now,
            fresh,
        };
        let job = WriteJob { entry, reply };
        self.writer
            .send(job)
            .await
            .map_err(|_| StoreError::NotCommitted)?;
        let written = outcome.await.map_err(|_| StoreError::NotCommitted)??;
        match written {
            Written::Created(made) => {
                let method = &campaign.entry_methods[method_index];
                let mut answer = made.answer(&campaign, method, &secret, public_url, now);
                // A data source was sent the entry: its answer is waited for, up to its timeout.
                if answer.answer.is_some() {
                    answer.answer = self.data_source_answer(answer.response.entry.id).await?;
                }
                Ok(Recorded::Created(answer))
            }
            Written::Refused(refused) => {
                self.replay_or(&campaign, post, public_url, refused.into())
                    .await
            }
            // The key was taken: by an earlier request, or by a concurrent one committed first.
            Written::KeyTaken => self
                .replay(&campaign, post, public_url)
                .await?
                .ok_or_else(|| {
                    StoreError::Corrupt {
                        column: "entries.idempotency_key",
                        value: request.idempotency_key.clone(),
                    }
                    .into()
                }),
        }
    }

    /// The upload `upload_id` as an entry cites it, if it is one of campaign `campaign_id`'s.
    async fn cited_upload(
        &self,
        campaign_id: i64,
        upload_id: &UploadId,
        public_url: &str,
    ) -> Result<Option<Upload>, StoreError> {
        let Some((of_campaign, content_type)) = self.store.upload_info(upload_id.as_str()).await?
        else {
            return Ok(None);
        };
        if of_campaign != campaign_id {
            return Ok(None);
        }
        let url = format!("{}/uploads/{upload_id}", public_url.trim_end_matches('/'));
        Ok(Some(Upload {
            original_url: url.clone(),
            thumb_url: url,
            post_url: String::new(),
            post_text: String::new(),
            content_type,
        }))
    }

    /// The answer to the entry already stored under `post`'s idempotency key, else `refused`.
    async fn replay_or(
        &self,
        campaign: &CampaignRecord,
        post: &EntryPost,
        public_url: &str,
        refused: IngestError,
    ) -> Result<Recorded, IngestError> {
        match self.replay(campaign, post, public_url).await? {
            Some(replayed) => Ok(replayed),
            None => Err(refused),
        }
    }

    /// The answer to the entry already stored under `post`'s idempotency key, if any: its
    /// entry and totals as first answered, the reward if it unlocked it, and the contestant's
    /// session as it is now. The token is the post's if it is still theirs; otherwise (the
    /// first answer never arrived, say) a new one replaces it, since only its hash is kept.
    /// The idempotency key, made by the widget and never shown, is the proof.
    async fn replay(
        &self,
        campaign: &CampaignRecord,
        post: &EntryPost,
        public_url: &str,
    ) -> Result<Option<Recorded>, IngestError> {
        // Keys are the contestant's: a retry carries the email its first post did.
        let Ok(email) = normalize_email(&post.request.email) else {
            return Ok(None);
        };
        let Some(entry) = self
            .store
            .entry_by_idempotency_key(campaign.id, &email, &post.request.idempotency_key)
            .await?
        else {
            return Ok(None);
        };
        let contestant =
            self.store
                .contestant(entry.contestant_id)
                .await?
                .ok_or(StoreError::Corrupt {
                    column: "entries.contestant_id",
                    value: entry.contestant_id.to_string(),
                })?;
        let token = match valid_hint(post.action.contestant_token.as_ref(), &contestant) {
            Some(token) => token,
            None => {
                let fresh = Fresh::new();
                self.store
                    .set_token_hash(contestant.id, &fresh.secret_hash)
                    .await?;
                keys::token(contestant.id, &fresh.secret)
            }
        };
        let completed = self.store.completions(contestant.id).await?;
        let reward = contestant
            .reward
            .as_ref()
            .filter(|reward| reward.entry_id == Some(entry.id))
            .map(|reward| unlocked_reward(campaign, reward));
        Ok(Some(Recorded::Replayed(EntryAnswer {
            response: response_for(&entry),
            session: session(campaign, &contestant, token, &completed, public_url),
            reward,
            answer: self.data_source_answer(entry.id).await?,
        })))
    }

    /// What the data sources sent entry `entry_id` answered: their chosen fields once each has
    /// had its first try, or whatever came when the longest timeout since the entry has passed
    /// (looking at the database every [`ANSWER_LOOK_EVERY`], so a try made by another server
    /// process counts). `None` when no data source took it, or none answered with a field.
    /// The entry is stored already: waiting holds only this request.
    async fn data_source_answer(
        &self,
        entry_id: EntryId,
    ) -> Result<Option<AnswerFields>, StoreError> {
        loop {
            let deliveries = self.store.answer_deliveries(entry_id.0).await?;
            if deliveries.is_empty() {
                return Ok(None);
            }
            let tries: Vec<SourceTry> = deliveries.iter().map(SourceTry::of).collect();
            let now = clock::now_millis();
            match answers::decide(&tries, now) {
                answers::Outcome::Ready(fields) => {
                    return Ok((!fields.is_empty()).then_some(AnswerFields(fields)));
                }
                answers::Outcome::Wait { until } => {
                    let left = Duration::from_millis(u64::try_from(until - now).unwrap_or(0));
                    tokio::time::sleep(left.min(ANSWER_LOOK_EVERY)).await;
                }
            }
        }
    }

    /// A returning contestant's status: who they are, what they have done, their totals and
    /// the reward they were given, for the holder of their session `token`.
    pub async fn contestant_status(
        &self,
        key: &CampaignKey,
        token: &str,
        public_url: &str,
        now: i64,
    ) -> Result<ContestantStatus, IngestError> {
        let campaign = self
            .store
            .recent_campaign_by_key(key, now)
            .await?
            .ok_or(IngestError::CampaignNotFound)?;
        let token = ContestantToken::parse(token).ok_or(IngestError::ContestantNotFound)?;
        let (id, _) = keys::parse_token(&token).ok_or(IngestError::ContestantNotFound)?;
        let contestant = self
            .store
            .campaign_contestant(campaign.id, id)
            .await?
            .filter(|contestant| valid_hint(Some(&token), contestant).is_some())
            .ok_or(IngestError::ContestantNotFound)?;
        let completed = self.store.completions(contestant.id).await?;
        Ok(ContestantStatus {
            user: ContestantInfo {
                email: contestant.email.clone(),
                name: contestant.name.clone(),
            },
            session: session(&campaign, &contestant, token, &completed, public_url),
            actions_completed: contestant.actions_completed,
            total_entries: contestant.total_entries,
            reward: contestant
                .reward
                .as_ref()
                .map(|reward| unlocked_reward(&campaign, reward)),
        })
    }
}

/// The writer: takes whatever is queued, writes it as one group, answers each request after
/// the commit, wakes the delivery worker. Ends when every sender is gone, after the groups
/// under way have committed.
///
/// SQLite has one writer, so one group at a time: the next gathers while one commits.
/// PostgreSQL may take several at once on separate connections (`postgres_groups_at_once`:
/// one by default; tests take more, as several processes sharing the database do); row locks
/// keep them apart.
async fn write_groups(
    store: Store,
    postgres_groups_at_once: usize,
    mut jobs: mpsc::Receiver<WriteJob>,
    deliveries_queued: Arc<Notify>,
    activity: Activity,
) {
    let parallel = match store.entry_path() {
        EntryPath::Sqlite(_) => 1,
        EntryPath::Postgres(_) => postgres_groups_at_once.max(1),
    };
    let slots = Arc::new(Semaphore::new(parallel));
    let mut under_way = JoinSet::new();
    loop {
        // Waiting for a slot before taking the group lets it grow while others commit.
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            break;
        };
        // Grown to the group's size (a group is seldom near the most).
        let mut group = Vec::new();
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
                .any(|outcome| matches!(outcome, Ok(Written::Created(_))))
            {
                deliveries_queued.notify_waiters();
            }
            let mut made = Vec::new();
            for ((reply, outcome), announced) in replies.into_iter().zip(outcomes).zip(announced) {
                if let (Ok(Written::Created(entry)), true) = (&outcome, announced) {
                    made.push(entry.entry_id.0);
                }
                // The request may have gone away (client hung up); its entry is stored.
                let _ = reply.send(outcome);
            }
            if !made.is_empty() {
                activity.entries_made(&made).await;
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

/// One transaction for the whole group: on SQLite on the store's entry writer thread, on
/// PostgreSQL on a pool connection. The outcomes come back in the group's order once the
/// transaction has committed.
///
/// First without savepoints ([`Undo::Group`]); should an entry fail after it began writing,
/// that transaction is rolled back and the group written again with a savepoint per entry
/// ([`Undo::PerEntry`]), where it is undone alone.
async fn write_group(
    store: &Store,
    entries: Vec<PendingEntry>,
) -> Result<Vec<Outcome>, StoreError> {
    let entries = Arc::new(entries);
    match write_group_once(store, &entries, Undo::Group).await {
        Err(StoreError::GroupUndone) => write_group_once(store, &entries, Undo::PerEntry).await,
        written => written,
    }
}

async fn write_group_once(
    store: &Store,
    entries: &Arc<Vec<PendingEntry>>,
    undo: Undo,
) -> Result<Vec<Outcome>, StoreError> {
    match store.entry_path() {
        EntryPath::Sqlite(writer) => {
            let entries = Arc::clone(entries);
            writer
                .write(move |tx| run_ready(write_entries(tx, &entries, undo)))
                .await
        }
        // Boxed: its future, `write_entries` awaited in place, is many KiB, and would make
        // every group's task that size on SQLite too (tokio copies a task's future as it
        // spawns it: 7% of the HTTP thread's instructions under callgrind).
        EntryPath::Postgres(pool) => Box::pin(write_group_postgres(pool, entries, undo)).await,
    }
}

/// [`write_group_once`] on PostgreSQL: one transaction on a pool connection.
async fn write_group_postgres(
    pool: PgEntries<'_>,
    entries: &[PendingEntry],
    undo: Undo,
) -> Result<Vec<Outcome>, StoreError> {
    let mut tx = PgWriteTx::begin(pool).await?;
    let outcomes = write_entries(&mut tx, entries, undo).await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// How the entries of a group are undone, should one fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Undo {
    /// No savepoints (each costs a copy of every page the entry changes, and on PostgreSQL
    /// two round trips): every entry is checked before its first write, so a refused one
    /// writes nothing. One that fails after it began writing fails the group with
    /// [`StoreError::GroupUndone`], and its transaction is rolled back.
    Group,
    /// Each entry in its own savepoint, undone alone; tried once more after a deadlock or
    /// [`StoreError::Contended`].
    PerEntry,
}

/// Writes each entry of the group (see [`Undo`] for what a failing one undoes); an error
/// here fails the whole group.
///
/// Contestants are written in (campaign, email) order whatever the order of arrival, so two
/// groups written at once (PostgreSQL) take their contestants' row locks in the same order.
/// Crediting a referrer locks a second contestant out of that order: should two groups then
/// deadlock, PostgreSQL undoes the entry, which is tried once more.
async fn write_entries<T: EntryWrites>(
    tx: &mut T,
    entries: &[PendingEntry],
    undo: Undo,
) -> Result<Vec<Outcome>, StoreError> {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by_key(|&index| (entries[index].campaign.id, entries[index].email.as_str()));
    let mut subscribers = Subscribers::default();
    let mut outcomes: Vec<Option<Outcome>> = entries.iter().map(|_| None).collect();
    if undo == Undo::Group {
        let keys: Vec<GroupKey<'_>> = order
            .iter()
            .map(|&index| {
                let entry = &entries[index];
                GroupKey {
                    campaign_id: entry.campaign.id,
                    email: &entry.email,
                    now: entry.now,
                    // Only where the store reads ahead what the fraud filter asks.
                    fraud: T::READS_AHEAD.then(|| fraud_ask(entry)).flatten(),
                }
            })
            .collect();
        if tx.read_contestants(&keys).await.is_err() {
            // Written again entry by entry, where the cause shows.
            return Err(StoreError::GroupUndone);
        }
    }
    for index in order {
        let entry = &entries[index];
        let outcome = match undo {
            Undo::Group => match check(tx, entry).await {
                Ok(Checked::Done(written)) => Ok(written),
                Ok(Checked::Passed(before)) => {
                    match insert(tx, &mut subscribers, entry, before).await {
                        Ok(created @ Written::Created(_)) => Ok(created),
                        // It wrote something: only the whole transaction can undo it.
                        _ => return Err(StoreError::GroupUndone),
                    }
                }
                // On PostgreSQL a failed statement fails the transaction.
                Err(_) => return Err(StoreError::GroupUndone),
            },
            Undo::PerEntry => {
                let mut tries = 0;
                loop {
                    tries += 1;
                    tx.savepoint().await?;
                    let outcome = match check(tx, entry).await {
                        Ok(Checked::Done(written)) => Ok(written),
                        Ok(Checked::Passed(before)) => {
                            insert(tx, &mut subscribers, entry, before).await
                        }
                        Err(error) => Err(error),
                    };
                    if matches!(outcome, Ok(Written::Created(_))) {
                        tx.release_savepoint().await?;
                        break outcome;
                    }
                    tx.rollback_to_savepoint().await?;
                    match &outcome {
                        Err(error) if tries < 2 && worth_another_try(error) => {}
                        _ => break outcome,
                    }
                }
            }
        };
        outcomes[index] = Some(outcome);
    }
    Ok(outcomes
        .into_iter()
        .map(|outcome| outcome.unwrap_or(Err(StoreError::NotCommitted)))
        .collect())
}

/// Whether an entry that failed this way may pass if tried again at once: another
/// transaction got in its way, and has finished.
fn worth_another_try(error: &StoreError) -> bool {
    matches!(error, StoreError::Contended) || is_deadlock(error)
}

/// Whether PostgreSQL broke a deadlock by failing this statement.
fn is_deadlock(error: &StoreError) -> bool {
    matches!(error, StoreError::Query(sqlx::Error::Database(database))
        if database.code().as_deref() == Some("40P01"))
}

/// The enabled endpoints, read once per group, and which take each event of each campaign;
/// their audiences, and which are data sources, read with them.
#[derive(Debug, Default)]
struct Subscribers {
    endpoints: Option<Vec<SubscribedEndpoint>>,
    taking: HashMap<(EventType, i64), Vec<i64>>,
    /// By endpoint id, for those with an audience: its filter, `None` if it does not read
    /// (which nothing writes; such an endpoint is sent nothing).
    audiences: HashMap<i64, Option<Filter>>,
    /// The data sources' endpoint ids.
    data_sources: HashSet<i64>,
}

impl Subscribers {
    async fn of(
        &mut self,
        tx: &mut impl EntryWrites,
        event: EventType,
        campaign: &CampaignRecord,
    ) -> Result<&[i64], StoreError> {
        if self.endpoints.is_none() {
            let endpoints = tx.enabled_endpoints().await?;
            for endpoint in &endpoints {
                if let Some(text) = &endpoint.audience {
                    let filter = serde_json::from_str(text).ok();
                    if filter.is_none() {
                        error!(
                            endpoint_id = endpoint.id,
                            "an endpoint's stored audience does not read: it is sent nothing"
                        );
                    }
                    self.audiences.insert(endpoint.id, filter);
                }
                if endpoint.data_source.is_some() {
                    self.data_sources.insert(endpoint.id);
                }
            }
            self.endpoints = Some(endpoints);
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

/// A session token secret and the random part of a referral code, drawn for every entry: a
/// new contestant (or one who has none) takes them, others keep theirs.
struct Fresh {
    secret: String,
    secret_hash: String,
    code_part: String,
}

/// Not the secret: a debug print of a pending entry must not hold a usable token.
impl std::fmt::Debug for Fresh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fresh").finish_non_exhaustive()
    }
}

impl Fresh {
    fn new() -> Self {
        let mut random = rand::rng();
        let secret = Alphanumeric.sample_string(&mut random, keys::SECRET_LEN);
        Self {
            secret_hash: token_hash(&secret),
            secret,
            code_part: Alphanumeric.sample_string(&mut random, keys::CODE_PART_LEN),
        }
    }
}

/// `hint` if it is `contestant`'s current token.
fn valid_hint(
    hint: Option<&ContestantToken>,
    contestant: &ContestantRecord,
) -> Option<ContestantToken> {
    let stored = contestant.token_hash.as_deref()?;
    let hint = hint?;
    let (id, secret) = keys::parse_token(hint)?;
    (id == contestant.id && token_hash(secret) == stored).then(|| hint.clone())
}

/// What an entry's checks found, before it writes anything.
enum Checked {
    /// Refused, or its idempotency key was used before (a retry): nothing was written.
    Done(Written),
    /// It may be written (boxed: it is most of the size).
    Passed(Box<Before>),
}

/// The entry's contestant as stored before it (`None`: a new one), and what they had done.
struct Before {
    contestant: Option<ContestantRecord>,
    completed: Vec<Completion>,
}

/// The checks that need the contestant's past, made before any write (reads only): whether
/// the idempotency key was used (a retry), the entry rules that depend on what they did, then
/// the value's. On PostgreSQL the read locks the contestant's row, so this holds until the
/// commit.
async fn check(tx: &mut impl EntryWrites, entry: &PendingEntry) -> Result<Checked, StoreError> {
    let campaign = &entry.campaign;
    let method = &campaign.entry_methods[entry.method_index];
    let contestant = tx.find_contestant(campaign.id, &entry.email).await?;
    let completed = match &contestant {
        Some(contestant) => {
            if tx
                .key_taken(contestant.id, &entry.request.idempotency_key)
                .await?
            {
                return Ok(Checked::Done(Written::KeyTaken));
            }
            tx.completions(contestant.id).await?
        }
        None => Vec::new(),
    };
    if let Err(refused) = rules::may_enter(campaign, method, &completed, entry.now) {
        return Ok(Checked::Done(Written::Refused(refused)));
    }
    if let Err(refused) = &entry.captured {
        return Ok(Checked::Done(Written::Refused(refused.clone())));
    }
    Ok(Checked::Passed(Box::new(Before {
        contestant,
        completed,
    })))
}

/// What the fraud filter asks the store about an entry (nothing at a level that counts
/// nothing).
fn fraud_ask(entry: &PendingEntry) -> Option<FraudAsk<'_>> {
    entry
        .campaign
        .fraud_level
        .count_caps()
        .map(|caps| FraudAsk {
            client_ip: entry.client_ip_text.as_deref(),
            caps,
            mailbox: &entry.mailbox,
        })
}

/// One entry's writes, once [`check`] passed it.
async fn insert(
    tx: &mut impl EntryWrites,
    subscribers: &mut Subscribers,
    entry: &PendingEntry,
    before: Box<Before>,
) -> Result<Written, StoreError> {
    let campaign = &entry.campaign;
    let request = &entry.request;
    let now = entry.now;
    let method = &campaign.entry_methods[entry.method_index];
    let client_ip = entry.client_ip;
    let Before {
        contestant: before,
        completed,
    } = *before;
    let captured = match &entry.captured {
        Ok(captured) => captured,
        Err(refused) => return Ok(Written::Refused(refused.clone())),
    };
    let details = if captured.detail.is_some() {
        Cow::Owned(rules::details_with(&request.details, captured))
    } else {
        Cow::Borrowed(&request.details)
    };
    let fresh = &entry.fresh;
    let mailbox = &entry.mailbox;
    // A once method done before was refused, and a daily one done on another day is what it
    // is for: a duplicate email is the same mailbox entering as another contestant.
    let fraud_ask = fraud_ask(entry);
    let (contestant, fraud_read) = tx
        .upsert_and_read(
            &NewContestant {
                stored: before.as_ref(),
                mailbox: (*mailbox != entry.email).then_some(mailbox.as_str()),
                campaign_id: campaign.id,
                email: &entry.email,
                name: &entry.name,
                first_name: &entry.first_name,
                last_name: &entry.last_name,
                details: &details,
                worth: method.worth,
                token_hash: &fresh.secret_hash,
                referral_code: &fresh.code_part,
                now,
            },
            fraud_ask.as_ref(),
        )
        .await?;
    // Every entry adds one action: anything else means another transaction made or changed
    // the contestant since they were read (on PostgreSQL a new one has no row to lock).
    let expected = before
        .as_ref()
        .map_or(1, |before| before.actions_completed.saturating_add(1));
    if contestant.actions_completed != expected {
        return Err(StoreError::Contended);
    }
    let is_new = before.is_none();
    let kept_token = if contestant.token_hash.as_deref() == Some(fresh.secret_hash.as_str()) {
        None
    } else if let Some(hint) = valid_hint(entry.token_hint.as_ref(), &contestant) {
        Some(hint)
    } else {
        // Another browser, or a token lost: this one becomes theirs (the one before stops
        // working; only its hash was kept).
        tx.set_token_hash(contestant.id, &fresh.secret_hash).await?;
        None
    };
    let referral_method = campaign
        .entry_methods
        .iter()
        .find(|method| method.method_type == EntryMethodType::Referral);
    let referrer = match (is_new, &entry.referrer_code, referral_method) {
        (true, Some(code), Some(_)) => match keys::parse_referral_code(code) {
            Some((id, part)) if id != contestant.id => tx.referrer(campaign.id, id, part).await?,
            _ => None,
        },
        _ => None,
    };
    // A level that looks at neither read nothing.
    let FraudRead {
        counts,
        another_with_mailbox: another_contestant_same_mailbox,
    } = fraud_read.unwrap_or_default();
    let verdict = fraud::score(
        &signals(
            &entry.email,
            request,
            client_ip,
            &Gathered {
                counts,
                another_contestant_same_mailbox,
                referrer: referrer.as_ref(),
            },
            now,
        ),
        campaign.fraud_level,
    );
    let upload = captured.upload.as_ref().map(|upload| {
        serde_json::to_string(upload).expect("an Upload serialises: it is plain strings")
    });
    let Some(entry_id) = tx
        .insert_entry(&NewEntry {
            campaign_id: campaign.id,
            contestant_id: contestant.id,
            entry_method_id: method.id,
            idempotency_key: &request.idempotency_key,
            value: &captured.value,
            worth: method.worth,
            consent_text: request.consent.then_some(campaign.consent_text.as_str()),
            landing_url: &request.landing_url,
            referring_url: &request.referring_url,
            honeypot: &request.honeypot,
            actions_completed: contestant.actions_completed,
            total_entries: contestant.total_entries,
            client_ip: entry.client_ip_text.as_deref(),
            upload: upload.as_deref(),
            fraud_score: verdict.score,
            fraud_reasons: &verdict.reasons,
            verdict: verdict.decision(),
            now,
        })
        .await?
    else {
        return Ok(Written::KeyTaken);
    };
    log_verdict(campaign, entry_id, &verdict);
    let completed = rules::completed_after(&completed, method.id, now);
    let unlocked = unlock_reward(tx, campaign, &contestant, &completed, entry_id, now).await?;
    let payload = entry_payload(
        campaign,
        method,
        &contestant,
        EntryMade {
            id: entry_id,
            value: &captured.value,
            landing_url: &request.landing_url,
            referring_url: &request.referring_url,
            upload: captured.upload.clone(),
            social_link: captured.social_link.clone(),
            reward: unlocked.as_ref().or(contestant.reward.as_ref()),
        },
        now,
    );
    let mut events = vec![(EventType::EntryCreated, None)];
    if campaign.campaign_type == CampaignType::Capture {
        events.push((EventType::CaptureCreated, None));
    }
    if method.method_type == EntryMethodType::EmailSubscribe {
        events.push((
            EventType::SubscriberCreated,
            Some(held_until(campaign, now)),
        ));
    }
    let mut shows_answer = false;
    queue_events(
        tx,
        subscribers,
        campaign,
        &payload,
        &events,
        unlocked.is_some(),
        Some(&mut shows_answer),
        now,
    )
    .await?;
    if let (Some(referrer), Some(referral)) = (&referrer, referral_method) {
        credit_referrer(
            tx,
            subscribers,
            entry,
            Credit {
                referrer,
                referral,
                friend: &contestant,
                friend_entry_id: entry_id,
                verdict: &verdict,
            },
        )
        .await?;
    }
    Ok(Written::Created(Box::new(Made {
        entry_id,
        contestant,
        kept_token,
        completed,
        unlocked,
        shows_answer,
    })))
}

/// A friend's first entry, to credit to their referrer.
struct Credit<'a> {
    referrer: &'a ReferrerRecord,
    /// The campaign's `referral` method.
    referral: &'a EntryMethodRecord,
    friend: &'a ContestantRecord,
    friend_entry_id: EntryId,
    /// The friend's entry's: a referral loop (same address as the referrer) marks both.
    verdict: &'a Verdict,
}

/// Credits a new contestant's referrer: one entry of the referral method (its worth) and one
/// referral more, `entry.created` for them, and their reward if that unlocks it.
async fn credit_referrer(
    tx: &mut impl EntryWrites,
    subscribers: &mut Subscribers,
    entry: &PendingEntry,
    credit: Credit<'_>,
) -> Result<(), StoreError> {
    let (campaign, now) = (&entry.campaign, entry.now);
    let referral = credit.referral;
    let referrer = tx
        .credit_referral(&NewCredit {
            referrer_id: credit.referrer.id,
            friend_id: credit.friend.id,
            worth: referral.worth,
            now,
        })
        .await?;
    // No widget can send this key: theirs have no spaces.
    let key = format!("referral {}", credit.friend_entry_id.0);
    let Some(entry_id) = tx
        .insert_entry(&NewEntry {
            campaign_id: campaign.id,
            contestant_id: referrer.id,
            entry_method_id: referral.id,
            idempotency_key: &key,
            value: &credit.friend.email,
            worth: referral.worth,
            consent_text: None,
            landing_url: &entry.request.landing_url,
            referring_url: &entry.request.referring_url,
            honeypot: "",
            actions_completed: referrer.actions_completed,
            total_entries: referrer.total_entries,
            client_ip: None,
            upload: None,
            fraud_score: credit.verdict.score,
            fraud_reasons: &credit.verdict.reasons,
            verdict: credit.verdict.decision(),
            now,
        })
        .await?
    else {
        return Err(StoreError::Corrupt {
            column: "entries.idempotency_key",
            value: key,
        });
    };
    let unlocked = if campaign.campaign_type == CampaignType::Reward && referrer.reward.is_none() {
        let completed = tx.completions(referrer.id).await?;
        unlock_reward(tx, campaign, &referrer, &completed, entry_id, now).await?
    } else {
        None
    };
    let payload = entry_payload(
        campaign,
        referral,
        &referrer,
        EntryMade {
            id: entry_id,
            value: &credit.friend.email,
            landing_url: &entry.request.landing_url,
            referring_url: &entry.request.referring_url,
            upload: None,
            social_link: None,
            reward: unlocked.as_ref().or(referrer.reward.as_ref()),
        },
        now,
    );
    queue_events(
        tx,
        subscribers,
        campaign,
        &payload,
        &[(EventType::EntryCreated, None)],
        unlocked.is_some(),
        // The referrer's entry: no widget waits for a data source's answer to it.
        None,
        now,
    )
    .await
}

/// The first time a Reward campaign's unlock rule holds for `contestant` (whose completions
/// after this entry are `completed`): a coupon from the pool, or the download link. `None`
/// when it does not unlock now, or the pool is empty (then a later entry tries again).
async fn unlock_reward(
    tx: &mut impl EntryWrites,
    campaign: &CampaignRecord,
    contestant: &ContestantRecord,
    completed: &[Completion],
    entry_id: EntryId,
    now: i64,
) -> Result<Option<GivenReward>, StoreError> {
    if campaign.campaign_type != CampaignType::Reward || contestant.reward.is_some() {
        return Ok(None);
    }
    let Some(settings) = reward_settings(campaign) else {
        return Ok(None);
    };
    if !rules::reward_unlocks(
        campaign,
        settings.unlock,
        completed,
        contestant.actions_completed,
    ) {
        return Ok(None);
    }
    let value = match settings.kind {
        RewardKind::Coupon => match tx.take_coupon(campaign.id, contestant.id, now).await? {
            Some(code) => code,
            None => {
                warn!(
                    campaign = %campaign.key.as_str(), contestant_id = contestant.id.0,
                    "the coupon pool is empty: a contestant unlocked the reward and got no code \
                     (add codes; their next entry gets one)"
                );
                return Ok(None);
            }
        },
        RewardKind::Download => match settings.download_url {
            Some(url) if !url.is_empty() => url,
            _ => return Ok(None),
        },
    };
    tx.give_reward(&NewReward {
        contestant_id: contestant.id,
        kind: settings.kind,
        value: &value,
        entry_id,
        now,
    })
    .await?;
    Ok(Some(GivenReward {
        kind: settings.kind,
        value,
        entry_id: Some(entry_id),
    }))
}

/// A Reward campaign's `settings.reward` (checked when saved; unreadable reads as none).
fn reward_settings(campaign: &CampaignRecord) -> Option<RewardSettings> {
    campaign
        .settings
        .get("reward")
        .and_then(|reward| serde_json::from_value(reward.clone()).ok())
}

/// The reward as the contestant sees it, titled as the campaign says now.
fn unlocked_reward(campaign: &CampaignRecord, reward: &GivenReward) -> UnlockedReward {
    let title = reward_settings(campaign)
        .map(|settings| settings.title)
        .unwrap_or_default();
    match reward.kind {
        RewardKind::Coupon => UnlockedReward::Coupon {
            code: reward.value.clone(),
            title,
        },
        RewardKind::Download => UnlockedReward::Download {
            url: reward.value.clone(),
            title,
        },
    }
}

/// Who the contestant is to the server and what they have done, for an answer or a status.
fn session(
    campaign: &CampaignRecord,
    contestant: &ContestantRecord,
    token: ContestantToken,
    completed: &[Completion],
    public_url: &str,
) -> ContestantSession {
    let referral_code = contestant
        .referral_code
        .as_deref()
        .and_then(|part| keys::referral_code(contestant.id, part));
    let referral_url = referral_code
        .as_ref()
        .map(|code| {
            format!(
                "{}/c/{}?{}={code}",
                public_url.trim_end_matches('/'),
                campaign.key,
                ReferralCode::QUERY_PARAMETER
            )
        })
        .unwrap_or_default();
    ContestantSession {
        contestant_token: Some(token),
        referral_code,
        referral_url,
        referrals: contestant.referrals,
        completed: completed
            .iter()
            .map(|done| CompletedMethod {
                entry_method_id: done.entry_method_id,
                times: done.times,
                last_completed_at: done.last_at,
            })
            .collect(),
    }
}

/// When a held delivery of an entry made at `now` is settled.
fn held_until(campaign: &CampaignRecord, now: i64) -> i64 {
    now.saturating_add(campaign.hold_window_ms.max(0))
}

/// Queues `payload` as each of `events` (due at once, or held until the given time), then as
/// `entry.disqualified` held for the verdict, and as `reward.unlocked` if `unlocked`: for each,
/// one delivery per endpoint that takes it and whose audience the body matches. When
/// `shows_answer` is given, a data source's delivery of an event due at once is marked as one
/// whose answer the contestant is shown, and `shows_answer` set.
#[allow(clippy::too_many_arguments)]
async fn queue_events(
    tx: &mut impl EntryWrites,
    subscribers: &mut Subscribers,
    campaign: &CampaignRecord,
    payload: &EntryPayload,
    events: &[(EventType, Option<i64>)],
    unlocked: bool,
    mut shows_answer: Option<&mut bool>,
    now: i64,
) -> Result<(), StoreError> {
    let body = serde_json::to_string(payload)
        .expect("an EntryPayload serialises: its maps have string keys");
    // The body as audiences read it, made once if one needs it.
    let mut readable: Option<serde_json::Value> = None;
    let entry_id = payload.entry.id;
    let held = (
        EventType::EntryDisqualified,
        Some(held_until(campaign, now)),
    );
    let reward = unlocked.then_some((EventType::RewardUnlocked, None));
    for &(event, held_until) in events.iter().chain([held].iter()).chain(reward.iter()) {
        let endpoints = subscribers.of(tx, event, campaign).await?.to_vec();
        for endpoint_id in endpoints {
            if let Some(filter) = subscribers.audiences.get(&endpoint_id) {
                let value = readable.get_or_insert_with(|| {
                    serde_json::to_value(payload).unwrap_or(serde_json::Value::Null)
                });
                if !filter.as_ref().is_some_and(|filter| filter.matches(value)) {
                    continue;
                }
            }
            let answered = match shows_answer.as_deref_mut() {
                Some(shows)
                    if held_until.is_none() && subscribers.data_sources.contains(&endpoint_id) =>
                {
                    *shows = true;
                    true
                }
                _ => false,
            };
            tx.insert_delivery(&NewDelivery {
                webhook_id: &new_message_id(now),
                endpoint_id,
                entry_id,
                event_type: event,
                body: &body,
                held_until,
                shows_answer: answered,
                now,
            })
            .await?;
        }
    }
    Ok(())
}

/// What the write path read for the fraud filter.
struct Gathered<'a> {
    counts: FraudCounts,
    /// Whether another contestant has the same mailbox ([`fraud::mailbox`]).
    another_contestant_same_mailbox: bool,
    /// Whose share link a new contestant came through.
    referrer: Option<&'a ReferrerRecord>,
}

/// The fraud filter's inputs.
fn signals(
    email: &str,
    request: &EntryRequest,
    client_ip: Option<IpAddr>,
    gathered: &Gathered<'_>,
    now: i64,
) -> Signals {
    let domain = email.rsplit_once('@').map_or("", |(_, domain)| domain);
    let counts = gathered.counts;
    Signals {
        email: email.to_owned(),
        email_domain: domain.to_ascii_lowercase(),
        client_ip,
        honeypot: request.honeypot.clone(),
        form_issued_at: request.form_issued_at,
        now,
        another_contestant_same_mailbox: gathered.another_contestant_same_mailbox,
        other_contestants_from_ip: counts.other_contestants_from_ip,
        entries_from_ip_last_minute: counts.entries_from_ip_last_minute,
        entries_from_ip_last_hour: counts.entries_from_ip_last_hour,
        referrer: gathered.referrer.map(|referrer| Referrer {
            email: referrer.email.clone(),
            ip: referrer.client_ip.map(|ip| ip.to_canonical()),
        }),
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

/// A request that passed every check that needs nothing but itself, with its fields cleaned.
#[derive(Debug)]
struct ValidEntry {
    /// Where the entry method is in `campaign.entry_methods`.
    method_index: usize,
    email: String,
    name: String,
    first_name: String,
    last_name: String,
    /// The action's value checked against its method's settings. A refusal waits for the
    /// rules that come before it (mandatory first, once or daily), which need the store.
    captured: Result<Captured, RuleError>,
}

fn validate(
    campaign: &CampaignRecord,
    post: &EntryPost,
    now: i64,
) -> Result<ValidEntry, IngestError> {
    let request = &post.request;
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
    if method.method_type == EntryMethodType::Referral {
        return Err(RuleError::NotPostable.into());
    }
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
    let captured = rules::capture(method, &post.action, &email);
    Ok(ValidEntry {
        method_index,
        email,
        name: name.to_owned(),
        first_name,
        last_name,
        captured,
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

/// The entry a webhook body describes, beyond its method.
struct EntryMade<'a> {
    id: EntryId,
    value: &'a str,
    landing_url: &'a str,
    referring_url: &'a str,
    upload: Option<Upload>,
    social_link: Option<protocol::payload::SocialLink>,
    /// The contestant's reward, once given.
    reward: Option<&'a GivenReward>,
}

/// The webhook body for an entry, in Gleam's shape. Location is unknown for now (empty).
/// A coupon is both the `reward` and the `coupon`; a download is the `reward`, its link the
/// `code`.
fn entry_payload(
    campaign: &CampaignRecord,
    method: &EntryMethodRecord,
    contestant: &ContestantRecord,
    made: EntryMade<'_>,
    now: i64,
) -> EntryPayload {
    let code = |reward: &GivenReward| RewardCode {
        reward_type: reward.kind.as_str().to_owned(),
        code: reward.value.clone(),
    };
    EntryPayload {
        campaign: CampaignRef {
            name: campaign.name.clone(),
            key: campaign.key.clone(),
            campaign_type: campaign.campaign_type,
        },
        reward: made.reward.map(code),
        coupon: made
            .reward
            .filter(|reward| reward.kind == RewardKind::Coupon)
            .map(code),
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
            id: made.id,
            entry_method_id: method.id,
            action: method.action.clone(),
            created_at: format_created_at(now.div_euclid(1000)),
            entry_type: method.method_type.as_str().to_owned(),
            value: made.value.to_owned(),
            worth: method.worth,
            landing_url: made.landing_url.to_owned(),
            referring_url: made.referring_url.to_owned(),
            upload: made.upload,
        },
        social_links: made.social_link.into_iter().collect(),
    }
}

/// A fresh `webhook-id` for a message made at `now` (unix ms): `msg_`, the time in 9 base-62
/// digits, then 15 random letters and digits (about 89 bits), 24 characters as before. Ids
/// made later sort after (KSUID and ULID do the same). Nothing indexes them: the random part
/// keeps them apart.
pub fn new_message_id(now: i64) -> MessageId {
    const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const TIME_DIGITS: usize = 9;
    let mut suffix = String::with_capacity(24);
    let mut time = [b'0'; TIME_DIGITS];
    let mut rest = u64::try_from(now).unwrap_or_default();
    for digit in time.iter_mut().rev() {
        *digit = DIGITS[(rest % 62) as usize];
        rest /= 62;
    }
    suffix.extend(time.iter().map(|&digit| char::from(digit)));
    Alphanumeric.append_string(&mut rand::rng(), &mut suffix, 15);
    MessageId::from_suffix(&suffix)
}

/// A contestant's session token and referral code, which carry their id so that either finds
/// them by their row (no index over random values for every new contestant to write).
///
/// The token is `ctk_{id}_{secret}`: only the secret's hash is stored, and a token is theirs
/// while it matches. The referral code is their id spread over 2^40 by an odd multiplier
/// (so a code does not tell how many contestants came before), in 7 base-62 digits, then 3
/// random letters or digits kept with them: 10 characters, unique because ids are.
mod keys {
    use protocol::ids::{ContestantId, ContestantToken, ReferralCode};

    /// Random characters of a token's secret: 24 alphanumerics, about 143 bits.
    pub const SECRET_LEN: usize = 24;
    /// Random characters ending a referral code.
    pub const CODE_PART_LEN: usize = 3;
    const ID_DIGITS: usize = 7;
    const ID_MASK: u64 = (1 << 40) - 1;
    const SPREAD: u64 = 0x9E_3779_B97F;
    const UNSPREAD: u64 = inverse(SPREAD) & ID_MASK;
    const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// The inverse of `odd` modulo 2^64 (each step of Newton's iteration doubles the bits
    /// that are right; an odd number is its own inverse modulo 8).
    const fn inverse(odd: u64) -> u64 {
        let mut inverse = odd;
        let mut step = 0;
        while step < 6 {
            inverse = inverse.wrapping_mul(2_u64.wrapping_sub(odd.wrapping_mul(inverse)));
            step += 1;
        }
        inverse
    }

    pub fn token(id: ContestantId, secret: &str) -> ContestantToken {
        ContestantToken::from_suffix(&format!("{}_{secret}", id.0))
    }

    /// The id and secret of a token of this form.
    pub fn parse_token(token: &ContestantToken) -> Option<(ContestantId, &str)> {
        let rest = token.as_str().strip_prefix(ContestantToken::PREFIX)?;
        let (id, secret) = rest.split_once('_')?;
        let id = id.parse::<i64>().ok().filter(|id| *id > 0)?;
        (secret.len() == SECRET_LEN).then_some((ContestantId(id), secret))
    }

    /// The code of contestant `id` whose random part is `part`.
    pub fn referral_code(id: ContestantId, part: &str) -> Option<ReferralCode> {
        let id = u64::try_from(id.0).ok().filter(|id| *id <= ID_MASK)?;
        let mut spread = id.wrapping_mul(SPREAD) & ID_MASK;
        let mut code = [0_u8; ID_DIGITS];
        for digit in code.iter_mut().rev() {
            *digit = DIGITS[usize::try_from(spread % 62).ok()?];
            spread /= 62;
        }
        ReferralCode::parse(&format!("{}{part}", std::str::from_utf8(&code).ok()?))
    }

    /// The id and random part of a code of this form.
    pub fn parse_referral_code(code: &ReferralCode) -> Option<(ContestantId, &str)> {
        let text = code.as_str();
        if text.len() != ID_DIGITS + CODE_PART_LEN {
            return None;
        }
        let (digits, part) = text.split_at_checked(ID_DIGITS)?;
        let mut spread: u64 = 0;
        for byte in digits.bytes() {
            let value = DIGITS.iter().position(|digit| *digit == byte)?;
            spread = spread * 62 + u64::try_from(value).ok()?;
        }
        if spread > ID_MASK {
            return None;
        }
        let id = i64::try_from(spread.wrapping_mul(UNSPREAD) & ID_MASK).ok()?;
        (id > 0).then_some((ContestantId(id), part))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn codes_and_tokens_give_back_the_id_and_nothing_else_parses() {
            for id in [1, 2, 3, 62, 1_000, 123_456_789, (1 << 40) - 1] {
                let code = referral_code(ContestantId(id), "xY9").expect("a code");
                assert_eq!(code.as_str().len(), 10);
                assert_eq!(parse_referral_code(&code), Some((ContestantId(id), "xY9")));
                let secret = "a".repeat(SECRET_LEN);
                let token = token(ContestantId(id), &secret);
                assert_eq!(
                    parse_token(&token),
                    Some((ContestantId(id), secret.as_str()))
                );
            }
            let one = referral_code(ContestantId(1), "aaa").expect("a code");
            let two = referral_code(ContestantId(2), "aaa").expect("a code");
            assert_ne!(
                one.as_str()[..7],
                two.as_str()[..7],
                "neighbours look unrelated"
            );
            assert_eq!(referral_code(ContestantId(1 << 40), "aaa"), None);
            for bad in ["short", "zzzzzzzzzz", "0000000aaa"] {
                let code = ReferralCode::parse(bad).expect("well formed");
                assert_eq!(parse_referral_code(&code), None, "{bad}");
            }
            for bad in [
                "ctk_abc",
                "ctk_0_aaaaaaaaaaaaaaaaaaaaaaaa",
                "ctk_5_short",
                "ctk_x_aaaaaaaaaaaaaaaaaaaaaaaa",
            ] {
                let token = ContestantToken::parse(bad).expect("well formed");
                assert_eq!(parse_token(&token), None, "{bad}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use protocol::campaign::CampaignStatus;
    use protocol::entry::EntryAction;
    use protocol::ids::{ContestantId, EntryMethodId};

    use super::*;

    #[test]
    fn message_ids_sort_by_the_time_they_were_made() {
        let times = [
            0,
            1,
            61,
            62,
            1_700_000_000_000,
            1_700_000_000_001,
            1_800_000_000_000,
        ];
        let ids: Vec<MessageId> = times.iter().map(|&now| new_message_id(now)).collect();
        for id in &ids {
            let suffix = id.as_str().strip_prefix("msg_").expect("the prefix");
            assert_eq!(suffix.len(), 24, "{id}");
            assert!(
                suffix.bytes().all(|byte| byte.is_ascii_alphanumeric()),
                "{id}"
            );
        }
        for pair in ids.windows(2) {
            assert!(
                pair[0].as_str() < pair[1].as_str(),
                "{} then {}",
                pair[0],
                pair[1]
            );
        }
        // Made at the same time, they still differ.
        assert_ne!(new_message_id(5), new_message_id(5));
    }

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
            entry_methods: vec![
                EntryMethodRecord {
                    id: EntryMethodId(334_222),
                    method_type: EntryMethodType::EmailSubscribe,
                    action: "Subscribe to our newsletter".to_owned(),
                    worth: 1,
                    mandatory: true,
                    daily: false,
                    config: serde_json::json!({}),
                    position: 0,
                },
                EntryMethodRecord {
                    id: EntryMethodId(334_223),
                    method_type: EntryMethodType::Referral,
                    action: "Refer a friend".to_owned(),
                    worth: 3,
                    mandatory: false,
                    daily: false,
                    config: serde_json::json!({}),
                    position: 1,
                },
            ],
            fraud_level: crate::fraud::FraudLevel::Standard,
            hold_window_ms: 300_000,
        }
    }

    #[test]
    fn signals_carry_the_request_the_counts_the_domain_and_the_referrer() {
        let mut request = request().request;
        request.honeypot = "bot".to_owned();
        let counts = FraudCounts {
            other_contestants_from_ip: 2,
            entries_from_ip_last_minute: 3,
            entries_from_ip_last_hour: 4,
        };
        let ip: IpAddr = "203.0.113.7".parse().expect("an IP");
        let referrer = ReferrerRecord {
            id: ContestantId(3),
            email: "ann@example.com".to_owned(),
            client_ip: Some("::ffff:203.0.113.7".parse().expect("an IP")),
        };
        let gathered = Gathered {
            counts,
            another_contestant_same_mailbox: true,
            referrer: Some(&referrer),
        };
        let got = signals("Joe@Mail.Example", &request, Some(ip), &gathered, 99);
        assert_eq!(got.email_domain, "mail.example");
        assert_eq!(got.honeypot, "bot");
        assert_eq!(got.form_issued_at, Some(1_447_823_647_000));
        assert_eq!(got.client_ip, Some(ip));
        assert_eq!(
            (
                got.another_contestant_same_mailbox,
                got.other_contestants_from_ip,
                got.entries_from_ip_last_minute,
                got.entries_from_ip_last_hour,
                got.now
            ),
            (true, 2, 3, 4, 99)
        );
        let referrer = got.referrer.expect("the referrer is a signal");
        assert_eq!(referrer.email, "ann@example.com");
        assert_eq!(referrer.ip, Some(ip), "compared in canonical form");
    }

    fn request() -> EntryPost {
        EntryPost {
            request: EntryRequest {
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
            },
            action: EntryAction::default(),
        }
    }

    fn contestant(details: BTreeMap<String, serde_json::Value>) -> ContestantRecord {
        ContestantRecord {
            id: ContestantId(7),
            email: "joe@example.com".to_owned(),
            name: "Joe Bloggs".to_owned(),
            first_name: "Joe".to_owned(),
            last_name: "Bloggs".to_owned(),
            details,
            actions_completed: 1,
            total_entries: 1,
            token_hash: None,
            referral_code: Some("Q1x".to_owned()),
            referrals: 0,
            reward: None,
        }
    }

    #[test]
    fn payload_has_gleams_shape_and_values() {
        let campaign = campaign();
        let post = request();
        let payload = entry_payload(
            &campaign,
            &campaign.entry_methods[0],
            &contestant(post.request.details.clone()),
            EntryMade {
                id: EntryId(244_523_423),
                value: "joe@example.com",
                landing_url: "https://example.com",
                referring_url: "https://example.com/from",
                upload: None,
                social_link: None,
                reward: None,
            },
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
        assert_eq!(value["entry"]["value"], "joe@example.com");
        assert_eq!(value["entry"]["referring_url"], "https://example.com/from");
    }

    #[test]
    fn a_coupon_is_the_reward_and_the_coupon_a_download_only_the_reward() {
        let campaign = campaign();
        let body = |kind: RewardKind, value: &str| {
            let reward = GivenReward {
                kind,
                value: value.to_owned(),
                entry_id: None,
            };
            let payload = entry_payload(
                &campaign,
                &campaign.entry_methods[0],
                &contestant(BTreeMap::new()),
                EntryMade {
                    id: EntryId(1),
                    value: "",
                    landing_url: "",
                    referring_url: "",
                    upload: None,
                    social_link: None,
                    reward: Some(&reward),
                },
                0,
            );
            let value = serde_json::to_value(&payload).expect("serialises");
            (value["reward"].clone(), value["coupon"].clone())
        };
        let coupon = serde_json::json!({"type": "Coupon", "code": "SAVE10"});
        assert_eq!(body(RewardKind::Coupon, "SAVE10"), (coupon.clone(), coupon));
        assert_eq!(
            body(RewardKind::Download, "https://files.example/guide.pdf"),
            (
                serde_json::json!({"type": "Download", "code": "https://files.example/guide.pdf"}),
                serde_json::Value::Null
            )
        );
    }

    #[test]
    fn the_share_link_is_the_hosted_page_with_the_code() {
        let campaign = campaign();
        let token = ContestantToken::parse("ctk_abc").expect("a token");
        let done = Completion {
            entry_method_id: EntryMethodId(334_222),
            times: 1,
            last_at: 5,
        };
        let session = session(
            &campaign,
            &contestant(BTreeMap::new()),
            token.clone(),
            &[done],
            "https://hookline.example/",
        );
        assert_eq!(session.contestant_token, Some(token));
        let code = keys::referral_code(ContestantId(7), "Q1x").expect("a code");
        assert_eq!(session.referral_code.as_ref(), Some(&code));
        assert_eq!(
            session.referral_url,
            format!("https://hookline.example/c/a1XyD?hl_ref={code}")
        );
        assert_eq!(
            session.completed,
            vec![CompletedMethod {
                entry_method_id: EntryMethodId(334_222),
                times: 1,
                last_completed_at: 5
            }]
        );
    }

    #[test]
    fn fresh_tokens_and_codes_are_long_random_and_well_formed() {
        let (one, two) = (Fresh::new(), Fresh::new());
        assert_ne!(one.secret, two.secret);
        assert_eq!(one.secret.len(), keys::SECRET_LEN);
        assert_eq!(one.secret_hash, token_hash(&one.secret));
        assert_eq!(one.secret_hash.len(), 64);
        let token = keys::token(ContestantId(7), &one.secret);
        assert!(ContestantToken::parse(token.as_str()).is_some());
        let mut contestant = contestant(BTreeMap::new());
        contestant.token_hash = Some(one.secret_hash.clone());
        assert_eq!(valid_hint(Some(&token), &contestant), Some(token.clone()));
        let elsewhere = keys::token(ContestantId(8), &one.secret);
        assert_eq!(
            valid_hint(Some(&elsewhere), &contestant),
            None,
            "another's id"
        );
        let guessed = keys::token(ContestantId(7), &two.secret);
        assert_eq!(valid_hint(Some(&guessed), &contestant), None);
        let code = keys::referral_code(ContestantId(7), &one.code_part).expect("a code");
        assert!((6..=10).contains(&code.as_str().len()));
    }

    fn check(change: impl FnOnce(&mut CampaignRecord, &mut EntryPost), expected: &str) {
        let mut campaign = campaign();
        let mut post = request();
        change(&mut campaign, &mut post);
        let outcome = check_idempotency_key(&post.request.idempotency_key)
            .and_then(|()| validate(&campaign, &post, 1_000));
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
            |_, p| p.request.entry_method_id = EntryMethodId(1),
            "UnknownEntryMethod(1)",
        );
        check(
            |_, p| p.request.entry_method_id = EntryMethodId(334_223),
            "Refused(NotPostable)",
        );
        check(
            |_, p| p.request.email = "joe".to_owned(),
            "InvalidEmail(Malformed)",
        );
        check(
            |_, p| p.request.name = "x".repeat(MAX_NAME_LEN + 1),
            "InvalidName",
        );
        check(|_, p| p.request.name = "Joe\u{7}".to_owned(), "InvalidName");
        check(|_, p| p.request.consent = false, "ConsentRequired");
        check(
            |c, p| (c.consent_text.clear(), p.request.consent = false).0,
            r#"ok joe@example.com "Joe" "Bloggs""#,
        );
        check(
            |_, p| p.request.idempotency_key.clear(),
            r#"InvalidIdempotencyKey("is empty")"#,
        );
        check(
            |_, p| p.request.idempotency_key = "k".repeat(65),
            r#"InvalidIdempotencyKey("is too long")"#,
        );
        check(
            |_, p| p.request.idempotency_key = "a b".to_owned(),
            r#"InvalidIdempotencyKey("contains spaces or control characters")"#,
        );
    }
}
