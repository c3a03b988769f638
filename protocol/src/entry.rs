//! The public entry calls: `POST /api/v1/public/campaigns/{key}/entries`, the contestant's
//! status, uploads, and the API's error body.
//!
//! The widget sends the entry body as `text/plain;charset=UTF-8` (a CORS-safelisted type, so
//! the browser sends no preflight); the server parses it as JSON whatever the content type
//! says.
//!
//! Two generations live side by side. [`EntryRequest`] and [`EntryResponse`] are what the
//! first server speaks. [`EntryPost`] and [`EntryAnswer`] are what the full widget speaks:
//! the same JSON objects with more keys (flattened in, each with a default), so either side
//! can be upgraded first. They are separate structs only so that code building the first
//! generation keeps compiling; once the server builds the new ones, they can be folded
//! together without changing a byte on the wire.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::events::ContestantInfo;
use crate::ids::{ContestantToken, EntryId, EntryMethodId, ReferralCode, UploadId};

/// Longest idempotency key the server accepts.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 64;

/// One completed action, as the widget posts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryRequest {
    /// Made by the client once per action; a retried post with the same key never makes a
    /// second entry (the server answers with the first one).
    pub idempotency_key: String,
    pub entry_method_id: EntryMethodId,
    pub email: String,
    #[serde(default)]
    pub name: String,
    /// True only if the contestant ticked the consent box.
    #[serde(default)]
    pub consent: bool,
    /// Answers to custom questions: question → answer (`user.details` in the webhook).
    #[serde(default)]
    pub details: BTreeMap<String, serde_json::Value>,
    /// The host page the widget ran on.
    #[serde(default)]
    pub landing_url: String,
    /// `document.referrer` of that page.
    #[serde(default)]
    pub referring_url: String,
    /// A field people never see and bots fill in. Anything but empty is suspicious.
    #[serde(default)]
    pub honeypot: String,
    /// [`PublicCampaign::issued_at`](crate::campaign::PublicCampaign::issued_at) of the campaign
    /// the form was rendered from, echoed unchanged; left out when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_issued_at: Option<i64>,
}

/// The server's answer to an accepted entry (201 Created, or 200 OK when the idempotency key
/// was seen before and this is the first entry again).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryResponse {
    pub entry: EntrySummary,
    /// Actions this contestant has completed in the campaign, this one included.
    pub actions_completed: u32,
    /// Entries this contestant has earned in the campaign (each action adds its worth).
    pub total_entries: u32,
}

/// The entry as the contestant and the host page see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntrySummary {
    pub id: EntryId,
    pub entry_method_id: EntryMethodId,
    #[serde(rename = "type")]
    pub entry_type: String,
    pub action: String,
    pub worth: u32,
    /// `YYYY-MM-DD HH:MM:SS UTC`, as in the webhook body.
    pub created_at: String,
}

/// What the full widget posts: [`EntryRequest`] and, in the same JSON object, what the
/// action captured and who the contestant is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryPost {
    #[serde(flatten)]
    pub request: EntryRequest,
    #[serde(flatten)]
    pub action: EntryAction,
}

/// The keys of an entry post beyond [`EntryRequest`]'s. All optional: absent means empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EntryAction {
    /// What the action captured, by entry method type: `custom_question` the answer (a
    /// choice exactly as listed; `"true"`/`"false"` for a checkbox), `secret_code` the code
    /// typed, `visit_url` the URL opened, `social_follow` the profile URL, `upload` the image
    /// URL (kind `image_url`). Empty for `email_subscribe` (the server uses the email).
    /// `entry.value` of the webhook body.
    pub value: String,
    /// `upload` of kind `file`: the upload the entry cites (from the uploads route).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<UploadId>,
    /// The code of the contestant who shared the link this visitor arrived through
    /// (`?hl_ref=` of the landing page), on every post until the server has credited it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referrer_code: Option<ReferralCode>,
    /// The token from an earlier answer, once the widget has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contestant_token: Option<ContestantToken>,
}

/// The full answer to an accepted entry: [`EntryResponse`] and, in the same JSON object, the
/// contestant's session and the reward this entry unlocked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryAnswer {
    #[serde(flatten)]
    pub response: EntryResponse,
    #[serde(flatten)]
    pub session: ContestantSession,
    /// Set only in the answer to the entry that unlocked the reward (and in its replays).
    #[serde(default)]
    pub reward: Option<UnlockedReward>,
    /// What a data-source endpoint answered to this entry (its chosen fields, as text), when
    /// one was sent the entry and answered in time (and in replays).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<AnswerFields>,
}

