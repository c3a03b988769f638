//! The widget's pure form logic: checking the contestant's details and each action's input,
//! building the entry post, reading the server's answer, share links and the retry schedule.
//!
//! Everything here is plain Rust over plain data, tested natively. It must not touch the DOM,
//! the network or the clock: the app passes in what it read from the page.

use std::time::Duration;

use protocol::campaign::{
    AnswerKind, CampaignType, EntryMethodType, PublicCampaign, PublicEntryMethod, UploadKind,
};
use protocol::entry::{ApiError, EntryAnswer, MAX_IDEMPOTENCY_KEY_LEN};
use protocol::events::CampaignInfo;
use protocol::ids::{ContestantToken, EntryMethodId, ReferralCode, UploadId};
use protocol::validate::{EmailProblem, MAX_NAME_LEN, normalize_email};

use crate::i18n::{Lang, Text, api_error_text};
use crate::session::Session;

/// Waits before each retry of a post that got no answer or a 5xx. Three retries, then the
/// post waits in the outbox; every retry carries the same idempotency key.
pub const RETRY_DELAYS: [Duration; 3] = [
    Duration::from_millis(500),
    Duration::from_millis(1_500),
    Duration::from_millis(4_000),
];

/// Longest answer, code or URL the widget sends (the body limit is 64 KiB).
pub const MAX_VALUE_LEN: usize = 2_000;

/// A place in the form an error message is shown; `data-field` on `.hl-error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Email,
    Name,
    Consent,
    /// The input of an entry method (answer, code, URL, file).
    Value,
    /// The form as a whole (errors about no single field).
    Form,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Name => "name",
            Self::Consent => "consent",
            Self::Value => "value",
            Self::Form => "form",
        }
    }

    /// The field an API error's `field` names; anything unknown is shown on the form.
    pub fn from_api(field: Option<&str>) -> Self {
        match field {
            Some("email") => Self::Email,
            Some("name") => Self::Name,
            Some("consent") => Self::Consent,
            Some("value" | "upload_id" | "file") => Self::Value,
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

/// What the contestant typed in the details form, exactly as read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormInput {
    pub email: String,
    pub name: String,
    pub consent: bool,
    /// The hidden `website` field; people leave it empty.
    pub honeypot: String,
}

/// Details that passed the checks, with the email normalised and the name trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidForm {
    pub email: String,
    pub name: String,
    pub consent: bool,
    pub honeypot: String,
}

fn email_text(problem: EmailProblem) -> Text {
    match problem {
        EmailProblem::Missing => Text::EmailMissing,
        EmailProblem::TooLong => Text::EmailTooLong,
        EmailProblem::Malformed => Text::EmailMalformed,
    }
}

