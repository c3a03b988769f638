//! The widget's pure logic: checking what the contestant typed, building the entry request,
//! reading the server's answer, and the retry schedule.
//!
//! Everything here is plain Rust over plain data, tested natively. It must not touch the DOM,
//! the network or the clock: the app passes in what it read from the page.

use std::collections::BTreeMap;
use std::time::Duration;

use protocol::campaign::{EntryMethodType, PublicCampaign};
use protocol::entry::{ApiError, EntryRequest, EntryResponse, MAX_IDEMPOTENCY_KEY_LEN};
use protocol::events::{CampaignInfo, ContestantInfo};
use protocol::ids::EntryMethodId;
use protocol::validate::{MAX_NAME_LEN, normalize_email};

/// Waits before each retry of a post that got no answer or a 5xx. Three retries, then the
/// contestant is told; every retry carries the same idempotency key.
pub const RETRY_DELAYS: [Duration; 3] = [
    Duration::from_millis(500),
    Duration::from_millis(1_500),
    Duration::from_millis(4_000),
];

/// A place in the form an error message is shown; `data-field` on `.hl-error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Email,
    Name,
    Consent,
    /// The form as a whole (errors about no single field).
    Form,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Name => "name",
            Self::Consent => "consent",
            Self::Form => "form",
        }
    }

    /// The field an API error's `field` names; anything unknown is shown on the form.
    pub fn from_api(field: Option<&str>) -> Self {
        match field {
            Some("email") => Self::Email,
            Some("name") => Self::Name,
            Some("consent") => Self::Consent,
            _ => Self::Form,
        }
    }
}

/// One message to show beside one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: Field,
    pub message: String,
}

impl FieldError {
    pub fn new(field: Field, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// What the contestant typed, exactly as read from the form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormInput {
    pub email: String,
    pub name: String,
    pub consent: bool,
    /// The hidden `website` field; people leave it empty.
    pub honeypot: String,
}

/// A form that passed the checks, with the email normalised and the name trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidForm {
    pub email: String,
    pub name: String,
    pub consent: bool,
    pub honeypot: String,
}

impl ValidForm {
    pub fn contestant(&self) -> ContestantInfo {
        ContestantInfo {
            email: self.email.clone(),
            name: self.name.clone(),
        }
    }
}

pub const CONSENT_REQUIRED: &str = "Please tick the box to agree before entering.";

/// Checks the form. Consent is required only when the campaign shows a consent statement.
/// Errors come in form order (email, name, consent), so the first is the one to focus.
pub fn validate(input: &FormInput, consent_required: bool) -> Result<ValidForm, Vec<FieldError>> {
    let mut errors = Vec::new();
    let email = normalize_email(&input.email)
        .map_err(|problem| errors.push(FieldError::new(Field::Email, problem.to_string())))
        .unwrap_or_default();
    let name = input.name.trim();
    if name.chars().count() > MAX_NAME_LEN {
        errors.push(FieldError::new(Field::Name, "That name is too long."));
    }
    if consent_required && !input.consent {
        errors.push(FieldError::new(Field::Consent, CONSENT_REQUIRED));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ValidForm {
        email,
        name: name.to_owned(),
        consent: input.consent,
        honeypot: input.honeypot.clone(),
    })
}

/// Whether the campaign asks for consent (it does whenever it shows a statement).
pub fn consent_required(campaign: &PublicCampaign) -> bool {
    !campaign.consent_text.trim().is_empty()
}

/// The entry method the form completes: the campaign's email subscription, else its first.
pub fn form_entry_method(campaign: &PublicCampaign) -> Option<EntryMethodId> {
    campaign
        .entry_methods
        .iter()
        .find(|method| method.method_type == EntryMethodType::EmailSubscribe)
        .or_else(|| campaign.entry_methods.first())
        .map(|method| method.id)
}

/// The campaign as events describe it.
pub fn campaign_info(campaign: &PublicCampaign) -> CampaignInfo {
    CampaignInfo {
        key: campaign.key.clone(),
        name: campaign.name.clone(),
        campaign_type: campaign.campaign_type,
    }
}

/// Where the page came from, as the entry records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageContext {
    pub landing_url: String,
    pub referring_url: String,
}

