//! The webhook body: exactly the JSON shape of Gleam's webhooks (`shared/seeds/000_*`), so a
//! receiver written for Gleam reads Hookline's without change. Every key is always present;
//! what a campaign does not have is `null` (`reward`, `coupon`, `entry.upload`), `{}` or `[]`.
//!
//! The event type and ids travel in headers (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature` per Standard Webhooks, and [`EVENT_TYPE_HEADER`]), not in the body.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::campaign::CampaignType;
use crate::ids::{CampaignKey, EntryId, EntryMethodId};

/// Header naming the event type of a webhook, e.g. `hookline-event: entry.created`.
pub const EVENT_TYPE_HEADER: &str = "hookline-event";

/// Webhook event types: dot-delimited, past tense.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    /// A subscribe action that passed the fraud filter (Gleam's Integration webhook).
    #[serde(rename = "subscriber.created")]
    SubscriberCreated,
    /// Every completed action, at once (Gleam's Post Entry webhook).
    #[serde(rename = "entry.created")]
    EntryCreated,
    /// A Capture campaign's form was submitted.
    #[serde(rename = "capture.created")]
    CaptureCreated,
    #[serde(rename = "entry.disqualified")]
    EntryDisqualified,
    #[serde(rename = "reward.unlocked")]
    RewardUnlocked,
    #[serde(rename = "conversion.received")]
    ConversionReceived,
    /// Sent by "send test"; never by real activity.
    #[serde(rename = "webhook.test")]
    WebhookTest,
    /// An entry sent by a manual or one-time job (the entry's body, as `entry.created`
    /// carried it), not by the action itself.
    #[serde(rename = "entry.exported")]
    EntryExported,
    /// A recurring job's digest: a JSON array of the bodies of every entry made since its
    /// last run.
    #[serde(rename = "digest.created")]
    DigestCreated,
}

impl EventType {
    pub const ALL: [Self; 9] = [
        Self::SubscriberCreated,
        Self::EntryCreated,
        Self::CaptureCreated,
        Self::EntryDisqualified,
        Self::RewardUnlocked,
        Self::ConversionReceived,
        Self::WebhookTest,
        Self::EntryExported,
        Self::DigestCreated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SubscriberCreated => "subscriber.created",
            Self::EntryCreated => "entry.created",
            Self::CaptureCreated => "capture.created",
            Self::EntryDisqualified => "entry.disqualified",
            Self::RewardUnlocked => "reward.unlocked",
            Self::ConversionReceived => "conversion.received",
            Self::WebhookTest => "webhook.test",
            Self::EntryExported => "entry.exported",
            Self::DigestCreated => "digest.created",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|event| event.as_str() == text)
    }

    /// Whether an endpoint may subscribe to it: not the events only tests and jobs send.
    pub fn subscribable(self) -> bool {
        !matches!(
            self,
            Self::WebhookTest | Self::EntryExported | Self::DigestCreated
        )
    }
}

/// The body of `subscriber.created`, `entry.created`, `capture.created`,
/// `entry.disqualified` and `reward.unlocked`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryPayload {
    pub campaign: CampaignRef,
    pub reward: Option<RewardCode>,
    pub coupon: Option<RewardCode>,
    pub user: User,
    pub entry: Entry,
    pub social_links: Vec<SocialLink>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignRef {
    pub name: String,
    pub key: CampaignKey,
    #[serde(rename = "type")]
    pub campaign_type: CampaignType,
}

/// A reward (`"type": "Download"`) or coupon (`"type": "Coupon"`) handed to the contestant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RewardCode {
    #[serde(rename = "type")]
    pub reward_type: String,
    pub code: String,
}

/// The contestant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub country: String,
    pub region: String,
    pub city: String,
    pub country_code: String,
    /// Actions completed in this campaign, this one included.
    pub actions_completed: u32,
    /// Custom fields: question → answer (a string, or a number where the answer was one).
    pub details: BTreeMap<String, serde_json::Value>,
}

/// The completed action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: EntryId,
    pub entry_method_id: EntryMethodId,
    pub action: String,
    /// `YYYY-MM-DD HH:MM:SS UTC`.
    pub created_at: String,
    #[serde(rename = "type")]
    pub entry_type: String,
    pub value: String,
    pub worth: u32,
    pub landing_url: String,
    pub referring_url: String,
    pub upload: Option<Upload>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub original_url: String,
    pub thumb_url: String,
    pub post_url: String,
    pub post_text: String,
    pub content_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialLink {
    pub provider: String,
    pub uid: String,
    pub reference: String,
}

