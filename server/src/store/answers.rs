//! What the entry's answer waits for: the data sources' deliveries of one entry, and how far
//! each has got (its first try, and its first successful answer).

use super::{Store, StoreError, with_pool};

/// A data source's delivery of an entry, as the entry's answer waits for it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AnswerDelivery {
    pub delivery_id: i64,
    pub created_at: i64,
    pub status: String,
    pub n_attempts: i64,
    /// The endpoint's data-source settings (JSON); `None` if it stopped being one.
    pub data_source: Option<String>,
    /// The first 2xx answer's stored body (the first 4 KiB), if one came.
    pub answer: Option<String>,
}

impl Store {
    /// Entry `entry_id`'s deliveries whose answer the contestant is shown.
    pub async fn answer_deliveries(
        &self,
        entry_id: i64,
    ) -> Result<Vec<AnswerDelivery>, StoreError> {
        Ok(with_pool!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT d.id AS delivery_id, d.created_at, d.status, d.n_attempts, ep.data_source,
                        (SELECT a.response_snippet FROM attempts a
                         WHERE a.delivery_id = d.id AND a.status_code BETWEEN 200 AND 299
                         ORDER BY a.id LIMIT 1) AS answer
                 FROM deliveries d JOIN endpoints ep ON ep.id = d.endpoint_id
                 WHERE d.entry_id = $1 AND d.shows_answer
                 ORDER BY d.id",
            )
            .bind(entry_id)
            .fetch_all(pool)
            .await?
        }))
    }
}
