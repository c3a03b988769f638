//! The entry rules of the full widget, pure: whether a contestant may do an action now
//! (referrals are credited, never posted; mandatory methods first; once, or once per UTC
//! day), what the action captured (the answer, the code, the link, the upload) checked
//! against its method's settings, and when a Reward campaign's reward unlocks.
//!
//! Takes what the database knows (the contestant's completions) as plain data and `now` as
//! an argument. Must not do IO or know HTTP: a refusal is a [`RuleError`], which the API
//! turns into a `{code, detail, field}` answer.

use std::collections::BTreeMap;

use protocol::campaign::{
    AnswerKind, EntryMethodType, QuestionSettings, RewardUnlock, SocialFollowSettings,
    VisitUrlSettings,
};
use protocol::entry::EntryAction;
use protocol::ids::EntryMethodId;
use protocol::payload::{SocialLink, Upload};
use serde_json::Value;

pub use crate::store::Completion;
use crate::store::{CampaignRecord, EntryMethodRecord};

/// Longest answer to a question.
pub const MAX_ANSWER_LEN: usize = 1_000;
/// Longest image address an upload entry takes.
pub const MAX_URL_LEN: usize = 2_048;
/// Milliseconds in a UTC day.
const DAY_MS: i64 = 24 * 3600 * 1000;

/// Why an action is refused. Nothing is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("Referral entries come from friends who enter through your link.")]
    NotPostable,
    #[error("Please do the required actions first.")]
    MandatoryFirst,
    #[error("You have done this already.")]
    AlreadyEntered,
    #[error("You have done this today already: come back tomorrow.")]
    AlreadyEnteredToday,
    #[error("Please answer the question.")]
    AnswerRequired,
    #[error("Please pick one of the choices.")]
    InvalidChoice,
    #[error("That is not the secret code.")]
    WrongSecretCode,
    #[error("Please give the address of a picture (https://…).")]
    InvalidUpload,
    #[error("The answer is longer than {MAX_ANSWER_LEN} characters.")]
    AnswerTooLong,
}

impl RuleError {
    /// The stable code (`protocol::entry::codes`).
    pub fn code(&self) -> &'static str {
        use protocol::entry::codes;
        match self {
            Self::NotPostable => codes::NOT_POSTABLE,
            Self::MandatoryFirst => codes::MANDATORY_FIRST,
            Self::AlreadyEntered | Self::AlreadyEnteredToday => codes::ALREADY_ENTERED,
            Self::AnswerRequired | Self::AnswerTooLong => codes::ANSWER_REQUIRED,
            Self::InvalidChoice => codes::INVALID_CHOICE,
            Self::WrongSecretCode => codes::WRONG_SECRET_CODE,
            Self::InvalidUpload => codes::INVALID_UPLOAD,
        }
    }

    /// Whether it is a conflict with what was done before (409), else a bad value (422).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            Self::MandatoryFirst | Self::AlreadyEntered | Self::AlreadyEnteredToday
        )
    }

    /// The request field it is about.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::NotPostable
            | Self::MandatoryFirst
            | Self::AlreadyEntered
            | Self::AlreadyEnteredToday => Some("entry_method_id"),
            _ => Some("value"),
        }
    }
}

/// What an action captured, ready to store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// `entry.value` of the webhook body.
    pub value: String,
    /// An answer for `user.details`: (question, answer).
    pub detail: Option<(String, Value)>,
    pub social_link: Option<SocialLink>,
    /// An image address the contestant gave (kind `image_url`); a file upload is found by
    /// the store from `EntryAction::upload_id`.
    pub upload: Option<Upload>,
}

/// The UTC day `at` (unix ms) falls in.
pub fn day(at: i64) -> i64 {
    at.div_euclid(DAY_MS)
}

