//! The admin API: `/api/v1/…` for site owners' tools and the console, with a workspace's API
//! key (`Authorization: Bearer hlk_…`). Every object belongs to one workspace; another
//! workspace's objects answer 404, as if they did not exist.
//!
//! Handlers parse, call `campaigns` (the rules) and `store`, and turn records into
//! `protocol::admin` types. The OpenAPI document describing every route is served at
//! `/api/v1/openapi.json`.

mod campaigns;
mod connectors;
mod deliveries;
mod endpoints;
mod entries;
mod jobs;
mod streams;
mod workspaces;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put};
use serde::de::DeserializeOwned;

use super::ApiError;
use crate::clock;
use crate::delivery::DeliveryWorker;
use crate::store::{Store, WorkspaceRecord};
use tokio::sync::Notify;

/// The admin API's description, kept beside the routes (a test checks they agree).
pub const OPENAPI: &str = include_str!("../../../openapi.json");
/// Largest admin request body.
pub const MAX_ADMIN_BODY_BYTES: usize = 256 * 1024;
/// Items per page unless `?limit=` says otherwise, and the most it may say.
const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;

/// What the admin handlers share.
#[derive(Debug, Clone)]
pub struct AdminState {
    pub store: Store,
    /// This server's URL as people reach it, for embed snippets and hosted page links.
    pub base_url: Arc<str>,
    /// `HOOKLINE_OPERATOR_KEY`: lets its holder create workspaces beyond the first.
    pub operator_key: Option<Arc<str>>,
    /// Sends test requests, and holds the master key and the address rules.
    pub delivery: DeliveryWorker,
    /// Wakes the delivery loop when a retry makes deliveries due.
    pub deliveries_queued: Arc<Notify>,
    /// Wakes the job runner when a job is made.
    pub jobs_queued: Arc<Notify>,
}

pub fn routes(state: AdminState) -> Router {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/setup", post(workspaces::setup))
        .route("/api/v1/workspaces", post(workspaces::create))
        .route(
            "/api/v1/workspace",
            get(workspaces::current).patch(workspaces::rename),
        )
        .route(
            "/api/v1/api-keys",
            get(workspaces::keys).post(workspaces::create_key),
        )
        .route("/api/v1/api-keys/{id}", delete(workspaces::revoke_key))
        .route(
            "/api/v1/campaigns",
            get(campaigns::list).post(campaigns::create),
        )
        .route(
            "/api/v1/campaigns/{key}",
            get(campaigns::get).patch(campaigns::change),
        )
        .route(
            "/api/v1/campaigns/{key}/entry-methods",
            post(campaigns::add_entry_method),
        )
        .route(
            "/api/v1/campaigns/{key}/entry-methods/{id}",
            patch(campaigns::change_entry_method).delete(campaigns::remove_entry_method),
        )
        .route(
            "/api/v1/campaigns/{key}/coupons",
            get(campaigns::coupons).post(campaigns::add_coupons),
        )
        .route(
            "/api/v1/campaigns/{key}/contestants",
            get(entries::contestants),
        )
        .route(
            "/api/v1/contestants/{id}",
            get(entries::contestant).delete(entries::delete_contestant),
        )
        .route("/api/v1/streams", get(streams::list).post(streams::create))
        .route(
            "/api/v1/streams/{id}",
            get(streams::get)
                .patch(streams::change)
                .delete(streams::delete),
        )
        .route(
            "/api/v1/streams/{id}/conversions",
            get(streams::conversions),
        )
        .route("/api/v1/entries", get(entries::list))
        .route("/api/v1/entries/export.csv", get(entries::export_csv))
        .route("/api/v1/entries/{id}", get(entries::get))
        .route("/api/v1/entries/{id}/verdict", put(entries::set_verdict))
        .route(
            "/api/v1/endpoints",
            get(endpoints::list).post(endpoints::create),
        )
        .route("/api/v1/endpoints/audience-preview", post(jobs::preview))
        .route(
            "/api/v1/endpoints/{id}",
            get(endpoints::get)
                .patch(endpoints::change)
                .delete(endpoints::delete),
        )
        .route("/api/v1/endpoints/{id}/restore", post(endpoints::restore))
        .route("/api/v1/endpoints/{id}/secret", get(endpoints::secret))
        .route(
            "/api/v1/endpoints/{id}/rotate-secret",
            post(endpoints::rotate_secret),
        )
        .route("/api/v1/endpoints/{id}/test", post(endpoints::send_test))
        .route("/api/v1/endpoints/{id}/example", get(endpoints::example))
        .route(
            "/api/v1/endpoints/{id}/retry-failed",
            post(endpoints::retry_failed),
        )
        .route(
            "/api/v1/auth-connectors",
            get(connectors::list).post(connectors::create),
        )
        .route(
            "/api/v1/auth-connectors/{id}",
            get(connectors::get)
                .patch(connectors::change)
                .delete(connectors::delete),
        )
        .route("/api/v1/jobs", get(jobs::list).post(jobs::create))
        .route("/api/v1/jobs/{id}", get(jobs::get))
        .route("/api/v1/jobs/{id}/cancel", post(jobs::cancel))
        .route("/api/v1/deliveries", get(deliveries::list))
        .route("/api/v1/deliveries/{id}", get(deliveries::get))
        .route("/api/v1/deliveries/{id}/retry", post(deliveries::retry))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_ADMIN_BODY_BYTES))
        .with_state(state)
}

