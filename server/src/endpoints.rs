//! Webhook endpoints and auth connectors as people manage them: the checks on their
//! settings (every problem found, named by field, template errors with line and column),
//! turning stored rows into something delivery can send ([`Sendable`]), and into the admin
//! API's wire types.
//!
//! Builds on `outbound` (the request settings and their checks) and `secrets` (connector
//! credentials at rest). Must not know HTTP status codes (the API maps [`InvalidSettings`]),
//! and must not send anything: delivery does.

use std::collections::BTreeMap;

use protocol::admin::webhooks::{self as wire, Batching, FieldProblem, RequestRecord};
use protocol::ids::{AuthConnectorId, CampaignKey, EndpointId};
use protocol::payload::EventType;
use protocol::signature::SigningSecret;
use rand::distr::{Alphanumeric, SampleString as _};

use crate::audience::{self, Filter};
use crate::clock;
use crate::delivery::RetrySchedule;
use crate::outbound::{
    self, Auth, CompiledEndpoint, ContentType, EndpointSpec, Method, OutboundRequest, SpecError,
};
use crate::secrets::MasterKey;
use crate::store::{AuthConnectorRecord, EndpointRecord, Store, StoreError};

/// How long the previous signing secret keeps signing after a rotation, unless asked.
pub const DEFAULT_ROTATION_GRACE_SECONDS: u64 = 24 * 3600;
/// Most of a request's body an attempt record keeps.
pub const MAX_RECORDED_BODY: usize = 64 * 1024;
const MAX_NAME: usize = 100;
const MAX_DESCRIPTION: usize = 2000;
const MAX_RETRY_STEPS: usize = 20;
const MAX_RETRY_SECONDS: u32 = 7 * 24 * 3600;
const MAX_ATTEMPTS_ALLOWED: u32 = 100;
const MAX_RATE: u32 = 10_000;
const MAX_CONCURRENCY: u32 = 64;
const MAX_AUDIENCE_CONDITIONS: usize = 20;
const MAX_ANSWER_FIELDS: usize = 10;
/// How long the widget waits for a data source's answer unless the endpoint says.
pub const DEFAULT_ANSWER_TIMEOUT_MS: u32 = 3000;
/// The longest it may be told to wait.
pub const MAX_ANSWER_TIMEOUT_MS: u32 = 10_000;

/// A data-source endpoint's settings as stored (`endpoints.data_source`): which fields of its
/// JSON answer the contestant is shown, and how long the widget waits for them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DataSourceSettings {
    pub fields: Vec<String>,
    pub timeout_ms: u32,
}

impl DataSourceSettings {
    /// An endpoint's, if it is a data source (an unreadable one, which nothing writes, is
    /// none).
    pub fn of(record: &EndpointRecord) -> Option<Self> {
        serde_json::from_str(record.data_source.as_deref()?).ok()
    }
}

/// An endpoint's audience as stored: `None` for every event, or for a stored filter that no
/// longer reads (which nothing writes; it is logged where it matters).
pub fn audience_of(record: &EndpointRecord) -> Result<Option<Filter>, String> {
    record
        .audience
        .as_deref()
        .map(|text| serde_json::from_str(text).map_err(|error| error.to_string()))
        .transpose()
}

/// Every problem with an endpoint's or connector's settings (never empty), each with its place
/// in a template or condition when it has one: `body_template (line 2, column 15): …`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(problem_text).collect::<Vec<_>>().join("; "))]
pub struct InvalidSettings(pub Vec<FieldProblem>);

fn problem_text(problem: &FieldProblem) -> String {
    match (problem.line, problem.column) {
        (Some(line), Some(column)) => format!(
            "{} (line {line}, column {column}): {}",
            problem.field, problem.message
        ),
        _ => format!("{}: {}", problem.field, problem.message),
    }
}

fn problem(field: impl Into<String>, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        message: message.into(),
        line: None,
        column: None,
    }
}

