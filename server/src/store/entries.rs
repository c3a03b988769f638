//! Contestants, entries and the deliveries an entry creates, written in one transaction on the
//! entry writer's connection ([`WriteTx`]); looked up again on the pool.
//!
//! Besides the entry itself the write path keeps what the entry rules need: a contestant's
//! completions (read from one covering index), their session token (only its SHA-256 hash is
//! stored) and referral code, referral credits, and the reward (a coupon taken once from the
//! campaign's pool).

use std::collections::BTreeMap;
use std::net::IpAddr;

use protocol::campaign::{EntryMethodType, RewardKind};
use protocol::ids::{ContestantId, EntryId, EntryMethodId, MessageId};
use protocol::payload::EventType;
use rusqlite::{OptionalExtension as _, params};
use sha2::{Digest as _, Sha256};

use super::campaigns::parse_column;
use super::deliveries::Leases;
use super::{ClaimedDelivery, Store, StoreError, WriteTx, to_u32, with_pool};
use crate::fraud::{CountCaps, Decision, Reason};

/// Details (question → answer) as stored in `contestants.details`.
pub(super) type Details = BTreeMap<String, serde_json::Value>;

/// An entry as stored, with what is needed to answer its request again.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEntry {
    pub id: EntryId,
    pub contestant_id: ContestantId,
    pub entry_method_id: EntryMethodId,
    pub method_type: EntryMethodType,
    pub action: String,
    pub worth: u32,
    /// Unix milliseconds.
    pub created_at: i64,
    pub actions_completed: u32,
    pub total_entries: u32,
}

/// A contestant as stored, after this entry's update.
#[derive(Debug, Clone, PartialEq)]
pub struct ContestantRecord {
    pub id: ContestantId,
    pub email: String,
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub details: Details,
    pub actions_completed: u32,
    pub total_entries: u32,
    /// [`token_hash`] of the secret part of the contestant's session token.
    pub token_hash: Option<String>,
    /// The random part of their referral code (the rest is made from their id).
    pub referral_code: Option<String>,
    /// Friends credited to them.
    pub referrals: u32,
    /// The campaign's reward, once it unlocked for them.
    pub reward: Option<GivenReward>,
}

/// The reward a contestant was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenReward {
    pub kind: RewardKind,
    /// The coupon code or the download link.
    pub value: String,
    /// The entry whose answer carried it.
    pub entry_id: Option<EntryId>,
}

/// The contestant completing an action. Empty names keep what was stored before; so do a
/// stored token and referral code (the fresh ones are used only by a new contestant, or one
/// who had none).
#[derive(Debug, Clone)]
pub struct NewContestant<'a> {
    /// The contestant as [`EntryWrites::find_contestant`] found them before this entry, if
    /// they were there. SQLite, whose one writer nothing comes between, then updates that row
    /// or inserts a new one; PostgreSQL upserts either way (another group may insert the same
    /// contestant meanwhile).
    pub stored: Option<&'a ContestantRecord>,
    /// Their mailbox ([`crate::fraud::mailbox`]) when it is not their email, for the
    /// duplicate email rule (stored for new contestants only).
    pub mailbox: Option<&'a str>,
    pub campaign_id: i64,
    pub email: &'a str,
    pub name: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    /// Merged over the stored details, answer by answer.
    pub details: &'a Details,
    /// Entries this action earns.
    pub worth: u32,
    /// [`token_hash`] of a freshly drawn token secret.
    pub token_hash: &'a str,
    /// A freshly drawn random part of a referral code.
    pub referral_code: &'a str,
    pub now: i64,
}

impl NewContestant<'_> {
    /// The contestant as inserted new with id `id` (and these details).
    pub(super) fn created(&self, id: ContestantId, details: Details) -> ContestantRecord {
        ContestantRecord {
            id,
            email: self.email.to_owned(),
            name: self.name.to_owned(),
            first_name: self.first_name.to_owned(),
            last_name: self.last_name.to_owned(),
            details,
            actions_completed: 1,
            total_entries: self.worth,
            token_hash: Some(self.token_hash.to_owned()),
            referral_code: Some(self.referral_code.to_owned()),
            referrals: 0,
            reward: None,
        }
    }
}

/// What a contestant has done of one entry method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    pub entry_method_id: EntryMethodId,
    /// Entries through it: 1 for a once method, days done for a daily one, friends credited
    /// for a referral method.
    pub times: u32,
    /// The latest, unix ms.
    pub last_at: i64,
}

/// The contestant whose referral code a new contestant arrived with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferrerRecord {
    pub id: ContestantId,
    pub email: String,
    /// The address of their first entry, when known.
    pub client_ip: Option<IpAddr>,
}

/// A friend's first entry credited to the contestant who referred them.
#[derive(Debug, Clone, Copy)]
pub struct NewCredit {
    pub referrer_id: ContestantId,
    pub friend_id: ContestantId,
    /// The referral method's worth.
    pub worth: u32,
    pub now: i64,
}

/// A reward handed to a contestant.
#[derive(Debug, Clone, Copy)]
pub struct NewReward<'a> {
    pub contestant_id: ContestantId,
    pub kind: RewardKind,
    pub value: &'a str,
    pub entry_id: EntryId,
    pub now: i64,
}

/// A session token secret's stored form: SHA-256, lower-case hex. Secrets carry at least 128
/// random bits, so a fast hash is enough.
pub fn token_hash(secret: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(64);
    for byte in Sha256::digest(secret.as_bytes()) {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    hex
}

#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub campaign_id: i64,
    pub contestant_id: ContestantId,
    pub entry_method_id: EntryMethodId,
    pub idempotency_key: &'a str,
    pub value: &'a str,
    pub worth: u32,
    pub consent_text: Option<&'a str>,
    pub landing_url: &'a str,
    pub referring_url: &'a str,
    pub honeypot: &'a str,
    pub actions_completed: u32,
    pub total_entries: u32,
    /// The canonical text of the address ([`std::net::IpAddr::to_canonical`]), as stored.
    pub client_ip: Option<&'a str>,
    /// `entry.upload` of the webhook body, as JSON.
    pub upload: Option<&'a str>,
    pub fraud_score: u32,
    pub fraud_reasons: &'a [Reason],
    pub verdict: Decision,
    pub now: i64,
}

/// What the database says about a new entry's IP, for the fraud filter. Every count leaves
/// out the entry being recorded. (The contestant's own earlier entries are their
/// [`Completion`]s.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FraudCounts {
    /// Other contestants with an entry from this IP in the campaign.
    pub other_contestants_from_ip: u32,
    pub entries_from_ip_last_minute: u32,
    pub entries_from_ip_last_hour: u32,
}