/// Checks the details form. Consent is required only when the campaign shows a consent
/// statement. Errors come in form order (email, name, consent), so the first is the one to
/// focus.
pub fn validate(
    input: &FormInput,
    consent_required: bool,
    lang: Lang,
) -> Result<ValidForm, Vec<FieldError>> {
    let mut errors = Vec::new();
    let email = normalize_email(&input.email)
        .map_err(|problem| {
            errors.push(FieldError::new(Field::Email, lang.get(email_text(problem))))
        })
        .unwrap_or_default();
    let name = input.name.trim();
    if name.chars().count() > MAX_NAME_LEN {
        errors.push(FieldError::new(Field::Name, lang.get(Text::NameTooLong)));
    }
    if consent_required && !input.consent {
        errors.push(FieldError::new(
            Field::Consent,
            lang.get(Text::ConsentRequired),
        ));
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

/// The entry method the details form completes: the campaign's email subscription; for a
/// Capture campaign without one, its first method. `None`: giving details enters nothing by
/// itself (the first action will carry them).
pub fn details_method(campaign: &PublicCampaign) -> Option<&PublicEntryMethod> {
    let methods = &campaign.entry_methods;
    methods
        .iter()
        .find(|method| method.method_type == EntryMethodType::EmailSubscribe)
        .or_else(|| {
            (campaign.campaign_type == CampaignType::Capture)
                .then(|| methods.first())
                .flatten()
        })
}

/// The campaign as events describe it.
pub fn campaign_info(campaign: &PublicCampaign) -> CampaignInfo {
    CampaignInfo {
        key: campaign.key.clone(),
        name: campaign.name.clone(),
        campaign_type: campaign.campaign_type,
    }
}

/// Checks what the contestant gave for `method` (typed, chosen, or the URL they clicked) and
/// returns the entry's `value`. The message is for the method's field.
pub fn action_value(method: &PublicEntryMethod, raw: &str, lang: Lang) -> Result<String, String> {
    let value = raw.trim();
    if value.chars().count() > MAX_VALUE_LEN {
        return Err(lang.get(Text::Refused).to_owned());
    }
    let refuse = |text: Text| Err(lang.get(text).to_owned());
    match method.method_type {
        EntryMethodType::CustomQuestion => {
            let Some(question) = &method.custom_question else {
                return Ok(value.to_owned());
            };
            match question.kind {
                AnswerKind::Checkbox => {
                    let ticked = value == "true";
                    if question.required && !ticked {
                        return refuse(Text::AnswerRequired);
                    }
                    Ok(ticked.to_string())
                }
                AnswerKind::Choice
                    if !value.is_empty() && !question.choices.iter().any(|c| c == value) =>
                {
                    refuse(Text::AnswerRequired)
                }
                _ if question.required && value.is_empty() => refuse(Text::AnswerRequired),
                _ => Ok(value.to_owned()),
            }
        }
        EntryMethodType::SecretCode if value.is_empty() => refuse(Text::AnswerRequired),
        // An image address (a `file` method's picture goes to the uploads route first, see
        // [`picture_problem`], and the entry cites it with the address the server gave).
        EntryMethodType::Upload if !is_web_url(value) => refuse(Text::InvalidUrl),
        _ => Ok(value.to_owned()),
    }
}

/// Whether `method` takes a picture file (which the widget sends to the uploads route before
/// the entry) rather than an image's address.
pub fn takes_file(method: &PublicEntryMethod) -> bool {
    method.method_type == EntryMethodType::Upload
        && method
            .upload
            .as_ref()
            .is_some_and(|upload| upload.accept == UploadKind::File)
}

/// The server's limit when a `file` method does not set one (`uploads::DEFAULT_MAX_BYTES`).
const DEFAULT_MAX_PICTURE_BYTES: u64 = 5 * 1024 * 1024;

/// Why a chosen file of `size` bytes cannot be sent for `method`, before any byte is: none
/// chosen, or larger than the method takes (the message gives the limit in KB). The server
/// checks the type by the file's first bytes.
pub fn picture_problem(
    method: &PublicEntryMethod,
    size: Option<f64>,
    lang: Lang,
) -> Option<String> {
    let Some(size) = size else {
        return Some(lang.get(Text::ChoosePicture).to_owned());
    };
    let limit = match method.upload.as_ref().map_or(0, |upload| upload.max_bytes) {
        0 => DEFAULT_MAX_PICTURE_BYTES,
        max => max,
    };
    #[expect(clippy::cast_precision_loss, reason = "limits are far below 2^52")]
    let too_large = size > limit as f64;
    too_large.then(|| {
        lang.with_n(
            Text::PictureTooLarge,
            u32::try_from(limit / 1024).unwrap_or(u32::MAX).max(1),
        )
    })
}

/// `http://` or `https://` and something after.
pub fn is_web_url(text: &str) -> bool {
    let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &text[8..]
    } else if lower.starts_with("http://") {
        &text[7..]
    } else {
        return false;
    };
    !rest.is_empty() && !rest.contains(char::is_whitespace)
}

/// Where the page came from, as the entry records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageContext {
    pub landing_url: String,
    pub referring_url: String,
}