/// Whether the contestant may do `method` now, given what they have done.
pub fn may_enter(
    campaign: &CampaignRecord,
    method: &EntryMethodRecord,
    completed: &[Completion],
    now: i64,
) -> Result<(), RuleError> {
    if method.method_type == EntryMethodType::Referral {
        return Err(RuleError::NotPostable);
    }
    let done = |id: EntryMethodId| completed.iter().find(|done| done.entry_method_id == id);
    if !method.mandatory
        && campaign.entry_methods.iter().any(|other| {
            other.mandatory
                && other.method_type != EntryMethodType::Referral
                && done(other.id).is_none()
        })
    {
        return Err(RuleError::MandatoryFirst);
    }
    match done(method.id) {
        Some(previous) if method.daily && day(previous.last_at) == day(now) => {
            Err(RuleError::AlreadyEnteredToday)
        }
        Some(_) if !method.daily => Err(RuleError::AlreadyEntered),
        _ => Ok(()),
    }
}

/// What `action` captured for `method`, checked against its settings. `email` is the
/// contestant's (normalised), the value of an `email_subscribe` entry.
pub fn capture(
    method: &EntryMethodRecord,
    action: &EntryAction,
    email: &str,
) -> Result<Captured, RuleError> {
    let config = || method.config.clone();
    let value = action.value.trim();
    match method.method_type {
        EntryMethodType::EmailSubscribe => Ok(Captured {
            value: email.to_owned(),
            ..Captured::default()
        }),
        EntryMethodType::Referral => Err(RuleError::NotPostable),
        EntryMethodType::CustomQuestion => {
            let Ok(question) = serde_json::from_value::<QuestionSettings>(config()) else {
                // A question without settings takes any answer, like free text.
                return Ok(Captured {
                    value: value.to_owned(),
                    ..Captured::default()
                });
            };
            if value.chars().count() > MAX_ANSWER_LEN {
                return Err(RuleError::AnswerTooLong);
            }
            let answer = match question.kind {
                AnswerKind::Text => {
                    if question.required && value.is_empty() {
                        return Err(RuleError::AnswerRequired);
                    }
                    value.to_owned()
                }
                AnswerKind::Choice => {
                    if value.is_empty() {
                        if question.required {
                            return Err(RuleError::AnswerRequired);
                        }
                        String::new()
                    } else if let Some(choice) = question
                        .choices
                        .iter()
                        .find(|choice| choice.as_str() == value)
                    {
                        choice.clone()
                    } else {
                        return Err(RuleError::InvalidChoice);
                    }
                }
                AnswerKind::Checkbox => {
                    let ticked = value.eq_ignore_ascii_case("true");
                    if question.required && !ticked {
                        return Err(RuleError::AnswerRequired);
                    }
                    ticked.to_string()
                }
            };
            Ok(Captured {
                detail: Some((question.question.clone(), Value::from(answer.clone()))),
                value: answer,
                ..Captured::default()
            })
        }
        EntryMethodType::VisitUrl => {
            let url = serde_json::from_value::<VisitUrlSettings>(config())
                .map(|visit| visit.url)
                .unwrap_or_else(|_| value.to_owned());
            Ok(Captured {
                value: url,
                ..Captured::default()
            })
        }
        EntryMethodType::SecretCode => {
            let code = method
                .config
                .get("code")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim();
            if code.is_empty() || !value.eq_ignore_ascii_case(code) {
                return Err(RuleError::WrongSecretCode);
            }
            Ok(Captured {
                value: code.to_owned(),
                ..Captured::default()
            })
        }
        EntryMethodType::SocialFollow => {
            let follow = serde_json::from_value::<SocialFollowSettings>(config()).ok();
            let (provider, profile, handle) = follow.map_or_else(
                || (String::new(), value.to_owned(), String::new()),
                |follow| (follow.provider, follow.profile_url, follow.handle),
            );
            Ok(Captured {
                social_link: (!provider.is_empty()).then(|| SocialLink {
                    provider: provider.clone(),
                    uid: String::new(),
                    reference: handle,
                }),
                value: profile,
                ..Captured::default()
            })
        }
        EntryMethodType::Upload => {
            // A file sent to the uploads route first: the store finds it by its id (and
            // refuses one that is not this campaign's). Otherwise, whatever kind the method
            // takes, an image's address will do (a widget without a file picker sends one).
            if action.upload_id.is_some() {
                return Ok(Captured::default());
            }
            if value.len() > MAX_URL_LEN || !is_http_url(value) {
                return Err(RuleError::InvalidUpload);
            }
            Ok(Captured {
                value: value.to_owned(),
                upload: Some(Upload {
                    original_url: value.to_owned(),
                    thumb_url: value.to_owned(),
                    post_url: String::new(),
                    post_text: String::new(),
                    content_type: String::new(),
                }),
                ..Captured::default()
            })
        }
    }
}

