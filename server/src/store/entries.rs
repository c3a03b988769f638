//! Contestants, entries and the deliveries an entry creates, written in one transaction.

use std::collections::BTreeMap;
use std::net::IpAddr;

use protocol::campaign::EntryMethodType;
use protocol::ids::{ContestantId, EntryId, EntryMethodId, MessageId};
use protocol::payload::EventType;
use sqlx::Row as _;
use sqlx::error::ErrorKind;
use sqlx::{Sqlite, Transaction};

use super::campaigns::parse_column;
use super::{Store, StoreError, to_u32};
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
        let row = sqlx::query(
            "SELECT e.id, e.entry_method_id, m.method_type, m.action, e.worth, e.created_at,
                    e.actions_completed, e.total_entries
             FROM entries e JOIN entry_methods m ON m.id = e.entry_method_id
             WHERE e.campaign_id = $1 AND e.idempotency_key = $2",
        )
        .bind(campaign_id)
        .bind(idempotency_key)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(StoredEntry {
            id: EntryId(row.try_get("id")?),
            entry_method_id: EntryMethodId(row.try_get("entry_method_id")?),
            method_type: parse_column(
                "method_type",
                row.try_get("method_type")?,
                EntryMethodType::parse,
            )?,
            action: row.try_get("action")?,
            worth: to_u32("worth", row.try_get("worth")?)?,
            created_at: row.try_get("created_at")?,
            actions_completed: to_u32("actions_completed", row.try_get("actions_completed")?)?,
            total_entries: to_u32("total_entries", row.try_get("total_entries")?)?,
        }))
    }

    /// Starts the transaction that records a group of entries, each inside its own savepoint
    /// ([`EntryTransaction::savepoint`]). Nothing is kept unless it commits.
    pub async fn begin_entry(&self) -> Result<EntryTransaction, StoreError> {
        Ok(EntryTransaction {
            tx: self.pool.begin().await?,
        })
    }
}

/// One entry being recorded: the contestant, the entry and its deliveries, all or nothing.
#[derive(Debug)]
pub struct EntryTransaction {
    tx: Transaction<'static, Sqlite>,
}

impl EntryTransaction {
    /// Creates the contestant or updates them, adding one action and `worth` entries.
    ///
    /// Writes first (so the write lock is taken at once), then merges the details.
    pub async fn upsert_contestant(
        &mut self,
        new: &NewContestant<'_>,
    ) -> Result<ContestantRecord, StoreError> {
        let row = sqlx::query(
            "INSERT INTO contestants (campaign_id, email, name, first_name, last_name, details,
                                      actions_completed, total_entries, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, '{}', 1, $6, $7, $7)
             ON CONFLICT (campaign_id, email) DO UPDATE SET
                 name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE contestants.name END,
                 first_name = CASE WHEN excluded.name <> '' THEN excluded.first_name ELSE contestants.first_name END,
                 last_name = CASE WHEN excluded.name <> '' THEN excluded.last_name ELSE contestants.last_name END,
                 actions_completed = contestants.actions_completed + 1,
                 total_entries = contestants.total_entries + excluded.total_entries,
                 updated_at = excluded.updated_at
             RETURNING id, email, name, first_name, last_name, details, actions_completed, total_entries",
        )
        .bind(new.campaign_id)
        .bind(new.email)
        .bind(new.name)
        .bind(new.first_name)
        .bind(new.last_name)
        .bind(i64::from(new.worth))
        .bind(new.now)
        .fetch_one(&mut *self.tx)
        .await?;
        let id = ContestantId(row.try_get("id")?);
        let stored_details: String = row.try_get("details")?;
        let mut details: Details =
            serde_json::from_str(&stored_details).map_err(|_| StoreError::Corrupt {
                column: "details",
                value: stored_details.clone(),
            })?;
        if !new.details.is_empty() {
            details.extend(
                new.details
                    .iter()
                    .map(|(question, answer)| (question.clone(), answer.clone())),
            );
            let merged = serde_json::Value::from(serde_json::Map::from_iter(details.clone()));
            sqlx::query("UPDATE contestants SET details = $1 WHERE id = $2")
                .bind(merged.to_string())
                .bind(id.0)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(ContestantRecord {
            id,
            email: row.try_get("email")?,
            name: row.try_get("name")?,
            first_name: row.try_get("first_name")?,
            last_name: row.try_get("last_name")?,
            details,
            actions_completed: to_u32("actions_completed", row.try_get("actions_completed")?)?,
            total_entries: to_u32("total_entries", row.try_get("total_entries")?)?,
        })
    }