/// What one action sends besides the contestant's details.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionInput {
    pub value: String,
    pub upload_id: Option<UploadId>,
    /// The honeypot of the details form, sent with the entry it makes.
    pub honeypot: String,
}

/// The entry post's body: what [`protocol::entry::EntryPost`] carries, with `details` as the
/// one answer the widget can give (a custom question's), so the bundle needs no map of JSON
/// values. `wire.rs` writes it in `EntryPost`'s exact shape (tested against its serde).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub idempotency_key: String,
    pub entry_method_id: EntryMethodId,
    pub email: String,
    pub name: String,
    pub consent: bool,
    /// Question → answer, for `details` (`user.details` of the webhook).
    pub answer: Option<(String, String)>,
    pub landing_url: String,
    pub referring_url: String,
    pub honeypot: String,
    pub form_issued_at: Option<i64>,
    pub value: String,
    pub upload_id: Option<UploadId>,
    pub referrer_code: Option<ReferralCode>,
    pub contestant_token: Option<ContestantToken>,
}

/// The body of the entry post for `method`, by the contestant of `session`. `issued_at` is
/// the campaign's `issued_at`, echoed so the server can tell how long the form was shown
/// (0 means the server did not say). A custom question's answer also goes into `details`,
/// under the question's text.
pub fn entry_post(
    session: &Session,
    method: &PublicEntryMethod,
    input: &ActionInput,
    issued_at: i64,
    idempotency_key: &str,
    page: &PageContext,
) -> Post {
    let answer = method
        .custom_question
        .as_ref()
        .filter(|_| method.method_type == EntryMethodType::CustomQuestion)
        .map(|question| (question.question.clone(), input.value.clone()));
    Post {
        idempotency_key: idempotency_key.to_owned(),
        entry_method_id: method.id,
        email: session.email.clone(),
        name: session.name.clone(),
        consent: session.consent,
        answer,
        landing_url: page.landing_url.clone(),
        referring_url: page.referring_url.clone(),
        honeypot: input.honeypot.clone(),
        form_issued_at: (issued_at != 0).then_some(issued_at),
        value: input.value.clone(),
        upload_id: input.upload_id.clone(),
        referrer_code: session.referred_by.clone(),
        contestant_token: session.token.clone(),
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

/// Where pictures for `file` upload methods are posted.
pub fn uploads_url(api_base: &str, key: &str) -> String {
    format!("{}/uploads", campaign_url(api_base, key))
}

/// The campaign's social proof feed (Server-Sent Events).
pub fn activity_url(api_base: &str, key: &str) -> String {
    format!("{}/activity", campaign_url(api_base, key))
}

/// The returning contestant's status. Tokens are URL-safe (`ctk_` and letters, digits, `-`, `_`).
pub fn contestant_url(api_base: &str, key: &str, token: &str) -> String {
    format!("{}/contestant?token={token}", campaign_url(api_base, key))
}

/// The campaign's hosted page.
pub fn hosted_page_url(api_base: &str, key: &str) -> String {
    format!("{}/c/{key}", api_base.trim_end_matches('/'))
}

/// What one answer to the entry post means.
#[derive(Debug, Clone, PartialEq)]
pub enum PostOutcome {
    /// 200 or 201: the entry is stored. Boxed: it is most of the size.
    Accepted(Box<EntryAnswer>),
    /// A 4xx: the server refused and stored nothing; retrying the same post cannot help.
    Refused(ApiError),
    /// A 5xx, 408, 429, or an answer that could not be read: worth retrying.
    Retry,
}

/// An answer's JSON body, read by whoever has it: the browser's `Response.json()` in the
/// widget (see `answers.rs`), `serde_json` in tests. (The widget links no JSON parser of its
/// own.) Each is `None` if the body is not JSON of that shape.
pub trait AnswerBody {
    fn entry_answer(&self) -> Option<EntryAnswer>;
    fn api_error(&self) -> Option<ApiError>;
}

/// Reads the server's answer to the entry post.
pub fn read_post_answer(status: u16, body: &impl AnswerBody) -> PostOutcome {
    match status {
        200 | 201 => match body.entry_answer() {
            Some(answer) => PostOutcome::Accepted(Box::new(answer)),
            None => PostOutcome::Retry,
        },
        408 | 429 => PostOutcome::Retry,
        400..=499 => PostOutcome::Refused(refusal(status, body)),
        _ => PostOutcome::Retry,
    }
}

/// The server's error in a 4xx answer; one made up from the status when the body is not an
/// error of the API (a proxy's page, say).
pub fn refusal(status: u16, body: &impl AnswerBody) -> ApiError {
    body.api_error().unwrap_or_else(|| ApiError {
        code: format!("http_{status}"),
        detail: Lang::En.get(Text::Refused).to_owned(),
        field: None,
    })
}

/// Where to show a refused entry's message, and in which words: the widget's own for the
/// codes it knows when it speaks another language than the server's English, else the
/// server's `detail`.
pub fn refusal_error(error: &ApiError, lang: Lang) -> FieldError {
    let message = match (lang, api_error_text(&error.code)) {
        (Lang::En, _) | (_, None) => error.detail.clone(),
        (_, Some(text)) => lang.get(text).to_owned(),
    };
    FieldError::new(Field::from_api(error.field.as_deref()), message)
}

/// The referrer's code in a landing page URL (`?hl_ref=…`), if any.
pub fn referrer_code(landing_url: &str) -> Option<ReferralCode> {
    let query = landing_url.split('#').next()?.split_once('?')?.1;
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == ReferralCode::QUERY_PARAMETER)
        .and_then(|(_, value)| ReferralCode::parse(value))
}

/// The contestant's share link: the server's, else the landing page (without its fragment
/// and any earlier `hl_ref`) with their code. `None` until the server has given a code.
pub fn share_link(session: &Session, landing_url: &str) -> Option<String> {
    if !session.referral_url.is_empty() {
        return Some(session.referral_url.clone());
    }
    let code = session.referral_code.as_ref()?;
    let page = landing_url.split('#').next().unwrap_or_default();
    let (path, query) = page.split_once('?').unwrap_or((page, ""));
    let mut kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            !pair.is_empty() && pair.split('=').next() != Some(ReferralCode::QUERY_PARAMETER)
        })
        .collect();
    let parameter = format!("{}={code}", ReferralCode::QUERY_PARAMETER);
    kept.push(&parameter);
    Some(format!("{path}?{}", kept.join("&")))
}

