//! Building the widget bundle into `target/widget-dist`: the wasm (through wasm-bindgen and
//! wasm-opt), its JS glue and the loader (both minified by terser); and checking it against
//! its size budget.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{root, run_command, toolchain};

/// The loader must stay tiny: it is on every page before anything else.
const LOADER_BUDGET_GZIP: u64 = 3 * 1024;
/// Loader + glue + wasm, gzipped. CI fails above this: the product's hard limit is 100 KB.
/// Every entry method, campaign type, the outbox and two languages came to about 95 KB
/// (from 84.7 KB for the email-only widget); the rest is headroom, so growth is a decision.
const TOTAL_BUDGET_GZIP: u64 = 100 * 1000;

/// The JavaScript minifier, from npm, installed beside wasm-opt.
const TERSER: &str = "terser@5.51.4";

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
        let built = finish_wasm(&compiled, &dist);
        if built.is_err() {
            // Half-done: make the next build start again from the compiled wasm. A file that
            // is not there needs no removing.
            let _ = std::fs::remove_file(&optimized);
        }
        built?;
    }
    minify(
        &root().join("widget/loader").join(LOADER),
        &dist.join(LOADER),
        false,
    )?;
    print_sizes(&dist)?;
    check_budget(&dist)?;
    Ok(dist)
}

/// From the compiled wasm to the bundle's wasm and glue: wasm-bindgen, wasm-opt, terser, and
/// short import names.
fn finish_wasm(compiled: &Path, dist: &Path) -> Result<(), String> {
    let optimized = dist.join(WASM);
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
            .arg(dist)
            .arg(compiled),
    )?;
    run_command(
        Command::new(toolchain::wasm_opt())
            // Flattening and re-looping before optimising for size comes out ~0.7 KB
            // smaller gzipped than `-Oz` alone (measured; `-Os` beats `-Oz` after them), an
            // `-Os` pass before them another 0.1 KB, and one after `--converge` 0.15 KB. The
            // module's memory is its own, so zero-filled when it starts, and its low addresses
            // are the bottom of the stack (rustc links wasm32 stack first), never reached
            // before an overflow: saying so lets wasm-opt fold constants into loads and drop
            // stores of zeros (0.7 KB). Rust checks bounds and divisors itself, so no load or
            // division traps unless a bug does, which `--ignore-implicit-traps` may then
            // assume (0.2 KB); the explicit traps of panics stay.
            .args([
                "-Os",
                "--flatten",
                "--rereloop",
                "-Os",
                "--converge",
                "-Os",
                "--strip-debug",
                "--strip-producers",
                "--strip-target-features",
                "--zero-filled-memory",
                "--low-memory-unused",
                "--ignore-implicit-traps",
                "-o",
            ])
            .arg(&optimized)
            .arg(&optimized),
    )?;
    minify(&dist.join(GLUE), &dist.join(GLUE), true)?;
    shorten_imports(&optimized, &dist.join(GLUE))
}

/// `terser`, installing it into the npm prefix of wasm-opt when missing.
fn terser() -> Result<PathBuf, String> {
    let bin = toolchain::wasm_opt().with_file_name("terser");
    if bin.is_file() {
        return Ok(bin);
    }
    // `<prefix>/node_modules/.bin/terser`.
    let prefix = bin
        .ancestors()
        .nth(3)
        .ok_or_else(|| format!("no npm prefix above {}", bin.display()))?;
    println!("xtask: installing the JavaScript minifier ({TERSER} from npm)");
    run_command(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(prefix)
            .arg(TERSER),
    )?;
    Ok(bin)
}

/// Minifies `input` into `output` (comments, whitespace, local names): the glue is an ES
/// module, the loader a classic script. About 2 KB of the bundle's gzipped budget.
fn minify(input: &Path, output: &Path, module: bool) -> Result<(), String> {
    let mut command = Command::new(terser()?);
    command
        .arg(input)
        .args(["--compress", "--mangle", "--comments", "false"]);
    if module {
        command.arg("--module");
    }
    run_command(command.arg("-o").arg(output))
}

/// The module name wasm-bindgen gives the glue's imports, and the one they get instead.
const GLUE_MODULE: &str = "./hookline_widget_bg.js";
const SHORT_MODULE: &str = "a";

