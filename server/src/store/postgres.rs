//! The entry write path on PostgreSQL: [`EntryWrites`] on one pool transaction.
//!
//! The statements are the SQLite path's (`entries::sql`); only the way they are run differs.
//! Several groups may be written at once on separate connections (by several processes
//! sharing the database, or by one: see [`crate::ingest`]), so row locks, not a single writer,
//! keep contestants' totals right: the upsert takes the contestant's row lock and holds it to
//! the commit.
//!
//! Each statement is a round trip and costs PostgreSQL as much to take in as to run, so a
//! group written without savepoints saves them: its contestants are read (and locked) with one
//! statement at the start ([`EntryWrites::read_contestants`]), and so is what the fraud filter
//! asks about its new contestants' entries (one statement for the group, before it writes:
//! each entry's answer is that plus what the group wrote before it, counted here). New
//! contestants, entries and deliveries are held back ([`Held`]) and inserted with one statement
//! each, at the commit or before a read that could see them. Contestant and entry ids are taken
//! from their sequences beforehand, so an id (in a token, a referral code, a webhook's body)
//! is known at once. A group of new contestants is thus a fixed number of round trips, however
//! many entries it holds.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use protocol::ids::{ContestantId, EntryId, MessageId};
use sqlx::postgres::{PgPool, Postgres};
use sqlx::{FromRow as _, Row as _, Transaction};
use tracing::{error, warn};

use super::deliveries::{ClaimedDelivery, Handoff, Leases};
use super::entries::{
    CompletionRow, ContestantColumns, Details, SubscribedEndpoint, merge_details, reasons_json, sql,
};
use super::{
    Completion, ContestantRecord, EntryWrites, FraudAsk, FraudCounts, FraudRead, GroupKey,
    NewContestant, NewCredit, NewDelivery, NewEntry, NewReward, ReferrerRecord, StoreError, to_u32,
};

/// Where writes run on PostgreSQL: the pool, and where the deliveries they lease go.
#[derive(Debug, Clone, Copy)]
pub struct PgEntries<'a> {
    pool: &'a PgPool,
    handoff: &'a Handoff,
    statistics: &'a Arc<Statistics>,
}

impl<'a> PgEntries<'a> {
    pub(super) fn new(
        pool: &'a PgPool,
        handoff: &'a Handoff,
        statistics: &'a Arc<Statistics>,
    ) -> Self {
        Self {
            pool,
            handoff,
            statistics,
        }
    }

    pub fn pool(&self) -> &'a PgPool {
        self.pool
    }
}

/// One group's transaction on PostgreSQL.
#[derive(Debug)]
pub struct PgWriteTx {
    tx: Transaction<'static, Postgres>,
    /// To release the leases that could not be handed off.
    pool: PgPool,
    /// Deliveries written leased to the dispatcher, handed off at the commit.
    pub(super) leases: Leases,
    /// Contestants read for the group at its start, by (campaign, email) (`None`: not there),
    /// each given out once by `find_contestant`: after that their row may have changed.
    read: HashMap<(i64, String), Option<ContestantRecord>>,
    /// Writes held back to go together; `None` once a savepoint was taken (entries written
    /// one by one in savepoints are written at once).
    held: Option<Held>,
    /// Entry ids taken from the sequence, not used yet.
    entry_ids: Vec<i64>,
    /// Contestant ids taken from the sequence, not used yet.
    contestant_ids: Vec<i64>,
    /// What the fraud filter asks about new contestants' entries, read at the group's start,
    /// by (campaign, email); each given out once.
    ahead: HashMap<(i64, String), FraudRead>,
    /// Contestants this transaction created (held back or not), which the reads ahead did not
    /// see.
    created: Vec<Created>,
    /// Entries this transaction wrote (held back or not), which the reads ahead did not see.
    group_entries: Vec<GroupEntry>,
    /// How many ids to take at once: the group's entries.
    ids_at_once: usize,
    /// Entries this transaction inserted, and where they are counted once it commits.
    inserted: u64,
    statistics: Arc<Statistics>,
}

/// When the tables entries are written to were last analysed. A prepared statement keeps the
/// plan PostgreSQL made for it, and one made while a table was nearly empty can read the whole
/// table for every entry once it is not (the fraud filter's counts by address did), until
/// autovacuum analyses it, a minute or more into a burst of entries. So this process analyses
/// them itself as its entries grow them: after 1,000, then each time its count has grown
/// fourfold, up to some millions (by then autovacuum keeps up).
#[derive(Debug)]
pub struct Statistics {
    written: AtomicU64,
    next_analysis: AtomicU64,
}

impl Default for Statistics {
    fn default() -> Self {
        Self {
            written: AtomicU64::new(0),
            next_analysis: AtomicU64::new(1_000),
        }
    }
}

impl Statistics {
    /// The last count after which this process analyses.
    const LAST_ANALYSIS: u64 = 4_096_000;

    /// Counts `n` entries committed, and analyses the tables in the background when that
    /// count has reached the next mark.
    fn wrote(&self, n: u64, pool: &PgPool) {
        let written = self
            .written
            .fetch_add(n, Ordering::Relaxed)
            .saturating_add(n);
        let mark = self.next_analysis.load(Ordering::Relaxed);
        if written < mark || mark > Self::LAST_ANALYSIS {
            return;
        }
        let next = written.saturating_mul(4);
        if self
            .next_analysis
            .compare_exchange(mark, next, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            // Another group reached it first.
            return;
        }
        let pool = pool.clone();
        tokio::spawn(async move {
            if let Err(cause) = sqlx::query("ANALYZE contestants, entries, deliveries")
                .execute(&pool)
                .await
            {
                warn!(error = %cause, "failed to analyse the entry tables (autovacuum will)");
            }
        });
    }
}

