//! What a widget asks for after an entry: the data-source deliveries queued with one answer
//! token, and how far each has got (its first try, and its first successful answer).

use super::{Store, StoreError, with_pool};

/// A data-source delivery of an entry, as the answer route reads it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AnswerDelivery {
    pub delivery_id: i64,
    pub created_at: i64,
    pub status: String,
    pub n_attempts: i64,
    /// The entry's campaign.
    pub campaign_key: String,
    /// The endpoint's data-source settings (JSON); `None` if it stopped being one.
    pub data_source: Option<String>,
    /// The first 2xx answer's stored body (the first 4 KiB), if one came.
    pub answer: Option<String>,
}

impl Store {
    /// The deliveries queued with the answer token whose hash is `token_hash`.
    pub async fn answer_deliveries(
        &self,
        token_hash: &str,
    ) -> Result<Vec<AnswerDelivery>, StoreError> {
        Ok(with_pool!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT d.id AS delivery_id, d.created_at, d.status, d.n_attempts, k.campaign_key,
                        ep.data_source,
                        (SELECT a.response_snippet FROM attempts a
                         WHERE a.delivery_id = d.id AND a.status_code BETWEEN 200 AND 299
                         ORDER BY a.id LIMIT 1) AS answer
                 FROM deliveries d
                 JOIN endpoints ep ON ep.id = d.endpoint_id
                 JOIN entries e ON e.id = d.entry_id
                 JOIN campaigns k ON k.id = e.campaign_id
                 WHERE d.answer_token = $1
                 ORDER BY d.id",
            )
            .bind(token_hash)
            .fetch_all(pool)
            .await?
        }))
    }
}
