//! A campaign as the public API shows it to the widget: `GET /api/v1/public/campaigns/{key}`.

use serde::{Deserialize, Serialize};

use crate::ids::{CampaignKey, EntryMethodId};

/// The three kinds of campaign (`campaign.type` in the webhook body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CampaignType {
    Competition,
    Reward,
    Capture,
}

impl CampaignType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Competition => "Competition",
            Self::Reward => "Reward",
            Self::Capture => "Capture",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Competition, Self::Reward, Self::Capture]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// Whether a campaign takes entries now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    Draft,
    Running,
    Paused,
    Ended,
}

impl CampaignStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Ended => "ended",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Draft, Self::Running, Self::Paused, Self::Ended]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// The kinds of action a contestant can complete (`entry.type` in the webhook body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryMethodType {
    EmailSubscribe,
    CustomQuestion,
    VisitUrl,
    SecretCode,
    Referral,
    SocialFollow,
    Upload,
}

impl EntryMethodType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EmailSubscribe => "email_subscribe",
            Self::CustomQuestion => "custom_question",
            Self::VisitUrl => "visit_url",
            Self::SecretCode => "secret_code",
            Self::Referral => "referral",
            Self::SocialFollow => "social_follow",
            Self::Upload => "upload",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::EmailSubscribe,
            Self::CustomQuestion,
            Self::VisitUrl,
            Self::SecretCode,
            Self::Referral,
            Self::SocialFollow,
            Self::Upload,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

/// One way to enter, as the widget renders it.
///
/// The settings of the method's type are in the one field named after it
/// (`custom_question`, `visit_url`, `secret_code`, `social_follow`, `upload`); the others are
/// absent. `email_subscribe` and `referral` have no settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicEntryMethod {
    pub id: EntryMethodId,
    #[serde(rename = "type")]
    pub method_type: EntryMethodType,
    /// What the contestant is asked to do, e.g. "Subscribe to our newsletter".
    pub action: String,
    /// How many entries completing it earns (for `referral`: per friend who enters).
    pub worth: u32,
    /// Mandatory methods come first: the others open once every mandatory one is done.
    pub mandatory: bool,
    /// `false`: once per contestant. `true`: once per UTC calendar day.
    #[serde(default, skip_serializing_if = "is_false")]
    pub daily: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_question: Option<QuestionSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit_url: Option<VisitUrlSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_code: Option<SecretCodeSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub social_follow: Option<SocialFollowSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<UploadSettings>,
}

/// How a custom question is answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerKind {
    /// A line of free text.
    #[default]
    Text,
    /// One of [`QuestionSettings::choices`], exactly as written there.
    Choice,
    /// A box ticked (`"true"`) or not (`"false"`).
    Checkbox,
}

/// `custom_question`: the answer is the entry's `value` and lands in `user.details` under the
/// question's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionSettings {
    pub question: String,
    #[serde(default)]
    pub kind: AnswerKind,
    /// For `choice`: the options, in display order.
    #[serde(default)]
    pub choices: Vec<String>,
    /// An empty text, no choice or an unticked box is refused (`answer_required`).
    #[serde(default)]
    pub required: bool,
}

/// `visit_url`: counts when the contestant clicks through (the page opens in a new tab).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitUrlSettings {
    /// `https://…` (or `http://…`) only.
    pub url: String,
}

/// `secret_code`: the contestant types a code found elsewhere (a product page, a video). The
/// code itself stays on the server, which checks it (`wrong_secret_code`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretCodeSettings {
    /// Where to find it, e.g. "It's in our latest newsletter".
    #[serde(default)]
    pub hint: String,
}

/// `social_follow`: honour system; counts when the contestant clicks through to the profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialFollowSettings {
    /// Lower-case network name as in the webhook's `social_links`, e.g. `twitter`, `instagram`.
    pub provider: String,
    /// The profile to follow, `https://…`.
    pub profile_url: String,
    /// The account's handle, shown beside the button, e.g. `gleamapp`.
    #[serde(default)]
    pub handle: String,
}

/// What an `upload` method takes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadKind {
    /// The address of an image already online (an Instagram post, say); the entry's `value`.
    #[default]
    ImageUrl,
    /// A file sent first to the uploads route; the entry cites its `upload_id`.
    File,
}

