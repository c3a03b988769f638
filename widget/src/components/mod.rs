//! The widget's Yew components below `App`, and the plain view functions they draw with.

mod campaign;
mod details;
mod el;
mod error_message;
mod methods;
mod totals;

pub use campaign::CampaignView;
pub use el::el;
