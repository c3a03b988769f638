//! The host element: the site owner's `.hookline-campaign` element the widget is mounted in.
//! The widget talks to the host page only through it: its `data-hookline-state` attribute
//! and the `hookline:*` events dispatched on it.
//!
//! Must not throw into the host page: a failed dispatch is logged, never raised.

use serde::Serialize;
use wasm_bindgen::JsValue;
use web_sys::{CustomEvent, CustomEventInit, Element};

use crate::bindings::console_error;

/// `data-hookline-state` on the host element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostState {
    Loading,
    Ready,
    Error,
    Done,
}

impl HostState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Loading => "loading",
            Self::Ready => "ready",
            Self::Error => "error",
            Self::Done => "done",
        }
    }
}

/// The element a widget is mounted in.
#[derive(Debug, Clone, PartialEq)]
pub struct Host(Element);

impl Host {
    pub fn new(element: Element) -> Self {
        Self(element)
    }

    /// The campaign key the site owner wrote in `data-campaign`.
    pub fn campaign_key(&self) -> Option<String> {
        self.0.get_attribute("data-campaign")
    }

    pub fn set_state(&self, state: HostState) {
        // Setting a `data-` attribute only fails for invalid names, and this one is valid.
        let _ = self.0.set_attribute("data-hookline-state", state.as_str());
    }

    /// Dispatches `hookline:<name>` with `detail` as a plain JS object. The event bubbles and
    /// is composed, so it reaches `document` and `window` once, from inside any shadow root.
    pub fn dispatch(&self, name: &str, detail: &impl Serialize) {
        // Generic only as far as serialising: one copy of the rest serves every event.
        let detail = detail
            .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .map_err(JsValue::from);
        self.dispatch_js(name, detail);
    }

    fn dispatch_js(&self, name: &str, detail: Result<JsValue, JsValue>) {
        if let Err(error) = detail.and_then(|detail| self.try_dispatch(name, &detail)) {
            console_error(&format!(
                "Hookline: could not dispatch {name}: {}",
                error.as_string().unwrap_or_default()
            ));
        }
    }

    fn try_dispatch(&self, name: &str, detail: &JsValue) -> Result<(), JsValue> {
        let init = CustomEventInit::new();
        init.set_bubbles(true);
        init.set_composed(true);
        init.set_detail(detail);
        let event =
            CustomEvent::new_with_event_init_dict(&protocol::events::dom_event_name(name), &init)?;
        // Listeners' exceptions are reported by the browser, not returned here.
        self.0.dispatch_event(&event)?;
        Ok(())
    }
}