/// `outbound`'s setting names are the API's field names, except credentials in `auth.*`,
/// which belong to the connector.
fn from_spec_error(error: &SpecError, connector_fields: bool) -> FieldProblem {
    let field = match error.setting.strip_prefix("auth.") {
        Some(field) if connector_fields => field.to_owned(),
        Some(_) => "auth_connector_id".to_owned(),
        None => error.setting.clone(),
    };
    FieldProblem {
        field,
        message: error.message.clone(),
        line: error.position.map(|position| position.line),
        column: error.position.map(|position| position.column),
    }
}

/// A fresh `whsec_` secret of 32 random bytes.
pub fn new_signing_secret() -> String {
    let mut key = [0_u8; 32];
    rand::fill(&mut key);
    SigningSecret::from_bytes(&key).to_whsec()
}

pub fn new_endpoint_id() -> EndpointId {
    EndpointId::from_suffix(&Alphanumeric.sample_string(&mut rand::rng(), 20))
}

pub fn new_connector_id() -> AuthConnectorId {
    AuthConnectorId::from_suffix(&Alphanumeric.sample_string(&mut rand::rng(), 20))
}

/// The request settings of a stored endpoint.
pub fn spec_of(record: &EndpointRecord) -> Result<EndpointSpec, String> {
    match &record.spec {
        Some(spec) => {
            serde_json::from_str(spec).map_err(|error| format!("stored settings: {error}"))
        }
        None => Ok(EndpointSpec::new(record.url.clone())),
    }
}

/// A connector's credentials, decrypted.
pub fn connector_auth(key: &MasterKey, connector: &AuthConnectorRecord) -> Result<Auth, String> {
    let plain = key
        .decrypt(&connector.secret, connector.public_id.as_str().as_bytes())
        .map_err(|error| error.to_string())?;
    serde_json::from_str(&plain).map_err(|_| "the stored credentials are not readable".to_owned())
}

/// An endpoint as delivery sends to it: its row, its settings compiled with its credentials,
/// and its retry schedule.
#[derive(Debug)]
pub struct Sendable {
    pub record: EndpointRecord,
    /// Why no request can be built, if none can (stored settings or credentials unreadable).
    pub compiled: Result<CompiledEndpoint, String>,
    pub schedule: RetrySchedule,
    /// A workspace endpoint while the operator does not allow `http://` webhooks.
    pub https_only: bool,
}

impl Sendable {
    /// Reads what `record` needs (its connector) and compiles its settings.
    pub async fn load(
        store: &Store,
        key: &MasterKey,
        record: EndpointRecord,
        allow_http: bool,
    ) -> Result<Self, StoreError> {
        let auth = match record.auth_connector_id {
            None => Ok(None),
            Some(id) => match store.auth_connector(id).await? {
                Some(connector) => connector_auth(key, &connector).map(Some),
                None => Err("its auth connector is gone".to_owned()),
            },
        };
        let compiled = auth.and_then(|auth| {
            spec_of(&record)?
                .compile(auth)
                .map_err(|errors| errors.to_string())
        });
        Ok(Self {
            schedule: RetrySchedule::from_settings(
                record.retry_schedule.as_deref(),
                record.max_attempts,
            ),
            https_only: record.workspace_id.is_some() && !allow_http,
            compiled,
            record,
        })
    }

    /// The secrets that sign at `now`: the current one, and the previous one until it expires.
    pub fn signing_secrets(&self, now: i64) -> Result<Vec<SigningSecret>, String> {
        let mut secrets =
            vec![SigningSecret::parse(&self.record.secret).map_err(|error| error.to_string())?];
        if let (Some(previous), Some(until)) = (
            &self.record.previous_secret,
            self.record.previous_secret_expires_at,
        ) && until > now
            && let Ok(previous) = SigningSecret::parse(previous)
        {
            secrets.push(previous);
        }
        Ok(secrets)
    }
}

/// An outbound request as the history keeps it (credentials redacted, body cut).
pub fn request_record(request: &OutboundRequest) -> RequestRecord {
    let redacted = request.redacted();
    let truncated = redacted.body.len() > MAX_RECORDED_BODY;
    let mut body = redacted.body;
    if truncated {
        let mut end = MAX_RECORDED_BODY;
        while !body.is_char_boundary(end) {
            end -= 1;
        }
        body.truncate(end);
    }
    RequestRecord {
        method: redacted.method.as_str().to_owned(),
        url: redacted.url,
        headers: redacted
            .headers
            .into_iter()
            .map(|(name, value)| wire::Header { name, value })
            .collect(),
        body,
        body_truncated: truncated,
    }
}

