//! The exact HTTP request an event (or a batch of events) produces for a webhook endpoint:
//! method, URL, headers and body bytes, signed per Standard Webhooks. One function
//! ([`CompiledEndpoint::build`]) makes it, so what is sent, what the admin API shows as an
//! example and what an attempt records are the same request.
//!
//! This module owns the endpoint's request settings ([`EndpointSpec`], stored as JSON), their
//! checks on save ([`EndpointSpec::compile`]) and the default renderings below. It is pure: it
//! must not do IO or read the clock (`timestamp` is an argument), nor decide policy about
//! where a webhook may go (HTTPS only, blocked addresses: `destination` and the caller).
//!
//! # Settings (`EndpointSpec` as JSON)
//!
//! ```json
//! {
//!   "url": "https://api.example.com/contacts/{{user.email}}?src={{campaign.key}}",
//!   "method": "POST",
//!   "content_type": "json",
//!   "body_template": null,
//!   "headers": {"X-Api-Version": "2", "X-Campaign": "{{campaign.key}}"},
//!   "batching": null
//! }
//! ```
//!
//! Only `url` is required. `method` is `POST` (default), `PUT`, `PATCH` or `GET`;
//! `content_type` is `json` (default), `form`, `xml` or `text`; `batching` is null or
//! `{"max_events": N}` (1 to [`MAX_BATCH_EVENTS`]). Unknown keys are refused. Credentials are
//! not part of it: the caller passes the decrypted auth connector ([`Auth`]) to `compile`.
//!
//! # What is sent
//!
//! - **URL**: the `url` template rendered with [`Context::UrlComponent`] (values are
//!   percent-encoded). Its scheme, `user:pass@` and host must be written literally, so no
//!   contestant's answer can choose where a webhook (and its credentials) go. A `user:pass@`
//!   becomes `authorization: Basic …` and is removed from the URL sent and recorded.
//! - **Headers** (names lowercase): `content-type` (not for GET), `user-agent`, `webhook-id`,
//!   `webhook-timestamp`, `webhook-signature` (one `v1,…` per secret given, space-separated),
//!   `hookline-event` (the event type; a batch of several types lists each once,
//!   comma-separated), the auth header, then the custom headers, each value rendered with
//!   [`Context::Header`]. `content-length` and `host` are left to the HTTP client.
//! - **Body without a template**:
//!   - `json`: the delivery's frozen body, byte for byte (Gleam's JSON).
//!   - `text`: the same JSON text, as `text/plain; charset=utf-8`.
//!   - `form`: the body flattened into pairs named by the path to each value, in the body's
//!     order, form-encoded: `campaign.name=My+Campaign&…&user.details.How+are+you%3F=Great%2C+thanks%21&…&social_links.0.provider=twitter`.
//!     Array items are numbered from 0; strings are their text, numbers as written,
//!     booleans `true`/`false`; `null`, `{}` and `[]` keep their name with an empty value
//!     (`reward=`), so every key of the body is present.
//!   - `xml`: `<?xml version="1.0" encoding="UTF-8"?><event type="entry.created" id="msg_…">`,
//!     then each member of the body as an element named by its key
//!     (`<campaign><name>My Campaign</name>…</campaign>`), text escaped; array items as
//!     `<item>` elements (`<social_links><item><provider>twitter</provider>…</item></social_links>`);
//!     `null` as `<reward nil="true"/>`. A key that is not a plain XML name, and every
//!     question of `user.details`, is written `<field name="How are you?">Great, thanks!</field>`,
//!     so a receiver finds answers the same way whatever the questions are.
//! - **Body from a template**: `body_template` rendered with the context of the content type
//!   ([`Context::Json`], [`Context::Form`], [`Context::Xml`], [`Context::PlainText`]). A form
//!   template is written in form syntax, pairs separated by `&` or line breaks:
//!
//!   ```text
//!   first_name={{user.first_name}}
//!   email={{user.email}}
//!   ```
//!
//!   Blank lines and spaces around pairs are dropped, pairs are joined with `&`, and literal
//!   text that cannot stand unencoded in a form body is encoded (a space inside a pair
//!   becomes `+`, `é` becomes `%C3%A9`, a `%` not followed by two hex digits `%25`).
//! - **GET** sends no body (and no `content-type`); its data goes in the query, after any
//!   query the URL has: the flattened pairs above, or with `content_type` `form` and a
//!   template, the template's pairs. The signature covers the empty body, so it does not
//!   vouch for the query (Standard Webhooks signs bodies only): a receiver that must trust
//!   the data should take a POST.
//! - **Batching** (JSON only, not GET): the body is a JSON array of each event's body
//!   (frozen or rendered from the template with that event's values), always an array even
//!   of one, so a receiver parses one shape. The URL and headers are rendered with the first
//!   event; the signature covers the array's bytes.
//!
//! Templates are rendered at each try from the frozen body; only `{{event.timestamp}}` (the
//! try's `webhook-timestamp`) differs between tries.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use protocol::ids::MessageId;
use protocol::payload::{EVENT_TYPE_HEADER, EntryPayload, EventType};
use protocol::signature::{SigningSecret, signature_header};
use reqwest::Url;
use reqwest::header::{HeaderName, HeaderValue};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::Zeroize;

use crate::templating::{self, Context, Position, Template, Values};

/// The `user-agent` of every webhook.
pub const USER_AGENT: &str = concat!("Hookline-Webhooks/", env!("CARGO_PKG_VERSION"));
/// Most events one batched request may carry.
pub const MAX_BATCH_EVENTS: u32 = 1000;
/// What [`OutboundRequest::redacted`] shows instead of a credential.
pub const REDACTED: &str = "[redacted]";

/// Headers Hookline sets itself, or that only the HTTP client may set: a custom header may
/// not have these names (nor start with [`RESERVED_HEADER_PREFIXES`]).
const RESERVED_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "content-encoding",
    "host",
    "user-agent",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
    "expect",
];
/// Standard Webhooks' headers (`webhook-id`, …) and Hookline's own ([`EVENT_TYPE_HEADER`]).
const RESERVED_HEADER_PREFIXES: &[&str] = &["webhook-", "hookline-"];

/// The HTTP method of an endpoint's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Method {
    #[default]
    #[serde(rename = "POST")]
    Post,
    #[serde(rename = "PUT")]
    Put,
    #[serde(rename = "PATCH")]
    Patch,
    /// No body: the data goes in the query.
    #[serde(rename = "GET")]
    Get,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Get => "GET",
        }
    }

    fn has_body(self) -> bool {
        self != Self::Get
    }
}

/// The format of an endpoint's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentType {
    #[default]
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    Xml,
    Text,
}

impl ContentType {
    /// The `content-type` header value.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Form => "application/x-www-form-urlencoded",
            Self::Xml => "application/xml",
            Self::Text => "text/plain; charset=utf-8",
        }
    }

    fn template_context(self) -> Context {
        match self {
            Self::Json => Context::Json,
            Self::Form => Context::Form,
            Self::Xml => Context::Xml,
            Self::Text => Context::PlainText,
        }
    }
}

/// Several events in one request (a JSON array).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batching {
    /// Most events in one request, 1 to [`MAX_BATCH_EVENTS`].
    pub max_events: u32,
}

/// What an endpoint's requests look like: plain data, stored as JSON (see the module docs).
/// [`EndpointSpec::compile`] checks it and makes the [`CompiledEndpoint`] that builds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    /// A template: `https://api.example.com/contacts/{{user.email}}`.
    pub url: String,
    #[serde(default)]
    pub method: Method,
    #[serde(default)]
    pub content_type: ContentType,
    /// `None`: the default body of the content type.
    #[serde(default)]
    pub body_template: Option<String>,
    /// Custom headers: name → value template.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// `None`: one event per request.
    #[serde(default)]
    pub batching: Option<Batching>,
}

impl EndpointSpec {
    /// A POST of the default JSON body to `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            method: Method::default(),
            content_type: ContentType::default(),
            body_template: None,
            headers: BTreeMap::new(),
            batching: None,
        }
    }
}

/// An auth connector's decrypted credentials. Serialisable so that its JSON is what gets
/// encrypted at rest (`secrets`); never printed (`Debug` shows only the kind) and wiped from
/// memory when dropped.
///
/// JSON: `{"type": "basic", "username": "…", "password": "…"}`,
/// `{"type": "bearer", "token": "…"}`, `{"type": "api_key", "header_name": "X-Api-Key", "key": "…"}`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Auth {
    /// `authorization: Basic base64(username:password)`.
    Basic { username: String, password: String },
    /// `authorization: Bearer <token>`.
    Bearer { token: String },
    /// `<header_name>: <key>`.
    ApiKey { header_name: String, key: String },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Basic { .. } => "Auth::Basic(..)",
            Self::Bearer { .. } => "Auth::Bearer(..)",
            Self::ApiKey { .. } => "Auth::ApiKey(..)",
        })
    }
}

impl Drop for Auth {
    fn drop(&mut self) {
        match self {
            Self::Basic { username, password } => {
                username.zeroize();
                password.zeroize();
            }
            Self::Bearer { token } => token.zeroize(),
            Self::ApiKey { header_name, key } => {
                header_name.zeroize();
                key.zeroize();
            }
        }
    }
}

impl Auth {
    /// The header these credentials travel in, lowercase.
    fn header_name(&self) -> String {
        match self {
            Self::Basic { .. } | Self::Bearer { .. } => "authorization".to_owned(),
            Self::ApiKey { header_name, .. } => header_name.to_ascii_lowercase(),
        }
    }

    fn header_value(&self) -> String {
        match self {
            Self::Basic { username, password } => basic_authorization(username, password),
            Self::Bearer { token } => format!("Bearer {token}"),
            Self::ApiKey { key, .. } => key.clone(),
        }
    }
}

fn basic_authorization(username: &str, password: &str) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{username}:{password}"))
    )
}