async fn openapi() -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        OPENAPI,
    )
        .into_response()
}

/// The workspace whose API key came with the request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub workspace: WorkspaceRecord,
    pub key_id: i64,
}

impl FromRequestParts<AdminState> for Caller {
    type Rejection = ApiError;

    /// With an API key (`Authorization: Bearer hlk_…`), or from the admin console: its
    /// session cookie, together with the `X-Hookline-Console` header, which a page of another
    /// site cannot send (a custom header needs a CORS preflight, and this API allows none),
    /// so a forged form cannot act with the cookie (reads need no header).
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AdminState,
    ) -> Result<Self, Self::Rejection> {
        let now = clock::now_millis();
        let caller = match bearer(&parts.headers) {
            Some(key) => state.store.authenticate(key, now).await?,
            None => {
                // Reads may come from a plain link (the CSV export): the cookie is
                // `SameSite=Strict`, so another site's page cannot send it at all.
                let safe = matches!(parts.method, Method::GET | Method::HEAD);
                match (
                    session_cookie(&parts.headers),
                    safe || parts.headers.contains_key(CONSOLE_HEADER),
                ) {
                    (Some(token), true) => state.store.console_session(token, now).await?,
                    _ => None,
                }
            }
        };
        let caller = caller.ok_or(ApiError::Unauthorized)?;
        Ok(Self {
            workspace: caller.workspace,
            key_id: caller.key_id,
        })
    }
}

/// The console's session cookie.
pub const SESSION_COOKIE: &str = "hl_session";
/// The header the console's script sends with every call of the admin API.
pub const CONSOLE_HEADER: &str = "x-hookline-console";

/// The console session cookie's token, if the request carries one.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, token)| token)
        .filter(|token| !token.is_empty())
}

/// The token of `Authorization: Bearer <token>`.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// A JSON request body of type `T`, whatever the content type says; a body that is not
/// JSON of that shape is a 400 `invalid_json` naming the problem (serde's message, with
/// the unknown or missing field).
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AdminState> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AdminState) -> Result<Self, Self::Rejection> {
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection: BytesRejection| match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => {
                        ApiError::PayloadTooLarge(MAX_ADMIN_BODY_BYTES)
                    }
                    _ => ApiError::UnreadableBody,
                })?;
        serde_json::from_slice(&bytes)
            .map(Body)
            .map_err(|error| ApiError::InvalidBody(error.to_string()))
    }
}

/// Like [`Body`], but an empty body is `None` (routes whose body is optional).
#[derive(Debug)]
pub struct OptionalBody<T>(pub Option<T>);

impl<T: DeserializeOwned> FromRequest<AdminState> for OptionalBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AdminState) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|_| ApiError::UnreadableBody)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(None));
        }
        serde_json::from_slice(&bytes)
            .map(|value| Self(Some(value)))
            .map_err(|error| ApiError::InvalidBody(error.to_string()))
    }
}

/// Query parameters of type `T`; unreadable ones are a 400 `invalid_query`.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AdminState> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AdminState,
    ) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(params)| Params(params))
            .map_err(|rejection: QueryRejection| ApiError::InvalidQuery(rejection.body_text()))
    }
}

/// `?cursor=` and `?limit=` of a list.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    /// Items with a row id below this.
    pub before: Option<i64>,
    pub limit: u32,
}

impl PageRequest {
    pub fn new(cursor: Option<&str>, limit: Option<u32>) -> Result<Self, ApiError> {
        let before = cursor
            .filter(|cursor| !cursor.is_empty())
            .map(|cursor| {
                cursor
                    .parse::<i64>()
                    .map_err(|_| ApiError::InvalidQuery(format!("{cursor:?} is not a cursor")))
            })
            .transpose()?;
        let limit = limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(ApiError::InvalidQuery(format!(
                "limit must be 1 to {MAX_PAGE}"
            )));
        }
        Ok(Self { before, limit })
    }

    /// The page of `items` (as fetched, newest first), with the cursor of the next one if
    /// the page is full. `id` is each item's row id.
    pub fn page<T, W>(
        &self,
        items: Vec<T>,
        id: impl Fn(&T) -> i64,
        to_wire: impl Fn(T) -> W,
    ) -> protocol::admin::Page<W> {
        let next_cursor = (items.len() == self.limit as usize)
            .then(|| items.last().map(|last| id(last).to_string()))
            .flatten();
        protocol::admin::Page {
            data: items.into_iter().map(to_wire).collect(),
            next_cursor,
        }
    }
}

/// A time for the admin wire, or `None`.
fn time(unix_ms: Option<i64>) -> Option<String> {
    unix_ms.map(clock::rfc3339)
}
