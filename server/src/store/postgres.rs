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
use super::entries::{
    CompletionRow, ContestantColumns, SubscribedEndpoint, merge_details, reasons_json, sql,
};
use super::{
    Completion, ContestantRecord, EntryWrites, FraudCounts, FraudCountsQuery, NewContestant,
    NewCredit, NewDelivery, NewEntry, NewReward, ReferrerRecord, StoreError, to_u32,
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

    async fn find_contestant(
        &mut self,
        campaign_id: i64,
        email: &str,
    ) -> Result<Option<ContestantRecord>, StoreError> {
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
        let columns: ContestantColumns = sqlx::query_as(sql::UPSERT_CONTESTANT.as_str())
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
            .fetch_one(&mut *self.tx)
            .await?;
        let (details, merged) = merge_details(&columns.details, new.details)?;
        if let Some(merged) = merged {
            sqlx::query(sql::UPDATE_DETAILS)
                .bind(merged)
                .bind(columns.id)
                .execute(&mut *self.tx)
                .await?;
        }
        columns.into_record(details)
    }

    async fn completions(
        &mut self,
        contestant_id: ContestantId,
    ) -> Result<Vec<Completion>, StoreError> {
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
        Ok(sqlx::query_scalar(sql::TAKE_COUPON_POSTGRES)
            .bind(contestant_id.0)
            .bind(now)
            .bind(campaign_id)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    async fn give_reward(&mut self, reward: &NewReward<'_>) -> Result<(), StoreError> {
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

    async fn another_with_mailbox(
        &mut self,
        campaign_id: i64,
        contestant_id: ContestantId,
        mailbox: &str,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar(sql::ANOTHER_WITH_MAILBOX)
            .bind(campaign_id)
            .bind(mailbox)
            .bind(contestant_id.0)
            .fetch_one(&mut *self.tx)
            .await?)
    }

    async fn fraud_counts(&mut self, query: &FraudCountsQuery) -> Result<FraudCounts, StoreError> {
        let Some(ip) = query.client_ip else {
            return Ok(FraudCounts::default());
        };
        let text = sql::ip_counts(query.caps);
        // A prepared statement, planned for good once PostgreSQL has statistics of `entries`
        // (see README, "Benchmarks": planning it for each entry instead was measured slower).
        let row = sqlx::query(sqlx::AssertSqlSafe(text))
            .bind(query.campaign_id)
            .bind(ip.to_string())
            .bind(query.contestant_id.0)
            .bind(query.now)
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(FraudCounts {
            other_contestants_from_ip: to_u32("entries", row.try_get("others")?)?,
            entries_from_ip_last_minute: to_u32("entries", row.try_get("last_minute")?)?,
            entries_from_ip_last_hour: to_u32("entries", row.try_get("last_hour")?)?,
        })
    }

    async fn insert_entry(&mut self, new: &NewEntry<'_>) -> Result<Option<EntryId>, StoreError> {
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
            .bind(new.client_ip.map(|ip| ip.to_string()))
            .bind(i64::from(new.fraud_score))
            .bind(reasons_json(new.fraud_reasons))
            .bind(new.verdict.as_str())
            .bind(new.upload)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(id.map(EntryId))
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
                .bind(new.lease_until(&self.leases))
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