/// The fields of a data source's answer: a JSON object of name → text (`{"promocode":
/// "SAVE-7QK2"}`). A list of pairs rather than a map, so the widget, which reads and writes it
/// field by field, carries no map code for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnswerFields(pub Vec<(String, String)>);

impl Serialize for AnswerFields {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(name, value)| (name, value)))
    }
}

impl<'de> Deserialize<'de> for AnswerFields {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let fields = BTreeMap::<String, String>::deserialize(deserializer)?;
        Ok(Self(fields.into_iter().collect()))
    }
}

/// Who the contestant is to the server and what they have done: in every [`EntryAnswer`] and
/// in the [`ContestantStatus`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContestantSession {
    /// The widget keeps it in `localStorage` and sends it back (see [`ContestantToken`]).
    /// Every answer of the server carries the contestant's current one.
    pub contestant_token: Option<ContestantToken>,
    /// The contestant's own code for share links.
    pub referral_code: Option<ReferralCode>,
    /// The contestant's share link: the campaign's hosted page (`/c/{key}`) with
    /// `?hl_ref={referral_code}` (a widget without one from the server builds it from the
    /// page it is embedded in).
    pub referral_url: String,
    /// Friends who entered through the share link, each credited with the referral method's
    /// worth.
    pub referrals: u32,
    /// Every entry method the contestant has completed, so the widget shows each as done, or
    /// (daily methods) done today.
    pub completed: Vec<CompletedMethod>,
}

/// One entry method a contestant has completed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletedMethod {
    pub entry_method_id: EntryMethodId,
    /// How many times: 1 for a once method; days done for a daily one.
    pub times: u32,
    /// The latest completion, unix milliseconds.
    pub last_completed_at: i64,
}

/// A reward the contestant has unlocked, with what it gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum UnlockedReward {
    /// A code from the campaign's pool, handed to this contestant only.
    Coupon { code: String, title: String },
    /// A link to the file.
    Download { url: String, title: String },
}

/// `GET /api/v1/public/campaigns/{key}/contestant?token={contestant_token}`: a returning
/// visitor's status, from the server (which is the truth for totals).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContestantStatus {
    pub user: ContestantInfo,
    #[serde(flatten)]
    pub session: ContestantSession,
    pub actions_completed: u32,
    pub total_entries: u32,
    /// The reward, if one was unlocked earlier, to show again.
    #[serde(default)]
    pub reward: Option<UnlockedReward>,
}

/// `POST /api/v1/public/campaigns/{key}/uploads` (201): a stored file, for an `upload` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadAnswer {
    pub upload_id: UploadId,
    /// `entry.upload.original_url` of the webhook body.
    pub url: String,
    #[serde(default)]
    pub thumb_url: String,
    pub content_type: String,
}

/// The stable `code`s of [`ApiError`]. The first group is what the first server sends; the
/// second is what the full entry rules add (see ARCHITECTURE.md, "HTTP routes").
pub mod codes {
    pub const CAMPAIGN_NOT_FOUND: &str = "campaign_not_found";
    pub const CAMPAIGN_NOT_RUNNING: &str = "campaign_not_running";
    pub const UNKNOWN_ENTRY_METHOD: &str = "unknown_entry_method";
    pub const INVALID_EMAIL: &str = "invalid_email";
    pub const INVALID_NAME: &str = "invalid_name";
    pub const CONSENT_REQUIRED: &str = "consent_required";
    pub const INVALID_IDEMPOTENCY_KEY: &str = "invalid_idempotency_key";
    pub const INVALID_JSON: &str = "invalid_json";
    pub const UNREADABLE_BODY: &str = "unreadable_body";
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    pub const INTERNAL_ERROR: &str = "internal_error";

    /// 409: a once method done already, or a daily one done today (UTC).
    pub const ALREADY_ENTERED: &str = "already_entered";
    /// 409: a non-mandatory method before every mandatory one is done.
    pub const MANDATORY_FIRST: &str = "mandatory_first";
    /// 422, field `value`: a required answer is empty, or a choice is not one listed.
    pub const ANSWER_REQUIRED: &str = "answer_required";
    pub const INVALID_CHOICE: &str = "invalid_choice";
    /// 422, field `value`: the secret code typed is not the campaign's.
    pub const WRONG_SECRET_CODE: &str = "wrong_secret_code";
    /// 422, field `value`: not an `http(s)://` URL, or no such upload.
    pub const INVALID_UPLOAD: &str = "invalid_upload";
    /// 415: the uploads route takes images only.
    pub const UNSUPPORTED_UPLOAD_TYPE: &str = "unsupported_upload_type";
    /// 404: the contestant token is unknown in this campaign.
    pub const CONTESTANT_NOT_FOUND: &str = "contestant_not_found";
    /// 422: a `referral` method is credited by friends' entries, never posted.
    pub const NOT_POSTABLE: &str = "not_postable";
}