#[cfg(test)]
mod tests {
    use protocol::campaign::{
        CampaignStatus, QuestionSettings, SecretCodeSettings, UploadKind, UploadSettings,
    };
    use protocol::entry::{ContestantSession, EntryAction, EntryPost, EntryRequest, EntryResponse};
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
        let actual = validate(&input, consent_required, Lang::En);
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
    fn validation_messages_are_for_people_in_their_language() {
        let errors = validate(&input("", "", false), true, Lang::En)
            .err()
            .unwrap_or_default();
        assert_eq!(errors[0].message, "Please enter your email address.");
        assert_eq!(
            errors[1].message,
            "Please tick the box to agree before entering."
        );
        let errors = validate(&input("joe@", "", true), true, Lang::Fr)
            .err()
            .unwrap_or_default();
        assert_eq!(
            errors[0].message,
            "Veuillez saisir une adresse e-mail valide, comme nom@exemple.fr."
        );
    }

    #[test]
    fn english_email_messages_are_the_servers() {
        // The server refuses with `EmailProblem`'s text; the widget says the same before.
        for problem in [
            EmailProblem::Missing,
            EmailProblem::TooLong,
            EmailProblem::Malformed,
        ] {
            assert_eq!(Lang::En.get(email_text(problem)), problem.to_string());
        }
    }

