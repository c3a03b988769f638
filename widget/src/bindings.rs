//! Everything the widget asks of the browser that is not Yew's business: the page's URL and
//! referrer, random bytes, the console. The only file with `#[wasm_bindgen] extern` blocks.
//!
//! These functions never throw into the host page: every fallible browser call falls back to
//! a harmless default.

use wasm_bindgen::prelude::*;

use crate::form::PageContext;

#[wasm_bindgen]
extern "C" {
    /// `console.error(message)`.
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    pub fn console_error(message: &str);
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
