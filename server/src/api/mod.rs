//! HTTP: routes, status codes, CORS, body limits, and turning errors into `{code, detail}`.
//!
//! The only module that knows HTTP status codes. Must not be called by other modules, and
//! must not hold business rules: handlers parse, call `ingest` or `store`, and answer.

mod assets;
mod demo;
mod error;
mod hosted;
mod public;

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{get, post};
use tokio::sync::watch;
use tower_http::cors::{Any, CorsLayer};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use assets::LOADER_FILE;
pub use error::ApiError;

use crate::demo::DemoReceiver;
use crate::ingest::Ingest;
use crate::store::Store;

/// Largest entry body accepted (413 `payload_too_large` beyond).
pub const MAX_ENTRY_BODY_BYTES: usize = 64 * 1024;

/// What the public handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub ingest: Ingest,
}

/// Everything the router needs.
#[derive(Debug)]
pub struct RouterParts<'a> {
    pub state: AppState,
    /// `Some` in demo mode only.
    pub demo: Option<Arc<DemoReceiver>>,
    pub shutdown: watch::Receiver<bool>,
    pub widget_dir: &'a Path,
    pub www_dir: &'a Path,
}

pub fn router(parts: RouterParts<'_>) -> Router {
    // Any site may embed a widget for now; no credentials are ever sent.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(Any)
        .max_age(std::time::Duration::from_secs(24 * 60 * 60));
    let hosted = hosted::routes(parts.state.store.clone(), parts.www_dir);
    let public = Router::new()
        .route("/api/v1/public/campaigns/{key}", get(public::get_campaign))
        .route(
            "/api/v1/public/campaigns/{key}/entries",
            post(public::post_entry),
        )
        .layer(DefaultBodyLimit::max(MAX_ENTRY_BODY_BYTES))
        .layer(cors)
        .with_state(parts.state);
    let mut app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(hosted)
        .merge(public)
        // The loader imports the glue and fetches the wasm from the site's page: cross-origin
        // module and `fetch` loads need CORS (no credentials).
        .merge(
            assets::routes(parts.widget_dir, parts.www_dir).layer(
                CorsLayer::new()
                    .allow_origin(Any)
                    .allow_methods([Method::GET]),
            ),
        );
    if let Some(receiver) = parts.demo {
        let demo = Router::new()
            .route("/demo/receiver", post(demo::receive))
            .route("/demo/receiver/stream", get(demo::stream))
            .with_state(demo::DemoState {
                receiver,
                shutdown: parts.shutdown,
            });
        app = app.merge(demo);
    }
    app.layer(
        TraceLayer::new_for_http()
            .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
            .on_response(DefaultOnResponse::new().level(Level::INFO)),
    )
}