/// An endpoint's settings as the API took them, whole (a `PATCH` is applied to the current
/// settings first, then checked like a new endpoint).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub name: String,
    pub description: String,
    pub events: Vec<String>,
    pub campaigns: Option<Vec<String>>,
    pub spec: EndpointSpec,
    pub status: String,
    pub auth_connector_id: Option<String>,
    pub strict_order: bool,
    pub retry_schedule: Option<Vec<u32>>,
    pub max_attempts: Option<u32>,
    pub rate_limit_per_second: Option<u32>,
    pub max_concurrency: Option<u32>,
    pub audience: Option<wire::Audience>,
    pub data_source: Option<wire::DataSource>,
}

/// What the methods and content types are called on the wire.
fn parse_method(text: Option<&str>) -> Result<Method, FieldProblem> {
    match text.unwrap_or("POST") {
        "POST" => Ok(Method::Post),
        "PUT" => Ok(Method::Put),
        "PATCH" => Ok(Method::Patch),
        "GET" => Ok(Method::Get),
        other => Err(problem(
            "method",
            format!("must be POST, PUT, PATCH or GET, not {other:?}"),
        )),
    }
}

fn parse_content_type(text: Option<&str>) -> Result<ContentType, FieldProblem> {
    match text.unwrap_or("json") {
        "json" => Ok(ContentType::Json),
        "form" => Ok(ContentType::Form),
        "xml" => Ok(ContentType::Xml),
        "text" => Ok(ContentType::Text),
        other => Err(problem(
            "content_type",
            format!("must be json, form, xml or text, not {other:?}"),
        )),
    }
}

fn content_type_name(content_type: ContentType) -> &'static str {
    match content_type {
        ContentType::Json => "json",
        ContentType::Form => "form",
        ContentType::Xml => "xml",
        ContentType::Text => "text",
    }
}

impl Settings {
    /// A new endpoint's settings; wrong method or content type names are problems.
    pub fn from_new(new: &wire::NewEndpoint) -> Result<Self, InvalidSettings> {
        let mut problems = Vec::new();
        let method = parse_method(new.method.as_deref()).unwrap_or_else(|error| {
            problems.push(error);
            Method::Post
        });
        let content_type =
            parse_content_type(new.content_type.as_deref()).unwrap_or_else(|error| {
                problems.push(error);
                ContentType::Json
            });
        if !problems.is_empty() {
            return Err(InvalidSettings(problems));
        }
        Ok(Self {
            name: new.name.clone(),
            description: new.description.clone(),
            events: new.events.clone(),
            campaigns: new.campaigns.clone(),
            spec: EndpointSpec {
                url: new.url.clone(),
                method,
                content_type,
                body_template: new.body_template.clone(),
                headers: new.headers.clone(),
                batching: new.batching.map(|batching| outbound::Batching {
                    max_events: batching.max_events,
                }),
            },
            status: new.status.clone().unwrap_or_else(|| "active".to_owned()),
            auth_connector_id: new.auth_connector_id.clone(),
            strict_order: new.strict_order,
            retry_schedule: new.retry_schedule.clone(),
            max_attempts: new.max_attempts,
            rate_limit_per_second: new.rate_limit_per_second,
            max_concurrency: new.max_concurrency,
            audience: new.audience.clone(),
            data_source: new.data_source.clone(),
        })
    }

