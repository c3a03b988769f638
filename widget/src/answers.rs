//! The server's JSON answers, as the browser parsed them (`Response.json()`), read into
//! `protocol` types field by field.
//!
//! Written out by hand instead of `serde_wasm_bindgen::from_value`: a serde deserializer over
//! `JsValue`, with its error messages (which format floats) and one visitor per type, cost
//! about 8 KB of the widget's 100 KB gzipped budget for three small types. The rules follow
//! the derived `Deserialize`'s: a required field that is missing or of the wrong type rejects
//! the whole answer and unknown fields are ignored; a defaulted field that is absent, `null`
//! or of the wrong type reads as its default (laxer than serde, so one odd optional field
//! never costs the contestant the campaign). Golden tests of the wire shapes stay in
//! `protocol`. Must not touch the DOM.

use js_sys::{Array, Reflect};
use protocol::campaign::{
    AnswerKind, CampaignStatus, CampaignType, CaptureDisplay, CaptureSettings, EntryMethodType,
    PublicCampaign, PublicEntryMethod, PublicReward, QuestionSettings, RewardKind, RewardUnlock,
    SecretCodeSettings, SocialFollowSettings, UploadKind, UploadSettings, VisitUrlSettings,
};
use protocol::entry::{
    AnswerFields, ApiError, CompletedMethod, ContestantSession, ContestantStatus, EntryAnswer,
    EntryResponse, EntrySummary, UnlockedReward,
};
use protocol::events::ContestantInfo;
use protocol::ids::{CampaignKey, ContestantToken, EntryId, EntryMethodId, ReferralCode, UploadId};
use protocol::social::{
    Notification, NotificationKind, NotifiedProduct, PublicSocialProof, ToastPosition,
};
use wasm_bindgen::{JsCast, JsValue};

/// `GET /api/v1/public/campaigns/{key}`.
pub fn public_campaign(value: &JsValue) -> Option<PublicCampaign> {
    let methods: Array = field(value, "entry_methods")?.dyn_into().ok()?;
    let mut entry_methods = Vec::new();
    for method in methods.iter() {
        entry_methods.push(public_entry_method(&method)?);
    }
    Some(PublicCampaign {
        // Stricter than serde (which takes any string), but the server only has valid keys.
        key: CampaignKey::parse(&string(value, "key")?)?,
        name: string(value, "name")?,
        campaign_type: CampaignType::parse(&string(value, "type")?)?,
        status: CampaignStatus::parse(&string(value, "status")?)?,
        description: string(value, "description")?,
        consent_text: string(value, "consent_text")?,
        entry_methods,
        issued_at: optional_integer(value, "issued_at").unwrap_or_default(),
        starts_at: optional_integer(value, "starts_at"),
        ends_at: optional_integer(value, "ends_at"),
        image_url: text(value, "image_url"),
        reward: object(value, "reward").and_then(|reward| public_reward(&reward)),
        capture: object(value, "capture").map(|capture| CaptureSettings {
            display: CaptureDisplay::parse(&text(&capture, "display")).unwrap_or_default(),
            delay_seconds: optional_u32(&capture, "delay_seconds"),
            button_text: text(&capture, "button_text"),
            success_text: text(&capture, "success_text"),
        }),
        social_proof: object(value, "social_proof").map(|social| PublicSocialProof {
            position: match text(&social, "position").as_str() {
                "bottom_right" => ToastPosition::BottomRight,
                "top_left" => ToastPosition::TopLeft,
                "top_right" => ToastPosition::TopRight,
                _ => ToastPosition::BottomLeft,
            },
            interval_seconds: optional_u32(&social, "interval_seconds"),
            max_per_visit: optional_u32(&social, "max_per_visit"),
            display_seconds: optional_u32(&social, "display_seconds"),
        }),
    })
}

