//! Campaigns and their entry methods.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use protocol::admin::{
    Campaign, CampaignChanges, CouponPool, EntryMethod, EntryMethodChanges, NewCampaign,
    NewCoupons, NewEntryMethod, Page,
};
use protocol::ids::EntryMethodId;
use serde::Deserialize;

use super::{AdminState, Body, Caller, PageRequest, Params};
use crate::api::ApiError;
use crate::campaigns::{self, Invalid};
use crate::clock;
use crate::store::{CampaignRecord, EntryMethodRecord};

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    cursor: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/campaigns`.
pub async fn list(
    State(state): State<AdminState>,
    caller: Caller,
    Params(query): Params<ListQuery>,
) -> Result<Json<Page<Campaign>>, ApiError> {
    let page = PageRequest::new(query.cursor.as_deref(), query.limit)?;
    let campaigns = state
        .store
        .workspace_campaigns(caller.workspace.id, page.before, page.limit)
        .await?;
    Ok(Json(page.page(
        campaigns,
        |campaign| campaign.id,
        |campaign| wire(&state, &campaign),
    )))
}

/// `POST /api/v1/campaigns`: 201 with the campaign; 409 `key_taken` if its key is in use
/// (by any workspace: keys are public and unique).
pub async fn create(
    State(state): State<AdminState>,
    caller: Caller,
    Body(new): Body<NewCampaign>,
) -> Result<Response, ApiError> {
    let campaign = campaigns::new_campaign(&new, caller.workspace.id)?;
    let created = state
        .store
        .insert_campaign(&campaign, clock::now_millis())
        .await?
        .map_err(|_| {
            ApiError::Conflict(
                "key_taken",
                format!(
                    "The key {} is taken: choose another, or leave it out for a new one.",
                    campaign.key
                ),
            )
        })?;
    Ok((StatusCode::CREATED, Json(wire(&state, &created))).into_response())
}

/// `GET /api/v1/campaigns/{key}`.
pub async fn get(
    State(state): State<AdminState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Campaign>, ApiError> {
    let campaign = find(&state, &caller, &key).await?;
    Ok(Json(wire(&state, &campaign)))
}

/// `PATCH /api/v1/campaigns/{key}`: changes the fields given, including `status` (pause with
/// `paused`, end with `ended`, start with `running`).
pub async fn change(
    State(state): State<AdminState>,
    caller: Caller,
    Path(key): Path<String>,
    Body(changes): Body<CampaignChanges>,
) -> Result<Json<Campaign>, ApiError> {
    let current = find(&state, &caller, &key).await?;
    let changed = campaigns::changed_campaign(&current, &changes)?;
    state
        .store
        .update_campaign(current.id, &changed, clock::now_millis())
        .await?;
    let campaign = find(&state, &caller, &key).await?;
    Ok(Json(wire(&state, &campaign)))
}

/// `POST /api/v1/campaigns/{key}/entry-methods`: 201 with the method.
pub async fn add_entry_method(
    State(state): State<AdminState>,
    caller: Caller,
    Path(key): Path<String>,
    Body(new): Body<NewEntryMethod>,
) -> Result<Response, ApiError> {
    let campaign = find(&state, &caller, &key).await?;
    let (method, position) = campaigns::new_entry_method(&new)?;
    let position = position.unwrap_or_else(|| {
        campaign
            .entry_methods
            .iter()
            .map(|method| method.position + 1)
            .max()
            .unwrap_or(0)
    });
    let id = state
        .store
        .add_entry_method(campaign.id, &method, position, clock::now_millis())
        .await?;
    let method = find_method(&state, &caller, &key, id).await?;
    Ok((StatusCode::CREATED, Json(method_wire(&method))).into_response())
}

/// `PATCH /api/v1/campaigns/{key}/entry-methods/{id}`.
pub async fn change_entry_method(
    State(state): State<AdminState>,
    caller: Caller,
    Path((key, id)): Path<(String, i64)>,
    Body(changes): Body<EntryMethodChanges>,
) -> Result<Json<EntryMethod>, ApiError> {
    let id = EntryMethodId(id);
    let campaign = find(&state, &caller, &key).await?;
    let current = campaign
        .entry_methods
        .iter()
        .find(|method| method.id == id)
        .ok_or(ApiError::NotFound("entry method"))?;
    let (method, position) = campaigns::changed_entry_method(current, &changes)?;
    state
        .store
        .update_entry_method(campaign.id, id, &method, position, clock::now_millis())
        .await?;
    Ok(Json(method_wire(
        &find_method(&state, &caller, &key, id).await?,
    )))
}

/// `DELETE /api/v1/campaigns/{key}/entry-methods/{id}`: removes the method from the
/// campaign; the entries made through it stay.
pub async fn remove_entry_method(
    State(state): State<AdminState>,
    caller: Caller,
    Path((key, id)): Path<(String, i64)>,
) -> Result<StatusCode, ApiError> {
    let campaign = find(&state, &caller, &key).await?;
    if state
        .store
        .archive_entry_method(campaign.id, EntryMethodId(id), clock::now_millis())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("entry method"))
    }
}

/// Longest coupon code.
const MAX_COUPON_LEN: usize = 100;
/// Most codes one request adds.
const MAX_COUPONS_PER_REQUEST: usize = 10_000;

/// `GET /api/v1/campaigns/{key}/coupons`: how many codes are free and handed out.
pub async fn coupons(
    State(state): State<AdminState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<CouponPool>, ApiError> {
    let campaign = find(&state, &caller, &key).await?;
    let counts = state.store.coupon_counts(campaign.id).await?;
    Ok(Json(CouponPool {
        added: 0,
        available: counts.available,
        assigned: counts.assigned,
    }))
}

/// `POST /api/v1/campaigns/{key}/coupons`: adds codes to the pool.
pub async fn add_coupons(
    State(state): State<AdminState>,
    caller: Caller,
    Path(key): Path<String>,
    Body(new): Body<NewCoupons>,
) -> Result<Json<CouponPool>, ApiError> {
    let campaign = find(&state, &caller, &key).await?;
    if new.codes.len() > MAX_COUPONS_PER_REQUEST {
        return Err(Invalid {
            field: "codes".to_owned(),
            detail: format!("At most {MAX_COUPONS_PER_REQUEST} codes at a time."),
        }
        .into());
    }
    let mut codes: Vec<String> = Vec::with_capacity(new.codes.len());
    for (index, code) in new.codes.iter().enumerate() {
        let code = code.trim();
        if code.is_empty() {
            continue;
        }
        if code.chars().count() > MAX_COUPON_LEN || code.chars().any(char::is_control) {
            return Err(Invalid {
                field: format!("codes[{index}]"),
                detail: format!(
                    "A code is at most {MAX_COUPON_LEN} characters, without control characters."
                ),
            }
            .into());
        }
        codes.push(code.to_owned());
    }
    let added = state
        .store
        .add_coupons(campaign.id, &codes, clock::now_millis())
        .await?;
    let counts = state.store.coupon_counts(campaign.id).await?;
    Ok(Json(CouponPool {
        added,
        available: counts.available,
        assigned: counts.assigned,
    }))
}

/// The caller's campaign `key`, or 404.
pub(super) async fn find(
    state: &AdminState,
    caller: &Caller,
    key: &str,
) -> Result<CampaignRecord, ApiError> {
    state
        .store
        .workspace_campaign(caller.workspace.id, key)
        .await?
        .ok_or(ApiError::NotFound("campaign"))
}

async fn find_method(
    state: &AdminState,
    caller: &Caller,
    key: &str,
    id: EntryMethodId,
) -> Result<EntryMethodRecord, ApiError> {
    find(state, caller, key)
        .await?
        .entry_methods
        .into_iter()
        .find(|method| method.id == id)
        .ok_or(ApiError::NotFound("entry method"))
}

fn wire(state: &AdminState, campaign: &CampaignRecord) -> Campaign {
    let base_url = &state.base_url;
    let key = &campaign.key;
    Campaign {
        key: key.clone(),
        name: campaign.name.clone(),
        campaign_type: campaign.campaign_type,
        status: campaign.status,
        description: campaign.description.clone(),
        consent_text: campaign.consent_text.clone(),
        starts_at: campaign.starts_at.map(clock::rfc3339),
        ends_at: campaign.ends_at.map(clock::rfc3339),
        allowed_origins: campaign.allowed_origins.clone(),
        image_url: campaign.image_url.clone(),
        fraud_level: campaign.fraud_level.as_str().to_owned(),
        hold_window_seconds: u32::try_from(campaign.hold_window_ms / 1000).unwrap_or(u32::MAX),
        settings: campaign.settings.clone(),
        entry_methods: campaign.entry_methods.iter().map(method_wire).collect(),
        embed_snippet: format!(
            "<div class=\"hookline-campaign\" data-campaign=\"{key}\"></div>\n\
             <script async src=\"{base_url}/widget/hookline.js\"></script>"
        ),
        hosted_url: format!("{base_url}/c/{key}"),
        created_at: clock::rfc3339(campaign.created_at),
        updated_at: clock::rfc3339(campaign.updated_at.max(campaign.created_at)),
    }
}

fn method_wire(method: &EntryMethodRecord) -> EntryMethod {
    EntryMethod {
        id: method.id,
        method_type: method.method_type,
        action: method.action.clone(),
        worth: method.worth,
        mandatory: method.mandatory,
        daily: method.daily,
        config: method.config.clone(),
        position: method.position,
    }
}