    /// The settings with `changes` applied.
    pub fn changed(mut self, changes: &wire::EndpointChanges) -> Result<Self, InvalidSettings> {
        let mut problems = Vec::new();
        if let Some(method) = &changes.method {
            match parse_method(Some(method)) {
                Ok(method) => self.spec.method = method,
                Err(error) => problems.push(error),
            }
        }
        if let Some(content_type) = &changes.content_type {
            match parse_content_type(Some(content_type)) {
                Ok(content_type) => self.spec.content_type = content_type,
                Err(error) => problems.push(error),
            }
        }
        if !problems.is_empty() {
            return Err(InvalidSettings(problems));
        }
        let c = changes;
        if let Some(name) = &c.name {
            self.name.clone_from(name);
        }
        if let Some(description) = &c.description {
            self.description.clone_from(description);
        }
        if let Some(events) = &c.events {
            self.events.clone_from(events);
        }
        if let Some(campaigns) = &c.campaigns {
            self.campaigns.clone_from(campaigns);
        }
        if let Some(url) = &c.url {
            self.spec.url.clone_from(url);
        }
        if let Some(headers) = &c.headers {
            self.spec.headers.clone_from(headers);
        }
        if let Some(template) = &c.body_template {
            self.spec.body_template.clone_from(template);
        }
        if let Some(batching) = c.batching {
            self.spec.batching = batching.map(|batching| outbound::Batching {
                max_events: batching.max_events,
            });
        }
        if let Some(status) = &c.status {
            self.status.clone_from(status);
        }
        if let Some(connector) = &c.auth_connector_id {
            self.auth_connector_id.clone_from(connector);
        }
        if let Some(strict) = c.strict_order {
            self.strict_order = strict;
        }
        if let Some(schedule) = &c.retry_schedule {
            self.retry_schedule.clone_from(schedule);
        }
        if let Some(max_attempts) = c.max_attempts {
            self.max_attempts = max_attempts;
        }
        if let Some(rate) = c.rate_limit_per_second {
            self.rate_limit_per_second = rate;
        }
        if let Some(concurrency) = c.max_concurrency {
            self.max_concurrency = concurrency;
        }
        if let Some(audience) = &c.audience {
            self.audience.clone_from(audience);
        }
        if let Some(data_source) = &c.data_source {
            self.data_source.clone_from(data_source);
        }
        Ok(self)
    }

    /// A stored workspace endpoint's settings, as [`Settings::changed`] starts from.
    pub fn of_record(
        record: &EndpointRecord,
        campaign_keys: Option<Vec<String>>,
        connector: Option<&AuthConnectorId>,
    ) -> Result<Self, String> {
        Ok(Self {
            name: record.name.clone(),
            description: record.description.clone(),
            events: record
                .events
                .iter()
                .map(|event| event.as_str().to_owned())
                .collect(),
            campaigns: campaign_keys,
            spec: spec_of(record)?,
            status: if record.active { "active" } else { "inactive" }.to_owned(),
            auth_connector_id: connector.map(|id| id.as_str().to_owned()),
            strict_order: record.strict_order,
            retry_schedule: record.retry_schedule.clone(),
            max_attempts: record.max_attempts,
            rate_limit_per_second: record.rate_limit_per_second,
            max_concurrency: record.max_concurrency,
            audience: audience_of(record)?.map(|filter| audience_wire(&filter)),
            data_source: DataSourceSettings::of(record).map(|settings| wire::DataSource {
                fields: settings.fields,
                timeout_ms: Some(settings.timeout_ms),
            }),
        })
    }
}

/// A filter as the admin API shows it.
pub fn audience_wire(filter: &Filter) -> wire::Audience {
    wire::Audience {
        match_mode: filter.match_mode().as_str().to_owned(),
        conditions: filter
            .conditions()
            .iter()
            .map(ToString::to_string)
            .collect(),
    }
}