/// One problem with an endpoint's settings, named by the setting: `url`, `method`,
/// `content_type`, `body_template`, `headers.<name>`, `batching.max_events`,
/// `auth.<field>`. Template errors carry their position in that setting's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub setting: String,
    pub message: String,
    pub position: Option<Position>,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.message)?;
        if let Some(position) = self.position {
            write!(f, " (at {position})")?;
        }
        Ok(())
    }
}

/// Every problem found with an endpoint's settings (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SpecErrors(pub Vec<SpecError>);

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            error.fmt(f)?;
        }
        Ok(())
    }
}

/// Why a request could not be built for events (the settings themselves were checked by
/// [`EndpointSpec::compile`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("no events to send")]
    NoEvents,
    #[error("{given} events in one request, but the endpoint takes at most {max}")]
    TooManyEvents { given: usize, max: usize },
    #[error("no signing secret given")]
    NoSigningSecret,
    /// A frozen body is not JSON (needed for templates and the form, XML and GET renderings).
    #[error("the webhook body is not JSON: {0}")]
    InvalidBody(String),
    #[error("the rendered URL is not valid: {0}")]
    InvalidUrl(String),
    /// A digest (`digest.created`) is a JSON array: the endpoint must send JSON, not GET.
    #[error(
        "a digest is sent as a JSON array: the endpoint must send JSON with POST, PUT or PATCH"
    )]
    DigestNeedsJson,
}

/// One event to send: its type and its frozen body (the JSON stored with the delivery).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboundEvent<'a> {
    pub event_type: EventType,
    pub body: &'a str,
}

/// Exactly what is sent: send it as it is, show it, record it ([`OutboundRequest::redacted`]
/// first). Header names are lowercase.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// Empty for GET.
    pub body: String,
    /// Names of the headers that carry credentials (the auth header), which
    /// [`OutboundRequest::redacted`] hides.
    pub sensitive_headers: Vec<String>,
}

impl OutboundRequest {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(candidate, _)| candidate == name)
            .map(|(_, value)| value.as_str())
    }

    /// The same request with credentials replaced by [`REDACTED`]: what the example route
    /// shows and an attempt records.
    pub fn redacted(&self) -> Self {
        let mut redacted = self.clone();
        for (name, value) in &mut redacted.headers {
            if self.sensitive_headers.contains(name) {
                *value = REDACTED.to_owned();
            }
        }
        redacted
    }
}

impl fmt::Debug for OutboundRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = self.redacted();
        f.debug_struct("OutboundRequest")
            .field("method", &redacted.method)
            .field("url", &redacted.url)
            .field("headers", &redacted.headers)
            .field("body", &redacted.body)
            .finish_non_exhaustive()
    }
}

/// An endpoint whose settings passed [`EndpointSpec::compile`]: templates parsed once,
/// credentials resolved, ready to [`build`](CompiledEndpoint::build) any number of requests.
#[derive(Debug, Clone)]
pub struct CompiledEndpoint {
    method: Method,
    content_type: ContentType,
    url: Template,
    /// Lowercase name, value template.
    headers: Vec<(String, Template)>,
    body: Option<Template>,
    batching: Option<Batching>,
    auth: Option<Auth>,
}

/// The Gleam example (`shared/seeds/000_*`) used for "send test", the example route and the
/// checks on save.
const SAMPLE_BODY: &str = include_str!("../../protocol/fixtures/gleam_example.json");

/// The Gleam example body as a payload.
pub fn sample_payload() -> EntryPayload {
    // The fixture is an `EntryPayload`: `sample_payload_parses` tests it.
    serde_json::from_str(SAMPLE_BODY).expect("the Gleam example fixture is an EntryPayload")
}

/// The Gleam example as a frozen body is stored: compact JSON in the payload's key order.
pub fn sample_body() -> String {
    // Serialising a payload cannot fail (string keys, finite numbers).
    serde_json::to_string(&sample_payload()).unwrap_or_default()
}

/// What templates are rendered with on save.
fn sample_values() -> Values {
    Values::new(
        &sample_payload(),
        EventType::WebhookTest.as_str(),
        "msg_sample",
        1_447_823_677,
    )
}

impl EndpointSpec {
    /// Checks every setting (each template parsed against its context, the URL rendered with
    /// the sample payload, header names, credentials) and returns every problem found, or
    /// the endpoint ready to build requests with `auth`.
    pub fn compile(&self, auth: Option<Auth>) -> Result<CompiledEndpoint, SpecErrors> {
        let mut errors = Vec::new();
        let mut error = |setting: &str, message: String, position: Option<Position>| {
            errors.push(SpecError {
                setting: setting.to_owned(),
                message,
                position,
            });
        };
        let sample = sample_values();

        // The URL.
        let url = match Template::parse(&self.url, Context::UrlComponent) {
            Ok(url) => Some(url),
            Err(template_error) => {
                error(
                    "url",
                    template_error.message.clone(),
                    Some(template_error.position),
                );
                None
            }
        };
        let mut url_has_credentials = false;
        if let Some(url) = &url {
            if let Some(offset) = templated_origin(&self.url) {
                error(
                    "url",
                    "the scheme, user name, password and host must be written out, not \
                     templated, so no entry can choose where a webhook goes"
                        .into(),
                    Some(position_at(&self.url, offset)),
                );
            } else {
                let rendered = url.render(&sample);
                match parse_url(&rendered) {
                    Err(message) => error("url", message, None),
                    Ok((_, credentials)) => url_has_credentials = credentials.is_some(),
                }
            }
        }
        if url_has_credentials && auth.is_some() {
            error(
                "url",
                "the URL has credentials (`user:pass@`) and the endpoint has an auth connector: \
                 use one or the other"
                    .into(),
                None,
            );
        }

        // Method, content type and batching.
        if self.method == Method::Get {
            match (self.content_type, &self.body_template) {
                (ContentType::Xml | ContentType::Text, _) => error(
                    "content_type",
                    "a GET request has no body: use `json` (the default: the payload goes in \
                     the query) or `form` (a form template's pairs go in the query)"
                        .into(),
                    None,
                ),
                (ContentType::Json, Some(_)) => error(
                    "body_template",
                    "a GET request has no body: write its query as form pairs \
                     (`email={{user.email}}`) and set `content_type` to `form`"
                        .into(),
                    None,
                ),
                _ => {}
            }
        }
        if let Some(batching) = self.batching {
            if self.method == Method::Get {
                error(
                    "batching",
                    "a GET request has no body to carry a batch".into(),
                    None,
                );
            } else if self.content_type != ContentType::Json {
                error(
                    "batching",
                    "batches are JSON arrays: set `content_type` to `json`".into(),
                    None,
                );
            }
            if !(1..=MAX_BATCH_EVENTS).contains(&batching.max_events) {
                error(
                    "batching.max_events",
                    format!("must be 1 to {MAX_BATCH_EVENTS}"),
                    None,
                );
            }
        }

        // The body template.
        let body = self.body_template.as_deref().and_then(|source| {
            let context = self.content_type.template_context();
            match Template::parse(source, context) {
                Err(template_error) => {
                    error(
                        "body_template",
                        template_error.message.clone(),
                        Some(template_error.position),
                    );
                    None
                }
                Ok(template) => {
                    let rendered = template.render(&sample);
                    if context == Context::Json
                        && let Err(json_error) = serde_json::from_str::<de::IgnoredAny>(&rendered)
                    {
                        error(
                            "body_template",
                            format!(
                                "does not make JSON with the sample payload ({json_error}): write \
                                 JSON whose placeholders stand for values or string contents"
                            ),
                            None,
                        );
                    }
                    if context == Context::Form
                        && let Some(pair) = form_pairs(&rendered)
                            .into_iter()
                            .find(|pair| pair.starts_with('='))
                    {
                        error(
                            "body_template",
                            format!("the pair `{pair}` has no name before its `=`"),
                            None,
                        );
                    }
                    Some(template)
                }
            }
        });

        // Credentials.
        let auth_header = auth.as_ref().map(Auth::header_name);
        if let Some(auth) = &auth {
            check_auth(auth, &mut error);
        }

        // Custom headers.
        let mut headers = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for (name, value) in &self.headers {
            let setting = format!("headers.{name}");
            let lowercase = name.to_ascii_lowercase();
            if let Some(message) = header_name_problem(name) {
                error(&setting, message, None);
            } else if seen.contains(&lowercase) {
                error(
                    &setting,
                    "is given twice (header names ignore case)".into(),
                    None,
                );
            } else if auth_header.as_deref() == Some(lowercase.as_str()) {
                error(&setting, "is set by the auth connector".into(), None);
            } else if url_has_credentials && lowercase == "authorization" {
                error(
                    &setting,
                    "is set from the credentials in the URL (`user:pass@`)".into(),
                    None,
                );
            }
            seen.push(lowercase.clone());
            match Template::parse(value, Context::Header) {
                Ok(template) => headers.push((lowercase, template)),
                Err(template_error) => error(
                    &setting,
                    template_error.message.clone(),
                    Some(template_error.position),
                ),
            }
        }

        match url {
            Some(url) if errors.is_empty() => Ok(CompiledEndpoint {
                method: self.method,
                content_type: self.content_type,
                url,
                headers,
                body,
                batching: self.batching,
                auth,
            }),
            _ => Err(SpecErrors(errors)),
        }
    }

    /// [`EndpointSpec::compile`] for its verdict only, as on save.
    pub fn validate(&self, auth: Option<&Auth>) -> Result<(), SpecErrors> {
        self.compile(auth.cloned()).map(drop)
    }
}

/// Why `name` cannot be a custom header's name, if it cannot.
fn header_name_problem(name: &str) -> Option<String> {
    if HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Some(
            "is not a valid header name (letters, digits and `!#$%&'*+-.^_`|~` only)".into(),
        );
    }
    let lowercase = name.to_ascii_lowercase();
    if RESERVED_HEADERS.contains(&lowercase.as_str())
        || RESERVED_HEADER_PREFIXES
            .iter()
            .any(|prefix| lowercase.starts_with(prefix))
    {
        return Some("is set by Hookline or the HTTP client and cannot be changed".into());
    }
    None
}

