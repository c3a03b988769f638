//! The rules of campaign management: what the admin API may create or change, checked field
//! by field, turned into what the store writes.
//!
//! Pure: no IO and no clock. Must not know HTTP; an [`Invalid`] names the request field so
//! the API can show the problem beside it.

use protocol::admin;
use protocol::campaign::{
    AnswerKind, CampaignStatus, CaptureSettings, EntryMethodType, QuestionSettings, RewardKind,
    RewardUnlock, SecretCodeSettings, SocialFollowSettings, UploadSettings, VisitUrlSettings,
};
use protocol::ids::CampaignKey;
use protocol::social::SocialProofSettings;
use rand::distr::{Alphanumeric, SampleString as _};
use serde_json::Value;

use crate::clock::parse_rfc3339;
use crate::fraud::FraudLevel;
use crate::store::{CampaignRecord, EntryMethodRecord, NewCampaign, NewEntryMethod};

/// Longest campaign or entry method name.
pub const MAX_NAME_LEN: usize = 200;
/// Longest description, consent text or entry method action.
pub const MAX_TEXT_LEN: usize = 2_000;
/// Longest hold window: a week.
pub const MAX_HOLD_WINDOW_SECONDS: u32 = 7 * 24 * 3600;
/// Most entries one action may earn.
pub const MAX_WORTH: u32 = 1_000;
/// Most allowed origins per campaign.
pub const MAX_ORIGINS: usize = 50;

/// One thing wrong with an admin request: the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {detail}")]
pub struct Invalid {
    pub field: String,
    pub detail: String,
}

fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Invalid {
    Invalid {
        field: field.into(),
        detail: detail.into(),
    }
}

/// A fresh public key: five letters and digits, like Gleam's `a1XyD`.
pub fn generate_key() -> CampaignKey {
    CampaignKey::parse(&Alphanumeric.sample_string(&mut rand::rng(), 5))
        .expect("five alphanumerics make a valid key")
}

/// The campaign `input` asks for, in workspace `workspace_id`.
pub fn new_campaign(input: &admin::NewCampaign, workspace_id: i64) -> Result<NewCampaign, Invalid> {
    let key = match &input.key {
        Some(key) => CampaignKey::parse(key.trim()).ok_or_else(|| {
            invalid(
                "key",
                "A campaign key is 1 to 32 letters, digits, `-` or `_`.",
            )
        })?,
        None => generate_key(),
    };
    let mut campaign = NewCampaign::new(key, "", input.campaign_type);
    campaign.workspace_id = Some(workspace_id);
    campaign.status = input.status.unwrap_or(CampaignStatus::Draft);
    let changes = admin::CampaignChanges {
        name: Some(input.name.clone()),
        campaign_type: None,
        status: None,
        description: Some(input.description.clone()),
        consent_text: Some(input.consent_text.clone()),
        starts_at: Some(input.starts_at.clone()),
        ends_at: Some(input.ends_at.clone()),
        allowed_origins: Some(input.allowed_origins.clone()),
        image_url: Some(input.image_url.clone()),
        fraud_level: input.fraud_level.clone(),
        hold_window_seconds: input.hold_window_seconds,
        settings: input.settings.clone(),
    };
    apply(&mut campaign, &changes)?;
    for (index, method) in input.entry_methods.iter().enumerate() {
        let method = new_entry_method(method).map_err(|problem| {
            invalid(
                format!("entry_methods[{index}].{}", problem.field),
                problem.detail,
            )
        })?;
        campaign.entry_methods.push(method.0);
    }
    Ok(campaign)
}

/// What campaign `current` becomes with `changes` (its key, workspace and entry methods stay).
pub fn changed_campaign(
    current: &CampaignRecord,
    changes: &admin::CampaignChanges,
) -> Result<NewCampaign, Invalid> {
    let mut campaign = NewCampaign {
        workspace_id: current.workspace_id,
        key: current.key.clone(),
        name: current.name.clone(),
        campaign_type: current.campaign_type,
        status: current.status,
        description: current.description.clone(),
        consent_text: current.consent_text.clone(),
        starts_at: current.starts_at,
        ends_at: current.ends_at,
        allowed_origins: current.allowed_origins.clone(),
        image_url: current.image_url.clone(),
        settings: current.settings.clone(),
        fraud_level: current.fraud_level,
        hold_window_ms: current.hold_window_ms,
        entry_methods: Vec::new(),
    };
    apply(&mut campaign, changes)?;
    Ok(campaign)
}

