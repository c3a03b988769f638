//! Files for `upload` entry methods: `POST /api/v1/public/campaigns/{key}/uploads` (a
//! multipart form, CORS-safelisted, so no preflight) stores an image; `GET /uploads/{id}`
//! serves it. The entry then cites the upload's id, and its URL is `entry.upload` of the
//! webhook body.
//!
//! Only images are taken, recognised by their first bytes (the declared type is not
//! trusted), up to the method's `max_bytes` (default [`DEFAULT_MAX_BYTES`]).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::body::Body as ResponseBody;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{ConnectInfo, Multipart, Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ORIGIN};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use protocol::campaign::{EntryMethodType, UploadSettings};
use protocol::entry::UploadAnswer;
use protocol::ids::{CampaignKey, EntryMethodId, UploadId};
use rand::distr::{Alphanumeric, SampleString as _};

use super::{ApiError, AppState};
use crate::campaigns;
use crate::clock;
use crate::ingest::IngestError;
use crate::limits;

/// The largest upload when the method does not say.
pub const DEFAULT_MAX_BYTES: usize = 5 * 1024 * 1024;
/// The largest any method may take (and the route's body limit).
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

/// What the uploads route refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    #[error("Send the picture as a multipart form with a `file` field.")]
    NoFile,
    #[error("Only pictures can be uploaded: JPEG, PNG, GIF or WebP.")]
    UnsupportedType,
    #[error("The picture is larger than {0} bytes.")]
    TooLarge(usize),
    #[error("This campaign has no upload entry method {0}.")]
    UnknownMethod(i64),
}

/// `POST /api/v1/public/campaigns/{key}/uploads`: fields `entry_method_id` (optional) and
/// `file`. 201 [`UploadAnswer`].
pub async fn receive(
    State(state): State<Arc<AppState>>,
    Path(key): Path<String>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let now = clock::now_millis();
    let key = CampaignKey::parse(&key).ok_or(ApiError::CampaignNotFound)?;
    let campaign = state
        .store
        .recent_campaign_by_key(&key, now)
        .await?
        .ok_or(ApiError::CampaignNotFound)?;
    let origin = headers.get(ORIGIN).and_then(|value| value.to_str().ok());
    if !campaigns::origin_allowed(&campaign.allowed_origins, origin) {
        return Err(IngestError::OriginNotAllowed(origin.unwrap_or_default().to_owned()).into());
    }
    let forwarded_for = headers
        .get("x-forwarded-for")
        .and_then(|value| value.to_str().ok());
    let client_ip = peer.map(|Extension(ConnectInfo(address))| {
        limits::client_ip(address.ip(), forwarded_for, &state.trusted_proxies)
    });
    state
        .ingest
        .limits()
        .check_address(client_ip)
        .map_err(IngestError::RateLimited)?;
    let mut form = form.map_err(|_| ApiError::Upload(UploadError::NoFile))?;
    let mut max_bytes = DEFAULT_MAX_BYTES;
    let mut file = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|error| match error.status() {
            StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::Upload(UploadError::TooLarge(MAX_UPLOAD_BYTES))
            }
            _ => ApiError::UnreadableBody,
        })?
    {
        match field.name() {
            Some("entry_method_id") => {
                let text = field.text().await.map_err(|_| ApiError::UnreadableBody)?;
                let id = text.trim().parse::<i64>().unwrap_or(-1);
                let method = campaign
                    .entry_methods
                    .iter()
                    .find(|method| {
                        method.id == EntryMethodId(id)
                            && method.method_type == EntryMethodType::Upload
                    })
                    .ok_or(ApiError::Upload(UploadError::UnknownMethod(id)))?;
                let settings: UploadSettings =
                    serde_json::from_value(method.config.clone()).unwrap_or_default();
                if settings.max_bytes > 0 {
                    max_bytes = usize::try_from(settings.max_bytes)
                        .unwrap_or(MAX_UPLOAD_BYTES)
                        .min(MAX_UPLOAD_BYTES);
                }
            }
            Some("file") => {
                let bytes = field.bytes().await.map_err(|error| match error.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => {
                        ApiError::Upload(UploadError::TooLarge(MAX_UPLOAD_BYTES))
                    }
                    _ => ApiError::UnreadableBody,
                })?;
                file = Some(bytes);
            }
            // Other fields are ignored, as a form may carry them.
            _ => {}
        }
    }
    let file = file.ok_or(ApiError::Upload(UploadError::NoFile))?;
    if file.len() > max_bytes {
        return Err(ApiError::Upload(UploadError::TooLarge(max_bytes)));
    }
    let content_type = image_type(&file).ok_or(ApiError::Upload(UploadError::UnsupportedType))?;
    let id = UploadId::from_suffix(&Alphanumeric.sample_string(&mut rand::rng(), 24));
    state
        .store
        .insert_upload(id.as_str(), campaign.id, content_type, &file, now)
        .await?;
    let url = format!("{}/uploads/{id}", state.base_url);
    Ok((
        StatusCode::CREATED,
        Json(UploadAnswer {
            upload_id: id,
            thumb_url: url.clone(),
            url,
            content_type: content_type.to_owned(),
        }),
    )
        .into_response())
}

/// `GET /uploads/{id}`: the file, as an image that can do nothing but be shown.
pub async fn serve(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let upload = state
        .store
        .upload(&id)
        .await?
        .ok_or(ApiError::NotFound("upload"))?;
    let content_type = HeaderValue::from_str(&upload.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok((
        [
            (CONTENT_TYPE, content_type),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
            (
                CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; sandbox"),
            ),
            (
                axum::http::header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        ResponseBody::from(upload.data),
    )
        .into_response())
}

/// The image type `bytes` start like, if any of those taken.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some("image/png"),
        [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some("image/gif"),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => Some("image/webp"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::image_type;

    #[test]
    fn images_are_known_by_their_first_bytes() {
        assert_eq!(image_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0]), Some("image/jpeg"));
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(image_type(b"GIF89a...."), Some("image/gif"));
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_type(b"<svg onload=alert(1)>"), None);
        assert_eq!(image_type(b"%PDF-1.7"), None);
        assert_eq!(image_type(b""), None);
    }
}