/// Parses an audience as the API took it; every problem by field (`audience.match`,
/// `audience.conditions.2` with the line and column in that condition).
pub fn parse_audience(audience: &wire::Audience) -> Result<Filter, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let match_mode = match audience.match_mode.as_str() {
        "all" => audience::Match::All,
        "any" => audience::Match::Any,
        other => {
            problems.push(problem(
                "audience.match",
                format!("must be all or any, not {other:?}"),
            ));
            audience::Match::All
        }
    };
    if audience.conditions.len() > MAX_AUDIENCE_CONDITIONS {
        problems.push(problem(
            "audience.conditions",
            format!("give at most {MAX_AUDIENCE_CONDITIONS} conditions"),
        ));
        return Err(problems);
    }
    // Each condition on its own, so every bad one is named, not only the first.
    for (index, condition) in audience.conditions.iter().enumerate() {
        if let Err(error) = Filter::parse(match_mode, std::slice::from_ref(condition)) {
            problems.push(FieldProblem {
                field: format!("audience.conditions.{index}"),
                message: error.message,
                line: Some(error.position.line),
                column: Some(error.position.column),
            });
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Filter::parse(match_mode, &audience.conditions).map_err(|error| {
        vec![problem(
            format!("audience.conditions.{}", error.index),
            error.message,
        )]
    })
}

/// Checks data-source settings: 1 to 10 field paths (dot-separated names), a timeout of 100
/// ms to [`MAX_ANSWER_TIMEOUT_MS`].
fn check_data_source(
    data_source: &wire::DataSource,
    problems: &mut Vec<FieldProblem>,
) -> DataSourceSettings {
    if data_source.fields.is_empty() || data_source.fields.len() > MAX_ANSWER_FIELDS {
        problems.push(problem(
            "data_source.fields",
            format!("name 1 to {MAX_ANSWER_FIELDS} fields of the answer, like promocode"),
        ));
    }
    for (index, field) in data_source.fields.iter().enumerate() {
        let well_formed = !field.is_empty()
            && field.len() <= 100
            && field.split('.').all(|name| {
                !name.is_empty()
                    && name
                        .chars()
                        .all(|ch| ch.is_alphanumeric() || ch == '_' || ch == '-')
            });
        if !well_formed {
            problems.push(problem(
                format!("data_source.fields.{index}"),
                "must be a field name or a dot-separated path of names (letters, digits, _ and -), like promocode or data.code",
            ));
        }
    }
    let timeout_ms = data_source.timeout_ms.unwrap_or(DEFAULT_ANSWER_TIMEOUT_MS);
    if !(100..=MAX_ANSWER_TIMEOUT_MS).contains(&timeout_ms) {
        problems.push(problem(
            "data_source.timeout_ms",
            format!("must be 100 to {MAX_ANSWER_TIMEOUT_MS}"),
        ));
    }
    DataSourceSettings {
        fields: data_source.fields.clone(),
        timeout_ms,
    }
}

/// Settings that passed every check, ready to store.
#[derive(Debug)]
pub struct Checked {
    pub events: Vec<EventType>,
    pub campaign_ids: Option<Vec<i64>>,
    pub spec_json: String,
    pub active: bool,
    pub auth_connector_id: Option<i64>,
    pub batch_max: u32,
    /// The audience filter's JSON; `None`: every event.
    pub audience_json: Option<String>,
    /// The data-source settings' JSON; `None`: not a data source.
    pub data_source_json: Option<String>,
    /// The settings compiled, for the test request.
    pub compiled: CompiledEndpoint,
}

/// What [`check`] needs from outside: the workspace's campaigns and connectors as found.
#[derive(Debug)]
pub struct Found {
    /// For each key of `campaigns`, its row id if the workspace has it.
    pub campaign_ids: Vec<Option<i64>>,
    /// The connector named, if the workspace has it, with its credentials.
    pub connector: Option<(i64, Auth)>,
    /// A connector was named but the workspace has none by that id.
    pub connector_missing: bool,
}

/// Checks every setting (pure: what needs the database arrives in `found`). `allow_http`:
/// the operator allows `http://` webhooks.
pub fn check(
    settings: &Settings,
    found: Found,
    allow_http: bool,
) -> Result<Checked, InvalidSettings> {
    let mut problems = Vec::new();
    let name = settings.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        problems.push(problem(
            "name",
            format!("must be 1 to {MAX_NAME} characters"),
        ));
    }
    if settings.description.chars().count() > MAX_DESCRIPTION {
        problems.push(problem(
            "description",
            format!("must be at most {MAX_DESCRIPTION} characters"),
        ));
    }
    let mut events = Vec::new();
    if settings.events.is_empty() {
        problems.push(problem("events", "name at least one event type"));
    }
    for (index, name) in settings.events.iter().enumerate() {
        match EventType::parse(name) {
            Some(EventType::WebhookTest) => problems.push(problem(
                format!("events.{index}"),
                "webhook.test is sent by tests only; it cannot be subscribed to",
            )),
            Some(event) if !event.subscribable() => problems.push(problem(
                format!("events.{index}"),
                format!(
                    "{} is sent by jobs only; it cannot be subscribed to",
                    event.as_str()
                ),
            )),
            Some(event) if !events.contains(&event) => events.push(event),
            Some(_) => {}
            None => {
                let known: Vec<&str> = EventType::ALL
                    .iter()
                    .filter(|event| event.subscribable())
                    .map(|event| event.as_str())
                    .collect();
                problems.push(problem(
                    format!("events.{index}"),
                    format!("unknown event type {name:?}; known: {}", known.join(", ")),
                ));
            }
        }
    }
    let campaign_ids = settings.campaigns.as_ref().map(|keys| {
        keys.iter()
            .zip(&found.campaign_ids)
            .enumerate()
            .filter_map(|(index, (key, id))| {
                if id.is_none() {
                    problems.push(problem(
                        format!("campaigns.{index}"),
                        format!("this workspace has no campaign {key:?}"),
                    ));
                }
                *id
            })
            .collect::<Vec<_>>()
    });
    if campaign_ids.as_ref().is_some_and(Vec::is_empty) && problems.is_empty() {
        problems.push(problem(
            "campaigns",
            "name at least one campaign, or null for all",
        ));
    }
    let active = match settings.status.as_str() {
        "active" => true,
        "inactive" => false,
        other => {
            problems.push(problem(
                "status",
                format!("must be active or inactive, not {other:?}"),
            ));
            true
        }
    };
    if found.connector_missing {
        problems.push(problem(
            "auth_connector_id",
            "this workspace has no auth connector with this id",
        ));
    }
    if let Some(schedule) = &settings.retry_schedule
        && (schedule.is_empty()
            || schedule.len() > MAX_RETRY_STEPS
            || schedule
                .iter()
                .any(|seconds| !(1..=MAX_RETRY_SECONDS).contains(seconds)))
    {
        problems.push(problem(
            "retry_schedule",
            format!("give 1 to {MAX_RETRY_STEPS} waits in seconds, each 1 to {MAX_RETRY_SECONDS}"),
        ));
    }
    for (field, value, max) in [
        ("max_attempts", settings.max_attempts, MAX_ATTEMPTS_ALLOWED),
        (
            "rate_limit_per_second",
            settings.rate_limit_per_second,
            MAX_RATE,
        ),
        ("max_concurrency", settings.max_concurrency, MAX_CONCURRENCY),
    ] {
        if value.is_some_and(|value| !(1..=max).contains(&value)) {
            problems.push(problem(field, format!("must be 1 to {max}")));
        }
    }
    let audience = match &settings.audience {
        Some(audience) => match parse_audience(audience) {
            // A filter without conditions lets every event through: stored as none.
            Ok(filter) if filter.conditions().is_empty() => None,
            Ok(filter) => Some(filter),
            Err(found) => {
                problems.extend(found);
                None
            }
        },
        None => None,
    };
    let data_source = settings
        .data_source
        .as_ref()
        .map(|data_source| check_data_source(data_source, &mut problems));
    let (connector_id, auth) = found.connector.unzip();
    let compiled = match settings.spec.compile(auth) {
        Ok(compiled) => Some(compiled),
        Err(errors) => {
            problems.extend(errors.0.iter().map(|error| from_spec_error(error, false)));
            None
        }
    };
    if compiled.is_some() && !allow_http && settings.spec.url.trim_start().starts_with("http://") {
        problems.push(problem(
            "url",
            "must start with https:// (the operator does not allow http:// webhooks)",
        ));
    }
    match compiled {
        Some(compiled) if problems.is_empty() => Ok(Checked {
            events,
            campaign_ids,
            // Serialising the settings cannot fail: string keys only.
            spec_json: serde_json::to_string(&settings.spec).unwrap_or_default(),
            active,
            auth_connector_id: connector_id,
            batch_max: settings
                .spec
                .batching
                .map_or(1, |batching| batching.max_events),
            // Serialising a filter or these settings cannot fail: strings only.
            audience_json: audience
                .map(|filter| serde_json::to_string(&filter).unwrap_or_default()),
            data_source_json: data_source
                .map(|settings| serde_json::to_string(&settings).unwrap_or_default()),
            compiled,
        }),
        _ => Err(InvalidSettings(problems)),
    }
}

