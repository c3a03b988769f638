//! Webhook endpoints: settings (checked on save, then a test request), soft delete and
//! restore, the signing secret (shown on creation, on `…/secret`, and rotated with a grace
//! period), send test, the example request, and retrying failed deliveries.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use protocol::admin::Page;
use protocol::admin::webhooks::{
    Endpoint, EndpointChanges, EndpointSaved, NewEndpoint, RequestRecord, Retried, RetryFailed,
    RotateSecret, SendTest, SigningSecrets, TestOutcome,
};
use protocol::ids::{CampaignKey, MessageId};
use protocol::payload::{self, EventType};
use serde::Deserialize;

use super::{AdminState, Body, Caller, OptionalBody, PageRequest, Params};
use crate::api::ApiError;
use crate::clock;
use crate::destination::DestinationError;
use crate::endpoints::{
    self, Checked, DEFAULT_ROTATION_GRACE_SECONDS, Found, InvalidSettings, Settings,
};
use crate::outbound::{self, CompiledEndpoint, OutboundEvent};
use crate::store::{EndpointRecord, EndpointSettings};

/// How far back the success rate looks.
const STATS_WINDOW_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    cursor: Option<String>,
    limit: Option<u32>,
    /// `true`: the deleted endpoints instead.
    #[serde(default)]
    deleted: bool,
}

/// `GET /api/v1/endpoints` (`?deleted=true` for the deleted ones).
pub async fn list(
    State(state): State<AdminState>,
    caller: Caller,
    Params(query): Params<ListQuery>,
) -> Result<Json<Page<Endpoint>>, ApiError> {
    let page = PageRequest::new(query.cursor.as_deref(), query.limit)?;
    let records = state
        .store
        .workspace_endpoints(caller.workspace.id, query.deleted, page.before, page.limit)
        .await?;
    let mut wired = Vec::with_capacity(records.len());
    for record in records {
        let id = record.id;
        wired.push((id, wire(&state, &caller, &record).await?));
    }
    Ok(Json(page.page(
        wired,
        |(id, _)| *id,
        |(_, endpoint)| endpoint,
    )))
}

/// `POST /api/v1/endpoints`: 201 with the endpoint, its signing secret (this once) and the
/// test request's outcome.
pub async fn create(
    State(state): State<AdminState>,
    caller: Caller,
    Body(new): Body<NewEndpoint>,
) -> Result<Response, ApiError> {
    let settings = Settings::from_new(&new)?;
    let checked = check(&state, &caller, &settings).await?;
    let now = clock::now_millis();
    let secret = endpoints::new_signing_secret();
    let record = state
        .store
        .insert_endpoint(
            caller.workspace.id,
            &endpoints::new_endpoint_id(),
            &secret,
            &to_store(&settings, &checked),
            now,
        )
        .await?;
    let test = if new.test_on_save.unwrap_or(true) {
        Some(
            test_request(
                &state,
                &record,
                &checked.compiled,
                EventType::WebhookTest,
                &outbound::sample_body(),
            )
            .await?,
        )
    } else {
        None
    };
    let saved = EndpointSaved {
        endpoint: wire(&state, &caller, &record).await?,
        signing_secret: Some(secret),
        test,
    };
    Ok((StatusCode::CREATED, Json(saved)).into_response())
}

