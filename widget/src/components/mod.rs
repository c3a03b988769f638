//! The widget's Yew components below `App`, and the plain view functions they draw with.

mod campaign;
mod details;
mod el;
mod error_message;
mod methods;
mod totals;

pub use campaign::{Ctx, Refs, Shown, after_render, on_loaded, view};
pub use details::DetailsRefs;
pub use el::el;
