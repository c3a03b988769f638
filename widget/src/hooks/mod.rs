//! The widget's hooks, one per file.

mod use_campaign;

pub use use_campaign::{CampaignState, use_campaign};