impl PgWriteTx {
    pub async fn begin(entries: PgEntries<'_>) -> Result<Self, StoreError> {
        Ok(Self {
            tx: entries.pool.begin().await?,
            pool: entries.pool.clone(),
            leases: entries.handoff.leases(),
            read: HashMap::new(),
            held: Some(Held::default()),
            entry_ids: Vec::new(),
            contestant_ids: Vec::new(),
            ahead: HashMap::new(),
            created: Vec::new(),
            group_entries: Vec::new(),
            ids_at_once: 1,
            inserted: 0,
            statistics: Arc::clone(entries.statistics),
        })
    }

    /// Commits the group (durable when this returns), then hands what it leased to the
    /// dispatcher. Writes held back that fail to insert fail it with
    /// [`StoreError::GroupUndone`], so it is written again entry by entry.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        self.write_held().await?;
        self.tx.commit().await?;
        if self.inserted > 0 {
            self.statistics.wrote(self.inserted, &self.pool);
        }
        let unsent = self.leases.hand_off();
        if !unsent.is_empty() {
            let released = async {
                let mut tx = self.pool.begin().await?;
                for delivery in &unsent {
                    sqlx::query(super::deliveries::RELEASE_LEASE)
                        .bind(delivery.id)
                        .bind(delivery.lease_until)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await
            };
            if let Err(cause) = released.await {
                // They are claimed again when their leases run out.
                error!(error = %cause, n = unsent.len(), "failed to release the leases of deliveries not handed off");
            }
        }
        Ok(())
    }

    /// The transaction's connection, to run statements on.
    pub(super) fn connection(&mut self) -> &mut sqlx::PgConnection {
        &mut self.tx
    }

    async fn run(&mut self, statement: &'static str) -> Result<(), StoreError> {
        sqlx::query(statement).execute(&mut *self.tx).await?;
        Ok(())
    }

    /// Inserts the entries and deliveries held back, one statement each. Should that fail,
    /// the entries it was for were already answered as written: the group is undone
    /// ([`StoreError::GroupUndone`]) and written again entry by entry.
    async fn write_held(&mut self) -> Result<(), StoreError> {
        let Some(held) = self.held.as_mut() else {
            return Ok(());
        };
        if held.contestants.is_empty()
            && held.entries.is_empty()
            && held.deliveries.webhook_id.is_empty()
        {
            return Ok(());
        }
        let held = std::mem::take(held);
        match held.insert(&mut self.tx).await {
            Ok(leased) => {
                for delivery in leased {
                    self.leases.leased(delivery);
                }
                Ok(())
            }
            Err(cause) => {
                // A concurrent retry of a new contestant's entry can cause it; the entry by
                // entry writing finds out which.
                warn!(error = %cause, "a group's held entries failed to insert: it is written again entry by entry");
                Err(StoreError::GroupUndone)
            }
        }
    }

    /// The upserted contestant with `details` merged over theirs (and stored, if they add
    /// anything).
    async fn with_details(
        &mut self,
        columns: ContestantColumns,
        details: &Details,
    ) -> Result<ContestantRecord, StoreError> {
        let (details, merged) = merge_details(&columns.details, details)?;
        if let Some(merged) = merged {
            sqlx::query(sql::UPDATE_DETAILS)
                .bind(merged)
                .bind(columns.id)
                .execute(&mut *self.tx)
                .await?;
        }
        columns.into_record(details)
    }

    /// Writes what is held back if `sees` says a read would see any of it.
    async fn write_held_if(
        &mut self,
        sees: impl Fn(&HeldEntries, usize) -> bool,
    ) -> Result<(), StoreError> {
        let seen = self
            .held
            .as_ref()
            .is_some_and(|held| (0..held.entries.id.len()).any(|index| sees(&held.entries, index)));
        if seen {
            self.write_held().await?;
        }
        Ok(())
    }

    /// The next entry id: from those taken from the sequence, taking more when none is left.
    async fn next_entry_id(&mut self) -> Result<i64, StoreError> {
        if self.entry_ids.is_empty() {
            self.entry_ids = sqlx::query_scalar(
                "SELECT nextval(pg_get_serial_sequence('entries', 'id'))
                 FROM generate_series(1::int8, $1::int8)",
            )
            .bind(i64::try_from(self.ids_at_once.max(1)).unwrap_or(1))
            .fetch_all(&mut *self.tx)
            .await?;
            // Given out from the end: the lowest first, so ids follow the order of writing.
            self.entry_ids.sort_unstable_by(|a, b| b.cmp(a));
        }
        self.entry_ids.pop().ok_or(StoreError::NotCommitted)
    }