/// The body of `conversion.received`: a conversion an inbound stream received, as stored
/// (fields the sender left out are `null`; `raw` is the payload as received).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversionPayload {
    pub stream: StreamRef,
    pub conversion: ConversionBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamRef {
    /// `st_…`.
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversionBody {
    pub id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// `YYYY-MM-DD HH:MM:SS UTC`, as in the entry webhooks.
    pub occurred_at: String,
    pub ip: Option<String>,
    pub guid: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub country_code: Option<String>,
    pub state: Option<String>,
    pub state_code: Option<String>,
    pub product_name: Option<String>,
    pub product_link: Option<String>,
    pub product_image: Option<String>,
    /// Exact decimal text as sent, e.g. `"55.90"`.
    pub total: Option<String>,
    pub currency: Option<String>,
    pub products: serde_json::Value,
    pub raw: serde_json::Value,
}

/// Formats seconds since the Unix epoch as Gleam does: `2015-11-18 05:14:37 UTC`.
pub fn format_created_at(unix_seconds: i64) -> String {
    let days = unix_seconds.div_euclid(86_400);
    let seconds_of_day = unix_seconds.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let (hour, minute, second) = (
        seconds_of_day / 3600,
        seconds_of_day % 3600 / 60,
        seconds_of_day % 60,
    );
    if !(0..=9999).contains(&year) {
        return format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02} UTC");
    }
    // Digit by digit: `format!` took 2,800 instructions a call, and every entry written
    // formats its time twice (its webhook body and its answer), on the entry writer.
    let mut text = *b"0000-00-00 00:00:00 UTC";
    for (at, value, width) in [
        (0, year, 4),
        (5, month, 2),
        (8, day, 2),
        (11, hour, 2),
        (14, minute, 2),
        (17, second, 2),
    ] {
        let mut rest = value;
        for digit in text[at..at + width].iter_mut().rev() {
            *digit = b'0' + u8::try_from(rest % 10).unwrap_or_default();
            rest /= 10;
        }
    }
    text.iter().map(|&byte| char::from(byte)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of `shared/seeds/000_*`, byte for byte in meaning.
    const GLEAM_EXAMPLE: &str = include_str!("../fixtures/gleam_example.json");

    #[test]
    fn gleam_example_round_trips_unchanged() {
        let parsed: EntryPayload =
            serde_json::from_str(GLEAM_EXAMPLE).expect("seed example parses");
        let original: serde_json::Value = serde_json::from_str(GLEAM_EXAMPLE).expect("valid JSON");
        assert_eq!(serde_json::to_value(&parsed).expect("serialises"), original);
    }

    #[test]
    fn absent_parts_are_null_not_missing() {
        let mut payload: EntryPayload =
            serde_json::from_str(GLEAM_EXAMPLE).expect("seed example parses");
        payload.reward = None;
        payload.coupon = None;
        payload.entry.upload = None;
        let value = serde_json::to_value(&payload).expect("serialises");
        assert!(value["reward"].is_null() && value.get("reward").is_some());
        assert!(value["coupon"].is_null() && value.get("coupon").is_some());
        assert!(
            value["entry"]
                .get("upload")
                .is_some_and(serde_json::Value::is_null)
        );
    }

    #[test]
    fn event_types_round_trip() {
        for event in EventType::ALL {
            assert_eq!(EventType::parse(event.as_str()), Some(event));
            assert_eq!(
                serde_json::to_value(event).ok(),
                Some(event.as_str().into())
            );
        }
    }

    #[test]
    fn created_at_matches_gleam() {
        assert_eq!(format_created_at(1_447_823_677), "2015-11-18 05:14:37 UTC");
        assert_eq!(format_created_at(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_created_at(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_created_at(1_795_305_599), "2026-11-21 23:59:59 UTC");
        // Outside four digits of year, as `format!` writes them.
        assert_eq!(
            format_created_at(-62_167_219_201),
            "-001-12-31 23:59:59 UTC"
        );
        assert_eq!(
            format_created_at(253_402_300_800),
            "10000-01-01 00:00:00 UTC"
        );
    }
}
