//! End-to-end: social proof. The real server on SQLite, the real widget in headless Chromium.
//! The site owner sets up a workspace and an inbound stream over the admin API, as they
//! would; their shop posts a conversion to the stream; the toast appears on the demo page
//! within a second and the host page hears `hookline:notification`. On a host site of its own
//! origin, in French, another visitor's entry shows up too.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use common::{RECORD_EVENTS, host_page, wait_for_events, wait_for_state, wait_in_shadow};
use serde_json::{Value, json};
use server::config::Config;
use server::social::Activity;
use server::startup::Application;
use tests::{Browser, HostSite, Page};

const HOST: &str = ".hookline-campaign";
/// The Done-when of the issue: a toast within a second of the POST.
const TOAST_WITHIN: Duration = Duration::from_secs(1);

/// The real server as `cargo xtask run` starts it (demo mode, the built bundle), with its
/// social proof feed, so the test can wait for the widget to connect.
struct Server {
    base_url: String,
    activity: Activity,
    _data: tempfile::TempDir,
}

async fn spawn_server() -> anyhow::Result<Server> {
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let widget_dir = std::env::var_os("HOOKLINE_WIDGET_DIR")
        .map_or_else(|| workspace.join("target/widget-dist"), Into::into);
    anyhow::ensure!(
        widget_dir.join("hookline_widget_bg.wasm").is_file(),
        "no widget bundle in {}: run the tests with `cargo xtask test`, which builds it",
        widget_dir.display()
    );
    let data = tempfile::tempdir().context("failed to make a database directory")?;
    let config = Config {
        bind: "127.0.0.1:0".parse()?,
        database_url: format!("sqlite://{}", data.path().join("hookline.db").display()),
        widget_dir,
        www_dir: workspace.join("www"),
        demo: true,
        ..Config::default()
    };
    let app = Application::build(config)
        .await
        .context("failed to build the server")?;
    let (base_url, activity) = (app.base_url(), app.activity());
    tokio::spawn(app.run_until_stopped());
    Ok(Server {
        base_url,
        activity,
        _data: data,
    })
}

/// The site owner's side, over HTTP: the admin API with their key, and their shop's posts.
struct Owner {
    http: reqwest::Client,
    base_url: String,
    key: String,
}

impl Owner {
    /// First-run setup (the demo campaign joins the new workspace).
    async fn set_up(base_url: &str) -> anyhow::Result<Self> {
        // Errs when a provider is installed already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut owner = Self {
            http: reqwest::Client::new(),
            base_url: base_url.to_owned(),
            key: String::new(),
        };
        let setup = owner
            .send("POST", "/api/v1/setup", json!({"name": "Acme"}))
            .await?;
        owner.key = setup["api_key"]["key"]
            .as_str()
            .context("setup answers a key")?
            .to_owned();
        Ok(owner)
    }

    async fn send(&self, method: &str, path: &str, body: Value) -> anyhow::Result<Value> {
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base_url)
        };
        let mut request = self.http.request(method, &url);
        if !self.key.is_empty() {
            request = request.bearer_auth(&self.key);
        }
        let response = request
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .with_context(|| format!("{url} did not answer"))?;
        let status = response.status();
        let answer: Value = serde_json::from_slice(&response.bytes().await?).unwrap_or_default();
        anyhow::ensure!(status.is_success(), "{url}: {status} {answer}");
        Ok(answer)
    }

    /// Social proof on the demo campaign, with `settings`; a stream for it; its URL.
    async fn social_proof(&self, settings: Value) -> anyhow::Result<String> {
        self.send(
            "PATCH",
            "/api/v1/campaigns/demo",
            json!({"settings": {"social_proof": settings}}),
        )
        .await?;
        let stream = self
            .send(
                "POST",
                "/api/v1/streams",
                json!({"name": "Shop", "campaigns": ["demo"]}),
            )
            .await?;
        Ok(stream["url"].as_str().context("a stream URL")?.to_owned())
    }
}

fn unix_ms() -> anyhow::Result<i64> {
    Ok(i64::try_from(
        SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis(),
    )?)
}

