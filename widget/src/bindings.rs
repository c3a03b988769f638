//! Everything the widget asks of the browser that is not Yew's business: the page's URL and
//! referrer, random bytes, the clock, `localStorage` and `sessionStorage`, dates in the reader's
//! language, the console. The only file with `#[wasm_bindgen] extern` blocks.
//!
//! These functions never throw into the host page: every fallible browser call falls back to
//! a harmless default.

use wasm_bindgen::prelude::*;
use web_sys::Storage;

use crate::form::PageContext;
use crate::i18n::Lang;

#[wasm_bindgen]
extern "C" {
    /// `console.error(message, what, detail)`.
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    pub fn console_error(message: &str, what: &str, detail: &JsValue);

}

/// The host page's address and referrer, recorded with each entry.
pub fn page_context() -> PageContext {
    let Some(window) = web_sys::window() else {
        return PageContext::default();
    };
    let landing_url = window.location().href().unwrap_or_default();
    let referring_url = window
        .document()
        .map(|document| document.referrer())
        .unwrap_or_default();
    PageContext {
        landing_url,
        referring_url,
    }
}

/// 16 random bytes from `crypto.getRandomValues`, or from `Math.random` where there is no
/// `crypto` (idempotency keys need to be unique, not secret).
pub fn random_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    let from_crypto = web_sys::window()
        .and_then(|window| window.crypto().ok())
        .is_some_and(|crypto| crypto.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !from_crypto {
        for byte in &mut bytes {
            // Truncation is the point: a uniformly random value in 0..256.
            *byte = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes
}

/// The time, unix milliseconds.
pub fn now_ms() -> i64 {
    // Whole milliseconds since 1970 fit an i64 for the next 290 million years.
    js_sys::Date::now() as i64
}

/// `navigator.onLine`: `false` only when the browser knows it is offline.
pub fn is_online() -> bool {
    web_sys::window().is_none_or(|window| window.navigator().on_line())
}

/// `localStorage`, where the page may use it (not in some sandboxed frames or private modes).
pub fn local_storage() -> Option<Storage> {
    web_storage(false)
}

/// `sessionStorage` (the tab's session), where the page may use it.
pub fn session_storage() -> Option<Storage> {
    web_storage(true)
}

#[inline(never)]
fn web_storage(session: bool) -> Option<Storage> {
    let window = web_sys::window()?;
    if session {
        window.session_storage()
    } else {
        window.local_storage()
    }
    .ok()
    .flatten()
}

/// A date as people of `lang` write it, e.g. "22 November 2026".
pub fn format_date(unix_ms: i64, lang: Lang) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(unix_ms as f64));
    let options = js_sys::Object::new();
    for (name, value) in [("day", "numeric"), ("month", "long"), ("year", "numeric")] {
        // Setting a property of a plain new object does not fail.
        let _ = js_sys::Reflect::set(&options, &name.into(), &value.into());
    }
    date.to_locale_date_string(lang.tag(), &options).into()
}
