//! `POST /hooks/in/{stream_key}`: conversions from a shop, form tool or CRM (seed 001).
//!
//! The body is parsed by [`crate::inbound`] (JSON or form data; the Content-Type must match),
//! stored with its `conversion.received` deliveries in one transaction, and published to the
//! widgets showing it. Bad input gets its error and stores nothing.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use protocol::payload::{ConversionBody, ConversionPayload, StreamRef, format_created_at};
use protocol::signature::{DEFAULT_TOLERANCE_SECONDS, SigningSecret, verify};
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::ApiError;
use crate::clock;
use crate::inbound::{self, Conversion, MAX_BODY_BYTES};
use crate::social::Activity;
use crate::store::{NewConversion, Store, Stored, StreamRecord};

/// What the inbound hook needs.
#[derive(Debug, Clone)]
pub struct InboundState {
    pub store: Store,
    pub activity: Activity,
    /// Woken when deliveries are queued.
    pub deliveries_queued: Arc<Notify>,
}

/// `POST /hooks/in/{stream_key}`: 201 `{id, status: "created"}`, or 200 `{id, status:
/// "duplicate"}` when a signed request's `webhook-id` was received before.
pub async fn receive(
    State(state): State<InboundState>,
    Path(stream_key): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let stream = state
        .store
        .stream_by_key(&stream_key)
        .await?
        .ok_or(ApiError::NotFound("stream"))?;
    if !stream.enabled {
        return Err(ApiError::Conflict(
            "stream_disabled",
            "This stream is switched off; its owner can switch it on again.".to_owned(),
        ));
    }
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::Inbound(inbound::InboundError::BodyTooLarge),
        _ => ApiError::UnreadableBody,
    })?;
    let now = clock::now_millis();
    let webhook_id = check_signature(&stream, &headers, &body, now)?;
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    let conversion = inbound::parse(content_type, &body, now).map_err(ApiError::Inbound)?;
    let new = new_conversion(&stream, &conversion, webhook_id, now);
    let payload_stream = StreamRef {
        id: stream.public_id.clone(),
        name: stream.name.clone(),
    };
    let stored = state
        .store
        .insert_conversion(
            &new,
            |id| webhook_body(&payload_stream, &new, id),
            || crate::ingest::new_message_id(now).to_string(),
        )
        .await?;
    Ok(match stored {
        Stored::Created(id) => {
            state.deliveries_queued.notify_waiters();
            state.activity.conversion_received(id).await;
            (
                StatusCode::CREATED,
                Json(json!({"id": id, "status": "created"})),
            )
                .into_response()
        }
        Stored::Existing(id) => (
            StatusCode::OK,
            Json(json!({"id": id, "status": "duplicate"})),
        )
            .into_response(),
    })
}

/// For a stream that requires signatures: checks the Standard Webhooks headers and returns
/// the `webhook-id` (retries of one message share it). Unsigned streams take anything.
fn check_signature(
    stream: &StreamRecord,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<Option<String>, ApiError> {
    let Some(secret) = &stream.signing_secret else {
        return Ok(None);
    };
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let (Some(id), Some(timestamp), Some(signature)) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    ) else {
        return Err(ApiError::InvalidSignature(
            "This stream takes signed requests only: send webhook-id, webhook-timestamp and webhook-signature (Standard Webhooks)."
                .to_owned(),
        ));
    };
    let secret = SigningSecret::parse(secret).map_err(|_| {
        ApiError::Store(crate::store::StoreError::Corrupt {
            column: "streams.signing_secret",
            value: String::new(),
        })
    })?;
    verify(
        &secret,
        id,
        timestamp,
        signature,
        body,
        now.div_euclid(1000),
        DEFAULT_TOLERANCE_SECONDS,
    )
    .map_err(|error| {
        ApiError::InvalidSignature(format!("The signature does not verify: {error}."))
    })?;
    Ok(Some(id.to_owned()))
}

fn new_conversion(
    stream: &StreamRecord,
    conversion: &Conversion,
    webhook_id: Option<String>,
    now: i64,
) -> NewConversion {
    let purchase = conversion.purchase.as_ref();
    let shown = conversion.shown_product.as_ref();
    let products: Vec<Value> = conversion
        .products
        .iter()
        .map(|product| {
            json!({
                "id": product.id,
                "name": product.name,
                "link": product.link,
                "image": product.image,
                "price": product.price.as_ref().map(|price| price.as_str().to_owned()),
                "quantity": product.quantity,
            })
        })
        .collect();
    let location = &conversion.location;
    NewConversion {
        stream_id: stream.id,
        workspace_id: stream.workspace_id,
        email: conversion.email.clone(),
        first_name: conversion.first_name.clone(),
        last_name: conversion.last_name.clone(),
        occurred_at: conversion.occurred_at_ms,
        ip: conversion.ip.map(|ip| ip.to_string()),
        guid: conversion.guid.clone(),
        city: location.city.clone(),
        country: location.country.clone(),
        country_code: location.country_code.clone(),
        state: location.state.clone(),
        state_code: location.state_code.clone(),
        product_name: shown.map(|product| product.name.clone()),
        product_link: shown.and_then(|product| product.link.clone()),
        product_image: shown.and_then(|product| product.image.clone()),
        total: purchase
            .and_then(|purchase| purchase.total.as_ref())
            .map(|total| total.as_str().to_owned()),
        currency: purchase.and_then(|purchase| purchase.currency.clone()),
        products: Value::from(products),
        raw: conversion.raw.clone(),
        body_format: match conversion.format {
            inbound::BodyFormat::Json => "json",
            inbound::BodyFormat::Form => "form",
        },
        webhook_id,
        received_at: now,
    }
}

/// The `conversion.received` body for conversion `id`.
fn webhook_body(stream: &StreamRef, new: &NewConversion, id: i64) -> String {
    let payload = ConversionPayload {
        stream: stream.clone(),
        conversion: ConversionBody {
            id,
            email: new.email.clone(),
            first_name: new.first_name.clone(),
            last_name: new.last_name.clone(),
            occurred_at: format_created_at(new.occurred_at.div_euclid(1000)),
            ip: new.ip.clone(),
            guid: new.guid.clone(),
            city: new.city.clone(),
            country: new.country.clone(),
            country_code: new.country_code.clone(),
            state: new.state.clone(),
            state_code: new.state_code.clone(),
            product_name: new.product_name.clone(),
            product_link: new.product_link.clone(),
            product_image: new.product_image.clone(),
            total: new.total.clone(),
            currency: new.currency.clone(),
            products: new.products.clone(),
            raw: new.raw.clone(),
        },
    };
    serde_json::to_string(&payload).expect("a conversion payload serialises")
}

/// The largest body the hook reads (413 beyond).
pub const MAX_INBOUND_BODY_BYTES: usize = MAX_BODY_BYTES;