/// A `notification` event's data on the activity feed (`GET …/activity`).
pub fn notification(value: &JsValue) -> Option<Notification> {
    Some(Notification {
        id: string(value, "id")?,
        kind: match string(value, "kind")?.as_str() {
            "conversion" => NotificationKind::Conversion,
            "entry" => NotificationKind::Entry,
            _ => return None,
        },
        name: string(value, "name")?,
        place: string(value, "place"),
        product: object(value, "product").and_then(|product| {
            Some(NotifiedProduct {
                name: string(&product, "name")?,
                link: string(&product, "link"),
                image: string(&product, "image"),
            })
        }),
        occurred_at: integer(&field(value, "occurred_at")?)?,
        text: text(value, "text"),
    })
}

fn public_entry_method(value: &JsValue) -> Option<PublicEntryMethod> {
    Some(PublicEntryMethod {
        id: EntryMethodId(integer(&field(value, "id")?)?),
        method_type: EntryMethodType::parse(&string(value, "type")?)?,
        action: string(value, "action")?,
        worth: unsigned(value, "worth")?,
        mandatory: field(value, "mandatory")?.as_bool()?,
        daily: flag(value, "daily"),
        custom_question: object(value, "custom_question").map(|question| QuestionSettings {
            question: text(&question, "question"),
            kind: match text(&question, "kind").as_str() {
                "choice" => AnswerKind::Choice,
                "checkbox" => AnswerKind::Checkbox,
                _ => AnswerKind::Text,
            },
            choices: list(&question, "choices")
                .iter()
                .filter_map(|choice| choice.as_string())
                .collect(),
            required: flag(&question, "required"),
        }),
        visit_url: object(value, "visit_url").map(|visit| VisitUrlSettings {
            url: text(&visit, "url"),
        }),
        secret_code: object(value, "secret_code").map(|secret| SecretCodeSettings {
            hint: text(&secret, "hint"),
        }),
        social_follow: object(value, "social_follow").map(|social| SocialFollowSettings {
            provider: text(&social, "provider"),
            profile_url: text(&social, "profile_url"),
            handle: text(&social, "handle"),
        }),
        upload: object(value, "upload").map(|upload| UploadSettings {
            accept: if text(&upload, "accept") == "file" {
                UploadKind::File
            } else {
                UploadKind::ImageUrl
            },
            max_bytes: optional_integer(&upload, "max_bytes")
                .and_then(|bytes| u64::try_from(bytes).ok())
                .unwrap_or_default(),
        }),
    })
}

fn public_reward(value: &JsValue) -> Option<PublicReward> {
    let unlock = match object(value, "unlock") {
        Some(unlock) if text(&unlock, "rule") == "actions" => RewardUnlock::Actions {
            count: optional_u32(&unlock, "count"),
        },
        _ => RewardUnlock::AllMandatory,
    };
    Some(PublicReward {
        kind: RewardKind::parse(&string(value, "type")?)?,
        title: string(value, "title")?,
        description: text(value, "description"),
        unlock,
    })
}

/// The 200 or 201 answer to an entry post: the first generation's fields, and the session
/// and reward when the server sends them.
pub fn entry_answer(value: &JsValue) -> Option<EntryAnswer> {
    let entry = field(value, "entry")?;
    Some(EntryAnswer {
        response: EntryResponse {
            entry: EntrySummary {
                id: EntryId(integer(&field(&entry, "id")?)?),
                entry_method_id: EntryMethodId(integer(&field(&entry, "entry_method_id")?)?),
                entry_type: string(&entry, "type")?,
                action: string(&entry, "action")?,
                worth: unsigned(&entry, "worth")?,
                created_at: string(&entry, "created_at")?,
            },
            actions_completed: unsigned(value, "actions_completed")?,
            total_entries: unsigned(value, "total_entries")?,
        },
        session: contestant_session(value),
        reward: object(value, "reward").and_then(|reward| unlocked_reward(&reward)),
        answer: object(value, "answer").map(|fields| {
            let mut pairs = Vec::new();
            for name in js_sys::Object::keys(fields.unchecked_ref::<js_sys::Object>()).iter() {
                if let Some(name) = name.as_string() {
                    let value = text(&fields, &name);
                    pairs.push((name, value));
                }
            }
            AnswerFields(pairs)
        }),
    })
}