    /// The next contestant id: from those taken with the group's, else one more now.
    async fn next_contestant_id(&mut self) -> Result<i64, StoreError> {
        if let Some(id) = self.contestant_ids.pop() {
            return Ok(id);
        }
        Ok(
            sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('contestants', 'id'))")
                .fetch_one(&mut *self.tx)
                .await?,
        )
    }

    /// Writes what is held back if contestant `id` is among it (a statement is about to read
    /// or change their row, or refer to it).
    async fn write_held_if_contestant(&mut self, id: ContestantId) -> Result<(), StoreError> {
        let held = self
            .held
            .as_ref()
            .is_some_and(|held| held.contestants.id.contains(&id.0));
        if held {
            self.write_held().await?;
        }
        Ok(())
    }

    /// Takes the group's entry ids and its new contestants' ids from their sequences, and reads
    /// ahead what the fraud filter asks about the new contestants' entries: one statement.
    /// It counts for one fraud level (a group is seldom of campaigns at different levels):
    /// an entry at another is asked about when it is written.
    async fn read_ahead(&mut self, keys: &[GroupKey<'_>], new: &[bool]) -> Result<(), StoreError> {
        let caps = keys
            .iter()
            .zip(new)
            .find_map(|(key, new)| key.fraud.filter(|_| *new).map(|ask| ask.caps));
        // Nothing asked for this entry: no address and no mailbox, which nothing matches.
        let asked = |index: usize| {
            let fraud = keys[index]
                .fraud
                .filter(|ask| new[index] && Some(ask.caps) == caps);
            fraud.map(|ask| (ask.client_ip.map(str::to_owned), ask.mailbox))
        };
        let asks: Vec<_> = (0..keys.len()).map(asked).collect();
        let campaigns: Vec<i64> = keys.iter().map(|key| key.campaign_id).collect();
        let ips: Vec<Option<String>> = asks
            .iter()
            .map(|ask| ask.as_ref().and_then(|(ip, _)| ip.clone()))
            .collect();
        let times: Vec<i64> = keys.iter().map(|key| key.now).collect();
        let mailboxes: Vec<Option<&str>> = asks
            .iter()
            .map(|ask| ask.as_ref().map(|(_, mailbox)| *mailbox))
            .collect();
        let text = sql::ahead_reads(caps.unwrap_or(AHEAD_CAPS_UNUSED));
        let rows = sqlx::query(sqlx::AssertSqlSafe(text))
            .bind(&campaigns)
            .bind(&ips)
            .bind(&times)
            .bind(&mailboxes)
            .bind(new)
            .fetch_all(&mut *self.tx)
            .await?;
        let mut entry_ids = Vec::with_capacity(rows.len());
        let mut contestant_ids = Vec::new();
        for row in rows {
            entry_ids.push(row.try_get::<i64, _>("entry_id")?);
            if let Some(id) = row.try_get::<Option<i64>, _>("contestant_id")? {
                contestant_ids.push(id);
            }
            let ordinal: i64 = row.try_get("i")?;
            let index = usize::try_from(ordinal - 1).ok();
            if let Some(index) = index.filter(|index| asks.get(*index).is_some_and(Option::is_some))
            {
                let key = &keys[index];
                self.ahead
                    .insert((key.campaign_id, key.email.to_owned()), fraud_read(&row)?);
            }
        }
        // Given out from the end: the lowest first, so ids follow the order of writing.
        entry_ids.sort_unstable_by(|a, b| b.cmp(a));
        contestant_ids.sort_unstable_by(|a, b| b.cmp(a));
        self.entry_ids = entry_ids;
        self.contestant_ids = contestant_ids;
        Ok(())
    }

    /// What the fraud filter asks about the entry of new contestant `new`, from what was read
    /// ahead and what this transaction wrote since; `None` when that cannot say it (nothing
    /// was read ahead for them, or an entry the group wrote from the same address is of a
    /// contestant who was there before, and may have been counted already).
    fn answer_ahead(&mut self, new: &NewContestant<'_>, ask: &FraudAsk<'_>) -> Option<FraudRead> {
        let ahead = self
            .ahead
            .remove(&(new.campaign_id, new.email.to_owned()))?;
        let mut counts = ahead.counts;
        if let Some(ip) = ask.client_ip {
            let same: Vec<&GroupEntry> = self
                .group_entries
                .iter()
                .filter(|entry| {
                    entry.campaign_id == new.campaign_id && entry.client_ip.as_deref() == Some(ip)
                })
                .collect();
            if same.iter().any(|entry| {
                !self
                    .created
                    .iter()
                    .any(|created| created.id == entry.contestant_id)
            }) {
                return None;
            }
            let mut contestants: Vec<i64> = same.iter().map(|entry| entry.contestant_id).collect();
            contestants.sort_unstable();
            contestants.dedup();
            let within = |ms: i64| {
                same.iter()
                    .filter(|entry| entry.created_at > new.now - ms)
                    .count()
            };
            let add = |count: u32, more: usize, cap: u32| {
                u32::try_from(more)
                    .map_or(cap, |more| count.saturating_add(more))
                    .min(cap)
            };
            counts = FraudCounts {
                other_contestants_from_ip: add(
                    counts.other_contestants_from_ip,
                    contestants.len(),
                    ask.caps.other_contestants,
                ),
                entries_from_ip_last_minute: add(
                    counts.entries_from_ip_last_minute,
                    within(60_000),
                    ask.caps.entries_last_minute,
                ),
                entries_from_ip_last_hour: add(
                    counts.entries_from_ip_last_hour,
                    within(3_600_000),
                    ask.caps.entries_last_hour,
                ),
            };
        }
        let another_with_mailbox = ahead.another_with_mailbox
            || self.created.iter().any(|created| {
                created.campaign_id == new.campaign_id
                    && (created.email == ask.mailbox
                        || created.mailbox.as_deref() == Some(ask.mailbox))
            });
        Some(FraudRead {
            counts,
            another_with_mailbox,
        })
    }

    /// [`EntryWrites::upsert_and_read`] with one statement, now.
    async fn upsert_and_read_now(
        &mut self,
        new: &NewContestant<'_>,
        fraud: Option<&FraudAsk<'_>>,
    ) -> Result<(ContestantRecord, Option<FraudRead>), StoreError> {
        let Some(ask) = fraud else {
            return Ok((self.upsert_contestant(new).await?, None));
        };
        if let Some(ip) = ask.client_ip {
            self.write_held_if(|entries, index| same_address(entries, index, new.campaign_id, ip))
                .await?;
        }
        // No address: the counts are of `client_ip = NULL`, which nothing is (0, as SQLite
        // answers without asking).
        let text = sql::upsert_and_read(ask.caps);
        let row = bind_upsert(sqlx::query(sqlx::AssertSqlSafe(text)), new)
            .bind(ask.client_ip)
            .bind(ask.mailbox)
            .fetch_one(&mut *self.tx)
            .await?;
        let read = fraud_read(&row)?;
        let columns = ContestantColumns::from_row(&row)?;
        Ok((self.with_details(columns, new.details).await?, Some(read)))
    }

    /// [`EntryWrites::insert_entry`]: held back, or written now after a savepoint.
    async fn insert_or_hold_entry(
        &mut self,
        new: &NewEntry<'_>,
    ) -> Result<Option<EntryId>, StoreError> {
        if self.held.is_some() {
            let id = self.next_entry_id().await?;
            if let Some(held) = self.held.as_mut() {
                held.entries.push(id, new);
            }
            self.inserted += 1;
            return Ok(Some(EntryId(id)));
        }
        let id: Option<i64> = sqlx::query_scalar(sql::INSERT_ENTRY_RETURNING.as_str())
            .bind(new.campaign_id)
            .bind(new.contestant_id.0)
            .bind(new.entry_method_id.0)
            .bind(new.idempotency_key)
            .bind(new.value)
            .bind(i64::from(new.worth))
            .bind(new.consent_text)
            .bind(new.landing_url)
            .bind(new.referring_url)
            .bind(new.honeypot)
            .bind(i64::from(new.actions_completed))
            .bind(i64::from(new.total_entries))
            .bind(new.now)
            .bind(new.client_ip)
            .bind(i64::from(new.fraud_score))
            .bind(reasons_json(new.fraud_reasons))
            .bind(new.verdict.as_str())
            .bind(new.upload)
            .fetch_optional(&mut *self.tx)
            .await?;
        if id.is_some() {
            self.inserted += 1;
        }
        Ok(id.map(EntryId))
    }

    /// Notes a contestant this transaction created (the reads ahead did not see them).
    fn note_created(&mut self, id: ContestantId, new: &NewContestant<'_>) {
        self.created.push(Created {
            id: id.0,
            campaign_id: new.campaign_id,
            email: new.email.to_owned(),
            mailbox: new.mailbox.map(str::to_owned),
        });
    }
}

