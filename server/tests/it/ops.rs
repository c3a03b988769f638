//! Operations: the settings file, `/readyz`, `/metrics`, JSON logs, and stopping gracefully.

use std::collections::HashMap;
use std::process::Stdio;

use protocol::payload::EventType;
use protocol::signature::SigningSecret;
use serde_json::{Value, json};
use server::Config;
use server::config::{MetricsToken, SettingsFile, WebhookSetting};
use server::store::Store;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::{Child, ChildStderr};

use crate::helpers::{
    PATIENCE, SECRET, ScriptedReceiver, build_app_with, entry_body, fresh_database_url, spawn_app,
    spawn_app_with,
};

/// The route template of posting an entry, as metrics label it.
const ENTRIES_ROUTE: &str = "/api/v1/public/campaigns/{key}/entries";

/// The line of `/metrics` text for `sample` (name and labels), with its value.
fn metric(text: &str, sample: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
}

async fn scrape(app: &crate::helpers::TestApp) -> String {
    let response = app.get("/metrics").await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    response.text().await.unwrap()
}

#[tokio::test]
async fn settings_come_from_the_file_and_the_environment_wins() {
    let file = SettingsFile::parse(
        "hookline.toml",
        r#"
            bind = "127.0.0.1:0"
            demo = false

            [delivery]
            concurrency = 5
            concurrency_per_endpoint = 2

            [metrics]
            token = "from-the-file"
        "#,
    )
    .unwrap();
    let env: HashMap<&str, &str> = [
        ("HOOKLINE_METRICS_TOKEN", "from-the-environment"),
        ("HOOKLINE_DELIVERY_CONCURRENCY_PER_ENDPOINT", "3"),
    ]
    .into();
    let read =
        Config::from_sources(Some(&file), |name| env.get(name).map(|v| (*v).to_owned())).unwrap();
    assert_eq!(read.delivery_limits.concurrency, 5);
    assert_eq!(read.delivery_limits.concurrency_per_endpoint, 3);
    assert!(!read.demo);

    // The server takes what was read: the environment's token guards /metrics.
    let app = spawn_app_with(|config| config.metrics_token = read.metrics_token.clone()).await;
    let status = |token: &'static str| {
        let request = app
            .client
            .get(app.url("/metrics"))
            .bearer_auth(token)
            .send();
        async move { request.await.unwrap().status().as_u16() }
    };
    assert_eq!(status("from-the-file").await, 401);
    assert_eq!(status("from-the-environment").await, 200);

    let error = SettingsFile::parse("hookline.toml", "[delivery]\nconcurency = 5\n")
        .expect_err("an unknown key is refused");
    assert!(
        error
            .to_string()
            .contains("unknown key `delivery.concurency`"),
        "{error}"
    );
    let bad = SettingsFile::parse("hookline.toml", "[log]\nformat = \"xml\"\n").unwrap();
    let error = Config::from_sources(Some(&bad), |_| None).expect_err("a bad value is refused");
    assert_eq!(
        error.to_string(),
        "`log.format` in hookline.toml is invalid: expected text or json, got \"xml\" \
         (or set HOOKLINE_LOG_FORMAT, which wins over the file)"
    );
    assert!(
        Config::from_sources(Some(&bad), |name| (name == "HOOKLINE_LOG_FORMAT")
            .then(|| "json".to_owned()))
        .is_ok(),
        "the environment covers the file's bad value"
    );
}

#[tokio::test]
async fn readyz_answers_ready_until_the_database_is_closed() {
    let app = spawn_app().await;
    assert_eq!(
        app.get_json("/readyz").await,
        (200, json!({"status": "ready"}))
    );
    let response = app.get("/healthz").await;
    assert_eq!(response.status().as_u16(), 200);

    app.store.close().await;
    assert_eq!(
        app.get_json("/readyz").await,
        (
            503,
            json!({"status": "not_ready", "reason": "the database is closed"})
        )
    );
    assert_eq!(
        app.get("/healthz").await.status().as_u16(),
        200,
        "liveness does not depend on the database"
    );
}

