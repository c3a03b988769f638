//! The widget's JavaScript events: their names and the exact `detail` of each.
//!
//! Each is a `CustomEvent` named `hookline:<name>`, dispatched on the widget's element with
//! `bubbles: true, composed: true`, so listeners on the element, `document` and `window` all
//! receive it once. The loader also passes `detail` to `Hookline.push(["on", name, fn])`
//! listeners and to `window.onHooklineEvent({ name, detail })`.

use serde::{Deserialize, Serialize};

use crate::campaign::{CampaignType, EntryMethodType};
use crate::entry::{AnswerFields, EntrySummary, UnlockedReward};
use crate::ids::{CampaignKey, EntryMethodId};
use crate::social::Notification;

/// Prefix of every DOM event name.
pub const EVENT_PREFIX: &str = "hookline:";

/// The campaign has loaded and the widget is interactive. Detail: [`ReadyDetail`].
pub const READY: &str = "ready";
/// The contestant gave their details, or the widget recognised a returning contestant.
/// Detail: [`LoginDetail`].
pub const LOGIN: &str = "login";
/// The contestant submitted; fired at once, before the server answers. Detail: [`CaptureDetail`].
pub const CAPTURE: &str = "capture";
/// The server confirmed an entry. Detail: [`EntryDetail`].
pub const ENTRY: &str = "entry";
/// The contestant unlocked the campaign's reward. Detail: [`RewardDetail`].
pub const REWARD: &str = "reward";
/// A modal or bar widget was shown. Detail: [`OpenDetail`].
pub const OPEN: &str = "open";
/// A modal or bar widget was hidden. Detail: [`CloseDetail`].
pub const CLOSE: &str = "close";
/// Something went wrong that the contestant was told about. Detail: [`ErrorDetail`].
pub const ERROR: &str = "error";
/// A social proof toast appeared (a recent conversion or entry). Detail:
/// [`NotificationDetail`].
pub const NOTIFICATION: &str = "notification";

/// Every event name, in the order of a contestant's visit.
pub const ALL: [&str; 9] = [
    READY,
    LOGIN,
    CAPTURE,
    ENTRY,
    REWARD,
    OPEN,
    CLOSE,
    ERROR,
    NOTIFICATION,
];

/// `code`s of [`ErrorDetail`] that the widget makes itself. The others are the API's
/// ([`crate::entry::codes`]).
pub mod error_codes {
    /// The campaign could not be loaded: unknown key, or the server could not be reached.
    pub const CAMPAIGN_UNAVAILABLE: &str = "campaign_unavailable";
    /// Reserved: the server could not be reached and the entry could not be kept for later.
    /// The widget keeps every post in its outbox (in memory where `localStorage` is refused),
    /// so it does not send this today.
    pub const NETWORK: &str = "network";
    /// The widget crashed.
    pub const INTERNAL: &str = "internal";
    /// The host page's Content-Security-Policy forbids WebAssembly; the loader shows the
    /// campaign's hosted page instead.
    pub const WASM_BLOCKED: &str = "wasm_blocked";
    /// A file could not be uploaded.
    pub const UPLOAD_FAILED: &str = "upload_failed";
}

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

/// `hookline:login`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginDetail {
    pub campaign: CampaignInfo,
    pub user: ContestantInfo,
    /// `false`: the contestant just typed their details. `true`: a returning contestant,
    /// recognised from this browser's storage.
    pub restored: bool,
}

/// `hookline:capture`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureDetail {
    pub campaign: CampaignInfo,
    pub user: ContestantInfo,
    pub entry_method_id: EntryMethodId,
    #[serde(rename = "type")]
    pub entry_type: EntryMethodType,
    /// The idempotency key the post carries; the matching `entry` event carries the same.
    pub idempotency_key: String,
}

/// `hookline:entry`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryDetail {
    pub campaign: CampaignInfo,
    pub user: ContestantInfo,
    pub entry: EntrySummary,
    /// What the action captured (see [`crate::entry::EntryAction::value`]).
    pub value: String,
    pub idempotency_key: String,
    pub actions_completed: u32,
    pub total_entries: u32,
    /// A data-source endpoint's answer (its chosen fields, as text), when one came in time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<AnswerFields>,
}

/// `hookline:reward`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RewardDetail {
    pub campaign: CampaignInfo,
    pub user: ContestantInfo,
    pub reward: UnlockedReward,
}

/// Why a modal or bar opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpenTrigger {
    /// `Hookline.push(["open", key])`.
    Command,
    /// The modal's delay passed, or a bar appeared with the page.
    Delay,
    ExitIntent,
}

/// Why a modal or bar closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseTrigger {
    /// `Hookline.push(["close", key])`.
    Command,
    /// The contestant closed it (its close button, Escape, or a click beside it).
    Dismissed,
}

/// `hookline:open`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenDetail {
    pub campaign: CampaignInfo,
    pub trigger: OpenTrigger,
}

/// `hookline:close`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloseDetail {
    pub campaign: CampaignInfo,
    pub trigger: CloseTrigger,
}

/// `hookline:error`. `code` is stable: the API's error codes ([`crate::entry::codes`]) and the
/// widget's own ([`error_codes`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub campaign: Option<CampaignKey>,
    pub code: String,
    pub detail: String,
    /// The form field the error is shown beside (the API's `field`), if any.
    #[serde(default)]
    pub field: Option<String>,
}

/// `hookline:notification`: the widget showed a social proof toast. Never carries an email
/// address (the server sends none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationDetail {
    pub campaign: CampaignInfo,
    /// The notification as the server sent it.
    pub notification: Notification,
    /// The sentence the toast shows, in the widget's language: "Joe B. from Miami, FL bought
    /// Sneakers", "Joe B. de Miami, FL a acheté Sneakers".
    pub text: String,
}

/// The full DOM event name for `name`, e.g. `hookline:entry`.
pub fn dom_event_name(name: &str) -> String {
    format!("{EVENT_PREFIX}{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each event's detail fixture parses and serialises back unchanged.
    fn check<T: Serialize + serde::de::DeserializeOwned>(fixture: &str) {
        let parsed: T = serde_json::from_str(fixture).expect("the fixture parses");
        let original: serde_json::Value = serde_json::from_str(fixture).expect("valid JSON");
        assert_eq!(serde_json::to_value(&parsed).expect("serialises"), original);
    }

    #[test]
    fn event_detail_fixtures_round_trip() {
        check::<ReadyDetail>(include_str!("../fixtures/events/ready.json"));
        check::<LoginDetail>(include_str!("../fixtures/events/login.json"));
        check::<CaptureDetail>(include_str!("../fixtures/events/capture.json"));
        check::<EntryDetail>(include_str!("../fixtures/events/entry.json"));
        check::<EntryDetail>(include_str!("../fixtures/events/entry_answered.json"));
        check::<RewardDetail>(include_str!("../fixtures/events/reward.json"));
        check::<OpenDetail>(include_str!("../fixtures/events/open.json"));
        check::<CloseDetail>(include_str!("../fixtures/events/close.json"));
        check::<ErrorDetail>(include_str!("../fixtures/events/error.json"));
        check::<NotificationDetail>(include_str!("../fixtures/events/notification.json"));
    }

    #[test]
    fn names_are_distinct_and_prefixed() {
        let mut names = ALL.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        assert_eq!(dom_event_name(ENTRY), "hookline:entry");
    }
}
