//! End-to-end: the real server on SQLite, the real widget bundle in headless Chromium, a real
//! webhook receiver. The test acts as a person on the demo page: types an email and a name,
//! ticks the consent box, clicks Enter, and checks what the host page and the receiver saw.

mod common;

use std::time::Duration;

use anyhow::Context;
use protocol::payload::EventType;
use protocol::signature::{SigningSecret, verify};
use serde_json::{Value, json};
use server::config::WebhookSetting;
use tests::{Browser, TestReceiver};

const RECEIVER_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const GLEAM_EXAMPLE: &str = include_str!("../../protocol/fixtures/gleam_example.json");

/// Every key path of a JSON value (`user.details`, `entry.upload.thumb_url`, …), except inside
/// `user.details`, whose keys are the campaign's own questions.
fn key_paths(value: &Value, prefix: &str, out: &mut Vec<String>) {
    if let Value::Object(map) = value {
        for (key, child) in map {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            out.push(path.clone());
            if path != "user.details" {
                key_paths(child, &path, out);
            }
        }
    }
}

fn top_level_shape(value: &Value) -> Vec<String> {
    let mut paths = Vec::new();
    key_paths(value, "", &mut paths);
    // Nullable parts (no reward, no upload) have no children to compare.
    paths.retain(|path| {
        !path.starts_with("reward.")
            && !path.starts_with("coupon.")
            && !path.starts_with("entry.upload.")
    });
    paths.sort();
    paths
}