/// Notes in `window.toastAt` (unix ms, the page's clock) when a toast first shows in `host`.
const WATCH_TOASTS: &str = r#"const host = document.querySelector(arguments[0]);
    window.toastAt = null;
    const check = () => {
      if (window.toastAt === null && host.shadowRoot && host.shadowRoot.querySelector(".hl-toast")) {
        window.toastAt = Date.now();
      }
    };
    new MutationObserver(check).observe(host.shadowRoot, { subtree: true, childList: true });
    check();"#;

#[tokio::test]
async fn a_conversion_posted_to_a_stream_shows_as_a_toast_on_the_demo_page() -> anyhow::Result<()> {
    let server = spawn_server().await?;
    let owner = Owner::set_up(&server.base_url).await?;
    let stream_url = owner
        .social_proof(json!({"enabled": true, "position": "bottom_right", "display_seconds": 60}))
        .await?;

    let browser = Browser::start().await?;
    browser.goto(&format!("{}/", server.base_url)).await?;
    // The host page's own listener, as a site owner would write it.
    browser
        .eval(
            r#"window.heard = [];
               window.addEventListener("hookline:notification", function (e) { heard.push(e.detail); });"#,
            vec![],
        )
        .await?;
    wait_for_state(&browser, HOST, "ready").await?;
    // The widget follows the feed (one connection), so the conversion comes live.
    tokio::time::timeout(
        Duration::from_secs(10),
        server.activity.wait_for_connections(1),
    )
    .await
    .context("the widget never connected to the activity feed")?;
    assert_eq!(server.activity.connections(), 1, "one feed per widget");
    browser.eval(WATCH_TOASTS, vec![json!(HOST)]).await?;

    let conversion = json!({
        "email": "joe.bloggs@example.com", "timestamp": unix_ms()?, "ip": "141.92.55.102",
        "firstName": "Joe", "lastName": "Bloggs", "city": "Miami", "countryCode": "US", "stateCode": "FL",
        "productName": "Sneakers", "productLink": "https://sneakers.com/sneakers",
        "total": 55, "currency": "USD",
    });
    let posted_at = unix_ms()?;
    let answer = owner.send("POST", &stream_url, conversion).await?;
    assert_eq!(answer["status"], "created");

    let text = wait_in_shadow(&browser, HOST, ".hl-toast", None).await?;
    let shown_at = browser
        .eval("return window.toastAt;", vec![])
        .await?
        .as_i64()
        .context("the toast's time")?;
    let latency = Duration::from_millis(u64::try_from(shown_at - posted_at).unwrap_or_default());
    assert!(
        latency < TOAST_WITHIN,
        "the toast took {latency:?} after the POST"
    );
    assert!(
        text.contains("Joe B. from Miami, FL bought Sneakers") && text.contains("just now"),
        "{text:?}"
    );

    // An accessible toast: in a polite status region, its link a new tab, its close button
    // labelled; all inside the widget's shadow root.
    let toast = browser
        .eval(
            r#"const root = document.querySelector(arguments[0]).shadowRoot;
               const region = root.querySelector(".hl-toasts");
               const link = root.querySelector(".hl-toast a");
               const close = root.querySelector(".hl-toast button.hl-toast-close");
               const box = root.querySelector(".hl-toast").getBoundingClientRect();
               return { role: region.getAttribute("role"), live: region.getAttribute("aria-live"),
                        href: link.href, target: link.target, rel: link.rel,
                        close: close.getAttribute("aria-label"), type: close.type,
                        right: window.innerWidth - box.right, bottom: window.innerHeight - box.bottom,
                        outside: document.querySelectorAll(".hl-toast").length };"#,
            vec![json!(HOST)],
        )
        .await?;
    assert_eq!(toast["role"], "status");
    assert_eq!(toast["live"], "polite");
    assert_eq!(toast["href"], "https://sneakers.com/sneakers");
    assert_eq!(toast["target"], "_blank");
    assert_eq!(toast["rel"], "noopener noreferrer");
    assert_eq!(toast["close"], "Hide notifications");
    assert_eq!(toast["type"], "button");
    assert_eq!(toast["outside"], 0, "nothing leaks out of the shadow root");
    let corner = |side: &str| toast[side].as_f64().unwrap_or(f64::MAX);
    assert!(
        corner("right") < 40.0 && corner("bottom") < 40.0,
        "bottom right, as set: {toast}"
    );
    browser.screenshot("social-proof-toast").await?;

    // The host page's listener heard it, with no email address in it.
    let heard = browser.eval("return window.heard;", vec![]).await?;
    let heard = heard.as_array().context("heard is a list")?;
    assert_eq!(heard.len(), 1, "{heard:?}");
    let detail = &heard[0];
    assert_eq!(detail["campaign"]["key"], "demo");
    assert_eq!(detail["text"], "Joe B. from Miami, FL bought Sneakers");
    assert_eq!(detail["notification"]["id"], format!("cv_{}", answer["id"]));
    assert_eq!(detail["notification"]["kind"], "conversion");
    assert_eq!(detail["notification"]["name"], "Joe B.");
    assert_eq!(detail["notification"]["place"], "Miami, FL");
    assert_eq!(detail["notification"]["product"]["name"], "Sneakers");
    let said = detail.to_string();
    assert!(
        !said.contains('@') && !said.contains("bloggs@") && !said.contains("141.92"),
        "no email or address reaches the page: {said}"
    );

    // The keyboard closes it (Escape on its close button), for the rest of the visit.
    browser
        .find_in_shadow(HOST, ".hl-toast-close")
        .await?
        .send_keys("\u{e00c}")
        .await?;
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
        .await
        .context("Escape did not close the toast")?;
    let visit = browser
        .eval("return sessionStorage.getItem('hookline:t:demo');", vec![])
        .await?;
    assert_eq!(visit, "x", "no more toasts in this visit");
    browser.close().await
}

