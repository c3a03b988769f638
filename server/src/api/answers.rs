//! `GET /api/v1/public/campaigns/{key}/answers/{token}`: what a data-source endpoint
//! answered to the contestant's entry, for the widget to show (a personal promo code, say).
//!
//! The entry's answer comes back at once with a token; the widget asks here, and this route
//! waits (looking at the database every [`LOOK_EVERY`], so any server process of several
//! answers it) until every data-source delivery of the entry has had its first try, or until
//! the endpoints' timeout since the entry has passed. The entry route itself never waits on a
//! receiver.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use protocol::entry::PublicAnswer;
use protocol::ids::{AnswerToken, CampaignKey};

use super::AppState;
use super::error::ApiError;
use crate::answers::{self, Outcome, SourceTry};
use crate::clock;
use crate::endpoints::DataSourceSettings;

/// How often the route looks for the answer while it waits.
const LOOK_EVERY: Duration = Duration::from_millis(25);

pub async fn get_answer(
    State(state): State<AppState>,
    Path((key, token)): Path<(String, String)>,
) -> Result<Json<PublicAnswer>, ApiError> {
    let not_found = || ApiError::NotFound("answer");
    let key = CampaignKey::parse(&key).ok_or(ApiError::CampaignNotFound)?;
    let token = AnswerToken::parse(&token).ok_or_else(not_found)?;
    let hash = answers::token_hash(&token);
    loop {
        let deliveries = state.store.answer_deliveries(&hash).await?;
        if deliveries.is_empty()
            || deliveries
                .iter()
                .any(|delivery| delivery.campaign_key != key.as_str())
        {
            return Err(not_found());
        }
        let tries: Vec<SourceTry> = deliveries
            .iter()
            .map(|delivery| {
                let settings = delivery
                    .data_source
                    .as_deref()
                    .and_then(|text| serde_json::from_str::<DataSourceSettings>(text).ok());
                SourceTry {
                    created_at: delivery.created_at,
                    timeout_ms: settings.as_ref().map_or(0, |settings| settings.timeout_ms),
                    tried: delivery.n_attempts > 0 || delivery.status != "pending",
                    fields: match (&delivery.answer, &settings) {
                        (Some(answer), Some(settings)) => {
                            answers::chosen_fields(answer, &settings.fields)
                        }
                        _ => None,
                    },
                }
            })
            .collect();
        let now = clock::now_millis();
        match answers::decide(&tries, now) {
            Outcome::Ready { status, fields } => {
                return Ok(Json(PublicAnswer {
                    status: status.to_owned(),
                    fields,
                }));
            }
            Outcome::Wait { until } => {
                let left = Duration::from_millis(u64::try_from(until - now).unwrap_or(0));
                let mut shutdown = state.shutdown.clone();
                tokio::select! {
                    () = tokio::time::sleep(left.min(LOOK_EVERY)) => {}
                    // The server is stopping: answer with what there is now.
                    _ = shutdown.wait_for(|stopped| *stopped) => {
                        return Ok(Json(PublicAnswer {
                            status: "timeout".to_owned(),
                            fields: std::collections::BTreeMap::new(),
                        }));
                    }
                }
            }
        }
    }
}
