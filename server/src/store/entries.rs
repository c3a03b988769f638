//! Contestants, entries and the deliveries an entry creates, written in one transaction on the
//! entry writer's connection ([`WriteTx`]); looked up again on the pool.

use std::collections::BTreeMap;
use std::net::IpAddr;

use protocol::campaign::EntryMethodType;
use protocol::ids::{ContestantId, EntryId, EntryMethodId, MessageId};
use protocol::payload::EventType;
use rusqlite::{OptionalExtension as _, params};

use super::campaigns::parse_column;
use super::deliveries::Leases;
use super::{ClaimedDelivery, Store, StoreError, WriteTx, to_u32, with_pool};
use crate::fraud::{Decision, Reason};

/// Details (question → answer) as stored in `contestants.details`.
type Details = BTreeMap<String, serde_json::Value>;

/// An entry as stored, with what is needed to answer its request again.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEntry {
    pub id: EntryId,
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
}

/// The contestant completing an action. Empty names keep what was stored before.
#[derive(Debug, Clone)]
pub struct NewContestant<'a> {
    pub campaign_id: i64,
    pub email: &'a str,
    pub name: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    /// Merged over the stored details, answer by answer.
    pub details: &'a Details,
    /// Entries this action earns.
    pub worth: u32,
    pub now: i64,
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
    pub client_ip: Option<IpAddr>,
    pub fraud_score: u32,
    pub fraud_reasons: &'a [Reason],
    pub verdict: Decision,
    pub now: i64,
}

/// What the database says about a new entry's contestant and IP, for the fraud filter.
/// Every count leaves out the entry being recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FraudCounts {
    /// Entries by this contestant through this entry method.
    pub earlier_entries_same_method: u32,
    /// Other contestants with an entry from this IP in the campaign.
    pub other_contestants_from_ip: u32,
    pub entries_from_ip_last_minute: u32,
    pub entries_from_ip_last_hour: u32,
}

/// Where [`FraudCounts`] are counted.
#[derive(Debug, Clone, Copy)]
pub struct FraudCountsQuery {
    pub campaign_id: i64,
    pub contestant_id: ContestantId,
    pub entry_method_id: EntryMethodId,
    pub client_ip: Option<IpAddr>,
    pub now: i64,
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
    pub now: i64,
}

impl Store {
    /// The entry made earlier in `campaign_id` with `idempotency_key`, if any.
    pub async fn entry_by_idempotency_key(
        &self,
        campaign_id: i64,
        idempotency_key: &str,
    ) -> Result<Option<StoredEntry>, StoreError> {
        let row: Option<StoredEntryRow> = with_pool!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT e.id, e.entry_method_id, m.method_type, m.action, e.worth, e.created_at,
                        e.actions_completed, e.total_entries
                 FROM entries e JOIN entry_methods m ON m.id = e.entry_method_id
                 WHERE e.campaign_id = $1 AND e.idempotency_key = $2",
            )
            .bind(campaign_id)
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

/// The entry write path's statements: one group of entries in one transaction, each entry
/// inside its own savepoint, so one that fails is undone alone. Nothing is kept unless the
/// transaction commits. Written once in [`crate::ingest`] over this trait; SQLite implements
/// it on the entry writer's thread ([`WriteTx`], where every call completes without waiting:
/// see [`super::run_ready`]), PostgreSQL on a pool transaction ([`super::PgWriteTx`]).
// Not `dyn`, and no `Send` bound wanted: the SQLite transaction never leaves its thread.
#[allow(async_fn_in_trait)]
pub trait EntryWrites {
    /// Marks the start of one entry's writes, so they can be undone alone.
    async fn savepoint(&mut self) -> Result<(), StoreError>;
    /// Keeps the writes since [`Self::savepoint`] (they still need the commit).
    async fn release_savepoint(&mut self) -> Result<(), StoreError>;
    /// Undoes the writes since [`Self::savepoint`]; the rest of the transaction stays.
    async fn rollback_to_savepoint(&mut self) -> Result<(), StoreError>;
    /// Creates the contestant or updates them, adding one action and `worth` entries; the
    /// details are merged answer by answer. Takes the contestant's row lock.
    async fn upsert_contestant(
        &mut self,
        new: &NewContestant<'_>,
    ) -> Result<ContestantRecord, StoreError>;
    /// Counts what the fraud filter needs. Called after [`Self::upsert_contestant`].
    async fn fraud_counts(&mut self, query: &FraudCountsQuery) -> Result<FraudCounts, StoreError>;
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

/// The entry write path on SQLite, run on the [`super::EntryWriter`]'s thread inside its
/// transaction. No call waits: each is a synchronous statement on the thread's connection.
impl EntryWrites for WriteTx<'_> {
    async fn savepoint(&mut self) -> Result<(), StoreError> {
        WriteTx::savepoint(self)
    }

    async fn release_savepoint(&mut self) -> Result<(), StoreError> {
        WriteTx::release_savepoint(self)
    }

