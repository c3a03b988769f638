//! The widget's HTTP calls to the public API, with retries.
//!
//! Sends no cookies and triggers no CORS preflight: the entry post uses the safelisted
//! `text/plain` content type, the upload `multipart/form-data`. JSON is parsed and written by
//! the browser (`Response.json()`, `JSON.stringify`), which keeps a JSON parser out of the
//! bundle; `answers.rs` reads the parsed answers. Must not touch the DOM; what the answers
//! mean is decided in `form.rs`.

use gloo_net::http::{Request, Response};
use protocol::campaign::PublicCampaign;
use protocol::entry::{ApiError, ContestantStatus, EntryAnswer, UploadAnswer};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, FormData, RequestCredentials};
use yew::platform::time::sleep;

use crate::answers;
use crate::bindings::is_online;
use crate::form::{
    AnswerBody, PostOutcome, RETRY_DELAYS, campaign_url, contestant_url, entries_url,
    read_post_answer, uploads_url,
};

/// A response body as the browser parsed it (`undefined` if it was not JSON).
struct JsBody(JsValue);

impl JsBody {
    async fn read(response: Response) -> Self {
        let parsed = match web_sys::Response::from(response).json() {
            Ok(promise) => JsFuture::from(promise).await.unwrap_or(JsValue::UNDEFINED),
            Err(_) => JsValue::UNDEFINED,
        };
        Self(parsed)
    }
}

impl AnswerBody for JsBody {
    fn entry_answer(&self) -> Option<EntryAnswer> {
        answers::entry_answer(&self.0)
    }

    fn api_error(&self) -> Option<ApiError> {
        answers::api_error(&self.0)
    }
}

/// The entry post as JSON text: written as a JS object (`wire.rs`), then `JSON.stringify`.
pub fn to_json(post: &crate::form::Post) -> Option<String> {
    js_sys::JSON::stringify(&crate::wire::to_js(post))
        .ok()?
        .as_string()
}

/// The first try at once, then one after each retry delay.
fn tries() -> impl Iterator<Item = Option<std::time::Duration>> {
    std::iter::once(None).chain(RETRY_DELAYS.map(Some))
}

/// Loads the campaign. `None` when it does not exist or could not be loaded after retries.
pub async fn fetch_campaign(api_base: &str, key: &str) -> Option<PublicCampaign> {
    let url = campaign_url(api_base, key);
    for delay in tries() {
        if let Some(delay) = delay {
            sleep(delay).await;
        }
        let Ok(response) = Request::get(&url)
            .credentials(RequestCredentials::Omit)
            .send()
            .await
        else {
            continue;
        };
        match response.status() {
            200 => return answers::public_campaign(&JsBody::read(response).await.0),
            408 | 429 | 500.. => continue,
            _ => return None,
        }
    }
    None
}

/// A returning contestant's status, in one try. `None` when the server does not know the
/// token, has no such route yet, or cannot be reached: the widget then shows what it kept.
pub async fn fetch_status(api_base: &str, key: &str, token: &str) -> Option<ContestantStatus> {
    let response = Request::get(&contestant_url(api_base, key, token))
        .credentials(RequestCredentials::Omit)
        .send()
        .await
        .ok()?;
    if response.status() != 200 {
        return None;
    }
    answers::contestant_status(&JsBody::read(response).await.0)
}

/// Posts one entry body, retrying with the same body (and so the same idempotency key) while
/// the server cannot be reached or answers 5xx. A final `Retry` means every try failed; when
/// the browser knows it is offline, no try is made.
pub async fn post_entry(api_base: &str, key: &str, body: &str) -> PostOutcome {
    let url = entries_url(api_base, key);
    let mut outcome = PostOutcome::Retry;
    for delay in tries() {
        if !is_online() {
            break;
        }
        if let Some(delay) = delay {
            sleep(delay).await;
        }
        outcome = post_once(&url, body).await;
        if outcome != PostOutcome::Retry {
            break;
        }
    }
    outcome
}

async fn post_once(url: &str, body: &str) -> PostOutcome {
    let request = Request::post(url)
        .credentials(RequestCredentials::Omit)
        .header("content-type", "text/plain;charset=UTF-8")
        .body(body);
    let Ok(request) = request else {
        return PostOutcome::Retry;
    };
    let Ok(response) = request.send().await else {
        return PostOutcome::Retry;
    };
    let status = response.status();
    read_post_answer(status, &JsBody::read(response).await)
}

/// Why an upload failed.
#[derive(Debug, Clone, PartialEq)]
pub enum UploadError {
    /// The server refused the file.
    Refused(ApiError),
    /// No usable answer.
    Failed,
}

/// Sends `file` to the uploads route as `multipart/form-data` (field `file`).
pub async fn upload_file(
    api_base: &str,
    key: &str,
    file: &File,
) -> Result<UploadAnswer, UploadError> {
    let form = FormData::new().map_err(|_| UploadError::Failed)?;
    form.append_with_blob_and_filename("file", file, &file.name())
        .map_err(|_| UploadError::Failed)?;
    let response = Request::post(&uploads_url(api_base, key))
        .credentials(RequestCredentials::Omit)
        .body(form)
        .map_err(|_| UploadError::Failed)?
        .send()
        .await
        .map_err(|_| UploadError::Failed)?;
    let status = response.status();
    let body = JsBody::read(response).await;
    match status {
        200 | 201 => answers::upload_answer(&body.0).ok_or(UploadError::Failed),
        400..=499 if status != 404 => body.api_error().map_or(Err(UploadError::Failed), |error| {
            Err(UploadError::Refused(error))
        }),
        _ => Err(UploadError::Failed),
    }
}