    fn method(id: i64, method_type: EntryMethodType) -> PublicEntryMethod {
        PublicEntryMethod {
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
        }
    }

    fn campaign(
        campaign_type: CampaignType,
        consent_text: &str,
        methods: Vec<PublicEntryMethod>,
    ) -> PublicCampaign {
        PublicCampaign {
            key: CampaignKey::parse("demo").unwrap_or_else(|| unreachable!()),
            name: "Demo".into(),
            campaign_type,
            status: CampaignStatus::Running,
            description: "Win".into(),
            consent_text: consent_text.into(),
            entry_methods: methods,
            issued_at: 0,
            starts_at: None,
            ends_at: None,
            image_url: String::new(),
            reward: None,
            capture: None,
            social_proof: None,
        }
    }

    #[test]
    fn the_details_form_completes_the_email_subscription() {
        use EntryMethodType::*;
        let check = |campaign_type, methods: Vec<PublicEntryMethod>, expected: Option<i64>| {
            let c = campaign(campaign_type, "", methods);
            assert_eq!(details_method(&c).map(|m| m.id.0), expected);
        };
        check(CampaignType::Competition, vec![], None);
        check(CampaignType::Competition, vec![method(7, VisitUrl)], None);
        check(
            CampaignType::Competition,
            vec![method(7, VisitUrl), method(9, EmailSubscribe)],
            Some(9),
        );
        check(
            CampaignType::Capture,
            vec![method(7, CustomQuestion)],
            Some(7),
        );
    }

    #[test]
    fn consent_is_required_when_there_is_a_statement() {
        assert!(consent_required(&campaign(
            CampaignType::Competition,
            "I agree to the rules.",
            vec![]
        )));
        assert!(!consent_required(&campaign(
            CampaignType::Competition,
            "  ",
            vec![]
        )));
    }

    fn question(kind: AnswerKind, required: bool) -> PublicEntryMethod {
        let mut m = method(2, EntryMethodType::CustomQuestion);
        m.custom_question = Some(QuestionSettings {
            question: "How do you take it?".into(),
            kind,
            choices: vec!["Black".into(), "With milk".into()],
            required,
        });
        m
    }

    #[test]
    fn action_values_by_method() {
        let check = |m: &PublicEntryMethod, raw: &str, expected: Result<&str, &str>| {
            let actual = action_value(m, raw, Lang::En);
            assert_eq!(
                actual.as_deref().map_err(String::as_str),
                expected,
                "{:?} {raw:?}",
                m.method_type
            );
        };
        let required = "Please answer the question.";
        check(&question(AnswerKind::Text, true), "  Great ", Ok("Great"));
        check(&question(AnswerKind::Text, true), "  ", Err(required));
        check(&question(AnswerKind::Text, false), "", Ok(""));
        check(
            &question(AnswerKind::Choice, true),
            "With milk",
            Ok("With milk"),
        );
        check(&question(AnswerKind::Choice, true), "Tea", Err(required));
        check(&question(AnswerKind::Choice, true), "", Err(required));
        check(&question(AnswerKind::Choice, false), "", Ok(""));
        check(&question(AnswerKind::Checkbox, true), "true", Ok("true"));
        check(
            &question(AnswerKind::Checkbox, true),
            "false",
            Err(required),
        );
        check(&question(AnswerKind::Checkbox, false), "", Ok("false"));
        let mut secret = method(4, EntryMethodType::SecretCode);
        secret.secret_code = Some(SecretCodeSettings::default());
        check(&secret, " BEANS ", Ok("BEANS"));
        check(&secret, "", Err(required));
        let image = method(7, EntryMethodType::Upload);
        check(
            &image,
            "https://cdn.example/cup.jpg",
            Ok("https://cdn.example/cup.jpg"),
        );
        check(
            &image,
            "cup.jpg",
            Err("Please enter a web address starting with https://."),
        );
        let mut file = method(7, EntryMethodType::Upload);
        file.upload = Some(UploadSettings {
            accept: UploadKind::File,
            max_bytes: 0,
        });
        check(
            &file,
            "",
            Err("Please enter a web address starting with https://."),
        );
        check(
            &file,
            "https://cdn.example/a.png",
            Ok("https://cdn.example/a.png"),
        );
        check(
            &question(AnswerKind::Text, false),
            &"x".repeat(MAX_VALUE_LEN + 1),
            Err("Sorry, your entry could not be accepted."),
        );
    }