/// The counts' caps of [`sql::ahead_reads`] for a group that asks for no counts (its text is
/// then made for the group: no level counts to these).
const AHEAD_CAPS_UNUSED: crate::fraud::CountCaps = crate::fraud::CountCaps {
    other_contestants: 1,
    entries_last_minute: 1,
    entries_last_hour: 1,
};

/// A contestant a transaction created, as the mailbox rule looks at them.
#[derive(Debug)]
struct Created {
    id: i64,
    campaign_id: i64,
    email: String,
    /// Their mailbox when it is not their email.
    mailbox: Option<String>,
}

/// An entry a transaction wrote, as the per-address counts look at it.
#[derive(Debug)]
struct GroupEntry {
    campaign_id: i64,
    contestant_id: i64,
    client_ip: Option<String>,
    created_at: i64,
}

/// The fraud filter's columns of a row (`others`, `last_minute`, `last_hour`, `same_mailbox`).
fn fraud_read(row: &sqlx::postgres::PgRow) -> Result<FraudRead, StoreError> {
    Ok(FraudRead {
        counts: FraudCounts {
            other_contestants_from_ip: to_u32("entries", row.try_get("others")?)?,
            entries_from_ip_last_minute: to_u32("entries", row.try_get("last_minute")?)?,
            entries_from_ip_last_hour: to_u32("entries", row.try_get("last_hour")?)?,
        },
        another_with_mailbox: row.try_get("same_mailbox")?,
    })
}

/// Entries and deliveries a group wrote, held back to be inserted together.
#[derive(Debug, Default)]
struct Held {
    contestants: HeldContestants,
    entries: HeldEntries,
    deliveries: HeldDeliveries,
}

impl Held {
    /// Inserts them (contestants first, then entries: each refers to the one before); the
    /// deliveries leased to the dispatcher as it gets them.
    async fn insert(
        self,
        tx: &mut Transaction<'static, Postgres>,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let Self {
            contestants,
            entries,
            deliveries,
        } = self;
        contestants.insert(tx).await?;
        let n = entries.id.len();
        if n > 0 {
            let inserted = sqlx::query(INSERT_HELD_ENTRIES)
                .bind(entries.id)
                .bind(entries.campaign_id)
                .bind(entries.contestant_id)
                .bind(entries.entry_method_id)
                .bind(entries.idempotency_key)
                .bind(entries.entry_value)
                .bind(entries.worth)
                .bind(entries.consent_text)
                .bind(entries.landing_url)
                .bind(entries.referring_url)
                .bind(entries.honeypot)
                .bind(entries.actions_completed)
                .bind(entries.total_entries)
                .bind(entries.created_at)
                .bind(entries.client_ip)
                .bind(entries.fraud_score)
                .bind(entries.fraud_reasons)
                .bind(entries.verdict)
                .bind(entries.upload)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            // Only a concurrent retry's entry could be there first (a new contestant's, made
            // by another transaction meanwhile), and then this one is not new after all.
            if usize::try_from(inserted).ok() != Some(n) {
                return Err(StoreError::Contended);
            }
        }
        deliveries.insert(tx).await
    }
}

/// Held new contestants, column by column as they are bound.
#[derive(Debug, Default)]
struct HeldContestants {
    id: Vec<i64>,
    campaign_id: Vec<i64>,
    email: Vec<String>,
    name: Vec<String>,
    first_name: Vec<String>,
    last_name: Vec<String>,
    details: Vec<String>,
    total_entries: Vec<i64>,
    created_at: Vec<i64>,
    token_hash: Vec<String>,
    referral_code: Vec<String>,
    mailbox: Vec<Option<String>>,
}