fn apply(campaign: &mut NewCampaign, changes: &admin::CampaignChanges) -> Result<(), Invalid> {
    if let Some(name) = &changes.name {
        campaign.name = text("name", name, 1, MAX_NAME_LEN)?;
    }
    if let Some(campaign_type) = changes.campaign_type {
        campaign.campaign_type = campaign_type;
    }
    if let Some(status) = changes.status {
        campaign.status = status;
    }
    if let Some(description) = &changes.description {
        campaign.description = text("description", description, 0, MAX_TEXT_LEN)?;
    }
    if let Some(consent_text) = &changes.consent_text {
        campaign.consent_text = text("consent_text", consent_text, 0, MAX_TEXT_LEN)?;
    }
    if let Some(starts_at) = &changes.starts_at {
        campaign.starts_at = starts_at
            .as_deref()
            .map(|at| time("starts_at", at))
            .transpose()?;
    }
    if let Some(ends_at) = &changes.ends_at {
        campaign.ends_at = ends_at
            .as_deref()
            .map(|at| time("ends_at", at))
            .transpose()?;
    }
    if let (Some(starts_at), Some(ends_at)) = (campaign.starts_at, campaign.ends_at)
        && ends_at <= starts_at
    {
        return Err(invalid("ends_at", "The end must come after the start."));
    }
    if let Some(origins) = &changes.allowed_origins {
        if origins.len() > MAX_ORIGINS {
            return Err(invalid(
                "allowed_origins",
                format!("At most {MAX_ORIGINS} origins."),
            ));
        }
        let mut parsed = Vec::with_capacity(origins.len());
        for (index, origin) in origins.iter().enumerate() {
            let origin = parse_origin(origin)
                .map_err(|detail| invalid(format!("allowed_origins[{index}]"), detail))?;
            if !parsed.contains(&origin) {
                parsed.push(origin);
            }
        }
        campaign.allowed_origins = parsed;
    }
    if let Some(image_url) = &changes.image_url {
        campaign.image_url = http_url("image_url", image_url)?;
    }
    if let Some(level) = &changes.fraud_level {
        campaign.fraud_level = FraudLevel::parse(level.trim()).ok_or_else(|| {
            invalid(
                "fraud_level",
                "The fraud level is one of off, lenient, standard and strict.",
            )
        })?;
    }
    if let Some(seconds) = changes.hold_window_seconds {
        if seconds > MAX_HOLD_WINDOW_SECONDS {
            return Err(invalid(
                "hold_window_seconds",
                format!("The hold window is at most {MAX_HOLD_WINDOW_SECONDS} seconds (a week)."),
            ));
        }
        campaign.hold_window_ms = i64::from(seconds) * 1000;
    }
    if let Some(settings) = &changes.settings {
        campaign.settings = campaign_settings(object("settings", settings)?)?;
    }
    Ok(())
}

/// The settings a campaign's `settings` object may hold, each checked against its type:
/// `reward` (Reward campaigns: what unlocks it and what it gives), `capture` (Capture
/// campaigns: how the form appears) and `social_proof`. Other keys are refused, so a typo
/// is an error rather than a setting that silently does nothing.
fn campaign_settings(settings: Value) -> Result<Value, Invalid> {
    let Value::Object(map) = &settings else {
        return Err(invalid("settings", "This must be a JSON object."));
    };
    for (key, value) in map {
        let field = format!("settings.{key}");
        let checked = match key.as_str() {
            "reward" => check::<RewardSettings>(&field, value).and_then(|reward| {
                if reward.title.trim().is_empty() {
                    return Err(invalid(format!("{field}.title"), "This cannot be empty."));
                }
                match (reward.kind, reward.download_url.as_deref()) {
                    (RewardKind::Download, url) => {
                        http_url(&format!("{field}.download_url"), url.unwrap_or_default())
                            .and_then(|url| {
                                if url.is_empty() {
                                    Err(invalid(
                                        format!("{field}.download_url"),
                                        "A download reward needs the file's https:// address.",
                                    ))
                                } else {
                                    Ok(())
                                }
                            })
                    }
                    (RewardKind::Coupon, _) => Ok(()),
                }
            }),
            "capture" => check::<CaptureSettings>(&field, value).map(|_| ()),
            "social_proof" => check::<SocialProofSettings>(&field, value).map(|_| ()),
            _ => Err(invalid(
                field,
                "Campaign settings are reward, capture and social_proof.",
            )),
        };
        checked?;
    }
    Ok(settings)
}