/// The body of the entry post. `issued_at` is the campaign's `issued_at`, echoed so the server
/// can tell how long the form was shown (0 means the server did not say).
pub fn entry_request(
    form: &ValidForm,
    entry_method_id: EntryMethodId,
    issued_at: i64,
    idempotency_key: &str,
    page: &PageContext,
) -> EntryRequest {
    EntryRequest {
        idempotency_key: idempotency_key.to_owned(),
        entry_method_id,
        email: form.email.clone(),
        name: form.name.clone(),
        consent: form.consent,
        details: BTreeMap::new(),
        landing_url: page.landing_url.clone(),
        referring_url: page.referring_url.clone(),
        honeypot: form.honeypot.clone(),
        form_issued_at: (issued_at != 0).then_some(issued_at),
    }
}

/// An idempotency key from random bytes: `idem_` and the bytes in lower-case hex.
pub fn idempotency_key(random_bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut key = String::from("idem_");
    for byte in random_bytes {
        key.push(HEX[usize::from(byte >> 4)] as char);
        key.push(HEX[usize::from(byte & 0x0f)] as char);
    }
    key.truncate(MAX_IDEMPOTENCY_KEY_LEN);
    key
}

/// The public campaign URL, with any trailing slash of `api_base` ignored.
pub fn campaign_url(api_base: &str, key: &str) -> String {
    format!(
        "{}/api/v1/public/campaigns/{key}",
        api_base.trim_end_matches('/')
    )
}

/// The URL entries are posted to.
pub fn entries_url(api_base: &str, key: &str) -> String {
    format!("{}/entries", campaign_url(api_base, key))
}

/// What one answer to the entry post means.
#[derive(Debug, Clone, PartialEq)]
pub enum PostOutcome {
    /// 200 or 201: the entry is stored.
    Accepted(EntryResponse),
    /// A 4xx: the server refused and stored nothing; retrying the same post cannot help.
    Refused(ApiError),
    /// A 5xx, 408, 429, or an answer that could not be read: worth retrying.
    Retry,
}

/// An answer's JSON body, read by whoever has it: the browser's `Response.json()` in the
/// widget (see `answers.rs`), `serde_json` in tests. (The widget links no JSON parser of its
/// own.) Each is `None` if the body is not JSON of that shape.
pub trait AnswerBody {
    fn entry_response(&self) -> Option<EntryResponse>;
    fn api_error(&self) -> Option<ApiError>;
}

/// Reads the server's answer to the entry post.
pub fn read_post_answer(status: u16, body: &impl AnswerBody) -> PostOutcome {
    match status {
        200 | 201 => match body.entry_response() {
            Some(response) => PostOutcome::Accepted(response),
            None => PostOutcome::Retry,
        },
        408 | 429 => PostOutcome::Retry,
        400..=499 => PostOutcome::Refused(body.api_error().unwrap_or_else(|| ApiError {
            code: format!("http_{status}"),
            detail: "Sorry, your entry could not be accepted.".to_owned(),
            field: None,
        })),
        _ => PostOutcome::Retry,
    }
}

/// The error event code and message for a post that got no usable answer after all retries.
pub const NETWORK_CODE: &str = "network";
pub const NETWORK_MESSAGE: &str =
    "We couldn't reach the server. Please check your connection and try again.";

/// The error event code and message for a campaign that could not be loaded.
pub const CAMPAIGN_UNAVAILABLE_CODE: &str = "campaign_unavailable";
pub const CAMPAIGN_UNAVAILABLE_MESSAGE: &str = "This campaign isn't available right now.";

/// Where to show a refused entry's message.
pub fn refusal_error(error: &ApiError) -> FieldError {
    FieldError::new(
        Field::from_api(error.field.as_deref()),
        error.detail.clone(),
    )
}

/// The thank-you line after a confirmed entry.
pub fn done_message(total_entries: u32) -> String {
    match total_entries {
        1 => "You're in! You have 1 entry.".to_owned(),
        n => format!("You're in! You have {n} entries."),
    }
}

#[cfg(test)]
mod tests {
    use protocol::campaign::{CampaignStatus, CampaignType, PublicEntryMethod};
    use protocol::ids::CampaignKey;

    use super::*;

    fn input(email: &str, name: &str, consent: bool) -> FormInput {
        FormInput {
            email: email.into(),
            name: name.into(),
            consent,
            honeypot: String::new(),
        }
    }

