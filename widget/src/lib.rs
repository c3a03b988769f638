//! Hookline's embeddable widget: a Yew app compiled to WebAssembly, mounted by the loader
//! (`loader/hookline.js`) into each `.hookline-campaign` element, inside a shadow root.
//!
//! `mount`, `unmount`, `open`, `close`, `online` and `exit_intent` are the whole JavaScript
//! surface, called by the loader; the widget reports to the host page only through DOM events
//! and `data-hookline-state` (see `host.rs`). Pure logic lives in `form.rs`, `rules.rs`,
//! `session.rs`, `outbox.rs`, `display.rs`, `state.rs`, `toasts.rs`, `i18n.rs` and
//! `codec.rs`, tested natively. Must not depend on the server or throw into the host page.

mod answers;
mod api;
mod app;
mod bindings;
pub mod codec;
mod components;
pub mod display;
mod feed;
pub mod form;
mod host;
pub mod i18n;
pub mod outbox;
pub mod rules;
pub mod session;
pub mod state;
mod storage;
mod style;
pub mod toasts;
mod wire;

use std::cell::RefCell;

use wasm_bindgen::prelude::*;
use web_sys::{Element, ShadowRoot, ShadowRootInit, ShadowRootMode};
use yew::AppHandle;

use crate::app::{App, AppProps};
use crate::host::{Command, Commands, Host, HostState};

/// A mounted widget: its host element, the Yew app rendering into its shadow root, and where
/// the host page's commands reach it.
struct Mounted {
    element: Element,
    app: AppHandle<App>,
    commands: Commands,
}

/// Talc instead of the standard library's dlmalloc: the same kind of allocator (boundary tags,
/// binned free lists, memory from `memory.grow`) in fewer bytes. Single-threaded wasm only.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

thread_local! {
    static MOUNTED: RefCell<Vec<Mounted>> = const { RefCell::new(Vec::new()) };
}

/// Mounts a widget in `element` (a `.hookline-campaign[data-campaign]`), talking to the
/// Hookline server at `api_base`. Mounting an element that already has a widget does nothing.
#[wasm_bindgen]
pub fn mount(element: Element, api_base: String) -> Result<(), JsValue> {
    install_panic_hook();
    if MOUNTED.with_borrow(|mounted| mounted.iter().any(|m| m.element == element)) {
        return Ok(());
    }
    let root = shadow_root(&element)?;
    let document = element
        .owner_document()
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let style = document.create_element("style")?;
    style.set_text_content(Some(style::STYLE));
    root.append_child(&style)?;
    let container = document.create_element("div")?;
    container.set_class_name("hl-root");
    root.append_child(&container)?;

    let host = Host::new(element.clone());
    host.set_state(HostState::Loading);
    let commands = Commands::default();
    let props = AppProps {
        host,
        api_base: api_base.into(),
        commands: commands.clone(),
    };
    let app = yew::Renderer::<App>::with_root_and_props(container, props).render();
    MOUNTED.with_borrow_mut(|mounted| {
        mounted.push(Mounted {
            element,
            app,
            commands,
        });
    });
    Ok(())
}

/// Sends `command` to the widget in `element` (every widget when `None`). Commands reach a
/// widget once it has shown its campaign; sent earlier, they wait.
fn send(element: Option<&Element>, command: Command) {
    let targets: Vec<Commands> = MOUNTED.with_borrow(|mounted| {
        mounted
            .iter()
            .filter(|m| element.is_none_or(|element| m.element == *element))
            .map(|m| m.commands.clone())
            .collect()
    });
    for commands in targets {
        commands.send(command);
    }
}

/// Opens the modal or bar widget in `element` (`hookline:open`). Inline widgets are always
/// open: nothing happens.
#[wasm_bindgen]
pub fn open(element: Element) {
    send(Some(&element), Command::Open);
}

/// Closes the modal or bar widget in `element` (`hookline:close`).
#[wasm_bindgen]
pub fn close(element: Element) {
    send(Some(&element), Command::Close);
}

/// The browser is back online: every widget sends what waits in the outbox.
#[wasm_bindgen]
pub fn online() {
    send(None, Command::Online);
}

/// The pointer left the page through the top: exit-intent widgets open.
#[wasm_bindgen]
pub fn exit_intent() {
    send(None, Command::ExitIntent);
}

/// Removes the widget from `element`, if it has one, empties its shadow root and removes
/// `data-hookline-state`.
#[wasm_bindgen]
pub fn unmount(element: Element) {
    let removed = MOUNTED.with_borrow_mut(|mounted| {
        let index = mounted.iter().position(|m| m.element == element)?;
        Some(mounted.swap_remove(index))
    });
    if let Some(removed) = removed {
        // Destroyed first, so that retiring (`Command::Unmount`) renders nothing.
        removed.app.destroy();
        removed.commands.send(Command::Unmount);
        removed.commands.unregister();
    }
    if let Some(root) = element.shadow_root() {
        root.set_inner_html("");
    }
    // Removing an attribute cannot fail for a valid name.
    let _ = element.remove_attribute("data-hookline-state");
}

/// The element's open shadow root, emptied, or a new one.
fn shadow_root(element: &Element) -> Result<ShadowRoot, JsValue> {
    match element.shadow_root() {
        Some(root) => {
            root.set_inner_html("");
            Ok(root)
        }
        None => element.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open)),
    }
}

/// Replaces Yew's default panic hook: a panic is logged and becomes a `hookline:error` event
/// (code `internal`) on every mounted widget's element.
#[cfg(not(panic = "immediate-abort"))]
fn install_panic_hook() {
    use std::sync::Once;

    use protocol::events::{self, ErrorDetail};

    use crate::bindings::console_error;

    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        yew::set_custom_panic_hook(Box::new(|info| {
            console_error(
                "Hookline widget crashed:",
                &info.to_string(),
                &JsValue::UNDEFINED,
            );
            let hosts: Vec<Element> = MOUNTED
                .try_with(|mounted| {
                    mounted
                        .try_borrow()
                        .map(|mounted| mounted.iter().map(|m| m.element.clone()).collect())
                        .unwrap_or_default()
                })
                .unwrap_or_default();
            for element in hosts {
                let host = Host::new(element);
                host.set_state(HostState::Error);
                let detail = ErrorDetail {
                    campaign: host
                        .campaign_key()
                        .as_deref()
                        .and_then(protocol::ids::CampaignKey::parse),
                    code: events::error_codes::INTERNAL.to_owned(),
                    detail: "Sorry, something went wrong.".to_owned(),
                    field: None,
                };
                host.dispatch(events::ERROR, &detail);
            }
        }));
    });
}

/// With `-Cpanic=immediate-abort` (the build-std route) a panic is a bare trap that runs no
/// hook, so there is nothing to install: the loader turns the trap into the same
/// `hookline:error` event (code `internal`) on each widget.
#[cfg(panic = "immediate-abort")]
fn install_panic_hook() {}
