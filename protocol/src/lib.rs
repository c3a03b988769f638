//! Hookline's wire types: everything that crosses HTTP between the widget, the server,
//! webhook receivers and the tests, and nothing else.
//!
//! Stability: every type here is part of a public contract (the widget's JS events, the
//! public ingest API, the webhook body). Changing a field is a breaking change for somebody's
//! integration; golden fixtures in `fixtures/` make every such change show up as a diff.
//!
//! This crate must not do IO, and must build for `wasm32-unknown-unknown` as well as native.

pub mod admin;
pub mod campaign;
pub mod entry;
pub mod events;
pub mod ids;
pub mod payload;
#[cfg(feature = "signing")]
pub mod signature;
pub mod social;
pub mod validate;
