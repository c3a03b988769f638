//! End-to-end: a contestant's visits, in headless Chromium against the real server, on a host
//! site of its own origin. A second visit is recognised from `localStorage` (no cookies) and
//! brought up to date by the server's status, asked with the session token the server gave;
//! an entry made offline waits in the outbox and is stored exactly once when the browser is
//! back online.

mod common;

use anyhow::Context;
use common::{
    RECORD_EVENTS, count_entries, enter_details, host_page, seen, spawn_server, wait_for_events,
    wait_for_state, wait_in_shadow,
};
use tests::{Browser, HostSite, Page};

const HOST: &str = ".hookline-campaign";

#[tokio::test]
async fn a_second_visit_restores_the_contestant() -> anyhow::Result<()> {
    let server = spawn_server().await?;
    let body = r#"<main><div class="hookline-campaign" data-campaign="demo"></div></main>"#;
    let site = HostSite::start([(
        "/giveaway",
        Page::new(host_page(&server.base_url, RECORD_EVENTS, body)),
    )])
    .await;
    let browser = Browser::start().await?;
    browser.goto(&site.url("/giveaway")).await?;
    wait_for_state(&browser, HOST, "ready").await?;
    enter_details(&browser, HOST, "joe@example.com", Some("Joe Bloggs")).await?;

    let login = wait_for_events(&browser, "login", None, 1).await?;
    assert_eq!(login[0]["detail"]["restored"], false, "details just given");
    assert_eq!(login[0]["detail"]["user"]["email"], "joe@example.com");
    let entry = wait_for_events(&browser, "entry", None, 1).await?;
    assert_eq!(entry[0]["detail"]["total_entries"], 1);
    let done = wait_in_shadow(&browser, HOST, ".hl-done", Some("1 entry")).await?;
    assert!(done.contains("You're in!"), "{done:?}");
    let cookies = browser.eval("return document.cookie;", vec![]).await?;
    assert_eq!(cookies, "", "the widget sets no cookies");
    let kept = browser
        .eval("return localStorage.getItem('hookline:s:demo');", vec![])
        .await?;
    assert!(
        kept.as_str().is_some_and(|kept| kept.contains("ctk_")),
        "the session keeps the server's token: {kept}"
    );

    // The second visit: no form, the contestant and their entries are shown at once.
    browser.goto(&site.url("/giveaway")).await?;
    let login = wait_for_events(&browser, "login", None, 1).await?;
    assert_eq!(
        login[0]["detail"]["restored"], true,
        "recognised from storage"
    );
    assert_eq!(login[0]["detail"]["user"]["name"], "Joe Bloggs");
    let who = wait_in_shadow(&browser, HOST, ".hl-who", None).await?;
    assert!(who.contains("joe@example.com"), "{who:?}");
    wait_in_shadow(&browser, HOST, ".hl-done", Some("1 entry")).await?;
    let form = browser
        .eval(
            "return document.querySelector('.hookline-campaign').shadowRoot.querySelector('form.hl-form') === null;",
            vec![],
        )
        .await?;
    assert_eq!(form, true, "the details are not asked again");
    browser.screenshot("widget-second-visit").await?;
    assert_eq!(
        count_entries(&server.store).await?,
        1,
        "a visit posts nothing"
    );

    // "Not you?" forgets the contestant.
    browser
        .find_in_shadow(HOST, "button.hl-link")
        .await?
        .click()
        .await?;
    wait_in_shadow(&browser, HOST, "input[name=email]", None).await?;
    let kept = browser
        .eval("return localStorage.getItem('hookline:s:demo');", vec![])
        .await?;
    assert!(kept.is_null(), "the session is forgotten: {kept}");
    browser.close().await?;
    Ok(())
}

#[tokio::test]
async fn an_entry_made_offline_is_stored_once_when_back_online() -> anyhow::Result<()> {
    let server = spawn_server().await?;
    let body = r#"<main><div class="hookline-campaign" data-campaign="demo"></div></main>"#;
    let site = HostSite::start([(
        "/giveaway",
        Page::new(host_page(&server.base_url, RECORD_EVENTS, body)),
    )])
    .await;
    let browser = Browser::start().await?;
    browser.goto(&site.url("/giveaway")).await?;
    wait_for_state(&browser, HOST, "ready").await?;

    browser.set_offline(true).await?;
    let online = browser.eval("return navigator.onLine;", vec![]).await?;
    assert_eq!(online, false, "the browser knows it is offline");
    enter_details(&browser, HOST, "offline@example.com", None).await?;
    let capture = wait_for_events(&browser, "capture", None, 1).await?;
    let key = capture[0]["detail"]["idempotency_key"]
        .as_str()
        .context("capture carries the idempotency key")?
        .to_owned();
    let notice = wait_in_shadow(&browser, HOST, ".hl-notice", Some("offline")).await?;
    assert!(notice.contains("saved"), "{notice:?}");
    let outbox = browser
        .eval("return localStorage.getItem('hookline:outbox');", vec![])
        .await?;
    assert!(
        outbox.as_str().is_some_and(|text| text.contains(&key)),
        "the post waits in the outbox: {outbox}"
    );
    browser.screenshot("widget-offline-queued").await?;
    assert!(
        seen(&browser)
            .await?
            .iter()
            .all(|event| event["name"] != "entry")
    );
    assert_eq!(count_entries(&server.store).await?, 0);

    // Back online: the `online` event sends it, once, with the same key.
    browser.set_offline(false).await?;
    let entry = wait_for_events(&browser, "entry", None, 1).await?;
    assert_eq!(entry[0]["detail"]["idempotency_key"], key.as_str());
    assert_eq!(entry[0]["detail"]["user"]["email"], "offline@example.com");
    wait_in_shadow(&browser, HOST, ".hl-done", Some("1 entry")).await?;
    let outbox = browser
        .eval("return localStorage.getItem('hookline:outbox');", vec![])
        .await?;
    assert!(outbox.is_null(), "the outbox is empty: {outbox}");

    // A new visit has nothing left to send.
    browser.goto(&site.url("/giveaway")).await?;
    wait_for_events(&browser, "login", None, 1).await?;
    wait_in_shadow(&browser, HOST, ".hl-done", Some("1 entry")).await?;
    assert_eq!(count_entries(&server.store).await?, 1, "exactly one entry");
    browser.close().await?;
    Ok(())
}