/// `GET /api/v1/endpoints/{id}` (deleted ones too).
pub async fn get(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Endpoint>, ApiError> {
    let record = find(&state, &caller, &id).await?;
    Ok(Json(wire(&state, &caller, &record).await?))
}

/// `PATCH /api/v1/endpoints/{id}`: the fields given change; the whole is checked again and
/// a test request sent (unless `test_on_save` is false).
pub async fn change(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(changes): Body<EndpointChanges>,
) -> Result<Json<EndpointSaved>, ApiError> {
    let current = find_live(&state, &caller, &id).await?;
    let settings = current_settings(&state, &caller, &current)
        .await?
        .changed(&changes)?;
    let checked = check(&state, &caller, &settings).await?;
    let reenable = changes.status.as_deref() == Some("active");
    let record = state
        .store
        .update_endpoint(
            current.id,
            &to_store(&settings, &checked),
            reenable,
            clock::now_millis(),
        )
        .await?
        .ok_or(ApiError::NotFound("endpoint"))?;
    let test = if changes.test_on_save.unwrap_or(true) {
        Some(
            test_request(
                &state,
                &record,
                &checked.compiled,
                EventType::WebhookTest,
                &outbound::sample_body(),
            )
            .await?,
        )
    } else {
        None
    };
    Ok(Json(EndpointSaved {
        endpoint: wire(&state, &caller, &record).await?,
        signing_secret: None,
        test,
    }))
}

/// `DELETE /api/v1/endpoints/{id}`: soft delete; its pending deliveries are cancelled.
pub async fn delete(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let record = find_live(&state, &caller, &id).await?;
    state
        .store
        .delete_endpoint(record.id, clock::now_millis())
        .await?
        .ok_or(ApiError::NotFound("endpoint"))?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/endpoints/{id}/restore`: a deleted endpoint back as it was.
pub async fn restore(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Endpoint>, ApiError> {
    let record = find(&state, &caller, &id).await?;
    let restored = state
        .store
        .restore_endpoint(record.id, clock::now_millis())
        .await?
        .ok_or_else(|| {
            ApiError::Conflict(
                "endpoint_not_deleted",
                "This endpoint is not deleted.".into(),
            )
        })?;
    Ok(Json(wire(&state, &caller, &restored).await?))
}

/// `GET /api/v1/endpoints/{id}/secret`: the signing secret(s) to verify with.
pub async fn secret(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<SigningSecrets>, ApiError> {
    let record = find(&state, &caller, &id).await?;
    Ok(Json(secrets(&record, clock::now_millis())))
}

/// `POST /api/v1/endpoints/{id}/rotate-secret`: a new secret; the previous one signs too for
/// the grace period (24 h unless given).
pub async fn rotate_secret(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalBody(body): OptionalBody<RotateSecret>,
) -> Result<Json<SigningSecrets>, ApiError> {
    let record = find_live(&state, &caller, &id).await?;
    let grace = body
        .and_then(|rotate| rotate.grace_period_seconds)
        .unwrap_or(DEFAULT_ROTATION_GRACE_SECONDS);
    let now = clock::now_millis();
    let until = (grace > 0)
        .then(|| now.saturating_add(i64::try_from(grace.saturating_mul(1000)).unwrap_or(i64::MAX)));
    let rotated = state
        .store
        .rotate_endpoint_secret(record.id, &endpoints::new_signing_secret(), until, now)
        .await?
        .ok_or(ApiError::NotFound("endpoint"))?;
    Ok(Json(secrets(&rotated, now)))
}

/// `POST /api/v1/endpoints/{id}/test`: sends the sample payload, or a real entry's, now.
pub async fn send_test(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalBody(body): OptionalBody<SendTest>,
) -> Result<Json<TestOutcome>, ApiError> {
    let record = find_live(&state, &caller, &id).await?;
    let request = body.unwrap_or_default();
    let event = parse_event(request.event.as_deref())?;
    let body = match request.entry_id {
        None => outbound::sample_body(),
        Some(entry_id) => entry_body(&state, &caller, entry_id).await?,
    };
    let sendable = state.delivery.sendable(record.clone()).await?;
    let compiled = sendable.compiled.as_ref().map_err(|problem| {
        ApiError::Conflict(
            "endpoint_unusable",
            format!("This endpoint cannot send: {problem}"),
        )
    })?;
    let outcome = state
        .delivery
        .send_test(&sendable, compiled, event, &body, clock::now_millis())
        .await;
    Ok(Json(outcome))
}

#[derive(Debug, Deserialize)]
pub struct ExampleQuery {
    event: Option<String>,
}

/// `GET /api/v1/endpoints/{id}/example?event=entry.created`: the exact request that event
/// would produce now (the sample payload; credentials redacted).
pub async fn example(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(query): Params<ExampleQuery>,
) -> Result<Json<RequestRecord>, ApiError> {
    let record = find(&state, &caller, &id).await?;
    let event = match query.event.as_deref() {
        None => record
            .events
            .first()
            .copied()
            .unwrap_or(EventType::EntryCreated),
        Some(name) => parse_event(Some(name))?,
    };
    let sendable = state.delivery.sendable(record).await?;
    let compiled = sendable.compiled.as_ref().map_err(|problem| {
        ApiError::Conflict(
            "endpoint_unusable",
            format!("This endpoint cannot send: {problem}"),
        )
    })?;
    let now = clock::now_millis();
    let signing = sendable
        .signing_secrets(now)
        .map_err(|problem| ApiError::Conflict("endpoint_unusable", problem))?;
    let body = outbound::sample_body();
    let request = compiled
        .build(
            &MessageId::from_suffix("example"),
            &[OutboundEvent {
                event_type: event,
                body: &body,
            }],
            &signing,
            now.div_euclid(1000),
        )
        .map_err(|error| ApiError::Conflict("endpoint_unusable", error.to_string()))?;
    Ok(Json(endpoints::request_record(&request)))
}

/// `POST /api/v1/endpoints/{id}/retry-failed`: every delivery of it that was given up,
/// created since `since`, is due again now.
pub async fn retry_failed(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(request): Body<RetryFailed>,
) -> Result<Json<Retried>, ApiError> {
    let record = find_live(&state, &caller, &id).await?;
    let since = clock::parse_rfc3339(&request.since).ok_or_else(|| {
        invalid(
            "since",
            "must be an RFC 3339 time, like 2026-12-01T00:00:00Z",
        )
    })?;
    let retried = state
        .store
        .retry_failed_deliveries(record.id, since, clock::now_millis())
        .await?;
    if retried > 0 {
        state.deliveries_queued.notify_waiters();
    }
    Ok(Json(Retried { retried }))
}

fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::InvalidSettings(InvalidSettings(vec![
        protocol::admin::webhooks::FieldProblem {
            field: field.to_owned(),
            message: message.to_owned(),
            line: None,
            column: None,
        },
    ]))
}

fn parse_event(name: Option<&str>) -> Result<EventType, ApiError> {
    match name {
        None => Ok(EventType::WebhookTest),
        Some(name) => {
            EventType::parse(name).ok_or_else(|| invalid("event", "is not an event type"))
        }
    }
}

fn secrets(record: &EndpointRecord, now: i64) -> SigningSecrets {
    let previous_valid = record
        .previous_secret_expires_at
        .is_some_and(|until| until > now);
    SigningSecrets {
        signing_secret: record.secret.clone(),
        previous_secret: record.previous_secret.clone().filter(|_| previous_valid),
        previous_secret_expires_at: record
            .previous_secret_expires_at
            .filter(|_| previous_valid)
            .map(clock::rfc3339),
    }
}

/// The caller's endpoint `id` (deleted ones too), or 404.
pub(super) async fn find(
    state: &AdminState,
    caller: &Caller,
    id: &str,
) -> Result<EndpointRecord, ApiError> {
    state
        .store
        .workspace_endpoint(caller.workspace.id, id)
        .await?
        .ok_or(ApiError::NotFound("endpoint"))
}

/// Like [`find`], but a deleted endpoint is a 409 `endpoint_deleted`.
async fn find_live(
    state: &AdminState,
    caller: &Caller,
    id: &str,
) -> Result<EndpointRecord, ApiError> {
    let record = find(state, caller, id).await?;
    if record.deleted_at.is_some() {
        return Err(ApiError::Conflict(
            "endpoint_deleted",
            "This endpoint is deleted: restore it first.".into(),
        ));
    }
    Ok(record)
}

/// The settings a stored endpoint has, as a `PATCH` starts from.
async fn current_settings(
    state: &AdminState,
    caller: &Caller,
    record: &EndpointRecord,
) -> Result<Settings, ApiError> {
    let keys = campaign_keys(state, caller, record).await?;
    let connector = match record.auth_connector_id {
        Some(id) => state.store.auth_connector(id).await?.map(|c| c.public_id),
        None => None,
    };
    Settings::of_record(
        record,
        keys.map(|keys| keys.iter().map(|key| key.as_str().to_owned()).collect()),
        connector.as_ref(),
    )
    .map_err(|problem| ApiError::Conflict("endpoint_unusable", problem))
}

/// Looks up what the settings name (campaigns, connector) and checks everything, including
/// where the URL leads.
async fn check(
    state: &AdminState,
    caller: &Caller,
    settings: &Settings,
) -> Result<Checked, ApiError> {
    let keys = state
        .store
        .workspace_campaign_keys(caller.workspace.id)
        .await?;
    let campaign_ids = settings
        .campaigns
        .iter()
        .flatten()
        .map(|wanted| {
            keys.iter()
                .find(|(_, key)| key.as_str() == wanted)
                .map(|(id, _)| *id)
        })
        .collect();
    let mut found = Found {
        campaign_ids,
        connector: None,
        connector_missing: false,
    };
    if let Some(public_id) = &settings.auth_connector_id {
        match state
            .store
            .workspace_auth_connector(caller.workspace.id, public_id)
            .await?
        {
            Some(connector) => {
                let auth = endpoints::connector_auth(state.delivery.master_key(), &connector)
                    .map_err(|problem| ApiError::Conflict("connector_unusable", problem))?;
                found.connector = Some((connector.id, auth));
            }
            None => found.connector_missing = true,
        }
    }
    let checked = endpoints::check(settings, found, state.delivery.allow_http())?;
    check_destination(state, &checked.compiled).await?;
    Ok(checked)
}

/// Refuses a URL whose host is, or resolves to, an address the rules refuse. A host that
/// cannot be resolved now is left to the test request (and every send checks again).
async fn check_destination(
    state: &AdminState,
    compiled: &CompiledEndpoint,
) -> Result<(), ApiError> {
    let body = outbound::sample_body();
    let secret = protocol::signature::SigningSecret::from_bytes(&[0; 32]);
    let Ok(request) = compiled.build(
        &MessageId::from_suffix("check"),
        &[OutboundEvent {
            event_type: EventType::WebhookTest,
            body: &body,
        }],
        &[secret],
        0,
    ) else {
        return Ok(());
    };
    let Ok(url) = reqwest::Url::parse(&request.url) else {
        return Ok(());
    };
    match state.delivery.destinations().check_url(&url).await {
        Err(error @ DestinationError::Blocked { .. }) => {
            Err(endpoints::blocked_url(&error.to_string()).into())
        }
        _ => Ok(()),
    }
}

fn to_store<'a>(settings: &'a Settings, checked: &'a Checked) -> EndpointSettings<'a> {
    EndpointSettings {
        name: settings.name.trim(),
        description: &settings.description,
        url: &settings.spec.url,
        spec: &checked.spec_json,
        events: &checked.events,
        campaign_ids: checked.campaign_ids.as_deref(),
        active: checked.active,
        auth_connector_id: checked.auth_connector_id,
        strict_order: settings.strict_order,
        retry_schedule: settings.retry_schedule.as_deref(),
        max_attempts: settings.max_attempts,
        rate_limit_per_second: settings.rate_limit_per_second,
        max_concurrency: settings.max_concurrency,
        batch_max: checked.batch_max,
        audience: checked.audience_json.as_deref(),
        data_source: checked.data_source_json.as_deref(),
    }
}

/// Sends a test request to the saved endpoint.
async fn test_request(
    state: &AdminState,
    record: &EndpointRecord,
    compiled: &CompiledEndpoint,
    event: EventType,
    body: &str,
) -> Result<TestOutcome, ApiError> {
    let sendable = state.delivery.sendable(record.clone()).await?;
    Ok(state
        .delivery
        .send_test(&sendable, compiled, event, body, clock::now_millis())
        .await)
}

/// The keys of the campaigns an endpoint takes (`None`: all).
async fn campaign_keys(
    state: &AdminState,
    caller: &Caller,
    record: &EndpointRecord,
) -> Result<Option<Vec<CampaignKey>>, ApiError> {
    let Some(ids) = &record.campaign_ids else {
        return Ok(None);
    };
    let keys = state
        .store
        .workspace_campaign_keys(caller.workspace.id)
        .await?;
    Ok(Some(
        ids.iter()
            .filter_map(|id| {
                keys.iter()
                    .find(|(candidate, _)| candidate == id)
                    .map(|(_, key)| key.clone())
            })
            .collect(),
    ))
}

/// An endpoint on the wire, with its recent success rate.
pub(super) async fn wire(
    state: &AdminState,
    caller: &Caller,
    record: &EndpointRecord,
) -> Result<Endpoint, ApiError> {
    let campaigns = campaign_keys(state, caller, record).await?;
    let connector = match record.auth_connector_id {
        Some(id) => state.store.auth_connector(id).await?.map(|c| c.public_id),
        None => None,
    };
    let stats = state
        .store
        .endpoint_attempt_stats(record.id, clock::now_millis() - STATS_WINDOW_MS)
        .await?;
    Ok(endpoints::endpoint_wire(
        record, campaigns, connector, stats,
    ))
}

/// The webhook body of entry `entry_id` of the caller's workspace: as queued for a
/// delivery of it, or made afresh from the stored entry if none was.
async fn entry_body(
    state: &AdminState,
    caller: &Caller,
    entry_id: i64,
) -> Result<String, ApiError> {
    if let Some(body) = state
        .store
        .entry_webhook_body(caller.workspace.id, entry_id)
        .await?
    {
        return Ok(body);
    }
    let entry = state
        .store
        .workspace_entry(caller.workspace.id, entry_id)
        .await?
        .ok_or(ApiError::NotFound("entry"))?;
    let campaign = state
        .store
        .workspace_campaign(caller.workspace.id, entry.campaign_key.as_str())
        .await?
        .ok_or(ApiError::NotFound("entry"))?;
    let actions_completed = state
        .store
        .workspace_contestant(caller.workspace.id, entry.contestant_id)
        .await?
        .map_or(1, |contestant| contestant.actions_completed);
    let payload = payload::EntryPayload {
        campaign: payload::CampaignRef {
            name: campaign.name.clone(),
            key: campaign.key.clone(),
            campaign_type: campaign.campaign_type,
        },
        reward: None,
        coupon: None,
        user: payload::User {
            name: entry.name.clone(),
            first_name: entry.first_name.clone(),
            last_name: entry.last_name.clone(),
            email: entry.email.clone(),
            country: String::new(),
            region: String::new(),
            city: String::new(),
            country_code: String::new(),
            actions_completed,
            details: entry.details.clone(),
        },
        entry: payload::Entry {
            id: entry.id,
            entry_method_id: entry.entry_method_id,
            action: entry.action.clone(),
            created_at: payload::format_created_at(entry.created_at.div_euclid(1000)),
            entry_type: entry.method_type.clone(),
            value: entry.value.clone(),
            worth: entry.worth,
            landing_url: entry.landing_url.clone(),
            referring_url: entry.referring_url.clone(),
            upload: None,
        },
        social_links: Vec::new(),
    };
    // An EntryPayload serialises: its maps have string keys.
    serde_json::to_string(&payload).map_err(|_| ApiError::NotFound("entry"))
}