/// What the fraud filter asks of the database about a new entry, besides its contestant's
/// id and the time ([`EntryWrites::upsert_and_read`]).
#[derive(Debug, Clone, Copy)]
pub struct FraudAsk<'a> {
    /// As [`NewEntry::client_ip`].
    pub client_ip: Option<&'a str>,
    /// Where each count may stop: the campaign's fraud level decides alike above.
    pub caps: CountCaps,
    /// The entry's mailbox ([`crate::fraud::mailbox`]).
    pub mailbox: &'a str,
}

/// One entry of a group, as [`EntryWrites::read_contestants`] reads ahead for it.
#[derive(Debug, Clone, Copy)]
pub struct GroupKey<'a> {
    pub campaign_id: i64,
    /// Normalised.
    pub email: &'a str,
    pub now: i64,
    /// What the fraud filter will ask ([`EntryWrites::upsert_and_read`]), if anything.
    pub fraud: Option<FraudAsk<'a>>,
}

/// What the database said for the fraud filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FraudRead {
    pub counts: FraudCounts,
    /// Whether another contestant has the same mailbox.
    pub another_with_mailbox: bool,
}

/// Where [`FraudCounts`] are counted.
#[derive(Debug, Clone, Copy)]
pub struct FraudCountsQuery<'a> {
    pub campaign_id: i64,
    pub contestant_id: ContestantId,
    /// As [`NewEntry::client_ip`].
    pub client_ip: Option<&'a str>,
    pub now: i64,
    /// Where each count may stop: the campaign's fraud level decides alike above.
    pub caps: CountCaps,
}

#[derive(Debug, Clone)]
pub struct NewDelivery<'a> {
    pub webhook_id: &'a MessageId,
    pub endpoint_id: i64,
    pub entry_id: EntryId,
    pub event_type: EventType,
    /// The frozen body, sent unchanged on every try.
    pub body: &'a str,
    /// `Some(due)`: held until `due` for the entry's fraud verdict (see
    /// [`Store::release_held_deliveries`]); `None`: due at once.
    pub held_until: Option<i64>,
    /// A data source's delivery, whose answer the entry's answer waits for.
    pub shows_answer: bool,
    pub now: i64,
}

impl Store {
    /// The entry made earlier in `campaign_id` by the contestant with (normalised) `email`
    /// with `idempotency_key`, if any.
    pub async fn entry_by_idempotency_key(
        &self,
        campaign_id: i64,
        email: &str,
        idempotency_key: &str,
    ) -> Result<Option<StoredEntry>, StoreError> {
        let row: Option<StoredEntryRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT e.id, e.contestant_id, e.entry_method_id, m.method_type, m.action, e.worth,
                        e.created_at, e.actions_completed, e.total_entries
                 FROM contestants c
                 JOIN entries e ON e.contestant_id = c.id
                 JOIN entry_methods m ON m.id = e.entry_method_id
                 WHERE c.campaign_id = $1 AND c.email = $2 AND e.idempotency_key = $3",
            )
            .bind(campaign_id)
            .bind(email)
            .bind(idempotency_key)
            .fetch_optional(pool)
            .await?
        });
        row.map(StoredEntryRow::into_record).transpose()
    }
}

/// An entry as [`Store::entry_by_idempotency_key`] reads it.
#[derive(Debug, sqlx::FromRow)]
struct StoredEntryRow {
    id: i64,
    contestant_id: i64,
    entry_method_id: i64,
    method_type: String,
    action: String,
    worth: i64,
    created_at: i64,
    actions_completed: i64,
    total_entries: i64,
}

impl StoredEntryRow {
    fn into_record(self) -> Result<StoredEntry, StoreError> {
        Ok(StoredEntry {
            id: EntryId(self.id),
            contestant_id: ContestantId(self.contestant_id),
            entry_method_id: EntryMethodId(self.entry_method_id),
            method_type: parse_column("method_type", self.method_type, EntryMethodType::parse)?,
            action: self.action,
            worth: to_u32("worth", self.worth)?,
            created_at: self.created_at,
            actions_completed: to_u32("actions_completed", self.actions_completed)?,
            total_entries: to_u32("total_entries", self.total_entries)?,
        })
    }
}

/// A `contestants` row's columns as [`sql::CONTESTANT_COLUMNS`] lists them, before checking.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct ContestantColumns {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub details: String,
    pub actions_completed: i64,
    pub total_entries: i64,
    pub token_hash: Option<String>,
    pub referral_code: Option<String>,
    pub referrals: i64,
    pub reward_type: Option<String>,
    pub reward_value: Option<String>,
    pub reward_entry_id: Option<i64>,
}

impl ContestantColumns {
    /// Reads the columns of a SQLite row, in [`sql::CONTESTANT_COLUMNS`]' order (by
    /// position: a name is looked up among the row's columns each time).
    fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            email: row.get(1)?,
            name: row.get(2)?,
            first_name: row.get(3)?,
            last_name: row.get(4)?,
            details: row.get(5)?,
            actions_completed: row.get(6)?,
            total_entries: row.get(7)?,
            token_hash: row.get(8)?,
            referral_code: row.get(9)?,
            referrals: row.get(10)?,
            reward_type: row.get(11)?,
            reward_value: row.get(12)?,
            reward_entry_id: row.get(13)?,
        })
    }

    /// The record, with `details` already read (merged) by the caller.
    pub(super) fn into_record(self, details: Details) -> Result<ContestantRecord, StoreError> {
        let reward = match (self.reward_type, self.reward_value) {
            (Some(kind), Some(value)) => Some(GivenReward {
                kind: parse_column("reward_type", kind, RewardKind::parse)?,
                value,
                entry_id: self.reward_entry_id.map(EntryId),
            }),
            _ => None,
        };
        Ok(ContestantRecord {
            id: ContestantId(self.id),
            email: self.email,
            name: self.name,
            first_name: self.first_name,
            last_name: self.last_name,
            details,
            actions_completed: to_u32("actions_completed", self.actions_completed)?,
            total_entries: to_u32("total_entries", self.total_entries)?,
            token_hash: self.token_hash,
            referral_code: self.referral_code,
            referrals: to_u32("referrals", self.referrals)?,
            reward,
        })
    }

    /// The record with the stored details.
    pub(super) fn into_stored_record(self) -> Result<ContestantRecord, StoreError> {
        let (details, _) = merge_details(&self.details, &Details::new())?;
        self.into_record(details)
    }
}