fn check_auth(auth: &Auth, error: &mut impl FnMut(&str, String, Option<Position>)) {
    let header_safe = |text: &str| HeaderValue::from_str(text).is_ok();
    match auth {
        Auth::Basic { username, password } => {
            if username.contains(':') {
                error("auth.username", "cannot contain `:`".into(), None);
            }
            for (setting, text) in [("auth.username", username), ("auth.password", password)] {
                if text.chars().any(char::is_control) {
                    error(setting, "cannot contain control characters".into(), None);
                }
            }
            if username.is_empty() && password.is_empty() {
                error(
                    "auth.username",
                    "give a user name, a password or both".into(),
                    None,
                );
            }
        }
        Auth::Bearer { token } => {
            if token.is_empty()
                || token
                    .chars()
                    .any(|ch| ch.is_whitespace() || ch.is_control())
            {
                error(
                    "auth.token",
                    "must be one word without spaces or control characters".into(),
                    None,
                );
            }
        }
        Auth::ApiKey { header_name, key } => {
            if let Some(message) = header_name_problem(header_name) {
                error("auth.header_name", message, None);
            }
            if key.is_empty() || !header_safe(key) {
                error(
                    "auth.key",
                    "must be a non-empty header value without control characters".into(),
                    None,
                );
            }
        }
    }
}

/// The offset of the first placeholder in the scheme, user info or host of a URL template,
/// if one is there (or if the template has no literal `scheme://` before its first one).
fn templated_origin(source: &str) -> Option<usize> {
    let first = source.find("{{")?;
    let Some(separator) = source.find("://") else {
        return Some(first);
    };
    let authority = separator + 3;
    let authority_end = source[authority..]
        .find(['/', '?', '#', '\\'])
        .map_or(source.len(), |end| authority + end);
    (first < authority_end).then_some(first)
}

fn position_at(source: &str, offset: usize) -> Position {
    let before = &source[..offset];
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    Position {
        offset,
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
    }
}

/// The URL as sent (no user info) and the Basic credentials its user info gave, if any.
fn parse_url(rendered: &str) -> Result<(Url, Option<(String, String)>), String> {
    if rendered
        .chars()
        .any(|ch| ch.is_whitespace() || ch.is_control())
    {
        return Err("the URL has a space or control character: write `%20`".into());
    }
    let mut url = Url::parse(rendered).map_err(|error| format!("not a valid URL: {error}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the URL must start with `https://` or `http://`, not `{}:`",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    if url.fragment().is_some() {
        return Err("a webhook URL cannot have a `#fragment`: it is never sent".into());
    }
    let credentials = (!url.username().is_empty() || url.password().is_some()).then(|| {
        let decode = |text: &str| {
            percent_encoding::percent_decode_str(text)
                .decode_utf8_lossy()
                .into_owned()
        };
        (decode(url.username()), decode(url.password().unwrap_or("")))
    });
    // An http(s) URL with a host can always lose its user info.
    if url.set_username("").is_err() || url.set_password(None).is_err() {
        return Err("the URL's user name and password cannot be removed".into());
    }
    Ok((url, credentials))
}

impl CompiledEndpoint {
    pub fn method(&self) -> Method {
        self.method
    }

    /// Most events one request takes: 1 unless batching.
    pub fn max_events(&self) -> usize {
        self.batching
            .map_or(1, |batching| batching.max_events as usize)
    }

    /// The request for `events` (one, or up to [`CompiledEndpoint::max_events`] when
    /// batching) as message `webhook_id` at `timestamp` (Unix seconds: the
    /// `webhook-timestamp`), signed with every secret in `secrets` (the current one first,
    /// then any previous one still valid during rotation).
    pub fn build(
        &self,
        webhook_id: &MessageId,
        events: &[OutboundEvent<'_>],
        secrets: &[SigningSecret],
        timestamp: i64,
    ) -> Result<OutboundRequest, BuildError> {
        let first = events.first().ok_or(BuildError::NoEvents)?;
        if events.len() > self.max_events() {
            return Err(BuildError::TooManyEvents {
                given: events.len(),
                max: self.max_events(),
            });
        }
        if secrets.is_empty() {
            return Err(BuildError::NoSigningSecret);
        }
        let values_of = |body: Value, event_type: EventType| {
            Values::from_json(body, event_type.as_str(), webhook_id.as_str(), timestamp)
        };
        let values = |event: &OutboundEvent<'_>| -> Result<Values, BuildError> {
            let body: Value = serde_json::from_str(event.body)
                .map_err(|error| BuildError::InvalidBody(error.to_string()))?;
            Ok(values_of(body, event.event_type))
        };
        // A digest's frozen body is the JSON array of its entries' bodies: in a request it
        // stands for those entries (templates render each; a batch takes them in), and the
        // URL and headers render with the first.
        let is_digest = |event: &OutboundEvent<'_>| event.event_type == EventType::DigestCreated;
        if events.iter().any(is_digest)
            && (!self.method.has_body() || self.content_type != ContentType::Json)
        {
            return Err(BuildError::DigestNeedsJson);
        }
        let digest_items = |event: &OutboundEvent<'_>| -> Result<Vec<Value>, BuildError> {
            match serde_json::from_str(event.body) {
                Ok(Value::Array(items)) => Ok(items),
                Ok(_) => Err(BuildError::InvalidBody("a digest is not an array".into())),
                Err(error) => Err(BuildError::InvalidBody(error.to_string())),
            }
        };
        let first_values = if is_digest(first) {
            let first_item = digest_items(first)?.into_iter().next();
            values_of(
                first_item.unwrap_or(Value::Object(serde_json::Map::new())),
                first.event_type,
            )
        } else {
            values(first)?
        };
        let as_array = self.batching.is_some() || is_digest(first);

        let (mut url, url_credentials) =
            parse_url(&self.url.render(&first_values)).map_err(BuildError::InvalidUrl)?;

        let body = if self.method.has_body() {
            match (self.content_type, &self.body) {
                (ContentType::Json, template) if as_array => {
                    let mut array = String::from("[");
                    let mut push = |item: &str| {
                        if array.len() > 1 {
                            array.push(',');
                        }
                        array.push_str(item);
                    };
                    for event in events {
                        match (template, is_digest(event)) {
                            (Some(template), true) => {
                                for item in digest_items(event)? {
                                    push(&template.render(&values_of(item, event.event_type)));
                                }
                            }
                            (Some(template), false) => push(&template.render(&values(event)?)),
                            (None, true) => {
                                // The frozen array without its brackets: its items, byte for
                                // byte.
                                let inner = event.body.trim();
                                let inner = inner
                                    .strip_prefix('[')
                                    .and_then(|rest| rest.strip_suffix(']'))
                                    .ok_or_else(|| {
                                        BuildError::InvalidBody("a digest is not an array".into())
                                    })?
                                    .trim();
                                if !inner.is_empty() {
                                    push(inner);
                                }
                            }
                            (None, false) => push(event.body),
                        }
                    }
                    array.push(']');
                    array
                }
                (ContentType::Form, Some(template)) => {
                    form_pairs(&template.render(&first_values)).join("&")
                }
                (_, Some(template)) => template.render(&first_values),
                (ContentType::Json | ContentType::Text, None) => first.body.to_owned(),
                (ContentType::Form, None) => flattened_form(&tree(first.body)?),
                (ContentType::Xml, None) => {
                    default_xml(&tree(first.body)?, first.event_type, webhook_id)
                }
            }
        } else {
            let query = match &self.body {
                Some(template) => form_pairs(&template.render(&first_values)).join("&"),
                None => flattened_form(&tree(first.body)?),
            };
            if !query.is_empty() {
                let combined = match url.query() {
                    Some(existing) if !existing.is_empty() => format!("{existing}&{query}"),
                    _ => query,
                };
                url.set_query(Some(&combined));
            }
            String::new()
        };

        let mut headers = Vec::new();
        let mut sensitive_headers = Vec::new();
        if self.method.has_body() {
            headers.push((
                "content-type".to_owned(),
                self.content_type.mime().to_owned(),
            ));
        }
        headers.push(("user-agent".to_owned(), USER_AGENT.to_owned()));
        headers.push(("webhook-id".to_owned(), webhook_id.as_str().to_owned()));
        headers.push(("webhook-timestamp".to_owned(), timestamp.to_string()));
        headers.push((
            "webhook-signature".to_owned(),
            signature_header(secrets, webhook_id.as_str(), timestamp, body.as_bytes()),
        ));
        let mut event_types: Vec<&str> = Vec::new();
        for event in events {
            if !event_types.contains(&event.event_type.as_str()) {
                event_types.push(event.event_type.as_str());
            }
        }
        headers.push((EVENT_TYPE_HEADER.to_owned(), event_types.join(", ")));
        if let Some(auth) = &self.auth {
            headers.push((auth.header_name(), auth.header_value()));
            sensitive_headers.push(auth.header_name());
        } else if let Some((username, password)) = &url_credentials {
            headers.push((
                "authorization".to_owned(),
                basic_authorization(username, password),
            ));
            sensitive_headers.push("authorization".to_owned());
        }
        for (name, template) in &self.headers {
            headers.push((name.clone(), template.render(&first_values)));
        }

        Ok(OutboundRequest {
            method: self.method,
            url: url.to_string(),
            headers,
            body,
            sensitive_headers,
        })
    }
}

/// A form template's output as pairs: split at `&` and line breaks, trimmed, blank ones
/// dropped, literal text encoded where it must be. Values are already form-encoded, so they
/// hold no `&`, line break or space and pass through unchanged.
fn form_pairs(rendered: &str) -> Vec<String> {
    rendered
        .split(['&', '\n'])
        .map(|pair| pair.trim_matches(|ch: char| ch.is_ascii_whitespace()))
        .filter(|pair| !pair.is_empty())
        .map(encode_form_literal)
        .collect()
}

/// Encodes what cannot stand in a form body unencoded, keeping `=`, `+` and `%XX`.
fn encode_form_literal(pair: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = pair.as_bytes();
    let mut out = String::with_capacity(pair.len());
    for (index, &byte) in bytes.iter().enumerate() {
        let escape_follows = || {
            bytes
                .get(index + 1..index + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
        };
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte));
            }
            b'=' | b'+' => out.push(char::from(byte)),
            b'%' if escape_follows() => out.push('%'),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 0xf)]));
            }
        }
    }
    out
}