/// Renames the wasm's imports from the glue (`__wbg_set_bcb0ec2400cfa22e`, ~130 of them) to
/// `a`, `b`, … `aa`, in the wasm and in the glue alike: the hashed names, written twice and
/// hardly compressible, cost about 4.5 KB of the gzipped budget. The same for the exports
/// only the glue uses (`__wbindgen_malloc`, written 14 times; closure entry points such as
/// `wasm_bindgen_b1a682089732d384___convert__closures_____invoke___…`, up to 200 characters):
/// about 0.3 KB more.
fn shorten_imports(wasm_path: &Path, glue_path: &Path) -> Result<(), String> {
    let wasm = std::fs::read(wasm_path).map_err(|e| format!("{}: {e}", wasm_path.display()))?;
    let glue =
        std::fs::read_to_string(glue_path).map_err(|e| format!("{}: {e}", glue_path.display()))?;
    let (wasm, renamed) = rename_imports(&wasm)?;
    let glue = rename_in_glue(&glue, &renamed);
    let (wasm, exports) = rename_exports(&wasm)?;
    let glue = rename_exports_in_glue(&glue, &exports);
    std::fs::write(wasm_path, wasm).map_err(|e| format!("{}: {e}", wasm_path.display()))?;
    std::fs::write(glue_path, glue).map_err(|e| format!("{}: {e}", glue_path.display()))
}

/// Whether the glue alone uses export `name`: wasm-bindgen's and the externref table's
/// (`__wbindgen_…`, `__externref_…`) and closure entry points (`wasm_bindgen_<hash>_…`). The
/// widget's own exports (`mount`…) and `memory` keep their names.
fn is_glue_export(name: &str) -> bool {
    name.starts_with("__") || name.starts_with("wasm_bindgen_")
}

/// The wasm with the glue's exports renamed to `_a`, `_b`, …, and the names given.
fn rename_exports(wasm: &[u8]) -> Result<(Vec<u8>, Renames), String> {
    let mut out = wasm[..8].to_vec();
    let mut renamed = Vec::new();
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        at += 1;
        let len = read_leb(wasm, &mut at)? as usize;
        let body = wasm
            .get(at..at + len)
            .ok_or("the wasm ends inside a section")?;
        at += len;
        if id != 7 {
            out.push(id);
            write_leb(&mut out, len as u64);
            out.extend_from_slice(body);
            continue;
        }
        let mut section = Vec::new();
        let mut pos = 0;
        let count = read_leb(body, &mut pos)?;
        write_leb(&mut section, count);
        for _ in 0..count {
            let name = read_name(body, &mut pos)?;
            let kind = *body.get(pos).ok_or("the wasm ends inside an export")?;
            pos += 1;
            let index = read_leb(body, &mut pos)?;
            if is_glue_export(name) {
                let short = format!("_{}", short_name(renamed.len()));
                write_name(&mut section, &short);
                renamed.push((name.to_owned(), short));
            } else {
                write_name(&mut section, name);
            }
            section.push(kind);
            write_leb(&mut section, index);
        }
        out.push(id);
        write_leb(&mut out, section.len() as u64);
        out.extend_from_slice(&section);
    }
    Ok((out, renamed))
}

/// The glue with the exports renamed where it reads them: `x.__wbindgen_malloc` → `x._a`.
fn rename_exports_in_glue(glue: &str, renamed: &[(String, String)]) -> String {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    let mut glue = glue.to_owned();
    for (old, new) in renamed {
        let dotted = format!(".{old}");
        let mut out = String::with_capacity(glue.len());
        let mut rest = glue.as_str();
        while let Some(found) = rest.find(&dotted) {
            let after = rest[found + dotted.len()..].chars().next();
            out.push_str(&rest[..found]);
            if after.is_some_and(is_ident) {
                out.push_str(&dotted);
            } else {
                out.push('.');
                out.push_str(new);
            }
            rest = &rest[found + dotted.len()..];
        }
        out.push_str(rest);
        glue = out;
    }
    glue
}

/// `a`…`z`, `ba`…: short, distinct names.
fn short_name(mut index: usize) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'a' + (index % 26) as u8);
        index /= 26;
        if index == 0 {
            break;
        }
    }
    name.reverse();
    String::from_utf8(name).expect("ASCII letters")
}