impl HeldContestants {
    fn is_empty(&self) -> bool {
        self.id.is_empty()
    }

    fn push(&mut self, id: i64, new: &NewContestant<'_>, details: String) {
        self.id.push(id);
        self.campaign_id.push(new.campaign_id);
        self.email.push(new.email.to_owned());
        self.name.push(new.name.to_owned());
        self.first_name.push(new.first_name.to_owned());
        self.last_name.push(new.last_name.to_owned());
        self.details.push(details);
        self.total_entries.push(i64::from(new.worth));
        self.created_at.push(new.now);
        self.token_hash.push(new.token_hash.to_owned());
        self.referral_code.push(new.referral_code.to_owned());
        self.mailbox.push(new.mailbox.map(str::to_owned));
    }

    fn holds(&self, campaign_id: i64, email: &str) -> bool {
        self.campaign_id
            .iter()
            .zip(&self.email)
            .any(|(campaign, held)| *campaign == campaign_id && held == email)
    }

    /// Inserts them. Only a concurrent group could have made one of them meanwhile (a
    /// contestant's posts in two groups at once); then this group is written again.
    async fn insert(self, tx: &mut Transaction<'static, Postgres>) -> Result<(), StoreError> {
        let n = self.id.len();
        if n == 0 {
            return Ok(());
        }
        let inserted = sqlx::query(INSERT_HELD_CONTESTANTS)
            .bind(self.id)
            .bind(self.campaign_id)
            .bind(self.email)
            .bind(self.name)
            .bind(self.first_name)
            .bind(self.last_name)
            .bind(self.details)
            .bind(self.total_entries)
            .bind(self.created_at)
            .bind(self.token_hash)
            .bind(self.referral_code)
            .bind(self.mailbox)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        if usize::try_from(inserted).ok() != Some(n) {
            return Err(StoreError::Contended);
        }
        Ok(())
    }
}

/// Held entries, column by column as they are bound (`UNNEST` of one array per column).
#[derive(Debug, Default)]
struct HeldEntries {
    id: Vec<i64>,
    campaign_id: Vec<i64>,
    contestant_id: Vec<i64>,
    entry_method_id: Vec<i64>,
    idempotency_key: Vec<String>,
    entry_value: Vec<String>,
    worth: Vec<i64>,
    consent_text: Vec<Option<String>>,
    landing_url: Vec<String>,
    referring_url: Vec<String>,
    honeypot: Vec<String>,
    actions_completed: Vec<i64>,
    total_entries: Vec<i64>,
    created_at: Vec<i64>,
    client_ip: Vec<Option<String>>,
    fraud_score: Vec<i64>,
    fraud_reasons: Vec<String>,
    verdict: Vec<&'static str>,
    upload: Vec<Option<String>>,
}

impl HeldEntries {
    fn is_empty(&self) -> bool {
        self.id.is_empty()
    }

    fn push(&mut self, id: i64, new: &NewEntry<'_>) {
        self.id.push(id);
        self.campaign_id.push(new.campaign_id);
        self.contestant_id.push(new.contestant_id.0);
        self.entry_method_id.push(new.entry_method_id.0);
        self.idempotency_key.push(new.idempotency_key.to_owned());
        self.entry_value.push(new.value.to_owned());
        self.worth.push(i64::from(new.worth));
        self.consent_text.push(new.consent_text.map(str::to_owned));
        self.landing_url.push(new.landing_url.to_owned());
        self.referring_url.push(new.referring_url.to_owned());
        self.honeypot.push(new.honeypot.to_owned());
        self.actions_completed
            .push(i64::from(new.actions_completed));
        self.total_entries.push(i64::from(new.total_entries));
        self.created_at.push(new.now);
        self.client_ip.push(new.client_ip.map(str::to_owned));
        self.fraud_score.push(i64::from(new.fraud_score));
        self.fraud_reasons.push(reasons_json(new.fraud_reasons));
        self.verdict.push(new.verdict.as_str());
        self.upload.push(new.upload.map(str::to_owned));
    }

    fn of_contestant(&self, index: usize, contestant_id: ContestantId) -> bool {
        self.contestant_id[index] == contestant_id.0
    }
}

/// Held deliveries, column by column, with what the dispatcher is handed of each.
#[derive(Debug, Default)]
struct HeldDeliveries {
    webhook_id: Vec<String>,
    endpoint_id: Vec<i64>,
    entry_id: Vec<i64>,
    event_type: Vec<&'static str>,
    body: Vec<String>,
    status: Vec<&'static str>,
    due: Vec<i64>,
    lease_until: Vec<Option<i64>>,
    created_at: Vec<i64>,
    shows_answer: Vec<bool>,
    /// By webhook id: each held delivery that may go to the dispatcher, as it would go.
    handed: HashMap<String, NewHandOff>,
}

/// What the dispatcher gets of a delivery, but the row's id and lease (known once inserted).
#[derive(Debug)]
struct NewHandOff {
    webhook_id: MessageId,
    event_type: String,
    due_at: i64,
}

