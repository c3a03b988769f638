//! Test support for Hookline's integration and end-to-end tests: a real webhook receiver
//! that records what arrives, a real headless Chromium, and a stand-in host web site. The end-to-end tests themselves
//! are in `tests/tests/`. This library must not depend on `server` (the server's integration
//! tests use it as a dev-dependency), and must not use sleeps to synchronise.

pub mod browser;
pub mod proxy;
pub mod receiver;
pub mod site;

pub use browser::Browser;
pub use proxy::TestProxy;
pub use receiver::TestReceiver;
pub use site::{HostSite, Page};
