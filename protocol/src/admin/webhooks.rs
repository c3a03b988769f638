//! The admin API's webhook types: endpoints (`/api/v1/endpoints…`), auth connectors
//! (`/api/v1/auth-connectors…`), and the delivery history (`/api/v1/deliveries…`).
//!
//! An endpoint's request settings (`url`, `method`, `content_type`, `headers`,
//! `body_template`, `batching`) are the server's `outbound::EndpointSpec`, field for field;
//! names of methods (`POST`, `PUT`, `PATCH`, `GET`), content types (`json`, `form`, `xml`,
//! `text`), event types and statuses are strings here and checked by the server, which
//! answers a wrong one with a field-level error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::double_option;
use crate::ids::{AttemptId, AuthConnectorId, CampaignKey, DeliveryId, EndpointId, EntryId, JobId};

/// `batching` of an endpoint: up to `max_events` deliveries in one request, a JSON array.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batching {
    pub max_events: u32,
}

/// `audience` of an endpoint: it sends only the events whose body matches `all` (the
/// default) or `any` of the conditions, each written like `user.country_code == "AU"` (see
/// the README's "Audience filters"). No conditions: every event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Audience {
    /// `all` or `any`.
    #[serde(rename = "match", default = "all")]
    pub match_mode: String,
    #[serde(default)]
    pub conditions: Vec<String>,
}

fn all() -> String {
    "all".to_owned()
}

/// `data_source` of an endpoint: its JSON answer to a triggered delivery is read, and these
/// fields of it are shown to the contestant (and carried by the widget's `entry` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSource {
    /// Paths in the answer, dot-separated: `promocode`, `data.code`.
    pub fields: Vec<String>,
    /// How long an entry's answer waits for this endpoint's (then it goes without it);
    /// default 3000, 100 to 10000.
    #[serde(default)]
    pub timeout_ms: Option<u32>,
}

/// `POST /api/v1/endpoints`: a webhook endpoint to create. `name`, `events` and `url` are
/// required; everything else has a default (see each field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Event types, e.g. `["entry.created", "subscriber.created"]`.
    pub events: Vec<String>,
    /// Keys of the workspace's campaigns whose events it takes; `null` (the default): all.
    #[serde(default)]
    pub campaigns: Option<Vec<String>>,
    /// A template: `https://api.example.com/contacts/{{user.email}}`. `user:pass@` sends
    /// Basic auth (and is never shown again).
    pub url: String,
    /// `POST` (default), `PUT`, `PATCH` or `GET` (the data goes in the query).
    #[serde(default)]
    pub method: Option<String>,
    /// `json` (default), `form`, `xml` or `text`.
    #[serde(default)]
    pub content_type: Option<String>,
    /// Name → value template.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// `null`: the content type's default body.
    #[serde(default)]
    pub body_template: Option<String>,
    #[serde(default)]
    pub batching: Option<Batching>,
    /// `active` (default) or `inactive`.
    #[serde(default)]
    pub status: Option<String>,
    /// An auth connector of the workspace (`ac_…`).
    #[serde(default)]
    pub auth_connector_id: Option<String>,
    /// Later deliveries wait until the earliest pending one succeeds, then go in order.
    #[serde(default)]
    pub strict_order: bool,
    /// Seconds to wait after the 1st, 2nd, … failure; the last repeats. Default
    /// `[60, 120, 240, 480, 3600]`.
    #[serde(default)]
    pub retry_schedule: Option<Vec<u32>>,
    /// Tries before a delivery is given up; default 40.
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// Most requests per second to this endpoint; `null`: no limit.
    #[serde(default)]
    pub rate_limit_per_second: Option<u32>,
    /// Most requests in flight at once; `null`: the server's default.
    #[serde(default)]
    pub max_concurrency: Option<u32>,
    /// Send a `webhook.test` request after saving and include its outcome; default true.
    #[serde(default)]
    pub test_on_save: Option<bool>,
    /// Which events it sends; `null` (the default): all.
    #[serde(default)]
    pub audience: Option<Audience>,
    /// Whether its answer is shown to the contestant; `null` (the default): it is not.
    #[serde(default)]
    pub data_source: Option<DataSource>,
}

/// `PATCH /api/v1/endpoints/{id}`: the fields to change; `null` clears a nullable one.
/// Setting `status` to `active` also enables an endpoint delivery had disabled.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointChanges {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub events: Option<Vec<String>>,
    #[serde(default, with = "double_option")]
    pub campaigns: Option<Option<Vec<String>>>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub headers: Option<BTreeMap<String, String>>,
    #[serde(default, with = "double_option")]
    pub body_template: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    pub batching: Option<Option<Batching>>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, with = "double_option")]
    pub auth_connector_id: Option<Option<String>>,
    #[serde(default)]
    pub strict_order: Option<bool>,
    #[serde(default, with = "double_option")]
    pub retry_schedule: Option<Option<Vec<u32>>>,
    #[serde(default, with = "double_option")]
    pub max_attempts: Option<Option<u32>>,
    #[serde(default, with = "double_option")]
    pub rate_limit_per_second: Option<Option<u32>>,
    #[serde(default, with = "double_option")]
    pub max_concurrency: Option<Option<u32>>,
    #[serde(default)]
    pub test_on_save: Option<bool>,
    #[serde(default, with = "double_option")]
    pub audience: Option<Option<Audience>>,
    #[serde(default, with = "double_option")]
    pub data_source: Option<Option<DataSource>>,
}