/// One row of [`sql::COMPLETIONS`].
#[derive(Debug, sqlx::FromRow)]
pub(super) struct CompletionRow {
    pub entry_method_id: i64,
    pub times: i64,
    pub last_at: i64,
}

impl CompletionRow {
    pub(super) fn into_completion(self) -> Result<Completion, StoreError> {
        Ok(Completion {
            entry_method_id: EntryMethodId(self.entry_method_id),
            times: to_u32("entries", self.times)?,
            last_at: self.last_at,
        })
    }
}

/// The entry write path's statements: one group of entries in one transaction, each entry
/// inside its own savepoint, so one that fails is undone alone. Nothing is kept unless the
/// transaction commits. Written once in [`crate::ingest`] over this trait; SQLite implements
/// it on the entry writer's thread ([`WriteTx`], where every call completes without waiting:
/// see [`super::run_ready`]), PostgreSQL on a pool transaction ([`super::PgWriteTx`]).
// Not `dyn`, and no `Send` bound wanted: the SQLite transaction never leaves its thread.
#[allow(async_fn_in_trait)]
pub trait EntryWrites {
    /// Whether [`Self::read_contestants`] reads ahead what the fraud filter asks (the keys'
    /// `fraud`); where it does not, nobody need work that out before each entry is written.
    const READS_AHEAD: bool = false;

