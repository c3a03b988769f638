//! The public ingest call: `POST /api/v1/public/campaigns/{key}/entries`.
//!
//! The widget sends the body as `text/plain;charset=UTF-8` (a CORS-safelisted type, so the
//! browser sends no preflight); the server parses it as JSON whatever the content type says.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{EntryId, EntryMethodId};

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
}