#[tokio::test]
async fn another_visitors_entry_shows_in_french_on_a_host_site() -> anyhow::Result<()> {
    let server = spawn_server().await?;
    let owner = Owner::set_up(&server.base_url).await?;
    owner
        .social_proof(
            json!({"enabled": true, "position": "top_left", "display_seconds": 60,
                             "fields": {"location": false}}),
        )
        .await?;
    let body =
        r#"<main><div class="hookline-campaign" data-campaign="demo" data-lang="fr"></div></main>"#;
    let site = HostSite::start([(
        "/concours",
        Page::new(host_page(&server.base_url, RECORD_EVENTS, body)),
    )])
    .await;
    let browser = Browser::start().await?;
    browser.goto(&site.url("/concours")).await?;
    wait_for_state(&browser, HOST, "ready").await?;
    tokio::time::timeout(
        Duration::from_secs(10),
        server.activity.wait_for_connections(1),
    )
    .await
    .context("the widget never connected to the activity feed (cross-origin)")?;

    // Ann enters from elsewhere.
    let entry = json!({
        "idempotency_key": "idem_ann_1", "entry_method_id": 1, "email": "ann.lee@example.com",
        "name": "Ann Lee", "consent": true,
    });
    owner
        .send("POST", "/api/v1/public/campaigns/demo/entries", entry)
        .await?;
    let text = wait_in_shadow(&browser, HOST, ".hl-toast", None).await?;
    assert!(
        text.contains("Ann L. a participé à Hookline Demo Giveaway")
            && text.contains("à l'instant"),
        "{text:?}"
    );
    let heard = wait_for_events(&browser, "notification", Some("demo"), 1).await?;
    let detail = &heard[0]["detail"];
    assert_eq!(
        detail["text"],
        "Ann L. a participé à Hookline Demo Giveaway"
    );
    assert_eq!(detail["notification"]["kind"], "entry");
    assert!(!detail.to_string().contains('@'), "{detail}");
    let label = browser
        .eval(
            "return document.querySelector(arguments[0]).shadowRoot.querySelector('.hl-toast-close').getAttribute('aria-label');",
            vec![json!(HOST)],
        )
        .await?;
    assert_eq!(label, "Masquer les notifications");
    browser.screenshot("social-proof-toast-fr").await?;
    browser.close().await
}
