//! `spawn_app()` and the small calls every test makes.

use std::path::PathBuf;
use std::time::Duration;

use protocol::payload::EventType;
use protocol::signature::SigningSecret;
use serde_json::{Value, json};
use server::address::AllowList;
use server::config::WebhookSetting;
use server::delivery::{DeliveryWorker, Step};
use server::store::Store;
use server::{Application, Config};
use tempfile::TempDir;
use tests::TestReceiver;

/// The secret the test endpoint is configured with.
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// Long enough for anything a test waits on; only reached when a test fails.
pub const PATIENCE: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct TestApp {
    pub base_url: String,
    pub worker: DeliveryWorker,
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
        database_url: format!("sqlite://{}", dir.path().join("hookline.db").display()),
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
        ..Config::default()
    };
    customise(&mut config);
    let app = Application::build(config)
        .await
        .expect("the application builds");
    let test_app = TestApp {
        base_url: app.base_url(),
        worker: app.delivery_worker(),
        store: app.store().clone(),
        receiver,
        secret,
        client: reqwest::Client::new(),
        widget_dir,
        _dir: dir,
    };
    tokio::spawn(app.run_until(std::future::pending()));
    test_app
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
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(self.store.pool())
                .await
                .unwrap()
        };
        Counts {
            contestants: count("contestants").await,
            entries: count("entries").await,
            deliveries: count("deliveries").await,
            attempts: count("attempts").await,
        }
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