/// Why delivery disabled an endpoint, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointDisabled {
    /// `gone` (it answered 410) or `failing` (it failed for too long).
    pub reason: String,
    pub at: Option<String>,
}

/// An endpoint as the admin API shows it. Never its signing secret (see
/// `GET /api/v1/endpoints/{id}/secret`) nor credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: EndpointId,
    pub name: String,
    pub description: String,
    pub events: Vec<String>,
    /// `null`: every campaign of the workspace.
    pub campaigns: Option<Vec<CampaignKey>>,
    /// The URL template, without any `user:pass@` credentials (which show as
    /// `url_has_credentials`).
    pub url: String,
    pub url_has_credentials: bool,
    pub method: String,
    pub content_type: String,
    pub headers: BTreeMap<String, String>,
    pub body_template: Option<String>,
    pub batching: Option<Batching>,
    /// `active` or `inactive` (as set by a person).
    pub status: String,
    /// Set while delivery has disabled it (410, or failing too long); `PATCH` it with
    /// `status: active` to enable it again.
    pub disabled: Option<EndpointDisabled>,
    pub auth_connector_id: Option<AuthConnectorId>,
    pub strict_order: bool,
    pub retry_schedule: Vec<u32>,
    pub max_attempts: u32,
    pub rate_limit_per_second: Option<u32>,
    pub max_concurrency: Option<u32>,
    /// `null`: every event.
    pub audience: Option<Audience>,
    /// `null`: not a data source. `timeout_ms` is always given.
    pub data_source: Option<DataSource>,
    /// Until when the previous signing secret also signs (after a rotation).
    pub previous_secret_expires_at: Option<String>,
    /// Share of the last 24 hours' attempts that got a 2xx, 0 to 1; `null` without attempts.
    pub success_rate: Option<f64>,
    pub attempts_last_24h: u64,
    /// Failed attempts since the last success.
    pub consecutive_failures: u32,
    pub created_at: String,
    pub updated_at: String,
    /// Set once deleted (`?deleted=true` lists these; `POST …/restore` brings one back).
    pub deleted_at: Option<String>,
}

/// One header of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// An HTTP request as sent, with credentials shown as `[redacted]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub method: String,
    pub url: String,
    pub headers: Vec<Header>,
    pub body: String,
    /// The body was longer than what is kept (64 KiB) and is cut.
    #[serde(default)]
    pub body_truncated: bool,
}

/// What a test request (on save, or `POST /api/v1/endpoints/{id}/test`) brought back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestOutcome {
    /// The status was 2xx.
    pub succeeded: bool,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    /// The first 4 KiB of the answer.
    pub response_snippet: String,
    /// Why no answer came (`timeout`, `connect`, `blocked_address`, `insecure_url`, …).
    pub error_kind: Option<String>,
    pub error: Option<String>,
    pub request: Option<RequestRecord>,
}

/// The answer to creating or changing an endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointSaved {
    pub endpoint: Endpoint,
    /// `whsec_…`: only in the answer to creating it (and see `…/secret`).
    pub signing_secret: Option<String>,
    /// The test request's outcome, unless `test_on_save` was false.
    pub test: Option<TestOutcome>,
}

/// `GET /api/v1/endpoints/{id}/secret` and the answer to `POST …/rotate-secret`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningSecrets {
    pub signing_secret: String,
    /// The one before a rotation, valid until `previous_secret_expires_at`.
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<String>,
}

/// `POST /api/v1/endpoints/{id}/rotate-secret`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    /// How long the previous secret still signs; default 86400 (24 h), 0 ends it at once.
    #[serde(default)]
    pub grace_period_seconds: Option<u64>,
}

/// `POST /api/v1/endpoints/{id}/test`: the sample payload, or a real entry's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendTest {
    /// An entry of the workspace whose webhook body to send.
    #[serde(default)]
    pub entry_id: Option<i64>,
    /// The event type to send it as; default `webhook.test`.
    #[serde(default)]
    pub event: Option<String>,
}

/// `POST /api/v1/endpoints/{id}/retry-failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryFailed {
    /// RFC 3339: failed deliveries created at or after this time are due again now.
    pub since: String,
}

/// How many deliveries were made due again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retried {
    pub retried: u64,
}

/// `POST /api/v1/auth-connectors`: credentials endpoints share. `type` is `basic` (with
/// `username` and `password`), `bearer` (with `token`) or `api_key` (with `header_name`
/// and `key`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAuthConnector {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub header_name: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
}

