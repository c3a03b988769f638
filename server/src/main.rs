//! The `server` binary: reads the settings from the environment and runs until Ctrl-C or
//! SIGTERM. Everything else is in the library.

use anyhow::Context as _;
use server::{Application, Config};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let config = Config::from_env().context("failed to read the settings")?;
    let application = Application::build(config)
        .await
        .context("failed to start")?;
    tracing::info!(url = %application.base_url(), "Hookline is listening");
    application.run_until_stopped().await
}