impl HeldDeliveries {
    fn push(&mut self, new: &NewDelivery<'_>, lease_until: Option<i64>) {
        let (status, due) = new.status_and_due();
        if lease_until.is_some() {
            self.handed.insert(
                new.webhook_id.as_str().to_owned(),
                NewHandOff {
                    webhook_id: new.webhook_id.clone(),
                    event_type: new.event_type.as_str().to_owned(),
                    due_at: new.now,
                },
            );
        }
        self.webhook_id.push(new.webhook_id.as_str().to_owned());
        self.endpoint_id.push(new.endpoint_id);
        self.entry_id.push(new.entry_id.0);
        self.event_type.push(new.event_type.as_str());
        self.body.push(new.body.to_owned());
        self.status.push(status);
        self.due.push(due);
        self.lease_until.push(lease_until);
        self.created_at.push(new.now);
        self.shows_answer.push(new.shows_answer);
    }

    /// Inserts them; those written leased, as the dispatcher gets them.
    async fn insert(
        mut self,
        tx: &mut Transaction<'static, Postgres>,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        if self.webhook_id.is_empty() {
            return Ok(Vec::new());
        }
        // The bodies by webhook id, for those handed off (the arrays take the rest).
        let mut bodies: HashMap<String, String> = self
            .webhook_id
            .iter()
            .zip(&self.body)
            .filter(|(webhook_id, _)| self.handed.contains_key(webhook_id.as_str()))
            .map(|(webhook_id, body)| (webhook_id.clone(), body.clone()))
            .collect();
        let rows: Vec<(i64, String, Option<i64>, i64, i64)> =
            sqlx::query_as(INSERT_HELD_DELIVERIES)
                .bind(self.webhook_id)
                .bind(self.endpoint_id)
                .bind(self.entry_id)
                .bind(self.event_type)
                .bind(self.body)
                .bind(self.status)
                .bind(self.due)
                .bind(self.lease_until)
                .bind(self.created_at)
                .bind(self.shows_answer)
                .fetch_all(&mut **tx)
                .await?;
        Ok(rows
            .into_iter()
            .filter_map(
                |(id, webhook_id, lease_until, endpoint_id, endpoint_version)| {
                    let lease_until = lease_until?;
                    let handed = self.handed.remove(&webhook_id)?;
                    Some(ClaimedDelivery {
                        id,
                        body: bodies.remove(&webhook_id).unwrap_or_default(),
                        webhook_id: handed.webhook_id,
                        endpoint_id,
                        event_type: handed.event_type,
                        n_attempts: 0,
                        lease_until,
                        due_at: handed.due_at,
                        endpoint_version,
                    })
                },
            )
            .collect())
    }
}

/// The held new contestants, `UNNEST`ed ([`HeldContestants`]), in the order the group wrote
/// them (its (campaign, email) order, the order row locks are taken in).
const INSERT_HELD_CONTESTANTS: &str =
    "INSERT INTO contestants (id, campaign_id, email, name, first_name, last_name, details,
                             actions_completed, total_entries, created_at, updated_at,
                             token_hash, referral_code, mailbox)
     SELECT k.id, k.campaign_id, k.email, k.name, k.first_name, k.last_name, k.details, 1,
            k.total_entries, k.created_at, k.created_at, k.token_hash, k.referral_code, k.mailbox
     FROM UNNEST($1::int8[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[],
                 $7::text[], $8::int8[], $9::int8[], $10::text[], $11::text[], $12::text[])
          WITH ORDINALITY
          AS k (id, campaign_id, email, name, first_name, last_name, details, total_entries,
                created_at, token_hash, referral_code, mailbox, written)
     ORDER BY k.written
     ON CONFLICT (campaign_id, email) DO NOTHING";

/// The held entries, `UNNEST`ed: one array per column ([`HeldEntries`]).
const INSERT_HELD_ENTRIES: &str =
    "INSERT INTO entries (id, campaign_id, contestant_id, entry_method_id, idempotency_key,
                         entry_value, worth, consent_text, landing_url, referring_url, honeypot,
                         actions_completed, total_entries, created_at, client_ip, fraud_score,
                         fraud_reasons, verdict, upload)
     SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::text[], $6::text[],
                          $7::int8[], $8::text[], $9::text[], $10::text[], $11::text[],
                          $12::int8[], $13::int8[], $14::int8[], $15::text[], $16::int8[],
                          $17::text[], $18::text[], $19::text[])
     ORDER BY 1
     ON CONFLICT (contestant_id, idempotency_key) DO NOTHING";

/// The held deliveries, `UNNEST`ed ([`HeldDeliveries`]), leased as `entries::sql::INSERT_DELIVERY`
/// leases one (never to an endpoint that keeps strict order). Their ids follow the order they
/// were queued in, as one by one (an endpoint that keeps strict order sends by id).
const INSERT_HELD_DELIVERIES: &str =
    "INSERT INTO deliveries (webhook_id, endpoint_id, entry_id, event_type, body, status,
                            n_attempts, next_attempt_at, lease_until, created_at, shows_answer)
     SELECT d.webhook_id, d.endpoint_id, d.entry_id, d.event_type, d.body, d.status, 0, d.due,
            CASE WHEN ep.strict_order THEN NULL ELSE d.lease_until END, d.created_at, d.shows_answer
     FROM UNNEST($1::text[], $2::int8[], $3::int8[], $4::text[], $5::text[], $6::text[],
                 $7::int8[], $8::int8[], $9::int8[], $10::bool[]) WITH ORDINALITY
          AS d (webhook_id, endpoint_id, entry_id, event_type, body, status, due, lease_until,
                created_at, shows_answer, queued)
     LEFT JOIN endpoints ep ON ep.id = d.endpoint_id
     ORDER BY d.queued
     RETURNING id, webhook_id, lease_until, endpoint_id,
               (SELECT ep.version FROM endpoints ep WHERE ep.id = deliveries.endpoint_id)";