/// What a Reward campaign's `settings.reward` holds: what the widget announces
/// (`PublicReward`), and, for a download, the link it gives once unlocked (never public
/// before). Coupons come from the campaign's pool.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardSettings {
    #[serde(rename = "type")]
    pub kind: RewardKind,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub unlock: RewardUnlock,
    #[serde(default)]
    pub download_url: Option<String>,
}

/// `value` read as `T`, or the reason it cannot be, on `field`.
fn check<T: serde::de::DeserializeOwned>(field: &str, value: &Value) -> Result<T, Invalid> {
    T::deserialize(value)
        .map_err(|error| invalid(field, format!("This setting is not right: {error}.")))
}

/// An entry method's `config`, checked against its type's settings (what the widget reads)
/// plus what stays on the server (a secret code's `code`).
fn method_config(method_type: EntryMethodType, config: Value) -> Result<Value, Invalid> {
    let config = object("config", &config)?;
    let empty = config.as_object().is_none_or(serde_json::Map::is_empty);
    match method_type {
        EntryMethodType::EmailSubscribe | EntryMethodType::Referral => {}
        EntryMethodType::CustomQuestion => {
            if empty {
                return Ok(config);
            }
            let question: QuestionSettings = check("config", &config)?;
            if question.question.trim().is_empty() {
                return Err(invalid("config.question", "Write the question."));
            }
            if question.kind == AnswerKind::Choice && question.choices.len() < 2 {
                return Err(invalid(
                    "config.choices",
                    "A choice question needs at least two choices.",
                ));
            }
        }
        EntryMethodType::VisitUrl => {
            if empty {
                return Ok(config);
            }
            let visit: VisitUrlSettings = check("config", &config)?;
            if http_url("config.url", &visit.url)?.is_empty() {
                return Err(invalid("config.url", "Give the https:// address to visit."));
            }
        }
        EntryMethodType::SecretCode => {
            let code = config
                .get("code")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !empty && code.trim().is_empty() {
                return Err(invalid(
                    "config.code",
                    "Give the secret code contestants must type.",
                ));
            }
            check::<SecretCodeSettings>("config", &config)?;
        }
        EntryMethodType::SocialFollow => {
            if empty {
                return Ok(config);
            }
            let follow: SocialFollowSettings = check("config", &config)?;
            if http_url("config.profile_url", &follow.profile_url)?.is_empty() {
                return Err(invalid(
                    "config.profile_url",
                    "Give the profile's https:// address.",
                ));
            }
        }
        EntryMethodType::Upload => {
            check::<UploadSettings>("config", &config)?;
        }
    }
    Ok(config)
}

/// The entry method `input` asks for, and where it goes (`None`: at the end).
pub fn new_entry_method(
    input: &admin::NewEntryMethod,
) -> Result<(NewEntryMethod, Option<i64>), Invalid> {
    let mut method = NewEntryMethod::new(input.method_type, "");
    method.mandatory = input.mandatory;
    method.daily = input.daily;
    let changes = admin::EntryMethodChanges {
        action: Some(input.action.clone()),
        worth: input.worth,
        mandatory: None,
        daily: None,
        config: input.config.clone(),
        position: input.position,
    };
    apply_method(&mut method, &changes)?;
    Ok((method, input.position))
}

/// What entry method `current` becomes with `changes`, and its position.
pub fn changed_entry_method(
    current: &EntryMethodRecord,
    changes: &admin::EntryMethodChanges,
) -> Result<(NewEntryMethod, i64), Invalid> {
    let mut method = NewEntryMethod {
        method_type: current.method_type,
        action: current.action.clone(),
        worth: current.worth,
        mandatory: current.mandatory,
        daily: current.daily,
        config: current.config.clone(),
    };
    apply_method(&mut method, changes)?;
    Ok((method, changes.position.unwrap_or(current.position)))
}

