//! The campaign's activity feed: one `EventSource` on `GET …/campaigns/{key}/activity`
//! (Server-Sent Events), whose `notification` events are handed on as `protocol` types.
//!
//! Pushed by the server, never polled: the browser keeps the connection and reconnects by
//! itself after the delay the server asks for. A page with several widgets of one campaign
//! opens one feed. Must not touch the DOM or decide what is shown (that is `toasts.rs`).

use std::cell::RefCell;

use protocol::ids::CampaignKey;
use protocol::social::{NOTIFICATION_EVENT, Notification};
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{EventSource, MessageEvent};

use crate::answers;
use crate::form::activity_url;

thread_local! {
    /// Campaigns with an open feed on this page.
    static OPEN: RefCell<Vec<CampaignKey>> = const { RefCell::new(Vec::new()) };
}

/// An open feed; dropping it closes the connection.
pub struct Feed {
    key: CampaignKey,
    source: EventSource,
    _listener: Closure<dyn FnMut(MessageEvent)>,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Feed")
    }
}

/// Follows campaign `key`'s activity, calling `on_notification` with each notification, and
/// with it as the JSON parsed (the detail of `hookline:notification` passes it on).
/// `None` when this page follows it already (another widget of the campaign shows its
/// toasts) or the browser has no `EventSource`.
pub fn open(
    api_base: &str,
    key: &CampaignKey,
    on_notification: impl Fn(Notification, JsValue) + 'static,
) -> Option<Feed> {
    if OPEN.with_borrow(|open| open.contains(key)) {
        return None;
    }
    let source = EventSource::new(&activity_url(api_base, key.as_str())).ok()?;
    let listener = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let parsed = event
            .data()
            .as_string()
            .and_then(|data| js_sys::JSON::parse(&data).ok());
        if let Some(parsed) = parsed
            && let Some(notification) = answers::notification(&parsed)
        {
            on_notification(notification, parsed);
        }
    });
    source
        .add_event_listener_with_callback(NOTIFICATION_EVENT, listener.as_ref().unchecked_ref())
        .ok()?;
    OPEN.with_borrow_mut(|open| open.push(key.clone()));
    Some(Feed {
        key: key.clone(),
        source,
        _listener: listener,
    })
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.source.close();
        OPEN.with_borrow_mut(|open| open.retain(|key| *key != self.key));
    }
}
