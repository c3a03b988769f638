//! The admin API's wire types: `/api/v1/…` with an API key (`Authorization: Bearer hlk_…`).
//!
//! Times are RFC 3339 strings in UTC (`2026-12-01T21:33:46Z`). Lists are pages:
//! [`Page`] with an opaque `next_cursor` to pass back as `?cursor=`. Numbers that are ids in
//! the webhook body (entry ids, entry method ids) are the same numbers here, so a webhook and
//! the admin API can be matched up. Errors are [`crate::entry::ApiError`] bodies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::campaign::{CampaignStatus, CampaignType, EntryMethodType};
pub mod webhooks;

use crate::ids::{ApiKeyId, CampaignKey, EntryId, EntryMethodId, WorkspaceId};

/// One page of a list, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Pass as `?cursor=` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    pub created_at: String,
}

/// `POST /api/v1/setup` (first run only) and `POST /api/v1/workspaces` (operator).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewWorkspace {
    pub name: String,
    /// The first key's name; "Default" when left out.
    #[serde(default)]
    pub key_name: Option<String>,
}

/// A workspace just made, with its first key (shown this once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceCreated {
    pub workspace: Workspace,
    pub api_key: ApiKeyCreated,
}

/// `PATCH /api/v1/workspace`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceChanges {
    pub name: String,
}

/// An API key as lists show it: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    /// `hlk_…` and the key's last four characters.
    pub hint: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// `POST /api/v1/api-keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiKey {
    pub name: String,
}

/// A key just made. `key` is shown only in this answer; Hookline keeps only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyCreated {
    #[serde(flatten)]
    pub info: ApiKey,
    pub key: String,
}

/// `POST /api/v1/campaigns`: a campaign to create. Only `name` and `type` are required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCampaign {
    /// The public key (`data-campaign`); made up (5 characters, like `a1XyD`) if left out.
    #[serde(default)]
    pub key: Option<String>,
    pub name: String,
    #[serde(rename = "type")]
    pub campaign_type: CampaignType,
    /// `draft` when left out.
    #[serde(default)]
    pub status: Option<CampaignStatus>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub consent_text: String,
    #[serde(default)]
    pub starts_at: Option<String>,
    #[serde(default)]
    pub ends_at: Option<String>,
    /// Origins (`https://shop.example`) whose pages may post entries; empty: any.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    #[serde(default)]
    pub image_url: String,
    /// `off`, `lenient`, `standard` (default) or `strict`.
    #[serde(default)]
    pub fraud_level: Option<String>,
    /// How long `subscriber.created` waits for the fraud verdict; 300 when left out.
    #[serde(default)]
    pub hold_window_seconds: Option<u32>,
    /// The campaign type's own settings (reward, capture display…), a JSON object.
    #[serde(default)]
    pub settings: Option<serde_json::Value>,
    #[serde(default)]
    pub entry_methods: Vec<NewEntryMethod>,
}

/// `PATCH /api/v1/campaigns/{key}`: what to change; absent fields stay. `starts_at` and
/// `ends_at` may be `null` to remove the limit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignChanges {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, rename = "type")]
    pub campaign_type: Option<CampaignType>,
    #[serde(default)]
    pub status: Option<CampaignStatus>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub consent_text: Option<String>,
    #[serde(default, with = "double_option")]
    pub starts_at: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    pub ends_at: Option<Option<String>>,
    #[serde(default)]
    pub allowed_origins: Option<Vec<String>>,
    #[serde(default)]
    pub image_url: Option<String>,
    #[serde(default)]
    pub fraud_level: Option<String>,
    #[serde(default)]
    pub hold_window_seconds: Option<u32>,
    #[serde(default)]
    pub settings: Option<serde_json::Value>,
}

/// A campaign as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    pub key: CampaignKey,
    pub name: String,
    #[serde(rename = "type")]
    pub campaign_type: CampaignType,
    pub status: CampaignStatus,
    pub description: String,
    pub consent_text: String,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub allowed_origins: Vec<String>,
    pub image_url: String,
    pub fraud_level: String,
    pub hold_window_seconds: u32,
    pub settings: serde_json::Value,
    pub entry_methods: Vec<EntryMethod>,
    /// The HTML a site adds to show the widget.
    pub embed_snippet: String,
    /// The campaign's own page on this server.
    pub hosted_url: String,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /api/v1/campaigns/{key}/entry-methods` (and inside [`NewCampaign`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEntryMethod {
    #[serde(rename = "type")]
    pub method_type: EntryMethodType,
    /// What the contestant is asked to do, e.g. "Subscribe to our newsletter".
    pub action: String,
    /// Entries it earns; 1 when left out.
    #[serde(default)]
    pub worth: Option<u32>,
    #[serde(default)]
    pub mandatory: bool,
    /// May be done again each day (else once).
    #[serde(default)]
    pub daily: bool,
    /// The type's own settings (question, URL…), a JSON object.
    #[serde(default)]
    pub config: Option<serde_json::Value>,
    /// Where it is shown; at the end when left out.
    #[serde(default)]
    pub position: Option<i64>,
}

/// `PATCH /api/v1/campaigns/{key}/entry-methods/{id}`: what to change (not the type).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryMethodChanges {
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub worth: Option<u32>,
    #[serde(default)]
    pub mandatory: Option<bool>,
    #[serde(default)]
    pub daily: Option<bool>,
    #[serde(default)]
    pub config: Option<serde_json::Value>,
    #[serde(default)]
    pub position: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryMethod {
    pub id: EntryMethodId,
    #[serde(rename = "type")]
    pub method_type: EntryMethodType,
    pub action: String,
    pub worth: u32,
    pub mandatory: bool,
    pub daily: bool,
    pub config: serde_json::Value,
    pub position: i64,
}

/// A contestant of one campaign (the `user` of the webhook body, and more).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contestant {
    pub id: i64,
    pub campaign: CampaignKey,
    pub email: String,
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub details: BTreeMap<String, serde_json::Value>,
    pub actions_completed: u32,
    pub total_entries: u32,
    pub created_at: String,
    pub updated_at: String,
}

/// A contestant with every entry they made: `GET /api/v1/contestants/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContestantDetail {
    #[serde(flatten)]
    pub contestant: Contestant,
    pub entries: Vec<Entry>,
}

