//! The delivery history: deliveries (filtered by endpoint, event, entry, outcome and time),
//! each with its frozen body and every attempt with the request it sent; retrying one.

use axum::Json;
use axum::extract::{Path, State};
use protocol::admin::Page;
use protocol::admin::webhooks::{Attempt, Delivery, DeliveryDetail, RequestRecord};
use protocol::ids::{AttemptId, DeliveryId, EndpointId, EntryId, JobId};
use serde::Deserialize;

use super::{AdminState, Caller, PageRequest, Params};
use crate::answers::ReceiverAnswer;
use crate::api::ApiError;
use crate::clock;
use crate::delivery::SAME_BODY;
use crate::store::{AttemptRecord, DeliveryFilter, DeliveryRecord};

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    cursor: Option<String>,
    limit: Option<u32>,
    endpoint_id: Option<String>,
    event: Option<String>,
    entry_id: Option<i64>,
    /// `delivered`, `failed` or `pending`.
    outcome: Option<String>,
    since: Option<String>,
    until: Option<String>,
    /// `job_…`: the deliveries that job made.
    job_id: Option<String>,
}

fn time_param(name: &str, value: Option<&str>) -> Result<Option<i64>, ApiError> {
    value
        .map(|text| {
            clock::parse_rfc3339(text).ok_or_else(|| {
                ApiError::InvalidQuery(format!("{name} must be an RFC 3339 time, not {text:?}"))
            })
        })
        .transpose()
}

/// `GET /api/v1/deliveries`: newest first.
pub async fn list(
    State(state): State<AdminState>,
    caller: Caller,
    Params(query): Params<ListQuery>,
) -> Result<Json<Page<Delivery>>, ApiError> {
    let page = PageRequest::new(query.cursor.as_deref(), query.limit)?;
    let endpoint_id = match &query.endpoint_id {
        Some(id) => Some(super::endpoints::find(&state, &caller, id).await?.id),
        None => None,
    };
    if let Some(outcome) = &query.outcome
        && !matches!(outcome.as_str(), "delivered" | "failed" | "pending")
    {
        return Err(ApiError::InvalidQuery(format!(
            "outcome must be delivered, failed or pending, not {outcome:?}"
        )));
    }
    let job_id = match &query.job_id {
        Some(id) => Some(super::jobs::find(&state, &caller, id).await?.id),
        None => None,
    };
    let filter = DeliveryFilter {
        endpoint_id,
        job_id,
        event_type: query.event.clone(),
        entry_id: query.entry_id,
        outcome: query.outcome.clone(),
        since: time_param("since", query.since.as_deref())?,
        until: time_param("until", query.until.as_deref())?,
        before: page.before,
    };
    let deliveries = state
        .store
        .workspace_deliveries(caller.workspace.id, &filter, page.limit)
        .await?;
    Ok(Json(page.page(deliveries, |delivery| delivery.id, wire)))
}

/// `GET /api/v1/deliveries/{id}`.
pub async fn get(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<DeliveryDetail>, ApiError> {
    let id = row_id(&id)?;
    let (delivery, body) = state
        .store
        .workspace_delivery(caller.workspace.id, id)
        .await?
        .ok_or(ApiError::NotFound("delivery"))?;
    let attempts = state.store.delivery_attempts(id).await?;
    let attempts = attempts
        .into_iter()
        .map(|attempt| attempt_wire(attempt, &body))
        .collect();
    Ok(Json(DeliveryDetail {
        delivery: wire(delivery),
        body,
        attempts,
    }))
}

/// `POST /api/v1/deliveries/{id}/retry`: due now, even if it was given up (or cancelled,
/// or delivered: then it is sent again). 409 if its endpoint is deleted.
pub async fn retry(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Delivery>, ApiError> {
    let row = row_id(&id)?;
    let (delivery, _) = state
        .store
        .workspace_delivery(caller.workspace.id, row)
        .await?
        .ok_or(ApiError::NotFound("delivery"))?;
    if !state
        .store
        .retry_delivery(caller.workspace.id, row, clock::now_millis())
        .await?
    {
        return Err(ApiError::Conflict(
            "endpoint_deleted",
            format!(
                "The endpoint {} is deleted: restore it first.",
                delivery.endpoint_public_id
            ),
        ));
    }
    state.deliveries_queued.notify_waiters();
    let (delivery, _) = state
        .store
        .workspace_delivery(caller.workspace.id, row)
        .await?
        .ok_or(ApiError::NotFound("delivery"))?;
    Ok(Json(wire(delivery)))
}

/// The row id in `dlv_<n>`.
fn row_id(id: &str) -> Result<i64, ApiError> {
    id.strip_prefix(DeliveryId::PREFIX)
        .and_then(|n| n.parse().ok())
        .ok_or(ApiError::NotFound("delivery"))
}

fn wire(delivery: DeliveryRecord) -> Delivery {
    let waiting = matches!(delivery.status.as_str(), "pending" | "held");
    Delivery {
        id: DeliveryId::from_suffix(&delivery.id.to_string()),
        webhook_id: delivery.webhook_id,
        endpoint_id: EndpointId::parse(&delivery.endpoint_public_id)
            .unwrap_or_else(|| EndpointId::from_suffix("unknown")),
        event_type: delivery.event_type,
        entry_id: delivery.entry_id.map(EntryId),
        n_attempts: u32::try_from(delivery.n_attempts).unwrap_or(0),
        next_attempt_at: waiting.then(|| clock::rfc3339(delivery.next_attempt_at)),
        status: delivery.status,
        created_at: clock::rfc3339(delivery.created_at),
        delivered_at: delivery.delivered_at.map(clock::rfc3339),
        last_status_code: delivery
            .last_status_code
            .and_then(|code| u16::try_from(code).ok()),
        receiver_answer: (delivery.n_attempts > 0).then(|| {
            let status = delivery
                .last_status_code
                .and_then(|code| u16::try_from(code).ok());
            ReceiverAnswer::of(status).as_str().to_owned()
        }),
        last_error_kind: delivery.last_error_kind,
        job_id: delivery.job_public_id.as_deref().and_then(JobId::parse),
    }
}

/// A recorded request, with the delivery's `body` put back where it was left out.
fn request_wire(stored: &str, body: &str) -> Option<RequestRecord> {
    let value: serde_json::Value = serde_json::from_str(stored).ok()?;
    let same_body = value.get(SAME_BODY).and_then(serde_json::Value::as_bool) == Some(true);
    let mut request: RequestRecord = serde_json::from_value(value).ok()?;
    if same_body {
        body.clone_into(&mut request.body);
    }
    Some(request)
}

fn attempt_wire(attempt: AttemptRecord, body: &str) -> Attempt {
    Attempt {
        id: AttemptId::from_suffix(&attempt.id.to_string()),
        started_at: clock::rfc3339(attempt.started_at),
        status_code: attempt.status_code,
        latency_ms: u64::try_from(attempt.latency_ms).unwrap_or(0),
        response_snippet: attempt.response_snippet,
        error_kind: attempt.error_kind,
        batch_size: attempt.batch_size,
        request: attempt
            .request
            .and_then(|request| request_wire(&request, body)),
    }
}
