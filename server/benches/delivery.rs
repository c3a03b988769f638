//! Delivery benchmark: the real server in-process on a SQLite temp file, and on PostgreSQL
//! when `HOOKLINE_BENCH_POSTGRES_URL` (or `HOOKLINE_TEST_POSTGRES_URL`) names a server (a
//! fresh database per scenario), demo off, sending signed webhooks over loopback to lean
//! local receivers that answer 204 at once. Prints a table, and the process's resident memory
//! at the start and end of each latency run; asserts nothing about timing.
//!
//! - throughput, 1 endpoint: entries are posted through the public API with delivery off,
//!   then the background delivery loop is started on the backlog; deliveries per second from
//!   the first webhook received to the last. (Posting first keeps the HTTP ingest path, which
//!   the ingest benchmark measures, out of the delivery figure.)
//! - the same, fanned out to 10 endpoints (10 receivers on 10 ports).
//! - latency: a server with background delivery on, entries posted at a fixed rate, to 1
//!   endpoint and to 10; time from sending the entry's POST to each of its webhooks reaching
//!   a receiver (matched by the contestant's email in the body).
//!
//! `cargo bench -p server --bench delivery` (or `cargo xtask bench`). Settings:
//! `HOOKLINE_BENCH_DELIVERIES` (default 20000, per throughput scenario),
//! `HOOKLINE_BENCH_RATE` (entries/s, default 200), `HOOKLINE_BENCH_SECONDS` (default 10),
//! `HOOKLINE_BENCH_PER_ENDPOINT` (sends in flight per endpoint, default the server's 8),
//! `HOOKLINE_BENCH_SCENARIOS` (default `throughput,latency`), `HOOKLINE_BENCH_DATABASES`
//! (default `sqlite,postgres`; PostgreSQL only with a URL) and `HOOKLINE_BENCH_ENDPOINTS`
//! (the latency runs' endpoint counts, default `1,10`) to run a part alone. A 10-minute run
//! of memory: `HOOKLINE_BENCH_SCENARIOS=latency HOOKLINE_BENCH_SECONDS=600`.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

#[expect(
    dead_code,
    reason = "`percentile` sorts samples; this benchmark counts histograms, in constant memory"
)]
mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use common::setting;
use protocol::payload::EventType;
use serde_json::json;
use server::address::AllowList;
use server::config::WebhookSetting;
use server::delivery;
use server::{Application, Config};
use tokio::sync::{Notify, watch};

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// Latencies counted in 10 µs buckets up to 1 s (and the rest above), so that a run of any
/// length measures in constant memory.
#[derive(Debug)]
struct Histogram {
    buckets: Vec<u32>,
    n: u64,
    max: Duration,
}

const BUCKET: Duration = Duration::from_micros(10);
const N_BUCKETS: usize = 100_000;

impl Default for Histogram {
    fn default() -> Self {
        Self {
            buckets: vec![0; N_BUCKETS + 1],
            n: 0,
            max: Duration::ZERO,
        }
    }
}

impl Histogram {
    fn record(&mut self, latency: Duration) {
        let index = (latency.as_micros() / BUCKET.as_micros()) as usize;
        self.buckets[index.min(N_BUCKETS)] += 1;
        self.n += 1;
        self.max = self.max.max(latency);
    }

    /// The `p`-th percentile (0.0 to 1.0), to a bucket's width; the largest seen if past 1 s.
    fn percentile(&self, p: f64) -> Duration {
        let rank = ((self.n as f64 * p).ceil() as u64).max(1);
        let mut seen = 0;
        for (index, count) in self.buckets.iter().enumerate() {
            seen += u64::from(*count);
            if seen >= rank {
                return if index == N_BUCKETS {
                    self.max
                } else {
                    BUCKET * (index as u32 + 1)
                };
            }
        }
        self.max
    }
}

/// What the receivers saw: how many webhooks, when the first and last came, and in a latency
/// run each one's time from its entry's POST.
#[derive(Debug, Default)]
struct Seen {
    /// Entry number → when its POST was sent and how many of its webhooks are still to come.
    pending: Mutex<HashMap<u64, (Instant, usize)>>,
    latencies: Mutex<Histogram>,
    unmatched: Mutex<u64>,
    first_and_last: Mutex<Option<(Instant, Instant)>>,
    count: watch::Sender<usize>,
}