    #[test]
    fn a_picture_is_checked_before_it_is_sent() {
        let lang = Lang::En;
        let image_url = method(7, EntryMethodType::Upload);
        assert!(!takes_file(&image_url));
        let mut file = method(7, EntryMethodType::Upload);
        file.upload = Some(UploadSettings {
            accept: UploadKind::File,
            max_bytes: 0,
        });
        assert!(takes_file(&file));
        assert_eq!(
            picture_problem(&file, None, lang).as_deref(),
            Some("Please choose a picture: JPEG, PNG, GIF or WebP.")
        );
        // Without a limit of its own, the server's 5 MB.
        assert_eq!(
            picture_problem(&file, Some(5.0 * 1024.0 * 1024.0), lang),
            None
        );
        assert_eq!(
            picture_problem(&file, Some(5.0 * 1024.0 * 1024.0 + 1.0), lang).as_deref(),
            Some("That picture is too large: at most 5120 KB.")
        );
        file.upload = Some(UploadSettings {
            accept: UploadKind::File,
            max_bytes: 2_000,
        });
        assert_eq!(picture_problem(&file, Some(2_000.0), lang), None);
        assert_eq!(
            picture_problem(&file, Some(2_001.0), Lang::Fr).as_deref(),
            Some("Cette image est trop lourde : 1 Ko au plus.")
        );
    }

    #[test]
    fn the_uploads_route_is_the_campaigns() {
        assert_eq!(
            uploads_url("https://h.example/", "giveaway"),
            "https://h.example/api/v1/public/campaigns/giveaway/uploads"
        );
    }

    #[test]
    fn web_urls() {
        for (text, expected) in [
            ("https://a.example/x", true),
            ("HTTP://a.example", true),
            ("https://", false),
            ("ftp://a.example", false),
            ("javascript:alert(1)", false),
            ("https://a b", false),
            ("", false),
        ] {
            assert_eq!(is_web_url(text), expected, "{text:?}");
        }
    }

    fn session() -> Session {
        let mut session = Session::new(
            "joe@example.com",
            "Joe",
            true,
            ReferralCode::parse("Fr13nd"),
        );
        session.token = ContestantToken::parse("ctk_abc");
        session
    }