/// A `url` problem for a destination the address rules refuse.
pub fn blocked_url(detail: &str) -> InvalidSettings {
    InvalidSettings(vec![problem(
        "url",
        format!("webhooks may not go there: {detail}"),
    )])
}

/// Checks a connector's credentials and returns them with what may be shown of them
/// (user name, header name).
pub fn connector_credentials(
    kind: &str,
    fields: &wire::AuthConnectorChanges,
) -> Result<Auth, InvalidSettings> {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let auth = match kind {
        "basic" => Auth::Basic {
            username: text(&fields.username),
            password: text(&fields.password),
        },
        "bearer" => Auth::Bearer {
            token: text(&fields.token),
        },
        "api_key" => Auth::ApiKey {
            header_name: text(&fields.header_name),
            key: text(&fields.key),
        },
        other => {
            return Err(InvalidSettings(vec![problem(
                "type",
                format!("must be basic, bearer or api_key, not {other:?}"),
            )]));
        }
    };
    match EndpointSpec::new("https://example.com/").validate(Some(&auth)) {
        Ok(()) => Ok(auth),
        Err(errors) => Err(InvalidSettings(
            errors
                .0
                .iter()
                .map(|error| from_spec_error(error, true))
                .collect(),
        )),
    }
}

/// What a connector's credentials show: (user name, header name).
pub fn shown_credentials(auth: &Auth) -> (String, String) {
    match auth {
        Auth::Basic { username, .. } => (username.clone(), String::new()),
        Auth::Bearer { .. } => (String::new(), String::new()),
        Auth::ApiKey { header_name, .. } => (String::new(), header_name.clone()),
    }
}

