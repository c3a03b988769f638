//! The public API the widget calls, cross-origin: the campaign, posting an entry, and a
//! returning contestant's status.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use std::time::Duration;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ORIGIN};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use futures_util::{Stream, StreamExt as _, future, stream};
use protocol::campaign::{CampaignType, EntryMethodType, PublicCampaign, PublicEntryMethod};
use protocol::entry::EntryPost;
use protocol::ids::CampaignKey;
use protocol::social::{NOTIFICATION_EVENT, PublicSocialProof, SUMMARY_EVENT};
use tokio_stream::wrappers::BroadcastStream;
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::error::ApiError;
use super::{AppState, MAX_ENTRY_BODY_BYTES};
use crate::campaigns;
use crate::clock;
use crate::ingest::{IngestError, Recorded};
use crate::limits;
use crate::social;
use crate::store::{CampaignRecord, EntryMethodRecord, Store};

/// `GET /api/v1/public/campaigns/{key}`.
pub async fn get_campaign(
    State(state): State<Arc<AppState>>,
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
pub async fn post_entry(
    State(state): State<Arc<AppState>>,
    Path(key): Path<String>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let answered = record_entry(&state, key, peer, &headers, body).await;
    match &answered {
        Ok(Recorded::Created(answer)) => state
            .metrics
            .entry_accepted(&answer.response.entry.entry_type),
        Ok(Recorded::Replayed(_)) => state.metrics.entry_replayed(),
        Err(error) => state.metrics.entry_refused(error.code()),
    }
    Ok(match answered? {
        Recorded::Created(answer) => (StatusCode::CREATED, Json(answer)).into_response(),
        Recorded::Replayed(answer) => (StatusCode::OK, Json(answer)).into_response(),
    })
}

async fn record_entry(
    state: &AppState,
    key: String,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Recorded, ApiError> {
    let client_ip = client_ip(state, peer, headers);
    let origin = headers.get(ORIGIN).and_then(|value| value.to_str().ok());
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(MAX_ENTRY_BODY_BYTES),
        _ => ApiError::UnreadableBody,
    })?;
    let key = CampaignKey::parse(&key).ok_or(ApiError::CampaignNotFound)?;
    let post: EntryPost =
        serde_json::from_slice(&body).map_err(|error| ApiError::InvalidJson(error.to_string()))?;
    Ok(state
        .ingest
        .record_entry(
            &key,
            &post,
            client_ip,
            origin,
            &state.base_url,
            clock::now_millis(),
        )
        .await?)
}

/// The query of the status route.
#[derive(Debug, serde::Deserialize)]
pub struct StatusQuery {
    #[serde(default)]
    token: String,
}

/// `GET /api/v1/public/campaigns/{key}/contestant?token=ctk_…`: a returning contestant's
/// status (`protocol::entry::ContestantStatus`), for the holder of their session token;
/// 404 `contestant_not_found` for a token unknown in this campaign. Never cached: it is
/// personal.
pub async fn contestant_status(
    State(state): State<Arc<AppState>>,
    Path(key): Path<String>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    query: Result<Query<StatusQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let key = CampaignKey::parse(&key).ok_or(ApiError::CampaignNotFound)?;
    let Query(query) = query.map_err(|rejection| ApiError::InvalidQuery(rejection.body_text()))?;
    state
        .ingest
        .limits()
        .check_address(client_ip(&state, peer, &headers))
        .map_err(IngestError::RateLimited)?;
    let status = state
        .ingest
        .contestant_status(&key, &query.token, &state.base_url, clock::now_millis())
        .await?;
    Ok((
        [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(status),
    )
        .into_response())
}

/// The client's IP: the connecting peer's, or from `X-Forwarded-For` when the peer is one of
/// the operator's trusted proxies (anyone else can forge it). Absent only when the router is
/// served without connect info.
fn client_ip(
    state: &AppState,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: &HeaderMap,
) -> Option<IpAddr> {
    let forwarded_for = headers
        .get("x-forwarded-for")
        .and_then(|value| value.to_str().ok());
    peer.map(|Extension(ConnectInfo(address))| {
        limits::client_ip(address.ip(), forwarded_for, &state.trusted_proxies)
    })
}

/// CORS for the public routes, per campaign: a page at an origin the campaign allows (any
/// origin when it lists none) gets its own origin echoed back (`Vary: Origin`), never with
/// credentials; an unknown campaign's answer (a 404) is readable by any page, so a widget can
/// say what is wrong. Preflights are answered the same way and cached for a day, though the
/// widget's posts are CORS-safelisted and need none.
pub fn cors(store: Store) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::async_predicate(
            move |origin: HeaderValue, parts: &Parts| {
                let store = store.clone();
                let key = campaign_key_of(parts.uri.path());
                async move {
                    let Some(key) = key else { return true };
                    match store
                        .recent_campaign_by_key(&key, clock::now_millis())
                        .await
                    {
                        Ok(Some(campaign)) => campaigns::origin_allowed(
                            &campaign.allowed_origins,
                            origin.to_str().ok(),
                        ),
                        Ok(None) => true,
                        // The request itself will fail and say so; the browser may read it.
                        Err(_) => true,
                    }
                }
            },
        ))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([CONTENT_TYPE])
        .max_age(Duration::from_secs(24 * 60 * 60))
}