    async fn rollback_to_savepoint(&mut self) -> Result<(), StoreError> {
        WriteTx::rollback_to_savepoint(self)
    }

    /// Writes first (so the write lock is taken at once), then merges the details.
    async fn upsert_contestant(
        &mut self,
        new: &NewContestant<'_>,
    ) -> Result<ContestantRecord, StoreError> {
        let (
            id,
            email,
            name,
            first_name,
            last_name,
            stored_details,
            actions_completed,
            total_entries,
        ) = self.tx.prepare_cached(sql::UPSERT_CONTESTANT)?.query_row(
            params![
                new.campaign_id,
                new.email,
                new.name,
                new.first_name,
                new.last_name,
                i64::from(new.worth),
                new.now,
            ],
            |row| {
                Ok((
                    ContestantId(row.get("id")?),
                    row.get::<_, String>("email")?,
                    row.get::<_, String>("name")?,
                    row.get::<_, String>("first_name")?,
                    row.get::<_, String>("last_name")?,
                    row.get::<_, String>("details")?,
                    row.get::<_, i64>("actions_completed")?,
                    row.get::<_, i64>("total_entries")?,
                ))
            },
        )?;
        let (details, merged) = merge_details(&stored_details, new.details)?;
        if let Some(merged) = merged {
            self.tx
                .prepare_cached(sql::UPDATE_DETAILS)?
                .execute(params![merged, id.0])?;
        }
        Ok(ContestantRecord {
            id,
            email,
            name,
            first_name,
            last_name,
            details,
            actions_completed: to_u32("actions_completed", actions_completed)?,
            total_entries: to_u32("total_entries", total_entries)?,
        })
    }

    /// [`Self::upsert_contestant`] holds the database's write lock, so the counts cannot
    /// change before the entry is inserted.
    async fn fraud_counts(&mut self, query: &FraudCountsQuery) -> Result<FraudCounts, StoreError> {
        let earlier: i64 = self.tx.prepare_cached(sql::EARLIER_ENTRIES)?.query_row(
            params![query.contestant_id.0, query.entry_method_id.0],
            |row| row.get(0),
        )?;
        let mut counts = FraudCounts {
            earlier_entries_same_method: to_u32("entries", earlier)?,
            ..FraudCounts::default()
        };
        let Some(ip) = query.client_ip else {
            return Ok(counts);
        };
        // Each count stops at a cap above every level's threshold, so one busy address (a
        // shared NAT, an attacker) costs a bounded index range per entry, not a scan of all
        // its entries.
        let (others, last_minute, last_hour): (i64, i64, i64) =
            self.tx.prepare_cached(sql::IP_COUNTS.as_str())?.query_row(
                params![
                    query.campaign_id,
                    ip.to_string(),
                    query.contestant_id.0,
                    query.now,
                ],
                |row| {
                    Ok((
                        row.get("others")?,
                        row.get("last_minute")?,
                        row.get("last_hour")?,
                    ))
                },
            )?;
        counts.other_contestants_from_ip = to_u32("entries", others)?;
        counts.entries_from_ip_last_minute = to_u32("entries", last_minute)?;
        counts.entries_from_ip_last_hour = to_u32("entries", last_hour)?;
        Ok(counts)
    }

    async fn insert_entry(&mut self, new: &NewEntry<'_>) -> Result<Option<EntryId>, StoreError> {
        let inserted = self.tx.prepare_cached(sql::INSERT_ENTRY)?.query_row(
            params![
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
                new.client_ip.map(|ip| ip.to_string()),
                i64::from(new.fraud_score),
                reasons_json(new.fraud_reasons),
                new.verdict.as_str(),
            ],
            |row| row.get(0),
        );
        Ok(inserted.optional()?.map(EntryId))
    }

    async fn enabled_endpoints(&mut self) -> Result<Vec<SubscribedEndpoint>, StoreError> {
        let mut statement = self.tx.prepare_cached(sql::ENABLED_ENDPOINTS)?;
        let mut rows = statement.query([])?;
        let mut endpoints = Vec::new();
        while let Some(row) = rows.next()? {
            endpoints.push(SubscribedEndpoint::read(
                row.get("id")?,
                &row.get::<_, String>("events")?,
                row.get("workspace_id")?,
                row.get("campaign_ids")?,
            )?);
        }
        Ok(endpoints)
    }