pub fn connector_kind(auth: &Auth) -> &'static str {
    match auth {
        Auth::Basic { .. } => "basic",
        Auth::Bearer { .. } => "bearer",
        Auth::ApiKey { .. } => "api_key",
    }
}

/// A connector on the admin wire.
pub fn connector_wire(
    connector: &AuthConnectorRecord,
    endpoints: Vec<EndpointId>,
) -> wire::AuthConnector {
    let shown = |text: &str| (!text.is_empty()).then(|| text.to_owned());
    wire::AuthConnector {
        id: connector.public_id.clone(),
        name: connector.name.clone(),
        kind: connector.kind.clone(),
        username: shown(&connector.username),
        header_name: shown(&connector.header_name),
        endpoints,
        created_at: clock::rfc3339(connector.created_at),
        updated_at: clock::rfc3339(connector.updated_at),
    }
}

/// The URL without `user:pass@`, and whether it had them.
fn url_without_credentials(url: &str) -> (String, bool) {
    let Some(scheme_end) = url.find("://") else {
        return (url.to_owned(), false);
    };
    let authority_start = scheme_end + 3;
    let authority_end = url[authority_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |end| authority_start + end);
    match url[authority_start..authority_end].rfind('@') {
        Some(at) => (
            format!(
                "{}{}",
                &url[..authority_start],
                &url[authority_start + at + 1..]
            ),
            true,
        ),
        None => (url.to_owned(), false),
    }
}

