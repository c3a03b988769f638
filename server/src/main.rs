//! The `server` binary: reads the settings (environment, and the file `--config PATH` or
//! `HOOKLINE_CONFIG` names), sets up logging, and runs until Ctrl-C or SIGTERM. Everything
//! else is in the library.

use std::path::PathBuf;

use anyhow::Context as _;
use server::{Application, Config};

const USAGE: &str = "usage: server [--config PATH]\n\n\
Settings come from the environment (HOOKLINE_*) and the TOML file PATH (or HOOKLINE_CONFIG);\n\
the environment wins. See README.md, Configuration.";

/// mimalloc rather than the system's allocator: cheaper by a good part of each entry's CPU time
/// (README, Benchmarks).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let Some(config_file) = config_file_argument(std::env::args().skip(1))? else {
        eprintln!("{USAGE}");
        return Ok(());
    };
    let config = Config::load(config_file.as_deref()).context("failed to read the settings")?;
    server::logs::init(config.log_format, &config.log_filter)
        .context("failed to set up logging")?;
    // Built once the settings say how many threads it gets (the database decides the default).
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.runtime_workers())
        .enable_all()
        .build()
        .context("failed to start the async runtime")?
        .block_on(async {
            let application = Application::build(config)
                .await
                .context("failed to start")?;
            tracing::info!(url = %application.base_url(), "Hookline is listening");
            application.run_until_stopped().await
        })
}

/// The settings file named on the command line (`--config PATH` or `--config=PATH`), or
/// `None` when help was asked for.
fn config_file_argument(
    mut args: impl Iterator<Item = String>,
) -> anyhow::Result<Option<Option<PathBuf>>> {
    let mut config_file = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--help" | "-h" => return Ok(None),
            "--config" => {
                let path = args.next().context("--config needs a path")?;
                config_file = Some(PathBuf::from(path));
            }
            other => match other.strip_prefix("--config=") {
                Some(path) => config_file = Some(PathBuf::from(path)),
                None => anyhow::bail!("unknown argument {other:?}\n\n{USAGE}"),
            },
        }
    }
    Ok(Some(config_file))
}
