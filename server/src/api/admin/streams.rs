//! Inbound streams (`/api/v1/streams…`) and the conversions they received.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use protocol::admin::{Conversion, NewStream, Page, Stream, StreamChanges};
use protocol::signature::SigningSecret;
use rand::distr::{Alphanumeric, SampleString as _};
use serde::Deserialize;

use super::{AdminState, Body, Caller, PageRequest, Params};
use crate::api::ApiError;
use crate::campaigns::{Invalid, MAX_NAME_LEN};
use crate::clock;
use crate::store::{self, ConversionRow, StreamRecord};

/// `GET /api/v1/streams`.
pub async fn list(
    State(state): State<AdminState>,
    caller: Caller,
) -> Result<Json<Vec<Stream>>, ApiError> {
    let streams = state.store.workspace_streams(caller.workspace.id).await?;
    Ok(Json(
        streams.iter().map(|stream| wire(&state, stream)).collect(),
    ))
}

/// `POST /api/v1/streams`: 201 with the stream, its URL and (if signed) its secret.
pub async fn create(
    State(state): State<AdminState>,
    caller: Caller,
    Body(new): Body<NewStream>,
) -> Result<Response, ApiError> {
    let name = name(&new.name)?;
    let campaigns = campaign_keys(&state, &caller, &new.campaigns).await?;
    let secret = new.signed.then(new_secret);
    let public_id = format!("st_{}", random(16));
    let stream_key = random(32);
    let stream = state
        .store
        .insert_stream(&store::NewStream {
            workspace_id: caller.workspace.id,
            public_id: &public_id,
            name: &name,
            stream_key: &stream_key,
            signing_secret: secret.as_deref(),
            campaign_keys: &campaigns,
            enabled: true,
            now: clock::now_millis(),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(wire(&state, &stream))).into_response())
}

/// `GET /api/v1/streams/{id}`.
pub async fn get(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Stream>, ApiError> {
    Ok(Json(wire(&state, &find(&state, &caller, &id).await?)))
}

/// `PATCH /api/v1/streams/{id}`.
pub async fn change(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(changes): Body<StreamChanges>,
) -> Result<Json<Stream>, ApiError> {
    let current = find(&state, &caller, &id).await?;
    let name = match &changes.name {
        Some(changed) => self::name(changed)?,
        None => current.name.clone(),
    };
    let campaigns = match &changes.campaigns {
        Some(keys) => campaign_keys(&state, &caller, keys).await?,
        None => current.campaign_keys.clone(),
    };
    let secret = match changes.signed {
        Some(true) => Some(new_secret()),
        Some(false) => None,
        None => current.signing_secret.clone(),
    };
    state
        .store
        .update_stream(
            current.id,
            &store::NewStream {
                workspace_id: current.workspace_id,
                public_id: &current.public_id,
                name: &name,
                stream_key: &current.stream_key,
                signing_secret: secret.as_deref(),
                campaign_keys: &campaigns,
                enabled: changes.enabled.unwrap_or(current.enabled),
                now: clock::now_millis(),
            },
        )
        .await?;
    Ok(Json(wire(&state, &find(&state, &caller, &id).await?)))
}

/// `DELETE /api/v1/streams/{id}`: its URL stops taking conversions; those received stay.
pub async fn delete(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let stream = find(&state, &caller, &id).await?;
    state
        .store
        .delete_stream(stream.id, clock::now_millis())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct ConversionQuery {
    cursor: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/streams/{id}/conversions`.
pub async fn conversions(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(query): Params<ConversionQuery>,
) -> Result<Json<Page<Conversion>>, ApiError> {
    let stream = find(&state, &caller, &id).await?;
    let page = PageRequest::new(query.cursor.as_deref(), query.limit)?;
    let rows = state
        .store
        .stream_conversions(stream.id, page.before, page.limit)
        .await?;
    Ok(Json(page.page(
        rows,
        |row| row.id,
        |row| conversion_wire(&stream, row),
    )))
}

async fn find(state: &AdminState, caller: &Caller, id: &str) -> Result<StreamRecord, ApiError> {
    state
        .store
        .workspace_stream(caller.workspace.id, id)
        .await?
        .ok_or(ApiError::NotFound("stream"))
}

fn name(name: &str) -> Result<String, Invalid> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(Invalid {
            field: "name".to_owned(),
            detail: format!("A name is 1 to {MAX_NAME_LEN} characters."),
        });
    }
    Ok(name.to_owned())
}

/// `keys`, each a campaign of the caller's workspace.
async fn campaign_keys(
    state: &AdminState,
    caller: &Caller,
    keys: &[String],
) -> Result<Vec<String>, ApiError> {
    let mut checked = Vec::with_capacity(keys.len());
    for (index, key) in keys.iter().enumerate() {
        let key = key.trim();
        if state
            .store
            .workspace_campaign(caller.workspace.id, key)
            .await?
            .is_none()
        {
            return Err(Invalid {
                field: format!("campaigns[{index}]"),
                detail: format!("The workspace has no campaign {key:?}."),
            }
            .into());
        }
        if !checked.iter().any(|known| known == key) {
            checked.push(key.to_owned());
        }
    }
    Ok(checked)
}

fn random(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rng(), len)
}

fn new_secret() -> String {
    let mut key = [0_u8; 32];
    rand::fill(&mut key);
    SigningSecret::from_bytes(&key).to_whsec()
}

fn wire(state: &AdminState, stream: &StreamRecord) -> Stream {
    Stream {
        id: stream.public_id.clone(),
        name: stream.name.clone(),
        url: format!("{}/hooks/in/{}", state.base_url, stream.stream_key),
        enabled: stream.enabled,
        campaigns: stream.campaign_keys.clone(),
        signing_secret: stream.signing_secret.clone(),
        created_at: clock::rfc3339(stream.created_at),
        updated_at: clock::rfc3339(stream.updated_at),
    }
}

fn conversion_wire(stream: &StreamRecord, row: ConversionRow) -> Conversion {
    let json = |text: &str| serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
    Conversion {
        id: row.id,
        stream: stream.public_id.clone(),
        products: json(&row.products),
        raw: json(&row.raw),
        email: row.email,
        first_name: row.first_name,
        last_name: row.last_name,
        occurred_at: clock::rfc3339(row.occurred_at),
        ip: row.ip,
        guid: row.guid,
        city: row.city,
        country: row.country,
        country_code: row.country_code,
        state: row.state,
        state_code: row.state_code,
        product_name: row.product_name,
        product_link: row.product_link,
        product_image: row.product_image,
        total: row.total,
        currency: row.currency,
        received_at: clock::rfc3339(row.received_at),
    }
}
