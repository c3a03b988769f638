//! [`TestReceiver`]: an HTTP server on `127.0.0.1:0` that records every request and answers
//! with the statuses a test asks for (204 by default).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio::sync::{oneshot, watch};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    /// Path and query, e.g. `/hooks?x=1`.
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The address the request came from.
    pub peer: SocketAddr,
}

impl Recorded {
    /// A header's value, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The body parsed as JSON.
    ///
    /// # Panics
    /// If the body is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "the webhook body is not JSON ({error}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// How the receiver answers one request.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reply {
    Status(u16),
    /// A status with a short text saying the failure is on purpose.
    Failing(u16),
    Redirect(String),
    /// A status with a JSON body.
    Json(u16, String),
}

#[derive(Debug, Default)]
struct Shared {
    requests: Mutex<Vec<Recorded>>,
    replies: Mutex<VecDeque<Reply>>,
    /// The status of every request no queued reply is for; `None`: 204.
    failing_with: Mutex<Option<u16>>,
    /// False while answers are held back ([`TestReceiver::hold`]).
    answering: Option<watch::Sender<bool>>,
}

/// A recording webhook receiver. Dropping it stops the server.
#[derive(Debug)]
pub struct TestReceiver {
    address: SocketAddr,
    shared: Arc<Shared>,
    /// Counts recorded requests; waiters watch it instead of polling.
    count: watch::Receiver<usize>,
    _stop: oneshot::Sender<()>,
}

impl TestReceiver {
    /// Starts a receiver on a free local port.
    ///
    /// # Panics
    /// If no local port can be bound.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a local port for the receiver");
        let address = listener.local_addr().expect("the receiver's address");
        let shared = Arc::new(Shared {
            answering: Some(watch::Sender::new(true)),
            ..Shared::default()
        });
        let (counter, count) = watch::channel(0);
        let (stop, stopped) = oneshot::channel::<()>();
        let app = Router::new()
            .fallback(record)
            .with_state((Arc::clone(&shared), Arc::new(counter)));
        tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            let server = axum::serve(listener, app).with_graceful_shutdown(async {
                // Errs when the receiver is dropped, which is the signal to stop.
                let _ = stopped.await;
            });
            if let Err(error) = server.await {
                panic!("the test receiver failed: {error}");
            }
        });
        Self {
            address,
            shared,
            count,
            _stop: stop,
        }
    }

    /// The URL to configure as a webhook endpoint, e.g. `http://127.0.0.1:41234/hooks`.
    pub fn url(&self) -> String {
        format!("http://{}/hooks", self.address)
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.requests).clone()
    }

    /// Answers the next requests with these statuses, in order; then 204 again.
    pub fn set_responses(&self, statuses: impl IntoIterator<Item = u16>) {
        let mut replies = lock(&self.shared.replies);
        replies.clear();
        replies.extend(statuses.into_iter().map(Reply::Status));
    }

    /// Answers every request with `status` from now on (after any queued replies), until
    /// [`TestReceiver::recover`]: a receiver that is down.
    pub fn fail_with(&self, status: u16) {
        *lock(&self.shared.failing_with) = Some(status);
    }

    /// Answers 204 again after [`TestReceiver::fail_with`].
    pub fn recover(&self) {
        *lock(&self.shared.failing_with) = None;
    }

    /// Answers the next request with `status` and this JSON body.
    pub fn respond_with_json(&self, status: u16, body: &serde_json::Value) {
        lock(&self.shared.replies).push_back(Reply::Json(status, body.to_string()));
    }

    /// Records requests as they come but answers none until [`TestReceiver::release`]: a
    /// receiver too slow to answer in time.
    pub fn hold(&self) {
        if let Some(answering) = &self.shared.answering {
            answering.send_replace(false);
        }
    }

    /// Answers the requests held back, and every later one at once.
    pub fn release(&self) {
        if let Some(answering) = &self.shared.answering {
            answering.send_replace(true);
        }
    }

    /// Answers the next request with `302 Found` to `location`.
    pub fn respond_with_redirect(&self, location: &str) {
        lock(&self.shared.replies).push_back(Reply::Redirect(location.to_owned()));
    }

    /// Waits until at least `n` requests have arrived and returns them all.
    ///
    /// # Panics
    /// If fewer than `n` arrive within `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        let mut count = self.count.clone();
        let arrived = tokio::time::timeout(timeout, count.wait_for(|count| *count >= n)).await;
        match arrived {
            Ok(Ok(_)) => self.requests(),
            _ => panic!(
                "expected {n} requests within {timeout:?}, got {}",
                self.requests().len()
            ),
        }
    }
}

type ReceiverState = (Arc<Shared>, Arc<watch::Sender<usize>>);

async fn record(
    State((shared, counter)): State<ReceiverState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_owned(), ToString::to_string);
    let otherwise = lock(&shared.failing_with).map_or(Reply::Status(204), Reply::Failing);
    let reply = lock(&shared.replies).pop_front().unwrap_or(otherwise);
    let total = {
        let mut requests = lock(&shared.requests);
        requests.push(Recorded {
            method,
            path,
            headers,
            body: body.to_vec(),
            peer,
        });
        requests.len()
    };
    counter.send_replace(total);
    if let Some(answering) = &shared.answering {
        let mut answering = answering.subscribe();
        // Errs only when the receiver is gone: answer then.
        let _ = answering.wait_for(|answering| *answering).await;
    }
    match reply {
        Reply::Status(status) => StatusCode::from_u16(status)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response(),
        Reply::Failing(status) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "The test receiver is failing on purpose.",
        )
            .into_response(),
        Reply::Redirect(location) => (StatusCode::FOUND, [(LOCATION, location)]).into_response(),
        Reply::Json(status, body) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
