//! End-to-end: a data-source webhook's answer reaches the contestant. The real server (its
//! background delivery on) sends the entry to a real receiver that answers with a promo code;
//! the widget, in headless Chromium, shows the code after entering and its `entry` event
//! carries it. A receiver too slow to answer within the endpoint's timeout leaves the plain
//! confirmation and an `entry` event without an answer.

mod common;

use common::{
    RECORD_EVENTS, enter_details, host_page, spawn_server, wait_for_events, wait_for_state,
    wait_in_shadow,
};
use serde_json::json;
use server::store::Store;
use tests::{Browser, HostSite, Page, TestReceiver};

const HOST: &str = ".hookline-campaign";

/// An operator's endpoint (it takes every campaign's events) to `url`, a data source whose
/// `promocode` the contestant is shown, waited for `timeout_ms`.
async fn data_source(store: &Store, url: &str, timeout_ms: u32) -> anyhow::Result<()> {
    server::with_pool!(store.pool(), pool => {
        sqlx::query(
            "INSERT INTO endpoints (public_id, url, secret, events, enabled, created_at, updated_at, data_source)
             VALUES ('ep_promo', $1, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', '[\"entry.created\"]', TRUE, 0, 0, $2)",
        )
        .bind(url)
        .bind(json!({"fields": ["promocode"], "timeout_ms": timeout_ms}).to_string())
        .execute(pool)
        .await?;
    });
    Ok(())
}

async fn open_demo(server_url: &str) -> anyhow::Result<(HostSite, Browser)> {
    let body = r#"<div class="hookline-campaign" data-campaign="demo"></div>"#;
    let site = HostSite::start([(
        "/giveaway",
        Page::new(host_page(server_url, RECORD_EVENTS, body)),
    )])
    .await;
    let browser = Browser::start().await?;
    browser.goto(&site.url("/giveaway")).await?;
    wait_for_state(&browser, HOST, "ready").await?;
    Ok((site, browser))
}

#[tokio::test]
async fn a_data_sources_promo_code_reaches_the_contestant_and_the_entry_event() -> anyhow::Result<()>
{
    let server = spawn_server().await?;
    let receiver = TestReceiver::start().await;
    receiver.respond_with_json(201, &json!({"promocode": "SAVE-7QK2", "id": 981}));
    data_source(&server.store, &receiver.url(), 5000).await?;
    let (_site, browser) = open_demo(&server.base_url).await?;
    enter_details(&browser, HOST, "joe@example.com", Some("Joe Bloggs")).await?;

    let entry = wait_for_events(&browser, "entry", None, 1).await?;
    let detail = &entry[0]["detail"];
    assert_eq!(
        detail["answer"],
        json!({"promocode": "SAVE-7QK2"}),
        "{detail}"
    );
    assert_eq!(detail["user"]["email"], "joe@example.com");
    let shown = wait_in_shadow(&browser, HOST, ".hl-answer", Some("SAVE-7QK2")).await?;
    assert_eq!(shown, "promocode: SAVE-7QK2");
    wait_in_shadow(&browser, HOST, ".hl-done", None).await?;
    browser.screenshot("widget-data-source-answer").await?;

    // The receiver got the entry, as the data source of the code it gave.
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].json()["user"]["email"], "joe@example.com");
    browser.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_data_source_too_slow_leaves_the_plain_confirmation() -> anyhow::Result<()> {
    let server = spawn_server().await?;
    let receiver = TestReceiver::start().await;
    receiver.respond_with_json(201, &json!({"promocode": "TOO-LATE"}));
    receiver.hold();
    data_source(&server.store, &receiver.url(), 400).await?;
    let (_site, browser) = open_demo(&server.base_url).await?;
    enter_details(&browser, HOST, "ann@example.com", Some("Ann Lee")).await?;

    let entry = wait_for_events(&browser, "entry", None, 1).await?;
    let detail = &entry[0]["detail"];
    assert!(
        detail.get("answer").is_none(),
        "no answer in time: {detail}"
    );
    assert_eq!(detail["entry"]["type"], "email_subscribe");
    wait_in_shadow(&browser, HOST, ".hl-done", None).await?;
    // The receiver has the request, but has not answered: nothing was shown.
    assert_eq!(receiver.requests().len(), 1);
    let answers = browser
        .eval(
            "return document.querySelector(arguments[0]).shadowRoot.querySelectorAll('.hl-answer').length;",
            vec![json!(HOST)],
        )
        .await?;
    assert_eq!(answers, 0);
    receiver.release();
    browser.close().await?;
    Ok(())
}
