//! Social proof: what the server pushes to widgets about recent activity ("Joe B. from Miami
//! just bought Sneakers", "124 people entered today"), and how a campaign shows it.
//!
//! Widgets follow `GET /api/v1/public/campaigns/{key}/activity`, a Server-Sent Events stream:
//! first a `summary` event ([`ActivitySummary`]) and the most recent `notification` events
//! ([`Notification`]), then each new one as it happens. Nothing here ever carries an email
//! address: names are a first name and a last initial, places what the owner allows.

use serde::{Deserialize, Serialize};

/// The SSE event name of a [`Notification`].
pub const NOTIFICATION_EVENT: &str = "notification";
/// The SSE event name of an [`ActivitySummary`].
pub const SUMMARY_EVENT: &str = "summary";
/// [`Notification::name`] of someone whose name is not shown or not known; widgets show it
/// in their own language.
pub const SOMEONE: &str = "Someone";

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// A conversion from one of the workspace's inbound streams (a purchase, a sign-up).
    Conversion,
    /// Somebody entered this campaign.
    Entry,
}

/// A product a notification names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifiedProduct {
    pub name: String,
    /// Where the notification links to, when the owner shows links.
    #[serde(default)]
    pub link: Option<String>,
    #[serde(default)]
    pub image: Option<String>,
}

/// One recent thing to show. Fields the owner chose not to show are `null` or empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Unique per notification (`cv_12`, `en_34`), so a widget shows each once.
    pub id: String,
    pub kind: NotificationKind,
    /// "Joe B.", or [`SOMEONE`] when names are not shown or not known.
    pub name: String,
    /// "Miami, FL", "Miami, United States", "Australia"; `null` when not shown or not known.
    pub place: Option<String>,
    /// For conversions: the product bought, when there is one and products are shown.
    pub product: Option<NotifiedProduct>,
    /// When it happened, unix milliseconds.
    pub occurred_at: i64,
    /// The sentence a widget shows, in English: "Joe B. from Miami, FL just bought Sneakers".
    pub text: String,
}

/// Counts for "124 people entered today" (UTC days).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivitySummary {
    pub entries_today: u64,
    pub conversions_today: u64,
}

/// Where toasts appear.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToastPosition {
    #[default]
    BottomLeft,
    BottomRight,
    TopLeft,
    TopRight,
}

/// Which parts of a notification may be shown on the owner's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShownFields {
    /// First name and last initial.
    pub name: bool,
    /// City, state, country.
    pub location: bool,
    /// Product name and picture.
    pub product: bool,
    /// The product link.
    pub link: bool,
}

impl Default for ShownFields {
    fn default() -> Self {
        Self {
            name: true,
            location: true,
            product: true,
            link: true,
        }
    }
}

/// A campaign's social proof settings: `settings.social_proof` of the campaign in the admin
/// API. Off unless `enabled`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SocialProofSettings {
    pub enabled: bool,
    pub position: ToastPosition,
    /// Seconds from one toast's going to the next one's coming.
    pub interval_seconds: u32,
    /// Most toasts one visitor sees in a visit (the browser tab's session, over pages).
    pub max_per_visit: u32,
    /// Seconds a toast stays (longer while the pointer or the keyboard focus is on it).
    pub display_seconds: u32,
    /// Show this campaign's own entries ("Joe B. just entered").
    pub show_entries: bool,
    /// Show conversions from the workspace's streams (those that list this campaign, or
    /// list none).
    pub show_conversions: bool,
    pub fields: ShownFields,
    /// Leave out conversions of people who are contestants of this campaign, and the
    /// campaign's own entries' names (shown as "Someone").
    pub exclude_contestants: bool,
}

impl Default for SocialProofSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            position: ToastPosition::BottomLeft,
            interval_seconds: 8,
            max_per_visit: 5,
            display_seconds: 6,
            show_entries: true,
            show_conversions: true,
            fields: ShownFields::default(),
            exclude_contestants: false,
        }
    }
}

/// What the widget needs of [`SocialProofSettings`] (in the public campaign).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicSocialProof {
    pub position: ToastPosition,
    pub interval_seconds: u32,
    pub max_per_visit: u32,
    pub display_seconds: u32,
}

impl From<&SocialProofSettings> for PublicSocialProof {
    fn from(settings: &SocialProofSettings) -> Self {
        Self {
            position: settings.position,
            interval_seconds: settings.interval_seconds,
            max_per_visit: settings.max_per_visit,
            display_seconds: settings.display_seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_default_field_by_field() {
        let settings: SocialProofSettings =
            serde_json::from_str(r#"{"enabled": true, "fields": {"link": false}}"#)
                .expect("parses");
        assert!(settings.enabled && settings.show_entries && settings.fields.name);
        assert!(!settings.fields.link);
        assert_eq!(settings.interval_seconds, 8);
        assert!(serde_json::from_str::<SocialProofSettings>(r#"{"enabeld": true}"#).is_err());
    }
}