/// `upload`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadSettings {
    #[serde(default)]
    pub accept: UploadKind,
    /// For `file`: the largest file the server takes, in bytes (0: the server's default).
    #[serde(default)]
    pub max_bytes: u64,
}

/// What a Reward campaign hands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RewardKind {
    /// A file to download: the unlocked reward carries its `url`.
    Download,
    /// A code handed out once from the campaign's pool: the unlocked reward carries its `code`.
    Coupon,
}

impl RewardKind {
    /// As in the webhook body's `reward.type` and `coupon.type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Download => "Download",
            Self::Coupon => "Coupon",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Download, Self::Coupon]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// When a Reward campaign's reward unlocks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum RewardUnlock {
    /// Once every mandatory entry method is done (with no mandatory method: any one action).
    #[default]
    AllMandatory,
    /// Once `count` actions are done (each completion of a daily method counts).
    Actions { count: u32 },
}

/// A Reward campaign's reward, as the widget announces it. Never the code or the link: those
/// come only in the answer to the entry that unlocks it (and in the contestant's status).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicReward {
    #[serde(rename = "type")]
    pub kind: RewardKind,
    /// e.g. "10% off your next order".
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub unlock: RewardUnlock,
}

/// How a Capture campaign's form appears on the host page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureDisplay {
    /// In the page, where the element is.
    #[default]
    Inline,
    /// A dialog over the page, [`CaptureSettings::delay_seconds`] after the page loaded.
    Modal,
    /// A dialog over the page when the pointer leaves it through the top (about to close the
    /// tab or go back). Never on touch screens, which have no such gesture.
    ExitIntent,
    /// A bar fixed to the bottom of the window.
    Bar,
}

impl CaptureDisplay {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inline => "inline",
            Self::Modal => "modal",
            Self::ExitIntent => "exit_intent",
            Self::Bar => "bar",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Inline, Self::Modal, Self::ExitIntent, Self::Bar]
            .into_iter()
            .find(|display| display.as_str() == text)
    }
}

/// A Capture campaign's form: one email field (and consent), posted at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureSettings {
    #[serde(default)]
    pub display: CaptureDisplay,
    /// For `modal`: seconds after the page loaded before it opens (0: at once).
    #[serde(default)]
    pub delay_seconds: u32,
    /// The submit button's text; empty: the widget's own ("Subscribe", translated).
    #[serde(default)]
    pub button_text: String,
    /// The thank-you line; empty: the widget's own.
    #[serde(default)]
    pub success_text: String,
}

/// Everything the widget needs to render a campaign. Contains nothing secret (no secret
/// codes, no coupon codes, no download links).
///
/// Fields after `issued_at` came with the full widget. Each has a default, so answers of
/// servers that predate them still parse, and is left out of the JSON when at its default,
/// so a campaign that uses none of them reads exactly as it did before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicCampaign {
    pub key: CampaignKey,
    pub name: String,
    #[serde(rename = "type")]
    pub campaign_type: CampaignType,
    pub status: CampaignStatus,
    /// One line under the name.
    pub description: String,
    /// The consent statement shown beside the (unticked) consent box and stored with the entry.
    pub consent_text: String,
    pub entry_methods: Vec<PublicEntryMethod>,
    /// When the server answered, in unix milliseconds. The widget echoes it as
    /// [`EntryRequest::form_issued_at`](crate::entry::EntryRequest::form_issued_at) so the
    /// server can tell a form filled in by a person from one posted at once by a script.
    /// 0 from servers that predate it.
    #[serde(default)]
    pub issued_at: i64,
    /// When the campaign opens and closes, unix milliseconds; `null`: no limit. The server
    /// refuses entries outside (`campaign_not_running`); the widget says so before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<i64>,
    /// A picture for the campaign (`https://…`), shown above the name and in share previews.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image_url: String,
    /// Reward campaigns: what they unlock. Absent for the other types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward: Option<PublicReward>,
    /// Capture campaigns: how the form appears. Absent: inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<CaptureSettings>,
    /// Social proof: when present, the widget follows the campaign's activity stream and
    /// shows its notifications as toasts, as these settings say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub social_proof: Option<crate::social::PublicSocialProof>,
}

