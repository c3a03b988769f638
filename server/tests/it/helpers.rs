//! `spawn_app()` and the small calls every test makes.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::response::IntoResponse as _;

use protocol::payload::EventType;
use protocol::signature::SigningSecret;
use serde_json::{Value, json};
use server::address::AllowList;
use server::config::WebhookSetting;
use server::delivery::{DeliveryWorker, Step};
use server::jobs::JobRunner;
use server::store::Store;
use server::{Application, Config};
use tempfile::TempDir;
use tests::TestReceiver;
use tokio::sync::watch;

/// The secret the test endpoint is configured with.
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// The master key the tests' servers encrypt connector credentials under.
pub const MASTER_KEY: &str = "aG9va2xpbmUtdGVzdC1tYXN0ZXIta2V5LTMyLWJ5dGU=";
/// Long enough for anything a test waits on; only reached when a test fails.
pub const PATIENCE: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct TestApp {
    pub base_url: String,
    pub worker: DeliveryWorker,
    pub jobs: JobRunner,
    pub store: Store,
    pub receiver: TestReceiver,
    pub secret: SigningSecret,
    pub client: reqwest::Client,
    pub widget_dir: PathBuf,
    _dir: TempDir,
}

/// An app with the demo off, the background loop off and one endpoint: the test receiver,
/// on loopback, which is therefore allowed.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with the config changed by `customise` first.
pub async fn spawn_app_with(customise: impl FnOnce(&mut Config)) -> TestApp {
    let (app, test_app) = build_app_with(customise).await;
    tokio::spawn(app.run_until(std::future::pending()));
    test_app
}

/// A server on the database at `database_url` (its own otherwise), running until its
/// shutdown handle is used; the handle and the join of its run.
pub async fn start_on(
    database_url: &str,
) -> (
    TestApp,
    server::startup::ShutdownHandle,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let database_url = database_url.to_owned();
    let (server, test_app) = build_app_with(|config| {
        config.webhook = None;
        config.database_url = database_url;
    })
    .await;
    let handle = server.shutdown_handle();
    let running = tokio::spawn(server.run_until(std::future::pending()));
    (test_app, handle, running)
}

/// Shuts a server [`start_on`] started down and waits until it has stopped, cleanly.
pub async fn stop_app(
    handle: server::startup::ShutdownHandle,
    running: tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    handle.shut_down();
    tokio::time::timeout(PATIENCE, running)
        .await
        .expect("the server stops")
        .expect("its task ends")
        .expect("it stops cleanly");
}

/// Like [`spawn_app_with`], but not yet running: for tests that run and stop it themselves.
pub async fn build_app_with(customise: impl FnOnce(&mut Config)) -> (Application, TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let widget_dir = dir.path().join("widget");
    let www_dir = dir.path().join("www");
    std::fs::create_dir_all(&widget_dir).unwrap();
    std::fs::create_dir_all(&www_dir).unwrap();
    std::fs::write(
        www_dir.join("index.html"),
        "<!doctype html><title>Hookline demo</title>",
    )
    .unwrap();
    std::fs::write(www_dir.join("site.css"), "body { margin: 0 }").unwrap();
    let receiver = TestReceiver::start().await;
    let secret = SigningSecret::parse(SECRET).unwrap();
    let mut config = Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: fresh_database_url(dir.path()).await,
        widget_dir: widget_dir.clone(),
        www_dir,
        demo: false,
        webhook: Some(WebhookSetting {
            url: receiver.url(),
            secret: Some(secret.clone()),
            events: vec![EventType::EntryCreated],
        }),
        deliver_in_background: false,
        allow_networks: AllowList::loopback(),
        allow_http_webhooks: true,
        secret_key: Some(MASTER_KEY.to_owned()),
        ..Config::default()
    };
    customise(&mut config);
    let app = Application::build(config)
        .await
        .expect("the application builds");
    let test_app = TestApp {
        base_url: app.base_url(),
        worker: app.delivery_worker(),
        jobs: app.job_runner(),
        store: app.store().clone(),
        receiver,
        secret,
        client: reqwest::Client::new(),
        widget_dir,
        _dir: dir,
    };
    (app, test_app)
}

/// The PostgreSQL server the tests run on, when they run on PostgreSQL: set by `cargo xtask
/// test` for the suite's second run (e.g. `postgres://postgres@127.0.0.1:5432/postgres`).
pub const POSTGRES_VARIABLE: &str = "HOOKLINE_TEST_POSTGRES_URL";

