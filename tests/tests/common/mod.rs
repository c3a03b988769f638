//! What the widget's end-to-end tests share: the real server (SQLite, demo mode, the built
//! widget bundle) on a free port, campaigns made through the store, host pages that embed
//! the widget from the server's origin, and waits on page events (never sleeps).

#![allow(dead_code)]

pub mod console;

use std::path::{Path, PathBuf};

use anyhow::Context;
use protocol::campaign::{CampaignType, EntryMethodType};
use protocol::ids::CampaignKey;
use serde_json::{Value, json};
use server::config::Config;
use server::startup::Application;
use server::store::{CampaignRecord, NewCampaign, NewEntryMethod, Store};
use tests::Browser;

/// A running server and its store.
#[derive(Debug)]
pub struct Server {
    pub base_url: String,
    pub store: Store,
    _data: tempfile::TempDir,
}

/// The real server, as `cargo xtask run` starts it, on a free port with a fresh database.
pub async fn spawn_server() -> anyhow::Result<Server> {
    spawn_server_with(|_| {}).await
}

/// [`spawn_server`] with its settings changed by `change` first.
pub async fn spawn_server_with(change: impl FnOnce(&mut Config)) -> anyhow::Result<Server> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let widget_dir = std::env::var_os("HOOKLINE_WIDGET_DIR")
        .map_or_else(|| workspace.join("target/widget-dist"), PathBuf::from);
    anyhow::ensure!(
        widget_dir.join("hookline_widget_bg.wasm").is_file(),
        "no widget bundle in {}: run the tests with `cargo xtask test`, which builds it",
        widget_dir.display()
    );
    let data = tempfile::tempdir().context("failed to make a database directory")?;
    let mut config = Config {
        bind: "127.0.0.1:0".parse()?,
        database_url: format!("sqlite://{}", data.path().join("hookline.db").display()),
        widget_dir,
        www_dir: workspace.join("www"),
        demo: true,
        ..Config::default()
    };
    change(&mut config);
    let app = Application::build(config)
        .await
        .context("failed to build the server")?;
    let base_url = app.base_url();
    let store = app.store().clone();
    tokio::spawn(app.run_until_stopped());
    Ok(Server {
        base_url,
        store,
        _data: data,
    })
}

/// Creates a running campaign with one email subscription (consent asked) and the given
/// other methods (worth 2, not mandatory).
pub async fn add_campaign(
    store: &Store,
    key: &str,
    name: &str,
    campaign_type: CampaignType,
    others: &[(EntryMethodType, &str)],
) -> anyhow::Result<()> {
    let others: Vec<(EntryMethodType, &str, bool)> = others
        .iter()
        .map(|(kind, action)| (*kind, *action, false))
        .collect();
    add_campaign_with(store, key, name, campaign_type, &others).await
}

/// Like [`add_campaign`], saying which other methods are mandatory.
pub async fn add_campaign_with(
    store: &Store,
    key: &str,
    name: &str,
    campaign_type: CampaignType,
    others: &[(EntryMethodType, &str, bool)],
) -> anyhow::Result<()> {
    let mut subscribe = NewEntryMethod::new(
        EntryMethodType::EmailSubscribe,
        "Subscribe to our newsletter",
    );
    subscribe.mandatory = true;
    let mut entry_methods = vec![subscribe];
    entry_methods.extend(others.iter().map(|(method_type, action, mandatory)| {
        let mut method = NewEntryMethod::new(*method_type, action);
        method.worth = 2;
        method.mandatory = *mandatory;
        method
    }));
    let mut campaign = NewCampaign::new(
        CampaignKey::parse(key).context("a valid test key")?,
        name,
        campaign_type,
    );
    campaign.description = format!("The {key} test campaign.");
    campaign.consent_text = "I agree to receive emails.".to_owned();
    campaign.entry_methods = entry_methods;
    store
        .insert_campaign_if_absent(&campaign, 0)
        .await
        .context("failed to create a test campaign")?;
    Ok(())
}

/// How many entries the database holds.
pub async fn count_entries(store: &Store) -> anyhow::Result<i64> {
    Ok(server::with_pool!(store.pool(), pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM entries")
            .fetch_one(pool)
            .await
            .context("failed to count entries")?
    }))
}

/// The script a host page runs first: it records every `hookline:*` event that reaches
/// `window` (with the `data-campaign` of the element it came from) in `window.seen`.
pub const RECORD_EVENTS: &str = r#"<script>
  window.seen = [];
  ["ready", "login", "capture", "entry", "reward", "open", "close", "error", "notification"].forEach(function (name) {
    window.addEventListener("hookline:" + name, function (event) {
      var from = event.target && event.target.getAttribute ? event.target.getAttribute("data-campaign") : null;
      window.seen.push({ name: name, campaign: from, detail: event.detail });
    });
  });
</script>"#;

/// A host page: `head` (styles, scripts), then `body`, then the loader from `base_url`.
pub fn host_page(base_url: &str, head: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Host page</title>{head}</head><body>{body}\
         <script async src=\"{base_url}/widget/hookline.js\"></script></body></html>"
    )
}