/// What the fraud filter said about an entry, and whether a person overrode it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FraudVerdict {
    /// `accepted`, `flagged` or `disqualified`: the verdict in force.
    pub verdict: String,
    pub score: u32,
    /// Reason codes, e.g. `duplicate_email`, `too_fast`.
    pub reasons: Vec<String>,
    /// The filter's own verdict when a person changed it; `null` otherwise.
    pub original_verdict: Option<String>,
    pub overridden_at: Option<String>,
}

/// An entry as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: EntryId,
    pub campaign: CampaignKey,
    pub contestant_id: i64,
    pub email: String,
    pub name: String,
    pub entry_method_id: EntryMethodId,
    #[serde(rename = "type")]
    pub entry_type: String,
    pub action: String,
    pub value: String,
    pub worth: u32,
    pub landing_url: String,
    pub referring_url: String,
    pub client_ip: Option<String>,
    /// The consent statement the contestant agreed to, if they ticked the box.
    pub consent_text: Option<String>,
    pub fraud: FraudVerdict,
    pub created_at: String,
}

/// `PUT /api/v1/entries/{id}/verdict`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerdictOverride {
    /// `accepted`, `flagged` or `disqualified`.
    pub verdict: String,
}

/// `POST /api/v1/campaigns/{key}/coupons`: codes for a Reward campaign's pool, each handed to
/// one contestant when their reward unlocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCoupons {
    pub codes: Vec<String>,
}

/// A campaign's coupon pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponPool {
    /// Codes added by this request (repeats of codes in the pool are skipped).
    #[serde(default)]
    pub added: u64,
    pub available: u64,
    pub assigned: u64,
}

/// `POST /api/v1/streams`: an inbound conversion stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewStream {
    pub name: String,
    /// Require a Standard Webhooks signature on every request (a `whsec_…` secret is made
    /// and shown in the answer).
    #[serde(default)]
    pub signed: bool,
    /// Campaign keys whose widgets show its conversions; empty: every campaign of the
    /// workspace that shows social proof.
    #[serde(default)]
    pub campaigns: Vec<String>,
}

/// `PATCH /api/v1/streams/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamChanges {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub campaigns: Option<Vec<String>>,
    /// `true` makes a new signing secret (shown in the answer), `false` removes it.
    #[serde(default)]
    pub signed: Option<bool>,
}

/// An inbound stream. Its `url` is where the shop, form tool or CRM posts conversions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stream {
    pub id: String,
    pub name: String,
    pub url: String,
    pub enabled: bool,
    pub campaigns: Vec<String>,
    /// `whsec_…` when requests must be signed.
    pub signing_secret: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A conversion as received and stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversion {
    pub id: i64,
    pub stream: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
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
    pub total: Option<String>,
    pub currency: Option<String>,
    pub products: serde_json::Value,
    /// The payload as received (form data as the JSON it stands for).
    pub raw: serde_json::Value,
    pub received_at: String,
}

/// Tells a field that is absent (`None`) from one that is `null` (`Some(None)`).
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, T: Serialize>(
        value: &Option<Option<T>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_tells_absent_from_null() {
        let absent: CampaignChanges = serde_json::from_str("{}").expect("parses");
        assert_eq!(absent.ends_at, None);
        let cleared: CampaignChanges =
            serde_json::from_str(r#"{"ends_at": null}"#).expect("parses");
        assert_eq!(cleared.ends_at, Some(None));
        let set: CampaignChanges =
            serde_json::from_str(r#"{"ends_at": "2026-12-24T00:00:00Z"}"#).expect("parses");
        assert_eq!(set.ends_at, Some(Some("2026-12-24T00:00:00Z".to_owned())));
    }

    #[test]
    fn unknown_fields_are_refused() {
        let error = serde_json::from_str::<NewCampaign>(
            r#"{"name": "x", "type": "Competition", "colour": "red"}"#,
        )
        .expect_err("refused");
        assert!(error.to_string().contains("colour"), "{error}");
    }
}
