//! The API's one error type: a stable snake_case `code`, a human `detail`, an HTTP status.
//!
//! 4xx errors pass their detail through; a 5xx body is generic and its cause is logged here,
//! once. Must not be used outside `api`.

use axum::Json;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use protocol::entry::ApiError as ApiErrorBody;
use protocol::validate::MAX_NAME_LEN;

use crate::campaigns::Invalid;
use crate::endpoints::InvalidSettings;
use crate::inbound::{ErrorClass, InboundError};
use crate::ingest::IngestError;
use crate::limits::Scope;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("campaign not found")]
    CampaignNotFound,
    #[error("the body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("the body is too large")]
    PayloadTooLarge(usize),
    #[error("the body could not be read")]
    UnreadableBody,
    /// An admin request's JSON body does not have the shape its route takes.
    #[error("the body is not what this route takes: {0}")]
    InvalidBody(String),
    /// A query parameter could not be read.
    #[error("bad query: {0}")]
    InvalidQuery(String),
    /// No API key, or not one that is valid.
    #[error("no valid API key")]
    Unauthorized,
    /// Nothing of this kind with this id in the caller's workspace (or at all).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A field of an admin request is not acceptable.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// An upload that could not be taken.
    #[error(transparent)]
    Upload(#[from] crate::api::uploads::UploadError),
    /// An inbound conversion that could not be taken.
    #[error(transparent)]
    Inbound(InboundError),
    /// A signed stream's request whose signature is missing or wrong.
    #[error("{0}")]
    InvalidSignature(String),
    /// The request is fine but clashes with what exists: `(code, detail)`.
    #[error("{1}")]
    Conflict(&'static str, String),
    /// An endpoint's or connector's settings were refused: every problem, by field.
    #[error(transparent)]
    InvalidSettings(#[from] InvalidSettings),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, String, Option<String>) {
        use IngestError as I;
        match self {
            Self::CampaignNotFound | Self::Ingest(I::CampaignNotFound) => (
                StatusCode::NOT_FOUND,
                "campaign_not_found",
                "There is no campaign with this key.".to_owned(),
                None,
            ),
            Self::InvalidJson(problem) => (
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("The body is not a valid entry: {problem}."),
                None,
            ),
            Self::InvalidBody(problem) => (
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("The body is not what this route takes: {problem}."),
                None,
            ),
            Self::InvalidQuery(problem) => (
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("The query string could not be read: {problem}."),
                None,
            ),
            Self::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Send a valid API key as `Authorization: Bearer hlk_…`.".to_owned(),
                None,
            ),
            Self::NotFound(what) => (
                StatusCode::NOT_FOUND,
                "not_found",
                format!("There is no such {what}."),
                None,
            ),
            Self::Invalid(problem) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                problem.detail.clone(),
                Some(problem.field.clone()),
            ),
            Self::Conflict(code, detail) => (StatusCode::CONFLICT, *code, detail.clone(), None),
            Self::Inbound(problem) => (
                match problem.class() {
                    ErrorClass::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorClass::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    ErrorClass::Malformed => StatusCode::BAD_REQUEST,
                    ErrorClass::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
                },
                problem.code(),
                problem.to_string(),
                problem.field(),
            ),
            Self::Upload(problem) => {
                use crate::api::uploads::UploadError as U;
                let (status, code, field) = match problem {
                    U::NoFile => (StatusCode::BAD_REQUEST, "invalid_upload", "file"),
                    U::UnsupportedType => (
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "unsupported_upload_type",
                        "file",
                    ),
                    U::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "file"),
                    U::UnknownMethod(_) => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "unknown_entry_method",
                        "entry_method_id",
                    ),
                };
                (status, code, problem.to_string(), Some(field.to_owned()))
            }
            Self::InvalidSignature(detail) => (
                StatusCode::UNAUTHORIZED,
                "invalid_signature",
                detail.clone(),
                None,
            ),
            Self::InvalidSettings(InvalidSettings(problems)) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_settings",
                self.to_string(),
                problems.first().map(|problem| problem.field.clone()),
            ),
            Self::PayloadTooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("The body is larger than {limit} bytes."),
                None,
            ),
            Self::UnreadableBody => (
                StatusCode::BAD_REQUEST,
                "unreadable_body",
                "The request body could not be read.".to_owned(),
                None,
            ),
            Self::Ingest(I::CampaignNotRunning) => (
                StatusCode::CONFLICT,
                "campaign_not_running",
                "This campaign is not taking entries at the moment.".to_owned(),
                None,
            ),
            Self::Ingest(I::CampaignNotStarted) => (
                StatusCode::CONFLICT,
                "campaign_not_running",
                "This campaign has not started yet.".to_owned(),
                None,
            ),
            Self::Ingest(I::CampaignEnded) => (
                StatusCode::CONFLICT,
                "campaign_not_running",
                "This campaign has ended.".to_owned(),
                None,
            ),
            Self::Ingest(I::RateLimited(limited)) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "Too many entries {}. Please try again in {} seconds.",
                    match limited.scope {
                        Scope::Ip => "from this address",
                        Scope::Campaign => "into this campaign right now",
                        Scope::Email => "with this email",
                    },
                    retry_after_seconds(limited.retry_after)
                ),
                None,
            ),
            Self::Ingest(I::OriginNotAllowed(origin)) => (
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                format!("This campaign does not take entries from pages at {origin}."),
                None,
            ),
            Self::Ingest(I::UnknownEntryMethod(id)) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_entry_method",
                format!("This campaign has no entry method {id}."),
                Some("entry_method_id".to_owned()),
            ),
            Self::Ingest(I::InvalidEmail(problem)) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_email",
                problem.to_string(),
                Some("email".to_owned()),
            ),
            Self::Ingest(I::InvalidName) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_name",
                format!(
                    "Please keep your name under {MAX_NAME_LEN} characters, without control characters."
                ),
                Some("name".to_owned()),
            ),
            Self::Ingest(I::ConsentRequired) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "consent_required",
                "Please tick the box to agree before entering.".to_owned(),
                Some("consent".to_owned()),
            ),
            Self::Ingest(I::InvalidIdempotencyKey(problem)) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_idempotency_key",
                format!("The idempotency key {problem}."),
                Some("idempotency_key".to_owned()),
            ),
            Self::Ingest(I::Refused(rule)) => (
                if rule.is_conflict() {
                    StatusCode::CONFLICT
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                },
                rule.code(),
                rule.to_string(),
                rule.field().map(str::to_owned),
            ),
            Self::Ingest(I::ContestantNotFound) => (
                StatusCode::NOT_FOUND,
                "contestant_not_found",
                "There is no contestant with this token in this campaign.".to_owned(),
                None,
            ),
            Self::Ingest(I::Store(_)) | Self::Store(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Something went wrong on our side. Please try again.".to_owned(),
                None,
            ),
        }
    }
}

impl ApiError {
    /// The stable snake_case code of the body (`invalid_email`, `internal_error`…).
    pub fn code(&self) -> &'static str {
        self.parts().1
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, detail, field) = self.parts();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let retry_after = match &self {
            Self::Ingest(IngestError::RateLimited(limited)) => {
                Some(retry_after_seconds(limited.retry_after))
            }
            _ => None,
        };
        if let Self::InvalidSettings(InvalidSettings(problems)) = self {
            let body = protocol::admin::webhooks::InvalidSettings {
                code: code.to_owned(),
                detail,
                field,
                errors: problems,
            };
            return (status, Json(body)).into_response();
        }
        let body = ApiErrorBody {
            code: code.to_owned(),
            detail,
            field,
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Whole seconds to wait, rounded up (a client that waits that long will be let in).
fn retry_after_seconds(wait: std::time::Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}
