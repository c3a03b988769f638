//! The entry write path on PostgreSQL: [`EntryWrites`] on one pool transaction.
//!
//! The statements are the SQLite path's (`entries::sql`); only the way they are run differs.
//! Several groups are written at once on separate connections (see [`crate::ingest`]), so row
//! locks, not a single writer, keep contestants' totals right: the upsert takes the
//! contestant's row lock and holds it to the commit.

use protocol::ids::{ContestantId, EntryId};
use sqlx::postgres::{PgPool, Postgres};
use sqlx::{Row as _, Transaction};

use super::entries::{
    CompletionRow, ContestantColumns, SubscribedEndpoint, merge_details, reasons_json, sql,
};
use super::{
    Completion, ContestantRecord, EntryWrites, FraudCounts, FraudCountsQuery, NewContestant,
    NewCredit, NewDelivery, NewEntry, NewReward, ReferrerRecord, StoreError, to_u32,
};

/// One group's transaction on PostgreSQL.
#[derive(Debug)]
pub struct PgWriteTx {
    tx: Transaction<'static, Postgres>,
}

impl PgWriteTx {
    pub async fn begin(pool: &PgPool) -> Result<Self, StoreError> {
        Ok(Self {
            tx: pool.begin().await?,
        })
    }

    /// Commits the group: durable when this returns.
    pub async fn commit(self) -> Result<(), StoreError> {
        Ok(self.tx.commit().await?)
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
        self.run("SAVEPOINT entry").await
    }

    async fn release_savepoint(&mut self) -> Result<(), StoreError> {
        self.run("RELEASE SAVEPOINT entry").await
    }

    async fn rollback_to_savepoint(&mut self) -> Result<(), StoreError> {
        self.run("ROLLBACK TO SAVEPOINT entry").await?;
        self.run("RELEASE SAVEPOINT entry").await
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

    async fn fraud_counts(&mut self, query: &FraudCountsQuery) -> Result<FraudCounts, StoreError> {
        let Some(ip) = query.client_ip else {
            return Ok(FraudCounts::default());
        };
        let row = sqlx::query(sql::IP_COUNTS.as_str())
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
        sqlx::query(sql::INSERT_DELIVERY)
            .bind(new.webhook_id.as_str())
            .bind(new.endpoint_id)
            .bind(new.entry_id.0)
            .bind(new.event_type.as_str())
            .bind(new.body)
            .bind(status)
            .bind(due)
            .bind(new.now)
            .bind(new.shows_answer)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