    /// Counts what the fraud filter needs. Called after [`Self::upsert_contestant`], which holds
    /// the write lock, so the counts cannot change before the entry is inserted.
    pub async fn fraud_counts(
        &mut self,
        query: &FraudCountsQuery,
    ) -> Result<FraudCounts, StoreError> {
        let earlier: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM entries WHERE contestant_id = $1 AND entry_method_id = $2",
        )
        .bind(query.contestant_id.0)
        .bind(query.entry_method_id.0)
        .fetch_one(&mut *self.tx)
        .await?;
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
        let row = sqlx::query(
            "SELECT
               (SELECT COUNT(*) FROM (SELECT DISTINCT contestant_id FROM entries
                  WHERE campaign_id = $1 AND client_ip = $2 AND contestant_id <> $3 LIMIT $5)) AS others,
               (SELECT COUNT(*) FROM (SELECT 1 FROM entries
                  WHERE campaign_id = $1 AND client_ip = $2 AND created_at > $4 - 60000 LIMIT $5)) AS last_minute,
               (SELECT COUNT(*) FROM (SELECT 1 FROM entries
                  WHERE campaign_id = $1 AND client_ip = $2 AND created_at > $4 - 3600000 LIMIT $6)) AS last_hour",
        )
        .bind(query.campaign_id)
        .bind(ip.to_string())
        .bind(query.contestant_id.0)
        .bind(query.now)
        .bind(i64::from(FRAUD_COUNT_CAP))
        .bind(i64::from(FRAUD_HOURLY_COUNT_CAP))
        .fetch_one(&mut *self.tx)
        .await?;
        counts.other_contestants_from_ip = to_u32("entries", row.try_get("others")?)?;
        counts.entries_from_ip_last_minute = to_u32("entries", row.try_get("last_minute")?)?;
        counts.entries_from_ip_last_hour = to_u32("entries", row.try_get("last_hour")?)?;
        Ok(counts)
    }

    /// Inserts the entry. `None` if an entry with the same idempotency key was committed
    /// meanwhile (a concurrent retry); the caller then rolls back and answers with that one.
    pub async fn insert_entry(
        &mut self,
        new: &NewEntry<'_>,
    ) -> Result<Option<EntryId>, StoreError> {
        let inserted = sqlx::query_scalar(
            "INSERT INTO entries (campaign_id, contestant_id, entry_method_id, idempotency_key, entry_value,
                                  worth, consent_text, landing_url, referring_url, honeypot,
                                  actions_completed, total_entries, created_at,
                                  client_ip, fraud_score, fraud_reasons, verdict)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
             RETURNING id",
        )
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
        .bind(new.client_ip.map(|ip| ip.to_string()))
        .bind(i64::from(new.fraud_score))
        .bind(reasons_json(new.fraud_reasons))
        .bind(new.verdict.as_str())
        .fetch_one(&mut *self.tx)
        .await;
        match inserted {
            Ok(id) => Ok(Some(EntryId(id))),
            Err(sqlx::Error::Database(error)) if error.kind() == ErrorKind::UniqueViolation => {
                Ok(None)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Ids of the enabled endpoints subscribed to `event`.
    pub async fn endpoints_subscribed_to(
        &mut self,
        event: EventType,
    ) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query("SELECT id, events FROM endpoints WHERE enabled ORDER BY id")
            .fetch_all(&mut *self.tx)
            .await?;
        let mut subscribed = Vec::new();
        for row in rows {
            let events: String = row.try_get("events")?;
            let names: Vec<String> =
                serde_json::from_str(&events).map_err(|_| StoreError::Corrupt {
                    column: "events",
                    value: events.clone(),
                })?;
            if names.iter().any(|name| name == event.as_str()) {
                subscribed.push(row.try_get("id")?);
            }
        }
        Ok(subscribed)
    }

    /// Queues one delivery, due at once or held until `new.held_until`.
    pub async fn insert_delivery(&mut self, new: &NewDelivery<'_>) -> Result<(), StoreError> {
        let (status, due) = match new.held_until {
            Some(due) => ("held", due),
            None => ("pending", new.now),
        };
        sqlx::query(
            "INSERT INTO deliveries (webhook_id, endpoint_id, entry_id, event_type, body, status,
                                     n_attempts, next_attempt_at, lease_until, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, NULL, $8)",
        )
        .bind(new.webhook_id.as_str())
        .bind(new.endpoint_id)
        .bind(new.entry_id.0)
        .bind(new.event_type.as_str())
        .bind(new.body)
        .bind(status)
        .bind(due)
        .bind(new.now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Marks the start of one entry's writes, so they can be undone alone.
    pub async fn savepoint(&mut self) -> Result<(), StoreError> {
        sqlx::query("SAVEPOINT entry")
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Keeps the writes since [`Self::savepoint`] (they still need the commit).
    pub async fn release_savepoint(&mut self) -> Result<(), StoreError> {
        sqlx::query("RELEASE entry").execute(&mut *self.tx).await?;
        Ok(())
    }

    /// Undoes the writes since [`Self::savepoint`]; the rest of the group stays.
    pub async fn rollback_to_savepoint(&mut self) -> Result<(), StoreError> {
        sqlx::query("ROLLBACK TO entry")
            .execute(&mut *self.tx)
            .await?;
        sqlx::query("RELEASE entry").execute(&mut *self.tx).await?;
        Ok(())
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        Ok(self.tx.commit().await?)
    }
}

/// Where the per-address counts stop: above every fraud level's threshold for them.
pub const FRAUD_COUNT_CAP: u32 = 64;
/// Where the per-address count over the last hour stops.
pub const FRAUD_HOURLY_COUNT_CAP: u32 = 512;

/// `entries.fraud_reasons`: a JSON array of reason codes.
fn reasons_json(reasons: &[Reason]) -> String {
    let codes: Vec<&str> = reasons.iter().map(|reason| reason.as_str()).collect();
    serde_json::Value::from(codes).to_string()
}