/// A group's contestants, locked in the order the group writes them (bytewise, as Rust sorts).
static READ_CONTESTANTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {}, campaign_id FROM contestants
         WHERE (campaign_id, email) IN (SELECT * FROM UNNEST($1::int8[], $2::text[]))
         ORDER BY campaign_id, email COLLATE \"C\"
         FOR UPDATE",
        sql::CONTESTANT_COLUMNS
    )
});

impl EntryWrites for PgWriteTx {
    const READS_AHEAD: bool = true;

    async fn savepoint(&mut self) -> Result<(), StoreError> {
        // From here on each entry is written at once, to be undone alone.
        self.write_held().await?;
        self.held = None;
        self.run("SAVEPOINT entry").await?;
        self.leases.savepoint();
        Ok(())
    }

    async fn release_savepoint(&mut self) -> Result<(), StoreError> {
        self.run("RELEASE SAVEPOINT entry").await
    }

    async fn rollback_to_savepoint(&mut self) -> Result<(), StoreError> {
        self.run("ROLLBACK TO SAVEPOINT entry").await?;
        self.leases.rollback_to_savepoint();
        self.run("RELEASE SAVEPOINT entry").await
    }

    async fn read_contestants(&mut self, keys: &[GroupKey<'_>]) -> Result<(), StoreError> {
        let (campaigns, emails): (Vec<i64>, Vec<&str>) =
            keys.iter().map(|key| (key.campaign_id, key.email)).unzip();
        let rows = sqlx::query(READ_CONTESTANTS.as_str())
            .bind(&campaigns)
            .bind(&emails)
            .fetch_all(&mut *self.tx)
            .await?;
        self.read = keys
            .iter()
            .map(|key| ((key.campaign_id, key.email.to_owned()), None))
            .collect();
        for row in rows {
            let campaign_id: i64 = row.try_get("campaign_id")?;
            let columns = ContestantColumns::from_row(&row)?;
            let key = (campaign_id, columns.email.clone());
            self.read.insert(key, Some(columns.into_stored_record()?));
        }
        self.ids_at_once = keys.len();
        // A contestant's second entry in the group is not new: the first made them.
        let mut seen = HashSet::new();
        let new: Vec<bool> = keys
            .iter()
            .map(|key| {
                let absent = matches!(
                    self.read.get(&(key.campaign_id, key.email.to_owned())),
                    Some(None)
                );
                absent && seen.insert((key.campaign_id, key.email))
            })
            .collect();
        self.read_ahead(keys, &new).await
    }

    async fn find_contestant(
        &mut self,
        campaign_id: i64,
        email: &str,
    ) -> Result<Option<ContestantRecord>, StoreError> {
        if let Some(read) = self.read.remove(&(campaign_id, email.to_owned())) {
            return Ok(read);
        }
        // Their second entry in the group: the first made them.
        if self
            .held
            .as_ref()
            .is_some_and(|held| held.contestants.holds(campaign_id, email))
        {
            self.write_held().await?;
        }
        let columns: Option<ContestantColumns> =
            sqlx::query_as(sql::FIND_CONTESTANT_FOR_UPDATE.as_str())
                .bind(campaign_id)
                .bind(email)
                .fetch_optional(&mut *self.tx)
                .await?;
        columns
            .map(ContestantColumns::into_stored_record)
            .transpose()
    }

    async fn key_taken(
        &mut self,
        contestant_id: ContestantId,
        idempotency_key: &str,
    ) -> Result<bool, StoreError> {
        if let Some(held) = &self.held {
            let entries = &held.entries;
            if (0..entries.id.len()).any(|index| {
                entries.of_contestant(index, contestant_id)
                    && entries.idempotency_key[index] == idempotency_key
            }) {
                return Ok(true);
            }
        }
        let found: Option<i32> = sqlx::query_scalar(sql::KEY_TAKEN)
            .bind(contestant_id.0)
            .bind(idempotency_key)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(found.is_some())
    }

    async fn upsert_contestant(
        &mut self,
        new: &NewContestant<'_>,
    ) -> Result<ContestantRecord, StoreError> {
        let row = bind_upsert(sqlx::query(sql::UPSERT_CONTESTANT.as_str()), new)
            .fetch_one(&mut *self.tx)
            .await?;
        let columns = ContestantColumns::from_row(&row)?;
        self.with_details(columns, new.details).await
    }

    async fn completions(
        &mut self,
        contestant_id: ContestantId,
    ) -> Result<Vec<Completion>, StoreError> {
        self.write_held_if(|entries, index| entries.of_contestant(index, contestant_id))
            .await?;
        let rows: Vec<CompletionRow> = sqlx::query_as(sql::COMPLETIONS)
            .bind(contestant_id.0)
            .fetch_all(&mut *self.tx)
            .await?;
        rows.into_iter()
            .map(CompletionRow::into_completion)
            .collect()
    }

    async fn set_token_hash(
        &mut self,
        contestant_id: ContestantId,
        token_hash: &str,
    ) -> Result<(), StoreError> {
        self.write_held_if_contestant(contestant_id).await?;
        sqlx::query(sql::SET_TOKEN_HASH)
            .bind(token_hash)
            .bind(contestant_id.0)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn referrer(
        &mut self,
        campaign_id: i64,
        contestant_id: ContestantId,
        code_part: &str,
    ) -> Result<Option<ReferrerRecord>, StoreError> {
        // Their first entry's address is read.
        self.write_held_if_contestant(contestant_id).await?;
        self.write_held_if(|entries, index| entries.of_contestant(index, contestant_id))
            .await?;
        let found: Option<(i64, String, Option<String>)> = sqlx::query_as(sql::REFERRER)
            .bind(contestant_id.0)
            .bind(campaign_id)
            .bind(code_part)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(found.map(|(id, email, client_ip)| ReferrerRecord::new(id, email, client_ip)))
    }

    async fn credit_referral(
        &mut self,
        credit: &NewCredit,
    ) -> Result<ContestantRecord, StoreError> {
        self.write_held_if_contestant(credit.friend_id).await?;
        self.write_held_if_contestant(credit.referrer_id).await?;
        sqlx::query(sql::SET_REFERRED_BY)
            .bind(credit.referrer_id.0)
            .bind(credit.friend_id.0)
            .execute(&mut *self.tx)
            .await?;
        let columns: ContestantColumns = sqlx::query_as(sql::CREDIT_REFERRAL.as_str())
            .bind(i64::from(credit.worth))
            .bind(credit.now)
            .bind(credit.referrer_id.0)
            .fetch_one(&mut *self.tx)
            .await?;
        columns.into_stored_record()
    }

    async fn take_coupon(
        &mut self,
        campaign_id: i64,
        contestant_id: ContestantId,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        self.write_held_if_contestant(contestant_id).await?;
        Ok(sqlx::query_scalar(sql::TAKE_COUPON_POSTGRES)
            .bind(contestant_id.0)
            .bind(now)
            .bind(campaign_id)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    async fn give_reward(&mut self, reward: &NewReward<'_>) -> Result<(), StoreError> {
        self.write_held_if_contestant(reward.contestant_id).await?;
        sqlx::query(sql::GIVE_REWARD)
            .bind(reward.now)
            .bind(reward.kind.as_str())
            .bind(reward.value)
            .bind(reward.entry_id.0)
            .bind(reward.contestant_id.0)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn upsert_and_read(
        &mut self,
        new: &NewContestant<'_>,
        fraud: Option<&FraudAsk<'_>>,
    ) -> Result<(ContestantRecord, Option<FraudRead>), StoreError> {
        if new.stored.is_none() && self.held.is_some() {
            // A new contestant, held back, with what was read ahead for them.
            let read = match fraud {
                None => Some(None),
                Some(ask) => self.answer_ahead(new, ask).map(Some),
            };
            if let Some(read) = read {
                let id = ContestantId(self.next_contestant_id().await?);
                let (details, text) = merge_details("{}", new.details)?;
                if let Some(held) = self.held.as_mut() {
                    held.contestants
                        .push(id.0, new, text.unwrap_or_else(|| "{}".to_owned()));
                }
                self.note_created(id, new);
                return Ok((new.created(id, details), read));
            }
            // The statement below reads the contestants the group made.
            self.write_held().await?;
        }
        let (contestant, read) = self.upsert_and_read_now(new, fraud).await?;
        if new.stored.is_none() {
            self.note_created(contestant.id, new);
        }
        Ok((contestant, read))
    }

    async fn insert_entry(&mut self, new: &NewEntry<'_>) -> Result<Option<EntryId>, StoreError> {
        let held = self.held.is_some();
        let id = self.insert_or_hold_entry(new).await?;
        // Only a group written without savepoints answers from its reads ahead.
        if id.is_some() && held {
            self.group_entries.push(GroupEntry {
                campaign_id: new.campaign_id,
                contestant_id: new.contestant_id.0,
                client_ip: new.client_ip.map(str::to_owned),
                created_at: new.now,
            });
        }
        Ok(id)
    }

    async fn enabled_endpoints(&mut self) -> Result<Vec<SubscribedEndpoint>, StoreError> {
        type Row = (
            i64,
            String,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(sql::ENABLED_ENDPOINTS)
            .fetch_all(&mut *self.tx)
            .await?;
        rows.into_iter()
            .map(
                |(id, events, workspace_id, campaign_ids, audience, data_source)| {
                    Ok(
                        SubscribedEndpoint::read(id, &events, workspace_id, campaign_ids)?
                            .with(audience, data_source),
                    )
                },
            )
            .collect()
    }

    async fn insert_delivery(&mut self, new: &NewDelivery<'_>) -> Result<(), StoreError> {
        let lease_until = new.lease_until(&self.leases);
        if let Some(held) = self.held.as_mut() {
            held.deliveries.push(new, lease_until);
            return Ok(());
        }
        let (status, due) = new.status_and_due();
        let (id, lease_until, endpoint_version): (i64, Option<i64>, i64) =
            sqlx::query_as(sql::INSERT_DELIVERY_RETURNING.as_str())
                .bind(new.webhook_id.as_str())
                .bind(new.endpoint_id)
                .bind(new.entry_id.0)
                .bind(new.event_type.as_str())
                .bind(new.body)
                .bind(status)
                .bind(due)
                .bind(lease_until)
                .bind(new.now)
                .bind(new.shows_answer)
                .fetch_one(&mut *self.tx)
                .await?;
        if let Some(lease_until) = lease_until {
            self.leases
                .leased(new.handed_off(id, lease_until, endpoint_version));
        }
        Ok(())
    }
}

/// Whether held entry `index` is of the campaign from address `ip` (the fraud counts see it).
fn same_address(entries: &HeldEntries, index: usize, campaign_id: i64, ip: &str) -> bool {
    entries.campaign_id[index] == campaign_id && entries.client_ip[index].as_deref() == Some(ip)
}

/// [`sql::UPSERT_CONTESTANT`]'s parameters, `$1` to `$10`.
fn bind_upsert<'q>(
    query: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
    new: &'q NewContestant<'_>,
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    query
        .bind(new.campaign_id)
        .bind(new.email)
        .bind(new.name)
        .bind(new.first_name)
        .bind(new.last_name)
        .bind(i64::from(new.worth))
        .bind(new.now)
        .bind(new.token_hash)
        .bind(new.referral_code)
        .bind(new.mailbox)
}
