//! Ingest benchmark: drives `POST /api/v1/public/campaigns/{key}/entries` over loopback
//! against the real server on SQLite and prints accepted entries per second and latency
//! percentiles. The load generator runs in the same process (on these 2-core machines the
//! figure includes it, as the targets ask).
//!
//! `cargo bench -p server --bench ingest` (or `cargo xtask bench`). Settings:
//! `HOOKLINE_BENCH_SECONDS` (default 10), `HOOKLINE_BENCH_CONCURRENCY` (default 64).
//! Every entry is acknowledged only after its transaction (entry, contestant, one delivery
//! row) is durably committed (`synchronous=FULL`).

#![allow(clippy::print_stdout, clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{percentile, setting};
use protocol::payload::EventType;
use serde_json::json;
use server::config::WebhookSetting;
use server::{Application, Config};

fn main() {
    common::block_on(run());
}

async fn run() {
    let seconds = setting("HOOKLINE_BENCH_SECONDS", 10);
    let concurrency = setting("HOOKLINE_BENCH_CONCURRENCY", 64);
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: format!("sqlite://{}", dir.path().join("bench.db").display()),
        demo: false,
        // Each entry also writes one delivery row, as in real use; nothing is sent.
        webhook: Some(WebhookSetting {
            url: "https://receiver.invalid/hooks".into(),
            secret: None,
            events: vec![EventType::EntryCreated],
        }),
        deliver_in_background: false,
        // The load comes from one address, faster than any person: no limits.
        rate_limits: server::limits::RateLimitSettings {
            per_ip: None,
            per_campaign: None,
            per_email: None,
        },
        ..Config::default()
    };
    let app = Application::build(config).await.unwrap();
    let base_url = app.base_url();
    let store = app.store().clone();
    tokio::spawn(app.run_until_stopped());
    let url = format!("{base_url}/api/v1/public/campaigns/demo/entries");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency as usize)
        .build()
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|task| {
            let client = client.clone();
            let url = url.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failures = 0_u64;
                let mut n = 0_u64;
                while Instant::now() < deadline {
                    n += 1;
                    let body = json!({
                        "idempotency_key": format!("bench-{task}-{n}"),
                        "entry_method_id": 1,
                        "email": format!("bench{task}x{n}@example.com"),
                        "name": "Bench Mark",
                        "consent": true,
                    })
                    .to_string();
                    let sent = Instant::now();
                    let response = client
                        .post(&url)
                        .header("content-type", "text/plain;charset=UTF-8")
                        .body(body)
                        .send()
                        .await;
                    match response {
                        Ok(response) if response.status().as_u16() == 201 => {
                            latencies.push(sent.elapsed())
                        }
                        _ => failures += 1,
                    }
                }
                (latencies, failures)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut failures = 0;
    for task in tasks {
        let (mut task_latencies, task_failures) = task.await.unwrap();
        latencies.append(&mut task_latencies);
        failures += task_failures;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let stored: i64 = server::with_pool!(store.pool(), pool => sqlx::query_scalar("SELECT COUNT(*) FROM entries")
        .fetch_one(pool)
        .await
        .unwrap());
    println!(
        "ingest on SQLite ({concurrency} concurrent clients, {seconds} s, loopback, load generator in-process)"
    );
    println!("  accepted entries      {}", latencies.len());
    println!(
        "  accepted / s          {:.0}",
        latencies.len() as f64 / elapsed.as_secs_f64()
    );
    println!("  failed requests       {failures}");
    println!("  stored entries        {stored}");
    println!(
        "  latency p50           {:.2} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3
    );
    println!(
        "  latency p99           {:.2} ms",
        percentile(&latencies, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "  latency max           {:.2} ms",
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
}