#[tokio::test]
async fn a_person_enters_on_the_demo_page_and_a_signed_webhook_arrives() -> anyhow::Result<()> {
    let receiver = TestReceiver::start().await;
    // The server as `cargo xtask run` starts it, plus one webhook endpoint: the receiver.
    let server = common::spawn_server_with(|config| {
        config.webhook = Some(WebhookSetting {
            url: receiver.url(),
            secret: Some(SigningSecret::parse(RECEIVER_SECRET).expect("test secret is valid")),
            events: vec![EventType::EntryCreated],
        });
    })
    .await?;
    let base_url = server.base_url.clone();
    let browser = Browser::start().await?;
    browser.goto(&format!("{base_url}/")).await?;

    // The host page's own JavaScript, as a site owner would write it.
    browser
        .eval(
            r#"window.seenByListener = []; window.seenByQueue = [];
               window.addEventListener("hookline:entry", function (e) { seenByListener.push(e.detail); });
               window.Hookline = window.Hookline || [];
               Hookline.push(["on", "entry", function (d) { seenByQueue.push(d); }]);"#,
            vec![],
        )
        .await?;
    browser
        .eval_async(
            r#"const done = arguments[arguments.length - 1];
               const host = document.querySelector(".hookline-campaign");
               const check = () => host.dataset.hooklineState === "ready";
               if (check()) { done(true); return; }
               new MutationObserver((_, observer) => { if (check()) { observer.disconnect(); done(true); } })
                 .observe(host, { attributes: true });"#,
            vec![],
        )
        .await
        .context("the widget never became ready")?;
    browser.screenshot("demo-ready").await?;

    let host = ".hookline-campaign";
    // Entering with a half-typed email and no consent shows the errors in the form and posts
    // nothing.
    let email_input = browser.find_in_shadow(host, "input[name=email]").await?;
    email_input.send_keys("joe@").await?;
    browser
        .find_in_shadow(host, "button[type=submit]")
        .await?
        .click()
        .await?;
    let email_error = browser
        .find_in_shadow(host, ".hl-error[data-field=email]")
        .await?
        .text()
        .await?;
    assert!(
        email_error.contains("valid email"),
        "the email error is shown: {email_error:?}"
    );
    let consent_error = browser
        .find_in_shadow(host, ".hl-error[data-field=consent]")
        .await?;
    assert_eq!(consent_error.attr("role").await?.as_deref(), Some("alert"));
    assert_eq!(
        email_input.attr("aria-invalid").await?.as_deref(),
        Some("true")
    );
    browser.screenshot("demo-validation-errors").await?;
    let posted = browser
        .eval("return seenByListener.length;", vec![])
        .await?;
    assert_eq!(posted, 0, "nothing was entered");
    email_input.clear().await?;

    email_input.send_keys("Joe.Bloggs@Example.com").await?;
    browser
        .find_in_shadow(host, "input[name=name]")
        .await?
        .send_keys("Joe Bloggs")
        .await?;
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

    // (a) The host page received `hookline:entry` with the entry, through both APIs.
    let detail = browser
        .eval_async(
            r#"const done = arguments[arguments.length - 1];
               if (seenByListener.length) { done(seenByListener[0]); return; }
               window.addEventListener("hookline:entry", function (e) { done(e.detail); });"#,
            vec![],
        )
        .await
        .context("the host page never received hookline:entry")?;
    assert_eq!(detail["user"]["email"], "Joe.Bloggs@example.com");
    assert_eq!(detail["campaign"]["key"], "demo");
    assert_eq!(detail["total_entries"], 1);
    let entry_id = detail["entry"]["id"]
        .as_i64()
        .context("entry.id is a number")?;
    let queued = browser
        .eval("return [seenByListener.length, seenByQueue];", vec![])
        .await?;
    assert_eq!(queued[0], 1, "one DOM event per entry");
    assert_eq!(
        queued[1],
        json!([detail.clone()]),
        "Hookline.push listeners get the same detail"
    );
    let done_text = browser
        .find_in_shadow(host, ".hl-done")
        .await?
        .text()
        .await?;
    assert!(
        done_text.contains('1'),
        "the contestant sees their entry count: {done_text:?}"
    );

    // (b) The receiver got `entry.created`, signed, in Gleam's shape.
    let requests = receiver.wait_for(1, Duration::from_secs(20)).await;
    let webhook = requests.first().context("no webhook arrived")?;
    assert_eq!(webhook.method, "POST");
    assert_eq!(webhook.header("hookline-event"), Some("entry.created"));
    let secret = SigningSecret::parse(RECEIVER_SECRET).expect("test secret is valid");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    verify(
        &secret,
        webhook.header("webhook-id").context("webhook-id header")?,
        webhook
            .header("webhook-timestamp")
            .context("webhook-timestamp header")?,
        webhook
            .header("webhook-signature")
            .context("webhook-signature header")?,
        &webhook.body,
        now,
        300,
    )
    .context("the webhook signature does not verify")?;
    let body: Value = serde_json::from_slice(&webhook.body).context("the webhook body is JSON")?;
    let gleam: Value = serde_json::from_str(GLEAM_EXAMPLE)?;
    assert_eq!(
        top_level_shape(&body),
        top_level_shape(&gleam),
        "the body has Gleam's shape"
    );
    assert_eq!(body["user"]["email"], "Joe.Bloggs@example.com");
    assert_eq!(body["user"]["first_name"], "Joe");
    assert_eq!(body["user"]["last_name"], "Bloggs");
    assert_eq!(body["entry"]["id"], entry_id);
    assert_eq!(body["entry"]["type"], "email_subscribe");
    assert_eq!(body["campaign"]["key"], "demo");

    // The demo page's own panel shows the built-in demo endpoint's copy, signature checked.
    browser
        .eval_async(
            r##"const done = arguments[arguments.length - 1];
               const found = () => document.querySelector('#webhook-log li.webhook[data-signature-valid="true"]');
               if (found()) { done(true); return; }
               new MutationObserver((_, observer) => { if (found()) { observer.disconnect(); done(true); } })
                 .observe(document.querySelector("#webhook-log"), { childList: true, subtree: true });"##,
            vec![],
        )
        .await
        .context("the demo page never showed a verified webhook")?;
    browser.screenshot("demo-after-entry").await?;
    browser.close().await?;
    Ok(())
}