/// An endpoint on the admin wire.
pub fn endpoint_wire(
    record: &EndpointRecord,
    campaigns: Option<Vec<CampaignKey>>,
    connector: Option<AuthConnectorId>,
    stats: crate::store::AttemptStats,
) -> wire::Endpoint {
    let spec = spec_of(record).unwrap_or_else(|_| EndpointSpec::new(record.url.clone()));
    let (url, url_has_credentials) = url_without_credentials(&spec.url);
    let schedule =
        RetrySchedule::from_settings(record.retry_schedule.as_deref(), record.max_attempts);
    wire::Endpoint {
        id: record.public_id.clone(),
        name: record.name.clone(),
        description: record.description.clone(),
        events: record
            .events
            .iter()
            .map(|event| event.as_str().to_owned())
            .collect(),
        campaigns,
        url,
        url_has_credentials,
        method: spec.method.as_str().to_owned(),
        content_type: content_type_name(spec.content_type).to_owned(),
        headers: spec.headers.clone(),
        body_template: spec.body_template.clone(),
        batching: spec.batching.map(|batching| Batching {
            max_events: batching.max_events,
        }),
        status: if record.active { "active" } else { "inactive" }.to_owned(),
        disabled: record.disabled_reason.map(|reason| wire::EndpointDisabled {
            reason: reason.as_str().to_owned(),
            at: record.disabled_at.map(clock::rfc3339),
        }),
        auth_connector_id: connector,
        strict_order: record.strict_order,
        retry_schedule: schedule.seconds(),
        max_attempts: schedule.max_attempts(),
        rate_limit_per_second: record.rate_limit_per_second,
        max_concurrency: record.max_concurrency,
        audience: audience_of(record)
            .ok()
            .flatten()
            .map(|filter| audience_wire(&filter)),
        data_source: DataSourceSettings::of(record).map(|settings| wire::DataSource {
            fields: settings.fields,
            timeout_ms: Some(settings.timeout_ms),
        }),
        previous_secret_expires_at: record.previous_secret_expires_at.map(clock::rfc3339),
        #[allow(clippy::cast_precision_loss)]
        success_rate: (stats.attempts > 0).then(|| stats.successes as f64 / stats.attempts as f64),
        attempts_last_24h: stats.attempts,
        consecutive_failures: record.n_consecutive_failures,
        created_at: clock::rfc3339(record.created_at),
        updated_at: clock::rfc3339(record.updated_at),
        deleted_at: record.deleted_at.map(clock::rfc3339),
    }
}

/// Headers of a map, for tests and the docs' examples.
pub fn header_map(request: &RequestRecord) -> BTreeMap<String, String> {
    request
        .headers
        .iter()
        .map(|header| (header.name.clone(), header.value.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_taken_out_of_urls_shown() {
        assert_eq!(
            url_without_credentials("https://joe:s3cret@api.example.com/a@b?x=@"),
            ("https://api.example.com/a@b?x=@".to_owned(), true)
        );
        assert_eq!(
            url_without_credentials("https://api.example.com/{{user.email}}"),
            ("https://api.example.com/{{user.email}}".to_owned(), false)
        );
    }

    fn settings(url: &str) -> Settings {
        Settings {
            name: "CRM".into(),
            description: String::new(),
            events: vec!["entry.created".into()],
            campaigns: None,
            spec: EndpointSpec::new(url),
            status: "active".into(),
            auth_connector_id: None,
            strict_order: false,
            retry_schedule: None,
            max_attempts: None,
            rate_limit_per_second: None,
            max_concurrency: None,
            audience: None,
            data_source: None,
        }
    }

    fn found() -> Found {
        Found {
            campaign_ids: Vec::new(),
            connector: None,
            connector_missing: false,
        }
    }

    fn fields(result: Result<Checked, InvalidSettings>) -> Vec<String> {
        match result {
            Ok(_) => Vec::new(),
            Err(InvalidSettings(problems)) => problems.into_iter().map(|p| p.field).collect(),
        }
    }

    #[test]
    fn http_needs_the_operators_leave() {
        let http = settings("http://api.example.com/");
        assert_eq!(fields(check(&http, found(), false)), ["url"]);
        assert!(fields(check(&http, found(), true)).is_empty());
        assert!(fields(check(&settings("https://api.example.com/"), found(), false)).is_empty());
    }

    #[test]
    fn every_problem_is_named() {
        let mut bad = settings("https://api.example.com/{{user.nope}}");
        bad.name = " ".into();
        bad.events = vec!["entry.made".into(), "webhook.test".into()];
        bad.status = "paused".into();
        bad.retry_schedule = Some(vec![]);
        bad.max_concurrency = Some(0);
        bad.campaigns = Some(vec!["nope".into()]);
        let found = Found {
            campaign_ids: vec![None],
            connector: None,
            connector_missing: true,
        };
        assert_eq!(
            fields(check(&bad, found, true)),
            [
                "name",
                "events.0",
                "events.1",
                "campaigns.0",
                "status",
                "auth_connector_id",
                "retry_schedule",
                "max_concurrency",
                "url"
            ]
        );
    }
}