/// A database of its own for one test: a SQLite file in `dir`, or a new PostgreSQL database
/// on the server [`POSTGRES_VARIABLE`] names.
pub async fn fresh_database_url(dir: &std::path::Path) -> String {
    let Some(server) = std::env::var(POSTGRES_VARIABLE)
        .ok()
        .filter(|url| !url.is_empty())
    else {
        return format!("sqlite://{}", dir.join("hookline.db").display());
    };
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "hl_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&server)
        .await
        .unwrap_or_else(|error| panic!("cannot reach PostgreSQL at {server}: {error}"));
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name}"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let (base, _) = server.rsplit_once('/').expect("a URL with a database name");
    format!("{base}/{name}")
}

/// Rows in the tables an entry writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub contestants: i64,
    pub entries: i64,
    pub deliveries: i64,
    pub attempts: i64,
}

/// A valid entry for the demo campaign's only entry method.
pub fn entry_body(idempotency_key: &str, email: &str) -> Value {
    json!({
        "idempotency_key": idempotency_key,
        "entry_method_id": 1,
        "email": email,
        "name": "Joe Bloggs",
        "consent": true,
        "details": {"How are you?": "Great, thanks!", "Postcode": 8282},
        "landing_url": "https://example.com/giveaway",
        "referring_url": "https://search.example/",
        "honeypot": ""
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// GETs `path` and parses the JSON answer.
    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (
            status,
            serde_json::from_slice(&response.bytes().await.unwrap()).unwrap(),
        )
    }

    /// POSTs raw bytes as an entry of campaign `key`.
    pub async fn post_raw(
        &self,
        key: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (u16, Value) {
        let response = self
            .client
            .post(self.url(&format!("/api/v1/public/campaigns/{key}/entries")))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap();
        let value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            panic!(
                "not JSON (status {status}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        (status, value)
    }

    /// POSTs an entry the way the widget does (`text/plain`).
    pub async fn post_entry(&self, key: &str, body: &Value) -> (u16, Value) {
        self.post_raw(key, "text/plain;charset=UTF-8", body.to_string())
            .await
    }

    pub async fn counts(&self) -> Counts {
        let count = |table: &'static str| async move {
            let sql = match table {
                "contestants" => "SELECT COUNT(*) FROM contestants",
                "entries" => "SELECT COUNT(*) FROM entries",
                "deliveries" => "SELECT COUNT(*) FROM deliveries",
                _ => "SELECT COUNT(*) FROM attempts",
            };
            self.scalar(sql).await
        };
        Counts {
            contestants: count("contestants").await,
            entries: count("entries").await,
            deliveries: count("deliveries").await,
            attempts: count("attempts").await,
        }
    }

    /// Calls the admin API: `method path` with API key `key` (if any) and a JSON body (if
    /// any); the status and the JSON answer (`null` for an empty one).
    pub async fn admin(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.client.request(method, self.url(path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap();
        if bytes.is_empty() {
            return (status, Value::Null);
        }
        let value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            panic!(
                "not JSON (status {status}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        (status, value)
    }

    /// Runs first-run setup and returns the new workspace's API key.
    pub async fn setup(&self) -> String {
        let (status, body) = self
            .admin("POST", "/api/v1/setup", None, Some(json!({"name": "Acme"})))
            .await;
        assert_eq!(status, 201, "{body}");
        body["api_key"]["key"].as_str().unwrap().to_owned()
    }

    /// The one number `sql` selects (a count, say), on whichever database the app is on.
    pub async fn scalar(&self, sql: &'static str) -> i64 {
        server::with_pool!(self.store.pool(), pool => {
            sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.unwrap()
        })
    }

    /// Runs `sql` (an update a test makes behind the server's back).
    pub async fn execute(&self, sql: &'static str) {
        server::with_pool!(self.store.pool(), pool => {
            sqlx::query(sql).execute(pool).await.unwrap();
        });
    }

    /// Runs the worker at `now` until nothing is due; returns the steps taken.
    pub async fn drain(&self, now: i64) -> Vec<Step> {
        let mut steps = Vec::new();
        loop {
            let step = self.worker.try_next(now).await.unwrap();
            steps.push(step);
            if step == Step::Idle || steps.len() > 50 {
                return steps;
            }
        }
    }
}

/// A webhook receiver whose answers a test scripts: statuses with headers, and requests held
/// open until [`ScriptedReceiver::release`], counting how many are open at once.
#[derive(Debug)]
pub struct ScriptedReceiver {
    address: std::net::SocketAddr,
    state: Arc<Script>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// A status and its headers.
type Reply = (u16, Vec<(&'static str, String)>);

#[derive(Debug)]
struct Script {
    replies: Mutex<VecDeque<Reply>>,
    /// False while requests are held open.
    released: watch::Sender<bool>,
    in_flight: watch::Sender<usize>,
    max_in_flight: AtomicUsize,
    /// `webhook-id` of every request, in arrival order.
    webhook_ids: watch::Sender<Vec<String>>,
}

impl ScriptedReceiver {
    /// Starts a receiver on a free local port; it holds requests open if `hold` is true.
    pub async fn start(hold: bool) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let state = Arc::new(Script {
            replies: Mutex::default(),
            released: watch::Sender::new(!hold),
            in_flight: watch::Sender::new(0),
            max_in_flight: AtomicUsize::new(0),
            webhook_ids: watch::Sender::new(Vec::new()),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&state));
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    // Errs when the receiver is dropped, which is the signal to stop.
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Self {
            address,
            state,
            _stop: stop,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hooks", self.address)
    }

    /// Answers the next request with `status` and these headers (then 204 again).
    pub fn reply(&self, status: u16, headers: &[(&'static str, &str)]) {
        let headers = headers
            .iter()
            .map(|&(name, value)| (name, value.to_owned()))
            .collect();
        self.state
            .replies
            .lock()
            .unwrap()
            .push_back((status, headers));
    }

    /// Lets every held request (and every later one) be answered.
    pub fn release(&self) {
        self.state.released.send_replace(true);
    }

    /// The most requests that were open at once.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    pub fn webhook_ids(&self) -> Vec<String> {
        self.state.webhook_ids.borrow().clone()
    }

    /// Waits until `n` requests are open at once.
    pub async fn wait_in_flight(&self, n: usize) {
        let mut in_flight = self.state.in_flight.subscribe();
        tokio::time::timeout(PATIENCE, in_flight.wait_for(|open| *open >= n))
            .await
            .unwrap_or_else(|_| panic!("{n} requests were never open at once"))
            .unwrap();
    }

    /// Waits until `n` requests have arrived.
    pub async fn wait_for(&self, n: usize) {
        let mut ids = self.state.webhook_ids.subscribe();
        tokio::time::timeout(PATIENCE, ids.wait_for(|ids| ids.len() >= n))
            .await
            .unwrap_or_else(|_| panic!("{n} requests never arrived"))
            .unwrap();
    }
}

async fn answer(
    axum::extract::State(state): axum::extract::State<Arc<Script>>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    let webhook_id = headers
        .get("webhook-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    state.webhook_ids.send_modify(|ids| ids.push(webhook_id));
    state.in_flight.send_modify(|open| *open += 1);
    state
        .max_in_flight
        .fetch_max(*state.in_flight.borrow(), Ordering::SeqCst);
    let mut released = state.released.subscribe();
    released.wait_for(|released| *released).await.unwrap();
    state.in_flight.send_modify(|open| *open -= 1);
    let (status, headers) = state
        .replies
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or((204, Vec::new()));
    let mut response = axum::http::StatusCode::from_u16(status)
        .unwrap()
        .into_response();
    for (name, value) in headers {
        response
            .headers_mut()
            .insert(name, axum::http::HeaderValue::from_str(&value).unwrap());
    }
    response
}

/// Adds an endpoint for `url` subscribed to `entry.created`, signed with [`SECRET`], as a
/// person would (not managed by the settings); returns its row id.
pub async fn add_endpoint(store: &Store, url: &str) -> i64 {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let public_id = format!("ep_test{}", NEXT.fetch_add(1, Ordering::SeqCst));
    server::with_pool!(store.pool(), pool => {
        sqlx::query_scalar(
            "INSERT INTO endpoints (public_id, url, secret, events, enabled, created_at, updated_at)
             VALUES ($1, $2, $3, '[\"entry.created\"]', TRUE, 0, 0)
             RETURNING id",
        )
        .bind(&public_id)
        .bind(url)
        .bind(SECRET)
        .fetch_one(pool)
        .await
        .unwrap()
    })
}

/// An endpoint's `(enabled, disabled_reason, n_consecutive_failures)`.
pub async fn endpoint_health(store: &Store, url: &str) -> (bool, Option<String>, i64) {
    server::with_pool!(store.pool(), pool => {
        sqlx::query_as(
            "SELECT enabled, disabled_reason, n_consecutive_failures FROM endpoints WHERE url = $1",
        )
        .bind(url)
        .fetch_one(pool)
        .await
        .unwrap()
    })
}