fn read_leb(bytes: &[u8], at: &mut usize) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at).ok_or("the wasm ends inside a number")?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Ok(value);
        }
    }
    Err("a number in the wasm is too long".into())
}

fn write_leb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn read_name<'a>(bytes: &'a [u8], at: &mut usize) -> Result<&'a str, String> {
    let len = read_leb(bytes, at)? as usize;
    let name = bytes
        .get(*at..*at + len)
        .ok_or("the wasm ends inside a name")?;
    *at += len;
    std::str::from_utf8(name).map_err(|_| "a wasm name is not UTF-8".to_owned())
}

fn write_name(out: &mut Vec<u8>, name: &str) {
    write_leb(out, name.len() as u64);
    out.extend_from_slice(name.as_bytes());
}

/// Import names given: (old, new).
type Renames = Vec<(String, String)>;

/// The wasm with the glue's imports renamed, and the names given.
fn rename_imports(wasm: &[u8]) -> Result<(Vec<u8>, Renames), String> {
    if wasm.get(..8) != Some(b"\0asm\x01\0\0\0".as_slice()) {
        return Err("not a wasm module".into());
    }
    let mut out = wasm[..8].to_vec();
    let mut renamed = Vec::new();
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        at += 1;
        let len = read_leb(wasm, &mut at)? as usize;
        let body = wasm
            .get(at..at + len)
            .ok_or("the wasm ends inside a section")?;
        at += len;
        if id != 2 {
            out.push(id);
            write_leb(&mut out, len as u64);
            out.extend_from_slice(body);
            continue;
        }
        let mut section = Vec::new();
        let mut pos = 0;
        let count = read_leb(body, &mut pos)?;
        write_leb(&mut section, count);
        for _ in 0..count {
            let module = read_name(body, &mut pos)?;
            let name = read_name(body, &mut pos)?;
            let start = pos;
            skip_import_kind(body, &mut pos)?;
            if module == GLUE_MODULE {
                let short = short_name(renamed.len());
                write_name(&mut section, SHORT_MODULE);
                write_name(&mut section, &short);
                renamed.push((name.to_owned(), short));
            } else {
                write_name(&mut section, module);
                write_name(&mut section, name);
            }
            section.extend_from_slice(&body[start..pos]);
        }
        out.push(id);
        write_leb(&mut out, section.len() as u64);
        out.extend_from_slice(&section);
    }
    Ok((out, renamed))
}

/// Steps over an import's kind and type.
fn skip_import_kind(body: &[u8], pos: &mut usize) -> Result<(), String> {
    let kind = *body.get(*pos).ok_or("the wasm ends inside an import")?;
    *pos += 1;
    match kind {
        // A function: its type index.
        0 => {
            read_leb(body, pos)?;
        }
        // A table: element type, then limits.
        1 => {
            *pos += 1;
            skip_limits(body, pos)?;
        }
        2 => skip_limits(body, pos)?,
        // A global: value type and mutability.
        3 => *pos += 2,
        // A tag: attribute and type index.
        4 => {
            *pos += 1;
            read_leb(body, pos)?;
        }
        other => return Err(format!("unknown wasm import kind {other}")),
    }
    Ok(())
}

fn skip_limits(body: &[u8], pos: &mut usize) -> Result<(), String> {
    let flags = read_leb(body, pos)?;
    read_leb(body, pos)?;
    if flags & 1 != 0 {
        read_leb(body, pos)?;
    }
    Ok(())
}