fn apply_method(
    method: &mut NewEntryMethod,
    changes: &admin::EntryMethodChanges,
) -> Result<(), Invalid> {
    if let Some(action) = &changes.action {
        method.action = text("action", action, 1, MAX_NAME_LEN)?;
    }
    if let Some(worth) = changes.worth {
        if worth > MAX_WORTH {
            return Err(invalid(
                "worth",
                format!("An action earns at most {MAX_WORTH} entries."),
            ));
        }
        method.worth = worth;
    }
    if let Some(mandatory) = changes.mandatory {
        method.mandatory = mandatory;
    }
    if let Some(daily) = changes.daily {
        method.daily = daily;
    }
    if let Some(config) = &changes.config {
        method.config = method_config(method.method_type, config.clone())?;
    }
    Ok(())
}

/// Trimmed text of `min..=max` characters without control characters (newlines are fine in
/// long texts).
fn text(field: &str, value: &str, min: usize, max: usize) -> Result<String, Invalid> {
    let value = value.trim();
    let length = value.chars().count();
    if length < min {
        return Err(invalid(field, "This cannot be empty."));
    }
    if length > max {
        return Err(invalid(field, format!("At most {max} characters.")));
    }
    let allowed_control = |c: char| max > MAX_NAME_LEN && (c == '\n' || c == '\t');
    if value.chars().any(|c| c.is_control() && !allowed_control(c)) {
        return Err(invalid(field, "This cannot contain control characters."));
    }
    Ok(value.to_owned())
}

fn time(field: &str, value: &str) -> Result<i64, Invalid> {
    parse_rfc3339(value).ok_or_else(|| {
        invalid(
            field,
            format!("{value:?} is not an RFC 3339 time like 2026-12-24T18:00:00Z."),
        )
    })
}

/// Empty, or an absolute `http(s)://` URL.
fn http_url(field: &str, value: &str) -> Result<String, Invalid> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(String::new());
    }
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {
            Ok(url.to_string())
        }
        _ => Err(invalid(
            field,
            format!("{value:?} is not an http:// or https:// URL."),
        )),
    }
}

fn object(field: &str, value: &Value) -> Result<Value, Invalid> {
    if value.is_object() {
        Ok(value.clone())
    } else {
        Err(invalid(field, "This must be a JSON object."))
    }
}

/// An origin as browsers send it in `Origin`: `scheme://host[:port]`, lower-case, without a
/// default port, path or trailing slash.
pub fn parse_origin(text: &str) -> Result<String, String> {
    let text = text.trim();
    let problem = || {
        format!(
            "{text:?} is not an origin like https://shop.example (a scheme and a host, no path)."
        )
    };
    let url = url::Url::parse(text).map_err(|_| problem())?;
    let has_path = !matches!(url.path(), "" | "/");
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || has_path
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
    {
        return Err(problem());
    }
    Ok(url.origin().ascii_serialization())
}

/// Whether a campaign allowing `allowed` (empty: any) takes entries from a page at `origin`
/// (the request's `Origin` header; `None` when there is none, as from servers and tools).
pub fn origin_allowed(allowed: &[String], origin: Option<&str>) -> bool {
    match origin {
        _ if allowed.is_empty() => true,
        // No `Origin`: not a browser page of another site (browsers send it on cross-origin
        // posts), so CORS has nothing to say; the other checks still apply.
        None => true,
        Some(origin) => parse_origin(origin).is_ok_and(|origin| allowed.contains(&origin)),
    }
}

#[cfg(test)]
mod tests {
    use protocol::campaign::{CampaignType, EntryMethodType};

    use super::*;

    fn input(change: impl FnOnce(&mut admin::NewCampaign)) -> Result<NewCampaign, Invalid> {
        let mut input = admin::NewCampaign {
            key: None,
            name: "Spring Giveaway".to_owned(),
            campaign_type: CampaignType::Competition,
            status: None,
            description: String::new(),
            consent_text: String::new(),
            starts_at: None,
            ends_at: None,
            allowed_origins: Vec::new(),
            image_url: String::new(),
            fraud_level: None,
            hold_window_seconds: None,
            settings: None,
            entry_methods: vec![admin::NewEntryMethod {
                method_type: EntryMethodType::EmailSubscribe,
                action: "Subscribe".to_owned(),
                worth: None,
                mandatory: true,
                daily: false,
                config: None,
                position: None,
            }],
        };
        change(&mut input);
        new_campaign(&input, 7)
    }

