//! The host element: the site owner's `.hookline-campaign` element the widget is mounted in.
//! The widget talks to the host page only through it: its `data-hookline-state` attribute
//! and the `hookline:*` events dispatched on it.
//!
//! Must not throw into the host page: a failed dispatch is logged, never raised.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsValue;
use web_sys::{CustomEvent, CustomEventInit, Element};

use crate::bindings::console_error;
use crate::components::Ctx;
use crate::wire::{self, Write};

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

    /// Another attribute the site owner set: `data-lang`, `data-display`, `data-delay`.
    pub fn attribute(&self, name: &str) -> Option<String> {
        self.0.get_attribute(name)
    }

    pub fn set_state(&self, state: HostState) {
        // Setting a `data-` attribute only fails for invalid names, and this one is valid.
        let _ = self.0.set_attribute("data-hookline-state", state.as_str());
    }

    /// Dispatches `hookline:<name>` with `detail` as a plain JS object (`wire.rs`). The event
    /// bubbles and is composed, so it reaches `document` and `window` once, from inside any
    /// shadow root.
    pub fn dispatch(&self, name: &str, detail: &dyn Write) {
        self.dispatch_js(name, &wire::to_js(detail));
    }

    /// [`Host::dispatch`] of a detail already a JS object.
    pub fn dispatch_js(&self, name: &str, detail: &JsValue) {
        if let Err(error) = self.try_dispatch(name, detail) {
            console_error("Hookline: could not dispatch", name, &error);
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

/// What the host page (through the loader) asks of a mounted widget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `Hookline.push(["open", key])`.
    Open,
    /// `Hookline.push(["close", key])`.
    Close,
    /// The browser is back online: send what waits in the outbox.
    Online,
    /// The pointer left the page through the top.
    ExitIntent,
    /// The widget was removed: its timers, posts' answers and feed stop.
    Unmount,
}

#[derive(Debug, Default)]
struct CommandSlot {
    ctx: Option<Ctx>,
    waiting: Vec<Command>,
}

/// Where commands reach one mounted widget: its context, once it has rendered the campaign;
/// commands sent before wait for it. (The context itself, not a callback: each callback type
/// costs the bundle its own code.)
#[derive(Debug, Clone, Default)]
pub struct Commands(Rc<RefCell<CommandSlot>>);

impl PartialEq for Commands {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Commands {
    pub fn send(&self, command: Command) {
        // The command runs with the slot released: it may send or register in turn.
        let ctx = self.0.borrow().ctx.clone();
        match ctx {
            Some(ctx) => ctx.command(command),
            None => self.0.borrow_mut().waiting.push(command),
        }
    }

    /// Sets the widget's context (replacing any earlier one) and runs what waited.
    pub fn register(&self, ctx: &Ctx) {
        let waiting = {
            let mut slot = self.0.borrow_mut();
            slot.ctx = Some(ctx.clone());
            std::mem::take(&mut slot.waiting)
        };
        for command in waiting {
            ctx.command(command);
        }
    }

    /// Drops the context: the widget is going away.
    pub fn unregister(&self) {
        self.0.borrow_mut().ctx = None;
    }
}
