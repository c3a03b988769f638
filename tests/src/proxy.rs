//! [`TestProxy`]: an HTTP forward proxy on `127.0.0.1:0` that records every request it is
//! asked to carry and passes it on, so a test can check that webhooks leave through the proxy
//! the operator set (`HOOKLINE_WEBHOOK_PROXY`). It forwards plain `http://` requests (the
//! absolute-form a client sends to a proxy); a `CONNECT` (for `https://`) is recorded and
//! refused, which the tests do not need.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::{oneshot, watch};

/// One request the proxy was asked to carry.
#[derive(Debug, Clone)]
pub struct Proxied {
    pub method: Method,
    /// As the client asked for it: `http://127.0.0.1:41234/hooks`.
    pub uri: String,
    pub headers: HeaderMap,
    /// The address the client connected from.
    pub peer: SocketAddr,
}

#[derive(Debug)]
struct Shared {
    requests: Mutex<Vec<Proxied>>,
    count: watch::Sender<usize>,
    client: Client<HttpConnector, Body>,
}

/// A recording forward proxy. Dropping it stops the server.
#[derive(Debug)]
pub struct TestProxy {
    address: SocketAddr,
    shared: Arc<Shared>,
    _stop: oneshot::Sender<()>,
}

impl TestProxy {
    /// Starts a proxy on a free local port.
    ///
    /// # Panics
    /// If no local port can be bound.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a local port for the proxy");
        let address = listener.local_addr().expect("the proxy's address");
        let shared = Arc::new(Shared {
            requests: Mutex::default(),
            count: watch::Sender::new(0),
            client: Client::builder(TokioExecutor::new()).build_http(),
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let app = Router::new()
            .fallback(forward)
            .with_state(Arc::clone(&shared))
            .into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async {
                // Errs when the proxy is dropped, which is the signal to stop.
                let _ = stopped.await;
            });
            if let Err(error) = server.await {
                panic!("the test proxy failed: {error}");
            }
        });
        Self {
            address,
            shared,
            _stop: stop,
        }
    }

    /// The proxy's URL, e.g. `http://127.0.0.1:41235`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Proxied> {
        lock(&self.shared.requests).clone()
    }

    /// Waits until at least `n` requests have come and returns them all.
    ///
    /// # Panics
    /// If fewer than `n` come within `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Proxied> {
        let mut count = self.shared.count.subscribe();
        match tokio::time::timeout(timeout, count.wait_for(|count| *count >= n)).await {
            Ok(Ok(_)) => self.requests(),
            _ => panic!(
                "expected {n} proxied requests within {timeout:?}, got {}",
                self.requests().len()
            ),
        }
    }
}

async fn forward(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    {
        let mut requests = lock(&shared.requests);
        requests.push(Proxied {
            method: method.clone(),
            uri: uri.to_string(),
            headers: headers.clone(),
            peer,
        });
        shared.count.send_replace(requests.len());
    }
    if method == Method::CONNECT || uri.scheme().is_none() {
        return (
            StatusCode::NOT_IMPLEMENTED,
            "The test proxy forwards absolute-form http:// requests only.",
        )
            .into_response();
    }
    let mut request = axum::http::Request::builder().method(method).uri(uri);
    for (name, value) in &headers {
        if !matches!(
            name.as_str(),
            "proxy-authorization" | "proxy-connection" | "connection"
        ) {
            request = request.header(name, value);
        }
    }
    let request = match request.body(Body::from(body)) {
        Ok(request) => request,
        Err(error) => return (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
    };
    match shared.client.request(request).await {
        Ok(answer) => answer.map(Body::new).into_response(),
        Err(error) => (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
