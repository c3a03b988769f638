//! The widget's HTTP calls to the public API, with retries.
//!
//! Sends no cookies and triggers no CORS preflight: the entry post's body is a string, which
//! `fetch` sends as `text/plain;charset=UTF-8`, a CORS-safelisted type. JSON is parsed and
//! written by the browser (`Response.json()`, `JSON.stringify`), which keeps a JSON parser out
//! of the bundle; `answers.rs` reads the parsed answers. One `fetch` function serves every
//! call (a client library's request builder would cost the bundle more). Must not touch the
//! DOM; what the answers mean is decided in `form.rs`.

use protocol::campaign::PublicCampaign;
use protocol::entry::{ApiError, ContestantStatus, EntryAnswer};
use protocol::ids::{EntryMethodId, UploadId};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, FormData, RequestCredentials, RequestInit, Response};
use yew::platform::time::sleep;

use crate::answers;
use crate::bindings::is_online;
use crate::form::{
    AnswerBody, PostOutcome, RETRY_DELAYS, campaign_url, contestant_url, entries_url,
    read_post_answer, refusal, uploads_url,
};

/// A response body as the browser parsed it (`undefined` if it was not JSON).
struct JsBody(JsValue);

impl AnswerBody for JsBody {
    fn entry_answer(&self) -> Option<EntryAnswer> {
        answers::entry_answer(&self.0)
    }

    fn api_error(&self) -> Option<ApiError> {
        answers::api_error(&self.0)
    }
}

/// One request without cookies: `GET`, or `POST` of `body` (a string, sent as `text/plain`,
/// or a `FormData`, sent as `multipart/form-data`: both CORS-safelisted). The status and the
/// parsed JSON body (`undefined` if not JSON); `None` if no answer came (offline, refused,
/// CORS).
#[inline(never)]
async fn fetch(url: &str, body: Option<&JsValue>) -> Option<(u16, JsBody)> {
    let init = RequestInit::new();
    init.set_credentials(RequestCredentials::Omit);
    if let Some(body) = body {
        init.set_method("POST");
        init.set_body(body);
    }
    let promise = web_sys::window()?.fetch_with_str_and_init(url, &init);
    let response: Response = JsFuture::from(promise).await.ok()?.dyn_into().ok()?;
    let parsed = match response.json() {
        Ok(promise) => JsFuture::from(promise).await.unwrap_or(JsValue::UNDEFINED),
        Err(_) => JsValue::UNDEFINED,
    };
    Some((response.status(), JsBody(parsed)))
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

/// [`fetch`], tried again after each retry delay while no answer comes (offline, refused) or
/// the server answers 408, 429 or 5xx; no try while the browser knows it is offline. The last
/// answer, if any. One loop for every call that retries: each `async` loop costs the bundle
/// its own state machine.
#[inline(never)]
async fn fetch_retrying(url: &str, body: Option<&JsValue>) -> Option<(u16, JsBody)> {
    let mut answer = None;
    for delay in tries() {
        if !is_online() {
            break;
        }
        if let Some(delay) = delay {
            sleep(delay).await;
        }
        answer = fetch(url, body).await;
        if !matches!(answer, None | Some((408 | 429 | 500.., _))) {
            break;
        }
    }
    answer
}

/// Loads the campaign. `None` when it does not exist or could not be loaded after retries.
pub async fn fetch_campaign(api_base: &str, key: &str) -> Option<PublicCampaign> {
    match fetch_retrying(&campaign_url(api_base, key), None).await? {
        (200, body) => answers::public_campaign(&body.0),
        _ => None,
    }
}

/// A returning contestant's status, in one try. `None` when the server does not know the
/// token, has no such route yet, or cannot be reached: the widget then shows what it kept.
pub async fn fetch_status(api_base: &str, key: &str, token: &str) -> Option<ContestantStatus> {
    match fetch(&contestant_url(api_base, key, token), None).await? {
        (200, body) => answers::contestant_status(&body.0),
        _ => None,
    }
}

/// Posts one entry body, retrying with the same body (and so the same idempotency key) while
/// the server cannot be reached or answers 408, 429 or 5xx. A final `Retry` means every try
/// failed; when the browser knows it is offline, no try is made.
pub async fn post_entry(api_base: &str, key: &str, body: &str) -> PostOutcome {
    let body = JsValue::from_str(body);
    match fetch_retrying(&entries_url(api_base, key), Some(&body)).await {
        Some((status, answer)) => read_post_answer(status, &answer),
        None => PostOutcome::Retry,
    }
}

/// Sends a picture chosen for a `file` upload method, retrying like the entry post. The
/// upload's id and address; else the server's refusal, or `None` when no answer came (a
/// picture cannot wait in the outbox: it would not survive a reload).
pub async fn post_upload(
    api_base: &str,
    key: &str,
    method: EntryMethodId,
    file: &File,
) -> Result<(UploadId, String), Option<ApiError>> {
    let form = FormData::new().map_err(|_| None)?;
    // The method first: the server reads its size limit before the file.
    form.append_with_str("entry_method_id", &method.0.to_string())
        .and_then(|()| form.append_with_blob("file", file))
        .map_err(|_| None)?;
    match fetch_retrying(&uploads_url(api_base, key), Some(&form)).await {
        Some((200 | 201, body)) => answers::upload_answer(&body.0).ok_or(None),
        Some((status @ 400..=499, body)) => Err(Some(refusal(status, &body))),
        _ => Err(None),
    }
}
