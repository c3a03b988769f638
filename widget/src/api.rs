//! The widget's two HTTP calls to the public API, with retries.
//!
//! Sends no cookies and triggers no CORS preflight: the entry post uses the safelisted
//! `text/plain` content type. JSON is parsed and written by the browser (`Response.json()`,
//! `JSON.stringify`), which keeps a JSON parser out of the bundle; `answers.rs` reads the parsed
//! answers. Must not touch the DOM; what the answers mean is decided in `form.rs`.

use gloo_net::http::{Request, Response};
use protocol::campaign::PublicCampaign;
use protocol::entry::{ApiError, EntryRequest, EntryResponse};
use serde::Serialize;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::RequestCredentials;
use yew::platform::time::sleep;

use crate::answers;
use crate::form::{
    AnswerBody, PostOutcome, RETRY_DELAYS, campaign_url, entries_url, read_post_answer,
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
    fn entry_response(&self) -> Option<EntryResponse> {
        answers::entry_response(&self.0)
    }

    fn api_error(&self) -> Option<ApiError> {
        answers::api_error(&self.0)
    }
}

/// `value` as JSON text, by the browser's `JSON.stringify`.
fn to_json(value: &impl Serialize) -> Option<String> {
    let value = value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .ok()?;
    js_sys::JSON::stringify(&value).ok()?.as_string()
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

/// Posts one entry, retrying with the same idempotency key while the server cannot be
/// reached or answers 5xx. A final `Retry` means every try failed.
pub async fn post_entry(api_base: &str, key: &str, request: &EntryRequest) -> PostOutcome {
    let url = entries_url(api_base, key);
    // Serialising a struct of strings, numbers and a string-keyed map does not fail.
    let Some(body) = to_json(request) else {
        return PostOutcome::Retry;
    };
    let mut outcome = PostOutcome::Retry;
    for delay in tries() {
        if let Some(delay) = delay {
            sleep(delay).await;
        }
        outcome = post_once(&url, &body).await;
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
