//! Files browsers load: the demo page, `www/` and the widget bundle.

use std::path::Path;

use axum::Router;
use axum::handler::HandlerWithoutStateExt as _;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// The loader's file name in the widget bundle.
pub const LOADER_FILE: &str = "hookline.js";

/// What `/widget/hookline.js` answers when the bundle was not built: a script that says so
/// in the browser console, rather than a 404 that leaves people guessing.
const MISSING_BUNDLE_SCRIPT: &str = "/* Hookline: the widget bundle has not been built. */\n\
console.error(\"Hookline: the widget bundle is missing on the server. Run `cargo xtask widget` (or set HOOKLINE_WIDGET_DIR) and reload.\");\n";

pub fn routes<S: Clone + Send + Sync + 'static>(widget_dir: &Path, www_dir: &Path) -> Router<S> {
    let widget = ServeDir::new(widget_dir).fallback(missing_widget_file.into_service());
    let widget = Router::new()
        .nest_service("/widget", widget)
        // The bundle changes with every build and is small: always revalidate.
        .layer(SetResponseHeaderLayer::overriding(
            CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ));
    Router::new()
        .route_service("/", ServeFile::new(www_dir.join("index.html")))
        .nest_service("/www", ServeDir::new(www_dir))
        .merge(widget)
}

async fn missing_widget_file(uri: Uri) -> Response {
    if uri.path().trim_start_matches('/') == LOADER_FILE {
        let javascript = HeaderValue::from_static("text/javascript; charset=utf-8");
        ([(CONTENT_TYPE, javascript)], MISSING_BUNDLE_SCRIPT).into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}