    async fn insert_delivery(&mut self, new: &NewDelivery<'_>) -> Result<(), StoreError> {
        let (status, due) = new.status_and_due();
        let lease = new.lease_until(&self.leases);
        let (id, lease_until, endpoint_version): (i64, Option<i64>, i64) =
            self.tx.prepare_cached(sql::INSERT_DELIVERY)?.query_row(
                params![
                    new.webhook_id.as_str(),
                    new.endpoint_id,
                    new.entry_id.0,
                    new.event_type.as_str(),
                    new.body,
                    status,
                    due,
                    lease,
                    new.now,
                ],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )?;
        if let Some(lease_until) = lease_until {
            self.leases
                .leased(new.handed_off(id, lease_until, endpoint_version));
        }
        Ok(())
    }
}

/// Where the per-address counts stop: above every fraud level's threshold for them.
pub const FRAUD_COUNT_CAP: u32 = 64;
/// Where the per-address count over the last hour stops.
pub const FRAUD_HOURLY_COUNT_CAP: u32 = 512;

/// The entry write path's SQL, one text for both databases. Placeholders are `$1`, `$2`, …
/// in order of first appearance: PostgreSQL numbers them, and SQLite (which reads `$1` as a
/// name) numbers names in the order they first appear, so both bind the same values (a test
/// below holds every statement to this).
pub(super) mod sql {
    use std::sync::LazyLock;

    use super::{FRAUD_COUNT_CAP, FRAUD_HOURLY_COUNT_CAP};

    pub const UPSERT_CONTESTANT: &str = "INSERT INTO contestants (campaign_id, email, name, first_name, last_name, details,
                                  actions_completed, total_entries, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, '{}', 1, $6, $7, $7)
         ON CONFLICT (campaign_id, email) DO UPDATE SET
             name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE contestants.name END,
             first_name = CASE WHEN excluded.name <> '' THEN excluded.first_name ELSE contestants.first_name END,
             last_name = CASE WHEN excluded.name <> '' THEN excluded.last_name ELSE contestants.last_name END,
             actions_completed = contestants.actions_completed + 1,
             total_entries = contestants.total_entries + excluded.total_entries,
             updated_at = excluded.updated_at
         RETURNING id, email, name, first_name, last_name, details, actions_completed, total_entries";

    pub const UPDATE_DETAILS: &str = "UPDATE contestants SET details = $1 WHERE id = $2";

    pub const EARLIER_ENTRIES: &str =
        "SELECT COUNT(*) FROM entries WHERE contestant_id = $1 AND entry_method_id = $2";

    /// The per-address counts of [`super::FraudCounts`]. Each count stops at a cap above
    /// every level's threshold, so one busy address (a shared NAT, an attacker) costs a
    /// bounded index range per entry, not a scan of all its entries. The caps are written
    /// into the SQL, not bound: SQLite recompiles a statement each time a parameter its
    /// `LIMIT` reads is bound again, and that recompiling was most of an entry's cost.
    pub static IP_COUNTS: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT
               (SELECT COUNT(*) FROM (SELECT DISTINCT contestant_id FROM entries
                  WHERE campaign_id = $1 AND client_ip = $2 AND contestant_id <> $3
                  LIMIT {FRAUD_COUNT_CAP}) AS o) AS others,
               (SELECT COUNT(*) FROM (SELECT 1 FROM entries
                  WHERE campaign_id = $1 AND client_ip = $2 AND created_at > $4 - 60000
                  LIMIT {FRAUD_COUNT_CAP}) AS m) AS last_minute,
               (SELECT COUNT(*) FROM (SELECT 1 FROM entries
                  WHERE campaign_id = $1 AND client_ip = $2 AND created_at > $4 - 3600000
                  LIMIT {FRAUD_HOURLY_COUNT_CAP}) AS h) AS last_hour"
        )
    });

    pub const INSERT_ENTRY: &str = "INSERT INTO entries (campaign_id, contestant_id, entry_method_id, idempotency_key, entry_value,
                              worth, consent_text, landing_url, referring_url, honeypot,
                              actions_completed, total_entries, created_at,
                              client_ip, fraud_score, fraud_reasons, verdict)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
         ON CONFLICT (campaign_id, idempotency_key) DO NOTHING
         RETURNING id";

    pub const ENABLED_ENDPOINTS: &str =
        "SELECT id, events, workspace_id, campaign_ids FROM endpoints WHERE enabled ORDER BY id";

    /// A new delivery, leased until `$8` for this process's dispatcher (or not, when NULL),
    /// except to an endpoint that keeps strict order: only a claim may take its queue's head.
    pub const INSERT_DELIVERY: &str =
        "INSERT INTO deliveries (webhook_id, endpoint_id, entry_id, event_type, body, status,
                                 n_attempts, next_attempt_at, lease_until, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7,
                 CASE WHEN (SELECT ep.strict_order FROM endpoints ep WHERE ep.id = $2) THEN NULL ELSE $8 END,
                 $9)
         RETURNING id, lease_until,
                   (SELECT ep.version FROM endpoints ep WHERE ep.id = deliveries.endpoint_id) AS endpoint_version";

    /// Every statement above, for the test of their placeholders.
    #[cfg(test)]
    pub fn all() -> Vec<&'static str> {
        vec![
            UPSERT_CONTESTANT,
            UPDATE_DETAILS,
            EARLIER_ENTRIES,
            IP_COUNTS.as_str(),
            INSERT_ENTRY,
            ENABLED_ENDPOINTS,
            INSERT_DELIVERY,
        ]
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
}

impl SubscribedEndpoint {
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