    /// Reads the contestants of a group's entries (in the order they are written) at once,
    /// before the first is checked; [`Self::find_contestant`] then answers each once from what
    /// was read. On PostgreSQL this takes their row locks (one round trip for the group), and
    /// reads ahead what the fraud filter asks about the new contestants' entries (one more),
    /// so that [`Self::upsert_and_read`] need not ask for a new one; on SQLite, where each
    /// read is a call, it does nothing.
    async fn read_contestants(&mut self, _keys: &[GroupKey<'_>]) -> Result<(), StoreError> {
        Ok(())
    }
    /// Marks the start of one entry's writes, so they can be undone alone.
    async fn savepoint(&mut self) -> Result<(), StoreError>;
    /// Keeps the writes since [`Self::savepoint`] (they still need the commit).
    async fn release_savepoint(&mut self) -> Result<(), StoreError>;
    /// Undoes the writes since [`Self::savepoint`]; the rest of the transaction stays.
    async fn rollback_to_savepoint(&mut self) -> Result<(), StoreError>;
    /// The campaign's contestant with this (normalised) email as stored, before anything of
    /// this entry is written. On PostgreSQL it takes their row lock, so what is read about
    /// them holds until the commit (a contestant not there yet has no row to lock: see
    /// [`StoreError::Contended`]).
    async fn find_contestant(
        &mut self,
        campaign_id: i64,
        email: &str,
    ) -> Result<Option<ContestantRecord>, StoreError>;
    /// Whether the contestant has an entry with this idempotency key.
    async fn key_taken(
        &mut self,
        contestant_id: ContestantId,
        idempotency_key: &str,
    ) -> Result<bool, StoreError>;
    /// Creates the contestant or updates them, adding one action and `worth` entries; the
    /// details are merged answer by answer. Takes the contestant's row lock.
    async fn upsert_contestant(
        &mut self,
        new: &NewContestant<'_>,
    ) -> Result<ContestantRecord, StoreError>;
    /// What the contestant has done, per entry method (one covering index range). Called
    /// after [`Self::upsert_contestant`], which holds their row lock.
    async fn completions(
        &mut self,
        contestant_id: ContestantId,
    ) -> Result<Vec<Completion>, StoreError>;
    /// Replaces the contestant's session token (its [`token_hash`]).
    async fn set_token_hash(
        &mut self,
        contestant_id: ContestantId,
        token_hash: &str,
    ) -> Result<(), StoreError>;
    /// Contestant `contestant_id` of campaign `campaign_id` if the random part of their
    /// referral code is `code_part`.
    async fn referrer(
        &mut self,
        campaign_id: i64,
        contestant_id: ContestantId,
        code_part: &str,
    ) -> Result<Option<ReferrerRecord>, StoreError>;
    /// Credits a friend to their referrer: one action, the method's worth and one referral
    /// more for the referrer (whose row lock it takes), and who referred the friend.
    async fn credit_referral(&mut self, credit: &NewCredit)
    -> Result<ContestantRecord, StoreError>;
    /// Hands one free coupon of the campaign's pool to the contestant; `None` when the pool
    /// is empty. On PostgreSQL a coupon another transaction is taking is skipped, not waited
    /// for, so two contestants never get the same one.
    async fn take_coupon(
        &mut self,
        campaign_id: i64,
        contestant_id: ContestantId,
        now: i64,
    ) -> Result<Option<String>, StoreError>;
    /// Records the reward the contestant was given.
    async fn give_reward(&mut self, reward: &NewReward<'_>) -> Result<(), StoreError>;
    /// [`Self::upsert_contestant`], then, when `fraud` is given, what the fraud filter reads
    /// for the entry ([`FraudRead`]): the per-address counts, and whether another contestant
    /// of the campaign has the entry's mailbox, as their email or as the mailbox their email
    /// is a spelling of. PostgreSQL does all of it with one statement (each is a round trip
    /// there), SQLite with two (its writer keeps the counts in memory: `store/addresses.rs`).
    async fn upsert_and_read(
        &mut self,
        new: &NewContestant<'_>,
        fraud: Option<&FraudAsk<'_>>,
    ) -> Result<(ContestantRecord, Option<FraudRead>), StoreError>;
    /// Inserts the entry. `None` if an entry with the same idempotency key exists (a
    /// concurrent retry); the caller then rolls back and answers with that one.
    async fn insert_entry(&mut self, new: &NewEntry<'_>) -> Result<Option<EntryId>, StoreError>;
    /// The enabled endpoints, with what they subscribe to ([`SubscribedEndpoint::takes`]).
    async fn enabled_endpoints(&mut self) -> Result<Vec<SubscribedEndpoint>, StoreError>;
    /// Queues one delivery, due at once or held until `new.held_until`. One due at once is
    /// leased to this process's dispatcher when one runs (see [`Store::hand_off_deliveries`])
    /// and handed to it when the transaction commits.
    async fn insert_delivery(&mut self, new: &NewDelivery<'_>) -> Result<(), StoreError>;
}

impl WriteTx<'_, '_> {
    /// The per-address counts of the fraud filter, from what the writer holds in memory
    /// (`store/addresses.rs`).
    fn fraud_counts(&mut self, query: &FraudCountsQuery<'_>) -> Result<FraudCounts, StoreError> {
        let Some(ip) = query.client_ip else {
            return Ok(FraudCounts::default());
        };
        Ok(self.inserted.counts(
            &self.addresses.borrow(),
            query.campaign_id,
            ip,
            query.contestant_id.0,
            query.now,
            query.caps,
        ))
    }
}

/// The entry write path on SQLite, run on the [`super::EntryWriter`]'s thread inside its
/// transaction. No call waits: each is a synchronous statement on the thread's connection.
impl EntryWrites for WriteTx<'_, '_> {
    async fn savepoint(&mut self) -> Result<(), StoreError> {
        WriteTx::savepoint(self)
    }

    async fn release_savepoint(&mut self) -> Result<(), StoreError> {
        WriteTx::release_savepoint(self)
    }

    async fn rollback_to_savepoint(&mut self) -> Result<(), StoreError> {
        WriteTx::rollback_to_savepoint(self)
    }

    async fn find_contestant(
        &mut self,
        campaign_id: i64,
        email: &str,
    ) -> Result<Option<ContestantRecord>, StoreError> {
        self.statement(&sql::FIND_CONTESTANT)?
            .query_row(params![campaign_id, email], ContestantColumns::read)
            .optional()?
            .map(ContestantColumns::into_stored_record)
            .transpose()
    }

    async fn key_taken(
        &mut self,
        contestant_id: ContestantId,
        idempotency_key: &str,
    ) -> Result<bool, StoreError> {
        Ok(self
            .statement(sql::KEY_TAKEN)?
            .query_row(params![contestant_id.0, idempotency_key], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// A new contestant is inserted and an existing one updated, rather than upserted:
    /// `ON CONFLICT DO UPDATE` (like `RETURNING`) makes SQLite keep a statement journal, a copy
    /// of every page the statement changes, in case it fails halfway.
    async fn upsert_contestant(
        &mut self,
        new: &NewContestant<'_>,
    ) -> Result<ContestantRecord, StoreError> {
        let Some(stored) = new.stored else {
            let (details, text) = merge_details("{}", new.details)?;
            let text = text.unwrap_or_else(|| "{}".to_owned());
            self.statement(sql::INSERT_CONTESTANT)?.execute(params![
                new.campaign_id,
                new.email,
                new.name,
                new.first_name,
                new.last_name,
                text,
                i64::from(new.worth),
                new.now,
                new.token_hash,
                new.referral_code,
                new.mailbox,
            ])?;
            return Ok(new.created(ContestantId(self.tx.last_insert_rowid()), details));
        };
        let columns = self.statement(&sql::UPDATE_CONTESTANT)?.query_row(
            params![
                new.name,
                new.first_name,
                new.last_name,
                i64::from(new.worth),
                new.now,
                new.token_hash,
                new.referral_code,
                stored.id.0,
            ],
            ContestantColumns::read,
        )?;
        let (details, merged) = merge_details(&columns.details, new.details)?;
        if let Some(merged) = merged {
            self.statement(sql::UPDATE_DETAILS)?
                .execute(params![merged, columns.id])?;
        }
        columns.into_record(details)
    }

    async fn completions(
        &mut self,
        contestant_id: ContestantId,
    ) -> Result<Vec<Completion>, StoreError> {
        let mut statement = self.statement(sql::COMPLETIONS)?;
        let mut rows = statement.query(params![contestant_id.0])?;
        let mut completions = Vec::new();
        while let Some(row) = rows.next()? {
            completions.push(
                CompletionRow {
                    entry_method_id: row.get("entry_method_id")?,
                    times: row.get("times")?,
                    last_at: row.get("last_at")?,
                }
                .into_completion()?,
            );
        }
        Ok(completions)
    }

    async fn set_token_hash(
        &mut self,
        contestant_id: ContestantId,
        token_hash: &str,
    ) -> Result<(), StoreError> {
        self.statement(sql::SET_TOKEN_HASH)?
            .execute(params![token_hash, contestant_id.0])?;
        Ok(())
    }

    async fn referrer(
        &mut self,
        campaign_id: i64,
        contestant_id: ContestantId,
        code_part: &str,
    ) -> Result<Option<ReferrerRecord>, StoreError> {
        let found = self
            .statement(sql::REFERRER)?
            .query_row(params![contestant_id.0, campaign_id, code_part], |row| {
                Ok((
                    row.get::<_, i64>("id")?,
                    row.get::<_, String>("email")?,
                    row.get::<_, Option<String>>("client_ip")?,
                ))
            })
            .optional()?;
        Ok(found.map(|(id, email, client_ip)| ReferrerRecord::new(id, email, client_ip)))
    }

    async fn credit_referral(
        &mut self,
        credit: &NewCredit,
    ) -> Result<ContestantRecord, StoreError> {
        self.statement(sql::SET_REFERRED_BY)?
            .execute(params![credit.referrer_id.0, credit.friend_id.0])?;
        let columns = self.statement(&sql::CREDIT_REFERRAL)?.query_row(
            params![i64::from(credit.worth), credit.now, credit.referrer_id.0],
            ContestantColumns::read,
        )?;
        columns.into_stored_record()
    }

    async fn take_coupon(
        &mut self,
        campaign_id: i64,
        contestant_id: ContestantId,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        // One writer: nothing else can take the same coupon meanwhile.
        Ok(self
            .statement(sql::TAKE_COUPON_SQLITE)?
            .query_row(params![contestant_id.0, now, campaign_id], |row| row.get(0))
            .optional()?)
    }

    async fn give_reward(&mut self, reward: &NewReward<'_>) -> Result<(), StoreError> {
        self.statement(sql::GIVE_REWARD)?.execute(params![
            reward.now,
            reward.kind.as_str(),
            reward.value,
            reward.entry_id.0,
            reward.contestant_id.0,
        ])?;
        Ok(())
    }

    /// The upsert holds the database's write lock, so what is read cannot change before the
    /// entry is inserted.
    async fn upsert_and_read(
        &mut self,
        new: &NewContestant<'_>,
        fraud: Option<&FraudAsk<'_>>,
    ) -> Result<(ContestantRecord, Option<FraudRead>), StoreError> {
        let contestant = self.upsert_contestant(new).await?;
        let Some(ask) = fraud else {
            return Ok((contestant, None));
        };
        let counts = self.fraud_counts(&FraudCountsQuery {
            campaign_id: new.campaign_id,
            contestant_id: contestant.id,
            client_ip: ask.client_ip,
            now: new.now,
            caps: ask.caps,
        })?;
        // A mailbox that is the email itself is no other contestant's email (it is unique in
        // the campaign): then only the partial index can hold another.
        let another = if ask.mailbox == new.email {
            sql::ANOTHER_WITH_MAILBOX_AS_MAILBOX
        } else {
            sql::ANOTHER_WITH_MAILBOX
        };
        let another_with_mailbox = self.statement(another)?.query_row(
            params![new.campaign_id, ask.mailbox, contestant.id.0],
            |row| row.get(0),
        )?;
        Ok((
            contestant,
            Some(FraudRead {
                counts,
                another_with_mailbox,
            }),
        ))
    }

    /// Without `RETURNING` (see [`Self::upsert_contestant`]): the new row's id is the last
    /// one inserted, and none changed when the key was taken.
    async fn insert_entry(&mut self, new: &NewEntry<'_>) -> Result<Option<EntryId>, StoreError> {
        let inserted = self.statement(sql::INSERT_ENTRY)?.execute(params![
            new.campaign_id,
            new.contestant_id.0,
            new.entry_method_id.0,
            new.idempotency_key,
            new.value,
            i64::from(new.worth),
            new.consent_text,
            new.landing_url,
            new.referring_url,
            new.honeypot,
            i64::from(new.actions_completed),
            i64::from(new.total_entries),
            new.now,
            new.client_ip,
            i64::from(new.fraud_score),
            reasons_json(new.fraud_reasons),
            new.verdict.as_str(),
            new.upload,
        ])?;
        if inserted != 1 {
            return Ok(None);
        }
        let id = self.tx.last_insert_rowid();
        if let Some(ip) = new.client_ip {
            self.inserted
                .inserted(id, new.campaign_id, ip, new.contestant_id.0, new.now);
        }
        Ok(Some(EntryId(id)))
    }

    async fn enabled_endpoints(&mut self) -> Result<Vec<SubscribedEndpoint>, StoreError> {
        let mut statement = self.statement(sql::ENABLED_ENDPOINTS)?;
        let mut rows = statement.query([])?;
        let mut endpoints = Vec::new();
        while let Some(row) = rows.next()? {
            endpoints.push(
                SubscribedEndpoint::read(
                    row.get("id")?,
                    &row.get::<_, String>("events")?,
                    row.get("workspace_id")?,
                    row.get("campaign_ids")?,
                )?
                .with(row.get("audience")?, row.get("data_source")?),
            );
        }
        Ok(endpoints)
    }

    async fn insert_delivery(&mut self, new: &NewDelivery<'_>) -> Result<(), StoreError> {
        let (status, due) = new.status_and_due();
        let lease = new.lease_until(&self.leases);
        // Without `RETURNING` (see [`Self::upsert_contestant`]); what the dispatcher needs
        // is read back only for a delivery leased to it.
        self.statement(sql::INSERT_DELIVERY)?.execute(params![
            new.webhook_id.as_str(),
            new.endpoint_id,
            new.entry_id.0,
            new.event_type.as_str(),
            new.body,
            status,
            due,
            lease,
            new.now,
            new.shows_answer,
        ])?;
        if lease.is_none() {
            return Ok(());
        }
        let id = self.tx.last_insert_rowid();
        let (lease_until, endpoint_version): (Option<i64>, i64) = self
            .statement(sql::LEASED_DELIVERY)?
            .query_row(params![id], |row| Ok((row.get(0)?, row.get(1)?)))?;
        if let Some(lease_until) = lease_until {
            self.leases
                .leased(new.handed_off(id, lease_until, endpoint_version));
        }
        Ok(())
    }
}

impl ReferrerRecord {
    /// An address that does not parse (which no version writes) is taken as unknown.
    pub(super) fn new(id: i64, email: String, client_ip: Option<String>) -> Self {
        Self {
            id: ContestantId(id),
            email,
            client_ip: client_ip.and_then(|ip| ip.parse().ok()),
        }
    }
}

/// The entry write path's SQL, one text for both databases (but for taking a coupon).
/// Placeholders are `$1`, `$2`, … in order of first appearance: PostgreSQL numbers them, and
/// SQLite (which reads `$1` as a name) numbers names in the order they first appear, so both
/// bind the same values (a test below holds every statement to this).
pub(super) mod sql {
    use std::borrow::Cow;
    use std::sync::LazyLock;

    use super::CountCaps;
    use crate::fraud::FraudLevel;

    /// The `contestants` columns [`super::ContestantColumns`] reads.
    pub const CONTESTANT_COLUMNS: &str =
        "id, email, name, first_name, last_name, details, actions_completed, total_entries,
         token_hash, referral_code, referrals, reward_type, reward_value, reward_entry_id";

    /// A new contestant gets the fresh token secret's hash and referral code part; an existing
    /// one keeps theirs (or gets them if they had none, from before they existed). Neither is
    /// indexed: tokens and codes carry the contestant's id, so they are found by it.
    pub static UPSERT_CONTESTANT: LazyLock<String> = LazyLock::new(|| {
        format!(
            "INSERT INTO contestants (campaign_id, email, name, first_name, last_name, details,
                                      actions_completed, total_entries, created_at, updated_at,
                                      token_hash, referral_code, mailbox)
             VALUES ($1, $2, $3, $4, $5, '{{}}', 1, $6, $7, $7, $8, $9, $10)
             ON CONFLICT (campaign_id, email) DO UPDATE SET
                 name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE contestants.name END,
                 first_name = CASE WHEN excluded.name <> '' THEN excluded.first_name ELSE contestants.first_name END,
                 last_name = CASE WHEN excluded.name <> '' THEN excluded.last_name ELSE contestants.last_name END,
                 actions_completed = contestants.actions_completed + 1,
                 total_entries = contestants.total_entries + excluded.total_entries,
                 updated_at = excluded.updated_at,
                 token_hash = COALESCE(contestants.token_hash, excluded.token_hash),
                 referral_code = COALESCE(contestants.referral_code, excluded.referral_code)
             RETURNING {CONTESTANT_COLUMNS}"
        )
    });

    /// The contestant with an email, before an entry of theirs writes anything.
    pub static FIND_CONTESTANT: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {CONTESTANT_COLUMNS} FROM contestants WHERE campaign_id = $1 AND email = $2"
        )
    });

    /// [`FIND_CONTESTANT`], locking their row until the commit (several groups write at once).
    pub static FIND_CONTESTANT_FOR_UPDATE: LazyLock<String> =
        LazyLock::new(|| format!("{} FOR UPDATE", FIND_CONTESTANT.as_str()));

    /// From the unique index `entries_by_key`.
    pub const KEY_TAKEN: &str =
        "SELECT 1 FROM entries WHERE contestant_id = $1 AND idempotency_key = $2";

    /// A new contestant (SQLite, after [`FIND_CONTESTANT`] found none).
    pub const INSERT_CONTESTANT: &str =
        "INSERT INTO contestants (campaign_id, email, name, first_name, last_name, details,
                                  actions_completed, total_entries, created_at, updated_at,
                                  token_hash, referral_code, mailbox)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $8, $9, $10, $11)";

    /// Another contestant with a mailbox as email, or as the mailbox of their email (the
    /// partial index `contestants_by_mailbox` holds only those that differ).
    pub const ANOTHER_WITH_MAILBOX: &str = "SELECT
         EXISTS (SELECT 1 FROM contestants WHERE campaign_id = $1 AND email = $2 AND id <> $3)
         OR EXISTS (SELECT 1 FROM contestants
                    WHERE campaign_id = $1 AND mailbox = $2 AND mailbox IS NOT NULL AND id <> $3)";

    /// [`ANOTHER_WITH_MAILBOX`]'s second half alone, for a mailbox that is the entry's own
    /// email (SQLite).
    pub const ANOTHER_WITH_MAILBOX_AS_MAILBOX: &str = "SELECT
         EXISTS (SELECT 1 FROM contestants
                 WHERE campaign_id = $1 AND mailbox = $2 AND mailbox IS NOT NULL AND id <> $3)";

    /// An existing contestant's next entry (SQLite), as [`UPSERT_CONTESTANT`] updates them.
    pub static UPDATE_CONTESTANT: LazyLock<String> = LazyLock::new(|| {
        format!(
            "UPDATE contestants SET
                 name = CASE WHEN $1 <> '' THEN $1 ELSE name END,
                 first_name = CASE WHEN $1 <> '' THEN $2 ELSE first_name END,
                 last_name = CASE WHEN $1 <> '' THEN $3 ELSE last_name END,
                 actions_completed = actions_completed + 1,
                 total_entries = total_entries + $4,
                 updated_at = $5,
                 token_hash = COALESCE(token_hash, $6),
                 referral_code = COALESCE(referral_code, $7)
             WHERE id = $8
             RETURNING {CONTESTANT_COLUMNS}"
        )
    });

    pub const UPDATE_DETAILS: &str = "UPDATE contestants SET details = $1 WHERE id = $2";

    /// Per entry method: how many entries, the latest. Read from `entries_completions`
    /// alone (a covering index).
    pub const COMPLETIONS: &str =
        "SELECT entry_method_id, COUNT(*) AS times, MAX(created_at) AS last_at
         FROM entries WHERE contestant_id = $1 GROUP BY entry_method_id ORDER BY entry_method_id";

    pub const SET_TOKEN_HASH: &str = "UPDATE contestants SET token_hash = $1 WHERE id = $2";

    /// The referrer, with the address of their first entry (for the referral loop rule).
    pub const REFERRER: &str = "SELECT c.id, c.email,
                (SELECT e.client_ip FROM entries e WHERE e.contestant_id = c.id ORDER BY e.id LIMIT 1) AS client_ip
         FROM contestants c WHERE c.id = $1 AND c.campaign_id = $2 AND c.referral_code = $3";

    pub const SET_REFERRED_BY: &str = "UPDATE contestants SET referred_by = $1 WHERE id = $2";

    pub static CREDIT_REFERRAL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "UPDATE contestants SET actions_completed = actions_completed + 1,
                 total_entries = total_entries + $1, referrals = referrals + 1, updated_at = $2
             WHERE id = $3
             RETURNING {CONTESTANT_COLUMNS}"
        )
    });

    /// The oldest free coupon. SQLite has one writer, so nothing else takes it meanwhile.
    pub const TAKE_COUPON_SQLITE: &str = "UPDATE coupons SET contestant_id = $1, assigned_at = $2
         WHERE id = (SELECT id FROM coupons WHERE campaign_id = $3 AND contestant_id IS NULL
                     ORDER BY id LIMIT 1)
         RETURNING code";

    /// The oldest free coupon no other transaction is taking (several groups commit at once).
    pub const TAKE_COUPON_POSTGRES: &str = "UPDATE coupons SET contestant_id = $1, assigned_at = $2
         WHERE id = (SELECT id FROM coupons WHERE campaign_id = $3 AND contestant_id IS NULL
                     ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING code";

    pub const GIVE_REWARD: &str =
        "UPDATE contestants SET reward_unlocked_at = $1, reward_type = $2, reward_value = $3,
                                reward_entry_id = $4
         WHERE id = $5";

    /// The text `make` writes for each fraud level that counts.
    fn every_level(make: fn(CountCaps) -> String) -> Vec<(CountCaps, String)> {
        FraudLevel::ALL
            .into_iter()
            .filter_map(FraudLevel::count_caps)
            .map(|caps| (caps, make(caps)))
            .collect()
    }

    /// The text for `caps` among those made for every level, else made now.
    fn for_level(
        made: &'static [(CountCaps, String)],
        caps: CountCaps,
        make: fn(CountCaps) -> String,
    ) -> Cow<'static, str> {
        match made.iter().find(|(known, _)| *known == caps) {
            Some((_, text)) => Cow::Borrowed(text),
            None => Cow::Owned(make(caps)),
        }
    }

    /// [`UPSERT_CONTESTANT`], then the fraud filter's reads for the contestant it returns:
    /// the per-address counts (the address bound as `$11`) and [`ANOTHER_WITH_MAILBOX`] (the mailbox as
    /// `$12`), in one statement for PostgreSQL (where each statement is a round trip). The
    /// reads see the tables as they were before the upsert, as they would after it: it writes
    /// no entry, and they leave the contestant out.
    pub fn upsert_and_read(caps: CountCaps) -> Cow<'static, str> {
        static BY_LEVEL: LazyLock<Vec<(CountCaps, String)>> =
            LazyLock::new(|| every_level(upsert_and_read_text));
        for_level(&BY_LEVEL, caps, upsert_and_read_text)
    }

    fn upsert_and_read_text(caps: CountCaps) -> String {
        format!(
            "WITH c AS ({upsert})
             SELECT c.*, {counts},
               (EXISTS (SELECT 1 FROM contestants x
                        WHERE x.campaign_id = $1 AND x.email = $12 AND x.id <> c.id)
                OR EXISTS (SELECT 1 FROM contestants x
                           WHERE x.campaign_id = $1 AND x.mailbox = $12 AND x.mailbox IS NOT NULL
                             AND x.id <> c.id)) AS same_mailbox
             FROM c",
            upsert = UPSERT_CONTESTANT.as_str(),
            counts = ip_count_columns(caps, "$1", "$11", "c.id", "$7"),
        )
    }

    /// One row per entry of a group (`k.i`, from 1): a new entry id, a new contestant id where
    /// `$5` says the entry's contestant is new, and what the fraud filter asks about the entry
    /// (campaign `$1`, address `$2`, time `$3`, mailbox `$4`; NULL address and mailbox where
    /// it asks nothing: they match nothing). A new contestant has no entries, so no contestant
    /// is left out of the counts (ids start at 1); where nobody entered from the address yet
    /// they are 0 after one look at the index. The sequences are
    /// looked up once per statement, not per row.
    pub fn ahead_reads(caps: CountCaps) -> Cow<'static, str> {
        static BY_LEVEL: LazyLock<Vec<(CountCaps, String)>> =
            LazyLock::new(|| every_level(ahead_reads_text));
        for_level(&BY_LEVEL, caps, ahead_reads_text)
    }

    fn ahead_reads_text(caps: CountCaps) -> String {
        format!(
            "SELECT k.i, nextval(s.entries) AS entry_id,
               CASE WHEN k.new THEN nextval(s.contestants) END AS contestant_id,
               COALESCE(n.others, 0) AS others, COALESCE(n.last_minute, 0) AS last_minute,
               COALESCE(n.last_hour, 0) AS last_hour,
               (EXISTS (SELECT 1 FROM contestants x WHERE x.campaign_id = k.c AND x.email = k.mb)
                OR EXISTS (SELECT 1 FROM contestants x
                           WHERE x.campaign_id = k.c AND x.mailbox = k.mb AND x.mailbox IS NOT NULL))
                 AS same_mailbox
             FROM (SELECT pg_get_serial_sequence('entries', 'id')::regclass AS entries,
                          pg_get_serial_sequence('contestants', 'id')::regclass AS contestants) AS s
             CROSS JOIN UNNEST($1::int8[], $2::text[], $3::int8[], $4::text[], $5::bool[])
                  WITH ORDINALITY AS k (c, ip, now, mb, new, i)
             LEFT JOIN LATERAL (SELECT {counts} WHERE {used}) AS n ON TRUE
             ORDER BY k.i",
            counts = ip_count_columns(caps, "k.c", "k.ip", "0", "k.now"),
            used = address_used("k.c", "k.ip"),
        )
    }

    /// Whether anyone entered the campaign from the address: one look at `entries_by_ip`
    /// (PostgreSQL's; SQLite's writer keeps the counts in memory: `store/addresses.rs`).
    fn address_used(campaign: &str, ip: &str) -> String {
        format!(
            "EXISTS (SELECT 1 FROM entries WHERE campaign_id = {campaign} AND client_ip = {ip})"
        )
    }

    /// The three counts of [`super::FraudCounts`] as columns, each stopping at its cap (the
    /// campaign's fraud level decides alike above: [`CountCaps`]), so one busy address (a
    /// shared NAT, an attacker) costs a bounded index range per entry, not a scan of all its
    /// entries. The caps are written into the SQL, not bound (SQLite recompiled a statement
    /// each time a parameter its `LIMIT` reads was bound again); one text per fraud level,
    /// made once.
    fn ip_count_columns(
        caps: CountCaps,
        campaign: &str,
        ip: &str,
        contestant: &str,
        now: &str,
    ) -> String {
        let CountCaps {
            other_contestants,
            entries_last_minute,
            entries_last_hour,
        } = caps;
        // The distinct count needs a temporary table, opened only where another contestant
        // entered from the address: most entries come from one nobody else used.
        format!(
            "CASE WHEN EXISTS (SELECT 1 FROM entries
                  WHERE campaign_id = {campaign} AND client_ip = {ip} AND contestant_id <> {contestant})
               THEN (SELECT COUNT(*) FROM (SELECT DISTINCT contestant_id FROM entries
                  WHERE campaign_id = {campaign} AND client_ip = {ip} AND contestant_id <> {contestant}
                  LIMIT {other_contestants}) AS o) ELSE 0 END AS others,
               (SELECT COUNT(*) FROM (SELECT 1 FROM entries
                  WHERE campaign_id = {campaign} AND client_ip = {ip} AND created_at > {now} - 60000
                  LIMIT {entries_last_minute}) AS m) AS last_minute,
               (SELECT COUNT(*) FROM (SELECT 1 FROM entries
                  WHERE campaign_id = {campaign} AND client_ip = {ip} AND created_at > {now} - 3600000
                  LIMIT {entries_last_hour}) AS h) AS last_hour"
        )
    }

    pub const INSERT_ENTRY: &str = "INSERT INTO entries (campaign_id, contestant_id, entry_method_id, idempotency_key, entry_value,
                              worth, consent_text, landing_url, referring_url, honeypot,
                              actions_completed, total_entries, created_at,
                              client_ip, fraud_score, fraud_reasons, verdict, upload)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
         ON CONFLICT (contestant_id, idempotency_key) DO NOTHING";

    /// [`INSERT_ENTRY`] with the new row's id, if one was inserted (PostgreSQL).
    pub static INSERT_ENTRY_RETURNING: LazyLock<String> =
        LazyLock::new(|| format!("{INSERT_ENTRY} RETURNING id"));

    pub const ENABLED_ENDPOINTS: &str =
        "SELECT id, events, workspace_id, campaign_ids, audience, data_source
         FROM endpoints WHERE enabled ORDER BY id";

    /// A new delivery, leased until `$8` for this process's dispatcher (or not, when NULL),
    /// except to an endpoint that keeps strict order: only a claim may take its queue's head.
    pub const INSERT_DELIVERY: &str =
        "INSERT INTO deliveries (webhook_id, endpoint_id, entry_id, event_type, body, status,
                                 n_attempts, next_attempt_at, lease_until, created_at, shows_answer)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7,
                 CASE WHEN (SELECT ep.strict_order FROM endpoints ep WHERE ep.id = $2) THEN NULL ELSE $8 END,
                 $9, $10)";

    /// [`INSERT_DELIVERY`] with what the dispatcher needs of the new row (PostgreSQL).
    pub static INSERT_DELIVERY_RETURNING: LazyLock<String> = LazyLock::new(|| {
        format!(
            "{INSERT_DELIVERY}
             RETURNING id, lease_until,
                       (SELECT ep.version FROM endpoints ep WHERE ep.id = deliveries.endpoint_id) AS endpoint_version"
        )
    });

    /// What the dispatcher needs of a delivery just inserted (SQLite: see `insert_delivery`).
    pub const LEASED_DELIVERY: &str = "SELECT d.lease_until, ep.version FROM deliveries d
         JOIN endpoints ep ON ep.id = d.endpoint_id WHERE d.id = $1";

    /// Every statement above, for the test of their placeholders.
    #[cfg(test)]
    pub fn all() -> Vec<&'static str> {
        let per_level = FraudLevel::ALL
            .into_iter()
            .filter_map(FraudLevel::count_caps)
            .flat_map(|caps| [upsert_and_read(caps), ahead_reads(caps)])
            .map(|text| match text {
                Cow::Borrowed(text) => text,
                Cow::Owned(_) => panic!("every level's text is made once"),
            });
        let mut all = vec![
            UPSERT_CONTESTANT.as_str(),
            FIND_CONTESTANT.as_str(),
            FIND_CONTESTANT_FOR_UPDATE.as_str(),
            INSERT_CONTESTANT,
            UPDATE_CONTESTANT.as_str(),
            ANOTHER_WITH_MAILBOX,
            ANOTHER_WITH_MAILBOX_AS_MAILBOX,
            KEY_TAKEN,
            UPDATE_DETAILS,
            COMPLETIONS,
            SET_TOKEN_HASH,
            REFERRER,
            SET_REFERRED_BY,
            CREDIT_REFERRAL.as_str(),
            TAKE_COUPON_SQLITE,
            TAKE_COUPON_POSTGRES,
            GIVE_REWARD,
            INSERT_ENTRY,
            INSERT_ENTRY_RETURNING.as_str(),
            ENABLED_ENDPOINTS,
            INSERT_DELIVERY,
            INSERT_DELIVERY_RETURNING.as_str(),
            LEASED_DELIVERY,
        ];
        all.extend(per_level);
        all
    }
}