#[tokio::test]
async fn metrics_count_requests_entries_and_deliveries() {
    let app = spawn_app().await;
    app.receiver.set_responses([503, 200]);
    let (status, _) = app
        .post_entry("demo", &entry_body("key-1", "joe@example.com"))
        .await;
    assert_eq!(status, 201);
    let (status, _) = app
        .post_entry("demo", &entry_body("key-1", "joe@example.com"))
        .await;
    assert_eq!(status, 200, "the same key again is a replay");
    let (status, _) = app
        .post_entry("demo", &entry_body("key-2", "not an email"))
        .await;
    assert_eq!(status, 422);
    let (status, _) = app.post_raw("demo", "text/plain", "{").await;
    assert_eq!(status, 400);
    assert_eq!(app.get("/no/such/page").await.status().as_u16(), 404);
    assert_eq!(app.get("/widget/hookline.js").await.status().as_u16(), 200);

    let before = scrape(&app).await;
    assert_eq!(
        metric(&before, r#"hookline_deliveries_queued{state="pending"}"#),
        Some(1.0)
    );
    let now = server::clock::now_millis();
    assert_eq!(
        app.worker.try_next(now).await.unwrap(),
        server::delivery::Step::Failed
    );
    assert_eq!(
        app.worker.try_next(now + 120_000).await.unwrap(),
        server::delivery::Step::Delivered
    );

    let text = scrape(&app).await;
    for (sample, value) in [
        (
            format!(
                r#"hookline_http_requests_total{{method="POST",route="{ENTRIES_ROUTE}",status="2xx"}}"#
            ),
            2.0,
        ),
        (
            format!(
                r#"hookline_http_requests_total{{method="POST",route="{ENTRIES_ROUTE}",status="4xx"}}"#
            ),
            2.0,
        ),
        (
            r#"hookline_http_requests_total{method="GET",route="unmatched",status="4xx"}"#
                .to_owned(),
            1.0,
        ),
        (
            r#"hookline_http_requests_total{method="GET",route="/widget/*",status="2xx"}"#
                .to_owned(),
            1.0,
        ),
        (
            r#"hookline_http_requests_total{method="GET",route="/metrics",status="2xx"}"#
                .to_owned(),
            1.0,
        ),
        (
            format!(r#"hookline_http_request_duration_seconds_count{{route="{ENTRIES_ROUTE}"}}"#),
            4.0,
        ),
        (
            format!(
                r#"hookline_http_request_duration_seconds_bucket{{le="+Inf",route="{ENTRIES_ROUTE}"}}"#
            ),
            4.0,
        ),
        // This scrape itself.
        ("hookline_http_requests_in_flight".to_owned(), 1.0),
        (
            r#"hookline_entries_accepted_total{entry_type="email_subscribe"}"#.to_owned(),
            1.0,
        ),
        ("hookline_entries_replayed_total".to_owned(), 1.0),
        (
            r#"hookline_entries_refused_total{code="invalid_email"}"#.to_owned(),
            1.0,
        ),
        (
            r#"hookline_entries_refused_total{code="invalid_json"}"#.to_owned(),
            1.0,
        ),
        (
            r#"hookline_delivery_attempts_total{outcome="failed",kind="5xx"}"#.to_owned(),
            1.0,
        ),
        (
            r#"hookline_delivery_attempts_total{outcome="delivered",kind="2xx"}"#.to_owned(),
            1.0,
        ),
        (
            r#"hookline_delivery_duration_seconds_count{outcome="delivered"}"#.to_owned(),
            1.0,
        ),
        (
            r#"hookline_deliveries_queued{state="pending"}"#.to_owned(),
            0.0,
        ),
        (
            r#"hookline_deliveries_queued{state="held"}"#.to_owned(),
            0.0,
        ),
        (r#"hookline_endpoints{state="enabled"}"#.to_owned(), 1.0),
        ("hookline_deliveries_given_up_total".to_owned(), 0.0),
    ] {
        assert_eq!(metric(&text, &sample), Some(value), "{sample} in:\n{text}");
    }
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(
        !text.contains("joe@example.com") && !text.contains("key-1"),
        "no client data in labels"
    );
}

#[tokio::test]
async fn metrics_need_the_token_when_one_is_set() {
    let app = spawn_app_with(|config| {
        config.metrics_token = MetricsToken::parse("s3cret-token");
    })
    .await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let body: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(body["code"], "unauthorized");
    for wrong in [
        "Bearer s3cret-toke",
        "Bearer s3cret-token2",
        "Basic s3cret-token",
    ] {
        let response = app
            .client
            .get(app.url("/metrics"))
            .header("authorization", wrong)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401, "{wrong}");
    }
    let response = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("s3cret-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("hookline_http_requests_total")
    );
    assert_eq!(
        app.get("/readyz").await.status().as_u16(),
        200,
        "only /metrics is guarded"
    );
}

/// Reads `stderr` (JSON lines) until one satisfies `wanted`; returns it.
async fn next_json_line(
    lines: &mut tokio::io::Lines<BufReader<ChildStderr>>,
    what: &str,
    wanted: impl Fn(&Value) -> bool,
) -> Value {
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let value: Value = serde_json::from_str(&line)
                .unwrap_or_else(|error| panic!("not a JSON log line ({error}): {line}"));
            if wanted(&value) {
                return value;
            }
        }
        panic!("the server ended before logging {what}");
    };
    tokio::time::timeout(PATIENCE, read)
        .await
        .unwrap_or_else(|_| panic!("the server never logged {what}"))
}

