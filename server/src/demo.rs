//! The built-in demo receiver: the webhook endpoint the demo page shows live.
//!
//! Owns verifying what arrives with the demo endpoint's secret, remembering the last
//! [`REMEMBERED`] webhooks, and broadcasting each to the page's open streams. The HTTP side is
//! in `api::demo`. Must not run when `HOOKLINE_DEMO=false`: startup does not build it then.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use protocol::payload::EVENT_TYPE_HEADER;
use protocol::signature::{DEFAULT_TOLERANCE_SECONDS, SigningSecret, verify};
use serde::Serialize;
use tokio::sync::broadcast;

/// How many webhooks the receiver remembers for pages that connect later.
pub const REMEMBERED: usize = 50;

/// One webhook as the demo page shows it (the `data` of a `webhook` server-sent event).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReceivedWebhook {
    /// Unix milliseconds.
    pub received_at: i64,
    pub webhook_id: String,
    pub event_type: String,
    pub signature_valid: bool,
    /// Why the signature was refused, when it was.
    pub signature_error: Option<String>,
    /// Every request header, names lower-case.
    pub headers: BTreeMap<String, String>,
    /// The body parsed as JSON (a JSON string if it was not JSON).
    pub body: serde_json::Value,
}

/// The demo endpoint's receiving side.
#[derive(Debug)]
pub struct DemoReceiver {
    secret: SigningSecret,
    /// Held while remembering and broadcasting, so a new subscriber sees each webhook once.
    recent: Mutex<VecDeque<ReceivedWebhook>>,
    live: broadcast::Sender<ReceivedWebhook>,
}

impl DemoReceiver {
    pub fn new(secret: SigningSecret) -> Self {
        Self {
            secret,
            recent: Mutex::new(VecDeque::with_capacity(REMEMBERED)),
            live: broadcast::channel(64).0,
        }
    }

    /// Verifies, remembers and broadcasts one webhook received at `now` (unix ms).
    pub fn receive(
        &self,
        headers: BTreeMap<String, String>,
        body: &[u8],
        now: i64,
    ) -> ReceivedWebhook {
        let header = |name: &str| headers.get(name).map(String::as_str);
        let verified = match (
            header("webhook-id"),
            header("webhook-timestamp"),
            header("webhook-signature"),
        ) {
            (Some(id), Some(timestamp), Some(signature)) => verify(
                &self.secret,
                id,
                timestamp,
                signature,
                body,
                now.div_euclid(1000),
                DEFAULT_TOLERANCE_SECONDS,
            )
            .map_err(|error| error.to_string()),
            _ => Err(
                "a webhook-id, webhook-timestamp or webhook-signature header is missing".to_owned(),
            ),
        };
        let webhook = ReceivedWebhook {
            received_at: now,
            webhook_id: header("webhook-id").unwrap_or_default().to_owned(),
            event_type: header(EVENT_TYPE_HEADER).unwrap_or_default().to_owned(),
            signature_valid: verified.is_ok(),
            signature_error: verified.err(),
            body: serde_json::from_slice(body).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(body).into_owned())
            }),
            headers,
        };
        let mut recent = self
            .recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if recent.len() == REMEMBERED {
            recent.pop_front();
        }
        recent.push_back(webhook.clone());
        // Errs only when no page is listening, which is fine.
        let _ = self.live.send(webhook.clone());
        webhook
    }

    /// The remembered webhooks, oldest first, and a receiver for every later one.
    pub fn subscribe(&self) -> (Vec<ReceivedWebhook>, broadcast::Receiver<ReceivedWebhook>) {
        let recent = self
            .recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (recent.iter().cloned().collect(), self.live.subscribe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn verifies_remembers_and_forgets_the_oldest() {
        let secret = SigningSecret::from_bytes(&[3; 32]);
        let receiver = DemoReceiver::new(secret.clone());
        let body = br#"{"entry":{"id":1}}"#;
        let signature = secret.sign("msg_1", 1_700_000_000, body);
        let good = receiver.receive(
            headers(&[
                ("webhook-id", "msg_1"),
                ("webhook-timestamp", "1700000000"),
                ("webhook-signature", &signature),
            ]),
            body,
            1_700_000_000_000,
        );
        assert!(good.signature_valid, "{good:?}");
        assert_eq!(good.body["entry"]["id"], 1);
        let bad = receiver.receive(headers(&[]), b"not json", 1_700_000_000_000);
        assert!(!bad.signature_valid && bad.signature_error.is_some());
        assert_eq!(bad.body, serde_json::json!("not json"));
        for _ in 0..REMEMBERED {
            receiver.receive(headers(&[]), b"{}", 0);
        }
        let (recent, _live) = receiver.subscribe();
        assert_eq!(recent.len(), REMEMBERED);
        assert!(
            recent
                .iter()
                .all(|webhook| webhook.body == serde_json::json!({}))
        );
    }
}
