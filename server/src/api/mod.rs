//! HTTP: routes, status codes, CORS, body limits, and turning errors into `{code, detail}`.
//!
//! The only module that knows HTTP status codes. Must not be called by other modules, and
//! must not hold business rules: handlers parse, call `ingest` or `store`, and answer.

pub mod admin;
mod assets;
pub mod console;
mod demo;
mod error;
mod hosted;
mod inbound;
mod ops;
mod public;
pub mod uploads;

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
pub use inbound::InboundState;
pub use ops::OpsState;

use crate::address::AllowList;
use crate::demo::DemoReceiver;
use crate::ingest::Ingest;
use crate::metrics::Metrics;
use crate::social::Activity;
use crate::store::Store;

/// Largest entry body accepted (413 `payload_too_large` beyond).
pub const MAX_ENTRY_BODY_BYTES: usize = 64 * 1024;

/// What the public handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub ingest: Ingest,
    /// `HOOKLINE_TRUSTED_PROXIES`, for the client's address.
    pub trusted_proxies: Arc<AllowList>,
    /// The social proof feed widgets follow.
    pub activity: Activity,
    /// Turns true when the server stops, to end open event streams.
    pub shutdown: watch::Receiver<bool>,
    pub metrics: Arc<Metrics>,
    /// This server's URL as people reach it (for uploads' addresses).
    pub base_url: Arc<str>,
}

/// Everything the router needs.
#[derive(Debug)]
pub struct RouterParts<'a> {
    pub state: AppState,
    /// `Some` in demo mode only.
    pub demo: Option<Arc<DemoReceiver>>,
    pub shutdown: watch::Receiver<bool>,
    /// `/readyz`, `/metrics` and the metrics middleware.
    pub ops: OpsState,
    pub widget_dir: &'a Path,
    pub www_dir: &'a Path,
    pub admin: admin::AdminState,
    pub inbound: inbound::InboundState,
    pub console: console::ConsoleState,
}

pub fn router(parts: RouterParts<'_>) -> Router {
    let hosted = hosted::routes(parts.state.store.clone(), parts.www_dir);
    let public = Router::new()
        .route("/api/v1/public/campaigns/{key}", get(public::get_campaign))
        .route(
            "/api/v1/public/campaigns/{key}/entries",
            post(public::post_entry),
        )
        .route(
            "/api/v1/public/campaigns/{key}/contestant",
            get(public::contestant_status),
        )
        .route(
            "/api/v1/public/campaigns/{key}/activity",
            get(public::activity),
        )
        .layer(DefaultBodyLimit::max(MAX_ENTRY_BODY_BYTES))
        .merge(
            Router::new()
                .route(
                    "/api/v1/public/campaigns/{key}/uploads",
                    post(uploads::receive),
                )
                .layer(DefaultBodyLimit::max(uploads::MAX_UPLOAD_BYTES + 64 * 1024)),
        )
        .layer(public::cors(parts.state.store.clone()))
        .route("/uploads/{id}", get(uploads::serve))
        // Shared, not cloned for each request: a clone takes and drops a dozen reference
        // counts (the store's pool, writer and caches, the metrics), from both cores.
        .with_state(Arc::new(parts.state));
    let mut app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(ops_routes(parts.ops.clone()))
        .merge(public)
        .merge(admin::routes(parts.admin))
        .merge(console::routes(parts.console))
        .merge(
            Router::new()
                .route("/hooks/in/{stream_key}", post(inbound::receive))
                .layer(DefaultBodyLimit::max(inbound::MAX_INBOUND_BODY_BYTES))
                .with_state(parts.inbound),
        )
        .merge(hosted)
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
    app.layer(ops::HttpMetricsLayer::new(parts.ops.metrics))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
}

fn ops_routes(ops: OpsState) -> Router {
    Router::new()
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .with_state(ops)
}