fn is_false(value: &bool) -> bool {
    !value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in [
            CampaignType::Competition,
            CampaignType::Reward,
            CampaignType::Capture,
        ] {
            assert_eq!(CampaignType::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).ok(), Some(kind.as_str().into()));
        }
        for method in [EntryMethodType::EmailSubscribe, EntryMethodType::Upload] {
            assert_eq!(EntryMethodType::parse(method.as_str()), Some(method));
            assert_eq!(
                serde_json::to_value(method).ok(),
                Some(method.as_str().into())
            );
        }
        assert_eq!(
            CampaignStatus::parse("running"),
            Some(CampaignStatus::Running)
        );
        assert_eq!(CampaignType::parse("competition"), None);
    }

    #[test]
    fn issued_at_defaults_to_zero_for_older_servers() {
        let old = r#"{"key":"demo","name":"Demo","type":"Competition","status":"running",
                      "description":"","consent_text":"","entry_methods":[]}"#;
        let campaign: PublicCampaign = serde_json::from_str(old).expect("old answers still parse");
        assert_eq!(campaign.issued_at, 0);
        assert_eq!(
            (campaign.reward, campaign.capture, campaign.social_proof),
            (None, None, None)
        );
    }

    /// `fixture` parses as `T` and serialises back to the same JSON, key for key.
    fn round_trip<T: Serialize + serde::de::DeserializeOwned>(fixture: &str) -> T {
        let parsed: T = serde_json::from_str(fixture).expect("the fixture parses");
        let original: serde_json::Value = serde_json::from_str(fixture).expect("valid JSON");
        assert_eq!(
            serde_json::to_value(&parsed).expect("serialises"),
            original,
            "the fixture round-trips unchanged"
        );
        parsed
    }

    #[test]
    fn full_campaign_fixtures_round_trip() {
        let competition: PublicCampaign =
            round_trip(include_str!("../fixtures/public_campaign_competition.json"));
        let types: Vec<EntryMethodType> = competition
            .entry_methods
            .iter()
            .map(|method| method.method_type)
            .collect();
        assert_eq!(
            types,
            [
                EntryMethodType::EmailSubscribe,
                EntryMethodType::CustomQuestion,
                EntryMethodType::VisitUrl,
                EntryMethodType::SecretCode,
                EntryMethodType::Referral,
                EntryMethodType::SocialFollow,
                EntryMethodType::Upload,
            ],
            "one method of each type"
        );
        let reward: PublicCampaign =
            round_trip(include_str!("../fixtures/public_campaign_reward.json"));
        assert_eq!(
            reward.reward.map(|reward| (reward.kind, reward.unlock)),
            Some((RewardKind::Coupon, RewardUnlock::Actions { count: 2 }))
        );
        let capture: PublicCampaign =
            round_trip(include_str!("../fixtures/public_campaign_capture.json"));
        assert_eq!(
            capture
                .capture
                .map(|capture| (capture.display, capture.delay_seconds)),
            Some((CaptureDisplay::Modal, 5))
        );
    }

    #[test]
    fn settings_default_when_absent() {
        let method: PublicEntryMethod = serde_json::from_str(
            r#"{"id":1,"type":"upload","action":"Show us","worth":1,"mandatory":false,
                "upload":{},"custom_question":{"question":"Why?"}}"#,
        )
        .expect("parses");
        assert!(!method.daily);
        assert_eq!(method.upload, Some(UploadSettings::default()));
        assert_eq!(
            method.custom_question.map(|q| (q.kind, q.required)),
            Some((AnswerKind::Text, false))
        );
        let reward: PublicReward =
            serde_json::from_str(r#"{"type":"Download","title":"The guide"}"#).expect("parses");
        assert_eq!(reward.unlock, RewardUnlock::AllMandatory);
    }

    #[test]
    fn display_names_round_trip() {
        for display in [
            CaptureDisplay::Inline,
            CaptureDisplay::Modal,
            CaptureDisplay::ExitIntent,
            CaptureDisplay::Bar,
        ] {
            assert_eq!(CaptureDisplay::parse(display.as_str()), Some(display));
            assert_eq!(
                serde_json::to_value(display).ok(),
                Some(display.as_str().into())
            );
        }
        for kind in [RewardKind::Download, RewardKind::Coupon] {
            assert_eq!(RewardKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).ok(), Some(kind.as_str().into()));
        }
    }
}
