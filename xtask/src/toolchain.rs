//! Finding and installing the tools the project needs, on a fresh Debian machine or a
//! developer's own.
//!
//! Two routes build WebAssembly: rustup's `wasm32-unknown-unknown` target where it is
//! installed, else Debian's `rustc-web` toolchain with `-Zbuild-std` (rustup here cannot
//! download the wasm32 standard library; Debian ships its source in `rust-web-src`).

use std::path::PathBuf;
use std::process::Command;

use crate::{root, run_command};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The npm package that ships a current `wasm-opt` (Debian's binaryen is too old).
const BINARYEN: &str = "binaryen@132.0.0";
const DEBIAN_WASM_PACKAGES: [&str; 5] = [
    "rustc-web",
    "cargo-web",
    "rust-web-src",
    "lld-22",
    "rust-web-clippy",
];
const BROWSER_PACKAGES: [&str; 2] = ["chromium", "chromium-driver"];

/// What a task needs installed.
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    pub widget: bool,
    pub browser: bool,
}

impl Needs {
    pub const WIDGET: Self = Self {
        widget: true,
        browser: false,
    };
    pub const ALL: Self = Self {
        widget: true,
        browser: true,
    };
}

/// How this machine builds wasm32.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Rustup,
    Debian,
}

pub fn route() -> Route {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    match installed {
        Ok(out)
            if String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l.trim() == "wasm32-unknown-unknown") =>
        {
            Route::Rustup
        }
        _ => Route::Debian,
    }
}

/// Installs what `needs` asks for and is missing. Quick when nothing is.
pub fn setup(needs: Needs) -> Result<(), String> {
    let mut packages: Vec<&str> = Vec::new();
    if needs.widget && route() == Route::Debian {
        packages.extend(DEBIAN_WASM_PACKAGES);
    }
    if needs.browser {
        packages.extend(BROWSER_PACKAGES);
    }
    if needs.widget && which("npm").is_none() {
        packages.push("npm");
    }
    apt_install(&packages)?;
    if needs.widget {
        install_wasm_bindgen()?;
        install_wasm_opt()?;
    }
    Ok(())
}

pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(program))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .find(|candidate| candidate.is_file())
}

/// Installs the Debian packages among `packages` that are missing (as root, or through sudo).
pub fn apt_install(packages: &[&str]) -> Result<(), String> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|package| {
            let status = Command::new("dpkg-query").args(["-W", "-f=${Status}", package]).output();
            !matches!(status, Ok(out) if String::from_utf8_lossy(&out.stdout).contains("install ok installed"))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    println!("xtask: installing Debian packages: {}", missing.join(" "));
    let as_root = |program: &str| {
        let mut command = if is_root() {
            Command::new(program)
        } else {
            let mut sudo = Command::new("sudo");
            sudo.arg(program);
            sudo
        };
        command.env("DEBIAN_FRONTEND", "noninteractive");
        command
    };
    run_command(as_root("apt-get").args(["update", "-qq"]))?;
    run_command(
        as_root("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing),
    )
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// Where per-user tool installs live (outside the clone, so a clean clone reuses them).
fn cache_dir() -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    home.join(".cache").join("hookline")
}

/// The `wasm-bindgen` crate's version in `Cargo.lock`; the CLI must match it exactly.
pub fn locked_wasm_bindgen_version() -> Result<String, String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\""
            && let Some(version) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
        {
            return Ok(version.trim_end_matches('"').to_owned());
        }
    }
    Err("Cargo.lock has no wasm-bindgen package".into())
}

pub fn wasm_bindgen() -> Result<PathBuf, String> {
    let version = locked_wasm_bindgen_version()?;
    Ok(cache_dir()
        .join(format!("wasm-bindgen-{version}"))
        .join("bin")
        .join("wasm-bindgen"))
}

fn install_wasm_bindgen() -> Result<(), String> {
    let version = locked_wasm_bindgen_version()?;
    let wanted = wasm_bindgen()?;
    if wanted.is_file() {
        return Ok(());
    }
    // Reuse one already installed by cargo if it is the right version: a build takes minutes.
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    if let Some(existing) = cargo_home.map(|home| home.join("bin").join("wasm-bindgen")) {
        let reported = Command::new(&existing).arg("--version").output();
        if matches!(reported, Ok(out) if String::from_utf8_lossy(&out.stdout).trim() == format!("wasm-bindgen {version}"))
        {
            let bin = wanted.parent().expect("path has a parent");
            std::fs::create_dir_all(bin)
                .map_err(|e| format!("cannot create {}: {e}", bin.display()))?;
            std::fs::copy(&existing, &wanted)
                .map_err(|e| format!("cannot copy wasm-bindgen: {e}"))?;
            return Ok(());
        }
    }
    println!("xtask: installing wasm-bindgen-cli {version} (takes several minutes, once)");
    let install_root = cache_dir().join(format!("wasm-bindgen-{version}"));
    // Not --locked: the registry here lacks one of the CLI's locked dependencies.
    run_command(
        Command::new("cargo")
            .args([
                "install",
                "wasm-bindgen-cli",
                "--version",
                &version,
                "--root",
            ])
            .arg(&install_root),
    )
}

pub fn wasm_opt() -> PathBuf {
    cache_dir()
        .join("npm")
        .join("node_modules")
        .join(".bin")
        .join("wasm-opt")
}

fn install_wasm_opt() -> Result<(), String> {
    if wasm_opt().is_file() {
        return Ok(());
    }
    println!("xtask: installing wasm-opt ({BINARYEN} from npm)");
    run_command(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(cache_dir().join("npm"))
            .arg(BINARYEN),
    )
}

/// A `cargo` command that builds for wasm32 by this machine's route, in its own target
/// directory (`target/wasm`) so it never invalidates the native build.
pub fn wasm_cargo(args: &[&str]) -> Command {
    let mut command = match route() {
        Route::Rustup => Command::new("cargo"),
        Route::Debian => {
            let mut command = Command::new("/usr/bin/cargo");
            let path = std::env::var("PATH").unwrap_or_default();
            command
                .env("PATH", format!("/usr/bin:{path}"))
                .env("RUSTC", "/usr/bin/rustc")
                .env("RUSTC_BOOTSTRAP", "1")
                .env(
                    "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER",
                    "/usr/lib/llvm-22/bin/wasm-ld",
                )
                .env_remove("RUSTUP_TOOLCHAIN")
                .env_remove("RUSTC_WRAPPER")
                .env_remove("CARGO");
            command
        }
    };
    command
        .current_dir(root())
        .args(args)
        .args(["--target", "wasm32-unknown-unknown"]);
    // Size over diagnostics: no file/line strings in panics and no Debug formatting
    // machinery. These are unstable flags, hence RUSTC_BOOTSTRAP on either route.
    let mut rustflags = vec!["-Zlocation-detail=none", "-Zfmt-debug=none"];
    if route() == Route::Debian {
        // Rebuilding std lets it be built for size too, and lets a panic be a bare trap
        // (no unwinding or message machinery at all: about 5 KB gzipped). The loader turns
        // such a trap into a `hookline:error` event on each widget.
        command.args([
            "-Zbuild-std=std,panic_abort",
            "-Zbuild-std-features=optimize_for_size",
        ]);
        rustflags.extend(["-Zunstable-options", "-Cpanic=immediate-abort"]);
    }
    command
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_ENCODED_RUSTFLAGS", rustflags.join("\u{1f}"));
    command.env("CARGO_TARGET_DIR", root().join("target").join("wasm"));
    command
}