/// The campaign key in a public route's path (`/api/v1/public/campaigns/{key}/…`).
fn campaign_key_of(path: &str) -> Option<CampaignKey> {
    let rest = path.strip_prefix("/api/v1/public/campaigns/")?;
    CampaignKey::parse(rest.split('/').next()?)
}

/// The campaign as the widget sees it, stamped with `now` (see `PublicCampaign::issued_at`).
pub(super) fn public_campaign(campaign: CampaignRecord, now: i64) -> PublicCampaign {
    let social_proof = Some(social::settings(&campaign))
        .filter(|settings| settings.enabled)
        .map(|settings| PublicSocialProof::from(&settings));
    let reward = match campaign.campaign_type {
        CampaignType::Reward => settings(campaign.settings.get("reward")),
        _ => None,
    };
    let capture = match campaign.campaign_type {
        CampaignType::Capture => settings(campaign.settings.get("capture")),
        _ => None,
    };
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
            .map(public_entry_method)
            .collect(),
        issued_at: now,
        starts_at: campaign.starts_at,
        ends_at: campaign.ends_at,
        image_url: campaign.image_url,
        reward,
        capture,
        social_proof,
    }
}

/// Settings read as their public type; invalid ones (a hand edit) read as absent, never as an
/// error, and fields the public type does not name (a secret code) are left behind.
fn settings<T: serde::de::DeserializeOwned>(value: Option<&serde_json::Value>) -> Option<T> {
    value.and_then(|value| T::deserialize(value).ok())
}

/// An entry method as the widget sees it: its settings from its `config`, read as its type's
/// public settings (which leave out what stays on the server, like a secret code).
fn public_entry_method(method: EntryMethodRecord) -> PublicEntryMethod {
    let config = Some(&method.config);
    let mut public = PublicEntryMethod {
        id: method.id,
        method_type: method.method_type,
        action: method.action.clone(),
        worth: method.worth,
        mandatory: method.mandatory,
        daily: method.daily,
        custom_question: None,
        visit_url: None,
        secret_code: None,
        social_follow: None,
        upload: None,
    };
    match method.method_type {
        EntryMethodType::CustomQuestion => public.custom_question = settings(config),
        EntryMethodType::VisitUrl => public.visit_url = settings(config),
        EntryMethodType::SecretCode => public.secret_code = settings(config),
        EntryMethodType::SocialFollow => public.social_follow = settings(config),
        EntryMethodType::Upload => public.upload = settings(config),
        EntryMethodType::EmailSubscribe | EntryMethodType::Referral => {}
    }
    public
}

/// `GET /api/v1/public/campaigns/{key}/activity`: Server-Sent Events for the campaign's
/// social proof: a `summary` event ("124 people entered today"), the most recent
/// notifications, then each new one as it happens. 404 when the campaign does not show
/// social proof. One connection per widget; nothing is polled. The first event sets the
/// browser's reconnection delay (`retry`), spread at random so a restart is not a stampede.
pub async fn activity(
    State(state): State<Arc<AppState>>,
    Path(key): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, axum::Error>>>, ApiError> {
    let key = CampaignKey::parse(&key).ok_or(ApiError::CampaignNotFound)?;
    let now = clock::now_millis();
    let campaign = state
        .store
        .recent_campaign_by_key(&key, now)
        .await?
        .ok_or(ApiError::CampaignNotFound)?;
    let settings = social::settings(&campaign);
    if !settings.enabled {
        return Err(ApiError::NotFound("social proof feed for this campaign"));
    }
    // Subscribed before reading the recent ones, so nothing falls between the two.
    let live = state.activity.subscribe(campaign.id);
    let (summary, recent) = social::recent(&state.store, &campaign, &settings, now).await?;
    let summary = Event::default()
        .event(SUMMARY_EVENT)
        .retry(social::reconnect_after())
        .json_data(summary);
    let first = std::iter::once(summary).chain(recent.into_iter().map(|notification| {
        Event::default()
            .event(NOTIFICATION_EVENT)
            .id(notification.id.clone())
            .json_data(notification)
    }));
    let live = BroadcastStream::new(live).filter_map(|item| {
        future::ready(item.ok().map(|notification| {
            Event::default()
                .event(NOTIFICATION_EVENT)
                .id(notification.id.clone())
                .json_data(&*notification)
        }))
    });
    let mut shutdown = state.shutdown.clone();
    let stopped = async move {
        // Errs only if the server is gone, which is a stop too.
        let _ = shutdown.wait_for(|stopped| *stopped).await;
    };
    let events = stream::iter(first).chain(live).take_until(stopped);
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
