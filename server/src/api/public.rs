//! The public API the widget calls, cross-origin: the campaign, and posting an entry.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use protocol::campaign::{PublicCampaign, PublicEntryMethod};
use protocol::entry::EntryRequest;
use protocol::ids::CampaignKey;

use super::error::ApiError;
use super::{AppState, MAX_ENTRY_BODY_BYTES};
use crate::clock;
use crate::ingest::Recorded;
use crate::store::CampaignRecord;

/// `GET /api/v1/public/campaigns/{key}`.
pub async fn get_campaign(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<PublicCampaign>, ApiError> {
    let key = CampaignKey::parse(&key).ok_or(ApiError::CampaignNotFound)?;
    let campaign = state
        .store
        .campaign_by_key(&key)
        .await?
        .ok_or(ApiError::CampaignNotFound)?;
    Ok(Json(public_campaign(campaign, clock::now_millis())))
}

/// `POST /api/v1/public/campaigns/{key}/entries`. The body is JSON whatever the content type
/// says: the widget sends `text/plain` so that browsers skip the CORS preflight.
///
/// The client's IP is the connecting peer's: `X-Forwarded-For` is not trusted (anyone can
/// send it). It is absent only when the router is served without connect info.
pub async fn post_entry(
    State(state): State<AppState>,
    Path(key): Path<String>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let client_ip = peer.map(|Extension(ConnectInfo(address))| address.ip());
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(MAX_ENTRY_BODY_BYTES),
        _ => ApiError::UnreadableBody,
    })?;
    let key = CampaignKey::parse(&key).ok_or(ApiError::CampaignNotFound)?;
    let request: EntryRequest =
        serde_json::from_slice(&body).map_err(|error| ApiError::InvalidJson(error.to_string()))?;
    Ok(
        match state
            .ingest
            .record_entry(&key, &request, client_ip, clock::now_millis())
            .await?
        {
            Recorded::Created(response) => (StatusCode::CREATED, Json(response)).into_response(),
            Recorded::Replayed(response) => (StatusCode::OK, Json(response)).into_response(),
        },
    )
}

/// The campaign as the widget sees it, stamped with `now` (see `PublicCampaign::issued_at`).
/// The store has no schedule, image, reward, capture display or per-method settings yet:
/// those are answered with their defaults until it does.
pub(super) fn public_campaign(campaign: CampaignRecord, now: i64) -> PublicCampaign {
    PublicCampaign {
        key: campaign.key,
        name: campaign.name,
        campaign_type: campaign.campaign_type,
        status: campaign.status,
        description: campaign.description,
        consent_text: campaign.consent_text,
        entry_methods: campaign
            .entry_methods
            .into_iter()
            .map(|method| PublicEntryMethod {
                id: method.id,
                method_type: method.method_type,
                action: method.action,
                worth: method.worth,
                mandatory: method.mandatory,
                daily: false,
                custom_question: None,
                visit_url: None,
                secret_code: None,
                social_follow: None,
                upload: None,
            })
            .collect(),
        issued_at: now,
        starts_at: None,
        ends_at: None,
        image_url: String::new(),
        reward: None,
        capture: None,
        social_proof: false,
    }
}