/// A receiver answering 204 at once, recording arrival times. Returns its URL.
async fn start_receiver(seen: Arc<Seen>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(receive).with_state(seen);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}/hooks")
}

/// The entry number in a contestant's email (`bench{n}@example.com`).
fn entry_number(body: &[u8]) -> Option<u64> {
    let body = serde_json::from_slice::<serde_json::Value>(body).ok()?;
    body["user"]["email"]
        .as_str()?
        .strip_prefix("bench")?
        .strip_suffix("@example.com")?
        .parse()
        .ok()
}

async fn receive(State(seen): State<Arc<Seen>>, body: Bytes) -> StatusCode {
    let at = Instant::now();
    {
        let mut pending = seen.pending.lock().unwrap();
        let sent = entry_number(&body).and_then(|n| {
            let (sent, left) = pending.get_mut(&n)?;
            let sent = *sent;
            *left -= 1;
            if *left == 0 {
                pending.remove(&n);
            }
            Some(sent)
        });
        match sent {
            Some(sent) => seen.latencies.lock().unwrap().record(at - sent),
            None => *seen.unmatched.lock().unwrap() += 1,
        }
    }
    {
        let mut first_and_last = seen.first_and_last.lock().unwrap();
        let (first, _) = first_and_last.unwrap_or((at, at));
        *first_and_last = Some((first, at));
    }
    seen.count.send_modify(|n| *n += 1);
    StatusCode::NO_CONTENT
}

/// Where a scenario's database lives.
#[derive(Debug, Clone)]
enum Database {
    Sqlite,
    /// A PostgreSQL server's URL (`…/postgres`); each scenario gets a database of its own.
    Postgres(String),
}

impl Database {
    fn label(&self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres(_) => "PostgreSQL",
        }
    }

    async fn url(&self, dir: &tempfile::TempDir, name: &str) -> String {
        match self {
            Self::Sqlite => format!("sqlite://{}", dir.path().join(name).display()),
            Self::Postgres(server) => {
                common::fresh_postgres_database(server, &name.replace('.', "_"))
                    .await
                    .0
            }
        }
    }

    /// Drops the PostgreSQL database [`Self::url`] made for `name` (SQLite's goes with its
    /// temporary directory).
    async fn clean_up(&self, name: &str) {
        if let Self::Postgres(server) = self {
            let database = common::postgres_database_name(&name.replace('.', "_"));
            common::drop_postgres_database(server, &database).await;
        }
    }
}

/// The process's resident memory in MiB (Linux), or 0 where it cannot be read.
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

async fn build(
    db: &Database,
    dir: &tempfile::TempDir,
    name: &str,
    url: String,
    background: bool,
) -> Application {
    let config = Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: db.url(dir, name).await,
        secret_key: Some("aG9va2xpbmUtYmVuY2gtbWFzdGVyLWtleS0zMi1ieXQ=".to_owned()),
        demo: false,
        webhook: Some(WebhookSetting {
            url,
            secret: None,
            events: vec![EventType::EntryCreated],
        }),
        deliver_in_background: background,
        // The load comes from one address, faster than any person: no limits.
        rate_limits: server::limits::RateLimitSettings {
            per_ip: None,
            per_campaign: None,
            per_email: None,
        },
        allow_networks: AllowList::loopback(),
        ..Config::default()
    };
    let mut config = config;
    let per_endpoint = setting(
        "HOOKLINE_BENCH_PER_ENDPOINT",
        u64::from(config.delivery_limits.concurrency_per_endpoint),
    );
    config.delivery_limits.concurrency_per_endpoint = u32::try_from(per_endpoint).unwrap();
    Application::build(config).await.unwrap()
}

async fn post_entry(client: &reqwest::Client, url: &str, n: u64) {
    let body = json!({
        "idempotency_key": format!("bench-{n}"),
        "entry_method_id": 1,
        "email": format!("bench{n}@example.com"),
        "name": "Bench Mark",
        "consent": true,
    })
    .to_string();
    let response = client
        .post(url)
        .header("content-type", "text/plain;charset=UTF-8")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
}

