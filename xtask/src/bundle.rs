//! Building the widget bundle into `target/widget-dist`: the wasm (through wasm-bindgen and
//! wasm-opt), its JS glue, and the loader; and checking it against its size budget.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{root, run_command, toolchain};

/// The loader must stay tiny: it is on every page before anything else.
const LOADER_BUDGET_GZIP: u64 = 3 * 1024;
/// Loader + glue + wasm, gzipped. CI fails above this: the product's hard limit is 100 KB.
/// Every entry method, campaign type, the outbox and two languages came to about 95 KB
/// (from 84.7 KB for the email-only widget); the rest is headroom, so growth is a decision.
const TOTAL_BUDGET_GZIP: u64 = 100 * 1000;

const LOADER: &str = "hookline.js";
const GLUE: &str = "hookline_widget.js";
const WASM: &str = "hookline_widget_bg.wasm";

pub fn dist_dir() -> PathBuf {
    root().join("target").join("widget-dist")
}

/// Builds the bundle if anything changed, checks the budget, and returns its folder.
pub fn build() -> Result<PathBuf, String> {
    run_command(&mut toolchain::wasm_cargo(&[
        "build",
        "--package",
        "widget",
        "--profile",
        "widget",
    ]))?;
    let compiled = root().join("target/wasm/wasm32-unknown-unknown/widget/widget.wasm");
    let dist = dist_dir();
    let optimized = dist.join(WASM);
    if is_newer(&compiled, &optimized) {
        run_command(
            Command::new(toolchain::wasm_bindgen()?)
                .args([
                    "--target",
                    "web",
                    "--no-typescript",
                    "--out-name",
                    "hookline_widget",
                    "--out-dir",
                ])
                .arg(&dist)
                .arg(&compiled),
        )?;
        run_command(
            Command::new(toolchain::wasm_opt())
                .args([
                    "-Oz",
                    "--converge",
                    "--strip-debug",
                    "--strip-producers",
                    "--strip-target-features",
                    "-o",
                ])
                .arg(&optimized)
                .arg(&optimized),
        )?;
    }
    let loader_source = root().join("widget/loader").join(LOADER);
    let loader = std::fs::read_to_string(&loader_source)
        .map_err(|e| format!("cannot read the loader: {e}"))?;
    std::fs::write(dist.join(LOADER), minify_loader(&loader))
        .map_err(|e| format!("cannot write the loader: {e}"))?;
    check_budget(&dist)?;
    Ok(dist)
}

/// The loader without its comments and indentation. Its comments stay on lines of their own
/// (the loader says so), so dropping whole lines is safe with no JavaScript parser; line
/// breaks are kept, so automatic semicolon insertion reads the code as written.
fn minify_loader(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut in_block = false;
    for line in source.lines() {
        let line = line.trim();
        if in_block {
            in_block = !line.ends_with("*/");
            continue;
        }
        if line.starts_with("/*") {
            in_block = !line.ends_with("*/");
            continue;
        }
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// True when `output` is missing or older than `input`.
fn is_newer(input: &Path, output: &Path) -> bool {
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    match (modified(input), modified(output)) {
        (Some(input), Some(output)) => input > output,
        _ => true,
    }
}

fn gzipped_size(path: &Path) -> Result<u64, String> {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .map_err(|e| format!("cannot run gzip: {e}"))?;
    Ok(out.stdout.len() as u64)
}

fn sizes(dist: &Path) -> Result<Vec<(&'static str, u64, u64)>, String> {
    [LOADER, GLUE, WASM]
        .into_iter()
        .map(|name| {
            let path = dist.join(name);
            let raw = std::fs::metadata(&path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .len();
            Ok((name, raw, gzipped_size(&path)?))
        })
        .collect()
}

fn check_budget(dist: &Path) -> Result<(), String> {
    let sizes = sizes(dist)?;
    let total: u64 = sizes.iter().map(|(_, _, gz)| gz).sum();
    let loader = sizes
        .iter()
        .find(|(name, _, _)| *name == LOADER)
        .map_or(0, |(_, _, gz)| *gz);
    if loader > LOADER_BUDGET_GZIP {
        return Err(format!(
            "the loader is {loader} B gzipped, over its budget of {LOADER_BUDGET_GZIP} B"
        ));
    }
    if total > TOTAL_BUDGET_GZIP {
        return Err(format!(
            "the widget bundle is {total} B gzipped, over its budget of {TOTAL_BUDGET_GZIP} B"
        ));
    }
    Ok(())
}

pub fn print_sizes(dist: &Path) -> Result<(), String> {
    let sizes = sizes(dist)?;
    println!("widget bundle ({})", dist.display());
    println!("  {:<26} {:>10} {:>10}", "file", "raw B", "gzip B");
    for (name, raw, gz) in &sizes {
        println!("  {name:<26} {raw:>10} {gz:>10}");
    }
    let raw: u64 = sizes.iter().map(|(_, raw, _)| raw).sum();
    let gz: u64 = sizes.iter().map(|(_, _, gz)| gz).sum();
    println!(
        "  {:<26} {raw:>10} {gz:>10}   (budget {TOTAL_BUDGET_GZIP} B gzipped)",
        "total"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::minify_loader;

    #[test]
    fn the_loader_loses_comment_lines_and_indentation_only() {
        let source = "/*\n * About.\n */\n(function () {\n  // Why.\n  var url = \"https://x\"; /* kept */\n\n  go(url);\n})();\n";
        assert_eq!(
            minify_loader(source),
            "(function () {\nvar url = \"https://x\"; /* kept */\ngo(url);\n})();\n"
        );
    }
}
