//! What the widget keeps in the browser between visits, in `localStorage` (never cookies):
//! each campaign's contestant session, when its modal was last closed, and the outbox of
//! posts waiting for an answer. Where `localStorage` cannot be used, the same items live in
//! memory for the page's life.
//!
//! Keys: `hookline:s:{campaign}` (session, `session.rs`), `hookline:d:{campaign}` (closed at,
//! unix ms), `hookline:outbox` (`outbox.rs`); and in `sessionStorage` (a visit: the tab's
//! session) `hookline:t:{campaign}`, the social proof toasts shown (`toasts.rs`). Must not
//! decide anything: it stores text.

use std::cell::RefCell;

use protocol::ids::CampaignKey;

use crate::bindings::{local_storage, session_storage};
use crate::outbox::Outbox;
use crate::session::Session;

const OUTBOX_KEY: &str = "hookline:outbox";

thread_local! {
    /// Items kept for the page's life when `localStorage` refuses them (a few; a list is
    /// smaller in the bundle than a hash map).
    static MEMORY: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
}

fn read(key: &str) -> Option<String> {
    if let Some(value) = local_storage().and_then(|storage| storage.get_item(key).ok().flatten()) {
        return Some(value);
    }
    MEMORY.with_borrow(|memory| {
        memory
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.clone())
    })
}

fn write(key: &str, value: Option<&str>) {
    let stored = local_storage().is_some_and(|storage| match value {
        Some(value) => storage.set_item(key, value).is_ok(),
        None => storage.remove_item(key).is_ok(),
    });
    MEMORY.with_borrow_mut(|memory| {
        memory.retain(|(name, _)| name != key);
        if let Some(value) = value.filter(|_| !stored) {
            memory.push((key.to_owned(), value.to_owned()));
        }
    });
}

fn session_key(campaign: &CampaignKey) -> String {
    format!("hookline:s:{campaign}")
}

pub fn load_session(campaign: &CampaignKey) -> Option<Session> {
    Session::decode(&read(&session_key(campaign))?)
}

/// Keeps `session`, or forgets the campaign's session when `None`.
pub fn save_session(campaign: &CampaignKey, session: Option<&Session>) {
    write(
        &session_key(campaign),
        session.map(Session::encode).as_deref(),
    );
}

pub fn dismissed_at(campaign: &CampaignKey) -> Option<i64> {
    read(&format!("hookline:d:{campaign}"))?.parse().ok()
}

pub fn set_dismissed_at(campaign: &CampaignKey, unix_ms: i64) {
    write(
        &format!("hookline:d:{campaign}"),
        Some(&unix_ms.to_string()),
    );
}

pub fn load_outbox() -> Outbox {
    read(OUTBOX_KEY).map_or_else(Outbox::default, |text| Outbox::decode(&text))
}

pub fn save_outbox(outbox: &Outbox) {
    if outbox.is_empty() {
        write(OUTBOX_KEY, None);
    } else {
        write(OUTBOX_KEY, Some(&outbox.encode()));
    }
}

/// Reads the outbox, lets `change` edit it, and writes it back.
pub fn update_outbox<T>(change: impl FnOnce(&mut Outbox) -> T) -> T {
    let mut outbox = load_outbox();
    let result = change(&mut outbox);
    save_outbox(&outbox);
    result
}

fn toasts_key(campaign: &CampaignKey) -> String {
    format!("hookline:t:{campaign}")
}

/// The toasts of this visit, as `Toasts::visit` wrote them (`None` where `sessionStorage`
/// cannot be used: then each page is a visit).
pub fn toast_visit(campaign: &CampaignKey) -> Option<String> {
    session_storage()?.get_item(&toasts_key(campaign)).ok()?
}

pub fn set_toast_visit(campaign: &CampaignKey, record: &str) {
    if let Some(storage) = session_storage() {
        // A full or refused storage only forgets the visit: each page is then a visit.
        let _ = storage.set_item(&toasts_key(campaign), record);
    }
}