/// `PATCH /api/v1/auth-connectors/{id}`: a new name, new credentials (all of the type's
/// fields, replacing the stored ones), or both. The type does not change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConnectorChanges {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub header_name: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
}

/// An auth connector as the admin API shows it: never its password, token or key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthConnector {
    pub id: AuthConnectorId,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Basic only.
    pub username: Option<String>,
    /// API key only.
    pub header_name: Option<String>,
    /// Endpoints (not deleted) that use it.
    pub endpoints: Vec<EndpointId>,
    pub created_at: String,
    pub updated_at: String,
}

/// One message to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: DeliveryId,
    /// The `webhook-id` header, the same on every try.
    pub webhook_id: String,
    pub endpoint_id: EndpointId,
    pub event_type: String,
    pub entry_id: Option<EntryId>,
    /// `held` (waiting for the fraud verdict), `pending`, `delivered`, `failed` (given up)
    /// or `cancelled`.
    pub status: String,
    pub n_attempts: u32,
    /// When it is tried next (pending or held only).
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
    /// The latest try's status and error kind, if any.
    pub last_status_code: Option<u16>,
    pub last_error_kind: Option<String>,
    /// What the receiver's latest answer says (as Gleam reads it): `new` (201), `existing`
    /// (200) or `error` (anything else, or no answer); `null` before the first try.
    pub receiver_answer: Option<String>,
    /// The job that made it, if a job did.
    #[serde(default)]
    pub job_id: Option<JobId>,
}

/// One try of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub id: AttemptId,
    pub started_at: String,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub response_snippet: String,
    pub error_kind: Option<String>,
    /// Deliveries this try carried (more than 1 when batching).
    pub batch_size: u32,
    pub request: Option<RequestRecord>,
}

/// `GET /api/v1/deliveries/{id}`: the delivery, its frozen body and every try, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryDetail {
    #[serde(flatten)]
    pub delivery: Delivery,
    pub body: String,
    pub attempts: Vec<Attempt>,
}

/// One problem with a setting, where the settings were refused (422 `invalid_settings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldProblem {
    /// The request field: `url`, `body_template`, `headers.X-Api-Key`, `campaigns.0`, …
    pub field: String,
    pub message: String,
    /// Where in a template the problem is, 1-based.
    pub line: Option<usize>,
    pub column: Option<usize>,
}

/// The body of a 422 `invalid_settings` answer: an API error with every problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidSettings {
    pub code: String,
    pub detail: String,
    /// The first problem's field.
    pub field: Option<String>,
    pub errors: Vec<FieldProblem>,
}

/// `POST /api/v1/endpoints/audience-preview`: how many of the workspace's latest entries an
/// audience lets through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudiencePreviewRequest {
    pub audience: Audience,
    /// Only these campaigns' entries (keys); `null` (the default): every campaign.
    #[serde(default)]
    pub campaigns: Option<Vec<String>>,
    /// How many of the latest entries to try it on; default 50, at most 1000.
    #[serde(default)]
    pub sample: Option<u32>,
}

/// "Would have sent 12 of 50".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudiencePreview {
    /// Entries the audience lets through.
    pub matched: u32,
    /// Entries it was tried on (fewer than asked when the workspace has fewer).
    pub total: u32,
    /// The first few matching entries, newest first (at most 10).
    pub matched_entry_ids: Vec<EntryId>,
}

/// `POST /api/v1/jobs`: a send over a campaign's entries to one endpoint. `kind` is `manual`
/// (now), `one_time` (at `run_at`) or `recurring` (a digest every `every`: `hour`, `day` or
/// `week`, from `run_at` or an `every` from now).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewJob {
    pub endpoint_id: String,
    /// The campaign's key.
    pub campaign: String,
    pub kind: String,
    /// RFC 3339.
    #[serde(default)]
    pub run_at: Option<String>,
    #[serde(default)]
    pub every: Option<String>,
}

/// How far a job has got. Counts are of entries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobProgress {
    /// Entries of the run under way to look at (manual and one-time jobs).
    pub to_scan: u64,
    /// Entries looked at so far (all runs).
    pub scanned: u64,
    /// Entries the audience let through and that were queued (all runs).
    pub queued: u64,
    /// Of those: delivered, given up, cancelled (with the job), and still waiting.
    pub sent: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub pending: u64,
}

/// A job as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub endpoint_id: EndpointId,
    pub campaign: CampaignKey,
    /// `manual`, `one_time` or `recurring`.
    pub kind: String,
    /// `hour`, `day` or `week` (recurring only).
    pub every: Option<String>,
    /// `scheduled`, `running` (queuing entries), `sending` (every entry queued, deliveries
    /// under way), `completed` or `cancelled`.
    pub status: String,
    /// When it runs next (scheduled jobs).
    pub next_run_at: Option<String>,
    pub runs: u64,
    pub progress: JobProgress,
    pub created_at: String,
    pub started_at: Option<String>,
    pub last_run_at: Option<String>,
    pub finished_at: Option<String>,
}