    fn check_invalid(change: impl FnOnce(&mut admin::NewCampaign), field: &str) {
        let problem = input(change).expect_err("should be refused");
        assert_eq!(problem.field, field, "{problem}");
    }

    #[test]
    fn defaults_fill_what_is_left_out() {
        let campaign = input(|_| {}).expect("valid");
        assert_eq!(campaign.workspace_id, Some(7));
        assert_eq!(campaign.key.as_str().len(), 5);
        assert_eq!(campaign.status, CampaignStatus::Draft);
        assert_eq!(campaign.fraud_level, FraudLevel::Standard);
        assert_eq!(campaign.hold_window_ms, 300_000);
        assert_eq!(campaign.entry_methods[0].worth, 1);
        assert!(campaign.settings.is_object());
    }

    #[test]
    fn fields_are_checked_and_cleaned() {
        let campaign = input(|c| {
            c.key = Some(" spring-26 ".to_owned());
            c.starts_at = Some("2026-03-01T00:00:00Z".to_owned());
            c.ends_at = Some("2026-03-31T00:00:00+02:00".to_owned());
            c.allowed_origins = vec![
                "https://Shop.Example".to_owned(),
                "https://shop.example:443/".to_owned(),
                "http://localhost:3000".to_owned(),
            ];
            c.hold_window_seconds = Some(0);
            c.fraud_level = Some("strict".to_owned());
        })
        .expect("valid");
        assert_eq!(campaign.key.as_str(), "spring-26");
        assert_eq!(campaign.starts_at, Some(1_772_323_200_000));
        assert_eq!(campaign.ends_at, Some(1_774_908_000_000));
        assert_eq!(
            campaign.allowed_origins,
            vec!["https://shop.example", "http://localhost:3000"]
        );
        assert_eq!(campaign.hold_window_ms, 0);
        assert_eq!(campaign.fraud_level, FraudLevel::Strict);

        check_invalid(|c| c.name = "  ".to_owned(), "name");
        check_invalid(|c| c.name = "x".repeat(201), "name");
        check_invalid(|c| c.key = Some("a/b".to_owned()), "key");
        check_invalid(|c| c.starts_at = Some("tomorrow".to_owned()), "starts_at");
        check_invalid(
            |c| {
                c.starts_at = Some("2026-03-02T00:00:00Z".to_owned());
                c.ends_at = Some("2026-03-01T00:00:00Z".to_owned());
            },
            "ends_at",
        );
        check_invalid(
            |c| c.allowed_origins = vec!["https://shop.example/page".to_owned()],
            "allowed_origins[0]",
        );
        check_invalid(
            |c| c.allowed_origins = vec!["shop.example".to_owned()],
            "allowed_origins[0]",
        );
        check_invalid(|c| c.image_url = "ftp://x/y.png".to_owned(), "image_url");
        check_invalid(
            |c| c.fraud_level = Some("paranoid".to_owned()),
            "fraud_level",
        );
        check_invalid(
            |c| c.hold_window_seconds = Some(700_000),
            "hold_window_seconds",
        );
        check_invalid(|c| c.settings = Some(serde_json::json!([1])), "settings");
        check_invalid(
            |c| c.entry_methods[0].worth = Some(5_000),
            "entry_methods[0].worth",
        );
        check_invalid(
            |c| c.entry_methods[0].action = String::new(),
            "entry_methods[0].action",
        );
    }