/// Sends SIGTERM to `child`, as a process manager does.
fn terminate(child: &Child) {
    let pid = child.id().expect("the server is running");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn the_binary_reads_its_settings_file_logs_json_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("hookline.toml");
    std::fs::write(
        &settings,
        format!(
            "bind = \"127.0.0.1:0\"\ndatabase_url = \"{}\"\ndemo = false\n\
             widget_dir = \"{}\"\nwww_dir = \"{}\"\n\n[log]\nformat = \"json\"\n",
            fresh_database_url(dir.path()).await,
            dir.path().display(),
            dir.path().display(),
        ),
    )
    .unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("--config")
        .arg(&settings)
        // Only what the test means to set: no HOOKLINE_* of the shell running the tests.
        .env_clear()
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let listening = next_json_line(&mut lines, "that it listens", |line| {
        line["fields"]["message"] == "Hookline is listening"
    })
    .await;
    assert_eq!(listening["level"], "INFO");
    assert!(listening["timestamp"].is_string());
    let url = listening["fields"]["url"].as_str().unwrap().to_owned();

    let response = reqwest::get(format!("{url}/healthz")).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let request_line = next_json_line(&mut lines, "the request", |line| {
        line["span"]["uri"] == "/healthz" && line["fields"]["status"].is_number()
    })
    .await;
    assert_eq!(request_line["span"]["method"], "GET");
    assert_eq!(request_line["fields"]["status"], 200);
    assert!(
        request_line["fields"]["latency"].is_string(),
        "{request_line}"
    );

    terminate(&child);
    next_json_line(&mut lines, "that it stops", |line| {
        line["fields"]["message"] == "stopped"
    })
    .await;
    let exited = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .expect("the server exits after SIGTERM")
        .unwrap();
    assert!(exited.success(), "{exited}");
}

#[tokio::test]
async fn the_binary_refuses_an_unknown_key_in_its_settings_file() {
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("hookline.toml");
    std::fs::write(&settings, "[delivery]\nconcurency = 64\n").unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .env_clear()
        .env("HOOKLINE_CONFIG", &settings)
        .env("HOOKLINE_BIND", "127.0.0.1:0")
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unknown key `delivery.concurency`")
            && stderr.contains(&settings.display().to_string()),
        "{stderr}"
    );
}

/// Reads an HTTP/1.1 response head (up to the blank line) from `stream`.
async fn read_head(stream: &mut tokio::net::TcpStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0_u8; 1];
        let n = tokio::time::timeout(PATIENCE, stream.read(&mut byte))
            .await
            .expect("the server answers")
            .unwrap();
        assert_eq!(n, 1, "the connection closed in a response head: {head:?}");
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

#[tokio::test]
async fn stopping_drains_then_finishes_requests_and_webhooks_under_way() {
    let receiver = ScriptedReceiver::start(true).await;
    let mut database_url = String::new();
    let (app, test) = build_app_with(|config| {
        config.deliver_in_background = true;
        // Long enough never to end by itself here: the second signal ends it.
        config.shutdown_delay = std::time::Duration::from_secs(3600);
        config.webhook = Some(WebhookSetting {
            url: receiver.url(),
            secret: Some(SigningSecret::parse(SECRET).unwrap()),
            events: vec![EventType::EntryCreated],
        });
        database_url.clone_from(&config.database_url);
    })
    .await;
    let handle = app.shutdown_handle();
    let running = tokio::spawn(app.run_until(std::future::pending()));

    // A webhook try in flight: the receiver holds it open.
    let (status, _) = test
        .post_entry("demo", &entry_body("key-1", "joe@example.com"))
        .await;
    assert_eq!(status, 201);
    receiver.wait_in_flight(1).await;

    // A request in flight: the handler has started reading its body (the server said
    // `100 Continue`), and the body is not all there yet.
    let body = entry_body("key-2", "ann@example.com").to_string();
    let address = test.base_url.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /api/v1/public/campaigns/demo/entries HTTP/1.1\r\nhost: {address}\r\n\
                 content-type: text/plain;charset=UTF-8\r\ncontent-length: {}\r\n\
                 expect: 100-continue\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let head = read_head(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 100 Continue\r\n"), "{head}");

    assert_eq!(test.get_json("/readyz").await.0, 200);
    handle.shut_down();
    assert_eq!(
        test.get_json("/readyz").await,
        (503, json!({"status": "shutting_down"})),
        "/readyz turns 503 at once"
    );
    assert_eq!(
        test.get("/healthz").await.status().as_u16(),
        200,
        "and the server still serves while draining"
    );

    handle.shut_down();
    handle.stopping().await;
    stream.write_all(body.as_bytes()).await.unwrap();
    let head = read_head(&mut stream).await;
    assert!(
        head.starts_with("HTTP/1.1 201 Created\r\n"),
        "the request under way is answered: {head}"
    );

    receiver.release();
    tokio::time::timeout(PATIENCE, running)
        .await
        .expect("the server stops once the webhook try is done")
        .unwrap()
        .unwrap();
    assert_eq!(receiver.webhook_ids().len(), 1, "nothing new was sent");

    let store = Store::connect(&database_url).await.unwrap();
    let (entries, attempts, delivered): (i64, i64, i64) = server::with_pool!(store.pool(), pool => {
        sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM entries), (SELECT COUNT(*) FROM attempts),
                    (SELECT COUNT(*) FROM deliveries WHERE status = 'delivered')",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    });
    assert_eq!(
        (entries, attempts, delivered),
        (2, 1, 1),
        "both entries are stored, and the try in flight was recorded"
    );
    store.close().await;
}