    /// `expected` is the normalised email, or the fields with errors in order.
    fn check(input: FormInput, consent_required: bool, expected: Result<&str, &[Field]>) {
        let actual = validate(&input, consent_required);
        let actual = actual
            .as_ref()
            .map(|form| form.email.as_str())
            .map_err(|errors| errors.iter().map(|error| error.field).collect::<Vec<_>>());
        assert_eq!(actual, expected.map_err(<[Field]>::to_vec), "{input:?}");
    }

    #[test]
    fn validation() {
        use Field::*;
        check(
            input("joe@example.com", "Joe", true),
            true,
            Ok("joe@example.com"),
        );
        check(
            input(" Joe@Example.COM ", "", false),
            false,
            Ok("Joe@example.com"),
        );
        check(input("joe@example.com", "", false), true, Err(&[Consent]));
        check(input("", "", false), true, Err(&[Email, Consent]));
        check(input("joe", "", true), true, Err(&[Email]));
        check(
            input("joe@example", "x".repeat(201).as_str(), false),
            true,
            Err(&[Email, Name, Consent]),
        );
        check(
            input("joe@example.com", "x".repeat(200).as_str(), false),
            false,
            Ok("joe@example.com"),
        );
    }

    #[test]
    fn validation_messages_are_for_people() {
        let errors = validate(&input("", "", false), true)
            .err()
            .unwrap_or_default();
        assert_eq!(errors[0].message, "Please enter your email address.");
        assert_eq!(errors[1].message, CONSENT_REQUIRED);
    }

    #[test]
    fn valid_form_is_trimmed_and_keeps_the_honeypot() {
        let mut form_input = input("joe@example.com", "  Joe Bloggs ", true);
        form_input.honeypot = "spam".into();
        let form = validate(&form_input, true).ok();
        assert_eq!(
            form,
            Some(ValidForm {
                email: "joe@example.com".into(),
                name: "Joe Bloggs".into(),
                consent: true,
                honeypot: "spam".into(),
            })
        );
    }

    fn campaign(consent_text: &str, methods: &[(i64, EntryMethodType)]) -> PublicCampaign {
        PublicCampaign {
            key: CampaignKey::parse("demo").unwrap_or_else(|| unreachable!()),
            name: "Demo".into(),
            campaign_type: CampaignType::Competition,
            status: CampaignStatus::Running,
            description: "Win".into(),
            consent_text: consent_text.into(),
            entry_methods: methods
                .iter()
                .map(|&(id, method_type)| PublicEntryMethod {
                    id: EntryMethodId(id),
                    method_type,
                    action: "Do it".into(),
                    worth: 1,
                    mandatory: true,
                    daily: false,
                    custom_question: None,
                    visit_url: None,
                    secret_code: None,
                    social_follow: None,
                    upload: None,
                })
                .collect(),
            issued_at: 0,
            starts_at: None,
            ends_at: None,
            image_url: String::new(),
            reward: None,
            capture: None,
            social_proof: false,
        }
    }

    #[test]
    fn entry_method_prefers_email_subscribe() {
        use EntryMethodType::*;
        let check = |methods: &[(i64, EntryMethodType)], expected: Option<i64>| {
            assert_eq!(
                form_entry_method(&campaign("", methods)),
                expected.map(EntryMethodId)
            );
        };
        check(&[], None);
        check(&[(7, VisitUrl)], Some(7));
        check(&[(7, VisitUrl), (9, EmailSubscribe)], Some(9));
    }

    #[test]
    fn consent_is_required_when_there_is_a_statement() {
        assert!(consent_required(&campaign("I agree to the rules.", &[])));
        assert!(!consent_required(&campaign("  ", &[])));
    }