/// Posts `n_entries` concurrently (64 clients).
async fn post_entries(base_url: &str, n_entries: u64) {
    let url = format!("{base_url}/api/v1/public/campaigns/demo/entries");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..64)
        .map(|task| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let mut n = task;
                while n < n_entries {
                    post_entry(&client, &url, n).await;
                    n += 64;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

/// Adds an endpoint for each of `urls` beside the settings' one, taking the same events.
async fn add_endpoints(app: &Application, urls: &[String]) {
    for (n, url) in urls.iter().enumerate() {
        server::with_pool!(app.store().pool(), pool => {
            sqlx::query(
                "INSERT INTO endpoints (public_id, url, secret, events, enabled, created_at, updated_at)
                 SELECT $1, $2, secret, events, TRUE, 0, 0 FROM endpoints WHERE managed_by = 'settings'",
            )
            .bind(format!("ep_bench{n}"))
            .bind(url)
            .execute(pool)
            .await
            .unwrap();
        });
    }
}

/// `n` receivers sharing one record of what they saw; their URLs.
async fn start_receivers(seen: &Arc<Seen>, n: usize) -> Vec<String> {
    let mut urls = Vec::new();
    for _ in 0..n {
        urls.push(start_receiver(Arc::clone(seen)).await);
    }
    urls
}

/// Deliveries per second when `n_endpoints` receivers each get every one of `n_entries`.
async fn throughput(db: &Database, n_endpoints: usize, n_entries: u64) -> (u64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let seen = Arc::new(Seen::default());
    let urls = start_receivers(&seen, n_endpoints).await;
    let name = format!("throughput{n_endpoints}.db");
    let app = build(db, &dir, &name, urls[0].clone(), false).await;
    add_endpoints(&app, &urls[1..]).await;
    let worker = app.delivery_worker();
    let base_url = app.base_url();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        // Errs when the sender is dropped, which also means stop.
        let _ = stopped.await;
    }));
    post_entries(&base_url, n_entries).await;

    let expected = n_entries as usize * n_endpoints;
    let (shutdown, shutdown_receiver) = watch::channel(false);
    let loops = delivery::spawn_background(worker, Arc::new(Notify::new()), shutdown_receiver);
    let mut count = seen.count.subscribe();
    count.wait_for(|n| *n >= expected).await.unwrap();
    let per_second = {
        let (first, last) = seen.first_and_last.lock().unwrap().unwrap();
        (expected - 1) as f64 / (last - first).as_secs_f64()
    };
    shutdown.send_replace(true);
    for handle in loops {
        handle.await.unwrap();
    }
    drop(stop);
    server.await.unwrap().unwrap();
    db.clean_up(&name).await;
    (expected as u64, per_second)
}

/// What a latency run measured.
struct Latency {
    expected: usize,
    /// Entry POST sent → webhook received.
    latencies: Histogram,
    /// Webhooks that matched no entry (there should be none).
    unmatched: u64,
    /// Entry POST sent → its answer (the entry durably stored).
    answered: Histogram,
    /// Resident memory at the start, after a tenth of the run (warmed up), and at the end.
    rss: [f64; 3],
}

/// Entry POST sent → each of its webhooks received, at `rate` entries/s for `seconds`, to
/// `n_endpoints` endpoints. Keeps only what is in flight and histograms, so a long run
/// measures the server's memory, not the benchmark's.
async fn latency(db: &Database, rate: u64, seconds: u64, n_endpoints: usize) -> Latency {
    let dir = tempfile::tempdir().unwrap();
    let seen = Arc::new(Seen::default());
    let urls = start_receivers(&seen, n_endpoints).await;
    let name = format!("latency{n_endpoints}.db");
    let app = build(db, &dir, &name, urls[0].clone(), true).await;
    add_endpoints(&app, &urls[1..]).await;
    let mut rss = [rss_mib(), 0.0, 0.0];
    let base_url = app.base_url();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        // Errs when the sender is dropped, which also means stop.
        let _ = stopped.await;
    }));
    let entries_url = format!("{base_url}/api/v1/public/campaigns/demo/entries");
    let client = reqwest::Client::new();
    let n_entries = rate * seconds;
    let answered = Arc::new(Mutex::new(Histogram::default()));
    let (n_answered, _) = watch::channel(0_u64);
    let n_answered = Arc::new(n_answered);
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for n in 0..n_entries {
        ticks.tick().await;
        if n == n_entries / 10 {
            rss[1] = rss_mib();
        }
        let sent = Instant::now();
        seen.pending.lock().unwrap().insert(n, (sent, n_endpoints));
        let (client, url) = (client.clone(), entries_url.clone());
        let (answered, n_answered) = (Arc::clone(&answered), Arc::clone(&n_answered));
        tokio::spawn(async move {
            post_entry(&client, &url, n).await;
            answered.lock().unwrap().record(sent.elapsed());
            n_answered.send_modify(|n| *n += 1);
        });
    }
    n_answered
        .subscribe()
        .wait_for(|n| *n >= n_entries)
        .await
        .unwrap();
    let expected = n_entries as usize * n_endpoints;
    let mut count = seen.count.subscribe();
    count.wait_for(|n| *n >= expected).await.unwrap();
    rss[2] = rss_mib();
    drop(stop);
    server.await.unwrap().unwrap();
    db.clean_up(&name).await;
    let latencies = std::mem::take(&mut *seen.latencies.lock().unwrap());
    let answered = std::mem::take(&mut *answered.lock().unwrap());
    let unmatched = *seen.unmatched.lock().unwrap();
    Latency {
        expected,
        latencies,
        unmatched,
        answered,
        rss,
    }
}