impl NewDelivery<'_> {
    /// `deliveries.status` and `next_attempt_at` of a new delivery.
    pub(super) fn status_and_due(&self) -> (&'static str, i64) {
        match self.held_until {
            Some(due) => ("held", due),
            None => ("pending", self.now),
        }
    }

    /// The lease to write it with: only a delivery due at once goes to the dispatcher.
    pub(super) fn lease_until(&self, leases: &Leases) -> Option<i64> {
        self.held_until
            .is_none()
            .then(|| leases.lease_until(self.endpoint_id, self.now))
            .flatten()
    }

    /// The delivery as the dispatcher gets it, written as row `id` with `lease_until`.
    pub(super) fn handed_off(
        &self,
        id: i64,
        lease_until: i64,
        endpoint_version: i64,
    ) -> ClaimedDelivery {
        ClaimedDelivery {
            id,
            webhook_id: self.webhook_id.clone(),
            endpoint_id: self.endpoint_id,
            event_type: self.event_type.as_str().to_owned(),
            body: self.body.to_owned(),
            n_attempts: 0,
            lease_until,
            due_at: self.now,
            endpoint_version,
        }
    }
}

/// The stored details (JSON text) with `new` merged over them answer by answer, and the merged
/// text to store when `new` changed anything.
pub(super) fn merge_details(
    stored: &str,
    new: &Details,
) -> Result<(Details, Option<String>), StoreError> {
    let mut details: Details = serde_json::from_str(stored).map_err(|_| StoreError::Corrupt {
        column: "details",
        value: stored.to_owned(),
    })?;
    if new.is_empty() {
        return Ok((details, None));
    }
    details.extend(
        new.iter()
            .map(|(question, answer)| (question.clone(), answer.clone())),
    );
    let merged = serde_json::Value::from(serde_json::Map::from_iter(details.clone()));
    Ok((details, Some(merged.to_string())))
}

