//! HTTP side of the demo receiver: `POST /demo/receiver` and its event stream
//! `GET /demo/receiver/stream`. Only routed in demo mode.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt as _, future, stream};
use tokio::sync::watch;
use tokio_stream::wrappers::BroadcastStream;

use crate::clock;
use crate::demo::DemoReceiver;

#[derive(Debug, Clone)]
pub struct DemoState {
    pub receiver: Arc<DemoReceiver>,
    /// Turns true when the server stops, to end open streams (they would hold shutdown up).
    pub shutdown: watch::Receiver<bool>,
}

/// `POST /demo/receiver`: 204 when the signature verifies, 401 when not (recorded either way).
pub async fn receive(
    State(state): State<DemoState>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let headers: BTreeMap<String, String> = headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let webhook = state.receiver.receive(headers, &body, clock::now_millis());
    if webhook.signature_valid {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::UNAUTHORIZED
    }
}

/// `GET /demo/receiver/stream`: the remembered webhooks, then each new one, as `webhook` events.
pub async fn stream(
    State(state): State<DemoState>,
) -> Sse<impl Stream<Item = Result<Event, axum::Error>>> {
    let (recent, live) = state.receiver.subscribe();
    let live = BroadcastStream::new(live).filter_map(|item| future::ready(item.ok()));
    let mut shutdown = state.shutdown.clone();
    let stopped = async move {
        // Errs only if the server is gone, which is a stop too.
        let _ = shutdown.wait_for(|stopped| *stopped).await;
    };
    let events = stream::iter(recent)
        .chain(live)
        .map(|webhook| Event::default().event("webhook").json_data(webhook))
        .take_until(stopped);
    Sse::new(events).keep_alive(KeepAlive::default())
}
