//! The entry write path on PostgreSQL: [`EntryWrites`] on one pool transaction.
//!
//! The statements are the SQLite path's (`entries::sql`); only the way they are run differs.
//! Several groups are written at once on separate connections (see [`crate::ingest`]), so row
//! locks, not a single writer, keep contestants' totals right: the upsert takes the
//! contestant's row lock and holds it to the commit.

use protocol::ids::{ContestantId, EntryId};
use sqlx::postgres::{PgPool, Postgres};
use sqlx::{Row as _, Transaction};
use tracing::error;

use super::deliveries::{Handoff, Leases};
use super::entries::{SubscribedEndpoint, merge_details, reasons_json, sql};
use super::{
    ContestantRecord, EntryWrites, FraudCounts, FraudCountsQuery, NewContestant, NewDelivery,
    NewEntry, StoreError, to_u32,
};

/// Where writes run on PostgreSQL: the pool, and where the deliveries they lease go.
#[derive(Debug, Clone, Copy)]
pub struct PgEntries<'a> {
    pool: &'a PgPool,
    handoff: &'a Handoff,
}

impl<'a> PgEntries<'a> {
    pub(super) fn new(pool: &'a PgPool, handoff: &'a Handoff) -> Self {
        Self { pool, handoff }
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
}

impl PgWriteTx {
    pub async fn begin(entries: PgEntries<'_>) -> Result<Self, StoreError> {
        Ok(Self {
            tx: entries.pool.begin().await?,
            pool: entries.pool.clone(),
            leases: entries.handoff.leases(),
        })
    }

    /// Commits the group (durable when this returns), then hands what it leased to the
    /// dispatcher.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
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
}

impl EntryWrites for PgWriteTx {
    async fn savepoint(&mut self) -> Result<(), StoreError> {
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

    async fn upsert_contestant(
        &mut self,
        new: &NewContestant<'_>,
    ) -> Result<ContestantRecord, StoreError> {
        let row = sqlx::query(sql::UPSERT_CONTESTANT)
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
        let (details, merged) = merge_details(&stored_details, new.details)?;
        if let Some(merged) = merged {
            sqlx::query(sql::UPDATE_DETAILS)
                .bind(merged)
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

    async fn fraud_counts(&mut self, query: &FraudCountsQuery) -> Result<FraudCounts, StoreError> {
        let earlier: i64 = sqlx::query_scalar(sql::EARLIER_ENTRIES)
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
        let row = sqlx::query(sql::IP_COUNTS.as_str())
            .bind(query.campaign_id)
            .bind(ip.to_string())
            .bind(query.contestant_id.0)
            .bind(query.now)
            .fetch_one(&mut *self.tx)
            .await?;
        counts.other_contestants_from_ip = to_u32("entries", row.try_get("others")?)?;
        counts.entries_from_ip_last_minute = to_u32("entries", row.try_get("last_minute")?)?;
        counts.entries_from_ip_last_hour = to_u32("entries", row.try_get("last_hour")?)?;
        Ok(counts)
    }

    async fn insert_entry(&mut self, new: &NewEntry<'_>) -> Result<Option<EntryId>, StoreError> {
        let id: Option<i64> = sqlx::query_scalar(sql::INSERT_ENTRY)
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
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(id.map(EntryId))
    }

    async fn enabled_endpoints(&mut self) -> Result<Vec<SubscribedEndpoint>, StoreError> {
        let rows: Vec<(i64, String, Option<i64>, Option<String>)> =
            sqlx::query_as(sql::ENABLED_ENDPOINTS)
                .fetch_all(&mut *self.tx)
                .await?;
        rows.into_iter()
            .map(|(id, events, workspace_id, campaign_ids)| {
                SubscribedEndpoint::read(id, &events, workspace_id, campaign_ids)
            })
            .collect()
    }

    async fn insert_delivery(&mut self, new: &NewDelivery<'_>) -> Result<(), StoreError> {
        let (status, due) = new.status_and_due();
        let (id, lease_until, endpoint_version): (i64, Option<i64>, i64) =
            sqlx::query_as(sql::INSERT_DELIVERY)
                .bind(new.webhook_id.as_str())
                .bind(new.endpoint_id)
                .bind(new.entry_id.0)
                .bind(new.event_type.as_str())
                .bind(new.body)
                .bind(status)
                .bind(due)
                .bind(new.lease_until(&self.leases))
                .bind(new.now)
                .fetch_one(&mut *self.tx)
                .await?;
        if let Some(lease_until) = lease_until {
            self.leases
                .leased(new.handed_off(id, lease_until, endpoint_version));
        }
        Ok(())
    }
}
