//! [`HostSite`]: a stand-in for a site owner's web site, on its own origin (`127.0.0.1:0`),
//! serving the host pages end-to-end tests embed the widget in, each with the response
//! headers the test gives it (a strict `Content-Security-Policy`, say).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio::sync::oneshot;

/// One page: its HTML and extra response headers.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub html: String,
    pub headers: Vec<(&'static str, String)>,
}

impl Page {
    pub fn new(html: impl Into<String>) -> Self {
        Self {
            html: html.into(),
            headers: Vec::new(),
        }
    }

    /// The page with one more response header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// A web site on its own port. Dropping it stops the server.
#[derive(Debug)]
pub struct HostSite {
    address: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl HostSite {
    /// Serves `pages` (path → page) on a free local port; other paths are 404.
    ///
    /// # Panics
    /// If no local port can be bound.
    pub async fn start(pages: impl IntoIterator<Item = (&'static str, Page)>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a local port for the host site");
        let address = listener.local_addr().expect("the host site's address");
        let pages: Arc<HashMap<String, Page>> = Arc::new(
            pages
                .into_iter()
                .map(|(path, page)| (path.to_owned(), page))
                .collect(),
        );
        let (stop, stopped) = oneshot::channel::<()>();
        let app = Router::new().fallback(serve).with_state(pages);
        tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async {
                // Errs when the site is dropped, which is the signal to stop.
                let _ = stopped.await;
            });
            if let Err(error) = server.await {
                panic!("the host site failed: {error}");
            }
        });
        Self {
            address,
            _stop: stop,
        }
    }

    /// The URL of `path` on this site, e.g. `http://127.0.0.1:41234/two.html`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }
}

async fn serve(State(pages): State<Arc<HashMap<String, Page>>>, uri: Uri) -> Response {
    let Some(page) = pages.get(uri.path()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = page.html.clone().into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    for (name, value) in &page.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(*name), HeaderValue::try_from(value)) {
            headers.insert(name, value);
        }
    }
    response
}
