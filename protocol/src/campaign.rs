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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicEntryMethod {
    pub id: EntryMethodId,
    #[serde(rename = "type")]
    pub method_type: EntryMethodType,
    /// What the contestant is asked to do, e.g. "Subscribe to our newsletter".
    pub action: String,
    /// How many entries completing it earns.
    pub worth: u32,
    pub mandatory: bool,
}

/// Everything the widget needs to render a campaign. Contains nothing secret.
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
    /// Social proof: when present, the widget follows the campaign's activity stream and
    /// shows its notifications as toasts, as these settings say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub social_proof: Option<crate::social::PublicSocialProof>,
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
    }
}
