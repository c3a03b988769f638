//! The server's JSON answers, as the browser parsed them (`Response.json()`), read into
//! `protocol` types field by field.
//!
//! Written out by hand instead of `serde_wasm_bindgen::from_value`: a serde deserializer over
//! `JsValue`, with its error messages (which format floats) and one visitor per type, cost
//! about 8 KB of the widget's 100 KB gzipped budget for three small types. The rules are the
//! derived `Deserialize`'s: a required field that is missing or of the wrong type rejects the
//! whole answer, unknown fields are ignored, and `#[serde(default)]` fields may be absent.
//! Golden tests of the wire shapes stay in `protocol`. Must not touch the DOM.

use js_sys::{Array, Reflect};
use protocol::campaign::{
    CampaignStatus, CampaignType, EntryMethodType, PublicCampaign, PublicEntryMethod,
};
use protocol::entry::{ApiError, EntryResponse, EntrySummary};
use protocol::ids::{CampaignKey, EntryId, EntryMethodId};
use wasm_bindgen::{JsCast, JsValue};

/// `GET /api/v1/public/campaigns/{key}`.
pub fn public_campaign(value: &JsValue) -> Option<PublicCampaign> {
    let methods: Array = field(value, "entry_methods")?.dyn_into().ok()?;
    let mut entry_methods = Vec::new();
    for method in methods.iter() {
        entry_methods.push(public_entry_method(&method)?);
    }
    let issued_at = field(value, "issued_at")?;
    Some(PublicCampaign {
        // Stricter than serde (which takes any string), but the server only has valid keys.
        key: CampaignKey::parse(&string(value, "key")?)?,
        name: string(value, "name")?,
        campaign_type: CampaignType::parse(&string(value, "type")?)?,
        status: CampaignStatus::parse(&string(value, "status")?)?,
        description: string(value, "description")?,
        consent_text: string(value, "consent_text")?,
        entry_methods,
        issued_at: if issued_at.is_undefined() {
            0
        } else {
            integer(&issued_at)?
        },
        starts_at: None,
        ends_at: None,
        image_url: String::new(),
        reward: None,
        capture: None,
        social_proof: false,
    })
}

fn public_entry_method(value: &JsValue) -> Option<PublicEntryMethod> {
    Some(PublicEntryMethod {
        id: EntryMethodId(integer(&field(value, "id")?)?),
        method_type: EntryMethodType::parse(&string(value, "type")?)?,
        action: string(value, "action")?,
        worth: unsigned(value, "worth")?,
        mandatory: field(value, "mandatory")?.as_bool()?,
        daily: false,
        custom_question: None,
        visit_url: None,
        secret_code: None,
        social_follow: None,
        upload: None,
    })
}

/// The 200 or 201 answer to an entry post.
pub fn entry_response(value: &JsValue) -> Option<EntryResponse> {
    let entry = field(value, "entry")?;
    Some(EntryResponse {
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
    })
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

/// A JSON number with no fractional part.
fn integer(value: &JsValue) -> Option<i64> {
    let number = value.as_f64()?;
    // Saturates for NaN, infinities and huge values, which then do not compare equal.
    let integer = number as i64;
    (integer as f64 == number).then_some(integer)
}

fn unsigned(object: &JsValue, name: &str) -> Option<u32> {
    u32::try_from(integer(&field(object, name)?)?).ok()
}