/// Waits until `window.seen` holds `n` events named `name` (from `campaign`, if given) and
/// returns those events.
pub async fn wait_for_events(
    browser: &Browser,
    name: &str,
    campaign: Option<&str>,
    n: usize,
) -> anyhow::Result<Vec<Value>> {
    let found = browser
        .eval_async(
            r#"const [name, campaign, n, done] = arguments;
               const matching = () => window.seen.filter(e => e.name === name && (campaign === null || e.campaign === campaign));
               const check = () => { const found = matching(); if (found.length >= n) { done(found); return true; } return false; };
               if (check()) return;
               ["ready", "login", "capture", "entry", "reward", "open", "close", "error", "notification"].forEach(function (event) {
                 window.addEventListener("hookline:" + event, function () { setTimeout(check, 0); });
               });"#,
            vec![json!(name), json!(campaign), json!(n)],
        )
        .await
        .with_context(|| format!("{n} hookline:{name} event(s) never arrived"))?;
    Ok(found.as_array().cloned().unwrap_or_default())
}

/// The events seen so far.
pub async fn seen(browser: &Browser) -> anyhow::Result<Vec<Value>> {
    let seen = browser.eval("return window.seen;", vec![]).await?;
    Ok(seen.as_array().cloned().unwrap_or_default())
}

/// Waits until something in the shadow root of `host` matches `selector` (and, if given,
/// its text contains `text`); returns that text.
pub async fn wait_in_shadow(
    browser: &Browser,
    host: &str,
    selector: &str,
    text: Option<&str>,
) -> anyhow::Result<String> {
    let found = browser
        .eval_async(
            r#"const [host, selector, text, done] = arguments;
               const element = document.querySelector(host);
               const check = () => {
                 const root = element && element.shadowRoot;
                 const found = root && Array.from(root.querySelectorAll(selector))
                   .find(node => text === null || node.textContent.includes(text));
                 if (found) { done(found.textContent); return true; }
                 return false;
               };
               if (check()) return;
               const observer = new MutationObserver(() => { if (check()) observer.disconnect(); });
               const watch = () => {
                 if (element.shadowRoot) {
                   observer.observe(element.shadowRoot, { subtree: true, childList: true, characterData: true, attributes: true });
                 } else {
                   setTimeout(() => { if (!check()) watch(); }, 20);
                 }
               };
               watch();"#,
            vec![json!(host), json!(selector), json!(text)],
        )
        .await
        .with_context(|| format!("{selector} (text {text:?}) never appeared in {host}"))?;
    Ok(found.as_str().unwrap_or_default().to_owned())
}

/// Waits until the host element's `data-hookline-state` is `state`.
pub async fn wait_for_state(browser: &Browser, host: &str, state: &str) -> anyhow::Result<()> {
    browser
        .eval_async(
            r#"const [host, state, done] = arguments;
               const element = document.querySelector(host);
               const check = () => element && element.getAttribute("data-hookline-state") === state;
               if (check()) { done(true); return; }
               new MutationObserver((_, observer) => { if (check()) { observer.disconnect(); done(true); } })
                 .observe(element, { attributes: true });"#,
            vec![json!(host), json!(state)],
        )
        .await
        .with_context(|| format!("{host} never reached the state {state}"))?;
    Ok(())
}

/// Types the contestant's details into the widget in `host` and submits them.
pub async fn enter_details(
    browser: &Browser,
    host: &str,
    email: &str,
    name: Option<&str>,
) -> anyhow::Result<()> {
    browser
        .find_in_shadow(host, "input[name=email]")
        .await?
        .send_keys(email)
        .await?;
    if let Some(name) = name {
        browser
            .find_in_shadow(host, "input[name=name]")
            .await?
            .send_keys(name)
            .await?;
    }
    browser
        .find_in_shadow(host, "input[name=consent]")
        .await?
        .click()
        .await?;
    browser
        .find_in_shadow(host, "button[type=submit]")
        .await?
        .click()
        .await?;
    Ok(())
}

/// Creates a running campaign `key` of `campaign_type` with these `settings` (a Reward
/// campaign's `reward`, say) and entry methods, each with its own settings; consent is asked
/// as in [`add_campaign`]. Returns it as stored (its methods' ids).
pub async fn add_campaign_configured(
    store: &Store,
    key: &str,
    name: &str,
    campaign_type: CampaignType,
    settings: Value,
    entry_methods: Vec<NewEntryMethod>,
) -> anyhow::Result<CampaignRecord> {
    let mut campaign = NewCampaign::new(
        CampaignKey::parse(key).context("a valid test key")?,
        name,
        campaign_type,
    );
    campaign.description = format!("The {key} test campaign.");
    campaign.consent_text = "I agree to receive emails.".to_owned();
    campaign.settings = settings;
    campaign.entry_methods = entry_methods;
    store
        .insert_campaign(&campaign, 0)
        .await
        .context("failed to create a test campaign")?
        .map_err(|_| anyhow::anyhow!("the key {key} is taken"))
}

/// An entry method of type `kind` worth `worth`, with its settings.
pub fn entry_method(
    kind: EntryMethodType,
    action: &str,
    worth: u32,
    mandatory: bool,
    config: Value,
) -> NewEntryMethod {
    let mut method = NewEntryMethod::new(kind, action);
    method.worth = worth;
    method.mandatory = mandatory;
    method.config = config;
    method
}
