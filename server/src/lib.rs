//! Hookline's server: the public ingest API the widget calls, durable webhook delivery, the
//! widget bundle and the demo page. `main.rs` only reads the settings and runs
//! [`Application`]; tests build an `Application` the same way.

pub mod address;
pub mod answers;
pub mod api;
pub mod audience;
pub mod campaigns;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod demo;
pub mod destination;
pub mod endpoints;
pub mod fraud;
pub mod inbound;
pub mod ingest;
pub mod jobs;
pub mod limits;
pub mod logs;
pub mod metrics;
pub mod outbound;
pub mod rules;
pub mod secrets;
pub mod social;
pub mod startup;
pub mod store;
pub mod templating;

pub use config::Config;
pub use startup::Application;
