//! The widget's Yew components below `App`, and the plain view functions they draw with.

mod campaign;
mod details;
mod el;
mod error_message;
mod methods;
mod toasts;
mod totals;

pub use campaign::{Ctx, Shown, after_render, on_loaded, view};
pub use el::el;
pub use toasts::toasts;