/// The glue with the same renames: each old name as a whole identifier, and the module key.
fn rename_in_glue(glue: &str, renamed: &[(String, String)]) -> String {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    let mut glue = glue.replace(&format!("\"{GLUE_MODULE}\""), SHORT_MODULE);
    for (old, new) in renamed {
        let mut out = String::with_capacity(glue.len());
        let mut rest = glue.as_str();
        while let Some(found) = rest.find(old.as_str()) {
            let before = rest[..found].chars().next_back();
            let after = rest[found + old.len()..].chars().next();
            out.push_str(&rest[..found]);
            if before.is_some_and(is_ident) || after.is_some_and(is_ident) {
                out.push_str(old);
            } else {
                out.push_str(new);
            }
            rest = &rest[found + old.len()..];
        }
        out.push_str(rest);
        glue = out;
    }
    glue
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
        "  {:<26} {raw:>10} {gz:>10}   (budget {TOTAL_BUDGET_GZIP} B gzipped; loader {LOADER_BUDGET_GZIP} B)",
        "total"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module importing two functions from the glue and one from elsewhere.
    fn module() -> Vec<u8> {
        let mut section = Vec::new();
        write_leb(&mut section, 3);
        for (module, name) in [
            (GLUE_MODULE, "__wbg_set_bcb0ec2400cfa22e"),
            ("env", "memory_base"),
            (GLUE_MODULE, "__wbg_set_bcb0ec2400cfa22f"),
        ] {
            write_name(&mut section, module);
            write_name(&mut section, name);
            section.extend_from_slice(&[0, 1]);
        }
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.extend_from_slice(&[1, 1, 0]);
        wasm.push(2);
        write_leb(&mut wasm, section.len() as u64);
        wasm.extend_from_slice(&section);
        wasm
    }

    #[test]
    fn imports_get_short_names_in_the_wasm_and_the_glue() {
        let (wasm, renamed) = rename_imports(&module()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            renamed,
            [
                ("__wbg_set_bcb0ec2400cfa22e".to_owned(), "a".to_owned()),
                ("__wbg_set_bcb0ec2400cfa22f".to_owned(), "b".to_owned()),
            ]
        );
        let text = String::from_utf8_lossy(&wasm);
        assert!(
            !text.contains("__wbg_set") && text.contains("memory_base"),
            "{text}"
        );
        let (again, none) = rename_imports(&wasm).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((again, none.len()), (wasm, 0), "already short: unchanged");

        let glue = r#"const e={__proto__:null,__wbg_set_bcb0ec2400cfa22e(t,n){x.__wbg_set_bcb0ec2400cfa22e_y=1},__wbg_set_bcb0ec2400cfa22f:function(){}};return{__proto__:null,"./hookline_widget_bg.js":e}"#;
        assert_eq!(
            rename_in_glue(glue, &renamed),
            r#"const e={__proto__:null,a(t,n){x.__wbg_set_bcb0ec2400cfa22e_y=1},b:function(){}};return{__proto__:null,a:e}"#
        );
    }

    /// A module exporting `mount`, `memory` and two of the glue's functions.
    fn module_with_exports() -> Vec<u8> {
        let mut section = Vec::new();
        write_leb(&mut section, 4);
        for (name, kind) in [
            ("mount", 0),
            ("memory", 2),
            ("__wbindgen_malloc", 0),
            (
                "wasm_bindgen_b1a6___convert__closures_____invoke_______true_",
                0,
            ),
        ] {
            write_name(&mut section, name);
            section.extend_from_slice(&[kind, 3]);
        }
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.push(7);
        write_leb(&mut wasm, section.len() as u64);
        wasm.extend_from_slice(&section);
        wasm
    }

    #[test]
    fn the_glues_exports_get_short_names_in_the_wasm_and_the_glue() {
        let (wasm, renamed) =
            rename_exports(&module_with_exports()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            renamed,
            [
                ("__wbindgen_malloc".to_owned(), "_a".to_owned()),
                (
                    "wasm_bindgen_b1a6___convert__closures_____invoke_______true_".to_owned(),
                    "_b".to_owned()
                ),
            ]
        );
        let text = String::from_utf8_lossy(&wasm);
        assert!(
            text.contains("mount") && text.contains("memory") && !text.contains("wbindgen"),
            "{text}"
        );
        let glue = "export function mount(e){x.mount(e,x.__wbindgen_malloc,x.__wbindgen_malloc_x)}\
                    function n(e){x.wasm_bindgen_b1a6___convert__closures_____invoke_______true_(e)}";
        assert_eq!(
            rename_exports_in_glue(glue, &renamed),
            "export function mount(e){x.mount(e,x._a,x.__wbindgen_malloc_x)}function n(e){x._b(e)}"
        );
    }

    #[test]
    fn short_names_are_distinct() {
        let names: std::collections::HashSet<String> = (0..2000).map(short_name).collect();
        assert_eq!(names.len(), 2000);
        assert_eq!(
            (short_name(0), short_name(25), short_name(26)),
            ("a".into(), "z".into(), "ba".into())
        );
    }
}