    #[test]
    fn the_post_carries_details_action_page_and_key() {
        let page = PageContext {
            landing_url: "https://shop.example/?hl_ref=Fr13nd".into(),
            referring_url: "https://search.example/".into(),
        };
        let action = ActionInput {
            value: "With milk".into(),
            ..ActionInput::default()
        };
        let post = entry_post(
            &session(),
            &question(AnswerKind::Choice, true),
            &action,
            1_795_330_477_000,
            "idem_0f3a9c1e5b7d4f2a8c6e0b1d3f5a7c9e",
            &page,
        );
        let json = serde_json::to_value(post.to_protocol()).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({
                "idempotency_key": "idem_0f3a9c1e5b7d4f2a8c6e0b1d3f5a7c9e",
                "entry_method_id": 2,
                "email": "joe@example.com",
                "name": "Joe",
                "consent": true,
                "details": {"How do you take it?": "With milk"},
                "landing_url": "https://shop.example/?hl_ref=Fr13nd",
                "referring_url": "https://search.example/",
                "honeypot": "",
                "form_issued_at": 1_795_330_477_000_i64,
                "value": "With milk",
                "referrer_code": "Fr13nd",
                "contestant_token": "ctk_abc",
            })
        );
        let first_visit = Session::new("joe@example.com", "", false, None);
        let email = method(1, EntryMethodType::EmailSubscribe);
        let post = entry_post(
            &first_visit,
            &email,
            &ActionInput::default(),
            0,
            "idem_ab",
            &page,
        );
        let json = serde_json::to_value(post.to_protocol()).unwrap_or_default();
        assert_eq!(json["details"], serde_json::json!({}));
        assert!(json.get("form_issued_at").is_none());
        assert!(json.get("contestant_token").is_none() && json.get("referrer_code").is_none());
    }

    impl Post {
        /// The protocol's type for this body, to compare shapes with its serde.
        pub fn to_protocol(&self) -> EntryPost {
            EntryPost {
                request: EntryRequest {
                    idempotency_key: self.idempotency_key.clone(),
                    entry_method_id: self.entry_method_id,
                    email: self.email.clone(),
                    name: self.name.clone(),
                    consent: self.consent,
                    details: self
                        .answer
                        .iter()
                        .map(|(question, answer)| (question.clone(), answer.clone().into()))
                        .collect(),
                    landing_url: self.landing_url.clone(),
                    referring_url: self.referring_url.clone(),
                    honeypot: self.honeypot.clone(),
                    form_issued_at: self.form_issued_at,
                },
                action: EntryAction {
                    value: self.value.clone(),
                    upload_id: self.upload_id.clone(),
                    referrer_code: self.referrer_code.clone(),
                    contestant_token: self.contestant_token.clone(),
                },
            }
        }

        /// The body of a protocol post (its first `details` entry as the answer).
        pub fn from_protocol(post: &EntryPost) -> Self {
            let request = &post.request;
            Self {
                idempotency_key: request.idempotency_key.clone(),
                entry_method_id: request.entry_method_id,
                email: request.email.clone(),
                name: request.name.clone(),
                consent: request.consent,
                answer: request.details.iter().next().map(|(question, answer)| {
                    (
                        question.clone(),
                        answer.as_str().unwrap_or_default().to_owned(),
                    )
                }),
                landing_url: request.landing_url.clone(),
                referring_url: request.referring_url.clone(),
                honeypot: request.honeypot.clone(),
                form_issued_at: request.form_issued_at,
                value: post.action.value.clone(),
                upload_id: post.action.upload_id.clone(),
                referrer_code: post.action.referrer_code.clone(),
                contestant_token: post.action.contestant_token.clone(),
            }
        }
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
        assert_eq!(
            activity_url("https://h.example/", "a1"),
            "https://h.example/api/v1/public/campaigns/a1/activity"
        );
        assert_eq!(
            contestant_url("https://h.example/", "a1", "ctk_x"),
            "https://h.example/api/v1/public/campaigns/a1/contestant?token=ctk_x"
        );
        assert_eq!(
            hosted_page_url("https://h.example/", "a1"),
            "https://h.example/c/a1"
        );
    }

    impl AnswerBody for &str {
        fn entry_answer(&self) -> Option<EntryAnswer> {
            serde_json::from_str(self).ok()
        }

        fn api_error(&self) -> Option<ApiError> {
            serde_json::from_str(self).ok()
        }
    }

    #[test]
    fn post_answers() {
        let accepted = include_str!("../../protocol/fixtures/entry_response_v1.json");
        let full = include_str!("../../protocol/fixtures/entry_answer.json");
        let check = |status: u16, body: &str, expected: &str| {
            let outcome = match read_post_answer(status, &body) {
                PostOutcome::Accepted(answer) => format!(
                    "accepted {} {}",
                    answer.response.total_entries,
                    answer.session.contestant_token.is_some()
                ),
                PostOutcome::Refused(error) => {
                    format!("refused {} {:?} {}", error.code, error.field, error.detail)
                }
                PostOutcome::Retry => "retry".to_owned(),
            };
            assert_eq!(outcome, expected, "{status} {body}");
        };
        check(201, accepted, "accepted 1 false");
        check(200, accepted, "accepted 1 false");
        check(201, full, "accepted 2 true");
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
    fn refusals_go_to_their_field_in_the_widgets_language() {
        let check = |code: &str, field: Option<&str>, lang: Lang, expected: (Field, &str)| {
            let error = ApiError {
                code: code.into(),
                detail: "From the server.".into(),
                field: field.map(Into::into),
            };
            let shown = refusal_error(&error, lang);
            assert_eq!((shown.field, shown.message.as_str()), expected);
        };
        check(
            "x",
            Some("email"),
            Lang::En,
            (Field::Email, "From the server."),
        );
        check(
            "x",
            Some("name"),
            Lang::Fr,
            (Field::Name, "From the server."),
        );
        check(
            "consent_required",
            Some("consent"),
            Lang::En,
            (Field::Consent, "From the server."),
        );
        check(
            "consent_required",
            Some("consent"),
            Lang::Fr,
            (
                Field::Consent,
                "Veuillez cocher la case pour accepter avant de participer.",
            ),
        );
        check(
            "wrong_secret_code",
            Some("value"),
            Lang::En,
            (Field::Value, "From the server."),
        );
        check(
            "x",
            Some("entry_method_id"),
            Lang::En,
            (Field::Form, "From the server."),
        );
        check("x", None, Lang::En, (Field::Form, "From the server."));
    }

    #[test]
    fn referrer_codes_in_landing_urls() {
        let check = |url: &str, expected: Option<&str>| {
            assert_eq!(
                referrer_code(url).as_ref().map(ReferralCode::as_str),
                expected,
                "{url}"
            );
        };
        check("https://shop.example/?hl_ref=Fr13nd", Some("Fr13nd"));
        check(
            "https://shop.example/p?a=1&hl_ref=Fr13nd&b=2#top",
            Some("Fr13nd"),
        );
        check("https://shop.example/p#?hl_ref=Fr13nd", None);
        check("https://shop.example/p?xhl_ref=Fr13nd", None);
        check("https://shop.example/p?hl_ref=bad%20code", None);
        check("https://shop.example/", None);
    }

    #[test]
    fn share_links() {
        let mut s = session();
        assert_eq!(share_link(&s, "https://shop.example/"), None, "no code yet");
        s.referral_code = ReferralCode::parse("Jb82kd");
        let check = |s: &Session, landing: &str, expected: &str| {
            assert_eq!(
                share_link(s, landing).as_deref(),
                Some(expected),
                "{landing}"
            );
        };
        check(
            &s,
            "https://shop.example/p",
            "https://shop.example/p?hl_ref=Jb82kd",
        );
        check(
            &s,
            "https://shop.example/p?a=1&hl_ref=Fr13nd#x",
            "https://shop.example/p?a=1&hl_ref=Jb82kd",
        );
        s.referral_url = "https://h.example/c/demo?hl_ref=Jb82kd".into();
        check(
            &s,
            "https://shop.example/p",
            "https://h.example/c/demo?hl_ref=Jb82kd",
        );
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
    fn an_answer_without_a_session_still_reads() {
        let answer = EntryAnswer {
            response: EntryResponse {
                entry: protocol::entry::EntrySummary {
                    id: protocol::ids::EntryId(1),
                    entry_method_id: EntryMethodId(1),
                    entry_type: "email_subscribe".into(),
                    action: "Subscribe".into(),
                    worth: 1,
                    created_at: String::new(),
                },
                actions_completed: 1,
                total_entries: 1,
            },
            session: ContestantSession::default(),
            reward: None,
            answer: None,
        };
        let json = serde_json::to_string(&answer).unwrap_or_default();
        assert_eq!(json.as_str().entry_answer(), Some(answer));
    }
}
