//! Jobs (`/api/v1/jobs…`): manual, one-time and recurring sends of a campaign's entries to an
//! endpoint, their progress and cancelling one; and the audience preview
//! (`/api/v1/endpoints/audience-preview`), which tries an audience on the workspace's latest
//! entries.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use protocol::admin::Page;
use protocol::admin::webhooks::{
    AudiencePreview, AudiencePreviewRequest, FieldProblem, Job, NewJob,
};
use protocol::ids::EntryId;
use serde::Deserialize;

use super::{AdminState, Body, Caller, PageRequest, Params};
use crate::api::ApiError;
use crate::clock;
use crate::endpoints::{self, InvalidSettings};
use crate::jobs;
use crate::store::{EntryBodyQuery, JobRecord};

/// Entries the preview tries an audience on unless asked, and at most.
const DEFAULT_SAMPLE: u32 = 50;
const MAX_SAMPLE: u32 = 1000;
/// Matching entries the preview names.
const SHOWN_MATCHES: usize = 10;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    cursor: Option<String>,
    limit: Option<u32>,
    /// `ep_…`: that endpoint's jobs only.
    endpoint_id: Option<String>,
}

/// `GET /api/v1/jobs`: newest first.
pub async fn list(
    State(state): State<AdminState>,
    caller: Caller,
    Params(query): Params<ListQuery>,
) -> Result<Json<Page<Job>>, ApiError> {
    let page = PageRequest::new(query.cursor.as_deref(), query.limit)?;
    let endpoint_id = match &query.endpoint_id {
        Some(id) => Some(super::endpoints::find(&state, &caller, id).await?.id),
        None => None,
    };
    let records = state
        .store
        .workspace_jobs(caller.workspace.id, endpoint_id, page.before, page.limit)
        .await?;
    let mut wired = Vec::with_capacity(records.len());
    for record in records {
        let id = record.id;
        wired.push((id, wire(&state, &record).await?));
    }
    Ok(Json(page.page(wired, |(id, _)| *id, |(_, job)| job)))
}

/// `POST /api/v1/jobs`: 201 with the job; a manual one starts at once.
pub async fn create(
    State(state): State<AdminState>,
    caller: Caller,
    Body(new): Body<NewJob>,
) -> Result<Response, ApiError> {
    let endpoint = super::endpoints::find(&state, &caller, &new.endpoint_id)
        .await
        .map_err(|_| invalid("endpoint_id", "this workspace has no endpoint with this id"))?;
    if endpoint.deleted_at.is_some() {
        return Err(invalid(
            "endpoint_id",
            "this endpoint is deleted: restore it first",
        ));
    }
    let campaign = state
        .store
        .workspace_campaign(caller.workspace.id, &new.campaign)
        .await?
        .ok_or_else(|| invalid("campaign", "this workspace has no campaign with this key"))?;
    if endpoint
        .campaign_ids
        .as_ref()
        .is_some_and(|ids| !ids.contains(&campaign.id))
    {
        return Err(invalid(
            "campaign",
            "the endpoint does not take this campaign's events; add it to the endpoint's campaigns",
        ));
    }
    let spec = endpoints::spec_of(&endpoint)
        .map_err(|problem| ApiError::Conflict("endpoint_unusable", problem))?;
    let now = clock::now_millis();
    let run_at = new
        .run_at
        .as_deref()
        .map(|text| clock::parse_rfc3339(text).ok_or_else(|| text.to_owned()));
    let plan = jobs::plan(&new.kind, run_at, new.every.as_deref(), &spec, now)?;
    let record = state
        .store
        .insert_job(&crate::store::NewJob {
            public_id: &jobs::new_job_id(),
            workspace_id: caller.workspace.id,
            endpoint_id: endpoint.id,
            campaign_id: campaign.id,
            kind: plan.kind,
            every: plan.every,
            next_run_at: plan.run_at,
            now,
        })
        .await?;
    state.jobs_queued.notify_waiters();
    Ok((StatusCode::CREATED, Json(wire(&state, &record).await?)).into_response())
}

/// `GET /api/v1/jobs/{id}`: with its progress.
pub async fn get(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    let record = find(&state, &caller, &id).await?;
    Ok(Json(wire(&state, &record).await?))
}

/// `POST /api/v1/jobs/{id}/cancel`: it stops queuing, and its deliveries not yet sent are
/// cancelled; 409 `job_finished` if it had completed (or was cancelled).
pub async fn cancel(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    let record = find(&state, &caller, &id).await?;
    state
        .store
        .cancel_job(record.id, clock::now_millis())
        .await?
        .ok_or_else(|| {
            ApiError::Conflict("job_finished", "This job has finished already.".into())
        })?;
    let cancelled = find(&state, &caller, &id).await?;
    Ok(Json(wire(&state, &cancelled).await?))
}

/// `POST /api/v1/endpoints/audience-preview`: how many of the workspace's latest entries
/// (of some campaigns, if named) the audience lets through.
pub async fn preview(
    State(state): State<AdminState>,
    caller: Caller,
    Body(request): Body<AudiencePreviewRequest>,
) -> Result<Json<AudiencePreview>, ApiError> {
    let filter = endpoints::parse_audience(&request.audience)
        .map_err(|problems| ApiError::InvalidSettings(InvalidSettings(problems)))?;
    let sample = request.sample.unwrap_or(DEFAULT_SAMPLE);
    if !(1..=MAX_SAMPLE).contains(&sample) {
        return Err(invalid("sample", &format!("must be 1 to {MAX_SAMPLE}")));
    }
    let campaign_ids = match &request.campaigns {
        None => None,
        Some(keys) => {
            let known = state
                .store
                .workspace_campaign_keys(caller.workspace.id)
                .await?;
            let mut ids = Vec::with_capacity(keys.len());
            for (index, key) in keys.iter().enumerate() {
                match known.iter().find(|(_, known)| known.as_str() == key) {
                    Some((id, _)) => ids.push(*id),
                    None => {
                        return Err(invalid(
                            &format!("campaigns.{index}"),
                            &format!("this workspace has no campaign {key:?}"),
                        ));
                    }
                }
            }
            Some(ids)
        }
    };
    let rows = state
        .store
        .entry_bodies(&EntryBodyQuery {
            workspace_id: Some(caller.workspace.id),
            campaign_ids: campaign_ids.as_deref(),
            after_id: 0,
            up_to_id: None,
            not_queued_by: None,
            newest_first: true,
            limit: sample,
        })
        .await?;
    let mut matched = Vec::new();
    for row in &rows {
        if jobs::passes(&filter, &jobs::entry_body(row)?) {
            matched.push(EntryId(row.id));
        }
    }
    Ok(Json(AudiencePreview {
        matched: u32::try_from(matched.len()).unwrap_or(u32::MAX),
        total: u32::try_from(rows.len()).unwrap_or(u32::MAX),
        matched_entry_ids: matched.into_iter().take(SHOWN_MATCHES).collect(),
    }))
}

fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::InvalidSettings(InvalidSettings(vec![FieldProblem {
        field: field.to_owned(),
        message: message.to_owned(),
        line: None,
        column: None,
    }]))
}

/// The caller's job `id`, or 404.
pub(super) async fn find(
    state: &AdminState,
    caller: &Caller,
    id: &str,
) -> Result<JobRecord, ApiError> {
    state
        .store
        .workspace_job(caller.workspace.id, id)
        .await?
        .ok_or(ApiError::NotFound("job"))
}

async fn wire(state: &AdminState, record: &JobRecord) -> Result<Job, ApiError> {
    Ok(jobs::view(&state.store, record).await?)
}
