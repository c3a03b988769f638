//! The API's one error type: a stable snake_case `code`, a human `detail`, an HTTP status.
//!
//! 4xx errors pass their detail through; a 5xx body is generic and its cause is logged here,
//! once. Must not be used outside `api`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use protocol::entry::ApiError as ApiErrorBody;
use protocol::validate::MAX_NAME_LEN;

use crate::ingest::IngestError;
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
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, String, Option<&'static str>) {
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
            Self::Ingest(I::UnknownEntryMethod(id)) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_entry_method",
                format!("This campaign has no entry method {id}."),
                Some("entry_method_id"),
            ),
            Self::Ingest(I::InvalidEmail(problem)) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_email",
                problem.to_string(),
                Some("email"),
            ),
            Self::Ingest(I::InvalidName) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_name",
                format!(
                    "Please keep your name under {MAX_NAME_LEN} characters, without control characters."
                ),
                Some("name"),
            ),
            Self::Ingest(I::ConsentRequired) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "consent_required",
                "Please tick the box to agree before entering.".to_owned(),
                Some("consent"),
            ),
            Self::Ingest(I::InvalidIdempotencyKey(problem)) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_idempotency_key",
                format!("The idempotency key {problem}."),
                Some("idempotency_key"),
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
        let body = ApiErrorBody {
            code: code.to_owned(),
            detail,
            field: field.map(str::to_owned),
        };
        (status, Json(body)).into_response()
    }
}
