//! Social proof benchmark: how many open widget connections (Server-Sent Events on
//! `/api/v1/public/campaigns/{key}/activity`) one server process holds, what they cost in
//! memory, and how long a conversion posted to an inbound stream takes to reach every one of
//! them.
//!
//! The server runs as its own process (the release `server` binary, on SQLite) so that the
//! connections' client ends, held here, do not share its file-descriptor limit.
//! `cargo bench -p server --bench activity`. Settings:
//! `HOOKLINE_BENCH_CONNECTIONS` (default 5000; the process's open-file limit bounds it),
//! `HOOKLINE_BENCH_ROUNDS` (default 20 conversions).

#![allow(clippy::print_stdout, clippy::unwrap_used)]

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{percentile, setting};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::{Barrier, watch};

fn main() {
    common::block_on(run());
}

async fn run() {
    let connections = setting("HOOKLINE_BENCH_CONNECTIONS", 5_000) as usize;
    let rounds = setting("HOOKLINE_BENCH_ROUNDS", 20) as usize;
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_server"))
        .env("HOOKLINE_BIND", format!("127.0.0.1:{port}"))
        .env(
            "HOOKLINE_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("activity.db").display()),
        )
        .env("HOOKLINE_DEMO", "false")
        .env("HOOKLINE_RATE_LIMIT_PER_IP", "off")
        .env("RUST_LOG", "warn,server=info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = server.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    for line in lines.by_ref() {
        if line.unwrap().contains("Hookline is listening") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let base = format!("http://127.0.0.1:{port}");
    let pid = server.id();

    // Set up: a workspace, social proof on the demo campaign, one stream.
    let http = reqwest_client();
    let setup: Value = post_json(
        &http,
        &format!("{base}/api/v1/setup"),
        None,
        json!({"name": "Bench"}),
    )
    .await;
    let key = setup["api_key"]["key"].as_str().unwrap().to_owned();
    patch_json(
        &http,
        &format!("{base}/api/v1/campaigns/demo"),
        &key,
        json!({"settings": {"social_proof": {"enabled": true, "show_entries": false}}}),
    )
    .await;
    let stream: Value = post_json(
        &http,
        &format!("{base}/api/v1/streams"),
        Some(&key),
        json!({"name": "Bench shop"}),
    )
    .await;
    let stream_url = stream["url"].as_str().unwrap().to_owned();
    let rss_before = rss_kib(pid);

    // Open the connections: plain HTTP/1.1 over TCP, as a browser's EventSource does.
    let opened = Instant::now();
    // The conversion being sent now and when it was.
    let (round_sender, round) = watch::channel(Instant::now());
    let heard = Arc::new(watch::Sender::new(0_usize));
    let ready = Arc::new(Barrier::new(connections + 1));
    let latencies: Arc<std::sync::Mutex<Vec<Duration>>> = Arc::default();
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (ready, heard, latencies) = (
            Arc::clone(&ready),
            Arc::clone(&heard),
            Arc::clone(&latencies),
        );
        let mut round = round.clone();
        tasks.push(tokio::spawn(async move {
            let mut socket = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            socket
                .write_all(
                    b"GET /api/v1/public/campaigns/demo/activity HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n",
                )
                .await
                .unwrap();
            let mut buffer = vec![0_u8; 16 * 1024];
            // The headers and the summary event.
            let mut seen = Vec::new();
            while !String::from_utf8_lossy(&seen).contains("event: summary") {
                let n = socket.read(&mut buffer).await.unwrap();
                assert!(n > 0, "closed early");
                seen.extend_from_slice(&buffer[..n]);
            }
            ready.wait().await;
            loop {
                let n = tokio::select! {
                    read = socket.read(&mut buffer) => read.unwrap(),
                    changed = round.changed() => {
                        if changed.is_err() { return; }
                        continue;
                    }
                };
                if n == 0 {
                    return;
                }
                let text = String::from_utf8_lossy(&buffer[..n]);
                for _ in text.matches("event: notification") {
                    let sent = *round.borrow();
                    latencies.lock().unwrap().push(sent.elapsed());
                    heard.send_modify(|heard| *heard += 1);
                }
            }
        }));
    }
    ready.wait().await;
    let opening = opened.elapsed();
    let rss_open = rss_kib(pid);

    // Post conversions one at a time; each must reach every connection.
    let mut all_heard = heard.subscribe();
    for n in 1..=rounds {
        let body = json!({"email": format!("buyer{n}@example.com"), "firstName": "Joe", "lastName": "Bloggs",
                          "city": "Miami", "countryCode": "US", "productName": "Sneakers"});
        round_sender.send_replace(Instant::now());
        let response = http
            .post(&stream_url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 201);
        let wanted = n * connections;
        let arrived = tokio::time::timeout(
            Duration::from_secs(60),
            all_heard.wait_for(|heard| *heard >= wanted),
        )
        .await;
        if arrived.is_err() {
            println!("  conversion {n} did not reach every connection within a minute");
        }
    }
    let rss_end = rss_kib(pid);
    let mut latencies = latencies.lock().unwrap().clone();
    latencies.sort();
    let delivered = *heard.borrow();
    println!(
        "social proof feed ({connections} open widget connections, {rounds} conversions, server in its own process on SQLite)"
    );
    println!(
        "  connections opened        {connections} in {:.2} s",
        opening.as_secs_f64()
    );
    println!(
        "  notifications delivered   {delivered} of {}",
        connections * rounds
    );
    println!(
        "  POST → every widget  p50  {:.2} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3
    );
    println!(
        "                       p99  {:.2} ms",
        percentile(&latencies, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "                       max  {:.2} ms",
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    println!(
        "  server RSS                {} MiB idle, {} MiB with the connections open ({:.1} KiB each), {} MiB at the end",
        rss_before / 1024,
        rss_open / 1024,
        (rss_open.saturating_sub(rss_before)) as f64 / connections as f64,
        rss_end / 1024
    );
    drop(round_sender);
    for task in tasks {
        task.abort();
    }
    // The server is killed: the benchmark is over and its database is thrown away.
    let _ = server.kill();
    let _ = server.wait();
}

fn reqwest_client() -> reqwest::Client {
    // Errs when a provider is installed already: fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn post_json(client: &reqwest::Client, url: &str, key: Option<&str>, body: Value) -> Value {
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

async fn patch_json(client: &reqwest::Client, url: &str, key: &str, body: Value) {
    let response = client
        .patch(url)
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
}

/// The resident set size of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}