/// Whether the comma-separated list in `name` (or `default`) holds `item`.
fn chosen(name: &str, default: &str, item: &str) -> bool {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .any(|chosen| chosen.trim().eq_ignore_ascii_case(item))
}

fn main() {
    common::block_on(run());
}

async fn run() {
    let n_deliveries = setting("HOOKLINE_BENCH_DELIVERIES", 20_000);
    let rate = setting("HOOKLINE_BENCH_RATE", 200);
    let seconds = setting("HOOKLINE_BENCH_SECONDS", 10);
    let per_endpoint = setting("HOOKLINE_BENCH_PER_ENDPOINT", 8);
    let databases_chosen = |name| chosen("HOOKLINE_BENCH_DATABASES", "sqlite,postgres", name);
    let scenario_chosen = |name| chosen("HOOKLINE_BENCH_SCENARIOS", "throughput,latency", name);
    let mut databases = Vec::new();
    if databases_chosen("sqlite") {
        databases.push(Database::Sqlite);
    }
    if let Some(server) = ["HOOKLINE_BENCH_POSTGRES_URL", "HOOKLINE_TEST_POSTGRES_URL"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|url| !url.is_empty()))
        && databases_chosen("postgres")
    {
        databases.push(Database::Postgres(server));
    }
    println!(
        "delivery (loopback, receivers answer 204 at once, everything in-process; {per_endpoint} in flight per endpoint); RSS at start {:.1} MiB",
        rss_mib()
    );
    for db in &databases {
        println!("  {}", db.label());
        println!(
            "    scenario                                        webhooks   deliveries/s   p50 ms   p99 ms   max ms"
        );
        if scenario_chosen("throughput") {
            let (one, one_per_second) = throughput(db, 1, n_deliveries).await;
            println!(
                "    backlog → 1 endpoint                            {one:>8}   {one_per_second:>12.0}        -        -        -"
            );
            let (ten, ten_per_second) = throughput(db, 10, n_deliveries / 10).await;
            println!(
                "    backlog → 10 endpoints                          {ten:>8}   {ten_per_second:>12.0}        -        -        -"
            );
        }
        if !scenario_chosen("latency") {
            continue;
        }
        for n_endpoints in [1, 10] {
            if !chosen("HOOKLINE_BENCH_ENDPOINTS", "1,10", &n_endpoints.to_string()) {
                continue;
            }
            let run = latency(db, rate, seconds, n_endpoints).await;
            let latencies = &run.latencies;
            let label = format!("{rate}/s × {seconds} s → {n_endpoints}, entry POST → receiver");
            println!(
                "    {label:<47} {:>8}   {:>12.0}   {:>6.2}   {:>6.2}   {:>6.1}",
                latencies.n,
                (rate as usize * n_endpoints) as f64,
                ms(latencies.percentile(0.50)),
                ms(latencies.percentile(0.99)),
                ms(latencies.max),
            );
            println!(
                "      of which entry POST → its answer: p50 {:.2} ms, p99 {:.2} ms",
                ms(run.answered.percentile(0.50)),
                ms(run.answered.percentile(0.99)),
            );
            let [start, warm, end] = run.rss;
            println!(
                "      RSS: {start:.1} MiB at the run's start, {warm:.1} MiB after a tenth of it, {end:.1} MiB at its end"
            );
            if run.unmatched > 0 || latencies.n as usize != run.expected {
                println!(
                    "      ({} of {} webhooks matched an entry, {} did not)",
                    latencies.n, run.expected, run.unmatched
                );
            }
        }
    }
    println!("RSS at the end {:.1} MiB", rss_mib());
}