fn contestant_session(value: &JsValue) -> ContestantSession {
    ContestantSession {
        contestant_token: ContestantToken::parse(&text(value, "contestant_token")),
        referral_code: ReferralCode::parse(&text(value, "referral_code")),
        referral_url: text(value, "referral_url"),
        referrals: optional_u32(value, "referrals"),
        completed: list(value, "completed")
            .iter()
            .filter_map(|done| {
                Some(CompletedMethod {
                    entry_method_id: EntryMethodId(integer(&field(done, "entry_method_id")?)?),
                    times: unsigned(done, "times")?,
                    last_completed_at: integer(&field(done, "last_completed_at")?)?,
                })
            })
            .collect(),
    }
}

fn unlocked_reward(value: &JsValue) -> Option<UnlockedReward> {
    let title = text(value, "title");
    match string(value, "type")?.as_str() {
        "Coupon" => Some(UnlockedReward::Coupon {
            code: string(value, "code")?,
            title,
        }),
        "Download" => Some(UnlockedReward::Download {
            url: string(value, "url")?,
            title,
        }),
        _ => None,
    }
}

/// `GET /api/v1/public/campaigns/{key}/contestant?token=…`.
pub fn contestant_status(value: &JsValue) -> Option<ContestantStatus> {
    let user = field(value, "user")?;
    Some(ContestantStatus {
        user: ContestantInfo {
            email: string(&user, "email")?,
            name: string(&user, "name")?,
        },
        session: contestant_session(value),
        actions_completed: unsigned(value, "actions_completed")?,
        total_entries: unsigned(value, "total_entries")?,
        reward: object(value, "reward").and_then(|reward| unlocked_reward(&reward)),
    })
}

/// The uploads route's 201: the upload's id and address.
pub fn upload_answer(value: &JsValue) -> Option<(UploadId, String)> {
    Some((
        UploadId::parse(&string(value, "upload_id")?)?,
        string(value, "url")?,
    ))
}

/// Any 4xx or 5xx body.
pub fn api_error(value: &JsValue) -> Option<ApiError> {
    let field_name = field(value, "field")?;
    Some(ApiError {
        code: string(value, "code")?,
        detail: string(value, "detail")?,
        field: if field_name.is_undefined() || field_name.is_null() {
            None
        } else {
            Some(field_name.as_string()?)
        },
    })
}

/// `object[name]` (`undefined` if absent), or `None` if `object` is not an object.
fn field(object: &JsValue, name: &str) -> Option<JsValue> {
    if !object.is_object() {
        return None;
    }
    Reflect::get(object, &JsValue::from_str(name)).ok()
}

fn string(object: &JsValue, name: &str) -> Option<String> {
    field(object, name)?.as_string()
}

/// A defaulted string: `""` unless present and a string.
fn text(object: &JsValue, name: &str) -> String {
    string(object, name).unwrap_or_default()
}

/// A defaulted boolean.
fn flag(object: &JsValue, name: &str) -> bool {
    field(object, name)
        .and_then(|value| value.as_bool())
        .unwrap_or_default()
}

/// A defaulted object: `None` unless present and an object (`null` is not).
fn object(object: &JsValue, name: &str) -> Option<JsValue> {
    field(object, name).filter(|value| value.is_object())
}

/// A defaulted array: empty unless present and an array.
fn list(object: &JsValue, name: &str) -> Vec<JsValue> {
    field(object, name)
        .and_then(|value| value.dyn_into::<Array>().ok())
        .map(|array| array.iter().collect())
        .unwrap_or_default()
}

/// A JSON number with no fractional part.
fn integer(value: &JsValue) -> Option<i64> {
    let number = value.as_f64()?;
    // Saturates for NaN, infinities and huge values, which then do not compare equal.
    let integer = number as i64;
    (integer as f64 == number).then_some(integer)
}

fn optional_integer(object: &JsValue, name: &str) -> Option<i64> {
    integer(&field(object, name)?)
}

fn unsigned(object: &JsValue, name: &str) -> Option<u32> {
    u32::try_from(integer(&field(object, name)?)?).ok()
}

fn optional_u32(object: &JsValue, name: &str) -> u32 {
    unsigned(object, name).unwrap_or_default()
}