fn is_http_url(text: &str) -> bool {
    url::Url::parse(text)
        .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
}

/// Whether a Reward campaign's reward unlocks for a contestant whose completions, after this
/// entry, are `completed` and who has done `actions_completed` actions.
pub fn reward_unlocks(
    campaign: &CampaignRecord,
    unlock: RewardUnlock,
    completed: &[Completion],
    actions_completed: u32,
) -> bool {
    match unlock {
        RewardUnlock::Actions { count } => actions_completed >= count.max(1),
        RewardUnlock::AllMandatory => {
            let mandatory: Vec<EntryMethodId> = campaign
                .entry_methods
                .iter()
                .filter(|method| {
                    method.mandatory && method.method_type != EntryMethodType::Referral
                })
                .map(|method| method.id)
                .collect();
            if mandatory.is_empty() {
                return actions_completed >= 1;
            }
            mandatory
                .iter()
                .all(|id| completed.iter().any(|done| done.entry_method_id == *id))
        }
    }
}

/// The completions after one more entry through `method` at `now`.
pub fn completed_after(
    completed: &[Completion],
    method: EntryMethodId,
    now: i64,
) -> Vec<Completion> {
    let mut after = completed.to_vec();
    match after.iter_mut().find(|done| done.entry_method_id == method) {
        Some(done) => {
            done.times += 1;
            done.last_at = now;
        }
        None => after.push(Completion {
            entry_method_id: method,
            times: 1,
            last_at: now,
        }),
    }
    after
}

/// A contestant's details with `captured`'s answer merged in.
pub fn details_with(
    details: &BTreeMap<String, Value>,
    captured: &Captured,
) -> BTreeMap<String, Value> {
    let mut merged = details.clone();
    if let Some((question, answer)) = &captured.detail {
        merged.insert(question.clone(), answer.clone());
    }
    merged
}

#[cfg(test)]
mod tests {
    use protocol::campaign::{CampaignStatus, CampaignType};
    use protocol::ids::CampaignKey;
    use serde_json::json;

    use super::*;
    use crate::fraud::FraudLevel;

    fn method(
        id: i64,
        method_type: EntryMethodType,
        mandatory: bool,
        daily: bool,
        config: Value,
    ) -> EntryMethodRecord {
        EntryMethodRecord {
            id: EntryMethodId(id),
            method_type,
            action: "Do it".to_owned(),
            worth: 1,
            mandatory,
            daily,
            config,
            position: id,
        }
    }