/// Every 4xx and 5xx body of the API. `code` is stable and snake_case; `detail` is for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: String,
    pub detail: String,
    /// The request field the error is about, when there is one, so a form can show it there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_issued_at_is_optional_both_ways() {
        let old = r#"{"idempotency_key":"k","entry_method_id":1,"email":"joe@example.com"}"#;
        let request: EntryRequest = serde_json::from_str(old).expect("old bodies still parse");
        assert_eq!(request.form_issued_at, None);
        let sent = serde_json::to_value(&request).expect("serialises");
        assert!(sent.get("form_issued_at").is_none(), "{sent}");

        let new = r#"{"idempotency_key":"k","entry_method_id":1,"email":"joe@example.com","form_issued_at":1700000000000}"#;
        let request: EntryRequest = serde_json::from_str(new).expect("parses");
        assert_eq!(request.form_issued_at, Some(1_700_000_000_000));
        let sent = serde_json::to_value(&request).expect("serialises");
        assert_eq!(sent["form_issued_at"], 1_700_000_000_000_i64);
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
    fn entry_post_fixture_round_trips() {
        let post: EntryPost = round_trip(include_str!("../fixtures/entry_post.json"));
        assert_eq!(post.action.value, "With milk");
        assert_eq!(
            post.action.referrer_code.as_ref().map(ReferralCode::as_str),
            Some("Fr13nd")
        );
    }

    #[test]
    fn an_entry_post_is_an_entry_request_to_older_servers() {
        let fixture = include_str!("../fixtures/entry_post.json");
        let old: EntryRequest = serde_json::from_str(fixture).expect("older servers parse it");
        let post: EntryPost = serde_json::from_str(fixture).expect("parses");
        assert_eq!(old, post.request);
    }

    #[test]
    fn an_older_request_is_a_post_with_nothing_captured() {
        let old = r#"{"idempotency_key":"k","entry_method_id":1,"email":"joe@example.com"}"#;
        let post: EntryPost = serde_json::from_str(old).expect("parses");
        assert_eq!(post.action, EntryAction::default());
        let sent = serde_json::to_value(&post).expect("serialises");
        for absent in ["upload_id", "referrer_code", "contestant_token"] {
            assert!(sent.get(absent).is_none(), "{absent} is left out: {sent}");
        }
    }

    #[test]
    fn entry_answer_fixtures_round_trip() {
        let answer: EntryAnswer = round_trip(include_str!("../fixtures/entry_answer.json"));
        assert_eq!(
            answer.reward,
            Some(UnlockedReward::Coupon {
                code: "SAVE10-7QK2".into(),
                title: "10% off".into()
            })
        );
        let download: EntryAnswer =
            round_trip(include_str!("../fixtures/entry_answer_download.json"));
        assert!(matches!(
            download.reward,
            Some(UnlockedReward::Download { .. })
        ));
    }

    #[test]
    fn a_data_sources_answer_round_trips() {
        let answer: EntryAnswer =
            round_trip(include_str!("../fixtures/entry_answer_data_source.json"));
        assert_eq!(
            answer.answer,
            Some(AnswerFields(vec![("promocode".into(), "SAVE-7QK2".into())]))
        );
        let fixture = include_str!("../fixtures/entry_answer.json");
        let without: EntryAnswer = serde_json::from_str(fixture).expect("parses");
        assert_eq!(without.answer, None, "left out when there is none");
    }

    #[test]
    fn a_first_generation_response_is_an_answer_without_a_session() {
        let old = include_str!("../fixtures/entry_response_v1.json");
        let _: EntryResponse = round_trip(old);
        let answer: EntryAnswer = serde_json::from_str(old).expect("parses");
        assert_eq!(answer.session, ContestantSession::default());
        assert_eq!(answer.reward, None);
    }

    #[test]
    fn contestant_status_and_upload_fixtures_round_trip() {
        let status: ContestantStatus =
            round_trip(include_str!("../fixtures/contestant_status.json"));
        assert_eq!(status.session.completed.len(), 2);
        let _: UploadAnswer = round_trip(include_str!("../fixtures/upload_answer.json"));
    }

    #[test]
    fn api_error_fixture_round_trips() {
        let error: ApiError = round_trip(include_str!("../fixtures/api_error.json"));
        assert_eq!(error.code, codes::WRONG_SECRET_CODE);
    }
}
