//! Benchmark: from an inbound conversion POSTed to a stream to its toast in the widget, in
//! headless Chromium over loopback against the real server (SQLite). Prints the median and
//! the worst of `HOOKLINE_BENCH_RUNS` conversions (default 10), measured from just before the
//! POST (the bench's clock) to the toast's first appearance in the widget's shadow root (the
//! page's clock, the same machine's). Each toast shows for the shortest time the widget allows
//! (2 s), so a run takes about that long. Run with
//! `cargo bench -p tests --bench social_proof` after `cargo xtask widget`.

#![allow(clippy::print_stdout)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use common::{host_page, wait_for_state};
use serde_json::{Value, json};
use server::config::Config;
use server::startup::Application;
use tests::{Browser, HostSite, Page};

const HOST: &str = ".hookline-campaign";

/// Records in `window.toastAt[id]` when each toast first showed (unix ms, the page's clock).
const WATCH: &str = r#"<script>
  window.toastAt = {};
  document.addEventListener("DOMContentLoaded", function () {
    var host = document.querySelector(".hookline-campaign");
    var watch = function () {
      if (!host.shadowRoot) { return setTimeout(watch, 5); }
      new MutationObserver(function () {
        var toast = host.shadowRoot.querySelector(".hl-toast");
        if (toast && !(toast.dataset.id in window.toastAt)) { window.toastAt[toast.dataset.id] = Date.now(); }
      }).observe(host.shadowRoot, { subtree: true, childList: true, attributes: true });
    };
    watch();
  });
</script>"#;

fn unix_ms() -> anyhow::Result<i64> {
    Ok(i64::try_from(
        SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis(),
    )?)
}

async fn send(
    http: &reqwest::Client,
    url: &str,
    method: reqwest::Method,
    key: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let mut request = http.request(method, url);
    if !key.is_empty() {
        request = request.bearer_auth(key);
    }
    let response = request
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await?;
    let status = response.status();
    let answer: Value = serde_json::from_slice(&response.bytes().await?).unwrap_or_default();
    anyhow::ensure!(status.is_success(), "{url}: {status} {answer}");
    Ok(answer)
}

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
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let data = tempfile::tempdir()?;
    let app = Application::build(Config {
        bind: "127.0.0.1:0".parse()?,
        database_url: format!("sqlite://{}", data.path().join("hookline.db").display()),
        widget_dir: workspace.join("target/widget-dist"),
        www_dir: workspace.join("www"),
        demo: true,
        ..Config::default()
    })
    .await?;
    let (base_url, activity) = (app.base_url(), app.activity());
    tokio::spawn(app.run_until_stopped());

    // The owner: a workspace, social proof on the demo campaign (toasts back to back), a stream.
    // Errs when a provider is installed already, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let setup = send(
        &http,
        &format!("{base_url}/api/v1/setup"),
        reqwest::Method::POST,
        "",
        json!({"name": "Bench"}),
    )
    .await?;
    let key = setup["api_key"]["key"]
        .as_str()
        .context("a key")?
        .to_owned();
    send(
        &http,
        &format!("{base_url}/api/v1/campaigns/demo"),
        reqwest::Method::PATCH,
        &key,
        json!({"settings": {"social_proof": {"enabled": true, "interval_seconds": 0,
               "display_seconds": 0, "max_per_visit": 1000, "show_entries": false}}}),
    )
    .await?;
    let stream = send(
        &http,
        &format!("{base_url}/api/v1/streams"),
        reqwest::Method::POST,
        &key,
        json!({"name": "Bench shop", "campaigns": ["demo"]}),
    )
    .await?;
    let stream_url = stream["url"].as_str().context("a stream URL")?.to_owned();

    let body = r#"<div class="hookline-campaign" data-campaign="demo"></div>"#;
    let site = HostSite::start([("/shop", Page::new(host_page(&base_url, WATCH, body)))]).await;
    let browser = Browser::start().await?;
    browser.goto(&site.url("/shop")).await?;
    wait_for_state(&browser, HOST, "ready").await?;
    tokio::time::timeout(Duration::from_secs(10), activity.wait_for_connections(1))
        .await
        .context("the widget never connected to the feed")?;

    let mut latencies = Vec::with_capacity(runs);
    for run in 0..runs {
        // The last toast gone, so the next shows as soon as it comes.
        browser
            .eval_async(
                r#"const [host, done] = arguments;
                   const root = document.querySelector(host).shadowRoot;
                   const gone = () => root.querySelector(".hl-toast") === null;
                   if (gone()) { done(true); return; }
                   new MutationObserver((_, observer) => { if (gone()) { observer.disconnect(); done(true); } })
                     .observe(root, { subtree: true, childList: true });"#,
                vec![json!(HOST)],
            )
            .await?;
        let conversion = json!({"email": format!("buyer{run}@example.com"), "firstName": "Joe",
                                "lastName": "Bloggs", "city": "Miami", "countryCode": "US",
                                "productName": "Sneakers", "timestamp": unix_ms()?});
        let posted_at = unix_ms()?;
        let answer = send(&http, &stream_url, reqwest::Method::POST, "", conversion).await?;
        let id = format!("cv_{}", answer["id"]);
        let shown_at = browser
            .eval_async(
                r#"const [id, done] = arguments;
                   const check = () => { if (id in window.toastAt) { done(window.toastAt[id]); return true; } return false; };
                   if (!check()) { const timer = setInterval(() => { if (check()) clearInterval(timer); }, 2); }"#,
                vec![json!(id)],
            )
            .await?
            .as_f64()
            .context("the toast's time")?;
        latencies.push(shown_at - posted_at as f64);
    }
    println!(
        "social proof in headless Chromium over loopback, {runs} conversions (server on SQLite)"
    );
    summary("inbound POST -> toast shown", latencies);
    browser.close().await
}