/// A JSON document with its objects' keys in the order written, so default renderings
/// follow the body (`campaign` first) rather than sorted keys.
#[derive(Debug, Clone, PartialEq)]
enum Tree {
    /// Null, a boolean, a number or a string.
    Scalar(Value),
    Array(Vec<Tree>),
    Object(Vec<(String, Tree)>),
}

fn tree(body: &str) -> Result<Tree, BuildError> {
    serde_json::from_str(body).map_err(|error| BuildError::InvalidBody(error.to_string()))
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TreeVisitor)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Tree;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Tree, E> {
        Ok(Tree::Scalar(Value::Bool(value)))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Tree, E> {
        Ok(Tree::Scalar(value.into()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Tree, E> {
        Ok(Tree::Scalar(value.into()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Tree, E> {
        Ok(Tree::Scalar(value.into()))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Tree, E> {
        Ok(Tree::Scalar(Value::String(value.to_owned())))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Tree, E> {
        Ok(Tree::Scalar(Value::String(value)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Tree, E> {
        Ok(Tree::Scalar(Value::Null))
    }

    fn visit_none<E: de::Error>(self) -> Result<Tree, E> {
        Ok(Tree::Scalar(Value::Null))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Tree, D::Error> {
        Tree::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Tree::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = map.next_entry::<String, Tree>()? {
            members.push(member);
        }
        Ok(Tree::Object(members))
    }
}

/// A scalar's text: strings as they are, numbers as written, null as nothing.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The default form body (and GET query): see the module docs.
fn flattened_form(body: &Tree) -> String {
    let mut pairs = Vec::new();
    let mut name = String::new();
    flatten(body, &mut name, &mut pairs);
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(name, value)| {
            format!(
                "{}={}",
                templating::escape(Context::Form, name),
                templating::escape(Context::Form, value)
            )
        })
        .collect();
    encoded.join("&")
}

fn flatten(tree: &Tree, name: &mut String, pairs: &mut Vec<(String, String)>) {
    let mut child = |key: &str, value: &Tree, name: &mut String| {
        let length = name.len();
        if !name.is_empty() {
            name.push('.');
        }
        name.push_str(key);
        flatten(value, name, pairs);
        name.truncate(length);
    };
    match tree {
        Tree::Scalar(value) => {
            let name = if name.is_empty() { "value" } else { name };
            pairs.push((name.to_owned(), scalar_text(value)));
        }
        Tree::Object(members) if !members.is_empty() => {
            for (key, value) in members {
                child(key, value, name);
            }
        }
        Tree::Array(items) if !items.is_empty() => {
            for (index, item) in items.iter().enumerate() {
                child(&index.to_string(), item, name);
            }
        }
        // `{}` and `[]` keep their name, as `null` does.
        Tree::Object(_) | Tree::Array(_) => {
            if !name.is_empty() {
                pairs.push((name.clone(), String::new()));
            }
        }
    }
}

/// The default XML body: see the module docs.
fn default_xml(body: &Tree, event_type: EventType, webhook_id: &MessageId) -> String {
    let mut out = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><event type="{}" id="{}">"#,
        templating::escape(Context::Xml, event_type.as_str()),
        templating::escape(Context::Xml, webhook_id.as_str())
    );
    write_xml_content(&mut out, body, &mut Vec::new());
    out.push_str("</event>");
    out
}

/// Writes what goes between an element's tags for `tree`, found at `path` in the body.
fn write_xml_content<'t>(out: &mut String, tree: &'t Tree, path: &mut Vec<&'t str>) {
    match tree {
        Tree::Scalar(value) => out.push_str(&templating::escape(Context::Xml, &scalar_text(value))),
        Tree::Array(items) => {
            for item in items {
                write_xml_element(out, "item", None, item, path);
            }
        }
        Tree::Object(members) => {
            // Questions are the owner's words: always `<field name="…">`.
            let questions = path.as_slice() == ["user", "details"];
            for (key, value) in members {
                path.push(key);
                if questions || !is_xml_name(key) {
                    write_xml_element(out, "field", Some(key), value, path);
                } else {
                    write_xml_element(out, key, None, value, path);
                }
                path.pop();
            }
        }
    }
}

fn write_xml_element<'t>(
    out: &mut String,
    element: &str,
    name_attribute: Option<&str>,
    tree: &'t Tree,
    path: &mut Vec<&'t str>,
) {
    out.push('<');
    out.push_str(element);
    if let Some(name) = name_attribute {
        out.push_str(" name=\"");
        out.push_str(&templating::escape(Context::Xml, name));
        out.push('"');
    }
    if tree == &Tree::Scalar(Value::Null) {
        out.push_str(" nil=\"true\"/>");
        return;
    }
    out.push('>');
    write_xml_content(out, tree, path);
    out.push_str("</");
    out.push_str(element);
    out.push('>');
}

/// A conservative XML element name: ASCII letter or `_`, then letters, digits, `_ - .`,
/// and not starting with `xml` (reserved).
fn is_xml_name(key: &str) -> bool {
    let mut bytes = key.bytes();
    bytes
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == b'_')
        && bytes.all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.'))
        && !key
            .get(..3)
            .is_some_and(|start| start.eq_ignore_ascii_case("xml"))
}

#[cfg(test)]
mod tests {
    use protocol::signature::{DEFAULT_TOLERANCE_SECONDS, verify};
    use serde_json::json;

    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const TIMESTAMP: i64 = 1_700_000_000;

    fn secret() -> SigningSecret {
        SigningSecret::parse(SECRET).expect("a valid secret")
    }

    fn webhook_id() -> MessageId {
        MessageId::from_suffix("2Kq")
    }

    /// The Gleam example with a contestant who types everything a request must survive.
    fn hostile_body() -> String {
        let mut payload = sample_payload();
        payload.user.name = "Joe \"The Hammer\" O'Brien & <Co>\nNext line".into();
        payload.user.first_name = "Zoë".into();
        payload.user.last_name = "O'Brien\r\nX-Injected: yes".into();
        payload.user.email = "a+b@example.com".into();
        payload.user.city = "a/b?c=d&e f#g".into();
        payload.entry.value = "}} {{user.email}} \"}\" \\\" ' <![CDATA[ ]]> &amp;".into();
        payload.user.details = serde_json::from_str(
            r#"{"How are you?": "Great & \"fine\" <3", "Postcode": 8282, "a.b": "dotted"}"#,
        )
        .expect("details parse");
        serde_json::to_string(&payload).expect("serialises")
    }

    fn spec(settings: Value) -> EndpointSpec {
        serde_json::from_value(settings.clone())
            .unwrap_or_else(|error| panic!("{settings}: {error}"))
    }

    fn compile(settings: Value, auth: Option<Auth>) -> CompiledEndpoint {
        spec(settings.clone())
            .compile(auth)
            .unwrap_or_else(|errors| panic!("{settings}: {errors}"))
    }

    fn build(endpoint: &CompiledEndpoint, body: &str) -> OutboundRequest {
        endpoint
            .build(
                &webhook_id(),
                &[OutboundEvent {
                    event_type: EventType::EntryCreated,
                    body,
                }],
                &[secret()],
                TIMESTAMP,
            )
            .expect("builds")
    }

    /// Builds the request `settings` make for `body` and checks its URL and body, and what
    /// every request must be: signed over its exact body, Hookline's headers present,
    /// `content-type` only with a body, every header value sendable, and a body that is
    /// valid for its content type.
    fn check(settings: Value, body: &str, expected_url: &str, expected_body: &str) {
        let endpoint = compile(settings.clone(), None);
        let request = build(&endpoint, body);
        assert_eq!(request.url, expected_url, "{settings}");
        assert_eq!(request.body, expected_body, "{settings}");
        assert_well_formed(&request, &spec(settings));
    }

    fn assert_well_formed(request: &OutboundRequest, spec: &EndpointSpec) {
        assert_eq!(request.method, spec.method);
        let header = |name: &str| {
            request
                .header(name)
                .unwrap_or_else(|| panic!("no {name} in {request:?}"))
        };
        assert_eq!(header("webhook-id"), webhook_id().as_str());
        assert_eq!(header("webhook-timestamp"), TIMESTAMP.to_string());
        assert_eq!(header("user-agent"), USER_AGENT);
        assert!(request.header(EVENT_TYPE_HEADER).is_some());
        verify(
            &secret(),
            header("webhook-id"),
            header("webhook-timestamp"),
            header("webhook-signature"),
            request.body.as_bytes(),
            TIMESTAMP,
            DEFAULT_TOLERANCE_SECONDS,
        )
        .expect("the signature verifies");
        for (name, value) in &request.headers {
            assert_eq!(name, &name.to_ascii_lowercase());
            HeaderName::from_bytes(name.as_bytes()).expect("a valid header name");
            HeaderValue::from_str(value).unwrap_or_else(|_| panic!("{name}: {value:?}"));
        }
        let names: Vec<&str> = request
            .headers
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "a header twice: {names:?}");
        Url::parse(&request.url).expect("the URL parses");
        if spec.method == Method::Get {
            assert_eq!(request.body, "");
            assert_eq!(request.header("content-type"), None);
            return;
        }
        assert_eq!(header("content-type"), spec.content_type.mime());
        match spec.content_type {
            ContentType::Json => {
                serde_json::from_str::<Value>(&request.body)
                    .unwrap_or_else(|error| panic!("not JSON ({error}): {}", request.body));
            }
            ContentType::Form => assert_form(&request.body),
            ContentType::Xml => {
                roxmltree::Document::parse(&request.body)
                    .unwrap_or_else(|error| panic!("not XML ({error}): {}", request.body));
            }
            ContentType::Text => {}
        }
    }

    /// A form body (or query) holds only what a form serializer writes.
    fn assert_form(text: &str) {
        for pair in text.split('&') {
            assert!(
                !pair.is_empty()
                    && !pair.starts_with('=')
                    && pair
                        .bytes()
                        .all(|byte| byte.is_ascii_alphanumeric() || b"*-._~+%=".contains(&byte)),
                "bad pair {pair:?} in {text}"
            );
        }
    }

    /// The pairs of a form body, decoded.
    fn form_decode(text: &str) -> Vec<(String, String)> {
        let url = Url::parse(&format!("http://x/?{text}")).expect("parses");
        url.query_pairs()
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect()
    }

    fn check_refused(settings: Value, auth: Option<Auth>, expected: &[(&str, &str)]) {
        let errors = match spec(settings.clone()).compile(auth) {
            Ok(_) => panic!("{settings} should be refused"),
            Err(errors) => errors,
        };
        let found: Vec<(&str, &str)> = errors
            .0
            .iter()
            .map(|error| (error.setting.as_str(), error.message.as_str()))
            .collect();
        assert_eq!(
            found.len(),
            expected.len(),
            "{settings}: expected {expected:?}, got {found:?}"
        );
        for ((setting, message), (expected_setting, expected_part)) in found.iter().zip(expected) {
            assert_eq!(setting, expected_setting, "{settings}: {errors}");
            assert!(
                message.contains(expected_part),
                "{settings}: {message:?} should mention {expected_part:?}"
            );
        }
    }

    fn template_error_at(settings: Value, setting: &str, line: usize, column: usize) {
        let errors = spec(settings.clone()).compile(None).expect_err("refused");
        let error = errors
            .0
            .iter()
            .find(|error| error.setting == setting)
            .unwrap_or_else(|| panic!("{settings}: no error for {setting}: {errors}"));
        let position = error.position.expect("a position");
        assert_eq!((position.line, position.column), (line, column), "{error}");
        assert!(
            error.to_string().starts_with(&format!("{setting}: ")),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .ends_with(&format!("(at line {line}, column {column})")),
            "{error}"
        );
    }

    const URL: &str = "https://api.example.com/hook";

    #[test]
    fn sample_payload_parses() {
        let payload = sample_payload();
        assert_eq!(payload.user.email, "joe@example.com");
        let body = sample_body();
        assert!(
            body.starts_with(r#"{"campaign":{"name":"My Campaign""#),
            "{body}"
        );
        assert_eq!(
            serde_json::from_str::<EntryPayload>(&body).expect("parses"),
            payload
        );
    }

    #[test]
    fn json_default_is_the_frozen_body_byte_for_byte() {
        let body = sample_body();
        check(json!({"url": URL}), &body, URL, &body);
        let hostile = hostile_body();
        check(json!({"url": URL}), &hostile, URL, &hostile);
        // As given, even when not as serde would write it.
        let spaced = "{ \"campaign\" : {\"name\": \"x\"} ,\n \"n\": 1.50 }";
        check(json!({"url": URL}), spaced, URL, spaced);
    }

    #[test]
    fn each_method_with_a_body() {
        let body = sample_body();
        for method in ["POST", "PUT", "PATCH"] {
            let settings = json!({"url": URL, "method": method});
            check(settings.clone(), &body, URL, &body);
            assert_eq!(
                build(&compile(settings, None), &body).method.as_str(),
                method
            );
        }
    }

    #[test]
    fn text_default_is_the_json_text() {
        let body = hostile_body();
        check(
            json!({"url": URL, "content_type": "text"}),
            &body,
            URL,
            &body,
        );
    }

    #[test]
    fn form_default_flattens_the_body_in_its_order() {
        let expected = [
            "campaign.name=My+Campaign",
            "campaign.key=a1XyD",
            "campaign.type=Competition",
            "reward.type=Download",
            "reward.code=1234",
            "coupon.type=Coupon",
            "coupon.code=1234",
            "user.name=Joe+Bloggs",
            "user.first_name=Joe",
            "user.last_name=Bloggs",
            "user.email=joe%40example.com",
            "user.country=Australia",
            "user.region=Queensland",
            "user.city=Bloggstown",
            "user.country_code=AU",
            "user.actions_completed=1",
            "user.details.How+are+you%3F=Great%2C+thanks%21",
            "user.details.I+have+read+the+terms+and+conditions=true",
            "user.details.Postcode=8282",
            "entry.id=244523423",
            "entry.entry_method_id=334222",
            "entry.action=Subscribe+to+our+newsletter",
            "entry.created_at=2015-11-18+05%3A14%3A37+UTC",
            "entry.type=email_subscribe",
            "entry.value=Example+user+answer",
            "entry.worth=1",
            "entry.landing_url=https%3A%2F%2Fexample.com",
            "entry.referring_url=https%3A%2F%2Fexample.com",
            "entry.upload.original_url=https%3A%2F%2Fexample.com%2Fimage.jpg",
            "entry.upload.thumb_url=https%3A%2F%2Fexample.com%2Fimage2.jpg",
            "entry.upload.post_url=https%3A%2F%2Finstagram.com%2Fsome_post%2F",
            "entry.upload.post_text=Hello+world",
            "entry.upload.content_type=image%2Fjpeg",
            "social_links.0.provider=twitter",
            "social_links.0.uid=1345519622",
            "social_links.0.reference=gleamapp",
        ]
        .join("&");
        check(
            json!({"url": URL, "content_type": "form"}),
            &sample_body(),
            URL,
            &expected,
        );
        // Null, `{}` and `[]` keep their names; hostile values decode back as typed.
        let mut payload: EntryPayload = serde_json::from_str(&hostile_body()).expect("parses");
        payload.reward = None;
        payload.social_links.clear();
        let body = serde_json::to_string(&payload).expect("serialises");
        let request = build(
            &compile(json!({"url": URL, "content_type": "form"}), None),
            &body,
        );
        assert_form(&request.body);
        let pairs = form_decode(&request.body);
        let value = |name: &str| {
            pairs
                .iter()
                .find(|(candidate, _)| candidate == name)
                .map(|(_, value)| value.as_str())
        };
        assert_eq!(value("reward"), Some(""));
        assert_eq!(value("social_links"), Some(""));
        assert_eq!(value("user.name"), Some(payload.user.name.as_str()));
        assert_eq!(value("user.city"), Some("a/b?c=d&e f#g"));
        assert_eq!(value("entry.value"), Some(payload.entry.value.as_str()));
        assert_eq!(value("user.details.a.b"), Some("dotted"));
    }

    #[test]
    fn xml_default_renders_every_member() {
        let expected = concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?><event type="entry.created" id="msg_2Kq">"#,
            "<campaign><name>My Campaign</name><key>a1XyD</key><type>Competition</type></campaign>",
            "<reward><type>Download</type><code>1234</code></reward>",
            "<coupon><type>Coupon</type><code>1234</code></coupon>",
            "<user><name>Joe Bloggs</name><first_name>Joe</first_name><last_name>Bloggs</last_name>",
            "<email>joe@example.com</email><country>Australia</country><region>Queensland</region>",
            "<city>Bloggstown</city><country_code>AU</country_code><actions_completed>1</actions_completed>",
            r#"<details><field name="How are you?">Great, thanks!</field>"#,
            r#"<field name="I have read the terms and conditions">true</field>"#,
            r#"<field name="Postcode">8282</field></details></user>"#,
            "<entry><id>244523423</id><entry_method_id>334222</entry_method_id>",
            "<action>Subscribe to our newsletter</action><created_at>2015-11-18 05:14:37 UTC</created_at>",
            "<type>email_subscribe</type><value>Example user answer</value><worth>1</worth>",
            "<landing_url>https://example.com</landing_url><referring_url>https://example.com</referring_url>",
            "<upload><original_url>https://example.com/image.jpg</original_url>",
            "<thumb_url>https://example.com/image2.jpg</thumb_url>",
            "<post_url>https://instagram.com/some_post/</post_url><post_text>Hello world</post_text>",
            "<content_type>image/jpeg</content_type></upload></entry>",
            "<social_links><item><provider>twitter</provider><uid>1345519622</uid>",
            "<reference>gleamapp</reference></item></social_links>",
            "</event>",
        );
        check(
            json!({"url": URL, "content_type": "xml"}),
            &sample_body(),
            URL,
            expected,
        );
    }

    #[test]
    fn xml_default_survives_hostile_values() {
        let mut payload: EntryPayload = serde_json::from_str(&hostile_body()).expect("parses");
        payload.reward = None;
        payload.user.region = "nul \u{0} bell \u{7} end".into();
        let body = serde_json::to_string(&payload).expect("serialises");
        let request = build(
            &compile(json!({"url": URL, "content_type": "xml"}), None),
            &body,
        );
        let document = roxmltree::Document::parse(&request.body)
            .unwrap_or_else(|error| panic!("not XML ({error}): {}", request.body));
        let text = |path: &[&str]| {
            let mut node = document.root_element();
            for name in path {
                node = node
                    .children()
                    .find(|child| child.has_tag_name(*name))
                    .unwrap_or_else(|| panic!("no {path:?}"));
            }
            node.text().unwrap_or("").to_owned()
        };
        assert_eq!(text(&["user", "name"]), payload.user.name);
        assert_eq!(text(&["entry", "value"]), payload.entry.value);
        assert_eq!(text(&["user", "region"]), "nul  bell  end");
        let reward = document
            .root_element()
            .children()
            .find(|child| child.has_tag_name("reward"))
            .expect("reward");
        assert_eq!(reward.attribute("nil"), Some("true"));
        let questions: Vec<(String, String)> = document
            .descendants()
            .filter(|node| node.has_tag_name("field"))
            .map(|node| {
                (
                    node.attribute("name").unwrap_or("").to_owned(),
                    node.text().unwrap_or("").to_owned(),
                )
            })
            .collect();
        assert_eq!(
            questions,
            [
                ("How are you?".into(), "Great & \"fine\" <3".into()),
                ("Postcode".into(), "8282".into()),
                ("a.b".into(), "dotted".into()),
            ]
        );
    }

    #[test]
    fn xml_names_that_cannot_be_elements_become_fields() {
        let body = r#"{"ok": 1, "not ok": 2, "1st": 3, "xmlish": 4, "a": [[1, null], {}]}"#;
        check(
            json!({"url": URL, "content_type": "xml"}),
            body,
            URL,
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8"?><event type="entry.created" id="msg_2Kq">"#,
                r#"<ok>1</ok><field name="not ok">2</field><field name="1st">3</field>"#,
                r#"<field name="xmlish">4</field>"#,
                r#"<a><item><item>1</item><item nil="true"/></item><item></item></a></event>"#
            ),
        );
    }

    #[test]
    fn get_sends_the_data_in_the_query() {
        let settings = json!({"url": "https://api.example.com/hook?token=abc", "method": "GET"});
        let request = build(&compile(settings.clone(), None), &sample_body());
        assert_well_formed(&request, &spec(settings));
        let (base, query) = request.url.split_once('?').expect("a query");
        assert_eq!(base, URL);
        assert!(
            query.starts_with("token=abc&campaign.name=My+Campaign&campaign.key=a1XyD&"),
            "{query}"
        );
        let pairs = form_decode(query);
        assert_eq!(pairs.len(), 37);
        assert!(pairs.contains(&("user.email".into(), "joe@example.com".into())));
        assert!(pairs.contains(&("entry.id".into(), "244523423".into())));

        // With a form template, its pairs are the query.
        check(
            json!({
                "url": "https://api.example.com/contacts/{{user.email}}",
                "method": "GET",
                "content_type": "form",
                "body_template": "email={{user.email}}\nname={{user.name}}\n",
            }),
            &hostile_body(),
            "https://api.example.com/contacts/a%2Bb%40example.com\
             ?email=a%2Bb%40example.com&name=Joe+%22The+Hammer%22+O%27Brien+%26+%3CCo%3E%0ANext+line",
            "",
        );
        // The signature is over the empty body.
        let endpoint = compile(json!({"url": URL, "method": "GET"}), None);
        let request = build(&endpoint, &sample_body());
        assert_eq!(
            request.header("webhook-signature"),
            Some(
                secret()
                    .sign(webhook_id().as_str(), TIMESTAMP, b"")
                    .as_str()
            )
        );
    }

    #[test]
    fn templates_escape_hostile_values_for_their_content_type() {
        let body = hostile_body();
        check(
            json!({
                "url": URL,
                "body_template": "{\"email\": \"{{user.email}}\", \"name\": {{user.name}}, \
                                  \"value\": \"<{{entry.value}}>\", \"id\": {{entry.id}}, \
                                  \"details\": {{user.details}}, \"missing\": {{user.details.Nope}}}",
            }),
            &body,
            URL,
            r#"{"email": "a+b@example.com", "name": "Joe \"The Hammer\" O'Brien & <Co>\nNext line", "value": "<}} {{user.email}} \"}\" \\\" ' <![CDATA[ ]]> &amp;>", "id": 244523423, "details": {"How are you?":"Great & \"fine\" <3","Postcode":8282,"a.b":"dotted"}, "missing": null}"#,
        );
        check(
            json!({
                "url": URL,
                "content_type": "form",
                "body_template": "first_name={{user.first_name}}&email={{user.email}}\n  city={{user.city}}  \n\n&value={{entry.value}}&",
            }),
            &body,
            URL,
            "first_name=Zo%C3%AB&email=a%2Bb%40example.com&city=a%2Fb%3Fc%3Dd%26e+f%23g\
             &value=%7D%7D+%7B%7Buser.email%7D%7D+%22%7D%22+%5C%22+%27+%3C%21%5BCDATA%5B+%5D%5D%3E+%26amp%3B",
        );
        check(
            json!({
                "url": URL,
                "content_type": "xml",
                "body_template": "<contact name=\"{{user.name}}\"><v>{{entry.value}}</v></contact>",
            }),
            &body,
            URL,
            "<contact name=\"Joe &quot;The Hammer&quot; O&apos;Brien &amp; &lt;Co&gt;\nNext line\">\
             <v>}} {{user.email}} &quot;}&quot; \\&quot; &apos; &lt;![CDATA[ ]]&gt; &amp;amp;</v></contact>",
        );
        check(
            json!({
                "url": URL,
                "content_type": "text",
                "body_template": "Hello {{user.first_name}}\n{{entry.value}}",
            }),
            &body,
            URL,
            "Hello Zoë\n}} {{user.email}} \"}\" \\\" ' <![CDATA[ ]]> &amp;",
        );
    }

    #[test]
    fn form_templates_encode_their_literal_text() {
        check(
            json!({
                "url": URL,
                "content_type": "form",
                "body_template": "first name={{user.first_name}}\r\nprénom=a/b 100%&pct=%41",
            }),
            &hostile_body(),
            URL,
            "first+name=Zo%C3%AB&pr%C3%A9nom=a%2Fb+100%25&pct=%41",
        );
    }

    #[test]
    fn url_templates_percent_encode_values() {
        check(
            json!({"url": "https://api.example.com/contacts/{{user.email}}?src={{campaign.key}}&city={{user.city}}"}),
            &hostile_body(),
            "https://api.example.com/contacts/a%2Bb%40example.com?src=a1XyD&city=a%2Fb%3Fc%3Dd%26e%20f%23g",
            &hostile_body(),
        );
        check(
            json!({"url": "https://api.example.com/{{user.first_name}}/{{user.name}}"}),
            &hostile_body(),
            "https://api.example.com/Zo%C3%AB/Joe%20%22The%20Hammer%22%20O%27Brien%20%26%20%3CCo%3E%0ANext%20line",
            &hostile_body(),
        );
    }

    #[test]
    fn header_templates_lose_line_breaks() {
        let endpoint = compile(
            json!({"url": URL, "headers": {
                "X-Contact": "{{user.last_name}} <{{user.email}}>",
                "X-Name": "{{user.name}}",
                "X-First": "{{user.first_name}} {{entry.value}}",
            }}),
            None,
        );
        let request = build(&endpoint, &hostile_body());
        assert_well_formed(&request, &spec(json!({"url": URL})));
        assert_eq!(
            request.header("x-contact"),
            Some("O'Brien X-Injected: yes <a+b@example.com>")
        );
        assert_eq!(
            request.header("x-name"),
            Some("Joe \"The Hammer\" O'Brien & <Co> Next line")
        );
        assert_eq!(
            request.header("x-first"),
            Some("Zoë }} {{user.email}} \"}\" \\\" ' <![CDATA[ ]]> &amp;")
        );
        assert!(request.header("x-injected").is_none());
    }

    #[test]
    fn credentials_in_the_url_become_basic_auth() {
        let endpoint = compile(
            json!({"url": "https://joe:s%40cr%C3%A9t@api.example.com/hook?x=1"}),
            None,
        );
        let request = build(&endpoint, &sample_body());
        assert_eq!(request.url, "https://api.example.com/hook?x=1");
        assert_eq!(
            request.header("authorization"),
            Some(format!("Basic {}", STANDARD.encode("joe:s@crét")).as_str())
        );
        assert_eq!(request.sensitive_headers, ["authorization"]);
        let redacted = request.redacted();
        assert_eq!(redacted.header("authorization"), Some(REDACTED));
        assert!(!format!("{request:?}").contains(&STANDARD.encode("joe:s@crét")));
        // A user name alone, and a password alone.
        let request = build(
            &compile(json!({"url": "https://key@api.example.com/"}), None),
            "{}",
        );
        assert_eq!(
            request.header("authorization"),
            Some(format!("Basic {}", STANDARD.encode("key:")).as_str())
        );
        assert_eq!(request.url, "https://api.example.com/");
    }

    #[test]
    fn each_auth_kind_sets_its_header() {
        let check_auth = |auth: Auth, name: &str, value: &str| {
            let endpoint = compile(json!({"url": URL}), Some(auth));
            let request = build(&endpoint, &sample_body());
            assert_eq!(request.header(name), Some(value));
            assert_eq!(request.sensitive_headers, [name]);
            assert_eq!(request.redacted().header(name), Some(REDACTED));
            assert!(!format!("{request:?}").contains(value), "{request:?}");
            assert_well_formed(&request, &spec(json!({"url": URL})));
        };
        check_auth(
            Auth::Basic {
                username: "joe".into(),
                password: "pä ss".into(),
            },
            "authorization",
            &format!("Basic {}", STANDARD.encode("joe:pä ss")),
        );
        check_auth(
            Auth::Bearer {
                token: "tok_123".into(),
            },
            "authorization",
            "Bearer tok_123",
        );
        check_auth(
            Auth::ApiKey {
                header_name: "X-Api-Key".into(),
                key: "k 1".into(),
            },
            "x-api-key",
            "k 1",
        );
    }

    #[test]
    fn auth_json_and_debug() {
        let check_json = |auth: Auth, expected: Value| {
            assert_eq!(serde_json::to_value(&auth).expect("serialises"), expected);
            assert_eq!(
                serde_json::from_value::<Auth>(expected).expect("deserialises"),
                auth
            );
            assert!(!format!("{auth:?}").contains("s3cret"), "{auth:?}");
        };
        check_json(
            Auth::Basic {
                username: "s3cret-user".into(),
                password: "s3cret".into(),
            },
            json!({"type": "basic", "username": "s3cret-user", "password": "s3cret"}),
        );
        check_json(
            Auth::Bearer {
                token: "s3cret".into(),
            },
            json!({"type": "bearer", "token": "s3cret"}),
        );
        check_json(
            Auth::ApiKey {
                header_name: "X-Key".into(),
                key: "s3cret".into(),
            },
            json!({"type": "api_key", "header_name": "X-Key", "key": "s3cret"}),
        );
        assert_eq!(
            format!(
                "{:?}",
                Auth::Bearer {
                    token: "s3cret".into()
                }
            ),
            "Auth::Bearer(..)"
        );
    }

    #[test]
    fn bad_credentials_are_refused() {
        let basic = |username: &str, password: &str| {
            Some(Auth::Basic {
                username: username.into(),
                password: password.into(),
            })
        };
        let url = json!({"url": URL});
        check_refused(url.clone(), basic("a:b", "c"), &[("auth.username", "`:`")]);
        check_refused(
            url.clone(),
            basic("a", "b\r\nX: y"),
            &[("auth.password", "control")],
        );
        check_refused(url.clone(), basic("", ""), &[("auth.username", "give")]);
        for token in ["", "two words", "line\nbreak"] {
            check_refused(
                url.clone(),
                Some(Auth::Bearer {
                    token: token.into(),
                }),
                &[("auth.token", "one word")],
            );
        }
        let api_key = |header_name: &str, key: &str| {
            Some(Auth::ApiKey {
                header_name: header_name.into(),
                key: key.into(),
            })
        };
        check_refused(
            url.clone(),
            api_key("X Key", "k"),
            &[("auth.header_name", "valid")],
        );
        check_refused(
            url.clone(),
            api_key("Webhook-Id", "k"),
            &[("auth.header_name", "Hookline")],
        );
        check_refused(
            url.clone(),
            api_key("X-Key", ""),
            &[("auth.key", "non-empty")],
        );
        check_refused(url, api_key("X-Key", "a\nb"), &[("auth.key", "control")]);
    }

    #[test]
    fn reserved_and_invalid_header_names_are_refused() {
        for name in [
            "Content-Type",
            "content-length",
            "Host",
            "User-Agent",
            "Transfer-Encoding",
            "Connection",
            "webhook-id",
            "Webhook-Timestamp",
            "webhook-signature",
            "webhook-anything",
            EVENT_TYPE_HEADER,
            "Hookline-Other",
            "Proxy-Authorization",
        ] {
            check_refused(
                json!({"url": URL, "headers": {name: "x"}}),
                None,
                &[(&format!("headers.{name}"), "set by Hookline")],
            );
        }
        for name in ["", "X Name", "X:Name", "Näme", "X-Name\r\n"] {
            check_refused(
                json!({"url": URL, "headers": {name: "x"}}),
                None,
                &[(&format!("headers.{name}"), "not a valid header name")],
            );
        }
        check_refused(
            json!({"url": URL, "headers": {"X-A": "1", "x-a": "2"}}),
            None,
            &[("headers.x-a", "twice")],
        );
        // `authorization` is free unless something else sets it.
        let endpoint = compile(
            json!({"url": URL, "headers": {"Authorization": "Token {{campaign.key}}"}}),
            None,
        );
        assert_eq!(
            build(&endpoint, &sample_body()).header("authorization"),
            Some("Token a1XyD")
        );
        check_refused(
            json!({"url": URL, "headers": {"Authorization": "x"}}),
            Some(Auth::Bearer { token: "t".into() }),
            &[("headers.Authorization", "auth connector")],
        );
        check_refused(
            json!({"url": URL, "headers": {"x-api-key": "x"}}),
            Some(Auth::ApiKey {
                header_name: "X-Api-Key".into(),
                key: "k".into(),
            }),
            &[("headers.x-api-key", "auth connector")],
        );
        check_refused(
            json!({"url": "https://u:p@api.example.com/", "headers": {"Authorization": "x"}}),
            None,
            &[("headers.Authorization", "credentials in the URL")],
        );
        check_refused(
            json!({"url": "https://u:p@api.example.com/"}),
            Some(Auth::Bearer { token: "t".into() }),
            &[("url", "one or the other")],
        );
    }

    #[test]
    fn template_errors_name_the_setting_and_position() {
        template_error_at(
            json!({"url": "https://api.example.com/{{user.emial}}"}),
            "url",
            1,
            27,
        );
        template_error_at(
            json!({"url": URL, "headers": {"X-Name": "Hi {{user.name"}}),
            "headers.X-Name",
            1,
            4,
        );
        template_error_at(
            json!({"url": URL, "headers": {"X-Name": "a\r\nX-Evil: 1"}}),
            "headers.X-Name",
            1,
            2,
        );
        template_error_at(
            json!({"url": URL, "body_template": "{\n  \"email\": \"{{user.email}}\",\n  \"x\": {{entry.nope}}\n}"}),
            "body_template",
            3,
            10,
        );
        template_error_at(
            json!({"url": URL, "content_type": "xml", "body_template": "<a>{{}}</a>"}),
            "body_template",
            1,
            4,
        );
        // Every problem is reported at once.
        let errors = spec(json!({
            "url": "https://api.example.com/{{nope}}",
            "headers": {"X-A": "{{user.x}}", "Host": "h"},
            "body_template": "{{entry.y}}",
        }))
        .compile(None)
        .expect_err("refused");
        let settings: Vec<&str> = errors
            .0
            .iter()
            .map(|error| error.setting.as_str())
            .collect();
        assert_eq!(
            settings,
            ["url", "body_template", "headers.Host", "headers.X-A"]
        );
        assert!(errors.to_string().contains("; "), "{errors}");
    }

    #[test]
    fn urls_must_be_http_with_a_literal_host() {
        let origin = "written out, not templated";
        for url in [
            "https://{{user.email}}/",
            "https://api.{{campaign.key}}.example.com/",
            "https://api.example.com:{{entry.id}}/",
            "https://{{user.first_name}}@api.example.com/",
            "{{entry.landing_url}}",
            "{{entry.landing_url}}/x",
            "http{{\"s\"}}://api.example.com/",
        ] {
            check_refused(json!({"url": url}), None, &[("url", origin)]);
        }
        template_error_at(
            json!({"url": "https://api.{{campaign.key}}.example.com/"}),
            "url",
            1,
            13,
        );
        for (url, message) in [
            ("ftp://api.example.com/", "must start with `https://`"),
            ("mailto:joe@example.com", "must start with `https://`"),
            ("javascript:alert(1)", "must start with `https://`"),
            ("/relative/path", "not a valid URL"),
            ("", "not a valid URL"),
            ("https://", "not a valid URL"),
            ("https://api.example.com/a b", "space"),
            (" https://api.example.com/", "space"),
            ("https://api.example.com/#top", "fragment"),
        ] {
            check_refused(json!({"url": url}), None, &[("url", message)]);
        }
        // A backslash ends the host as `/` does, so what follows may be templated.
        let body = sample_body();
        check(
            json!({"url": "https://api.example.com\\{{campaign.key}}"}),
            &body,
            "https://api.example.com/a1XyD",
            &body,
        );
        check(
            json!({"url": "http://10.0.0.1:8080/in"}),
            "{}",
            "http://10.0.0.1:8080/in",
            "{}",
        );
    }

    #[test]
    fn settings_that_cannot_go_together_are_refused() {
        check_refused(
            json!({"url": URL, "method": "GET", "content_type": "xml"}),
            None,
            &[("content_type", "a GET request has no body")],
        );
        check_refused(
            json!({"url": URL, "method": "GET", "content_type": "text"}),
            None,
            &[("content_type", "no body")],
        );
        check_refused(
            json!({"url": URL, "method": "GET", "body_template": "{\"a\": 1}"}),
            None,
            &[("body_template", "set `content_type` to `form`")],
        );
        check_refused(
            json!({"url": URL, "method": "GET", "batching": {"max_events": 10}}),
            None,
            &[("batching", "GET")],
        );
        for content_type in ["form", "xml", "text"] {
            check_refused(
                json!({"url": URL, "content_type": content_type, "batching": {"max_events": 10}}),
                None,
                &[("batching", "`json`")],
            );
        }
        for max_events in [0, MAX_BATCH_EVENTS + 1] {
            check_refused(
                json!({"url": URL, "batching": {"max_events": max_events}}),
                None,
                &[("batching.max_events", "1 to 1000")],
            );
        }
        check_refused(
            json!({"url": URL, "body_template": "{\"a\": {{user.email}}"}),
            None,
            &[("body_template", "does not make JSON")],
        );
        check_refused(
            json!({"url": URL, "content_type": "form", "body_template": "a=1&={{user.email}}"}),
            None,
            &[("body_template", "no name")],
        );
    }

    #[test]
    fn a_digest_sends_its_entries_as_one_array_and_a_batch_takes_them_in() {
        let first = sample_body();
        let second = hostile_body();
        let digest_body = format!("[{first},{second}]");
        let digest = OutboundEvent {
            event_type: EventType::DigestCreated,
            body: &digest_body,
        };
        let settings = json!({"url": "https://api.example.com/{{campaign.key}}"});
        let endpoint = compile(settings.clone(), None);
        let request = endpoint
            .build(&webhook_id(), &[digest], &[secret()], TIMESTAMP)
            .expect("builds");
        assert_eq!(request.body, digest_body, "the frozen array, byte for byte");
        assert_eq!(
            request.url, "https://api.example.com/a1XyD",
            "the first entry's values"
        );
        assert_eq!(request.header(EVENT_TYPE_HEADER), Some("digest.created"));
        assert_well_formed(&request, &spec(settings));

        let templated = compile(
            json!({"url": URL, "body_template": "{\"email\": \"{{user.email}}\"}"}),
            None,
        );
        let request = templated
            .build(&webhook_id(), &[digest], &[secret()], TIMESTAMP)
            .expect("builds");
        assert_eq!(
            request.body,
            r#"[{"email": "joe@example.com"},{"email": "a+b@example.com"}]"#
        );

        // Claimed beside an entry by a batching endpoint: one flat array of entries.
        let batching = compile(json!({"url": URL, "batching": {"max_events": 5}}), None);
        let entry = OutboundEvent {
            event_type: EventType::EntryCreated,
            body: &first,
        };
        let empty = OutboundEvent {
            event_type: EventType::DigestCreated,
            body: "[]",
        };
        let request = batching
            .build(
                &webhook_id(),
                &[entry, digest, empty],
                &[secret()],
                TIMESTAMP,
            )
            .expect("builds");
        assert_eq!(request.body, format!("[{first},{first},{second}]"));
        assert_eq!(
            request.header(EVENT_TYPE_HEADER),
            Some("entry.created, digest.created")
        );

        for settings in [
            json!({"url": URL, "content_type": "form"}),
            json!({"url": URL, "method": "GET"}),
        ] {
            let endpoint = compile(settings, None);
            assert!(matches!(
                endpoint.build(&webhook_id(), &[digest], &[secret()], TIMESTAMP),
                Err(BuildError::DigestNeedsJson)
            ));
        }
    }

    #[test]
    fn batches_are_json_arrays_signed_over_their_bytes() {
        let first = sample_body();
        let second = hostile_body();
        let events = [
            OutboundEvent {
                event_type: EventType::EntryCreated,
                body: &first,
            },
            OutboundEvent {
                event_type: EventType::SubscriberCreated,
                body: &second,
            },
            OutboundEvent {
                event_type: EventType::EntryCreated,
                body: &first,
            },
        ];
        let settings = json!({"url": "https://api.example.com/{{campaign.key}}", "batching": {"max_events": 3}});
        let endpoint = compile(settings.clone(), None);
        let request = endpoint
            .build(&webhook_id(), &events, &[secret()], TIMESTAMP)
            .expect("builds");
        assert_eq!(request.body, format!("[{first},{second},{first}]"));
        assert_eq!(request.url, "https://api.example.com/a1XyD");
        assert_eq!(
            request.header(EVENT_TYPE_HEADER),
            Some("entry.created, subscriber.created")
        );
        assert_well_formed(&request, &spec(settings));

        // One event is still an array; a template renders each event with its own values.
        let endpoint = compile(
            json!({"url": URL, "batching": {"max_events": 3}, "body_template": "{\"email\": \"{{user.email}}\", \"type\": \"{{event.type}}\"}"}),
            None,
        );
        let request = endpoint
            .build(&webhook_id(), &events[..2], &[secret()], TIMESTAMP)
            .expect("builds");
        assert_eq!(
            request.body,
            r#"[{"email": "joe@example.com", "type": "entry.created"},{"email": "a+b@example.com", "type": "subscriber.created"}]"#
        );
        let request = endpoint
            .build(&webhook_id(), &events[..1], &[secret()], TIMESTAMP)
            .expect("builds");
        assert_eq!(
            request.body,
            r#"[{"email": "joe@example.com", "type": "entry.created"}]"#
        );

        // Too many, or none.
        let endpoint = compile(json!({"url": URL, "batching": {"max_events": 2}}), None);
        assert_eq!(
            endpoint.build(&webhook_id(), &events, &[secret()], TIMESTAMP),
            Err(BuildError::TooManyEvents { given: 3, max: 2 })
        );
        let single = compile(json!({"url": URL}), None);
        assert_eq!(single.max_events(), 1);
        assert_eq!(
            single.build(&webhook_id(), &events[..2], &[secret()], TIMESTAMP),
            Err(BuildError::TooManyEvents { given: 2, max: 1 })
        );
        assert_eq!(
            single.build(&webhook_id(), &[], &[secret()], TIMESTAMP),
            Err(BuildError::NoEvents)
        );
    }

    #[test]
    fn every_secret_of_a_rotation_signs() {
        let current = secret();
        let previous = SigningSecret::from_bytes(&[7; 32]);
        let stranger = SigningSecret::from_bytes(&[9; 32]);
        for settings in [
            json!({"url": URL}),
            json!({"url": URL, "method": "GET"}),
            json!({"url": URL, "content_type": "xml"}),
        ] {
            let endpoint = compile(settings.clone(), None);
            let request = endpoint
                .build(
                    &webhook_id(),
                    &[OutboundEvent {
                        event_type: EventType::EntryCreated,
                        body: &sample_body(),
                    }],
                    &[current.clone(), previous.clone()],
                    TIMESTAMP,
                )
                .expect("builds");
            let header = request.header("webhook-signature").expect("signed");
            assert_eq!(header.split(' ').count(), 2, "{header}");
            assert!(
                header
                    .split(' ')
                    .all(|signature| signature.starts_with("v1,"))
            );
            for (secret, valid) in [(&current, true), (&previous, true), (&stranger, false)] {
                let verdict = verify(
                    secret,
                    webhook_id().as_str(),
                    &TIMESTAMP.to_string(),
                    header,
                    request.body.as_bytes(),
                    TIMESTAMP,
                    DEFAULT_TOLERANCE_SECONDS,
                );
                assert_eq!(verdict.is_ok(), valid, "{settings}");
            }
        }
        let endpoint = compile(json!({"url": URL}), None);
        assert_eq!(
            endpoint.build(
                &webhook_id(),
                &[OutboundEvent {
                    event_type: EventType::EntryCreated,
                    body: "{}",
                }],
                &[],
                TIMESTAMP
            ),
            Err(BuildError::NoSigningSecret)
        );
    }

    #[test]
    fn standard_webhooks_test_vector() {
        let endpoint = compile(json!({"url": URL}), None);
        let webhook_id = MessageId::parse("msg_p5jXN8AQM9LWM0D4loKWxJek").expect("an id");
        let request = endpoint
            .build(
                &webhook_id,
                &[OutboundEvent {
                    event_type: EventType::EntryCreated,
                    body: r#"{"test": 2432232314}"#,
                }],
                &[secret()],
                1_614_265_330,
            )
            .expect("builds");
        assert_eq!(request.body, r#"{"test": 2432232314}"#);
        assert_eq!(
            request.header("webhook-signature"),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
        assert_eq!(request.header("webhook-timestamp"), Some("1614265330"));
    }

    #[test]
    fn hookline_headers_come_first_and_in_order() {
        let endpoint = compile(
            json!({"url": URL, "headers": {"X-B": "b", "X-A": "a"}}),
            Some(Auth::Bearer { token: "t".into() }),
        );
        let request = build(&endpoint, "{}");
        let names: Vec<&str> = request
            .headers
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "content-type",
                "user-agent",
                "webhook-id",
                "webhook-timestamp",
                "webhook-signature",
                "hookline-event",
                "authorization",
                "x-a",
                "x-b",
            ]
        );
        assert_eq!(request.header("hookline-event"), Some("entry.created"));
    }

    #[test]
    fn templates_read_the_event() {
        check(
            json!({"url": "https://api.example.com/{{event.type}}?id={{event.id}}&t={{event.timestamp}}"}),
            "{}",
            "https://api.example.com/entry.created?id=msg_2Kq&t=1700000000",
            "{}",
        );
    }

    #[test]
    fn bodies_that_are_not_json_cannot_be_built() {
        let endpoint = compile(json!({"url": URL, "content_type": "form"}), None);
        let built = endpoint.build(
            &webhook_id(),
            &[OutboundEvent {
                event_type: EventType::EntryCreated,
                body: "not json",
            }],
            &[secret()],
            TIMESTAMP,
        );
        assert!(
            matches!(built, Err(BuildError::InvalidBody(_))),
            "{built:?}"
        );
    }

    #[test]
    fn spec_json_form() {
        let minimal = spec(json!({"url": URL}));
        assert_eq!(minimal, EndpointSpec::new(URL));
        assert_eq!(
            serde_json::to_value(&minimal).expect("serialises"),
            json!({
                "url": URL,
                "method": "POST",
                "content_type": "json",
                "body_template": null,
                "headers": {},
                "batching": null,
            })
        );
        let full = json!({
            "url": "https://api.example.com/contacts/{{user.email}}",
            "method": "PATCH",
            "content_type": "form",
            "body_template": "email={{user.email}}",
            "headers": {"X-Api-Version": "2"},
            "batching": null,
        });
        assert_eq!(
            serde_json::to_value(spec(full.clone())).expect("serialises"),
            full
        );
        for bad in [
            json!({"url": URL, "methd": "GET"}),
            json!({"url": URL, "method": "DELETE"}),
            json!({"url": URL, "method": "post"}),
            json!({"url": URL, "content_type": "yaml"}),
            json!({"url": URL, "batching": {"max": 1}}),
            json!({"method": "GET"}),
        ] {
            assert!(
                serde_json::from_value::<EndpointSpec>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn outbound_requests_serialise_for_the_attempt_history() {
        let endpoint = compile(
            json!({"url": URL}),
            Some(Auth::Bearer {
                token: "t0k".into(),
            }),
        );
        let request = build(&endpoint, "{}").redacted();
        let stored = serde_json::to_string(&request).expect("serialises");
        assert!(!stored.contains("t0k"), "{stored}");
        assert_eq!(
            serde_json::from_str::<OutboundRequest>(&stored).expect("reads back"),
            request
        );
    }

    #[test]
    fn the_example_route_builds_from_the_sample() {
        let endpoint = compile(
            json!({"url": "https://api.example.com/{{user.email}}", "content_type": "xml"}),
            None,
        );
        let body = sample_body();
        let request = endpoint
            .build(
                &MessageId::from_suffix("example"),
                &[OutboundEvent {
                    event_type: EventType::WebhookTest,
                    body: &body,
                }],
                &[secret()],
                TIMESTAMP,
            )
            .expect("builds");
        assert_eq!(request.url, "https://api.example.com/joe%40example.com");
        assert!(
            request
                .body
                .contains(r#"<event type="webhook.test" id="msg_example">"#)
        );
    }
}
