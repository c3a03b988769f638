//! Benchmark: the widget's timings in headless Chromium over loopback, against the real
//! server. Prints, over `HOOKLINE_BENCH_RUNS` page loads (default 10), the median and the
//! worst of: the script tag to an interactive widget (`hookline:ready`), a submit click to `hookline:capture`, and a submit click to `hookline:entry` (the
//! server's confirmation). Run with `cargo bench -p tests --bench widget_timing` after
//! `cargo xtask widget`.

#![allow(clippy::print_stdout)]

#[path = "../tests/common/mod.rs"]
mod common;

use anyhow::Context;
use common::{enter_details, host_page, spawn_server, wait_for_events, wait_for_state};
use serde_json::Value;
use tests::{Browser, HostSite, Page};

/// Records, in `window.times`, when things happened (ms since navigation start).
const TIMER: &str = r#"<script>
  window.times = {}; window.seen = [];
  window.addEventListener("click", function () { window.times.click = performance.now(); }, true);
  ["ready", "capture", "entry"].forEach(function (name) {
    window.addEventListener("hookline:" + name, function (event) {
      window.times[name] = performance.now();
      window.seen.push({ name: name, campaign: event.target.getAttribute("data-campaign"), detail: event.detail });
    });
  });
</script>"#;

fn summary(name: &str, mut values: Vec<f64>) {
    values.sort_by(f64::total_cmp);
    let median = values[values.len() / 2];
    let worst = values[values.len() - 1];
    println!("  {name:<34} median {median:>7.1} ms   worst {worst:>7.1} ms");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::var("HOOKLINE_BENCH_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(10)
        .max(1);
    let server = spawn_server().await?;
    // The loader's script tag comes right after this marker (see `host_page`).
    let body = r#"<div class="hookline-campaign" data-campaign="demo"></div>
                  <script>window.times.tag = performance.now();</script>"#;
    let site = HostSite::start([
        (
            "/bench",
            Page::new(host_page(&server.base_url, TIMER, body)),
        ),
        ("/blank", Page::new("<!doctype html><title>Blank</title>")),
    ])
    .await;
    let browser = Browser::start().await?;
    let (mut ready, mut capture, mut entry) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        // A new visitor each run: storage is cleared on a page of the site without the
        // widget, which would otherwise save the last run's session again when the server
        // answers its status request.
        browser.goto(&site.url("/blank")).await?;
        browser.eval("localStorage.clear();", vec![]).await?;
        browser.goto(&site.url("/bench")).await?;
        wait_for_state(&browser, ".hookline-campaign", "ready").await?;
        enter_details(
            &browser,
            ".hookline-campaign",
            &format!("bench{run}@example.com"),
            None,
        )
        .await?;
        wait_for_events(&browser, "entry", None, 1).await?;
        let times: Value = browser.eval("return window.times;", vec![]).await?;
        let at = |name: &str| {
            times[name]
                .as_f64()
                .with_context(|| format!("no {name} time: {times}"))
        };
        ready.push(at("ready")? - at("tag")?);
        capture.push(at("capture")? - at("click")?);
        entry.push(at("entry")? - at("click")?);
    }
    println!("widget timings, headless Chromium over loopback, {runs} runs");
    summary("script tag -> interactive (ready)", ready);
    summary("submit -> capture", capture);
    summary("submit -> entry (server confirmed)", entry);
    browser.close().await
}
