//! The widget's JavaScript events: their names and the exact `detail` of each.
//!
//! Each is a `CustomEvent` named `hookline:<name>`, dispatched on the widget's element with
//! `bubbles: true, composed: true`, so listeners on the element, `document` and `window` all
//! receive it once. The loader also passes `detail` to `Hookline.push(["on", name, fn])`
//! listeners and to `window.onHooklineEvent({ name, detail })`.

use serde::{Deserialize, Serialize};

use crate::campaign::CampaignType;
use crate::entry::EntrySummary;
use crate::ids::CampaignKey;

/// Prefix of every DOM event name.
pub const EVENT_PREFIX: &str = "hookline:";

/// The campaign has loaded and the widget is interactive. Detail: [`ReadyDetail`].
pub const READY: &str = "ready";
/// The contestant submitted; fired at once, before the server answers. Detail: [`CaptureDetail`].
pub const CAPTURE: &str = "capture";
/// The server confirmed an entry. Detail: [`EntryDetail`].
pub const ENTRY: &str = "entry";
/// Something went wrong that the contestant was told about. Detail: [`ErrorDetail`].
pub const ERROR: &str = "error";

/// Which campaign an event is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignInfo {
    pub key: CampaignKey,
    pub name: String,
    #[serde(rename = "type")]
    pub campaign_type: CampaignType,
}

/// The contestant, as the host page may see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContestantInfo {
    pub email: String,
    pub name: String,
}

/// `hookline:ready`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadyDetail {
    pub campaign: CampaignInfo,
}

/// `hookline:capture`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureDetail {
    pub campaign: CampaignInfo,
    pub user: ContestantInfo,
    /// The idempotency key the post carries; the matching `entry` event carries the same.
    pub idempotency_key: String,
}

/// `hookline:entry`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryDetail {
    pub campaign: CampaignInfo,
    pub user: ContestantInfo,
    pub entry: EntrySummary,
    pub idempotency_key: String,
    pub actions_completed: u32,
    pub total_entries: u32,
}

/// `hookline:error`. `code` is stable: the API's error codes, plus `campaign_unavailable`
/// (the campaign could not be loaded) and `network` (the server could not be reached).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub campaign: Option<CampaignKey>,
    pub code: String,
    pub detail: String,
}

/// The full DOM event name for `name`, e.g. `hookline:entry`.
pub fn dom_event_name(name: &str) -> String {
    format!("{EVENT_PREFIX}{name}")
}
