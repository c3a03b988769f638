//! Jobs benchmark: the time to send a manual job of 10,000 entries, end to end. The real
//! server in-process (background delivery and job runner on) on a SQLite temp file, and on
//! PostgreSQL when `HOOKLINE_BENCH_POSTGRES_URL` (or `HOOKLINE_TEST_POSTGRES_URL`) names a
//! server; the campaign's entries are written straight into the database first (the ingest
//! benchmark measures making them), then the clock starts at `POST /api/v1/jobs` and stops
//! when the last entry reaches a local receiver answering 204 at once. Scenarios: one request
//! per entry, one per entry with an audience that lets half through, and batches of 100.
//! Prints a table; asserts nothing about timing.
//!
//! `cargo bench -p server --bench jobs`. Setting: `HOOKLINE_BENCH_JOB_ENTRIES` (default
//! 10000).

#![allow(clippy::print_stdout, clippy::unwrap_used)]

#[allow(dead_code)]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use common::setting;
use serde_json::{Value, json};
use server::address::AllowList;
use server::{Application, Config};
use tokio::sync::watch;

/// Counts the entries that arrive (a batch counts each of its entries).
async fn start_receiver(count: Arc<watch::Sender<usize>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(receive).with_state(count);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}/hooks")
}

async fn receive(State(count): State<Arc<watch::Sender<usize>>>, body: Bytes) -> StatusCode {
    let entries = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(items)) => items.len(),
        _ => 1,
    };
    count.send_modify(|n| *n += entries);
    StatusCode::NO_CONTENT
}

/// A database for one scenario: a SQLite file in `dir`, or a fresh PostgreSQL database.
async fn database_url(postgres: Option<&str>, dir: &tempfile::TempDir, name: &str) -> String {
    let Some(server) = postgres else {
        return format!(
            "sqlite://{}",
            dir.path().join(format!("{name}.db")).display()
        );
    };
    common::fresh_postgres_database(server, name).await.0
}

/// `n` entries of the demo campaign, every other contestant on the "pro" plan.
async fn write_entries(app: &Application, n: u64) {
    let contestants = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
         INSERT INTO contestants (campaign_id, email, name, first_name, last_name, details,
                                  actions_completed, total_entries, created_at, updated_at)
         SELECT (SELECT id FROM campaigns WHERE campaign_key = 'demo'),
                'bench' || i || '@example.com', 'Bench ' || i, 'Bench', '' || i,
                CASE WHEN i % 2 = 0 THEN '{{\"Plan\":\"pro\"}}' ELSE '{{\"Plan\":\"free\"}}' END,
                1, 1, 0, 0
         FROM n"
    );
    let entries = "INSERT INTO entries (campaign_id, contestant_id, entry_method_id, idempotency_key,
                              entry_value, worth, landing_url, referring_url, honeypot,
                              actions_completed, total_entries, created_at)
         SELECT c.campaign_id, c.id, 1, 'bench-' || c.id, c.email, 1, 'https://example.com/', '', '',
                1, 1, 0
         FROM contestants c ORDER BY c.id";
    server::with_pool!(app.store().pool(), pool => {
        sqlx::query(sqlx::AssertSqlSafe(contestants)).execute(pool).await.unwrap();
        sqlx::query(entries).execute(pool).await.unwrap();
    });
}

async fn admin(client: &reqwest::Client, url: String, key: &str, body: Value) -> Value {
    let response = client
        .post(url)
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let answer: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert!(status < 300, "{status}: {answer}");
    answer
}

/// Seconds from `POST /api/v1/jobs` to the last entry received, and how many arrived.
async fn manual_job(postgres: Option<&str>, name: &str, n: u64, settings: Value) -> (f64, usize) {
    let dir = tempfile::tempdir().unwrap();
    let count = Arc::new(watch::Sender::new(0));
    let receiver = start_receiver(Arc::clone(&count)).await;
    let config = Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: database_url(postgres, &dir, name).await,
        secret_key: Some("aG9va2xpbmUtYmVuY2gtbWFzdGVyLWtleS0zMi1ieXQ=".to_owned()),
        demo: false,
        webhook: None,
        deliver_in_background: true,
        allow_networks: AllowList::loopback(),
        allow_http_webhooks: true,
        ..Config::default()
    };
    let app = Application::build(config).await.unwrap();
    write_entries(&app, n).await;
    let base_url = app.base_url();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        // Errs when the sender is dropped, which also means stop.
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let setup = admin(
        &client,
        format!("{base_url}/api/v1/setup"),
        "",
        json!({"name": "Bench"}),
    )
    .await;
    let key = setup["api_key"]["key"].as_str().unwrap().to_owned();
    let mut endpoint = json!({
        "name": "Bench", "events": ["entry.created"], "url": receiver, "test_on_save": false,
    });
    for (name, value) in settings.as_object().unwrap() {
        endpoint[name] = value.clone();
    }
    let saved = admin(
        &client,
        format!("{base_url}/api/v1/endpoints"),
        &key,
        endpoint,
    )
    .await;
    let expected = if settings.get("audience").is_some() {
        n as usize / 2
    } else {
        n as usize
    };
    let started = Instant::now();
    admin(
        &client,
        format!("{base_url}/api/v1/jobs"),
        &key,
        json!({"endpoint_id": saved["endpoint"]["id"], "campaign": "demo", "kind": "manual"}),
    )
    .await;
    let mut arrived = count.subscribe();
    tokio::time::timeout(
        Duration::from_secs(600),
        arrived.wait_for(|n| *n >= expected),
    )
    .await
    .expect("every entry arrives within ten minutes")
    .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let received = *count.borrow();
    drop(stop);
    server.await.unwrap().unwrap();
    if let Some(server) = postgres {
        common::drop_postgres_database(server, &common::postgres_database_name(name)).await;
    }
    (seconds, received)
}

fn main() {
    common::block_on(run());
}

async fn run() {
    let n = setting("HOOKLINE_BENCH_JOB_ENTRIES", 10_000);
    let postgres = ["HOOKLINE_BENCH_POSTGRES_URL", "HOOKLINE_TEST_POSTGRES_URL"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|url| !url.is_empty()));
    let mut databases = vec![("SQLite", None)];
    if let Some(server) = &postgres {
        databases.push(("PostgreSQL", Some(server.as_str())));
    }
    println!(
        "manual job of {n} entries (loopback receiver answering 204 at once; POST /api/v1/jobs → last entry received; the server's default 8 requests in flight per endpoint)"
    );
    for (label, server) in databases {
        println!("  {label}");
        println!("    scenario                               entries sent   seconds   entries/s");
        for (name, scenario, settings) in [
            ("one", "one request per entry", json!({})),
            (
                "half",
                "an audience letting half through",
                json!({"audience": {"conditions": ["user.details.Plan == \"pro\""]}}),
            ),
            (
                "batched",
                "batches of 100 entries",
                json!({"batching": {"max_events": 100}}),
            ),
        ] {
            let (seconds, received) = manual_job(server, name, n, settings).await;
            println!(
                "    {scenario:<38} {received:>12}   {seconds:>7.2}   {:>9.0}",
                received as f64 / seconds
            );
        }
    }
}