    fn campaign(methods: Vec<EntryMethodRecord>) -> CampaignRecord {
        CampaignRecord {
            id: 1,
            workspace_id: Some(1),
            key: CampaignKey::parse("c").expect("valid"),
            name: "C".to_owned(),
            campaign_type: CampaignType::Reward,
            status: CampaignStatus::Running,
            description: String::new(),
            consent_text: String::new(),
            starts_at: None,
            ends_at: None,
            allowed_origins: Vec::new(),
            image_url: String::new(),
            settings: json!({}),
            entry_methods: methods,
            fraud_level: FraudLevel::Standard,
            hold_window_ms: 0,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn done(id: i64, last_at: i64) -> Completion {
        Completion {
            entry_method_id: EntryMethodId(id),
            times: 1,
            last_at,
        }
    }

    const NOON: i64 = 1_764_590_400_000; // 2025-12-01 12:00 UTC

    #[test]
    fn mandatory_first_then_once_or_daily() {
        let subscribe = method(1, EntryMethodType::EmailSubscribe, true, false, json!({}));
        let visit = method(2, EntryMethodType::VisitUrl, false, false, json!({}));
        let daily = method(3, EntryMethodType::VisitUrl, false, true, json!({}));
        let referral = method(4, EntryMethodType::Referral, true, false, json!({}));
        let c = campaign(vec![
            subscribe.clone(),
            visit.clone(),
            daily.clone(),
            referral.clone(),
        ]);
        assert_eq!(may_enter(&c, &subscribe, &[], NOON), Ok(()));
        assert_eq!(
            may_enter(&c, &visit, &[], NOON),
            Err(RuleError::MandatoryFirst)
        );
        assert_eq!(
            may_enter(&c, &referral, &[], NOON),
            Err(RuleError::NotPostable)
        );
        let after = [done(1, NOON)];
        assert_eq!(
            may_enter(&c, &subscribe, &after, NOON),
            Err(RuleError::AlreadyEntered)
        );
        assert_eq!(
            may_enter(&c, &visit, &after, NOON),
            Ok(()),
            "referrals are not mandatory to post"
        );
        let today = [done(1, NOON), done(3, NOON - 3_600_000)];
        assert_eq!(
            may_enter(&c, &daily, &today, NOON),
            Err(RuleError::AlreadyEnteredToday)
        );
        let yesterday = [done(1, NOON), done(3, NOON - 13 * 3_600_000)];
        assert_eq!(
            may_enter(&c, &daily, &yesterday, NOON),
            Ok(()),
            "another UTC day"
        );
    }

    fn check_capture(
        method_type: EntryMethodType,
        config: Value,
        value: &str,
        expected: Result<&str, RuleError>,
    ) {
        let m = method(5, method_type, false, false, config);
        let action = EntryAction {
            value: value.to_owned(),
            ..EntryAction::default()
        };
        assert_eq!(
            capture(&m, &action, "joe@example.com").map(|captured| captured.value),
            expected.map(str::to_owned),
            "{method_type:?} {value:?}"
        );
    }

    #[test]
    fn each_method_captures_its_value() {
        use EntryMethodType as T;
        check_capture(T::EmailSubscribe, json!({}), "", Ok("joe@example.com"));
        let text = json!({"question": "How are you?", "kind": "text", "required": true});
        check_capture(T::CustomQuestion, text.clone(), " Great ", Ok("Great"));
        check_capture(
            T::CustomQuestion,
            text,
            "  ",
            Err(RuleError::AnswerRequired),
        );
        let choice = json!({"question": "Tea?", "kind": "choice", "choices": ["Yes", "No"]});
        check_capture(T::CustomQuestion, choice.clone(), "No", Ok("No"));
        check_capture(
            T::CustomQuestion,
            choice,
            "Maybe",
            Err(RuleError::InvalidChoice),
        );
        let terms = json!({"question": "I accept", "kind": "checkbox", "required": true});
        check_capture(T::CustomQuestion, terms.clone(), "TRUE", Ok("true"));
        check_capture(
            T::CustomQuestion,
            terms,
            "false",
            Err(RuleError::AnswerRequired),
        );
        check_capture(
            T::VisitUrl,
            json!({"url": "https://shop.example"}),
            "https://evil.example",
            Ok("https://shop.example"),
        );
        check_capture(
            T::SecretCode,
            json!({"code": "Coffee42"}),
            " coffee42 ",
            Ok("Coffee42"),
        );
        check_capture(
            T::SecretCode,
            json!({"code": "Coffee42"}),
            "tea",
            Err(RuleError::WrongSecretCode),
        );
        check_capture(
            T::SecretCode,
            json!({}),
            "",
            Err(RuleError::WrongSecretCode),
        );
        check_capture(
            T::SocialFollow,
            json!({"provider": "instagram", "profile_url": "https://instagram.com/hookline", "handle": "hookline"}),
            "",
            Ok("https://instagram.com/hookline"),
        );
        check_capture(
            T::Upload,
            json!({"accept": "image_url"}),
            "https://pics.example/me.jpg",
            Ok("https://pics.example/me.jpg"),
        );
        check_capture(
            T::Upload,
            json!({"accept": "image_url"}),
            "javascript:alert(1)",
            Err(RuleError::InvalidUpload),
        );
        check_capture(
            T::Upload,
            json!({"accept": "file"}),
            "",
            Err(RuleError::InvalidUpload),
        );
        check_capture(
            T::Upload,
            json!({"accept": "file"}),
            "https://pics.example/me.jpg",
            Ok("https://pics.example/me.jpg"),
        );
        check_capture(T::Referral, json!({}), "", Err(RuleError::NotPostable));
    }

    #[test]
    fn answers_land_in_details_and_follows_in_social_links() {
        let question = method(
            5,
            EntryMethodType::CustomQuestion,
            false,
            false,
            json!({"question": "How are you?"}),
        );
        let captured = capture(
            &question,
            &EntryAction {
                value: "Great, thanks!".to_owned(),
                ..EntryAction::default()
            },
            "joe@example.com",
        )
        .expect("captured");
        let details = details_with(
            &BTreeMap::from([("Postcode".to_owned(), json!(8282))]),
            &captured,
        );
        assert_eq!(details["How are you?"], "Great, thanks!");
        assert_eq!(details["Postcode"], 8282);
        let follow = method(
            6,
            EntryMethodType::SocialFollow,
            false,
            false,
            json!({"provider": "twitter", "profile_url": "https://x.com/gleamapp", "handle": "gleamapp"}),
        );
        let captured =
            capture(&follow, &EntryAction::default(), "joe@example.com").expect("captured");
        assert_eq!(
            captured.social_link,
            Some(SocialLink {
                provider: "twitter".to_owned(),
                uid: String::new(),
                reference: "gleamapp".to_owned()
            })
        );
    }

    #[test]
    fn rewards_unlock_by_their_rule() {
        let subscribe = method(1, EntryMethodType::EmailSubscribe, true, false, json!({}));
        let question = method(2, EntryMethodType::CustomQuestion, true, false, json!({}));
        let visit = method(3, EntryMethodType::VisitUrl, false, false, json!({}));
        let c = campaign(vec![subscribe, question, visit]);
        let all = RewardUnlock::AllMandatory;
        assert!(!reward_unlocks(&c, all, &[done(1, NOON)], 1));
        assert!(reward_unlocks(&c, all, &[done(1, NOON), done(2, NOON)], 2));
        let two = RewardUnlock::Actions { count: 2 };
        assert!(!reward_unlocks(&c, two, &[done(1, NOON)], 1));
        assert!(reward_unlocks(&c, two, &[done(1, NOON), done(3, NOON)], 2));
        let none = campaign(vec![method(
            3,
            EntryMethodType::VisitUrl,
            false,
            false,
            json!({}),
        )]);
        assert!(
            reward_unlocks(&none, all, &[done(3, NOON)], 1),
            "no mandatory method: any action"
        );
        let after = completed_after(&[done(1, NOON)], EntryMethodId(1), NOON + 1);
        assert_eq!((after[0].times, after[0].last_at), (2, NOON + 1));
        assert_eq!(completed_after(&after, EntryMethodId(3), NOON).len(), 2);
    }
}
