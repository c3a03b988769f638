//! `cargo xtask <task>`: everything needed to go from a fresh clone to a running Hookline.
//!
//! Each task installs what it needs and is missing (Debian packages, `wasm-bindgen-cli` at the
//! exact version in `Cargo.lock`, `wasm-opt` from npm), so the README's two commands work on a
//! fresh machine with no separate install step, and are quick when nothing changed.
//!
//! This crate is build tooling only: nothing at run time depends on it.

#![allow(clippy::print_stdout)]

mod bundle;
mod toolchain;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "\
usage: cargo xtask <task>

  run       build the widget and run the server (SQLite, demo page) on http://127.0.0.1:8080
  test      build the widget and run every test (unit, integration, end-to-end in Chromium)
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
    toolchain::setup(toolchain::Needs::ALL)?;
    let dist = bundle::build()?;
    let mut command = cargo();
    command
        .args(["test", "--workspace", "--all-features"])
        .args(extra);
    server_environment(&mut command, &dist);
    command.env("HOOKLINE_CHROMEDRIVER", toolchain::CHROMEDRIVER);
    command.env("HOOKLINE_CHROMIUM", toolchain::CHROMIUM);
    run_command(&mut command)
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
