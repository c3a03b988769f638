//! `cargo xtask <task>`: everything needed to go from a fresh clone to a running Hookline.
//!
//! Each task installs what it needs and is missing (Debian packages, `wasm-bindgen-cli` at the
//! exact version in `Cargo.lock`, `wasm-opt` from npm), so the README's two commands work on a
//! fresh machine with no separate install step, and are quick when nothing changed.
//!
//! This crate is build tooling only: nothing at run time depends on it.

#![allow(clippy::print_stdout)]

mod bundle;
mod postgres;
mod toolchain;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

const USAGE: &str = "\
usage: cargo xtask <task>

  run       build the widget and run the server (SQLite, demo page) on http://127.0.0.1:8080
  test      build the widget and run every test (unit, integration, end-to-end in Chromium),
            then the server integration suite again on PostgreSQL (HOOKLINE_TEST_POSTGRES_URL,
            else 127.0.0.1:5432, else a cluster of its own; HOOKLINE_TEST_POSTGRES=own|off)
  test-postgres
            only the server integration suite on PostgreSQL, found or started as above
  widget    build the widget bundle into target/widget-dist (wasm, glue, loader)
  setup     install what is missing (Debian packages, wasm-bindgen-cli, wasm-opt)
  clippy    clippy with -D warnings, native and wasm32
  ci        what CI runs: fmt check, clippy, test
  bench     print the widget bundle's sizes and run the benchmarks
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let rest = args.get(1..).unwrap_or_default();
    let result = match task {
        "run" => run(rest),
        "test" => test(rest),
        "test-postgres" => test_postgres(),
        "widget" => widget().map(|_| ()),
        "setup" => toolchain::setup(toolchain::Needs::ALL),
        "clippy" => clippy(),
        "ci" => ci(),
        "bench" => bench(rest),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown task `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask {task}: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of this crate's folder).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// Runs a command to completion, failing with its name if it fails.
pub fn run_command(command: &mut Command) -> Result<(), String> {
    let shown = format!("{command:?}");
    let status = command
        .status()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root());
    command
}

fn widget() -> Result<PathBuf, String> {
    toolchain::setup(toolchain::Needs::WIDGET)?;
    bundle::build()
}

fn server_environment(command: &mut Command, dist: &Path) {
    command
        .env("HOOKLINE_WIDGET_DIR", dist)
        .env("HOOKLINE_WWW_DIR", root().join("www"));
}

fn run(extra: &[String]) -> Result<(), String> {
    let dist = widget()?;
    let mut command = cargo();
    command
        .args(["run", "--release", "--package", "server", "--"])
        .args(extra);
    server_environment(&mut command, &dist);
    run_command(&mut command)
}

fn test(extra: &[String]) -> Result<(), String> {
    let mut stages = Stages::default();
    let result = test_stages(extra, &mut stages);
    stages.print("test");
    result
}

/// `cargo xtask test`, stage by stage: the whole workspace (server suite on SQLite), then the
/// server suite again on PostgreSQL.
fn test_stages(extra: &[String], stages: &mut Stages) -> Result<(), String> {
    let choice = postgres::choice()?;
    let running = match choice {
        postgres::Choice::Off => None,
        _ => postgres::running(choice)?,
    };
    let cleanup = running
        .as_ref()
        .map(postgres::TestPostgres::drop_leftover_databases_in_background);
    stages.time("setup", || toolchain::setup(toolchain::Needs::ALL))?;
    let dist = stages.time("widget bundle", bundle::build)?;
    stages.time("cargo test --workspace (SQLite)", || {
        let mut command = cargo();
        command
            .args(["test", "--workspace", "--all-features"])
            .args(extra);
        server_environment(&mut command, &dist);
        command.env("HOOKLINE_CHROMEDRIVER", toolchain::CHROMEDRIVER);
        command.env("HOOKLINE_CHROMIUM", toolchain::CHROMIUM);
        // This run is the SQLite one whatever the shell says.
        command.env_remove(postgres::URL_VARIABLE);
        run_command(&mut command)
    })?;
    if choice == postgres::Choice::Off {
        println!(
            "xtask: not running the server suite on PostgreSQL ({}=off)",
            postgres::CHOICE_VARIABLE
        );
        return Ok(());
    }
    server_suite_on_postgres(running, cleanup, &dist, stages)
}

fn test_postgres() -> Result<(), String> {
    let mut stages = Stages::default();
    let result = postgres::choice().and_then(|choice| {
        // Asked for explicitly: `off` would leave nothing to do.
        let choice = match choice {
            postgres::Choice::Off => postgres::Choice::Auto,
            choice => choice,
        };
        let running = postgres::running(choice)?;
        let cleanup = running
            .as_ref()
            .map(postgres::TestPostgres::drop_leftover_databases_in_background);
        let dist = root().join("target").join("widget-dist");
        server_suite_on_postgres(running, cleanup, &dist, &mut stages)
    });
    stages.print("test-postgres");
    result
}

/// The server integration suite on PostgreSQL: on `running` (once `cleanup` is done), else
/// on the project's own cluster.
fn server_suite_on_postgres(
    running: Option<postgres::TestPostgres>,
    cleanup: Option<std::thread::JoinHandle<Result<(), String>>>,
    dist: &Path,
    stages: &mut Stages,
) -> Result<(), String> {
    // The project's own is stopped when dropped: at the end of this function, whether the
    // tests pass or not.
    let postgres = match running {
        Some(running) => running,
        None => stages.time("PostgreSQL start (own cluster)", postgres::start_own)?,
    };
    if let Some(cleanup) = cleanup {
        stages.time("leftover test databases dropped", || {
            cleanup
                .join()
                .map_err(|_| "dropping leftover test databases panicked".to_owned())?
        })?;
    }
    println!("xtask: server suite on PostgreSQL: {}", postgres.origin);
    stages.time("cargo test -p server --test it (PostgreSQL)", || {
        let mut command = cargo();
        command.args(["test", "--package", "server", "--test", "it"]);
        server_environment(&mut command, dist);
        command.env(postgres::URL_VARIABLE, &postgres.url);
        run_command(&mut command)
    })
}

/// How long each stage of a task took, printed as each ends and together at the end.
#[derive(Debug, Default)]
struct Stages(Vec<(&'static str, Duration, bool)>);

impl Stages {
    fn time<T>(
        &mut self,
        name: &'static str,
        stage: impl FnOnce() -> Result<T, String>,
    ) -> Result<T, String> {
        let started = Instant::now();
        let result = stage();
        let took = started.elapsed();
        println!("xtask: {name}: {:.1} s", took.as_secs_f64());
        self.0.push((name, took, result.is_ok()));
        result
    }

    fn print(&self, task: &str) {
        println!("xtask {task}: timings");
        for (name, took, ok) in &self.0 {
            let failed = if *ok { "" } else { "  (failed)" };
            println!("  {:>7.1} s  {name}{failed}", took.as_secs_f64());
        }
        let total: Duration = self.0.iter().map(|(_, took, _)| *took).sum();
        println!("  {:>7.1} s  total", total.as_secs_f64());
    }
}

fn clippy() -> Result<(), String> {
    toolchain::setup(toolchain::Needs::WIDGET)?;
    run_command(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]))?;
    let mut wasm =
        toolchain::wasm_cargo(&["clippy", "--package", "widget", "--package", "protocol"]);
    wasm.args(["--", "-D", "warnings"]);
    run_command(&mut wasm)
}

fn ci() -> Result<(), String> {
    run_command(cargo().args(["fmt", "--all", "--check"]))?;
    clippy()?;
    test(&[])
}

fn bench(extra: &[String]) -> Result<(), String> {
    let dist = widget()?;
    bundle::print_sizes(&dist)?;
    for bench in ["ingest", "delivery"] {
        let mut command = cargo();
        command
            .args(["bench", "--package", "server", "--bench", bench])
            .args(extra);
        server_environment(&mut command, &dist);
        run_command(&mut command)?;
    }
    Ok(())
}