/// An enabled endpoint as the entry write path sees it: what it subscribes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribedEndpoint {
    pub id: i64,
    pub events: Vec<EventType>,
    /// `None`: an operator's endpoint, which takes every campaign.
    pub workspace_id: Option<i64>,
    /// `None`: every campaign (of its workspace).
    pub campaign_ids: Option<Vec<i64>>,
    /// Its audience filter's JSON (`audience::Filter`); `None`: every event.
    pub audience: Option<String>,
    /// Its data-source settings' JSON; `None`: not a data source.
    pub data_source: Option<String>,
}

impl SubscribedEndpoint {
    /// With the endpoint's `audience` and `data_source` columns.
    pub(super) fn with(self, audience: Option<String>, data_source: Option<String>) -> Self {
        Self {
            audience,
            data_source,
            ..self
        }
    }

    /// Reads an `endpoints` row's `events` (a JSON array of names; unknown names, which no
    /// version writes, are skipped) and `campaign_ids` (a JSON array of row ids, or NULL).
    pub(super) fn read(
        id: i64,
        events: &str,
        workspace_id: Option<i64>,
        campaign_ids: Option<String>,
    ) -> Result<Self, StoreError> {
        let names: Vec<String> = serde_json::from_str(events).map_err(|_| StoreError::Corrupt {
            column: "events",
            value: events.to_owned(),
        })?;
        let campaign_ids = campaign_ids
            .map(|ids| super::endpoints::json_column("campaign_ids", ids))
            .transpose()?;
        Ok(Self {
            id,
            events: names
                .iter()
                .filter_map(|name| EventType::parse(name))
                .collect(),
            workspace_id,
            campaign_ids,
            audience: None,
            data_source: None,
        })
    }

    /// Whether it takes `event` of campaign `campaign_id` in workspace `workspace_id`: it
    /// subscribes to the event, and is the operator's or the campaign's workspace's and
    /// includes the campaign.
    pub fn takes(&self, event: EventType, campaign_id: i64, workspace_id: Option<i64>) -> bool {
        self.events.contains(&event)
            && match self.workspace_id {
                None => true,
                Some(owner) => {
                    workspace_id == Some(owner)
                        && self
                            .campaign_ids
                            .as_ref()
                            .is_none_or(|ids| ids.contains(&campaign_id))
                }
            }
    }
}

/// `entries.fraud_reasons`: a JSON array of reason codes.
pub(super) fn reasons_json(reasons: &[Reason]) -> String {
    let codes: Vec<&str> = reasons.iter().map(|reason| reason.as_str()).collect();
    serde_json::Value::from(codes).to_string()
}