    #[test]
    fn request_carries_form_page_and_key() {
        let form = ValidForm {
            email: "joe@example.com".into(),
            name: "Joe".into(),
            consent: true,
            honeypot: String::new(),
        };
        let page = PageContext {
            landing_url: "https://shop.example/".into(),
            referring_url: "https://search.example/".into(),
        };
        let request = entry_request(&form, EntryMethodId(3), 1_700_000_000_000, "idem_ab", &page);
        let json = serde_json::to_value(&request).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({
                "idempotency_key": "idem_ab",
                "entry_method_id": 3,
                "email": "joe@example.com",
                "name": "Joe",
                "consent": true,
                "details": {},
                "landing_url": "https://shop.example/",
                "referring_url": "https://search.example/",
                "honeypot": "",
                "form_issued_at": 1_700_000_000_000_i64,
            })
        );
        let unknown = entry_request(&form, EntryMethodId(3), 0, "idem_ab", &page);
        assert_eq!(unknown.form_issued_at, None);
    }

    #[test]
    fn idempotency_keys() {
        assert_eq!(idempotency_key(&[0x00, 0x0f, 0xa5, 0xff]), "idem_000fa5ff");
        assert_eq!(idempotency_key(&[0xab; 16]).len(), 5 + 32);
        assert_eq!(idempotency_key(&[0xab; 64]).len(), MAX_IDEMPOTENCY_KEY_LEN);
    }

    #[test]
    fn urls() {
        let check = |base: &str, expected: &str| assert_eq!(entries_url(base, "demo"), expected);
        check(
            "http://localhost:3000",
            "http://localhost:3000/api/v1/public/campaigns/demo/entries",
        );
        check(
            "https://h.example/",
            "https://h.example/api/v1/public/campaigns/demo/entries",
        );
        check("", "/api/v1/public/campaigns/demo/entries");
        assert_eq!(
            campaign_url("https://h.example", "a1"),
            "https://h.example/api/v1/public/campaigns/a1"
        );
    }

    impl AnswerBody for &str {
        fn entry_response(&self) -> Option<EntryResponse> {
            serde_json::from_str(self).ok()
        }

        fn api_error(&self) -> Option<ApiError> {
            serde_json::from_str(self).ok()
        }
    }

    #[test]
    fn post_answers() {
        let accepted = r#"{"entry":{"id":1,"entry_method_id":3,"type":"email_subscribe",
            "action":"Subscribe","worth":1,"created_at":"2025-01-01 00:00:00 UTC"},
            "actions_completed":1,"total_entries":1}"#;
        let check = |status: u16, body: &str, expected: &str| {
            let outcome = match read_post_answer(status, &body) {
                PostOutcome::Accepted(response) => format!("accepted {}", response.total_entries),
                PostOutcome::Refused(error) => {
                    format!("refused {} {:?} {}", error.code, error.field, error.detail)
                }
                PostOutcome::Retry => "retry".to_owned(),
            };
            assert_eq!(outcome, expected, "{status} {body}");
        };
        check(201, accepted, "accepted 1");
        check(200, accepted, "accepted 1");
        check(201, "not json", "retry");
        check(
            422,
            r#"{"code":"invalid_email","detail":"Bad email.","field":"email"}"#,
            r#"refused invalid_email Some("email") Bad email."#,
        );
        check(
            404,
            r#"{"code":"campaign_not_found","detail":"No such campaign."}"#,
            "refused campaign_not_found None No such campaign.",
        );
        check(
            400,
            "<html>",
            "refused http_400 None Sorry, your entry could not be accepted.",
        );
        check(429, "", "retry");
        check(408, "", "retry");
        check(500, r#"{"code":"internal","detail":"Oops"}"#, "retry");
        check(503, "", "retry");
        check(0, "", "retry");
    }

    #[test]
    fn refusals_go_to_their_field() {
        let check = |field: Option<&str>, expected: Field| {
            let error = ApiError {
                code: "x".into(),
                detail: "Shown.".into(),
                field: field.map(Into::into),
            };
            assert_eq!(refusal_error(&error), FieldError::new(expected, "Shown."));
        };
        check(Some("email"), Field::Email);
        check(Some("name"), Field::Name);
        check(Some("consent"), Field::Consent);
        check(Some("entry_method_id"), Field::Form);
        check(None, Field::Form);
    }

    #[test]
    fn retry_schedule_backs_off() {
        assert!(RETRY_DELAYS.windows(2).all(|pair| pair[0] < pair[1]));
        let total: Duration = RETRY_DELAYS.iter().sum();
        assert!(
            total < Duration::from_secs(10),
            "the contestant waits at most {total:?}"
        );
    }

    #[test]
    fn done_messages() {
        assert_eq!(done_message(1), "You're in! You have 1 entry.");
        assert_eq!(done_message(3), "You're in! You have 3 entries.");
    }
}