    #[test]
    fn changes_keep_what_they_do_not_name() {
        let created =
            input(|c| c.ends_at = Some("2026-03-31T00:00:00Z".to_owned())).expect("valid");
        let current = CampaignRecord {
            id: 1,
            workspace_id: created.workspace_id,
            key: created.key.clone(),
            name: created.name.clone(),
            campaign_type: created.campaign_type,
            status: created.status,
            description: "Win".to_owned(),
            consent_text: String::new(),
            starts_at: None,
            ends_at: created.ends_at,
            allowed_origins: Vec::new(),
            image_url: String::new(),
            settings: created.settings.clone(),
            entry_methods: Vec::new(),
            fraud_level: created.fraud_level,
            hold_window_ms: created.hold_window_ms,
            created_at: 0,
            updated_at: 0,
        };
        let paused = changed_campaign(
            &current,
            &admin::CampaignChanges {
                status: Some(CampaignStatus::Paused),
                ..admin::CampaignChanges::default()
            },
        )
        .expect("valid");
        assert_eq!(paused.status, CampaignStatus::Paused);
        assert_eq!(paused.description, "Win");
        assert_eq!(paused.ends_at, current.ends_at);
        let unlimited = changed_campaign(
            &current,
            &admin::CampaignChanges {
                ends_at: Some(None),
                ..admin::CampaignChanges::default()
            },
        )
        .expect("valid");
        assert_eq!(unlimited.ends_at, None);
    }

    #[test]
    fn settings_and_configs_are_checked_against_their_types() {
        check_invalid(
            |c| c.settings = Some(serde_json::json!({"colour": "red"})),
            "settings.colour",
        );
        check_invalid(
            |c| {
                c.settings =
                    Some(serde_json::json!({"reward": {"type": "Download", "title": "Guide"}}))
            },
            "settings.reward.download_url",
        );
        check_invalid(
            |c| c.settings = Some(serde_json::json!({"capture": {"display": "popup"}})),
            "settings.capture",
        );
        check_invalid(
            |c| c.settings = Some(serde_json::json!({"social_proof": {"enabeld": true}})),
            "settings.social_proof",
        );
        let campaign = input(|c| {
            c.settings = Some(serde_json::json!({
                "reward": {"type": "Coupon", "title": "10% off", "unlock": {"rule": "actions", "count": 2}},
                "capture": {"display": "modal", "delay_seconds": 5},
                "social_proof": {"enabled": true}
            }));
        })
        .expect("valid settings");
        assert_eq!(campaign.settings["reward"]["unlock"]["count"], 2);

        let method = |method_type, config| {
            new_entry_method(&admin::NewEntryMethod {
                method_type,
                action: "Do it".to_owned(),
                worth: None,
                mandatory: false,
                daily: false,
                config: Some(config),
                position: None,
            })
            .map(|(method, _)| method.config)
            .map_err(|problem| problem.field)
        };
        use serde_json::json;
        assert_eq!(
            method(
                EntryMethodType::CustomQuestion,
                json!({"question": " ", "kind": "text"})
            ),
            Err("config.question".to_owned())
        );
        assert_eq!(
            method(
                EntryMethodType::CustomQuestion,
                json!({"question": "Tea?", "kind": "choice", "choices": ["Yes"]})
            ),
            Err("config.choices".to_owned())
        );
        assert_eq!(
            method(
                EntryMethodType::VisitUrl,
                json!({"url": "javascript:alert(1)"})
            ),
            Err("config.url".to_owned())
        );
        assert_eq!(
            method(EntryMethodType::SecretCode, json!({"hint": "In the video"})),
            Err("config.code".to_owned())
        );
        assert_eq!(
            method(EntryMethodType::Upload, json!({"accept": "video"})),
            Err("config".to_owned())
        );
        assert!(
            method(
                EntryMethodType::SecretCode,
                json!({"code": "TEA", "hint": "In the video"})
            )
            .is_ok()
        );
        assert!(
            method(
                EntryMethodType::SocialFollow,
                json!({"provider": "instagram", "profile_url": "https://instagram.com/x"})
            )
            .is_ok()
        );
    }

    #[test]
    fn origins_are_matched_as_browsers_send_them() {
        let allowed = vec!["https://shop.example".to_owned()];
        assert!(origin_allowed(&allowed, Some("https://shop.example")));
        assert!(origin_allowed(&allowed, Some("https://SHOP.example:443")));
        assert!(!origin_allowed(&allowed, Some("https://evil.example")));
        assert!(!origin_allowed(&allowed, Some("http://shop.example")));
        assert!(!origin_allowed(&allowed, Some("null")));
        assert!(origin_allowed(&allowed, None));
        assert!(origin_allowed(&[], Some("https://anyone.example")));
    }
}
