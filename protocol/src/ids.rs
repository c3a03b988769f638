//! Typed ids. A bare integer or string never crosses a module line as an id.
//!
//! Numeric ids (entries, entry methods) stay numbers on the wire because the webhook body
//! follows Gleam's shape, where `entry.id` is a number. Ids that only Hookline mints are
//! prefixed strings (`ep_…`, `msg_…`), as Svix and Standard Webhooks do.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// Wraps `suffix` (already unique, URL-safe) with this id's prefix.
            pub fn from_suffix(suffix: &str) -> Self {
                Self(format!("{}{}", $prefix, suffix))
            }

            /// Accepts a string only if it carries this id's prefix and a non-empty suffix.
            pub fn parse(text: &str) -> Option<Self> {
                let suffix = text.strip_prefix($prefix)?;
                let well_formed = !suffix.is_empty()
                    && suffix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                well_formed.then(|| Self(text.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

numeric_id!(
    /// An entry: one completed action. `entry.id` in the webhook body.
    EntryId
);
numeric_id!(
    /// An entry method of a campaign. `entry.entry_method_id` in the webhook body.
    EntryMethodId
);
numeric_id!(
    /// A contestant of one campaign.
    ContestantId
);

prefixed_id!(
    /// A webhook endpoint.
    EndpointId,
    "ep_"
);
prefixed_id!(
    /// One message to one endpoint: the `webhook-id` header, the same on every try.
    MessageId,
    "msg_"
);
prefixed_id!(
    /// A workspace: the owner of campaigns, endpoints and API keys.
    WorkspaceId,
    "ws_"
);
prefixed_id!(
    /// An auth connector: credentials (Basic, Bearer, API key) endpoints share.
    AuthConnectorId,
    "ac_"
);
prefixed_id!(
    /// One delivery (one message to one endpoint) in the admin API: `dlv_` and its number.
    DeliveryId,
    "dlv_"
);
prefixed_id!(
    /// One try of a delivery in the admin API: `att_` and its number.
    AttemptId,
    "att_"
);
prefixed_id!(
    /// An admin API key (its id, not the key itself, which is shown once).
    ApiKeyId,
    "key_"
);
prefixed_id!(
    /// A returning visitor's proof of who they are in one campaign: minted by the server on
    /// the contestant's first entry, kept by the widget in `localStorage` (never a cookie),
    /// sent back with each later entry and to read the contestant's status. A bearer secret:
    /// at least 128 random bits after the prefix.
    ContestantToken,
    "ctk_"
);
prefixed_id!(
    /// A file a contestant uploaded for an `upload` entry method, before the entry cites it.
    UploadId,
    "upl_"
);
prefixed_id!(
    /// A job: a manual, one-time or recurring send over a campaign's entries to one endpoint.
    JobId,
    "job_"
);

/// A campaign's short public key, as in `data-campaign="a1XyD"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CampaignKey(String);

impl CampaignKey {
    /// Keys are 1 to 32 ASCII letters, digits, `-` or `_`, so they are safe in a URL path.
    pub fn parse(text: &str) -> Option<Self> {
        let well_formed = (1..=32).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        well_formed.then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CampaignKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A contestant's personal referral code, as in a share link's `?hl_ref=Xy12ab`. Public (it
/// is in every link the contestant shares), so unprefixed and short.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReferralCode(String);

impl ReferralCode {
    /// Query parameter of share links that carries the referrer's code.
    pub const QUERY_PARAMETER: &'static str = "hl_ref";

    /// Codes are 1 to 32 ASCII letters, digits, `-` or `_`, so they are safe in a URL.
    pub fn parse(text: &str) -> Option<Self> {
        CampaignKey::parse(text).map(|key| Self(key.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReferralCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_ids_check_their_prefix() {
        assert_eq!(
            EndpointId::parse("ep_abc").map(|id| id.to_string()),
            Some("ep_abc".into())
        );
        assert_eq!(EndpointId::parse("msg_abc"), None);
        assert_eq!(EndpointId::parse("ep_"), None);
        assert_eq!(EndpointId::parse("ep_a b"), None);
        assert_eq!(MessageId::from_suffix("x1").as_str(), "msg_x1");
    }

    #[test]
    fn campaign_keys_are_url_safe() {
        assert!(CampaignKey::parse("a1XyD").is_some());
        assert!(CampaignKey::parse("").is_none());
        assert!(CampaignKey::parse("a/b").is_none());
        assert!(CampaignKey::parse(&"a".repeat(33)).is_none());
        assert_eq!(
            ReferralCode::parse("Xy12-ab").map(|code| code.to_string()),
            Some("Xy12-ab".into())
        );
        assert!(ReferralCode::parse("a&b=c").is_none());
        assert_eq!(
            ContestantToken::parse("ctk_9fK2").map(|token| token.to_string()),
            Some("ctk_9fK2".into())
        );
        assert!(ContestantToken::parse("upl_9fK2").is_none());
    }
}
